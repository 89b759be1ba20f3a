/**
 * Choosing tests from an explored state graph. Each test is a walk: a list of edges starting at the initial
 * state (spec/explore concreteSteps turns it into a replayable trace).
 *
 *   state       one shortest path to every reachable state: the BFS-tree paths to the leaves of the BFS tree
 *               (every other state's shortest path is a prefix of one of them);
 *   transition  every edge, error and self-loop edges included, by greedy walks: in each state the walk first
 *               takes every uncovered self-loop (the refusals and no-ops of that state, grouped into the test
 *               that reaches it), then an uncovered edge out of it (towards the state with most uncovered
 *               edges), and when none is left, the shortest path to the nearest state that has one; a walk ends
 *               at `maxSteps` and the next one starts again from the initial state;
 *   path:L      every path of exactly L edges from the initial state (refused past `maxTests`).
 */
import type { StateGraph } from '../../spec/explore/explorer.ts';
import { treeEdges } from '../../spec/explore/explorer.ts';

export interface Walk {
  edges: number[];
  /** Per edge: whether this walk is the first to cover it (false: a connecting step through covered edges). */
  fresh: boolean[];
}

export class SelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectionError';
  }
}

/** Outgoing edges of every state, in edge order (compressed rows). */
export interface OutIndex {
  start: Int32Array;
  edges: Int32Array;
}

export function outIndex(g: StateGraph): OutIndex {
  const n = g.states.length;
  const start = new Int32Array(n + 1);
  for (let e = 0; e < g.edgeCount; e++) start[(g.edgeFrom[e] as number) + 1] = (start[(g.edgeFrom[e] as number) + 1] as number) + 1;
  for (let i = 0; i < n; i++) start[i + 1] = (start[i + 1] as number) + (start[i] as number);
  const fill = start.slice(0, n);
  const edges = new Int32Array(g.edgeCount);
  for (let e = 0; e < g.edgeCount; e++) {
    const f = g.edgeFrom[e] as number;
    edges[fill[f] as number] = e;
    fill[f] = (fill[f] as number) + 1;
  }
  return { start, edges };
}

/** `state`: the BFS-tree paths to the leaves of the BFS tree, in state order. */
export function selectStates(g: StateGraph): Walk[] {
  const inner = new Uint8Array(g.states.length);
  for (let s = 1; s < g.states.length; s++) inner[g.edgeFrom[g.parentEdge[s] as number] as number] = 1;
  const out: Walk[] = [];
  for (let s = 1; s < g.states.length; s++) {
    if (inner[s]) continue;
    const edges = treeEdges(g, s);
    out.push({ edges, fresh: edges.map(() => true) });
  }
  return out;
}

export interface TransitionOptions {
  /** A walk ends once it has this many steps (default 150). */
  maxSteps?: number;
}

/** `transition`: walks that together take every edge of the graph. */
export function selectTransitions(g: StateGraph, options: TransitionOptions = {}): Walk[] {
  const maxSteps = options.maxSteps ?? 150;
  const idx = outIndex(g);
  const covered = new Uint8Array(g.edgeCount);
  const uncoveredOut = new Int32Array(g.states.length);
  for (let e = 0; e < g.edgeCount; e++) uncoveredOut[g.edgeFrom[e] as number] = (uncoveredOut[g.edgeFrom[e] as number] as number) + 1;
  let remaining = g.edgeCount;
  const out: Walk[] = [];
  const take = (w: Walk, e: number) => {
    const fresh = !covered[e];
    if (fresh) {
      covered[e] = 1;
      uncoveredOut[g.edgeFrom[e] as number] = (uncoveredOut[g.edgeFrom[e] as number] as number) - 1;
      remaining--;
    }
    w.edges.push(e);
    w.fresh.push(fresh);
    return g.edgeTo[e] as number;
  };
  /** Shortest path (edges) from `from` to the nearest state with an uncovered edge. */
  const connect = (from: number): number[] | undefined => {
    if (uncoveredOut[from]) return [];
    const via = new Int32Array(g.states.length).fill(-1);
    const seen = new Uint8Array(g.states.length);
    seen[from] = 1;
    const queue = [from];
    for (let h = 0; h < queue.length; h++) {
      const u = queue[h] as number;
      for (let k = idx.start[u] as number; k < (idx.start[u + 1] as number); k++) {
        const e = idx.edges[k] as number;
        const v = g.edgeTo[e] as number;
        if (seen[v]) continue;
        seen[v] = 1;
        via[v] = e;
        if (uncoveredOut[v]) {
          const path: number[] = [];
          for (let x = v; x !== from; x = g.edgeFrom[via[x] as number] as number) path.push(via[x] as number);
          return path.reverse();
        }
        queue.push(v);
      }
    }
    return undefined;
  };
  while (remaining > 0) {
    const w: Walk = { edges: [], fresh: [] };
    let cur = 0;
    for (;;) {
      // Every uncovered self-loop of this state: its refusals and no-ops.
      for (let k = idx.start[cur] as number; k < (idx.start[cur + 1] as number); k++) {
        const e = idx.edges[k] as number;
        if (!covered[e] && g.edgeTo[e] === cur) take(w, e);
      }
      if (w.edges.length >= maxSteps) break;
      // An uncovered move, towards the state with the most uncovered edges.
      let best = -1;
      let bestScore = -1;
      for (let k = idx.start[cur] as number; k < (idx.start[cur + 1] as number); k++) {
        const e = idx.edges[k] as number;
        if (covered[e]) continue;
        const score = uncoveredOut[g.edgeTo[e] as number] as number;
        if (score > bestScore) {
          best = e;
          bestScore = score;
        }
      }
      if (best >= 0) {
        cur = take(w, best);
        continue;
      }
      const path = connect(cur);
      if (!path || (w.edges.length && w.edges.length + path.length > maxSteps)) break;
      for (const e of path) cur = take(w, e);
    }
    if (!w.edges.length) throw new SelectionError('internal: a transition walk covered nothing');
    out.push(w);
  }
  return out;
}

/** Paths of exactly `length` edges from the initial state: how many there are. */
export function countPaths(g: StateGraph, length: number): number {
  let cnt = new Float64Array(g.states.length);
  cnt[0] = 1;
  for (let k = 0; k < length; k++) {
    const next = new Float64Array(g.states.length);
    for (let e = 0; e < g.edgeCount; e++)
      next[g.edgeTo[e] as number] = (next[g.edgeTo[e] as number] as number) + (cnt[g.edgeFrom[e] as number] as number);
    cnt = next;
  }
  return cnt.reduce((a, b) => a + b, 0);
}

export interface PathOptions {
  /** Refuse when there are more paths than this (default 2000). */
  maxTests?: number;
}

/** `path:L`: every path of exactly L edges from the initial state. */
export function selectPaths(g: StateGraph, length: number, options: PathOptions = {}): Walk[] {
  const maxTests = options.maxTests ?? 2000;
  if (!Number.isInteger(length) || length < 1) throw new SelectionError(`path:${length}: the length must be a positive integer`);
  const count = countPaths(g, length);
  if (count > maxTests) {
    throw new SelectionError(
      `path:${length} would generate ${count.toExponential(2)} tests (every path of ${length} operations among ${g.states.length} states and ${g.edgeCount} edges); the limit is ${maxTests}. Use a shorter length, a smaller bound, or --coverage transition`,
    );
  }
  const idx = outIndex(g);
  const out: Walk[] = [];
  const stack: number[] = [];
  const visit = (u: number) => {
    if (stack.length === length) {
      out.push({ edges: [...stack], fresh: stack.map(() => true) });
      return;
    }
    for (let k = idx.start[u] as number; k < (idx.start[u + 1] as number); k++) {
      const e = idx.edges[k] as number;
      stack.push(e);
      visit(g.edgeTo[e] as number);
      stack.pop();
    }
  };
  visit(0);
  return out;
}

/** One path per edge, for comparison: the BFS-tree path to its source, then the edge. */
export function onePathPerEdgeSteps(g: StateGraph): number {
  let steps = 0;
  for (let e = 0; e < g.edgeCount; e++) steps += (g.depth[g.edgeFrom[e] as number] as number) + 1;
  return steps;
}
