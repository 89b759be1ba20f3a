/**
 * The system as the exploration engine sees it (engine.ts): states are SystemStates with dead history dropped
 * (compact.ts), events are the bounded operation set (events.ts), an event is one step() of the spec, and keys
 * are the compact canonical keys (stateKey.ts). The explorer and the checker both explore this model.
 *
 * With `symmetry` (spec/explore/symmetry.ts) states are canonical representatives of page-permutation orbits:
 * each move carries the permutation that took the step's result to its canonical state, and in a state where
 * two pages are interchangeable, a per-page operation on the second page is derived from the same operation on
 * the first (same target, outcome and rule; the permutation composed with the swap) instead of stepped again.
 */
import type { MachineObserver } from '../../machines/bridge.ts';
import type { Outcome, Step } from '../ops.ts';
import type { Profile } from '../profile.ts';
import type { RuleRef } from '../rules/check.ts';
import { type SystemState, emptySystem } from '../state.ts';
import { step } from '../step.ts';
import type { Bound } from './bound.ts';
import { compact } from './compact.ts';
import type { ExplorationModel, Move } from './engine.ts';
import { eventsFor } from './events.ts';
import { sameState, stepKey } from './keys.ts';
import { StateKeys } from './stateKey.ts';
import { IDENTITY, type Perm, canonicalise, composePerm, pageClasses, pageParam, permKey, swapPerm, symmetryApplies } from './symmetry.ts';

export interface SystemMove extends Move<SystemState> {
  outcome: Outcome;
  rule: RuleRef;
  /**
   * The step's result with dead history dropped, before canonicalisation: transition invariants compare in the
   * frame of the step. Undefined for a derived move (no step was taken).
   */
  raw: SystemState | undefined;
  /** Interned permutation (SystemModel.perms) that took the result to `next`; 0 is the identity. */
  perm: number;
  /** The step's key, when symmetry needed it (the explorer interns steps by it). */
  stepKey?: string;
  /** Derived by symmetry from an earlier move of the same state, without calling step(). */
  derived: boolean;
}

/** Values interned in order of first appearance: a value's id is its index in `items`. */
export class Interner<T> {
  readonly items: T[] = [];
  private readonly index = new Map<string, number>();
  constructor(private readonly keyOf: (t: T) => string) {}
  id(t: T, key?: string): number {
    const k = key ?? this.keyOf(t);
    let i = this.index.get(k);
    if (i === undefined) {
      i = this.items.length;
      this.items.push(t);
      this.index.set(k, i);
    }
    return i;
  }
}

export interface SystemModelOptions {
  /** Symmetry reduction over interchangeable pages (ignored where the profile does not allow it: symmetryApplies). */
  symmetry?: boolean;
}

export class SystemModel implements ExplorationModel<SystemState, Step, SystemMove> {
  readonly symmetry: boolean;
  /** Permutations of the moves, interned (perms.items[0] is the identity). */
  readonly perms = new Interner<Perm>(permKey);
  /** How many moves called step() (the others were derived by symmetry). */
  stepCalls = 0;
  private readonly keys = new StateKeys();
  /** The state being expanded (its page classes and the moves computed so far, by step key), with symmetry. */
  private classes: Map<number, number[]> | undefined;
  private computed: Map<string, { index: number; move: SystemMove }> | undefined;
  /** Derived moves' permutations: (move permutation, swapped pages) → interned composition. */
  private readonly derivedPerm = new Map<string, number>();

  constructor(
    readonly profile: Profile,
    readonly bound: Bound,
    options: SystemModelOptions = {},
  ) {
    this.symmetry = options.symmetry === true && symmetryApplies(profile);
    this.perms.id(IDENTITY);
  }

  initial(): SystemState {
    return emptySystem();
  }

  events(s: SystemState): Step[] {
    if (this.symmetry) {
      this.classes = pageClasses(this.profile, s);
      this.computed = this.classes.size ? new Map() : undefined;
    }
    return eventsFor(this.profile, this.bound, s);
  }

  transition(s: SystemState, ev: Step, index: number, machines: MachineObserver | undefined): SystemMove {
    const computed = this.computed;
    // The step's key is needed only to look up and record moves for symmetry's derived moves.
    const evKey = computed ? stepKey(ev) : undefined;
    if (computed) {
      // An operation on a page that is interchangeable with a lower one: the lower one's move, transposed.
      const pp = pageParam(s, ev);
      const rep = pp ? this.classes?.get(pp.gmem)?.[pp.page] : undefined;
      if (pp && rep !== undefined && rep !== pp.page) {
        const hit = computed.get(stepKey(pp.with(rep)));
        if (hit) {
          const size = s.gmems[pp.gmem]?.sizePages ?? 0;
          const dk = `${hit.move.perm}|${pp.gmem}|${size}|${pp.page}|${rep}`;
          let perm = this.derivedPerm.get(dk);
          if (perm === undefined) {
            perm = this.perms.id(composePerm(swapPerm(pp.gmem, size, pp.page, rep), this.perms.items[hit.move.perm] as Perm));
            this.derivedPerm.set(dk, perm);
          }
          const { outcome, rule, next } = hit.move;
          return {
            next,
            sameTargetAs: hit.index,
            outcome,
            rule,
            raw: undefined,
            perm,
            ...(evKey !== undefined ? { stepKey: evKey } : {}),
            derived: true,
          };
        }
      }
    }
    this.stepCalls++;
    const r = step(this.profile, s, ev, machines);
    let move: SystemMove;
    if (sameState(r.state, s)) move = { next: s, outcome: r.outcome, rule: r.rule, raw: s, perm: 0, derived: false };
    else {
      const raw = compact(r.state);
      let next = raw;
      let perm = 0;
      if (this.symmetry) {
        const c = canonicalise(this.profile, raw);
        next = c.state;
        if (c.perm.size) perm = this.perms.id(c.perm);
      }
      move = { next, outcome: r.outcome, rule: r.rule, raw, perm, derived: false };
    }
    if (evKey !== undefined) move.stepKey = evKey;
    computed?.set(evKey as string, { index, move });
    return move;
  }

  key(s: SystemState): string {
    return this.keys.key(s);
  }

  kept(): void {
    this.keys.remember();
  }
}
