/**
 * Exhaustive breadth-first exploration of a profile's system within a bound: the exploration engine
 * (engine.ts) over the system model (systemModel.ts), recording the whole graph. States are deduplicated on a
 * compact canonical key; edges are kept in typed arrays with interned steps, outcomes and rules, so large
 * graphs stay small in memory. BFS order makes the first path to every state a shortest one.
 * Invariants are checked on every new state (state invariants) and every edge (transition invariants); the
 * first violation of each, found in BFS order, has a shortest counterexample.
 *
 * With `symmetry: true` the explorer keeps one representative per orbit of interchangeable pages
 * (spec/explore/symmetry.ts): every edge records the page permutation that took its result to the canonical
 * target, and `pathTo` / `pathThrough` / `concreteSteps` compose them back into concrete, replayable traces. In a
 * state where two pages are interchangeable, the edge of a per-page operation on the second page is derived
 * from the edge on the first (same target, outcome and rule; the step and permutation transposed) instead of
 * being computed again: the graph keeps every edge, it only spends `step()` on one per orbit.
 */
import type { Outcome, Step } from '../ops.ts';
import type { Profile } from '../profile.ts';
import type { RuleRef } from '../rules/check.ts';
import { type Invariant, violations } from '../invariants.ts';
import type { SystemState } from '../state.ts';
import type { Bound } from './bound.ts';
import { ExactStore, type ExplorationHooks, type Fate, type Kept, Search } from './engine.ts';
import { outcomeKey, stepKey, valueKey } from './keys.ts';
import { IDENTITY, type Perm, composePerm, invertPerm, permuteStep } from './symmetry.ts';
import { Interner, type SystemMove, SystemModel } from './systemModel.ts';

export interface FoundViolation {
  invariant: string;
  says: string;
  detail: string;
  /** The state that breaks a state invariant, or the target of the edge that breaks a transition invariant. */
  state: number;
  /** For a transition invariant: the breaking edge. */
  edge?: number;
}

export interface ExploreOptions {
  invariants?: readonly Invariant[];
  /** Stop (cleanly, with partial results) after this many states. */
  maxStates?: number;
  /** Called every `progressEvery` states; returning false stops the exploration (Ctrl-C). */
  onProgress?: (states: number, edges: number) => boolean | undefined;
  progressEvery?: number;
  /** Keep going after the first violation of every invariant (default: true). */
  stopAtFirstViolation?: boolean;
  /**
   * Symmetry reduction over interchangeable pages (default false). Ignored for profiles whose operations are
   * not closed under page permutations (symmetryApplies).
   */
  symmetry?: boolean;
}

export interface StateGraph {
  profile: Profile;
  bound: Bound;
  states: SystemState[];
  /** Edge arrays: edge e goes from edgeFrom[e] to edgeTo[e] by steps[edgeStep[e]]. */
  edgeFrom: Int32Array;
  edgeTo: Int32Array;
  edgeStep: Int32Array;
  edgeOutcome: Int32Array;
  edgeRule: Int32Array;
  edgeCount: number;
  steps: Step[];
  outcomes: Outcome[];
  rules: RuleRef[];
  /** The edge that first reached each state (-1 for the initial state): the BFS tree. */
  parentEdge: Int32Array;
  depth: Int32Array;
  violations: FoundViolation[];
  /** Whether exploration covered every reachable state within the bound. */
  complete: boolean;
  stoppedBecause?: string;
  millis: number;
  /** Whether states are canonical representatives of page-permutation orbits. */
  symmetry?: boolean;
  /**
   * With symmetry: edge e's result, permuted by perms[edgePerm[e]], is the canonical state edgeTo[e]
   * (perms[0] is the identity). The step steps[edgeStep[e]] applies to the canonical state edgeFrom[e].
   */
  edgePerm?: Int32Array;
  perms?: Perm[];
  /** How many edges called step() (the others were derived by symmetry). */
  stepCalls?: number;
}

interface StepNode {
  id?: number;
  /** Next node by field name, then by the field's value (primitive values). */
  prim?: Map<string, Map<unknown, StepNode>>;
  /** Next node by field name, then by the field's valueKey (arrays and objects). */
  comp?: Map<string, Map<string, StepNode>>;
}

/**
 * Interns steps by stepKey, with a cache in front that walks the step's own fields in their own order: a step
 * the explorer has seen before (most are: a bound has a few dozen distinct operations) gets its id without its
 * key string being built. The cache is finer than stepKey (field order, 4096 vs 4096n, undefined fields), so
 * every path through it ends at the id the stepKey interner gives.
 */
class StepInterner {
  private readonly root: StepNode = {};
  constructor(private readonly interner: Interner<Step>) {}
  id(ev: Step): number {
    let node = this.root;
    const o = ev as unknown as Record<string, unknown>;
    for (const f of Object.keys(o)) {
      const v = o[f];
      let next: StepNode | undefined;
      if (typeof v === 'object' && v !== null) {
        node.comp ??= new Map();
        let byValue = node.comp.get(f);
        if (!byValue) node.comp.set(f, (byValue = new Map()));
        const vk = valueKey(v);
        next = byValue.get(vk);
        if (!next) byValue.set(vk, (next = {}));
      } else {
        node.prim ??= new Map();
        let byValue = node.prim.get(f);
        if (!byValue) node.prim.set(f, (byValue = new Map()));
        next = byValue.get(v);
        if (!next) byValue.set(v, (next = {}));
      }
      node = next;
    }
    node.id ??= this.interner.id(ev);
    return node.id;
  }
}

class Growable {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  done(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/**
 * The state graph's recorder: the engine's hooks that keep every state, every edge (in typed arrays, with steps,
 * outcomes and rules interned), the BFS tree, and the first violation of each invariant.
 */
class GraphRecorder implements ExplorationHooks<SystemState, Step, SystemMove, number> {
  readonly states: SystemState[] = [];
  readonly stepIds = new Interner<Step>(stepKey);
  private readonly stepIdsByFields = new StepInterner(this.stepIds);
  readonly outcomeIds = new Interner<Outcome>(outcomeKey);
  readonly ruleIds = new Interner<RuleRef>((r) => r.id);
  readonly parent = new Growable();
  readonly depth = new Growable();
  readonly from = new Growable(4096);
  readonly to = new Growable(4096);
  readonly stepOf = new Growable(4096);
  readonly outcomeOf = new Growable(4096);
  readonly ruleOf = new Growable(4096);
  readonly permOf: Growable | undefined;
  readonly found: FoundViolation[] = [];
  private readonly violated = new Set<string>();
  private readonly stateInvariants: Invariant[];
  private readonly transitionInvariants: Invariant[];

  constructor(
    private readonly profile: Profile,
    invariants: readonly Invariant[],
    symmetry: boolean,
  ) {
    this.stateInvariants = invariants.filter((i) => i.kind === 'state');
    this.transitionInvariants = invariants.filter((i) => i.kind === 'transition');
    this.permOf = symmetry ? new Growable(4096) : undefined;
  }

  private record(vs: ReturnType<typeof violations>, state: number, edge?: number): void {
    for (const v of vs) {
      if (this.violated.has(v.invariant)) continue;
      this.violated.add(v.invariant);
      this.found.push({ ...v, state, ...(edge !== undefined ? { edge } : {}) });
    }
  }

  state(k: Kept<SystemState, number>): void {
    this.states.push(k.node);
    // A new state is kept just before the edge that reached it is recorded: that edge is its BFS-tree parent.
    this.parent.push(k.depth === 0 ? -1 : this.from.length);
    this.depth.push(k.depth);
    if (this.stateInvariants.length) {
      const vs = violations(this.profile, this.stateInvariants, undefined, undefined, k.node);
      if (vs.length) this.record(vs, k.handle);
    }
  }

  edge(from: Kept<SystemState, number>, ev: Step, _index: number, m: SystemMove, fate: Fate, to: number | undefined): void {
    if (fate === 'dropped' || to === undefined) return;
    const e = this.from.length;
    this.from.push(from.handle);
    this.to.push(to);
    this.stepOf.push(m.stepKey === undefined ? this.stepIdsByFields.id(ev) : this.stepIds.id(ev, m.stepKey));
    this.outcomeOf.push(this.outcomeIds.id(m.outcome));
    this.ruleOf.push(this.ruleIds.id(m.rule));
    this.permOf?.push(m.perm);
    if (this.transitionInvariants.length && m.raw) {
      // In the frame of the step (before canonicalisation), so that per-page comparisons line up.
      const vs = violations(this.profile, this.transitionInvariants, from.node, ev, m.raw);
      if (vs.length) this.record(vs, to, e);
    }
  }
}

export function explore(profile: Profile, bound: Bound, options: ExploreOptions = {}): StateGraph {
  const t0 = performance.now();
  const model = new SystemModel(profile, bound, { symmetry: options.symmetry === true });
  const graph = new GraphRecorder(profile, options.invariants ?? [], model.symmetry);
  const progress = options.onProgress;
  const search = new Search(model, new ExactStore(), graph, {
    ...(options.maxStates !== undefined ? { maxStates: options.maxStates } : {}),
    ...(progress ? { progress: { every: options.progressEvery ?? 10_000, report: progress } } : {}),
  }).run();
  return {
    profile,
    bound,
    states: graph.states,
    edgeFrom: graph.from.done(),
    edgeTo: graph.to.done(),
    edgeStep: graph.stepOf.done(),
    edgeOutcome: graph.outcomeOf.done(),
    edgeRule: graph.ruleOf.done(),
    edgeCount: graph.from.length,
    steps: graph.stepIds.items,
    outcomes: graph.outcomeIds.items,
    rules: graph.ruleIds.items,
    parentEdge: graph.parent.done(),
    depth: graph.depth.done(),
    violations: graph.found,
    complete: search.complete,
    ...(search.stoppedBecause ? { stoppedBecause: search.stoppedBecause } : {}),
    millis: performance.now() - t0,
    symmetry: model.symmetry,
    ...(graph.permOf ? { edgePerm: graph.permOf.done(), perms: model.perms.items } : {}),
    stepCalls: model.stepCalls,
  };
}

/** The edges of the BFS-tree path from the initial state to `state`. */
export function treeEdges(g: StateGraph, state: number): number[] {
  const out: number[] = [];
  for (let s = state; s > 0; ) {
    const e = g.parentEdge[s] as number;
    out.push(e);
    s = g.edgeFrom[e] as number;
  }
  return out.reverse();
}

/**
 * The concrete steps of a walk through the graph: `edges` must start at the initial state and each must leave
 * the state the previous one entered. Without symmetry these are the edges' steps; with symmetry each step is
 * moved by the inverse of the permutations accumulated so far, so the trace replays from the empty state.
 */
export function concreteSteps(g: StateGraph, edges: readonly number[]): Step[] {
  const out: Step[] = [];
  let acc: Perm = IDENTITY; // concrete → canonical
  let at = 0;
  for (const e of edges) {
    if ((g.edgeFrom[e] as number) !== at) throw new Error(`concreteSteps: edge ${e} leaves state ${g.edgeFrom[e]}, not ${at}`);
    const st = g.steps[g.edgeStep[e] as number] as Step;
    if (!g.edgePerm || !g.perms) out.push(st);
    else {
      out.push(permuteStep(g.states[at] as SystemState, st, invertPerm(acc)));
      acc = composePerm(acc, g.perms[g.edgePerm[e] as number] as Perm);
    }
    at = g.edgeTo[e] as number;
  }
  return out;
}

/** The steps of the shortest path from the initial state to `state` (BFS tree), replayable from the empty state. */
export function pathTo(g: StateGraph, state: number): Step[] {
  return concreteSteps(g, treeEdges(g, state));
}

/** A shortest path that ends by taking edge `e`. */
export function pathThrough(g: StateGraph, e: number): Step[] {
  return concreteSteps(g, [...treeEdges(g, g.edgeFrom[e] as number), e]);
}
