/**
 * gmem-spec generate: conformance suites from the state graph (src/generate/).
 *
 *   generate --profile P [--bound B] [--coverage state|transition|path:L|failures[,...]] [--out DIR] [--c]
 *   generate --all [--out DIR]     regenerate every committed suite (under generated-tests/, or DIR)
 *   generate --check [--profile P] [--jobs N]  regenerate in memory and compare with what is committed (exit 1 if stale)
 *   generate --profile P --seed S --random N [--backend reference|linux] [--max-length L] [--out FILE]
 *
 * Files are written atomically, a suite after its generation is complete; Ctrl-C stops before the next suite and
 * says which were written.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatBound, parseBound } from '../../../spec/explore/bound.ts';
import { stringifyJson } from '../../../spec/json.ts';
import { getProfile } from '../../../spec/profiles/index.ts';
import { BACKEND_NAMES, openBackend } from '../../backend/index.ts';
import { writeFileAtomic } from '../../files.ts';
import { COMMITTED, commandFor, committedFor } from '../../generate/config.ts';
import { type Coverage, ENGINES, type Engine, generateProfile, parseCoverage } from '../../generate/generate.ts';
import { renderOverview, withCoverageTable } from '../../generate/overview.ts';
import { checkReviews, writeReviews } from '../review/render.ts';
import { randomConformance } from '../../generate/random.ts';
import { diffEmpty, diffSuite, writeSuite } from '../../generate/write.ts';
import { UsageError, intValue } from '../args.ts';
import { EXIT_BAD_INPUT, EXIT_INTERRUPTED, type Io, defineCommand } from '../command.ts';
import { EXIT_SIGINT, catchInterrupt, interrupted } from '../interrupt.ts';
import { FLAG_OPTION, type ResolvedProfile, profileOption, resolveProfile, shellWord, traceDocument } from '../profiles.ts';

const ROOT = 'generated-tests';

function describeSuites(
  suites: Record<string, { tests: number; steps: number; edgesCovered?: number; onePathPerEdge?: { tests: number; steps: number } }>,
  edges: number,
): string {
  return Object.entries(suites)
    .map(([k, s]) => {
      let t = `${k} ${s.tests} tests / ${s.steps} steps`;
      if (s.edgesCovered !== undefined) t += ` (${s.edgesCovered}/${edges} edges)`;
      if (s.onePathPerEdge) t += ` vs one path per edge: ${s.onePathPerEdge.tests} tests / ${s.onePathPerEdge.steps} steps`;
      return t;
    })
    .join('; ');
}

/** `--check --jobs N`: one child process per profile, N at a time (the generator is single-threaded). */
async function checkInChildren(io: Io, jobs: number, engine: Engine): Promise<number> {
  const bin = fileURLToPath(new URL('../../../bin/gmem-spec.mjs', import.meta.url));
  const queue = [...COMMITTED];
  let failed = 0;
  const lane = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const name = c.profile;
      const r = await new Promise<{ code: number | null; out: string; err: string }>((done) => {
        const child = spawn(process.execPath, [bin, 'generate', '--check', '--quiet', '--profile', name, '--engine', engine], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += String(d);
        });
        child.stderr.on('data', (d) => {
          err += String(d);
        });
        child.on('close', (code) => done({ code, out, err }));
      });
      if (r.out.trim()) io.out(r.out.trim());
      if (r.err.trim()) io.err(r.err.trim());
      if (r.code !== 0) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, lane));
  failed += await checkReviews(io);
  return failed ? 1 : 0;
}

async function checkCommitted(io: Io, only: string | undefined, engine: Engine): Promise<number> {
  const list = COMMITTED.filter((c) => !only || c.profile === only);
  if (!list.length) throw new UsageError(`--check: no committed suite for profile ${only}`);
  let stale = 0;
  for (const c of list) {
    io.progress?.phase(`regenerating ${c.profile} in memory`);
    const g = generateProfile({
      profile: getProfile(c.profile),
      bound: parseBound(c.bound),
      coverage: c.coverage,
      c: c.c,
      command: commandFor(c),
      engine,
    });
    const d = diffSuite(join(ROOT, c.profile), g.files);
    if (diffEmpty(d)) {
      io.out(`${c.profile}: up to date (${g.files.size} files, ${(g.millis / 1000).toFixed(1)} s)`);
      continue;
    }
    stale++;
    const show = (what: string, xs: string[]) =>
      xs.length ? `${xs.length} ${what} (${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ', ...' : ''})` : '';
    io.err(
      `${c.profile}: STALE: ${[show('changed', d.changed), show('missing', d.missing), show('not generated any more', d.extra)].filter(Boolean).join('; ')}; regenerate with \`npx gmem-spec generate --all\``,
    );
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
    stale += await checkReviews(io);
  }
  return stale ? 1 : 0;
}

/** `--all`: every committed suite, under `root`; the top-level README's table only when `root` is generated-tests. */
async function generateAll(io: Io, root: string, signal: AbortSignal, engine: Engine): Promise<number> {
  const written: string[] = [];
  for (const c of COMMITTED) {
    if (await interrupted(signal)) {
      const rest = COMMITTED.slice(written.length).map((x) => x.profile);
      io.err(
        `interrupted: wrote the suites of ${written.join(', ') || 'no profile'} under ${root}; not written: ${rest.join(', ')}, ${join(root, 'README.md')}${resolve(root) === resolve(ROOT) ? ' and the README coverage table' : ''}`,
      );
      return EXIT_SIGINT;
    }
    io.progress?.phase(`generating ${c.profile} (${written.length + 1}/${COMMITTED.length})`);
    const g = generateProfile({
      profile: getProfile(c.profile),
      bound: parseBound(c.bound),
      coverage: c.coverage,
      c: c.c,
      command: commandFor(c),
      engine,
    });
    const w = writeSuite(join(root, c.profile), g.files);
    written.push(c.profile);
    io.out(
      `${c.profile} (${c.bound}): ${g.graph.states.length} states, ${g.graph.edgeCount} edges; ${describeSuites(g.suites as never, g.graph.edgeCount)}; ${w.written} file(s) written, ${w.removed.length} removed, ${(g.millis / 1000).toFixed(1)} s`,
    );
  }
  writeFileAtomic(join(root, 'README.md'), renderOverview(root, COMMITTED));
  if (resolve(root) === resolve(ROOT)) {
    writeFileAtomic('README.md', withCoverageTable(readFileSync('README.md', 'utf8'), ROOT, COMMITTED));
    await writeReviews(io);
  } else io.out(`README.md's coverage table describes ${ROOT}/ and was left as it is`);
  return 0;
}

/** A composed profile's traces carry the definitions of its flags, so each replays on its own. */
function withFlagDefinitions(files: ReadonlyMap<string, string>, r: ResolvedProfile): Map<string, string> {
  if (!r.added.length) return new Map(files);
  const line = `  "flags": ${stringifyJson(r.added.map((a) => a.def))},\n  "steps": [`;
  return new Map(
    [...files].map(([f, text]) => [
      f,
      f.endsWith('.json') && text.includes('"format": "gmem-trace/1"') ? text.replace('\n  "steps": [', `\n${line}`) : text,
    ]),
  );
}

export const generate = defineCommand({
  name: 'generate',
  summary: 'generate conformance suites (traces, vitest files, C selftests, coverage) from the state graph',
  args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
  options: {
    profile: profileOption('none: --profile, --all or --check is required'),
    flag: FLAG_OPTION,
    bound: {
      type: 'string',
      value: 'B',
      description: 'the exploration bound (vms=,gmems=,pages=,maps=,pins=,slots=)',
      defaultText: "the committed suite's bound, else the explorer's default",
    },
    coverage: {
      type: 'string',
      value: 'KINDS',
      description: 'the suites, a comma list of state, transition, path:L (one L per run), failures (docs/coverage.md)',
      defaultText: "the committed suite's, else transition",
    },
    out: {
      type: 'string',
      short: 'o',
      value: 'DIR',
      description: 'where suites are written (with --all: DIR/<profile> for each; with --random: the file a diverging trace goes to)',
      defaultText: 'generated-tests/<profile> (--random: random-failure-seed<S>.json)',
    },
    c: { type: 'boolean', description: 'also emit kselftest-style C tests (the committed linux-6.18 suite has them)' },
    all: { type: 'boolean', description: "regenerate every committed suite, the suites' README and the README coverage table" },
    check: { type: 'boolean', description: 'regenerate in memory and compare with what is committed' },
    jobs: { type: 'string', value: 'N', default: '1', description: 'with --check: profiles checked in parallel child processes' },
    random: {
      type: 'string',
      value: 'N',
      description: 'random conformance: N random walks compared on a backend',
      defaultText: '100 when --seed is given',
    },
    seed: { type: 'string', value: 'S', description: "the random walks' seed", defaultText: 'time-based, printed' },
    backend: {
      type: 'string',
      short: 'b',
      value: 'NAME',
      choices: BACKEND_NAMES,
      default: 'reference',
      description: 'with --random: where the walks run',
    },
    'max-length': { type: 'string', value: 'L', default: '40', description: 'with --random: steps per walk' },
    'max-steps': { type: 'string', value: 'N', default: '150', description: 'longest transition-suite walk' },
    'max-tests': { type: 'string', value: 'N', default: '2000', description: 'most path-suite tests' },
    engine: {
      type: 'string',
      value: 'NAME',
      choices: ENGINES,
      default: 'explorer',
      description: 'what builds the state graph: the explorer, or xstate/graph traversing the system actor (the same suites, slower)',
    },
  },
  exitCodes: {
    0: 'the suites were written (--check: everything committed is up to date; --random: the backend agrees on every walk)',
    1: '--check: a committed suite is stale; --random: a walk diverged (its shrunk trace is written)',
    2: EXIT_BAD_INPUT,
    [EXIT_SIGINT]: EXIT_INTERRUPTED,
  },
  async action({ values }, io) {
    const int = (name: string, v: string | undefined) => intValue(v, name, 0, Number.MAX_SAFE_INTEGER);
    if (values.check) {
      const jobs = int('jobs', values.jobs) as number;
      return !values.profile && jobs > 1
        ? await checkInChildren(io, jobs, values.engine)
        : await checkCommitted(io, values.profile, values.engine);
    }
    const ctrlC = catchInterrupt();
    try {
      if (values.all) {
        if (values.profile || values.flag.length)
          throw new UsageError('--all regenerates every committed suite: leave out --profile and --flag');
        return await generateAll(io, values.out ?? ROOT, ctrlC.signal, values.engine);
      }
      if (!values.profile) throw new UsageError('--profile is required (or --all / --check)');
      const resolved = await resolveProfile(values);
      const profile = resolved.profile;
      const committed = resolved.added.length ? undefined : committedFor(profile.name);

      if (values.random !== undefined || values.seed !== undefined) {
        const runs = int('random', values.random) ?? 100;
        const seed = int('seed', values.seed) ?? Date.now() % 2 ** 31;
        const maxLength = int('max-length', values['max-length']) as number;
        const bound = parseBound(values.bound);
        const backendName = values.backend;
        if (backendName === 'linux' && !profile.checkedAgainstKernel)
          throw new UsageError(`profile ${profile.name} is modelled only: no kernel here implements it; use --backend reference`);
        const backend = openBackend(backendName, profile);
        try {
          io.progress?.phase(`${runs} random walk(s) on the ${backendName} backend`);
          const r = await randomConformance(profile, bound, backend, { seed, runs, maxLength });
          io.progress?.done();
          if (!r.failure) {
            io.out(
              `${runs} random walk(s) of up to ${maxLength} steps within ${formatBound(bound)} (seed ${seed}): ${r.steps} steps, the ${backendName} backend agrees with the spec on every one`,
            );
            return 0;
          }
          const out = values.out ?? `random-failure-seed${seed}.json`;
          writeFileAtomic(out, traceDocument(r.failure.trace, resolved));
          io.err(
            `DIVERGENCE (${backendName} backend, ${profile.name}) ${r.failure.message}\nshrunk trace (${r.failure.trace.steps.length} steps) written to ${out}; replay with: gmem-spec check-trace ${shellWord(out)}`,
          );
          return 1;
        } finally {
          await backend.close();
        }
      }

      const coverage: Coverage[] = values.coverage ? parseCoverage(values.coverage) : (committed?.coverage ?? ['transition']);
      const bound = parseBound(values.bound ?? committed?.bound);
      const c = values.c || (committed?.c === true && !values.coverage && !values.bound);
      if (c && !profile.checkedAgainstKernel)
        io.err(`note: ${profile.name} is modelled only; its C selftests describe that model, not the kernel here`);
      const command = resolved.added.length
        ? [
            'gmem-spec',
            'generate',
            ...resolved.args,
            '--bound',
            formatBound(bound),
            '--coverage',
            coverage.join(','),
            ...(c ? ['--c'] : []),
          ]
            .map(shellWord)
            .join(' ')
        : commandFor({ profile: profile.name, bound: formatBound(bound), coverage, c });
      io.progress?.phase(`generating ${profile.name} within ${formatBound(bound)} (${coverage.join(', ')})`);
      const g = generateProfile({
        profile,
        bound,
        coverage,
        c,
        command,
        maxSteps: int('max-steps', values['max-steps']) as number,
        maxPathTests: int('max-tests', values['max-tests']) as number,
        engine: values.engine,
      });
      const dir = values.out ?? join(ROOT, profile.name);
      if (await interrupted(ctrlC.signal)) {
        io.err(`interrupted: nothing written (${dir} is as it was)`);
        return EXIT_SIGINT;
      }
      io.progress?.phase(`writing ${g.files.size} files to ${dir}`);
      const w = writeSuite(dir, withFlagDefinitions(g.files, resolved));
      io.progress?.done();
      io.out(
        `${profile.name} within ${formatBound(bound)}: ${g.graph.states.length} states, ${g.graph.edgeCount} edges; ${describeSuites(g.suites as never, g.graph.edgeCount)}`,
      );
      io.out(`${g.files.size} files in ${dir} (${w.written} written, ${w.removed.length} removed) in ${(g.millis / 1000).toFixed(1)} s`);
      return 0;
    } finally {
      ctrlC.dispose();
    }
  },
});
