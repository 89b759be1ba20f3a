/**
 * Exhaustive breadth-first exploration of a profile's system within a bound. States are deduplicated on a
 * compact canonical key; edges are kept in typed arrays with interned steps, outcomes and rules, so large
 * graphs stay small in memory. BFS order makes the first path to every state a shortest one.
 * Invariants are checked on every new state (state invariants) and every edge (transition invariants); the
 * first violation of each, found in BFS order, has a shortest counterexample.
 */
import { stringifyJson } from '../json.ts';
import type { Outcome, Step } from '../ops.ts';
import type { Profile } from '../profile.ts';
import type { RuleRef } from '../rules/check.ts';
import { type Invariant, violations } from '../invariants.ts';
import { type SystemState, emptySystem } from '../state.ts';
import { step } from '../step.ts';
import type { Bound } from './bound.ts';
import { compact } from './compact.ts';
import { eventsFor } from './events.ts';
import { stateKey } from './stateKey.ts';

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
}

class Interner<T> {
  readonly items: T[] = [];
  private readonly index = new Map<string, number>();
  constructor(private readonly key: (t: T) => string) {}
  id(t: T): number {
    const k = this.key(t);
    let i = this.index.get(k);
    if (i === undefined) {
      i = this.items.length;
      this.items.push(t);
      this.index.set(k, i);
    }
    return i;
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

export function explore(profile: Profile, bound: Bound, options: ExploreOptions = {}): StateGraph {
  const t0 = performance.now();
  const invariants = options.invariants ?? [];
  const maxStates = options.maxStates ?? Number.POSITIVE_INFINITY;
  const progressEvery = options.progressEvery ?? 10_000;
  const stepIds = new Interner<Step>((s) => stringifyJson(s));
  const outcomeIds = new Interner<Outcome>((o) => stringifyJson(o));
  const ruleIds = new Interner<RuleRef>((r) => r.id);
  const states: SystemState[] = [];
  const keyToId = new Map<string, number>();
  const parent = new Growable();
  const depth = new Growable();
  const from = new Growable(4096);
  const to = new Growable(4096);
  const stepOf = new Growable(4096);
  const outcomeOf = new Growable(4096);
  const ruleOf = new Growable(4096);
  const found: FoundViolation[] = [];
  const violated = new Set<string>();
  const record = (vs: ReturnType<typeof violations>, state: number, edge?: number) => {
    for (const v of vs) {
      if (violated.has(v.invariant)) continue;
      violated.add(v.invariant);
      found.push({ ...v, state, ...(edge !== undefined ? { edge } : {}) });
    }
  };

  const init = emptySystem();
  states.push(init);
  keyToId.set(stateKey(init), 0);
  parent.push(-1);
  depth.push(0);
  record(violations(profile, invariants.filter((i) => i.kind === 'state'), undefined, undefined, init), 0);

  let complete = true;
  let stoppedBecause: string | undefined;
  const allInvariants = invariants;
  for (let head = 0; head < states.length; head++) {
    const s = states[head] as SystemState;
    for (const ev of eventsFor(profile, bound, s)) {
      const r = step(profile, s, ev);
      const next = compact(r.state);
      const key = stateKey(next);
      let target = keyToId.get(key);
      const isNew = target === undefined;
      if (target === undefined) {
        if (states.length >= maxStates) {
          complete = false;
          stoppedBecause ??= `state limit ${maxStates} reached`;
          continue;
        }
        target = states.length;
        states.push(next);
        keyToId.set(key, target);
        parent.push(from.length);
        depth.push((depth.data[head] ?? 0) + 1);
      }
      const e = from.length;
      from.push(head);
      to.push(target);
      stepOf.push(stepIds.id(ev));
      outcomeOf.push(outcomeIds.id(r.outcome));
      ruleOf.push(ruleIds.id(r.rule));
      if (allInvariants.length) {
        const checks = isNew ? allInvariants : allInvariants.filter((i) => i.kind === 'transition');
        const vs = violations(profile, checks, s, ev, next);
        if (vs.length) record(vs, target, vs.some((v) => allInvariants.find((i) => i.name === v.invariant)?.kind === 'transition') ? e : undefined);
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
  };
}

/** The steps of the shortest path from the initial state to `state` (BFS tree). */
export function pathTo(g: StateGraph, state: number): Step[] {
  const out: Step[] = [];
  for (let s = state; s > 0; ) {
    const e = g.parentEdge[s] as number;
    out.push(g.steps[g.edgeStep[e] as number] as Step);
    s = g.edgeFrom[e] as number;
  }
  return out.reverse();
}

/** A shortest path that ends by taking edge `e`. */
export function pathThrough(g: StateGraph, e: number): Step[] {
  return [...pathTo(g, g.edgeFrom[e] as number), g.steps[g.edgeStep[e] as number] as Step];
}
