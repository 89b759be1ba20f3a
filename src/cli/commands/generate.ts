/**
 * gmem-spec generate: conformance suites from the state graph (src/generate/).
 *
 *   generate --profile P [--bound B] [--coverage state|transition|path:L|failures[,...]] [--out DIR] [--c]
 *   generate --all                 regenerate every committed suite under generated-tests/
 *   generate --check [--profile P] [--jobs N]  regenerate in memory and compare with what is committed (exit 1 if stale)
 *   generate --profile P --seed S --random N [--backend reference|linux] [--max-length L] [--out FILE]
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BoundError, formatBound, parseBound } from '../../../spec/explore/bound.ts';
import { formatTrace } from '../../../spec/trace.ts';
import { getProfile } from '../../../spec/profiles/index.ts';
import { BackendUnavailableError, openBackend } from '../../backend/index.ts';
import { writeFileAtomic } from '../../files.ts';
import { COMMITTED, commandFor, committedFor } from '../../generate/config.ts';
import { type Coverage, generateProfile, parseCoverage } from '../../generate/generate.ts';
import { renderOverview, withCoverageTable } from '../../generate/overview.ts';
import { randomConformance } from '../../generate/random.ts';
import { SelectionError } from '../../generate/select.ts';
import { diffEmpty, diffSuite, writeSuite } from '../../generate/write.ts';
import { flag, onlyOptions, opt, parseArgs, UsageError } from '../args.ts';
import type { Command, Io } from '../command.ts';

const ROOT = 'generated-tests';

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} needs a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function describeSuites(suites: Record<string, { tests: number; steps: number; edgesCovered?: number; onePathPerEdge?: { tests: number; steps: number } }>, edges: number): string {
  return Object.entries(suites).map(([k, s]) => {
    let t = `${k} ${s.tests} tests / ${s.steps} steps`;
    if (s.edgesCovered !== undefined) t += ` (${s.edgesCovered}/${edges} edges)`;
    if (s.onePathPerEdge) t += ` vs one path per edge: ${s.onePathPerEdge.tests} tests / ${s.onePathPerEdge.steps} steps`;
    return t;
  }).join('; ');
}

/** `--check --jobs N`: one child process per profile, N at a time (the generator is single-threaded). */
async function checkInChildren(io: Io, jobs: number): Promise<number> {
  const bin = fileURLToPath(new URL('../../../bin/gmem-spec.mjs', import.meta.url));
  const queue = [...COMMITTED];
  let failed = 0;
  const lane = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const name = c.profile;
      const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [bin, 'generate', '--check', '--profile', name], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => { out += String(d); });
        child.stderr.on('data', (d) => { err += String(d); });
        child.on('close', (code) => resolve({ code, out, err }));
      });
      if (r.out.trim()) io.out(r.out.trim());
      if (r.err.trim()) io.err(r.err.trim());
      if (r.code !== 0) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, lane));
  return failed ? 1 : 0;
}

async function checkCommitted(io: Io, only: string | undefined): Promise<number> {
  const list = COMMITTED.filter((c) => !only || c.profile === only);
  if (!list.length) throw new UsageError(`--check: no committed suite for profile ${only}`);
  let stale = 0;
  for (const c of list) {
    const g = generateProfile({ profile: getProfile(c.profile), bound: parseBound(c.bound), coverage: c.coverage, c: c.c, command: commandFor(c) });
    const d = diffSuite(join(ROOT, c.profile), g.files);
    if (diffEmpty(d)) {
      io.out(`${c.profile}: up to date (${g.files.size} files, ${(g.millis / 1000).toFixed(1)} s)`);
      continue;
    }
    stale++;
    const show = (what: string, xs: string[]) => (xs.length ? `${xs.length} ${what} (${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ', ...' : ''})` : '');
    io.err(`${c.profile}: STALE: ${[show('changed', d.changed), show('missing', d.missing), show('not generated any more', d.extra)].filter(Boolean).join('; ')}; regenerate with \`npx gmem-spec generate --all\``);
  }
  if (!only) {
    const readme = join(ROOT, 'README.md');
    if (!existsSync(readme) || readFileSync(readme, 'utf8') !== renderOverview(ROOT, COMMITTED)) {
      stale++;
      io.err(`${readme}: STALE; regenerate with \`npx gmem-spec generate --all\``);
    }
    const top = readFileSync('README.md', 'utf8');
    if (top !== withCoverageTable(top, ROOT, COMMITTED)) {
      stale++;
      io.err('README.md: the coverage table is STALE; regenerate with `npx gmem-spec generate --all`');
    }
  }
  return stale ? 1 : 0;
}

export const generate: Command = {
  name: 'generate',
  summary: 'generate conformance suites (traces, vitest files, C selftests, coverage) from the state graph',
  usage: 'gmem-spec generate --profile P [--bound B] [--coverage state|transition|path:L|failures] [--out DIR] [--c] | --all | --check [--profile P] [--jobs N] | --profile P --seed S --random N [--backend reference|linux]',
  async run(argv, io) {
    const args = parseArgs(argv, ['all', 'check', 'c']);
    onlyOptions(args, ['profile', 'bound', 'coverage', 'out', 'c', 'all', 'check', 'seed', 'random', 'backend', 'max-length', 'max-steps', 'max-tests', 'jobs']);
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const profileName = opt(args, 'profile');
    try {
      if (flag(args, 'check')) {
        const jobs = int('jobs', opt(args, 'jobs'), 1);
        return !profileName && jobs > 1 ? await checkInChildren(io, jobs) : await checkCommitted(io, profileName);
      }
      if (flag(args, 'all')) {
        for (const c of COMMITTED) {
          const g = generateProfile({ profile: getProfile(c.profile), bound: parseBound(c.bound), coverage: c.coverage, c: c.c, command: commandFor(c) });
          const w = writeSuite(join(ROOT, c.profile), g.files);
          io.out(`${c.profile} (${c.bound}): ${g.graph.states.length} states, ${g.graph.edgeCount} edges; ${describeSuites(g.suites as never, g.graph.edgeCount)}; ${w.written} file(s) written, ${w.removed.length} removed, ${(g.millis / 1000).toFixed(1)} s`);
        }
        writeFileAtomic(join(ROOT, 'README.md'), renderOverview(ROOT, COMMITTED));
        writeFileAtomic('README.md', withCoverageTable(readFileSync('README.md', 'utf8'), ROOT, COMMITTED));
        return 0;
      }
      if (!profileName) throw new UsageError('--profile is required (or --all / --check)');
      const profile = getProfile(profileName);
      const committed = committedFor(profile.name);

      if (opt(args, 'random') !== undefined || opt(args, 'seed') !== undefined) {
        const runs = int('random', opt(args, 'random'), 100);
        const seed = int('seed', opt(args, 'seed'), Date.now() % 2 ** 31);
        const bound = parseBound(opt(args, 'bound'));
        const backendName = opt(args, 'backend') ?? 'reference';
        if (backendName === 'linux' && !profile.checkedAgainstKernel) throw new UsageError(`profile ${profile.name} is modelled only: no kernel here implements it; use --backend reference`);
        const backend = openBackend(backendName, profile);
        try {
          const r = await randomConformance(profile, bound, backend, { seed, runs, maxLength: int('max-length', opt(args, 'max-length'), 40) });
          if (!r.failure) {
            io.out(`${runs} random walk(s) of up to ${int('max-length', opt(args, 'max-length'), 40)} steps within ${formatBound(bound)} (seed ${seed}): ${r.steps} steps, the ${backendName} backend agrees with the spec on every one`);
            return 0;
          }
          const out = opt(args, 'out') ?? `random-failure-seed${seed}.json`;
          writeFileAtomic(out, formatTrace(r.failure.trace));
          io.err(`DIVERGENCE (${backendName} backend, ${profile.name}) ${r.failure.message}\nshrunk trace (${r.failure.trace.steps.length} steps) written to ${out}; replay with: gmem-spec check-trace ${out}`);
          return 1;
        } finally {
          await backend.close();
        }
      }

      const coverage: Coverage[] = opt(args, 'coverage') ? parseCoverage(opt(args, 'coverage') as string) : committed?.coverage ?? ['transition'];
      const boundText = opt(args, 'bound') ?? committed?.bound;
      const bound = parseBound(boundText);
      const c = flag(args, 'c') || (committed?.c === true && !opt(args, 'coverage') && !opt(args, 'bound'));
      if (c && !profile.checkedAgainstKernel) io.err(`note: ${profile.name} is modelled only; its C selftests describe that model, not the kernel here`);
      const command = commandFor({ profile: profile.name, bound: formatBound(bound), coverage, c });
      const g = generateProfile({
        profile, bound, coverage, c, command,
        ...(opt(args, 'max-steps') ? { maxSteps: int('max-steps', opt(args, 'max-steps'), 150) } : {}),
        ...(opt(args, 'max-tests') ? { maxPathTests: int('max-tests', opt(args, 'max-tests'), 2000) } : {}),
      });
      const dir = opt(args, 'out') ?? join(ROOT, profile.name);
      const w = writeSuite(dir, g.files);
      io.out(`${profile.name} within ${formatBound(bound)}: ${g.graph.states.length} states, ${g.graph.edgeCount} edges; ${describeSuites(g.suites as never, g.graph.edgeCount)}`);
      io.out(`${g.files.size} files in ${dir} (${w.written} written, ${w.removed.length} removed) in ${(g.millis / 1000).toFixed(1)} s`);
      return 0;
    } catch (e) {
      if (e instanceof SelectionError || e instanceof BoundError) throw new UsageError(e.message);
      if (e instanceof BackendUnavailableError) {
        io.err(`SKIP: no /dev/kvm (${e.reason})`);
        return 2;
      }
      throw e;
    }
  },
};
