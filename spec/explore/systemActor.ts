/**
 * The system actor: VMs, guest_memfd instances with their pages, host processes' fds, mappings and pins,
 * composed synchronously. It is a custom XState ActorLogic whose transition applies one operation through the
 * spec's pure `step` — which drives the page, guestMemfd and vm machines with XState's pure `transition`.
 * Every part's state lives in this actor's own snapshot (no spawned children), so `xstate/graph`, which keys
 * states on the top snapshot (by default JSON.stringify of its value and context), sees all of it.
 *
 * It lives here, not in machines/, because it composes step(): the machines know nothing of the spec.
 */
import type { ActorLogic, Snapshot } from 'xstate';
import type { OpName, Outcome, Step } from '../ops.ts';
import type { Profile } from '../profile.ts';
import type { RuleRef } from '../rules/check.ts';
import { type SystemState, emptySystem } from '../state.ts';
import { step } from '../step.ts';
import { compact } from './compact.ts';
import { sameState } from './keys.ts';

/** An operation as an XState event: `type` is the op name, `step` the full step. */
export interface SystemEvent {
  type: OpName;
  step: Step;
  /**
   * Its position among the operations a state offers (eventsFor), when a traversal generated it: the explorer
   * has one edge per position, and two positions may hold the same operation.
   */
  index?: number;
}

export type SystemSnapshot = Snapshot<undefined> & {
  status: 'active';
  output: undefined;
  error: undefined;
  value: 'running';
  context: SystemState;
};

export function toEvent(s: Step, index?: number): SystemEvent {
  return index === undefined ? { type: s.op, step: s } : { type: s.op, step: s, index };
}

export interface SystemLogic extends ActorLogic<SystemSnapshot, SystemEvent, SystemState | undefined> {
  readonly profile: Profile;
  /** The transition with its outcome and deciding rule (the ActorLogic transition keeps only the state). */
  explain(snapshot: SystemSnapshot, event: SystemEvent): { snapshot: SystemSnapshot; outcome: Outcome; rule: RuleRef };
}

export interface SystemLogicOptions {
  /**
   * Behave as the explorer's model (spec/explore/systemModel.ts): drop dead history after every operation
   * (compact.ts; without it every mmap/munmap cycle makes a new state and the graph never closes), and answer
   * an operation that changes nothing with the very snapshot it was given.
   */
  explored?: boolean;
}

function snapshotOf(context: SystemState): SystemSnapshot {
  return { status: 'active', output: undefined, error: undefined, value: 'running', context };
}

export function createSystemLogic(profile: Profile, options: SystemLogicOptions = {}): SystemLogic {
  const explain = (snapshot: SystemSnapshot, event: SystemEvent) => {
    const r = step(profile, snapshot.context, event.step);
    let next: SystemSnapshot;
    if (!options.explored) next = snapshotOf(r.state);
    else next = sameState(r.state, snapshot.context) ? snapshot : snapshotOf(compact(r.state));
    return { snapshot: next, outcome: r.outcome, rule: r.rule };
  };
  return {
    profile,
    explain,
    transition: (snapshot, event) => explain(snapshot, event).snapshot,
    getInitialSnapshot: (_scope, input) => snapshotOf(input ?? emptySystem()),
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot as unknown as SystemSnapshot,
  };
}
