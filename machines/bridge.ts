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

/**
 * Told of every event a machine accepts, with the part's state before and after: how an exploration learns
 * which machine transitions it took (coverage, diagrams). Passed explicitly down to each step, and told of
 * memoised results as well as computed ones, so a second exploration hears what the first did.
 */
export type MachineObserver = (
  machine: AnyStateMachine,
  before: PartState<object>,
  event: { type: string },
  after: PartState<object>,
) => void;

const MEMO_LIMIT = 500_000;

export class MachineBridge<C extends object, E extends { type: string }> {
  private readonly memo = new Map<string, PartState<C> | null>();

  constructor(readonly machine: AnyStateMachine) {}

  /** The next state, or null when no transition is enabled for the event (a guard refused it). */
  apply(state: PartState<C>, event: E, observer?: MachineObserver): PartState<C> | null {
    const key = JSON.stringify([state.value, state.context, event]);
    let next = this.memo.get(key);
    if (next === undefined) {
      next = null;
      const snap = this.machine.resolveState({ value: state.value, context: state.context });
      if (snap.can(event)) {
        const [after] = transition(this.machine, snap, event);
        next = { value: after.value, context: after.context as C };
      }
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(key, next);
    }
    if (next && observer) observer(this.machine, state, event, next);
    return next;
  }
}
