/**
 * The model checker's driver: exhaustive breadth-first search of a profile within a bound, level by level,
 * in this thread (one partition) or across worker threads (one partition each, src/check/worker.ts). Checks
 * every state invariant in every reached state and every transition invariant on every edge; keeps, for each
 * violated invariant, a shortest counterexample, rebuilt as steps by replaying parent links from the initial
 * state (and verified on the way). Stops cleanly on request (Ctrl-C), at a state or memory limit, keeping what
 * was explored.
 */
import { freemem, totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { compact } from '../../spec/explore/compact.ts';
import { eventsFor } from '../../spec/explore/events.ts';
import { IDENTITY, type Perm, canonicalise, composePerm, invertPerm, permuteStep, symmetryApplies } from '../../spec/explore/symmetry.ts';
import type { Bound } from '../../spec/explore/bound.ts';
import { INVARIANTS, invariantsFor, violations } from '../../spec/invariants.ts';
import type { Outcome, Step } from '../../spec/ops.ts';
import type { Profile } from '../../spec/profile.ts';
import type { RuleRef } from '../../spec/rules/check.ts';
import { type SystemState, emptySystem } from '../../spec/state.ts';
import { step } from '../../spec/step.ts';
import { formatBytes } from './estimate.ts';
import { collisionProbability } from './fingerprint.ts';
import { StateFingerprints } from './stateFingerprint.ts';
import {
  type Coverage,
  type DeadlockCandidate,
  Partition,
  type ViolationCandidate,
  levelReport,
  mergeCoverage,
  ownerOf,
  pickDeadlock,
  pickViolations,
} from './partition.ts';
import type { CacheCounts, FromWorker, LevelReport, ToWorker, WorkerInit } from './protocol.ts';

export interface CheckOptions {
  profile: Profile;
  bound: Bound;
  /** Invariant names; default: the profile's promises (all invariants). */
  invariants?: readonly string[];
  /** Worker threads; 1 runs in this thread (unless `threads`). */
  workers?: number;
  /** Run partitions in worker threads even when there is one (to measure the threads' own overhead). */
  threads?: boolean;
  /** Stop cleanly (partial results) at this many states. */
  maxStates?: number;
  /** Stop cleanly when the heap of any partition (or this process's RSS) passes this many bytes. */
  maxMemory?: number;
  /** Stop cleanly after this many milliseconds. */
  maxMillis?: number;
  /** Stop after the level in which every checked invariant has a violation (their counterexamples are final). */
  stopWhenAllViolated?: boolean;
  /**
   * Symmetry reduction (spec/explore/symmetry.ts): keep one canonical state per orbit of interchangeable pages,
   * where the profile allows it (symmetryApplies; elsewhere ignored). States are then counted as orbits.
   */
  symmetry?: boolean;
  /** One thread: sum every edge into a digest (CheckResult.edgeDigest) to compare the graph with explore()'s. */
  edgeDigest?: boolean;
  /** Record coverage for the dead-rule report (costs ~10%). */
  coverage?: boolean;
  /** Called about twice a second. */
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  depth: number;
  states: number;
  edges: number;
  millis: number;
  frontier: number;
}

export interface PathStep {
  step: Step;
  outcome: Outcome;
  rule: RuleRef;
}

export interface FoundViolation {
  invariant: string;
  says: string;
  detail: string;
  kind: 'state' | 'transition';
  /** Steps of a shortest path to the violation, with what the spec says each does. */
  path: PathStep[];
}

export interface CheckResult {
  profile: Profile;
  bound: Bound;
  invariants: string[];
  workers: number;
  states: number;
  edges: number;
  selfLoops: number;
  /** Deepest BFS level completed. */
  depth: number;
  complete: boolean;
  stoppedBecause?: string;
  millis: number;
  violations: FoundViolation[];
  deadlocks: number;
  deadlock?: { path: PathStep[] };
  /** End states that keep a pin whose mapping is gone (the vocabulary cannot drop it). */
  orphanPins: number;
  coverage?: Coverage;
  collisionProbability: number;
  /** With `edgeDigest`: the digest of every edge with a target (edgeDigest.ts) and how many there are. */
  edgeDigest?: { text: string; edges: number };
  /** The successor cache over all partitions: lookups that hit, missed, and moves stepped directly. */
  cache: CacheCounts;
  /** Peak heap over all partitions (bytes) and peak RSS of the process. */
  peakHeap: number;
  peakRss: number;
}

/** Everything a run needs from its partitions, in-thread or in workers. */
interface Parts {
  count: number;
  start(): Promise<LevelReport[]>;
  level(): Promise<LevelReport[]>;
  stop(): void;
  parents(fps: Array<[number, number]>): Promise<Array<{ plo: number; phi: number; ev: number; depth: number } | null>>;
  coverage(): Promise<Coverage[]>;
  close(): Promise<void>;
  progress(): { edges: number; states: number; heap: number };
  /** One partition with an edge digest: the digest so far. */
  digest?(): { text: string; edges: number } | undefined;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

function inThread(o: CheckOptions): Parts {
  const part = new Partition(o.profile, o.bound, invariantsFor(o.profile, o.invariants), 0, 1, {
    coverage: o.coverage ?? false,
    symmetry: symmetric(o),
    edgeDigest: o.edgeDigest === true,
  });
  let stopRequested = false;
  return {
    count: 1,
    async start() {
      part.start();
      return [levelReport(part, false)];
    },
    async level() {
      let stopped = false;
      for (;;) {
        const end = performance.now() + 50;
        if (part.expand(() => stopRequested || performance.now() > end)) break;
        if (stopRequested) {
          stopped = true;
          break;
        }
        await tick(); // let signal handlers and progress timers run
      }
      part.commit();
      return [levelReport(part, stopped || stopRequested)];
    },
    stop() {
      stopRequested = true;
    },
    async parents(fps) {
      return fps.map(([lo, hi]) => part.parentOf(lo, hi) ?? null);
    },
    async coverage() {
      return [part.coverage()];
    },
    digest() {
      return part.digest ? { text: part.digest.text, edges: part.digest.count } : undefined;
    },
    async close() {},
    progress() {
      return { edges: part.edges, states: part.table.size + part.pendingSize, heap: getHeapStatistics().used_heap_size };
    },
  };
}

function inWorkers(o: CheckOptions, n: number): Parts {
  const channels: Array<Array<MessagePort | null>> = Array.from({ length: n }, () => Array.from({ length: n }, () => null));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const c = new MessageChannel();
      (channels[i] as Array<MessagePort | null>)[j] = c.port1;
      (channels[j] as Array<MessagePort | null>)[i] = c.port2;
    }
  }
  const url = new URL('./worker-entry.mjs', import.meta.url);
  const progress = Array.from({ length: n }, () => ({ edges: 0, states: 0, heap: 0 }));
  let failure: Error | undefined;
  let waiting: { kind: 'ready' | 'level'; got: LevelReport[]; resolve: (r: LevelReport[]) => void; reject: (e: Error) => void } | undefined;
  const pending = new Map<number, { got: unknown[]; need: number; resolve: (v: unknown[]) => void }>();
  let nextId = 1;
  const fail = (e: Error) => {
    failure ??= e;
    waiting?.reject(e);
  };
  const workers = Array.from({ length: n }, (_, i) => {
    const ports = channels[i] as Array<MessagePort | null>;
    const init: WorkerInit & { ports: Array<MessagePort | null> } = {
      profile: o.profile,
      bound: o.bound,
      invariants: [...invariantsFor(o.profile, o.invariants).map((x) => x.name)],
      index: i,
      parts: n,
      coverage: o.coverage ?? false,
      symmetry: symmetric(o),
      ports,
    };
    const w = new Worker(url, { workerData: init, transferList: ports.filter((p): p is MessagePort => p !== null) });
    w.on('message', (m: FromWorker) => {
      switch (m.t) {
        case 'ready':
        case 'level': {
          const p = progress[m.report.index];
          if (p) Object.assign(p, { edges: m.report.edges, states: m.report.states, heap: m.report.heapUsed });
          if (waiting) {
            waiting.got[m.report.index] = m.report;
            if (waiting.got.filter(Boolean).length === n) {
              const wt = waiting;
              waiting = undefined;
              wt.resolve(wt.got);
            }
          }
          break;
        }
        case 'progress':
          Object.assign(progress[m.index] as object, { edges: m.edges, states: m.states + m.pending, heap: m.heapUsed });
          break;
        case 'parents':
        case 'coverage': {
          const q = pending.get(m.id);
          if (!q) break;
          q.got[workers.indexOf(w)] = m.t === 'parents' ? m.links : m.coverage;
          if (q.got.filter((x) => x !== undefined).length === q.need) {
            pending.delete(m.id);
            q.resolve(q.got);
          }
          break;
        }
        case 'error':
          fail(new Error(`checker worker ${i}: ${m.message}`));
          break;
      }
    });
    w.on('error', (e) => fail(e instanceof Error ? e : new Error(String(e))));
    w.on('exit', (code) => {
      if (code !== 0 && !closing) fail(new Error(`checker worker ${i} exited with code ${code}`));
    });
    return w;
  });
  let closing = false;
  const send = (i: number, m: ToWorker) => (workers[i] as Worker).postMessage(m);
  const all = (kind: 'ready' | 'level', msg?: ToWorker) =>
    new Promise<LevelReport[]>((resolve, reject) => {
      if (failure) return reject(failure);
      waiting = { kind, got: [], resolve, reject };
      if (msg) for (let i = 0; i < n; i++) send(i, msg);
    });
  const ask = <T>(make: (id: number) => ToWorker, targets: number[]) =>
    new Promise<T[]>((resolve, reject) => {
      if (failure) return reject(failure);
      const id = nextId++;
      pending.set(id, { got: Array.from({ length: n }), need: targets.length, resolve: resolve as (v: unknown[]) => void });
      for (const i of targets) send(i, make(id));
    });
  return {
    count: n,
    start: () => all('ready'),
    level: () => all('level', { t: 'level' }),
    stop() {
      for (let i = 0; i < n; i++) send(i, { t: 'stop' });
    },
    async parents(fps) {
      // Ask each owner about its own fingerprints.
      const byOwner = Array.from({ length: n }, () => [] as Array<[number, number]>);
      for (const fp of fps) (byOwner[ownerOf(fp[0], n)] as Array<[number, number]>).push(fp);
      const targets = byOwner.map((l, i) => (l.length ? i : -1)).filter((i) => i >= 0);
      const got = await new Promise<Array<Array<{ plo: number; phi: number; ev: number; depth: number } | null>>>((resolve, reject) => {
        if (failure) return reject(failure);
        const id = nextId++;
        pending.set(id, { got: Array.from({ length: n }), need: targets.length, resolve: resolve as (v: unknown[]) => void });
        for (const i of targets) send(i, { t: 'parents', id, fps: byOwner[i] as Array<[number, number]> });
      });
      const cursor = new Array<number>(n).fill(0);
      return fps.map((fp) => {
        const owner = ownerOf(fp[0], n);
        const list = got[owner] ?? [];
        return list[cursor[owner]!++] ?? null;
      });
    },
    coverage: () =>
      ask<Coverage>(
        (id) => ({ t: 'coverage', id }),
        Array.from({ length: n }, (_, i) => i),
      ),
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
    progress() {
      return progress.reduce((a, p) => ({ edges: a.edges + p.edges, states: a.states + p.states, heap: a.heap + p.heap }), {
        edges: 0,
        states: 0,
        heap: 0,
      });
    },
  };
}

/**
 * Replay event indices from the initial state: the steps, with outcomes and rules, checking fingerprints. With
 * `symmetry` the indices are events of canonical states (each step's result canonicalised, as the search did);
 * each step is then moved by the inverse of the page permutations taken so far (as the explorer's concreteSteps
 * does) and the concrete trace is stepped again from the empty state for its outcomes: a replayable trace.
 */
export function replayIndices(
  profile: Profile,
  bound: Bound,
  indices: readonly number[],
  expect?: ReadonlyArray<[number, number]>,
  symmetry = false,
): PathStep[] {
  let s: SystemState = emptySystem();
  const out: PathStep[] = [];
  const fps = new StateFingerprints();
  let acc: Perm = IDENTITY; // concrete → canonical
  indices.forEach((k, i) => {
    const evs = eventsFor(profile, bound, s);
    const ev = evs[k];
    if (!ev) throw new Error(`internal: replay step ${i + 1} asks for event ${k} of ${evs.length}`);
    const r = step(profile, s, ev);
    const concrete = symmetry ? permuteStep(s, ev, invertPerm(acc)) : ev;
    s = compact(r.state);
    if (symmetry) {
      const c = canonicalise(profile, s);
      s = c.state;
      acc = composePerm(acc, c.perm);
    }
    const want = expect?.[i];
    if (want) {
      const [lo, hi] = fps.of(s);
      if (lo !== want[0] || hi !== want[1])
        throw new Error(
          `internal: replay of step ${i + 1} (${ev.op}) reached another state than the search (fingerprint collision or a nondeterministic rule)`,
        );
    }
    out.push({ step: concrete, outcome: r.outcome, rule: r.rule });
  });
  if (!symmetry) return out;
  // The concrete steps, stepped from the empty state: their own outcomes and rules.
  let c: SystemState = emptySystem();
  return out.map((p) => {
    const r = step(profile, c, p.step);
    c = compact(r.state);
    return { step: p.step, outcome: r.outcome, rule: r.rule };
  });
}

async function pathTo(parts: Parts, lo: number, hi: number): Promise<{ indices: number[]; fps: Array<[number, number]> }> {
  const indices: number[] = [];
  const fps: Array<[number, number]> = [];
  let cur: [number, number] = [lo, hi];
  for (let guard = 0; guard < 100_000; guard++) {
    const [link] = await parts.parents([cur]);
    if (!link) throw new Error('internal: a state on a counterexample path is not in the table');
    if (link.depth === 0) break;
    indices.push(link.ev);
    fps.push(cur);
    cur = [link.plo, link.phi];
  }
  return { indices: indices.reverse(), fps: fps.reverse() };
}

/** A running check that can be stopped from outside (Ctrl-C). */
export interface RunningCheck {
  stop(reason: string): void;
  done: Promise<CheckResult>;
}

export function startCheck(o: CheckOptions): RunningCheck {
  let stopReason: string | undefined;
  let parts: Parts | undefined;
  let stopNow = false;
  const stop = (reason: string) => {
    stopReason ??= reason;
    stopNow = true;
    parts?.stop();
  };
  const done = (async (): Promise<CheckResult> => {
    const t0 = performance.now();
    const n = Math.max(1, o.workers ?? 1);
    const names = invariantsFor(o.profile, o.invariants).map((i) => i.name);
    if (o.edgeDigest && (n > 1 || o.threads)) throw new Error('internal: an edge digest is computed in one thread only');
    parts = n === 1 && !o.threads ? inThread(o) : inWorkers(o, n);
    let peakHeap = 0;
    let peakRss = 0;
    const sample = () => {
      const p = parts?.progress();
      if (p) peakHeap = Math.max(peakHeap, n === 1 ? p.heap : p.heap);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      return p;
    };
    const maxMemory = o.maxMemory ?? Math.min(totalmem() * 0.75, freemem() + process.memoryUsage.rss());
    let depthDone = 0;
    let frontier = 0;
    const timer = setInterval(() => {
      const p = sample();
      if (!p) return;
      if (o.maxStates !== undefined && p.states >= o.maxStates) stop(`state limit ${o.maxStates} reached`);
      if (peakRss > maxMemory) stop(`memory limit ${formatBytes(maxMemory)} reached (RSS ${formatBytes(peakRss)})`);
      if (o.maxMillis !== undefined && performance.now() - t0 > o.maxMillis)
        stop(`time limit ${(o.maxMillis / 1000).toFixed(0)} s reached`);
      o.onProgress?.({ depth: depthDone, states: p.states, edges: p.edges, millis: performance.now() - t0, frontier });
    }, 500);
    let reports: LevelReport[] = [];
    let complete = false;
    try {
      reports = await parts.start();
      if (stopNow) parts.stop();
      for (;;) {
        frontier = reports.reduce((a, r) => a + r.frontier, 0);
        if (frontier === 0) {
          complete = !reports.some((r) => r.stopped);
          break;
        }
        if (stopNow) break;
        reports = await parts.level();
        sample();
        if (reports.some((r) => r.stopped)) break;
        depthDone = Math.max(...reports.map((r) => r.depth));
        const states = reports.reduce((a, r) => a + r.states, 0);
        if (o.maxStates !== undefined && states >= o.maxStates) stop(`state limit ${o.maxStates} reached`);
        if (o.stopWhenAllViolated && pickViolations(reports.map((r) => r.violations)).size === names.length) {
          stop('every checked invariant is violated');
          break;
        }
      }
      // Counterexamples: shortest per invariant, rebuilt from parent links and replayed.
      const chosen = pickViolations(reports.map((r) => r.violations));
      const violations: FoundViolation[] = [];
      for (const v of [...chosen.values()].sort((a, b) => a.depth - b.depth || a.invariant.localeCompare(b.invariant))) {
        violations.push(await materialise(parts, o, v));
      }
      const dl: DeadlockCandidate | undefined = pickDeadlock(reports.map((r) => r.deadlock));
      let deadlock: CheckResult['deadlock'];
      if (dl) {
        const p = await pathTo(parts, dl.lo, dl.hi);
        deadlock = { path: replayIndices(o.profile, o.bound, p.indices, p.fps, symmetric(o)) };
      }
      const coverage = o.coverage ? mergeCoverage(await parts.coverage()) : undefined;
      const states = reports.reduce((a, r) => a + r.states, 0);
      const result: CheckResult = {
        profile: o.profile,
        bound: o.bound,
        invariants: names,
        workers: n,
        states,
        edges: reports.reduce((a, r) => a + r.edges, 0),
        selfLoops: reports.reduce((a, r) => a + r.selfLoops, 0),
        depth: depthDone,
        complete: complete && !stopReason,
        millis: performance.now() - t0,
        violations,
        deadlocks: reports.reduce((a, r) => a + r.deadlocks, 0),
        orphanPins: reports.reduce((a, r) => a + r.orphanPins, 0),
        collisionProbability: collisionProbability(states),
        cache: {
          hits: reports.reduce((a, r) => a + r.cache.hits, 0),
          misses: reports.reduce((a, r) => a + r.cache.misses, 0),
          direct: reports.reduce((a, r) => a + r.cache.direct, 0),
        },
        peakHeap,
        peakRss,
      };
      if (stopReason && !result.complete) result.stoppedBecause = stopReason;
      if (deadlock) result.deadlock = deadlock;
      if (coverage) result.coverage = coverage;
      const digest = parts.digest?.();
      if (digest) result.edgeDigest = digest;
      return result;
    } finally {
      clearInterval(timer);
      await parts.close();
    }
  })();
  return { stop, done };
}

async function materialise(parts: Parts, o: CheckOptions, v: ViolationCandidate): Promise<FoundViolation> {
  const p = await pathTo(parts, v.lo, v.hi);
  const indices = v.kind === 'transition' ? [...p.indices, v.ev] : p.indices;
  const path = replayIndices(o.profile, o.bound, indices, p.fps, symmetric(o));
  return { invariant: v.invariant, says: v.says, detail: symmetric(o) ? concreteDetail(o.profile, v, path) : v.detail, kind: v.kind, path };
}

/**
 * With symmetry the violation was found in a canonical state, whose page numbers are not the trace's: what
 * broke, said again from the concrete trace's own last state.
 */
function concreteDetail(profile: Profile, v: ViolationCandidate, path: readonly PathStep[]): string {
  let before: SystemState = emptySystem();
  let after = before;
  for (const p of path) {
    before = after;
    after = compact(step(profile, before, p.step).state);
  }
  const inv = INVARIANTS.filter((i) => i.name === v.invariant);
  const last = path.at(-1);
  const found =
    v.kind === 'transition' && last
      ? violations(profile, inv, before, last.step, after)
      : violations(profile, inv, undefined, undefined, after);
  return found[0]?.detail ?? v.detail;
}

/** Whether the search keeps canonical states: asked for, and sound for the profile (symmetryApplies). */
export function symmetric(o: CheckOptions): boolean {
  return o.symmetry === true && symmetryApplies(o.profile);
}

export async function check(o: CheckOptions): Promise<CheckResult> {
  return startCheck(o).done;
}
