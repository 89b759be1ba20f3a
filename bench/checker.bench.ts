/**
 * The figures issue 15 asks for, printed (run with `npx tsx bench/checker.bench.ts [rates|memory|standard|profiles|workers|all]`):
 *
 *  rates     distinct states per CPU-second of `check` (one thread) on linux-6.18 at gmems=2 and at maps=2,pins=2,
 *            next to the checker before issue 15 (a git worktree of --old-ref, default 63c2b80, with today's spec/
 *            and machines/ copied in: the same model) and xstate/graph's getAdjacencyMap (bench/check.bench.ts's
 *            job), with the ratios;
 *  memory    bytes per stored state: the fingerprint table's bytes and the peak heap, each over the states;
 *  standard  wall time of `gmems=1,pages=4,maps=2,pins=2` on linux-6.18, plain and with --symmetry;
 *  profiles  every profile at `pages=2,maps=2,pins=2`, wall time each;
 *  workers   1 against 2 worker threads on a run of 10 s or more (tdx pages=3).
 *
 * Every measurement runs in its own child process (`--job`); CPU seconds (process.cpuUsage, of the check alone)
 * are printed next to wall time, and the load average next to every wall time, because this machine is shared.
 * Options: --max-seconds N (per run, default 60), --old-ref REV, --profiles a,b, --workers N (standard and
 * profiles; default 1).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, symlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bound, formatBound, parseBound } from '../spec/explore/bound.ts';
import { INVARIANTS } from '../spec/invariants.ts';
import { PROFILES } from '../spec/profiles/index.ts';
import { resolveProfileName } from '../spec/profileCompose.ts';
import { check } from '../src/check/engine.ts';
import { UNIT, childJob } from './childJob.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(SELF, '..', '..');
const unit = (extra: string): Bound => parseBound(extra, parseBound(UNIT));

interface Job {
  states: number;
  edges: number;
  complete: boolean;
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
  peakHeapMiB?: number;
  tableBytes?: number;
  /** Share of the successor cache's lookups answered without step(), and the steps run (filed or direct). */
  hitRate?: number;
  stepsRun?: number;
}

async function job(profileName: string, boundText: string, workers: number, symmetry: boolean, maxSeconds: number): Promise<Job> {
  const { profile } = resolveProfileName(profileName);
  const bound = unit(boundText);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await check({
    profile,
    bound,
    workers,
    symmetry,
    invariants: INVARIANTS.map((i) => i.name),
    maxMillis: maxSeconds * 1000,
  });
  const cpu = process.cpuUsage(cpu0);
  return {
    states: r.states,
    edges: r.edges,
    complete: r.complete,
    wallMs: Math.round(performance.now() - t0),
    // The main thread's CPU and, with workers, theirs: process.cpuUsage counts every thread of the process.
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    peakHeapMiB: Math.round(r.peakHeap / 2 ** 20),
    // The fingerprint table: 20 bytes a slot, at a load factor between 1/4 and 1/2.
    tableBytes: 20 * 2 ** Math.ceil(Math.log2(Math.max(16, r.states * 2))),
    hitRate: r.cache.hits / Math.max(1, r.cache.hits + r.cache.misses),
    stepsRun: r.cache.misses + r.cache.direct,
  };
}

const node = (script: string, args: string[], cwd = ROOT): Job => childJob<Job>(script, args, cwd);

const run = (profile: string, bound: string, workers: number, symmetry: boolean, max: number) =>
  node(SELF, ['--job', profile, bound, String(workers), symmetry ? 'sym' : 'plain', String(max)]);

/** bench/check.bench.ts's job (`check1`, `xstate`, `explore`) in a tree: this one, or the old checker's. */
const otherJob = (tree: string, engine: string, profile: string, bound: string, max: number) =>
  node(join(tree, 'bench', 'check.bench.ts'), ['--job', engine, profile, formatBound(unit(bound)), String(max)], tree);

/**
 * The checker at `ref` over today's model: a worktree of `ref` with this tree's spec/ and machines/ copied in,
 * so that the two checkers explore the same states and only the checker differs.
 */
function oldTree(ref: string): string {
  const dir = join('/tmp', `gmem-spec-checker-${ref}`);
  if (!existsSync(dir)) {
    execFileSync('git', ['worktree', 'add', '--detach', dir, ref], { cwd: ROOT, stdio: 'ignore' });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  }
  for (const d of ['spec', 'machines']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
  return dir;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const perCpu = (j: Job) => (j.states * 1000) / Math.max(1, j.cpuMs);
const load = () => loadavg()[0]?.toFixed(1) ?? '?';

function rates(max: number, ref: string): void {
  const old = oldTree(ref);
  console.log(`## states per CPU-second, one thread (old checker: ${ref}; load average at start ${load()})`);
  console.log(
    '| bound | states | check: states/CPU-s | old check | xstate/graph | ratio to old | ratio to xstate | cache hits | step() calls / edge |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const b of ['gmems=2', 'maps=2,pins=2']) {
    const now = run('linux-6.18', b, 1, false, max);
    const was = otherJob(old, 'check1', 'linux-6.18', b, max);
    const xs = otherJob(ROOT, 'xstate', 'linux-6.18', b, max);
    console.log(
      `| ${b} | ${fmt(now.states)} (old ${fmt(was.states)}, xstate ${fmt(xs.states)}) | ${fmt(perCpu(now))} | ${fmt(perCpu(was))} | ${fmt(perCpu(xs))} | ${(perCpu(now) / perCpu(was)).toFixed(2)}x | ${(perCpu(now) / perCpu(xs)).toFixed(1)}x | ${((now.hitRate ?? 0) * 100).toFixed(1)}% | ${((now.stepsRun ?? 0) / Math.max(1, now.edges)).toFixed(3)} |`,
    );
  }
  console.log('target: 250,000 states per CPU-second');
}

function memory(max: number): void {
  console.log(`## bytes per stored state (load average ${load()})`);
  console.log('| profile, bound | states | fingerprint table B/state | peak heap B/state | peak RSS MiB |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [p, b] of [['linux-6.18', 'pages=2,maps=2,pins=2']] as const) {
    const j = run(p, b, 1, false, max);
    console.log(
      `| ${p} ${b}${j.complete ? '' : ' (stopped)'} | ${fmt(j.states)} | ${((j.tableBytes ?? 0) / j.states).toFixed(0)} | ${(((j.peakHeapMiB ?? 0) * 2 ** 20) / j.states).toFixed(0)} | ${j.peakRssMiB} |`,
    );
  }
  console.log('target: at most 100 bytes per stored state');
}

function wallRow(label: string, j: Job, l: string): string {
  return `| ${label} | ${fmt(j.states)} | ${j.complete ? 'yes' : 'no (time limit)'} | ${(j.wallMs / 1000).toFixed(1)} | ${(j.cpuMs / 1000).toFixed(1)} | ${fmt(perCpu(j))} | ${l} |`;
}

function standard(max: number, w: number): void {
  console.log(`## the standard bound gmems=1,pages=4,maps=2,pins=2 on linux-6.18, ${w} worker(s)`);
  console.log('| run | states | complete | wall s | CPU s | states/CPU-s | load avg |');
  console.log('|---|---:|---|---:|---:|---:|---:|');
  for (const sym of [true, false]) {
    const l = load();
    console.log(wallRow(sym ? '--symmetry' : 'plain', run('linux-6.18', 'gmems=1,pages=4,maps=2,pins=2', w, sym, max), l));
  }
  console.log('target: exhaustive in under 60 s of wall time');
}

function profiles(max: number, names: string[], w: number): void {
  console.log(`## every profile at pages=2,maps=2,pins=2, ${w} worker(s)`);
  console.log('| profile | states | complete | wall s | CPU s | states/CPU-s | load avg |');
  console.log('|---|---:|---|---:|---:|---:|---:|');
  for (const p of names) {
    const l = load();
    console.log(wallRow(p, run(p, 'pages=2,maps=2,pins=2', w, false, max), l));
  }
  console.log('target: each exhaustive in under 60 s');
}

function workers(max: number): void {
  console.log('## 1 against 2 worker threads: tdx pages=3');
  console.log('| workers | states | complete | wall s | CPU s | states/CPU-s | load avg |');
  console.log('|---|---:|---|---:|---:|---:|---:|');
  const rows: Job[] = [];
  for (const w of [1, 2]) {
    const l = load();
    const j = run('tdx', 'pages=3', w, false, max);
    rows.push(j);
    console.log(wallRow(String(w), j, l));
  }
  const [a, b] = rows as [Job, Job];
  console.log(`speed-up (wall): ${(a.wallMs / b.wallMs).toFixed(2)}x; target 1.7x`);
}

async function mainBench(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--job') {
    const [, p = '', b = '', w = '1', sym = 'plain', max = '60'] = argv;
    console.log(JSON.stringify(await job(p, b, Number(w), sym === 'sym', Number(max))));
    return;
  }
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const max = Number(opt('--max-seconds') ?? 60);
  const ref = opt('--old-ref') ?? '63c2b80';
  const names = opt('--profiles')?.split(',') ?? PROFILES.map((p) => p.name);
  const what = argv[0] && !argv[0].startsWith('--') ? argv[0] : 'all';
  if (what === 'rates' || what === 'all') rates(max, ref);
  if (what === 'memory' || what === 'all') memory(max);
  // One worker by default: each worker warms its own step cache, so two cost twice the CPU (see `workers`).
  const w = Number(opt('--workers') ?? 1);
  if (what === 'standard' || what === 'all') standard(max, w);
  if (what === 'profiles' || what === 'all') profiles(max, names, w);
  if (what === 'workers' || what === 'all') workers(max);
}

await mainBench();
