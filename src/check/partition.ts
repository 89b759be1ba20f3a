/**
 * One partition of a level-synchronous, hash-partitioned breadth-first search (Stern & Dill's parallel Murφ,
 * TLC's distributed mode): the exploration engine (spec/explore/engine.ts) over the system model
 * (spec/explore/systemModel.ts), with a fingerprint store. Partition i of n owns the states whose fingerprint
 * hashes to i: it remembers them (FingerprintTable: parent link, event index, depth) and expands the ones on
 * its frontier; the engine hands each successor to its owner. This file adds what the checker records: the
 * invariants (state invariants when a state is first kept, transition invariants on every edge), deadlocks,
 * and coverage for the dead-rule report (rules, operations, page states, and the machine transitions the steps
 * report to the observer).
 *
 * Determinism. Within a level, a new state may be reached from several parents; its owner keeps the path that
 * comes first in BFS order (shortest, then event by event in eventsFor's order), and of the violations of an
 * invariant it keeps the first in that order too: the counterexamples are those a sequential BFS finds, and do
 * not depend on the number of workers or on message timing. BFS levels make every kept path a shortest one.
 *
 * The same class runs in the main thread (one partition) or in each worker thread (src/check/worker.ts).
 */
import type { MachineObserver } from '../../machines/bridge.ts';
import type { Bound } from '../../spec/explore/bound.ts';
import {
  type Candidate as EngineCandidate,
  type ExplorationHooks,
  type ExplorationModel,
  type Move,
  Search,
  type StateStore,
  lessPath,
} from '../../spec/explore/engine.ts';
import { symmetryApplies } from '../../spec/explore/symmetry.ts';
import type { Invariant } from '../../spec/invariants.ts';
import type { Outcome, Step } from '../../spec/ops.ts';
import type { Profile } from '../../spec/profile.ts';
import { type PageState, type SystemState, freshPage } from '../../spec/state.ts';
import { flagDefsOf, hasEffect } from '../../spec/world.ts';
import { getHeapStatistics } from 'node:v8';
import { FingerprintSet, FingerprintTable } from './fingerprint.ts';
import type { LevelReport } from './protocol.ts';
import { EdgeDigest } from './edgeDigest.ts';
import { type Packed, fingerprintOf } from './packed/packed.ts';
import { type StepLeaf, SuccessorCache } from './packed/successors.ts';
import { regionsOf, transitionKey } from './machineCoverage.ts';

/** A violation found at `depth`: of a state invariant in state (lo, hi), or of a transition invariant on the
 * edge that takes event `ev` from state (lo, hi). */
export interface ViolationCandidate {
  invariant: string;
  says: string;
  detail: string;
  kind: 'state' | 'transition';
  depth: number;
  lo: number;
  hi: number;
  ev: number;
  /** Event indices of the whole counterexample (see Candidate.path). */
  path: string;
}

export interface DeadlockCandidate {
  depth: number;
  lo: number;
  hi: number;
  path: string;
}

/** What the exploration touched, for the dead-rule report. Plain data, mergeable across partitions. */
export interface Coverage {
  /** Deciding rule id → edges it decided. */
  rules: Record<string, number>;
  /** Operation → [edges tried, edges that succeeded]. */
  ops: Record<string, [number, number]>;
  /** `machine region=state` of every machine state reached (resting in a state, or passed through by a step). */
  machineStates: string[];
  /** `machine region: from → to` taken by some step (src/check/machineCoverage.ts). */
  machineTransitions: string[];
  /** `vmType flags` → page states (projectionLabel) of the pages of guest_memfds created so. */
  pageStates: Record<string, string[]>;
}

export const PAGE_REGIONS = ['attribute', 'backing', 'hostMapping', 'pins', 'trustedEntity', 'directMap', 'stage2'] as const;
export type PageRegion = (typeof PAGE_REGIONS)[number];

/** A page's state in words: `shared · initialised · host-mapped · pinned`; the defaults after the first two are left out. */
export function pageLabel(p: PageState): string {
  const parts: string[] = [p.attribute, p.backing];
  if (p.hostMappers.length) parts.push('host-mapped');
  if (p.pins) parts.push('pinned');
  if (p.trustedEntity !== 'unprepared') parts.push(`TE ${p.trustedEntity}`);
  if (p.stage2 !== 'none') parts.push(`stage-2 ${p.stage2}`);
  if (p.directMap === 'removed') parts.push('no direct map');
  return parts.join(' · ');
}

const ATTR_ORDER = ['shared', 'toPrivate', 'private', 'toShared'];
const BACKING_ORDER = ['hole', 'allocated', 'initialised'];

/** Order page labels by attribute, then backing, then the rest. */
export function comparePageLabels(a: string, b: string): number {
  const [aa = '', ab = '', ...ar] = a.split(' · ');
  const [ba = '', bb = '', ...br] = b.split(' · ');
  return (
    ATTR_ORDER.indexOf(aa) - ATTR_ORDER.indexOf(ba) ||
    BACKING_ORDER.indexOf(ab) - BACKING_ORDER.indexOf(bb) ||
    ar.length - br.length ||
    a.localeCompare(b)
  );
}

export function pageRegionValue(p: PageState, r: PageRegion): string {
  switch (r) {
    case 'attribute':
      return p.attribute;
    case 'backing':
      return p.backing;
    case 'hostMapping':
      return p.hostMappers.length ? 'mapped' : 'unmapped';
    case 'pins':
      return p.pins ? 'pinned' : 'unpinned';
    case 'trustedEntity':
      return p.trustedEntity;
    case 'directMap':
      return p.directMap;
    case 'stage2':
      return p.stage2;
  }
}

function outcomeOk(o: Outcome): boolean {
  return ('ok' in o && o.ok === true) || ('access' in o && o.access === 'ok');
}

/**
 * Whether a state is quiescent: no fd open, no mapping live. Such a state may have no events left within the
 * bound (every object was created and released): that is the end of a run, not a deadlock. Pins may remain:
 * a pin whose mapping is gone cannot be dropped by the vocabulary (unpin names a mapping), although its holder
 * could drop it in the kernel — those states are counted apart (`orphanPins`), as a modelling gap.
 */
export function quiescent(s: SystemState): boolean {
  return !s.fds.some((f) => f.open) && !s.maps.some((m) => m.live);
}

export function ownerOf(lo: number, parts: number): number {
  return parts === 1 ? 0 : ((lo ^ (lo >>> 16)) >>> 0) % parts;
}

function betterViolation(a: ViolationCandidate, b: ViolationCandidate | undefined): boolean {
  return !b || lessPath(a.path, b.path);
}

/** A state's 64-bit fingerprint: what the checker keeps of it, and how it names it. */
export interface Fp {
  lo: number;
  hi: number;
}

export type Candidate = EngineCandidate<Packed, Fp, Fp>;

/**
 * The checker's store for the exploration engine: fingerprints with parent links (FingerprintTable), owned
 * by the partition their fingerprint hashes to, and the set of fingerprints already sent to their owner.
 */
class FingerprintStore implements StateStore<Fp, Fp, Fp> {
  readonly table = new FingerprintTable();
  private readonly sent = new FingerprintSet();
  get size(): number {
    return this.table.size;
  }
  identify(fp: Fp): Fp {
    return fp;
  }
  find(id: Fp): Fp | undefined {
    return this.table.has(id.lo, id.hi) ? id : undefined;
  }
  add(id: Fp, parent: Fp | undefined, event: number, depth: number): Fp {
    this.table.add(id.lo, id.hi, parent?.lo ?? 0, parent?.hi ?? 0, event < 0 ? 0xffff : event, depth);
    return id;
  }
  same(a: Fp, b: Fp): boolean {
    return a.lo === b.lo && a.hi === b.hi;
  }
  owner(id: Fp, parts: number): number {
    return ownerOf(id.lo, parts);
  }
  text(id: Fp): string {
    return `${id.lo},${id.hi}`;
  }
  sentBefore(id: Fp): boolean {
    return this.sent.has(id.lo, id.hi);
  }
  markSent(id: Fp): void {
    this.sent.add(id.lo, id.hi);
  }
}

/** A move of the packed model: the cache leaf that says what the event does. */
export interface PackedMove extends Move<Packed> {
  leaf: StepLeaf;
}

/**
 * The system model over packed states (src/check/packed/): the states, events and moves of spec/explore's
 * SystemModel, computed through the successor cache, and keyed by the packed state's fingerprint.
 */
export class PackedModel implements ExplorationModel<Packed, number, PackedMove, Fp> {
  private readonly fp = new Int32Array(2);
  constructor(readonly cache: SuccessorCache) {}
  initial(): Packed {
    return this.cache.initial();
  }
  events(s: Packed): Int32Array {
    return this.cache.events(s);
  }
  transition(s: Packed, e: number, _index: number, machines: MachineObserver | undefined): PackedMove {
    const leaf = this.cache.move(s, e, machines);
    const next = leaf.next ?? (leaf.template ? this.cache.successor(s, leaf) : undefined);
    return { next: next ? this.cache.canonical(next) : s, leaf };
  }
  key(s: Packed): Fp {
    fingerprintOf(s, this.cache.table, this.fp);
    return { lo: this.fp[0] as number, hi: this.fp[1] as number };
  }
}

export interface PartitionOptions {
  /** Record coverage (rules, ops, page values and transitions) for the dead-rule report. */
  coverage?: boolean;
  /** Canonical states (spec/explore/symmetry.ts), where the profile allows it. */
  symmetry?: boolean;
  /** One partition: sum every edge into an EdgeDigest (edgeDigest.ts), to compare the graph with the explorer's. */
  edgeDigest?: boolean;
}

/**
 * One partition of the checker's search: the exploration engine (spec/explore/engine.ts) over the system model
 * with a fingerprint store, and the checker's hooks — invariants on every state and edge (the first violation
 * of each in BFS order kept), deadlocks and orphan pins at the end of each expansion, and coverage.
 */
export class Partition {
  private readonly store = new FingerprintStore();
  readonly cache: SuccessorCache;
  private readonly model: PackedModel;
  private readonly search: Search<Packed, number, PackedMove, Fp, Fp, Fp>;
  private readonly stateInvariants: Invariant[];
  private readonly transitionInvariants: Invariant[];
  readonly violations = new Map<string, ViolationCandidate>();
  deadlock: DeadlockCandidate | undefined;
  deadlocks = 0;
  orphanPins = 0;
  private readonly rules = new Map<string, number>();
  private readonly ops = new Map<string, [number, number]>();
  private readonly machineStates = new Set<string>();
  private readonly machineTransitions = new Set<string>();
  private readonly pageStates = new Map<string, Set<string>>();
  private readonly initSharedCache = new Map<number, boolean>();
  readonly digest: EdgeDigest | undefined;

  constructor(
    readonly profile: Profile,
    readonly bound: Bound,
    invariants: readonly Invariant[],
    readonly index: number,
    readonly parts: number,
    readonly options: PartitionOptions = {},
  ) {
    this.stateInvariants = invariants.filter((i) => i.kind === 'state');
    this.transitionInvariants = invariants.filter((i) => i.kind === 'transition');
    const coverage = options.coverage === true;
    if (options.edgeDigest && parts > 1) throw new Error('internal: an edge digest needs one partition (every edge target known)');
    this.digest = options.edgeDigest ? new EdgeDigest() : undefined;
    this.cache = new SuccessorCache(profile, bound, this.stateInvariants, this.transitionInvariants, {
      symmetry: options.symmetry === true && symmetryApplies(profile),
    });
    this.model = new PackedModel(this.cache);
    const steps = this.cache.steps.items;
    const hooks: ExplorationHooks<Packed, number, PackedMove, Fp> = {
      state: (k) => {
        for (const v of this.cache.broken(k.node)) {
          this.offerViolation({ ...v, kind: 'state', depth: k.depth, lo: k.handle.lo, hi: k.handle.hi, ev: -1, path: k.path });
        }
        if (coverage) this.coverState(this.cache.unpack(k.node));
      },
      edge: (from, ev, i, m, _fate, to) => {
        const { outcome, rule, broken } = m.leaf;
        if (coverage) this.cover(steps[ev] as Step, outcome, rule.id);
        if (this.digest && to !== undefined)
          this.digest.add([from.handle.lo, from.handle.hi], steps[ev] as Step, outcome, rule.id, [to.lo, to.hi]);
        for (const v of broken) {
          const path = from.path + String.fromCharCode(i);
          this.offerViolation({ ...v, kind: 'transition', depth: from.depth + 1, lo: from.handle.lo, hi: from.handle.hi, ev: i, path });
        }
      },
      expanded: (k, moves) => {
        if (moves !== 0) return;
        const node = this.cache.unpack(k.node);
        if (quiescent(node) && node.pins.some((p) => p.live)) this.orphanPins++;
        if (!quiescent(node)) {
          this.deadlocks++;
          const c = { depth: k.depth, lo: k.handle.lo, hi: k.handle.hi, path: k.path };
          if (!this.deadlock || lessPath(c.path, this.deadlock.path)) this.deadlock = c;
        }
      },
      ...(coverage ? { machines: this.observeMachine } : {}),
    };
    this.search = new Search(this.model, this.store, hooks, {
      paths: true,
      partition: { index, parts },
    });
  }

  /** Every accepted machine event: the states of its regions after, and each region it changed. */
  private readonly observeMachine: MachineObserver = (machine, before, _event, after) => {
    const a = regionsOf(before.value);
    for (const [r, v] of Object.entries(regionsOf(after.value))) {
      this.machineStates.add(`${machine.id} ${r}=${v}`);
      const u = a[r];
      if (u !== undefined && u !== v) this.machineTransitions.add(transitionKey({ machine: machine.id, region: r, from: u, to: v }));
    }
  };

  get table(): FingerprintTable {
    return this.store.table;
  }

  get edges(): number {
    return this.search.edges;
  }

  /** Depth of the states on the frontier. */
  get depth(): number {
    return this.search.depth;
  }

  /** Seed the search with the initial state (only its owner keeps it). */
  start(): void {
    this.search.start();
  }

  get frontierSize(): number {
    return this.search.frontierSize;
  }

  get pendingSize(): number {
    return this.search.pendingSize;
  }

  get remaining(): number {
    return this.search.remaining;
  }

  /** Expand frontier states until done or `stop()` says so (checked between states). True when the level is done. */
  expand(stop: () => boolean): boolean {
    return this.search.expand(stop);
  }

  offerViolation(v: ViolationCandidate): void {
    if (betterViolation(v, this.violations.get(v.invariant))) this.violations.set(v.invariant, v);
  }

  /** The candidates for partition `peer` found this level; they are remembered as sent from now on. */
  takeOutbox(peer: number): Candidate[] {
    return this.search.takeOutbox(peer);
  }

  receive(cands: readonly Candidate[]): void {
    this.search.receive(cands);
  }

  /** End the level: the new states enter the table (state invariants checked) and form the next frontier. */
  commit(): number {
    return this.search.commit();
  }

  parentOf(lo: number, hi: number): { plo: number; phi: number; ev: number; depth: number } | undefined {
    return this.store.table.parent(lo, hi);
  }

  private initShared(flags: number): boolean {
    let v = this.initSharedCache.get(flags);
    if (v === undefined) {
      v = hasEffect(flagDefsOf(this.profile, flags), (e) => e.initShared);
      this.initSharedCache.set(flags, v);
    }
    return v;
  }

  private coverState(s: SystemState): void {
    for (const g of s.gmems) {
      if (g.lifecycle === 'released') continue;
      const fresh = freshPage(this.initShared(g.flags));
      const by = `${s.vms[g.vm]?.type ?? '?'} ${g.flags}`;
      let set = this.pageStates.get(by);
      if (!set) this.pageStates.set(by, (set = new Set()));
      for (let i = 0; i < g.sizePages; i++) {
        const p = g.pages[String(i)] ?? fresh;
        for (const r of PAGE_REGIONS) this.machineStates.add(`page ${r}=${pageRegionValue(p, r)}`);
        set.add(pageLabel(p));
      }
    }
  }

  private cover(ev: Step, outcome: Outcome, rule: string): void {
    this.rules.set(rule, (this.rules.get(rule) ?? 0) + 1);
    const o = this.ops.get(ev.op) ?? [0, 0];
    o[0]++;
    if (outcomeOk(outcome)) o[1]++;
    this.ops.set(ev.op, o);
  }

  coverage(): Coverage {
    return {
      rules: Object.fromEntries(this.rules),
      ops: Object.fromEntries(this.ops),
      machineStates: [...this.machineStates],
      machineTransitions: [...this.machineTransitions],
      pageStates: Object.fromEntries([...this.pageStates].map(([k, v]) => [k, [...v]])),
    };
  }

  stats(): { states: number; edges: number; selfLoops: number; deadlocks: number; orphanPins: number; depth: number } {
    return {
      states: this.store.size,
      edges: this.search.edges,
      selfLoops: this.search.selfLoops,
      deadlocks: this.deadlocks,
      orphanPins: this.orphanPins,
      depth: this.search.depth,
    };
  }
}

export function mergeCoverage(cs: readonly Coverage[]): Coverage {
  const rules: Record<string, number> = {};
  const ops: Record<string, [number, number]> = {};
  const pv = new Set<string>();
  const pt = new Set<string>();
  const ps = new Map<string, Set<string>>();
  for (const c of cs) {
    for (const [k, v] of Object.entries(c.rules)) rules[k] = (rules[k] ?? 0) + v;
    for (const [k, [t, ok]] of Object.entries(c.ops)) {
      const o = ops[k] ?? [0, 0];
      ops[k] = [o[0] + t, o[1] + ok];
    }
    for (const v of c.machineStates) pv.add(v);
    for (const v of c.machineTransitions) pt.add(v);
    for (const [k, l] of Object.entries(c.pageStates)) {
      const set = ps.get(k) ?? new Set<string>();
      for (const x of l) set.add(x);
      ps.set(k, set);
    }
  }
  return {
    rules,
    ops,
    machineStates: [...pv].sort(),
    machineTransitions: [...pt].sort(),
    pageStates: Object.fromEntries([...ps].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort(comparePageLabels)])),
  };
}

export function pickViolations(lists: ReadonlyArray<Iterable<ViolationCandidate>>): Map<string, ViolationCandidate> {
  const out = new Map<string, ViolationCandidate>();
  for (const l of lists) for (const v of l) if (betterViolation(v, out.get(v.invariant))) out.set(v.invariant, v);
  return out;
}

export function pickDeadlock(ds: ReadonlyArray<DeadlockCandidate | undefined>): DeadlockCandidate | undefined {
  let best: DeadlockCandidate | undefined;
  for (const d of ds) {
    if (!d) continue;
    if (!best || lessPath(d.path, best.path)) best = d;
  }
  return best;
}

/** What a partition tells the driver at the end of a level (in this thread or from a worker). */
export function levelReport(part: Partition, stopped: boolean): LevelReport {
  const s = part.stats();
  const c = part.cache;
  return {
    index: part.index,
    depth: s.depth,
    newStates: part.frontierSize,
    states: s.states,
    edges: s.edges,
    selfLoops: s.selfLoops,
    deadlocks: s.deadlocks,
    orphanPins: s.orphanPins,
    ...(part.deadlock ? { deadlock: part.deadlock } : {}),
    violations: [...part.violations.values()],
    stopped,
    heapUsed: getHeapStatistics().used_heap_size,
    frontier: part.frontierSize,
    cache: { hits: c.hits, misses: c.misses, direct: c.directMoves },
  };
}
