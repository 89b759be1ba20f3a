/**
 * The successor cache: step() and the other pure functions of a state that the checker needs (the events a
 * state offers, the invariants it breaks), memoised on what each call actually read of the state.
 *
 * A call runs once on a tracked view of the packed state (tracking.ts), which records the parts it reads in
 * order. Its result is filed in a decision tree per query (one per event, one for the event list, one for the
 * state invariants): each inner node names the next part the function read, and branches on that part's
 * value; a leaf holds the result, with the successor as a template over the input. Since the function is
 * deterministic, any state that agrees with a path's values makes the function read exactly those parts and
 * return that leaf: so a lookup walks the tree reading a few integers of the packed state, and step() runs
 * only for a combination of parts no earlier state had. step() stays the single semantics; this file only
 * remembers what it said.
 */
import type { MachineObserver, PartState } from '../../../machines/bridge.ts';
import type { AnyStateMachine } from 'xstate';
import type { Bound } from '../../../spec/explore/bound.ts';
import { compact } from '../../../spec/explore/compact.ts';
import { eventsFor } from '../../../spec/explore/events.ts';
import { sameState, stepKey } from '../../../spec/explore/keys.ts';
import { canonicalise } from '../../../spec/explore/symmetry.ts';
import { Interner } from '../../../spec/explore/systemModel.ts';
import { type Invariant, type Violation, violations } from '../../../spec/invariants.ts';
import type { Outcome, Step } from '../../../spec/ops.ts';
import type { Profile } from '../../../spec/profile.ts';
import type { RuleRef } from '../../../spec/rules/check.ts';
import { type SystemState, emptySystem } from '../../../spec/state.ts';
import { type StepResult, step } from '../../../spec/step.ts';
import { type Offsets, type Packed, fingerprintOf, newOffsets, offsetsOf, pack, packFrom, unpack, unpackIndexed } from './packed.ts';
import { PartTable } from './parts.ts';
import { Forest } from './forest.ts';
import { Tracker, applyTemplate } from './tracking.ts';

/** Lookups per window: an event that misses in more than half of a window's lookups is stepped directly. */
const WINDOW = 2048;
/** Decision-tree nodes kept at most (about 40 bytes each): bounds the cache's memory on a long run. */
const NODE_LIMIT = 1 << 21;
/** Canonical forms remembered (then forgotten all at once): bounds the memory of a long symmetric run. */
const CANON_LIMIT = 1 << 20;

/** One machine transition a step took, kept to be told again to an observer on every cache hit. */
type Observed = [AnyStateMachine, PartState<object>, { type: string }, PartState<object>];

/** What one event does to states that agree on what it read. */
export interface StepLeaf {
  /** The template of the successor (tracking.ts); undefined when the step changes nothing or `next` is given. */
  template: Int32Array | undefined;
  /** The successor itself, for a move computed directly (not cached). */
  next?: Packed;
  outcome: Outcome;
  rule: RuleRef;
  /** Transition invariants this edge breaks. */
  broken: readonly Violation[];
  /** Machine transitions the step took (only when an observer asked for them). */
  observed: readonly Observed[] | undefined;
}

export interface CacheStats {
  /** step() calls made (cache misses), and hits. */
  misses: number;
  hits: number;
  /** Decision-tree nodes, over every query. */
  parts: number;
}

/**
 * The checker's model of the system over packed states: the same states, events, moves and keys as
 * spec/explore/systemModel.ts (without symmetry), computed through the successor cache.
 */
export class SuccessorCache {
  readonly table = new PartTable();
  readonly steps: Interner<Step> = new Interner<Step>(stepKey);
  /** The decision trees (forest.ts): one for the event list, one per event's step. */
  private eventTrees = new Forest<Int32Array>();
  private stepTrees = new Forest<StepLeaf>();
  private eventsRoot = this.eventTrees.root();
  private stepRoots: number[] = [];
  /** Times the trees were dropped. */
  resets = 0;
  /** Per event: lookups, misses, and whether it is now stepped directly (its results rarely repeat). */
  private stepTries = new Int32Array(256);
  private stepMisses = new Int32Array(256);
  private direct = new Uint8Array(256);
  /** Moves computed directly, without the cache. */
  directMoves = 0;
  /** The offsets of the state being expanded (events() computes them, transition() uses them). */
  private readonly o = newOffsets();
  private current: Packed | undefined;
  private readonly scratch = new Int32Array(4096);
  private readonly fp = new Int32Array(2);
  private readonly canon = new Map<number, Array<number | Packed>>();
  misses = 0;
  hits = 0;
  /** Told of every miss: the query (an event's step, or undefined for the event list) and the reads it made. */
  onMiss: ((query: Step | undefined, reads: readonly number[]) => void) | undefined;

  constructor(
    readonly profile: Profile,
    readonly bound: Bound,
    private readonly stateInvariants: readonly Invariant[],
    private readonly transitionInvariants: readonly Invariant[],
    private readonly options: { symmetry?: boolean } = {},
  ) {}

  /** The state a packed state stands for (plain, shared parts). */
  unpack(v: Packed): SystemState {
    return unpack(v, this.table);
  }

  initial(): Packed {
    return pack(emptySystem(), this.table);
  }

  private focus(v: Packed): Offsets {
    if (this.current !== v) {
      offsetsOf(v, this.o);
      this.current = v;
    }
    return this.o;
  }

  /** The events of a state, as interned step ids (steps.items), in eventsFor's order. */
  events(v: Packed): Int32Array {
    const o = this.focus(v);
    const hit = this.eventTrees.lookup(this.eventsRoot, v, o, this.table);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const tr = new Tracker(v, o, this.table);
    const ids = Int32Array.from(eventsFor(this.profile, this.bound, tr.state), (e) => this.steps.id(e));
    this.onMiss?.(undefined, tr.reads);
    this.eventTrees.insert(this.eventsRoot, tr.reads, ids);
    this.limitNodes();
    return ids;
  }

  /**
   * The state invariants a state breaks, checked on the plain state: they look at every page, so a state's
   * answer is rarely another's (a cache would miss), and each state is checked once.
   */
  broken(v: Packed): readonly Violation[] {
    if (!this.stateInvariants.length) return [];
    return violations(this.profile, this.stateInvariants, undefined, undefined, unpack(v, this.table));
  }

  /** What event `ev` (a step id) does in state v; `observer` hears the machine transitions it takes. */
  move(v: Packed, ev: number, observer: MachineObserver | undefined): StepLeaf {
    const o = this.focus(v);
    let root = this.stepRoots[ev];
    if (root === undefined) {
      root = this.stepTrees.root();
      this.stepRoots[ev] = root;
    }
    if (ev >= this.direct.length) this.growEventStats(ev);
    if (this.direct[ev]) return this.directMove(v, ev, observer);
    const tries = (this.stepTries[ev] as number) + 1;
    this.stepTries[ev] = tries;
    if (tries % WINDOW === 0) {
      // Judged per window of lookups, so that the warm-up (where everything misses) does not count.
      if ((this.stepMisses[ev] as number) * 2 > WINDOW) this.direct[ev] = 1;
      this.stepMisses[ev] = 0;
    }
    let leaf = this.stepTrees.lookup(root, v, o, this.table);
    if (leaf !== undefined && (observer === undefined || leaf.observed !== undefined)) {
      this.hits++;
      if (observer && leaf.observed) for (const x of leaf.observed) observer(...x);
      return leaf;
    }
    this.misses++;
    // An event whose results rarely repeat (it reads most of the state: munmap renumbers every mapping after
    // it) costs a tracked run and a new leaf per state: from now on it is stepped directly.
    this.stepMisses[ev] = (this.stepMisses[ev] as number) + 1;
    const tr = new Tracker(v, o, this.table);
    const observed: Observed[] | undefined = observer ? [] : undefined;
    const record: MachineObserver | undefined = observer
      ? (m, b, e, a) => {
          observed?.push([m, b, e, a]);
          observer(m, b, e, a);
        }
      : undefined;
    const e = this.steps.items[ev] as Step;
    const { r, raw, broken } = this.stepOn(tr.state, e, record);
    // The step's own frame: with symmetry, canonical() moves the successor to its orbit's representative.
    const template = raw ? Int32Array.from(tr.template(raw)) : undefined;
    leaf = { template, outcome: r.outcome, rule: r.rule, broken, observed };
    this.onMiss?.(e, tr.reads);
    // A leaf computed without an observer is replaced by one that knows its machine transitions.
    this.stepTrees.insert(root, tr.reads, leaf);
    this.limitNodes();
    return leaf;
  }

  /** Past NODE_LIMIT nodes the trees are dropped and grow again (a cache, bounded). */
  private limitNodes(): void {
    if (this.eventTrees.size + this.stepTrees.size <= NODE_LIMIT) return;
    this.eventTrees = new Forest();
    this.stepTrees = new Forest();
    this.eventsRoot = this.eventTrees.root();
    this.stepRoots = [];
    this.resets++;
  }

  private growEventStats(ev: number): void {
    const n = Math.max(ev + 1, this.direct.length * 2);
    const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.stepTries = grow(this.stepTries, (k) => new Int32Array(k));
    this.stepMisses = grow(this.stepMisses, (k) => new Int32Array(k));
    this.direct = grow(this.direct, (k) => new Uint8Array(k));
  }

  /**
   * One step as the explorer takes it (SystemModel.transition): step(), then, unless the state is unchanged, the
   * result compacted (`raw`); and the transition invariants it breaks, judged in the step's own frame.
   */
  private stepOn(
    s: SystemState,
    e: Step,
    observer: MachineObserver | undefined,
  ): { r: StepResult; raw: SystemState | undefined; broken: Violation[] } {
    const r = step(this.profile, s, e, observer);
    const raw = sameState(r.state, s) ? undefined : compact(r.state, s);
    const broken = this.transitionInvariants.length ? violations(this.profile, this.transitionInvariants, s, e, raw ?? s) : [];
    return { r, raw, broken };
  }

  /** step() on the plain state, its result packed: what the cache would say, without filing it. */
  private directMove(v: Packed, ev: number, observer: MachineObserver | undefined): StepLeaf {
    this.directMoves++;
    const { state: s, gmemAt } = unpackIndexed(v, this.table);
    const { r, raw, broken } = this.stepOn(s, this.steps.items[ev] as Step, observer);
    const next = raw ? packFrom(raw, this.table, v, gmemAt) : undefined;
    return { template: undefined, ...(next ? { next } : {}), outcome: r.outcome, rule: r.rule, broken, observed: undefined };
  }

  /**
   * With symmetry: the canonical member of a successor's orbit (spec/explore/symmetry.ts canonicalise), remembered
   * by the successor's fingerprint (a state is reached again and again, from its orbit's other members too).
   */
  canonical(v: Packed): Packed {
    if (!this.options.symmetry) return v;
    fingerprintOf(v, this.table, this.fp);
    const lo = this.fp[0] as number;
    const hi = this.fp[1] as number;
    const bucket = this.canon.get(lo);
    if (bucket) for (let i = 0; i < bucket.length; i += 2) if (bucket[i] === hi) return bucket[i + 1] as Packed;
    if (this.canon.size >= CANON_LIMIT) this.canon.clear();
    const c = pack(canonicalise(this.profile, unpack(v, this.table)).state, this.table);
    if (bucket) bucket.push(hi, c);
    else this.canon.set(lo, [hi, c]);
    return c;
  }

  /** The successor a leaf's template makes from v (a new vector). */
  successor(v: Packed, leaf: StepLeaf): Packed {
    const n = applyTemplate(leaf.template as Int32Array, v, this.focus(v), this.scratch, this.table);
    return this.scratch.slice(0, n);
  }

  stats(): CacheStats {
    return { misses: this.misses, hits: this.hits, parts: this.eventTrees.size + this.stepTrees.size };
  }
}
