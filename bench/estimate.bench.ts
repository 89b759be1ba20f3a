/**
 * How good is the estimate `gmem-spec check` prints before it starts? (run with
 * `npx tsx bench/estimate.bench.ts [--profiles a,b] [--bound B ...] [--max-seconds 60]`)
 *
 * For each profile and bound (default: every shipped profile at pages=2,maps=2,pins=2, over the unit bound) it
 * prints src/check/estimate.ts's estimate next to what one worker actually explores in the time limit, and the
 * two figures the estimate's memory and time come from: bytes of RSS per state above the process's RSS before
 * the search, and states per CPU-second. The table in docs/model-checking.md ("The estimate before a run") is
 * this script's output.
 *
 * Each run is a fresh child process (`--job`), so its peak RSS is its own; the search is the CLI's default
 * (every invariant, dead-rule coverage on, one worker in-thread). CPU time is printed beside wall time because
 * the machine is shared.
 */
import { fileURLToPath } from 'node:url';
import { type Bound, formatBound, parseBound } from '../spec/explore/bound.ts';
import { INVARIANTS } from '../spec/invariants.ts';
import { resolveProfileName } from '../spec/profileCompose.ts';
import { PROFILES } from '../spec/profiles/index.ts';
import { check } from '../src/check/engine.ts';
import { UNIT, childJob } from './childJob.ts';
import { BYTES_PER_STATE, STATES_PER_SECOND, estimate, formatCount } from '../src/check/estimate.ts';

const SELF = fileURLToPath(import.meta.url);
const DEFAULT_BOUND = 'pages=2,maps=2,pins=2';

interface JobResult {
  profile: string;
  bound: string;
  states: number;
  complete: boolean;
  wallMs: number;
  cpuMs: number;
  /** RSS just before the search started, and the process's peak RSS (bytes). */
  startRss: number;
  peakRss: number;
}

async function job(profileName: string, bound: Bound, maxSeconds: number): Promise<JobResult> {
  const { profile } = resolveProfileName(profileName);
  const startRss = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await check({
    profile,
    bound,
    workers: 1,
    invariants: INVARIANTS.map((i) => i.name),
    coverage: true,
    maxMillis: maxSeconds * 1000,
  });
  const cpu = process.cpuUsage(cpu0);
  return {
    profile: profileName,
    bound: formatBound(bound),
    states: r.states,
    complete: r.complete,
    wallMs: Math.round(performance.now() - t0),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    startRss,
    peakRss: Math.max(process.resourceUsage().maxRSS * 1024, r.peakRss),
  };
}

const runJob = (profile: string, bound: string, maxSeconds: number): JobResult =>
  childJob<JobResult>(SELF, ['--job', profile, bound, String(maxSeconds)]);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const bytesPerState = (r: JobResult) => (r.peakRss - r.startRss) / Math.max(1, r.states);
const perCpuSecond = (r: JobResult) => (r.states * 1000) / Math.max(1, r.cpuMs);

async function mainBench(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--job') {
    const [, profile, bound, secs] = argv;
    console.log(JSON.stringify(await job(profile as string, parseBound(bound, parseBound(UNIT)), Number(secs))));
    process.exit(0);
  }
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const bounds = argv.flatMap((a, i) => (argv[i - 1] === '--bound' ? [a] : []));
  const profiles = opt('profiles')?.split(',') ?? PROFILES.map((p) => p.name);
  const maxSeconds = Number(opt('max-seconds') ?? 60);
  const os = await import('node:os');
  console.log(
    `# estimate vs actual — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; one worker, limit ${maxSeconds} s per run\n`,
  );
  console.log(
    '| profile | bound | estimated states | actual states | actual ÷ estimate | estimated s | wall s | CPU s | states per CPU-s | peak RSS MiB | bytes per state above start |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const rows: JobResult[] = [];
  for (const p of profiles) {
    for (const b of bounds.length ? bounds : [DEFAULT_BOUND]) {
      const bound = parseBound(b, parseBound(UNIT));
      const e = estimate(resolveProfileName(p).profile, bound, 1);
      const r = runJob(p, formatBound(bound), maxSeconds);
      rows.push(r);
      const ratio = r.states / e.states;
      console.log(
        `| ${p} | ${b} | ${formatCount(e.states)} | ${r.complete ? fmt(r.states) : `> ${fmt(r.states)} (${maxSeconds} s)`} | ${r.complete ? '' : '≥ '}${ratio.toFixed(2)} | ${e.seconds.toFixed(0)} | ${(r.wallMs / 1000).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(1)} | ${fmt(perCpuSecond(r))} | ${fmt(r.peakRss / 2 ** 20)} | ${fmt(bytesPerState(r))} |`,
      );
    }
  }
  // The constants are fitted on the runs large enough for the per-state cost to dominate the fixed costs.
  const big = rows.filter((r) => r.states >= 50_000);
  if (big.length) {
    const rates = big.map(perCpuSecond).sort((a, b) => a - b);
    const bytes = big.map(bytesPerState).sort((a, b) => a - b);
    console.log(
      `\nruns of 50,000 states or more (${big.length}): states per CPU-s ${fmt(rates[0] as number)}–${fmt(rates[rates.length - 1] as number)} (estimate.ts uses ${fmt(STATES_PER_SECOND)}); bytes per state above start ${fmt(bytes[0] as number)}–${fmt(bytes[bytes.length - 1] as number)} (estimate.ts uses ${fmt(BYTES_PER_STATE)})`,
    );
  }
}

await mainBench();
