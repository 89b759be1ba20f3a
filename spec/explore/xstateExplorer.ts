/**
 * The state graph through XState's graph utilities (`xstate/graph`, which ships inside `xstate`): the system
 * actor (systemActor.ts) is traversed by getAdjacencyMap, keyed by the spec's own state serialisation (the
 * compact key of stateKey.ts, which its `serializeState` option accepts), with the explorer's operations as
 * its events (one event per position of eventsFor's list). The adjacency map is then numbered in BFS order into
 * the same StateGraph the explorer builds: same states, same edges, same ids, so every suite generated from
 * it is the same. It exists to show that the graph is the machines' graph as XState sees it; the explorer
 * (explorer.ts) stays the default because it is much faster (README, "Generated conformance suites").
 */
import { type AdjacencyValue, type SerializedSnapshot, getAdjacencyMap } from 'xstate/graph';
import type { Outcome, Step } from '../ops.ts';
import type { Profile } from '../profile.ts';
import type { RuleRef } from '../rules/check.ts';
import type { SystemState } from '../state.ts';
import type { Bound } from './bound.ts';
import { eventsFor } from './events.ts';
import type { StateGraph } from './explorer.ts';
import { outcomeKey, stepKey } from './keys.ts';
import { stateKey } from './stateKey.ts';
import { type SystemEvent, type SystemSnapshot, createSystemLogic, toEvent } from './systemActor.ts';
import { Interner } from './systemModel.ts';

export function exploreWithXState(profile: Profile, bound: Bound): StateGraph {
  const t0 = performance.now();
  const logic = createSystemLogic(profile, { explored: true });
  // What each expanded snapshot's events returned (the ActorLogic transition keeps only the next snapshot).
  const answers = new WeakMap<SystemSnapshot, Array<{ outcome: Outcome; rule: RuleRef }>>();
  const keys = new WeakMap<SystemSnapshot, string>();
  type Node = AdjacencyValue<SystemSnapshot, SystemEvent>;
  const keyOf = (snap: SystemSnapshot): SerializedSnapshot => {
    let k = keys.get(snap);
    if (k === undefined) keys.set(snap, (k = stateKey(snap.context)));
    return k as SerializedSnapshot;
  };
  let stepCalls = 0;
  const traversed = {
    ...logic,
    transition: (snap: SystemSnapshot, event: SystemEvent) => {
      stepCalls++;
      const r = logic.explain(snap, event);
      let list = answers.get(snap);
      if (!list) answers.set(snap, (list = []));
      list[event.index as number] = { outcome: r.outcome, rule: r.rule };
      return r.snapshot;
    },
  };
  const adj = getAdjacencyMap(traversed, {
    serializeState: keyOf,
    // One edge per position in the operation list, as the explorer has (a list may hold an operation twice).
    serializeEvent: (e: SystemEvent) => `#${e.index}`,
    events: (snap: SystemSnapshot) => eventsFor(profile, bound, snap.context).map((s, i) => toEvent(s, i)),
  });

  // Number the adjacency map's states in BFS order from the initial state, edges in event order.
  const init = keyOf(logic.getInitialSnapshot(undefined as never, undefined));
  const ids = new Map<string, number>([[init, 0]]);
  const order = [init];
  const states: SystemState[] = [(adj[init] as Node).state.context];
  const parentEdge: number[] = [-1];
  const depth: number[] = [0];
  const from: number[] = [];
  const to: number[] = [];
  const stepOf: number[] = [];
  const outcomeOf: number[] = [];
  const ruleOf: number[] = [];
  const stepIds = new Interner<Step>(stepKey);
  const outcomeIds = new Interner<Outcome>(outcomeKey);
  const ruleIds = new Interner<RuleRef>((r) => r.id);
  for (let i = 0; i < order.length; i++) {
    const node = adj[order[i] as SerializedSnapshot] as Node;
    const said = answers.get(node.state) ?? [];
    for (const t of Object.values(node.transitions)) {
      const k = keyOf(t.state);
      let target = ids.get(k);
      if (target === undefined) {
        target = order.length;
        ids.set(k, target);
        order.push(k);
        states.push((adj[k] as Node).state.context);
        parentEdge.push(from.length);
        depth.push((depth[i] as number) + 1);
      }
      const answer = said[t.event.index as number];
      if (!answer) throw new Error(`internal: xstate/graph took event ${t.event.index} of state ${i} without the actor answering it`);
      from.push(i);
      to.push(target);
      stepOf.push(stepIds.id(t.event.step));
      outcomeOf.push(outcomeIds.id(answer.outcome));
      ruleOf.push(ruleIds.id(answer.rule));
    }
  }
  return {
    profile,
    bound,
    states,
    edgeFrom: Int32Array.from(from),
    edgeTo: Int32Array.from(to),
    edgeStep: Int32Array.from(stepOf),
    edgeOutcome: Int32Array.from(outcomeOf),
    edgeRule: Int32Array.from(ruleOf),
    edgeCount: from.length,
    steps: stepIds.items,
    outcomes: outcomeIds.items,
    rules: ruleIds.items,
    parentEdge: Int32Array.from(parentEdge),
    depth: Int32Array.from(depth),
    violations: [],
    complete: true,
    millis: performance.now() - t0,
    symmetry: false,
    stepCalls,
  };
}
