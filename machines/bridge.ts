/**
 * Applies an event to a part's machine with XState's pure `transition`, memoised. The system keeps each part's
 * state as plain data (so the explorer can key on it); the machines stay the authority on what each event does.
 * A part's state space is small and finite, so the memo makes every machine step a map lookup after warm-up.
 */
import { type AnyStateMachine, type StateValue, transition } from 'xstate';

export interface PartState<C> {
  value: StateValue;
  context: C;
}

const MEMO_LIMIT = 500_000;

export class MachineBridge<C extends object, E extends { type: string }> {
  private readonly memo = new Map<string, PartState<C> | null>();

  constructor(readonly machine: AnyStateMachine) {}

  /** The next state, or null when no transition is enabled for the event (a guard refused it). */
  apply(state: PartState<C>, event: E): PartState<C> | null {
    const key = JSON.stringify([state.value, state.context, event]);
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    const snap = this.machine.resolveState({ value: state.value, context: state.context });
    let next: PartState<C> | null = null;
    if (snap.can(event)) {
      const [after] = transition(this.machine, snap, event);
      next = { value: after.value, context: after.context as C };
    }
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(key, next);
    return next;
  }
}
