/**
 * One partition of a level-synchronous, hash-partitioned breadth-first search (Stern & Dill's parallel Murφ,
 * TLC's distributed mode). Partition i of n owns the states whose fingerprint hashes to i: it remembers them
 * (FingerprintTable: parent link, event index, depth), checks the state invariants when one is first reached,
 * and expands the ones on its frontier. Expanding a state tries every event the explorer offers
 * (spec/explore/events.ts), steps it with spec/step.ts, compacts the result (spec/explore/compact.ts), keys and
 * fingerprints it, checks the transition invariants on the edge, and hands the successor to its owner.
 *
 * Determinism. Within a level, a new state may be reached from several parents; its owner keeps the path that
 * comes first in BFS order (shortest, then event by event in eventsFor's order), and of the violations of an
 * invariant it keeps the first in that order too: the counterexamples are those a sequential BFS finds, and do
 * not depend on the number of workers or on message timing. BFS levels make every kept path a shortest one.
 *
 * The same class runs in the main thread (one partition) or in each worker thread (src/check/worker.ts).
 */
import { compact } from '../../spec/explore/compact.ts';
import { eventsFor } from '../../spec/explore/events.ts';
import { stateKey } from '../../spec/explore/stateKey.ts';
import type { Bound } from '../../spec/explore/bound.ts';
import { type Invariant, violations } from '../../spec/invariants.ts';
import type { Outcome, Step } from '../../spec/ops.ts';
import type { Profile } from '../../spec/profile.ts';
import { type PageState, type SystemState, emptySystem, freshPage } from '../../spec/state.ts';
import { step } from '../../spec/step.ts';
import { flagDefsOf, hasEffect } from '../../spec/world.ts';
import { FingerprintSet, FingerprintTable, fingerprint } from './fingerprint.ts';
import { regionsOf, setMachineRecorder, transitionKey } from './machineCoverage.ts';

export interface Candidate {
  lo: number;
  hi: number;
  plo: number;
  phi: number;
  ev: number;
  /** The event indices from the initial state, one char each: shortest paths compare in BFS order. */
  path: string;
  state: SystemState;
}

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

export interface LevelStats {
  expanded: number;
  edges: number;
  selfLoops: number;
  deadlocks: number;
  orphanPins: number;
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
  return ATTR_ORDER.indexOf(aa) - ATTR_ORDER.indexOf(ba) || BACKING_ORDER.indexOf(ab) - BACKING_ORDER.indexOf(bb) || ar.length - br.length || a.localeCompare(b);
}

export function pageRegionValue(p: PageState, r: PageRegion): string {
  switch (r) {
    case 'attribute': return p.attribute;
    case 'backing': return p.backing;
    case 'hostMapping': return p.hostMappers.length ? 'mapped' : 'unmapped';
    case 'pins': return p.pins ? 'pinned' : 'unpinned';
    case 'trustedEntity': return p.trustedEntity;
    case 'directMap': return p.directMap;
    case 'stage2': return p.stage2;
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

/** Structural equality of plain JSON-like data, with an identity shortcut (shared sub-objects compare at once). */
export function deepSame(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepSame(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepSame((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * Whether a step left the (compacted) state `s` exactly as it was, so that the three quarters of edges that are
 * self-loops skip compaction, keying and fingerprinting. World clones states shallowly, so unchanged pages and
 * names keep their identity and the comparison is quick.
 */
export function unchanged(s: SystemState, t: SystemState): boolean {
  return deepSame(s, t);
}

export function ownerOf(lo: number, parts: number): number {
  return parts === 1 ? 0 : ((lo ^ (lo >>> 16)) >>> 0) % parts;
}

/**
 * Paths compare by length, then event by event: the order in which a sequential BFS that tries events in
 * eventsFor's order first reaches things. Keeping the least makes the counterexamples the ones
 * spec/explore/explorer.ts would find, whatever the number of workers.
 */
function lessPath(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b;
}

function betterViolation(a: ViolationCandidate, b: ViolationCandidate | undefined): boolean {
  return !b || lessPath(a.path, b.path);
}

function betterParent(a: { path: string }, b: { path: string }): boolean {
  return lessPath(a.path, b.path);
}

const key2 = (lo: number, hi: number) => `${lo},${hi}`;

export interface PartitionOptions {
  /** Record coverage (rules, ops, page values and transitions) for the dead-rule report. */
  coverage?: boolean;
}

export class Partition {
  readonly table = new FingerprintTable();
  private frontier: Array<{ lo: number; hi: number; path: string; state: SystemState }> = [];
  private cursor = 0;
  private next = new Map<string, Candidate>();
  private readonly outbox: Array<Map<string, Candidate>>;
  private readonly remoteKnown = new FingerprintSet();
  private readonly stateInvariants: Invariant[];
  private readonly transitionInvariants: Invariant[];
  /** Depth of the states on the frontier. */
  depth = 0;
  readonly violations = new Map<string, ViolationCandidate>();
  deadlock: DeadlockCandidate | undefined;
  deadlocks = 0;
  orphanPins = 0;
  edges = 0;
  selfLoops = 0;
  private readonly rules = new Map<string, number>();
  private readonly ops = new Map<string, [number, number]>();
  private readonly machineStates = new Set<string>();
  private readonly machineTransitions = new Set<string>();
  private readonly pageStates = new Map<string, Set<string>>();
  private readonly initSharedCache = new Map<number, boolean>();

  constructor(
    readonly profile: Profile,
    readonly bound: Bound,
    invariants: readonly Invariant[],
    readonly index: number,
    readonly parts: number,
    private readonly options: PartitionOptions = {},
  ) {
    this.stateInvariants = invariants.filter((i) => i.kind === 'state');
    this.transitionInvariants = invariants.filter((i) => i.kind === 'transition');
    this.outbox = Array.from({ length: parts }, () => new Map());
    if (options.coverage) {
      setMachineRecorder((machine, before, _event, after) => {
        const a = regionsOf(before);
        const b = regionsOf(after);
        for (const [r, v] of Object.entries(b)) {
          this.machineStates.add(`${machine} ${r}=${v}`);
          const u = a[r];
          if (u !== undefined && u !== v) this.machineTransitions.add(transitionKey({ machine, region: r, from: u, to: v }));
        }
      });
    }
  }

  /** Seed the search with the initial state (only its owner keeps it). */
  start(): void {
    const init = emptySystem();
    const [lo, hi] = fingerprint(stateKey(init));
    if (ownerOf(lo, this.parts) !== this.index) return;
    this.next.set(key2(lo, hi), { lo, hi, plo: 0, phi: 0, ev: 0xffff, path: '', state: init });
    this.depth = -1;
    this.commit();
  }

  get frontierSize(): number {
    return this.frontier.length;
  }

  get pendingSize(): number {
    return this.next.size;
  }

  get remaining(): number {
    return this.frontier.length - this.cursor;
  }

  /** Expand frontier states until done or `stop()` says so (checked between states). True when the level is done. */
  expand(stop: () => boolean): boolean {
    while (this.cursor < this.frontier.length) {
      if (stop()) return false;
      const item = this.frontier[this.cursor++] as { lo: number; hi: number; path: string; state: SystemState };
      this.expandOne(item.lo, item.hi, item.path, item.state);
    }
    return true;
  }

  private expandOne(plo: number, phi: number, ppath: string, s: SystemState): void {
    const evs = eventsFor(this.profile, this.bound, s);
    let moves = 0;
    const d = this.depth + 1;
    for (let i = 0; i < evs.length; i++) {
      const ev = evs[i] as Step;
      const r = step(this.profile, s, ev);
      const same = unchanged(s, r.state);
      const n = same ? s : compact(r.state);
      const [lo, hi] = same ? [plo, phi] : fingerprint(stateKey(n));
      this.edges++;
      const self = lo === plo && hi === phi;
      if (self) this.selfLoops++;
      else moves++;
      if (this.options.coverage) this.cover(ev, r.outcome, r.rule.id);
      if (this.transitionInvariants.length) {
        for (const v of violations(this.profile, this.transitionInvariants, s, ev, n)) {
          this.offerViolation({ ...v, kind: 'transition', depth: d, lo: plo, hi: phi, ev: i, path: ppath + String.fromCharCode(i) });
        }
      }
      if (self) continue;
      const owner = ownerOf(lo, this.parts);
      if (owner === this.index) {
        if (this.table.has(lo, hi)) continue;
        this.offerCandidate(this.next, { lo, hi, plo, phi, ev: i, path: ppath + String.fromCharCode(i), state: n });
      } else {
        if (this.remoteKnown.has(lo, hi)) continue;
        this.offerCandidate(this.outbox[owner] as Map<string, Candidate>, { lo, hi, plo, phi, ev: i, path: ppath + String.fromCharCode(i), state: n });
      }
    }
    if (moves === 0 && quiescent(s) && s.pins.some((p) => p.live)) this.orphanPins++;
    if (moves === 0 && !quiescent(s)) {
      this.deadlocks++;
      const c = { depth: this.depth, lo: plo, hi: phi, path: ppath };
      if (!this.deadlock || lessPath(c.path, this.deadlock.path)) this.deadlock = c;
    }
  }

  private offerCandidate(into: Map<string, Candidate>, c: Candidate): void {
    const k = key2(c.lo, c.hi);
    const old = into.get(k);
    if (!old || betterParent(c, old)) into.set(k, c);
  }

  offerViolation(v: ViolationCandidate): void {
    if (betterViolation(v, this.violations.get(v.invariant))) this.violations.set(v.invariant, v);
  }

  /** The candidates for partition `peer` found this level; they are remembered as known from now on. */
  takeOutbox(peer: number): Candidate[] {
    const box = this.outbox[peer] as Map<string, Candidate>;
    const out = [...box.values()];
    for (const c of out) this.remoteKnown.add(c.lo, c.hi);
    box.clear();
    return out;
  }

  receive(cands: readonly Candidate[]): void {
    for (const c of cands) {
      if (this.table.has(c.lo, c.hi)) continue;
      this.offerCandidate(this.next, c);
    }
  }

  /** End the level: the new states enter the table (state invariants checked) and form the next frontier. */
  commit(): number {
    const d = this.depth + 1;
    const fresh: Array<{ lo: number; hi: number; path: string; state: SystemState }> = [];
    // The frontier in BFS order (by path) keeps everything downstream deterministic.
    const cands = [...this.next.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    this.next = new Map();
    for (const c of cands) {
      if (!this.table.add(c.lo, c.hi, c.plo, c.phi, c.ev, d)) continue;
      fresh.push({ lo: c.lo, hi: c.hi, path: c.path, state: c.state });
      if (this.stateInvariants.length) {
        for (const v of violations(this.profile, this.stateInvariants, undefined, undefined, c.state)) {
          this.offerViolation({ ...v, kind: 'state', depth: d, lo: c.lo, hi: c.hi, ev: -1, path: c.path });
        }
      }
      if (this.options.coverage) this.coverState(c.state);
    }
    this.frontier = fresh;
    this.cursor = 0;
    this.depth = d;
    return fresh.length;
  }

  parentOf(lo: number, hi: number): { plo: number; phi: number; ev: number; depth: number } | undefined {
    return this.table.parent(lo, hi);
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
    return { states: this.table.size, edges: this.edges, selfLoops: this.selfLoops, deadlocks: this.deadlocks, orphanPins: this.orphanPins, depth: this.depth };
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
