/**
 * Step/explorer throughput: one exhaustive exploration of a fixed bound, timed (wall and CPU), best of N runs.
 *
 *   npx tsx bench/step.bench.ts [--profile linux-6.18] [--bound pages=3,pins=1,maps=1,gmems=1,vms=1,slots=1] [--runs 3]
 *
 * Prints states, edges, wall ms, CPU ms (process.cpuUsage, user + system) and step() calls per second for each
 * run and the best run, plus a digest of the whole graph (states in BFS order by their keys, every edge's
 * endpoints, step, outcome and rule), so a speed-up can be checked to leave the graph byte-for-byte the same.
 * Runs share one process: the first run also pays for warm-up (module JIT, the machines' memos). Under
 * `node --expose-gc --import tsx bench/step.bench.ts` the heap is collected before each run (steadier figures).
 */
import { createHash } from 'node:crypto';
import { parseBound } from '../spec/explore/bound.ts';
import { explore } from '../spec/explore/explorer.ts';
import { outcomeKey, stepKey } from '../spec/explore/keys.ts';
import { stateKey } from '../spec/explore/stateKey.ts';
import { getProfile } from '../spec/profiles/index.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

const profileName = arg('profile', 'linux-6.18');
const boundText = arg('bound', 'pages=3,pins=1,maps=1,gmems=1,vms=1,slots=1');
const runs = Number(arg('runs', '3'));
const profile = getProfile(profileName);
const bound = parseBound(boundText);

let best: { wall: number; cpu: number; stepsPerSec: number } | undefined;
let digest = '';
let states = 0;
let edges = 0;
for (let run = 1; run <= runs; run++) {
  (globalThis as { gc?: () => void }).gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const g = explore(profile, bound);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1000;
  const calls = g.stepCalls ?? g.edgeCount;
  const stepsPerSec = calls / (cpu / 1000);
  states = g.states.length;
  edges = g.edgeCount;
  console.log(
    `run ${run}: ${states} states, ${edges} edges, ${wall.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU, ${Math.round(stepsPerSec)} steps/s (CPU)`,
  );
  if (!best || cpu < best.cpu) best = { wall, cpu, stepsPerSec };
  if (run === 1) {
    const h = createHash('sha256');
    for (const s of g.states) h.update(`${stateKey(s)}\n`);
    for (let e = 0; e < g.edgeCount; e++)
      h.update(`${g.edgeFrom[e]} ${g.edgeTo[e]} ${g.edgeStep[e]} ${g.edgeOutcome[e]} ${g.edgeRule[e]}\n`);
    for (const st of g.steps) h.update(`${stepKey(st)}\n`);
    for (const o of g.outcomes) h.update(`${outcomeKey(o)}\n`);
    for (const r of g.rules) h.update(`${r.id}\n`);
    digest = h.digest('hex').slice(0, 16);
  }
}
if (best) {
  console.log(
    `best of ${runs} (${profileName}, ${boundText}): ${states} states, ${edges} edges, ${best.wall.toFixed(0)} ms wall, ${best.cpu.toFixed(0)} ms CPU, ${Math.round(best.stepsPerSec)} steps/s; graph digest ${digest}`,
  );
}
