/**
 * The reachable-state view: a small breadth-first search over the spec's `step()` with a fixed, bounded set of
 * operations — one VM (of each type the profile has), one guest_memfd (with each flag combination), one page,
 * one mapping, one pin — recording which combinations of attribute / backing / host mapping / pins /
 * trusted-entity / stage-2 / direct-map state actually occur, which machine transitions were taken, which rule
 * decided each outcome, and which invariants break. It runs the exploration engine (spec/explore/engine.ts) with
 * its own model: a bound that is fixed and small, so it runs in well under a second per profile; the machine
 * transitions come from the observer every step reports to.
 *
 * Operations are generated from a trace-level context (what the trace has created so far), not from either
 * side's state, so that two profiles can be driven by the very same traces (src/presentation/diff uses this).
 */
import type { AnyStateMachine } from 'xstate';
import type { MachineObserver } from '../../../machines/bridge.ts';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, PAGE_SIZE, type VmTypeName } from '../../../spec/constants.ts';
import { INVARIANTS, violations } from '../../../spec/invariants.ts';
import type { Outcome, Step } from '../../../spec/ops.ts';
import type { Profile } from '../../../spec/profile.ts';
import { PROFILES } from '../../../spec/profiles/index.ts';
import type { RuleRef } from '../../../spec/rules/check.ts';
import { type FolioState, type PageState, type SystemState, emptySystem, freshPage } from '../../../spec/state.ts';
import { step } from '../../../spec/step.ts';
import { UnknownHandleError, flagDefsOf, hasEffect } from '../../../spec/world.ts';
import { ExactStore, type ExplorationModel, type Move, Search } from '../../../spec/explore/engine.ts';
import { outcomeWords, stepWords } from './words.ts';

// ---------------------------------------------------------------------------------------------------------
// The bounded operation set

/** What the operations may range over: the VM types and flag combinations of one profile, or of two. */
export interface OpUniverse {
  vmTypes: VmTypeName[];
  flagCombos: number[];
  /** Pages of the guest_memfd created with these flags (a huge folio needs its whole folio). */
  pagesFor: (flags: number) => number;
  /** VM types for which launch / populate / private guest accesses are worth trying. */
  hasLaunch: (t: VmTypeName) => boolean;
  hasPrivate: (t: VmTypeName) => boolean;
  /** Some profile converts this VM type with per-VM attributes / in place / has the in-place ioctl at all. */
  vmAttributes: (t: VmTypeName) => boolean;
  inPlace: (t: VmTypeName) => boolean;
  gmemAttributes: boolean;
  /**
   * userfaultfd on the mapping (register MINOR / MISSING, continue its page). Only a diff sets it, where either
   * profile models userfaultfd (src/presentation/diff/universe.ts); the diagrams' universe leaves it out.
   */
  uffd?: boolean;
}

/** Trace-level context: what the trace has asked for so far (whatever each profile answered). */
export interface TraceCtx {
  vmType?: VmTypeName;
  flags?: number;
  map: 'none' | 'mapped' | 'unmapped';
  pin: 'never' | 'live' | 'done';
  bound: boolean;
  /** A guest conversion request was made (at most one per trace: requests accumulate in the VM). */
  requested: boolean;
  /** g0's fd was closed: the file lives on while the mapping holds it, and bound slots lose it when released. */
  closed?: boolean;
}

export const INITIAL_CTX: TraceCtx = { map: 'none', pin: 'never', bound: false, requested: false };

export function universeOf(profiles: readonly Profile[]): OpUniverse {
  const vmTypes: VmTypeName[] = [];
  for (const p of profiles) for (const t of Object.keys(p.vmTypes) as VmTypeName[]) if (!vmTypes.includes(t)) vmTypes.push(t);
  const defs = profiles.flatMap((p) => p.flags).filter((f) => f.status !== 'example' && f.bit < 31);
  const bits = [...new Set(defs.map((f) => f.bit))].sort((a, b) => a - b);
  const flagCombos: number[] = [];
  for (let m = 0; m < 1 << bits.length; m++) {
    let flags = 0;
    bits.forEach((b, i) => {
      if (m & (1 << i)) flags |= 1 << b;
    });
    flagCombos.push(flags);
  }
  flagCombos.sort((a, b) => a - b);
  const rules = (t: VmTypeName) => profiles.map((p) => p.vmTypes[t]).filter((r) => r !== undefined);
  return {
    vmTypes,
    flagCombos,
    pagesFor: (flags) => defs.filter((d) => flags & (1 << d.bit)).reduce((n, d) => Math.max(n, d.effects.folioPages ?? 1), 1),
    hasLaunch: (t) => rules(t).some((r) => r.launch || r.populate !== 'none'),
    hasPrivate: (t) => rules(t).some((r) => r.hasPrivateMem),
    vmAttributes: (t) => rules(t).some((r) => r.hasPrivateMem && r.conversion === 'vm-attributes'),
    inPlace: (t) => rules(t).some((r) => r.conversion === 'in-place'),
    gmemAttributes: profiles.some((p) => p.gmemAttributes !== undefined),
  };
}

const P = PAGE_SIZE;
const PRIVATE = Number(KVM_MEMORY_ATTRIBUTE_PRIVATE);

/** The operations the bound allows next, each with the context it leads to. */
export function nextOps(ctx: TraceCtx, u: OpUniverse): Array<{ step: Step; ctx: TraceCtx }> {
  if (ctx.vmType === undefined) {
    return u.vmTypes.map((t) => ({ step: { op: 'create_vm', type: t, as: 'vm0' } as Step, ctx: { ...ctx, vmType: t } }));
  }
  if (ctx.flags === undefined) {
    return u.flagCombos.map((f) => ({
      step: { op: 'create_gmem', vm: 'vm0', size: u.pagesFor(f) * P, flags: f, as: 'g0' } as Step,
      ctx: { ...ctx, flags: f },
    }));
  }
  const size = u.pagesFor(ctx.flags) * P;
  const t = ctx.vmType;
  const out: Array<{ step: Step; ctx: TraceCtx }> = [];
  const same = (s: Step) => out.push({ step: s, ctx });
  if (ctx.map === 'none')
    out.push({
      step: { op: 'mmap', gmem: 'g0', offset: 0, length: size, prot: 'rw', shared: true, as: 'm0' },
      ctx: { ...ctx, map: 'mapped' },
    });
  if (ctx.map === 'mapped') {
    out.push({ step: { op: 'munmap', map: 'm0' }, ctx: { ...ctx, map: 'unmapped' } });
    same({ op: 'read_mem', map: 'm0', offset: 0 });
    same({ op: 'write_mem', map: 'm0', offset: 0, value: 0x5a });
    if (ctx.pin === 'never') out.push({ step: { op: 'pin', map: 'm0', offset: 0, len: P }, ctx: { ...ctx, pin: 'live' } });
    if (u.uffd) {
      same({ op: 'uffd_register', map: 'm0', offset: 0, length: size, mode: 'minor' });
      same({ op: 'uffd_register', map: 'm0', offset: 0, length: size, mode: 'missing' });
      same({ op: 'uffd_continue', map: 'm0', offset: 0, length: P });
    }
  }
  if (ctx.pin === 'live') out.push({ step: { op: 'unpin', map: 'm0', offset: 0, len: P }, ctx: { ...ctx, pin: 'done' } });
  if (!ctx.bound)
    out.push({
      step: { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: 0, size, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
      ctx: { ...ctx, bound: true },
    });
  same({ op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: size });
  same({ op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: size });
  // Always tried: on a kernel without in-place conversion it is ENOTTY, which is itself the ABI to compare.
  same({ op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: P, attributes: PRIVATE });
  same({ op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: P, attributes: 0 });
  if (u.vmAttributes(t)) {
    same({ op: 'set_memory_attributes', vm: 'vm0', address: 0, size: P, attributes: PRIVATE });
    same({ op: 'set_memory_attributes', vm: 'vm0', address: 0, size: P, attributes: 0 });
  }
  if (u.inPlace(t) && !ctx.requested) {
    for (const priv of [true, false])
      out.push({ step: { op: 'guest_request_conversion', vm: 'vm0', gpa: 0, size: P, private: priv }, ctx: { ...ctx, requested: true } });
  }
  if (u.hasLaunch(t)) {
    same({ op: 'launch_start', vm: 'vm0' });
    same({ op: 'launch_finish', vm: 'vm0' });
    same({ op: 'populate', vm: 'vm0', gpa: 0, size: P, source: 'buffer' });
    same({ op: 'populate', vm: 'vm0', gpa: 0, size: P, source: 'in_place' });
  }
  if (u.hasPrivate(t)) same({ op: 'guest_access', vm: 'vm0', gpa: 0, private: true });
  same({ op: 'guest_access', vm: 'vm0', gpa: 0, private: false });
  // Closing the guest_memfd fd releases the file once no mapping holds it (memslot bindings do not, §2.13): the
  // guestMemfd lifecycle and a guest fault on a slot whose file is gone (§2.12) are then reachable.
  if (!ctx.closed) out.push({ step: { op: 'close', h: 'g0' }, ctx: { ...ctx, closed: true } });
  return out;
}

export function ctxKey(c: TraceCtx): string {
  return `${c.vmType ?? '-'}/${c.flags ?? '-'}/${c.map}/${c.pin}/${c.bound ? 'b' : '-'}/${c.requested ? 'r' : '-'}/${c.closed ? 'c' : '-'}`;
}

/** One step on one profile; a step naming a handle its profile never created (a failed create_vm) is `aborted`. */
export interface SideResult {
  outcome: Outcome;
  rule: RuleRef;
  state: SystemState;
  aborted: boolean;
}

export function safeStep(profile: Profile, s: SystemState, st: Step, observer?: MachineObserver): SideResult {
  try {
    const r = step(profile, s, st, observer);
    return { outcome: r.outcome, rule: r.rule, state: r.state, aborted: false };
  } catch (e) {
    if (e instanceof UnknownHandleError) {
      return {
        outcome: { failed: `unknown handle ${e.handle}` },
        rule: { id: 'trace.unknown-handle', says: e.message, cite: 'spec/world.ts' },
        state: s,
        aborted: true,
      };
    }
    throw e;
  }
}

/** A creation the rest of the bound depends on failed: nothing after it is worth exploring on this side. */
export function creationFailed(st: Step, o: Outcome): boolean {
  return (st.op === 'create_vm' || st.op === 'create_gmem') && !('ok' in o);
}

// ---------------------------------------------------------------------------------------------------------
// Page projection

export interface PageProjection {
  attribute: PageState['attribute'];
  backing: PageState['backing'];
  mapped: boolean;
  pinned: boolean;
  trustedEntity: PageState['trustedEntity'];
  stage2: PageState['stage2'];
  directMap: PageState['directMap'];
  /** The page's huge folio (hugetlb), when it has one: whole or split. Absent for every file without folios. */
  folio?: FolioState;
}

export function projectPage(s: SystemState, profile: Profile): PageProjection | undefined {
  const g = s.gmems[0];
  if (!g || g.lifecycle === 'released') return undefined;
  // A fresh page's attribute comes from the flags' declared effects (any INIT_SHARED-style flag), as in World.
  const p = g.pages['0'] ?? freshPage(hasEffect(flagDefsOf(profile, g.flags), (e) => e.initShared));
  const folio = g.folios?.['0'];
  return {
    attribute: p.attribute,
    backing: p.backing,
    mapped: p.hostMappers.length > 0,
    pinned: p.pins > 0,
    trustedEntity: p.trustedEntity,
    stage2: p.stage2,
    directMap: p.directMap,
    ...(folio ? { folio } : {}),
  };
}

export function projectionKey(p: PageProjection): string {
  return [
    p.attribute,
    p.backing,
    p.mapped ? 'mapped' : 'unmapped',
    p.pinned ? 'pinned' : 'unpinned',
    p.trustedEntity,
    `s2-${p.stage2}`,
    p.directMap === 'present' ? 'dm' : 'no-dm',
    ...(p.folio ? [`folio-${p.folio}`] : []),
  ].join(' ');
}

export function parseProjectionKey(k: string): PageProjection {
  const [attribute, backing, mapped, pinned, te, s2, dm, folio] = k.split(' ');
  return {
    attribute: attribute as PageProjection['attribute'],
    backing: backing as PageProjection['backing'],
    mapped: mapped === 'mapped',
    pinned: pinned === 'pinned',
    trustedEntity: te as PageProjection['trustedEntity'],
    stage2: (s2 ?? 's2-none').slice(3) as PageProjection['stage2'],
    directMap: dm === 'dm' ? 'present' : 'removed',
    ...(folio === 'folio-whole' || folio === 'folio-split' ? { folio: folio.slice(6) as FolioState } : {}),
  };
}

/** A short label: `shared · initialised · host-mapped · pinned`, only the non-default parts after the first two. */
export function projectionLabel(p: PageProjection): string {
  const parts: string[] = [p.attribute, p.backing];
  if (p.mapped) parts.push('host-mapped');
  if (p.pinned) parts.push('pinned');
  if (p.trustedEntity !== 'unprepared') parts.push(`TE ${p.trustedEntity}`);
  if (p.stage2 !== 'none') parts.push(`stage-2 ${p.stage2}`);
  if (p.directMap === 'removed') parts.push('no direct map');
  if (p.folio) parts.push(`huge folio ${p.folio}`);
  return parts.join(' · ');
}

// ---------------------------------------------------------------------------------------------------------
// Single-profile exploration

export interface PageEdge {
  from: string;
  to: string;
  op: string;
  outcome: string;
  rule: string;
  failed: boolean;
}

/** What one (VM type, flags) slice of the search saw. */
export interface Slice {
  vmType: VmTypeName;
  flags: number;
  /** KVM_CREATE_GUEST_MEMFD's outcome for these flags on this VM type. */
  create: { outcome: string; rule: string };
  /** Projected page states (key → first state id reaching it). */
  pageStates: Map<string, number>;
  initialPage?: string;
  pageEdges: Map<string, PageEdge>;
  /** Machine transitions taken: machine id → edge ids (`<state node id>:<event>:<index>`). */
  taken: Map<string, Set<string>>;
  /** op → rule id → outcome words. */
  rules: Map<string, Map<string, string>>;
}

export interface FoundViolation {
  invariant: string;
  detail: string;
  /** The state before the violating step, and the step. */
  before: number;
  step: Step;
}

/** One operation from one explored state: where it leads (-1: nowhere — a creation failed or the trace cannot run). */
export interface Transition {
  next: number;
  outcome: Outcome;
  rule: RuleRef;
  aborted: boolean;
  /** Invariants this transition breaks. */
  broken?: string[];
}

export interface Exploration {
  profile: Profile;
  maxDepth: number;
  universe: OpUniverse;
  states: SystemState[];
  ctxs: TraceCtx[];
  /** For each expanded state, one transition per operation of nextOps(ctx, universe), in order. */
  trans: Array<Transition[] | undefined>;
  parent: Array<{ from: number; step: Step } | undefined>;
  depth: number[];
  truncated: boolean;
  slices: Map<string, Slice>;
  violations: Map<string, FoundViolation>;
  /** VM types KVM_CREATE_VM accepts. */
  vmTypesCreated: VmTypeName[];
  millis: number;
}

export interface ExploreOptions {
  maxDepth?: number;
  maxStates?: number;
  /** The operations to explore with (default: the global universe). */
  universe?: OpUniverse;
}

let global: OpUniverse | undefined;

/**
 * The operations every profile is explored with: the union of all shipped profiles' VM types and flags. One
 * universe for all makes two profiles' explorations line up operation by operation, so a diff pairs their
 * transition tables instead of stepping both profiles again.
 */
export function globalUniverse(profile?: Profile): OpUniverse {
  if (profile && !PROFILES.includes(profile)) return universeOf([...PROFILES, profile]);
  global ??= universeOf(PROFILES);
  return global;
}

export const DEFAULT_MAX_DEPTH = 8;
const DEFAULT_MAX_STATES = 60_000;

export function sliceKey(t: VmTypeName, flags: number): string {
  return `${t}/${flags}`;
}

/**
 * Which static transitions the machines took: every machine transition the steps report to the observer,
 * remembered once per slice and distinct guard input, and resolved to transition ids afterwards.
 */
class TransitionRecorder {
  private readonly seen = new Map<
    string,
    { machine: AnyStateMachine; value: unknown; context: unknown; event: { type: string }; slice: string }
  >();
  private readonly ids = new WeakMap<AnyStateMachine, number>();
  private nextId = 0;
  slice = '';

  readonly observe: MachineObserver = (machine, state, event) => {
    let id = this.ids.get(machine);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(machine, id);
    }
    // Guards read the region values, the page's pins and host mappers, and the event: content is irrelevant.
    const c = state.context as Record<string, unknown>;
    const ctxSig =
      'pins' in c && 'hostMappers' in c ? `${String(c.pins)}/${String(c.hostMappers)}/${String(c.initShared)}` : JSON.stringify(c);
    const key = `${this.slice}#${id}#${JSON.stringify(state.value)}#${ctxSig}#${JSON.stringify(event)}`;
    if (!this.seen.has(key)) this.seen.set(key, { machine, value: state.value, context: state.context, event, slice: this.slice });
  };

  resolve(into: (slice: string, machine: string, edge: string) => void): void {
    for (const r of this.seen.values()) {
      const m = r.machine;
      const snap = m.resolveState({ value: r.value as never, context: r.context as never });
      for (const t of m.getTransitionData(snap as never, r.event as never)) {
        const list = t.source.transitions.get(t.eventType) ?? [];
        into(r.slice, m.id, `${t.source.id}:${t.eventType}:${list.indexOf(t)}`);
      }
    }
  }
}

function newSlice(t: VmTypeName, flags: number): Slice {
  return {
    vmType: t,
    flags,
    create: { outcome: '?', rule: '?' },
    pageStates: new Map(),
    pageEdges: new Map(),
    taken: new Map(),
    rules: new Map(),
  };
}

/** A node of the search: the trace-level context and the system state. */
interface Node {
  ctx: TraceCtx;
  state: SystemState;
}

interface Op extends Move<Node> {
  step: Step;
  ctx: TraceCtx;
  result: SideResult;
}

const sliceOf = (c: TraceCtx): string => (c.vmType !== undefined && c.flags !== undefined ? sliceKey(c.vmType, c.flags) : '');

/** The bounded operation set as a model for the exploration engine (spec/explore/engine.ts). */
function reachableModel(
  profile: Profile,
  u: OpUniverse,
  rec: TransitionRecorder,
): ExplorationModel<Node, { step: Step; ctx: TraceCtx }, Op> {
  return {
    initial: () => ({ ctx: INITIAL_CTX, state: emptySystem() }),
    events: (n) => {
      rec.slice = sliceOf(n.ctx);
      return nextOps(n.ctx, u);
    },
    transition: (n, next, _i, machines) => {
      if (next.step.op === 'create_gmem') rec.slice = sliceKey(n.ctx.vmType as VmTypeName, next.ctx.flags as number);
      const r = safeStep(profile, n.state, next.step, machines);
      // A trace that cannot run, or a failed creation the rest of the bound depends on, leads nowhere.
      const dead = r.aborted || creationFailed(next.step, r.outcome);
      return { next: dead ? undefined : { ctx: next.ctx, state: r.state }, step: next.step, ctx: next.ctx, result: r };
    },
    key: (n) => `${ctxKey(n.ctx)}|${JSON.stringify(n.state)}`,
  };
}

/** Breadth-first search of one profile under the fixed bound. Deterministic: same profile, same result. */
export function explore(profile: Profile, options: ExploreOptions = {}): Exploration {
  const t0 = performance.now();
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  const u = options.universe ?? globalUniverse(profile);
  const states: SystemState[] = [];
  const ctxs: TraceCtx[] = [];
  const trans: Array<Transition[] | undefined> = [];
  const parent: Exploration['parent'] = [];
  const depth: number[] = [];
  const slices = new Map<string, Slice>();
  const found = new Map<string, FoundViolation>();
  const created: VmTypeName[] = [];
  const rec = new TransitionRecorder();

  const record = (i: number, s: SystemState, op: Op, nextId: number): void => {
    const r = op.result;
    if (op.step.op === 'create_vm' && 'ok' in r.outcome) created.push(op.ctx.vmType as VmTypeName);
    const sk = sliceOf(op.ctx);
    if (sk) {
      let sl = slices.get(sk);
      if (!sl) {
        sl = newSlice(op.ctx.vmType as VmTypeName, op.ctx.flags as number);
        slices.set(sk, sl);
      }
      const words = stepWords(op.step, profile, op.ctx.vmType);
      const ow = outcomeWords(r.outcome);
      if (op.step.op === 'create_gmem') sl.create = { outcome: ow, rule: r.rule.id };
      let byRule = sl.rules.get(op.step.op);
      if (!byRule) sl.rules.set(op.step.op, (byRule = new Map()));
      if (!byRule.has(r.rule.id)) byRule.set(r.rule.id, ow);
      const after = projectPage(r.state, profile);
      if (after) {
        const ak = projectionKey(after);
        const before = projectPage(s, profile);
        if (!sl.pageStates.has(ak)) sl.pageStates.set(ak, nextId);
        if (op.step.op === 'create_gmem') sl.initialPage = ak;
        if (before) {
          const bk = projectionKey(before);
          const failed = !('ok' in r.outcome) && !('access' in r.outcome && r.outcome.access === 'ok');
          const ek = `${bk}|${words}|${failed ? ow : 'ok'}|${ak}`;
          if (!sl.pageEdges.has(ek))
            sl.pageEdges.set(ek, { from: bk, to: ak, op: words, outcome: failed ? ow : 'ok', rule: r.rule.id, failed });
        }
      }
    }
    for (const v of violations(profile, INVARIANTS, s, op.step, r.state)) {
      const tr = (trans[i] as Transition[])[(trans[i] as Transition[]).length - 1] as Transition;
      (tr.broken ??= []).push(v.invariant);
      if (!found.has(v.invariant)) found.set(v.invariant, { invariant: v.invariant, detail: v.detail, before: i, step: op.step });
    }
  };

  const search = new Search(
    reachableModel(profile, u, rec),
    new ExactStore(),
    {
      machines: rec.observe,
      state: (k) => {
        // Kept in BFS order; the edge that reached it (recorded next) fills in its parent.
        states.push(k.node.state);
        ctxs.push(k.node.ctx);
        depth.push(k.depth);
        parent.push(undefined);
      },
      edge: (from, _next, _index, op, fate, to) => {
        const i = from.handle;
        const row = trans[i] ?? (trans[i] = []);
        const next = fate === 'none' ? -1 : fate === 'dropped' ? -2 : (to as number);
        row.push({ next, outcome: op.result.outcome, rule: op.result.rule, aborted: op.result.aborted });
        if (fate === 'new') parent[to as number] = { from: i, step: op.step };
        // A new target has just been kept: the projections name it by the id it got.
        if (!op.result.aborted) record(i, from.node.state, op, fate === 'new' ? states.length - 1 : states.length);
      },
      expanded: (k) => {
        trans[k.handle] ??= [];
      },
    },
    { maxDepth, maxStates },
  );
  search.run();
  rec.resolve((slice, machine, edge) => {
    const sl = slices.get(slice);
    if (!sl) return;
    let set = sl.taken.get(machine);
    if (!set) sl.taken.set(machine, (set = new Set()));
    set.add(edge);
  });
  const vmTypesCreated = [...new Set(created)];
  const truncated = !search.complete;
  return {
    profile,
    maxDepth,
    universe: u,
    states,
    ctxs,
    trans,
    parent,
    depth,
    truncated,
    slices,
    violations: found,
    vmTypesCreated,
    millis: performance.now() - t0,
  };
}

/** The steps from the empty system to state `id`. */
export function pathTo(x: Exploration, id: number): Step[] {
  const steps: Step[] = [];
  for (let i: number | undefined = id; i !== undefined; ) {
    const p: { from: number; step: Step } | undefined = x.parent[i];
    if (!p) break;
    steps.unshift(p.step);
    i = p.from;
  }
  return steps;
}

const cache = new Map<string, Exploration>();

/** `explore` memoised per profile, bound and universe (profiles and universes are immutable data). */
/** A number per universe object given explicitly (a diff's widened universe is cached apart from the global one). */
const universeIds = new WeakMap<OpUniverse, number>();
let nextUniverseId = 0;

export function exploreCached(profile: Profile, options: ExploreOptions = {}): Exploration {
  const u = options.universe;
  if (u && !universeIds.has(u)) universeIds.set(u, nextUniverseId++);
  const key = `${profile.name}|${options.maxDepth ?? DEFAULT_MAX_DEPTH}|${options.maxStates ?? DEFAULT_MAX_STATES}|${u ? universeIds.get(u) : 'global'}`;
  let x = cache.get(key);
  if (!x || x.profile !== profile) {
    x = explore(profile, options);
    cache.set(key, x);
  }
  return x;
}

/** Slices of an exploration restricted to a VM type and/or a flag set. */
export function selectSlices(x: Exploration, vmType?: VmTypeName, flags?: number): Slice[] {
  return [...x.slices.values()].filter((s) => (vmType === undefined || s.vmType === vmType) && (flags === undefined || s.flags === flags));
}
