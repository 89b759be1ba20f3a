/**
 * Benchmark of `gmem-spec check` (run with `npx tsx bench/check.bench.ts [ladder|growth|standard|all]`).
 *
 *  ladder    states/s, edges/s and peak memory of the checker (1 and 2 worker threads) on a ladder of bounds,
 *            next to the same model explored by spec/explore's explore() and by xstate/graph's default traversal
 *            (getAdjacencyMap over createSystemLogic(profile), events from eventsFor), with the ratio, and the
 *            number of distinct states (the work no checker can avoid);
 *  growth    how the number of reachable states grows with each bound parameter, per profile (the table in
 *            docs/model-checking.md), and the growth factors src/check/estimate.ts uses;
 *  path      from the unit bound to the standard bound one parameter at a time, with 2 workers;
 *  standard  the standard bound (vms=1,gmems=2,pages=4,maps=2,pins=2) for every profile: the up-front estimate,
 *            then what 2 workers explore in 60 s.
 *
 * Every measurement runs in a fresh child process (`--job`), so peak RSS is that run's alone; CPU time is
 * reported next to wall time because this machine is shared. Options: --profiles a,b --max-seconds N.
 */
import { fileURLToPath } from 'node:url';
import { getAdjacencyMap } from 'xstate/graph';
import { createSystemLogic, toEvent, type SystemSnapshot } from '../spec/explore/systemActor.ts';
import { type Bound, formatBound, parseBound } from '../spec/explore/bound.ts';
import { compact } from '../spec/explore/compact.ts';
import { eventsFor } from '../spec/explore/events.ts';
import { explore } from '../spec/explore/explorer.ts';
import { INVARIANTS } from '../spec/invariants.ts';
import { stringifyJson } from '../spec/json.ts';
import type { Profile } from '../spec/profile.ts';
import { PROFILES } from '../spec/profiles/index.ts';
import { resolveProfileName } from '../spec/profileCompose.ts';
import { check } from '../src/check/engine.ts';
import { UNIT, childJob } from './childJob.ts';
import { estimate } from '../src/check/estimate.ts';

const SELF = fileURLToPath(import.meta.url);
const STANDARD = 'vms=1,gmems=2,pages=4,maps=2,pins=2,slots=1';

interface JobResult {
  engine: string;
  profile: string;
  bound: string;
  states: number;
  edges: number;
  complete: boolean;
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
  note?: string;
}

type Engine = 'check1' | 'check1t' | 'check2' | 'explore' | 'xstate';

async function job(engine: Engine, profile: Profile, bound: Bound, maxSeconds: number): Promise<JobResult> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let states = 0;
  let edges = 0;
  let complete = true;
  let note: string | undefined;
  if (engine === 'check1' || engine === 'check1t' || engine === 'check2') {
    const r = await check({
      profile,
      bound,
      workers: engine === 'check2' ? 2 : 1,
      threads: engine === 'check1t',
      invariants: INVARIANTS.map((i) => i.name),
      maxMillis: maxSeconds * 1000,
    });
    states = r.states;
    edges = r.edges;
    complete = r.complete;
  } else if (engine === 'explore') {
    const g = explore(profile, bound, {
      invariants: INVARIANTS,
      onProgress: () => performance.now() - t0 < maxSeconds * 1000,
      progressEvery: 200,
    });
    states = g.states.length;
    edges = g.edgeCount;
    complete = g.complete;
  } else {
    // xstate/graph's default traversal: JSON.stringify of every snapshot as its key, a queue with shift().
    // The logic compacts dead history as the explorer does (without it the graph is infinite: every
    // mmap/munmap cycle makes new handle names).
    const base = createSystemLogic(profile);
    const logic = {
      ...base,
      transition: (s: SystemSnapshot, e: Parameters<typeof base.transition>[1], scope: Parameters<typeof base.transition>[2]) => {
        const next = base.transition(s, e, scope);
        return { ...next, context: compact(next.context) };
      },
    };
    let visited = 0;
    try {
      const adj = getAdjacencyMap(logic as typeof base, {
        // The default serializeEvent is JSON.stringify, which throws on the u64 fields (bigint) of some
        // probes; the same function with bigint support. States keep the default serialisation.
        serializeEvent: (e) => stringifyJson(e),
        events: (snap: SystemSnapshot) => {
          visited++;
          if (performance.now() - t0 > maxSeconds * 1000) throw new Error('time limit');
          return eventsFor(profile, bound, snap.context).map(toEvent);
        },
      });
      states = Object.keys(adj).length;
      edges = Object.values(adj).reduce((a, v) => a + Object.keys(v.transitions).length, 0);
    } catch (e) {
      complete = false;
      states = visited;
      note = (e as Error).message;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    engine,
    profile: profile.name,
    bound: formatBound(bound),
    states,
    edges,
    complete,
    wallMs: Math.round(performance.now() - t0),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(note ? { note } : {}),
  };
}

const runJob = (engine: Engine, profile: string, bound: string, maxSeconds: number): JobResult =>
  childJob<JobResult>(SELF, ['--job', engine, profile, bound, String(maxSeconds)]);

const rate = (n: number, ms: number) => (ms > 0 ? Math.round((n * 1000) / ms) : 0);
const fmt = (n: number) => n.toLocaleString('en-US');

function ladder(profiles: string[], maxSeconds: number): void {
  console.log(`## Ladder (limit ${maxSeconds} s per run)\n`);
  console.log(
    '| profile | bound | distinct states | engine | states | edges | wall s | CPU s | states/s (wall) | states per CPU-s | edges per CPU-s | peak RSS MiB | vs xstate (per CPU-s) |',
  );
  console.log('|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const bounds = ['', 'pages=2', 'gmems=2', 'maps=2,pins=2'];
  for (const p of profiles) {
    for (const b of bounds) {
      const bound = formatBound(parseBound(b, parseBound(UNIT)));
      const rows = (['check1', 'check2', 'explore', 'xstate'] as Engine[]).map((e) => runJob(e, p, bound, maxSeconds));
      const distinct = rows.find((r) => r.complete)?.states;
      const xs = rows.find((r) => r.engine === 'xstate');
      for (const r of rows) {
        // Per CPU-second: the machine is shared, and wall time measures the neighbours as much as the checker.
        const ratio =
          xs && xs.cpuMs > 0 && r.engine !== 'xstate'
            ? (rate(r.states, r.cpuMs) / Math.max(1, rate(xs.states, xs.cpuMs))).toFixed(1)
            : '1.0';
        console.log(
          `| ${p} | ${b || 'unit'} | ${distinct !== undefined ? fmt(distinct) : '?'} | ${r.engine} | ${fmt(r.states)}${r.complete ? '' : ' (stopped)'} | ${fmt(r.edges)} | ${(r.wallMs / 1000).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(1)} | ${fmt(rate(r.states, r.wallMs))} | ${fmt(rate(r.states, r.cpuMs))} | ${fmt(rate(r.edges, r.cpuMs))} | ${r.peakRssMiB} | ${ratio}× |`,
        );
      }
    }
  }
}

function growth(profiles: string[], maxSeconds: number): void {
  console.log(`\n## Growth: reachable states as each bound parameter grows by one from the unit bound ${UNIT} (limit ${maxSeconds} s)\n`);
  const variants = ['', 'pages=2', 'pages=3', 'gmems=2', 'gmems=2,slots=2', 'maps=2', 'pins=2', 'vms=2'];
  console.log(`| profile | ${variants.map((v) => v || 'unit').join(' | ')} |`);
  console.log(`|---|${variants.map(() => '---:').join('|')}|`);
  const factors: Record<string, Record<string, number>> = {};
  for (const p of profiles) {
    const cells: string[] = [];
    let unit = 0;
    factors[p] = {};
    for (const v of variants) {
      const r = runJob('check1', p, formatBound(parseBound(v, parseBound(UNIT))), maxSeconds);
      if (!v) unit = r.states;
      cells.push(r.complete ? fmt(r.states) : `> ${fmt(r.states)}`);
      if (v) (factors[p] as Record<string, number>)[v] = +(r.states / unit).toFixed(1);
    }
    console.log(`| ${p} | ${cells.join(' | ')} |`);
  }
  console.log('\nfactors (states(bound) / states(unit)):');
  console.log(JSON.stringify(factors, null, 1));
}

/** From the unit bound to the standard bound one parameter at a time (2 workers): where exhaustive search stops. */
function path(profiles: string[], maxSeconds: number): void {
  const steps = [
    '',
    'gmems=2',
    'gmems=2,pages=2',
    'gmems=2,pages=2,maps=2',
    'gmems=2,pages=2,maps=2,pins=2',
    'gmems=2,pages=3,maps=2,pins=2',
    'gmems=2,pages=4,maps=2,pins=2',
  ];
  console.log(`\n## Toward the standard bound (2 workers, limit ${maxSeconds} s per step)\n`);
  console.log('| profile | bound | states | edges | complete | wall s | CPU s | states/s | peak RSS MiB |');
  console.log('|---|---|---:|---:|---|---:|---:|---:|---:|');
  for (const p of profiles) {
    for (const st of steps) {
      const r = runJob('check2', p, formatBound(parseBound(st, parseBound(UNIT))), maxSeconds);
      console.log(
        `| ${p} | ${st || 'unit'} | ${fmt(r.states)} | ${fmt(r.edges)} | ${r.complete ? 'yes' : 'no (time limit)'} | ${(r.wallMs / 1000).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(1)} | ${fmt(rate(r.states, r.wallMs))} | ${r.peakRssMiB} |`,
      );
      if (!r.complete) break;
    }
  }
}

function standard(profiles: string[], maxSeconds: number): void {
  console.log(`\n## Standard bound ${STANDARD}: estimate, then 2 workers for ${maxSeconds} s\n`);
  console.log(
    '| profile | estimated states | estimated memory | estimated time (2 cores) | explored in the limit | edges | CPU s | peak RSS MiB |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of profiles) {
    const e = estimate(resolveProfileName(p).profile, parseBound(STANDARD), 2);
    const r = runJob('check2', p, STANDARD, maxSeconds);
    console.log(
      `| ${p} | ${e.states.toExponential(1)} | ${(e.bytes / 2 ** 40).toFixed(1)} TiB | ${(e.seconds / 86400).toFixed(0)} days | ${fmt(r.states)}${r.complete ? ' (complete)' : ''} | ${fmt(r.edges)} | ${(r.cpuMs / 1000).toFixed(0)} | ${r.peakRssMiB} |`,
    );
  }
}

async function mainBench(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--job') {
    const [, engine, profile, bound, secs] = argv;
    const r = await job(engine as Engine, resolveProfileName(profile as string).profile, parseBound(bound), Number(secs));
    console.log(JSON.stringify(r));
    process.exit(0);
  }
  const what = argv.find((a) => !a.startsWith('--')) ?? 'all';
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const profiles = opt('profiles')?.split(',') ?? PROFILES.map((p) => p.name);
  const maxSeconds = Number(opt('max-seconds') ?? 60);
  console.log(
    `# gmem-spec check benchmark — ${new Date().toISOString()}, node ${process.version}, ${(await import('node:os')).cpus().length} CPUs, load ${(
      await import('node:os')
    )
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}\n`,
  );
  if (what === 'ladder' || what === 'all')
    ladder(opt('profiles')?.split(',') ?? ['linux-6.18', 'sw-protected', 'inplace-conversion'], maxSeconds);
  if (what === 'growth' || what === 'all') growth(profiles, maxSeconds);
  if (what === 'path' || what === 'all') path(opt('profiles')?.split(',') ?? ['linux-6.18'], maxSeconds);
  if (what === 'standard' || what === 'all') standard(profiles, maxSeconds);
}

await mainBench();
