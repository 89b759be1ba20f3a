/**
 * The system actor: VMs, guest_memfd instances with their pages, host processes' fds, mappings and pins,
 * composed synchronously. It is a custom XState ActorLogic whose transition applies one operation through the
 * spec's pure `step` — which drives the page, guestMemfd and vm machines with XState's pure `transition`.
 * Every part's state lives in this actor's own snapshot (no spawned children), so `xstate/graph`, which keys
 * states on JSON.stringify({value, context}) of the top snapshot, sees all of it.
 */
import type { ActorLogic, Snapshot } from 'xstate';
import type { OpName, Outcome, Step } from '../spec/ops.ts';
import type { Profile } from '../spec/profile.ts';
import type { RuleRef } from '../spec/rules/check.ts';
import { type SystemState, emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';

/** An operation as an XState event: `type` is the op name, `step` the full step. */
export interface SystemEvent {
  type: OpName;
  step: Step;
}

export type SystemSnapshot = Snapshot<undefined> & {
  status: 'active';
  output: undefined;
  error: undefined;
  value: 'running';
  context: SystemState;
};

export function toEvent(s: Step): SystemEvent {
  return { type: s.op, step: s };
}

export interface SystemLogic extends ActorLogic<SystemSnapshot, SystemEvent, SystemState | undefined> {
  readonly profile: Profile;
  /** The transition with its outcome and deciding rule (the ActorLogic transition keeps only the state). */
  explain(snapshot: SystemSnapshot, event: SystemEvent): { snapshot: SystemSnapshot; outcome: Outcome; rule: RuleRef };
}

function snapshotOf(context: SystemState): SystemSnapshot {
  return { status: 'active', output: undefined, error: undefined, value: 'running', context };
}

export function createSystemLogic(profile: Profile): SystemLogic {
  const explain = (snapshot: SystemSnapshot, event: SystemEvent) => {
    const r = step(profile, snapshot.context, event.step);
    return { snapshot: snapshotOf(r.state), outcome: r.outcome, rule: r.rule };
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
