/**
 * Exhaustive breadth-first exploration of a profile's system within a bound. States are deduplicated on a
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
import { type SystemState, emptySystem } from '../state.ts';
import { step } from '../step.ts';
import type { Bound } from './bound.ts';
import { compact } from './compact.ts';
import { eventsFor } from './events.ts';
import { outcomeKey, sameState, stepKey, valueKey } from './keys.ts';
import { StateKeys } from './stateKey.ts';
import {
  IDENTITY, type Perm, canonicalise, composePerm, invertPerm, pageClasses, pageParam, permKey, permuteStep, swapPerm, symmetryApplies,
} from './symmetry.ts';

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
  onProgress?: (states: number, edges: number) => boolean | void;
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

class Interner<T> {
  readonly items: T[] = [];
  private readonly index = new Map<string, number>();
  constructor(private readonly key: (t: T) => string) {}
  id(t: T, key?: string): number {
    const k = key ?? this.key(t);
    let i = this.index.get(k);
    if (i === undefined) {
      i = this.items.length;
      this.items.push(t);
      this.index.set(k, i);
    }
    return i;
  }
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

interface Computed {
  target: number;
  outcome: number;
  rule: number;
  perm: number;
}

export function explore(profile: Profile, bound: Bound, options: ExploreOptions = {}): StateGraph {
  const t0 = performance.now();
  const invariants = options.invariants ?? [];
  const stateInvariants = invariants.filter((i) => i.kind === 'state');
  const transitionInvariants = invariants.filter((i) => i.kind === 'transition');
  const maxStates = options.maxStates ?? Number.POSITIVE_INFINITY;
  const progressEvery = options.progressEvery ?? 10_000;
  const symmetry = options.symmetry === true && symmetryApplies(profile);
  const stepIds = new Interner<Step>(stepKey);
  const stepIdsByFields = new StepInterner(stepIds);
  const outcomeIds = new Interner<Outcome>(outcomeKey);
  const ruleIds = new Interner<RuleRef>((r) => r.id);
  const permIds = new Interner<Perm>(permKey);
  permIds.id(IDENTITY);
  const states: SystemState[] = [];
  const stateKey = new StateKeys();
  const keyToId = new Map<string, number>();
  const parent = new Growable();
  const depth = new Growable();
  const from = new Growable(4096);
  const to = new Growable(4096);
  const stepOf = new Growable(4096);
  const outcomeOf = new Growable(4096);
  const ruleOf = new Growable(4096);
  const permOf = symmetry ? new Growable(4096) : undefined;
  const found: FoundViolation[] = [];
  const violated = new Set<string>();
  let stepCalls = 0;
  const record = (vs: ReturnType<typeof violations>, state: number, edge?: number) => {
    for (const v of vs) {
      if (violated.has(v.invariant)) continue;
      violated.add(v.invariant);
      found.push({ ...v, state, ...(edge !== undefined ? { edge } : {}) });
    }
  };

  const init = emptySystem();
  states.push(init);
  keyToId.set(stateKey.key(init), 0);
  stateKey.remember();
  parent.push(-1);
  depth.push(0);
  if (stateInvariants.length) record(violations(profile, stateInvariants, undefined, undefined, init), 0);

  let complete = true;
  let stoppedBecause: string | undefined;
  // Derived edges' permutations: (edge permutation, swapped pages) → interned composition.
  const derivedPerm = new Map<string, number>();
  const pushEdge = (head: number, target: number, ev: Step, evKey: string | undefined, c: Omit<Computed, 'target'>): number => {
    const e = from.length;
    from.push(head);
    to.push(target);
    stepOf.push(evKey === undefined ? stepIdsByFields.id(ev) : stepIds.id(ev, evKey));
    outcomeOf.push(c.outcome);
    ruleOf.push(c.rule);
    permOf?.push(c.perm);
    return e;
  };

  for (let head = 0; head < states.length; head++) {
    const s = states[head] as SystemState;
    const classes = symmetry ? pageClasses(profile, s) : undefined;
    const computed = classes && classes.size ? new Map<string, Computed>() : undefined;
    for (const ev of eventsFor(profile, bound, s)) {
      // The step's key is needed only to look up and record edges for symmetry's derived edges.
      const evKey = computed ? stepKey(ev) : undefined;
      // An operation on a page that is interchangeable with a lower one: the lower one's edge, transposed.
      if (computed) {
        const pp = pageParam(s, ev);
        const rep = pp ? classes?.get(pp.gmem)?.[pp.page] : undefined;
        if (pp && rep !== undefined && rep !== pp.page) {
          const hit = computed.get(stepKey(pp.with(rep)));
          if (hit) {
            const size = s.gmems[pp.gmem]?.sizePages ?? 0;
            const dk = `${hit.perm}|${pp.gmem}|${size}|${pp.page}|${rep}`;
            let perm = derivedPerm.get(dk);
            if (perm === undefined) {
              perm = permIds.id(composePerm(swapPerm(pp.gmem, size, pp.page, rep), permIds.items[hit.perm] as Perm));
              derivedPerm.set(dk, perm);
            }
            pushEdge(head, hit.target, ev, evKey, { outcome: hit.outcome, rule: hit.rule, perm });
            continue;
          }
        }
      }
      stepCalls++;
      const r = step(profile, s, ev);
      let target: number | undefined;
      let perm = 0;
      let next: SystemState;
      let raw: SystemState;
      if (sameState(r.state, s)) {
        target = head;
        next = s;
        raw = s;
      } else {
        raw = compact(r.state);
        next = raw;
        if (symmetry) {
          const c = canonicalise(profile, raw);
          next = c.state;
          if (c.perm.size) perm = permIds.id(c.perm);
        }
        const key = stateKey.key(next);
        target = keyToId.get(key);
        if (target === undefined) {
          if (states.length >= maxStates) {
            complete = false;
            stoppedBecause ??= `state limit ${maxStates} reached`;
            continue;
          }
          target = states.length;
          states.push(next);
          keyToId.set(key, target);
          stateKey.remember();
          parent.push(from.length);
          depth.push((depth.data[head] ?? 0) + 1);
          if (stateInvariants.length) {
            const vs = violations(profile, stateInvariants, undefined, undefined, next);
            if (vs.length) record(vs, target);
          }
        }
      }
      const c: Computed = { target, outcome: outcomeIds.id(r.outcome), rule: ruleIds.id(r.rule), perm };
      const e = pushEdge(head, target, ev, evKey, c);
      if (computed) computed.set(evKey as string, c);
      if (transitionInvariants.length) {
        // In the frame of the step (before canonicalisation), so that per-page comparisons line up.
        const vs = violations(profile, transitionInvariants, s, ev, raw);
        if (vs.length) record(vs, target, e);
      }
    }
    if (options.onProgress && head % progressEvery === 0 && options.onProgress(states.length, from.length) === false) {
      complete = false;
      stoppedBecause = 'interrupted';
      break;
    }
  }
  return {
    profile,
    bound,
    states,
    edgeFrom: from.done(),
    edgeTo: to.done(),
    edgeStep: stepOf.done(),
    edgeOutcome: outcomeOf.done(),
    edgeRule: ruleOf.done(),
    edgeCount: from.length,
    steps: stepIds.items,
    outcomes: outcomeIds.items,
    rules: ruleIds.items,
    parentEdge: parent.done(),
    depth: depth.done(),
    violations: found,
    complete,
    ...(stoppedBecause ? { stoppedBecause } : {}),
    millis: performance.now() - t0,
    symmetry,
    ...(permOf ? { edgePerm: permOf.done(), perms: permIds.items } : {}),
    stepCalls,
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
