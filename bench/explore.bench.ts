/**
 * Exploration benchmark: the explorer (spec/explore) against xstate/graph's default traversal of the same model.
 *
 *   npx tsx bench/explore.bench.ts [--quick] [--points A,B,...] [--xstate-max N] [--plain-max N] [--timeout S]
 *
 * A ladder of bounds of the linux-6.18 profile (1 VM, 1-3 guest_memfds, 1-8 pages, 1-2 mappings, 0-2 pins, one
 * memslot). Every measurement runs in its own child process, so peak memory (resourceUsage().maxRSS) is that
 * run's alone; a bare child that loads the same modules and explores nothing is measured too (baseline).
 *
 *   explorer, symmetry   explore(profile, bound, { symmetry: true }): canonical states (pages of a guest_memfd
 *                        sorted), derived edges for interchangeable pages; "concrete" is the number of states
 *                        the canonical ones stand for (the sum of their orbits), i.e. the states of the model
 *   explorer, plain      explore(profile, bound): every concrete state (skipped past --plain-max states)
 *   xstate default       getShortestPaths(logic, { events }) from xstate/graph with its defaults (JSON.stringify
 *                        serialisation, its adjacency-map traversal), over createSystemLogic(profile) whose
 *                        transition also drops dead history (compact(), as the explorer does: without it the
 *                        graph never closes), with events: snapshot => eventsFor(...).map(toEvent). JSON.stringify
 *                        cannot write bigints (one probe's offset is 2^63-4096), so the child gives BigInt a
 *                        toJSON; nothing else is changed. Skipped past --xstate-max concrete states.
 *
 * Speed ratios compare wall time on the same bound; memory ratios compare peak RSS. states/s counts concrete
 * states (the model's), so the columns compare like with like.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Point {
  id: string;
  bound: string;
}

const LADDER: Point[] = [
  { id: 'A', bound: 'gmems=1,pages=1,maps=1,pins=0' },
  { id: 'B', bound: 'gmems=1,pages=2,maps=1,pins=1' },
  { id: 'C', bound: 'gmems=1,pages=3,maps=1,pins=1' },
  { id: 'D', bound: 'gmems=1,pages=4,maps=1,pins=0' },
  { id: 'E', bound: 'gmems=1,pages=5,maps=1,pins=0' },
  { id: 'F', bound: 'gmems=1,pages=4,maps=1,pins=1' },
  { id: 'G', bound: 'gmems=1,pages=3,maps=1,pins=2' },
  { id: 'H', bound: 'gmems=1,pages=8,maps=1,pins=0' },
  { id: 'I', bound: 'gmems=1,pages=8,maps=1,pins=1' },
  { id: 'J', bound: 'gmems=2,pages=1,maps=1,pins=0' },
  { id: 'K', bound: 'gmems=2,pages=2,maps=1,pins=0' },
  { id: 'L', bound: 'gmems=3,pages=1,maps=1,pins=0' },
  { id: 'M', bound: 'gmems=1,pages=1,maps=2,pins=1' },
  { id: 'N', bound: 'gmems=1,pages=2,maps=2,pins=0' },
];
const QUICK = ['A', 'B', 'C', 'D', 'E'];

type Mode = 'baseline' | 'symmetry' | 'plain' | 'xstate';

interface Measure {
  mode: Mode;
  states?: number;
  concrete?: number;
  edges?: number;
  stepCalls?: number;
  complete?: boolean;
  ms?: number;
  maxRssMb: number;
  error?: string;
}

const MAX_CANONICAL = 300_000;

async function child(mode: Mode, bound: string): Promise<Measure> {
  const { parseBound } = await import('../spec/explore/bound.ts');
  const { explore } = await import('../spec/explore/explorer.ts');
  const { orbitSize } = await import('../spec/explore/symmetry.ts');
  const { eventsFor } = await import('../spec/explore/events.ts');
  const { compact } = await import('../spec/explore/compact.ts');
  const { getProfile } = await import('../spec/profiles/index.ts');
  const { createSystemLogic, toEvent } = await import('../spec/explore/systemActor.ts');
  const { getShortestPaths } = await import('xstate/graph');
  const profile = getProfile('linux-6.18');
  const b = parseBound(bound);
  const rss = () => process.resourceUsage().maxRSS / 1024;
  if (mode === 'baseline') return { mode, maxRssMb: rss() };
  if (mode === 'symmetry' || mode === 'plain') {
    const t0 = performance.now();
    const g = explore(profile, b, { symmetry: mode === 'symmetry', maxStates: MAX_CANONICAL });
    const ms = performance.now() - t0;
    let concrete = 0;
    for (const s of g.states) concrete += mode === 'symmetry' ? orbitSize(profile, s) : 1;
    return {
      mode,
      states: g.states.length,
      concrete,
      edges: g.edgeCount,
      stepCalls: g.stepCalls ?? g.edgeCount,
      complete: g.complete,
      ms,
      maxRssMb: rss(),
    };
  }
  (BigInt.prototype as unknown as { toJSON: () => string }).toJSON = function (this: bigint) {
    return this.toString();
  };
  const logic = createSystemLogic(profile);
  type Snap = Parameters<typeof logic.transition>[0];
  type Ev = Parameters<typeof logic.transition>[1];
  const model = {
    ...logic,
    transition: (s: Snap, e: Ev, scope: Parameters<typeof logic.transition>[2]) => {
      const n = logic.transition(s, e, scope);
      return { ...n, context: compact(n.context) };
    },
  };
  const t0 = performance.now();
  const paths = getShortestPaths(model as typeof logic, { events: (s: Snap) => eventsFor(profile, b, s.context).map(toEvent) } as never);
  const ms = performance.now() - t0;
  return { mode, states: paths.length, concrete: paths.length, complete: true, ms, maxRssMb: rss() };
}

function runChild(mode: Mode, bound: string, timeoutS: number): Measure {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--max-old-space-size=16000', self, '--child', mode, bound], {
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    maxBuffer: 1 << 20,
  });
  const line = (r.stdout ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (line) return JSON.parse(line) as Measure;
  const why =
    r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT'
      ? `no result within ${timeoutS} s`
      : `exit ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}`;
  return { mode, maxRssMb: 0, error: why };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const fmt = (n: number | undefined, d = 0) =>
  n === undefined ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const m = await child(process.argv[3] as Mode, process.argv[4] as string);
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return;
  }
  const ids = arg('points')?.split(',') ?? (process.argv.includes('--quick') ? QUICK : LADDER.map((p) => p.id));
  const points = LADDER.filter((p) => ids.includes(p.id));
  const xstateMax = Number(arg('xstate-max') ?? 70_000);
  const plainMax = Number(arg('plain-max') ?? 400_000);
  const timeout = Number(arg('timeout') ?? 1800);
  const base = runChild('baseline', 'pages=1', 120);
  console.log(
    `explore benchmark, linux-6.18, vms=1 slots=1; node ${process.version}; baseline child (modules loaded, nothing explored): ${fmt(base.maxRssMb)} MB peak RSS`,
  );
  console.log('');
  const header = [
    'pt',
    'bound',
    'canonical',
    'concrete',
    'edges',
    'sym s',
    'sym MB',
    'states/s',
    'plain s',
    'plain MB',
    'xstate s',
    'xstate MB',
    'speed ×sym',
    'speed ×plain',
    'mem ×sym',
  ];
  const rows: string[][] = [];
  for (const p of points) {
    const sym = runChild('symmetry', p.bound, timeout);
    const concrete = sym.concrete ?? Number.POSITIVE_INFINITY;
    const plain = sym.complete && concrete <= plainMax ? runChild('plain', p.bound, timeout) : undefined;
    const xs = sym.complete && concrete <= xstateMax ? runChild('xstate', p.bound, timeout) : undefined;
    const secs = (m?: Measure) => (m?.ms !== undefined ? fmt(m.ms / 1000, 2) : m?.error ? `(${m.error})` : '—');
    const row = [
      p.id,
      p.bound,
      `${fmt(sym.states)}${sym.complete === false ? '+' : ''}`,
      `${fmt(sym.concrete)}${sym.complete === false ? '+' : ''}`,
      fmt(sym.edges),
      secs(sym),
      fmt(sym.maxRssMb),
      sym.ms ? fmt((sym.concrete ?? 0) / (sym.ms / 1000)) : '—',
      secs(plain),
      plain ? fmt(plain.maxRssMb) : '—',
      secs(xs),
      xs ? fmt(xs.maxRssMb) : '—',
      xs?.ms && sym.ms ? `${fmt(xs.ms / sym.ms, 1)}x` : '—',
      xs?.ms && plain?.ms ? `${fmt(xs.ms / plain.ms, 1)}x` : '—',
      xs?.maxRssMb && sym.maxRssMb ? `${fmt(xs.maxRssMb / sym.maxRssMb, 1)}x` : '—',
    ];
    if (sym.error) row[2] = `(${sym.error})`;
    if (xs && plain && xs.states !== undefined && plain.states !== undefined && xs.states !== plain.states)
      row.push(`! xstate found ${xs.states} states, plain ${plain.states}`);
    rows.push(row);
    console.log(`${p.id} ${p.bound}: ${row.slice(2).join(' | ')}`);
  }
  console.log('');
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('');
  console.log(
    'canonical: states the symmetry-reduced explorer keeps; concrete: the model states they stand for (= plain explorer and xstate counts);',
  );
  console.log('"+": stopped at the state limit. speed ×: xstate wall time / ours; mem ×: xstate peak RSS / ours (both whole-process).');
}

await main();
