/**
 * The two engines `generate` can build the state graph with, side by side: the explorer (the exploration
 * engine over the system model, the default) and xstate/graph's getAdjacencyMap traversing the system actor
 * with the spec's state key (`generate --engine xstate`). Both build the same graph (test/explore-xstate.test.ts);
 * this measures what each costs.
 *
 *   npx tsx bench/engines.bench.ts [--bounds committed,unit] [--profiles a,b] [--runs N]
 *
 * Every measurement runs in a fresh child process (best of --runs, default 1), so neither engine inherits the
 * other's warm memos; CPU time (user + system) is reported beside wall time because this machine is shared, and
 * the ratio is of CPU times.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Job {
  states: number;
  edges: number;
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
  digest: string;
}

const UNIT = 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1';
const SELF = fileURLToPath(import.meta.url);

async function job(engine: 'explorer' | 'xstate', profileName: string, boundText: string): Promise<Job> {
  const { parseBound } = await import('../spec/explore/bound.ts');
  const { getProfile } = await import('../spec/profiles/index.ts');
  const { exploreWith } = await import('../src/generate/generate.ts');
  const { graphDigest } = await import('../src/generate/graphDigest.ts');
  const profile = getProfile(profileName);
  const bound = parseBound(boundText);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const g = exploreWith(engine, profile, bound);
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  return {
    states: g.states.length,
    edges: g.edgeCount,
    wallMs,
    cpuMs,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    digest: graphDigest(g),
  };
}

function runJob(engine: string, profile: string, bound: string, runs: number): Job {
  let best: Job | undefined;
  for (let i = 0; i < runs; i++) {
    const args = ['--import', import.meta.resolve('tsx'), SELF, '--job', engine, profile, bound];
    const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
    const j = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Job;
    if (!best || j.cpuMs < best.cpuMs) best = j;
  }
  return best as Job;
}

function opt(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--job') {
    const [, , , engine, profile, bound] = process.argv;
    console.log(JSON.stringify(await job(engine as 'explorer' | 'xstate', profile as string, bound as string)));
    return;
  }
  const { PROFILES } = await import('../spec/profiles/index.ts');
  const { COMMITTED } = await import('../src/generate/config.ts');
  const kinds = (opt('bounds') ?? 'committed,unit').split(',');
  const only = opt('profiles')?.split(',');
  const runs = Number(opt('runs') ?? 1);
  const os = await import('node:os');
  const load = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  console.log(
    `# explorer vs xstate/graph — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} CPUs, load ${load}\n`,
  );
  const columns = [
    'profile',
    'bound',
    'states',
    'edges',
    'explorer CPU s',
    'xstate CPU s',
    'ratio (CPU)',
    'explorer wall s',
    'xstate wall s',
    'explorer MiB',
    'xstate MiB',
    'same digest',
  ];
  console.log(`| ${columns.join(' | ')} |`);
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  let sumE = 0;
  let sumX = 0;
  for (const p of PROFILES) {
    if (only && !only.includes(p.name)) continue;
    for (const kind of kinds) {
      const bound = kind === 'unit' ? UNIT : COMMITTED.find((c) => c.profile === p.name)?.bound;
      if (!bound) continue;
      const e = runJob('explorer', p.name, bound, runs);
      const x = runJob('xstate', p.name, bound, runs);
      sumE += e.cpuMs;
      sumX += x.cpuMs;
      const s = (ms: number) => (ms / 1000).toFixed(2);
      const same = e.digest === x.digest && e.states === x.states && e.edges === x.edges ? 'yes' : `NO (${e.digest} vs ${x.digest})`;
      const cells = [
        p.name,
        kind,
        e.states.toLocaleString('en-US'),
        e.edges.toLocaleString('en-US'),
        s(e.cpuMs),
        s(x.cpuMs),
        `${(x.cpuMs / e.cpuMs).toFixed(1)}x`,
        s(e.wallMs),
        s(x.wallMs),
        e.peakRssMiB.toFixed(0),
        x.peakRssMiB.toFixed(0),
        same,
      ];
      console.log(`| ${cells.join(' | ')} |`);
    }
  }
  console.log(
    `\nin all: explorer ${(sumE / 1000).toFixed(1)} CPU s, xstate/graph ${(sumX / 1000).toFixed(1)} CPU s (${(sumX / sumE).toFixed(1)}x)`,
  );
}

await main();
