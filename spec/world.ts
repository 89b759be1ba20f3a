/**
 * A mutable working copy of the system state for one step, with the helpers every rule needs: name
 * resolution, page access through the page machine, and the cascades of close / munmap / release through the
 * guestMemfd and vm machines. Rules never mutate the caller's state: World clones it first.
 */
import { MachineBridge, type MachineObserver, type PartState } from '../machines/bridge.ts';
import { type GmemContext, type GmemEvent, guestMemfdMachine } from '../machines/guestMemfd.ts';
import type { PageEvent, PageRules } from '../machines/page.ts';
import { type VmContext, type VmEvent, vmMachine } from '../machines/vm.ts';
import { type FolioValue, folioBridge, folioFacts, folioPageIndices, folioValue, setFolioValue, settlingEvent } from './folios.ts';
import { type PageTransition, pageTransition } from './pageCodec.ts';
import type { FlagDef, Profile, VmTypeRules } from './profile.ts';
import {
  type FdState,
  type GmemState,
  type MapState,
  type NameRef,
  type PageState,
  type PinState,
  type SystemState,
  type VmState,
  freshPage,
} from './state.ts';

const gmemBridge = new MachineBridge<GmemContext, GmemEvent>(guestMemfdMachine);
const vmBridge = new MachineBridge<VmContext, VmEvent>(vmMachine);

/** A guest_memfd's or a VM's part of the state, as its machine's state (the system state keeps them as fields). */
const gmemPart = (g: GmemState): PartState<GmemContext> => ({
  value: g.lifecycle,
  context: { fds: g.fds, maps: g.maps, bindings: g.bindings },
});
const vmPart = (v: VmState): PartState<VmContext> => ({
  value: { lifecycle: v.lifecycle, launch: v.launch },
  context: { fds: v.fds, gmemRefs: v.gmemRefs },
});

// Deep copies of one element of each part of the state (cloneState is all of them): World copies an element the
// first time it hands it out for a change, and shares the others with the state it was given.
const copyVm = (v: VmState): VmState => ({
  ...v,
  memslots: v.memslots.map((m) => ({ ...m })),
  privateRanges: v.privateRanges.map((r) => [r[0], r[1]] as [number, number]),
  ...(v.pendingConversion ? { pendingConversion: v.pendingConversion.map((r) => [...r] as [number, number, 'private' | 'shared']) } : {}),
});
const copyGmem = (g: GmemState): GmemState => ({ ...g, bindings: g.bindings.map((b) => ({ ...b })), pages: { ...g.pages } });
const copyFd = (f: FdState): FdState => ({ ...f });
const copyMap = (m: MapState): MapState => ({ ...m });
const copyPin = (p: PinState): PinState => ({ ...p, pages: [...p.pages] });

export function cloneState(s: SystemState): SystemState {
  return {
    proc: s.proc,
    vms: s.vms.map(copyVm),
    gmems: s.gmems.map(copyGmem),
    fds: s.fds.map(copyFd),
    maps: s.maps.map(copyMap),
    pins: s.pins.map(copyPin),
    names: { ...s.names },
  };
}

/**
 * Element `i` of `part`, copied (once) unless it was added or copied since the World was made: elements still
 * shared with `base` belong to the caller's state, which World never changes.
 */
function own<T>(part: T[], base: readonly T[], i: number, copy: (t: T) => T): T | undefined {
  const x = part[i];
  if (x === undefined || i >= base.length || x !== base[i]) return x;
  const c = copy(x);
  part[i] = c;
  return c;
}

/** Thrown for a trace that names a handle it never created: a malformed trace, not an errno. */
export class UnknownHandleError extends Error {
  constructor(readonly handle: string) {
    super(`unknown handle ${JSON.stringify(handle)}: no earlier step created it`);
    this.name = 'UnknownHandleError';
  }
}

export function flagDefsOf(profile: Profile, flags: number): FlagDef[] {
  return profile.flags.filter((f) => f.bit < 53 && (flags & (2 ** f.bit)) !== 0);
}

export function hasEffect(defs: FlagDef[], pick: (e: FlagDef['effects']) => unknown): boolean {
  return defs.some((d) => Boolean(pick(d.effects)));
}

/**
 * Everything step() derives from a guest_memfd's creation flags and its VM's type, computed once per
 * (profile, flags, VM type) and reused: the flag definitions, INIT_SHARED, the folio size, the page rules, and a
 * memo of page-machine results keyed on the page and the event (a page's state space is small).
 */
interface FlagInfo {
  defs: FlagDef[];
  initShared: boolean;
  folioPages: number;
  /** A fresh page; never mutated (pages are replaced, not changed in place). */
  fresh: PageState;
  /** Page rules and page-event memo, by VM type. */
  byVmType: Map<string, PageInfo>;
}

/**
 * A page event's result as World.pageEvent stores it: the next page, whether it equals a fresh page, and the
 * machine transition that produced it (told again to an observer on every memo hit, so that an exploration
 * hears the machine transitions a step takes whether or not an earlier one computed them).
 */
interface PageResult {
  page: PageState;
  fresh: boolean;
  taken: PageTransition;
}

interface PageInfo {
  rules: PageRules;
  memo: Map<string, PageResult | null>;
}

const PAGE_MEMO_LIMIT = 200_000;
const flagInfoCache = new WeakMap<Profile, Map<number, FlagInfo>>();

function flagInfo(profile: Profile, flags: number): FlagInfo {
  let byFlags = flagInfoCache.get(profile);
  if (!byFlags) {
    byFlags = new Map();
    flagInfoCache.set(profile, byFlags);
  }
  let info = byFlags.get(flags);
  if (!info) {
    const defs = flagDefsOf(profile, flags);
    const initShared = hasEffect(defs, (e) => e.initShared);
    info = {
      defs,
      initShared,
      folioPages: defs.reduce((n, d) => Math.max(n, d.effects.folioPages ?? 1), 1),
      fresh: freshPage(initShared),
      byVmType: new Map(),
    };
    byFlags.set(flags, info);
  }
  return info;
}

// One character per value of each page region: the memo key below uses them, and a page with any other value
// (never produced by the page machine) is not memoised.
const ATTRIBUTE_CODE = new Map<unknown, string>([
  ['shared', 's'],
  ['private', 'p'],
  ['toPrivate', 'P'],
  ['toShared', 'S'],
]);
const BACKING_CODE = new Map<unknown, string>([
  ['hole', 'h'],
  ['allocated', 'a'],
  ['initialised', 'i'],
]);
const TRUSTED_CODE = new Map<unknown, string>([
  ['unprepared', 'u'],
  ['prepared', 'r'],
  ['populated', 'm'],
]);
const DIRECT_MAP_CODE = new Map<unknown, string>([
  ['present', 'y'],
  ['removed', 'n'],
]);
const STAGE2_CODE = new Map<unknown, string>([
  ['none', '0'],
  ['shared', 'g'],
  ['private', 'G'],
]);
const EVENT_STRINGS = new Set([
  'HOST_FAULT',
  'HOST_UNMAP',
  'HOST_WRITE',
  'HOST_FILL',
  'ALLOCATE',
  'PUNCH',
  'PIN',
  'UNPIN',
  'CONVERT_BEGIN',
  'CONVERT_COMMIT',
  'CONVERT_ABORT',
  'GUEST_MAP',
  'GUEST_WRITE',
  'STAGE2_ZAP',
  'POPULATE',
  'private',
  'shared',
]);

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * A memo key for (page, event), or undefined when the pair has a value outside the page machine's own (then
 * the event goes to the machine unmemoised). Two pairs with the same key give the same JSON for the machine
 * bridge's own memo key, so the memo can only return what the bridge would.
 */
function pageEventKey(p: PageState, event: PageEvent): string | undefined {
  const a = ATTRIBUTE_CODE.get(p.attribute);
  const b = BACKING_CODE.get(p.backing);
  const t = TRUSTED_CODE.get(p.trustedEntity);
  const d = DIRECT_MAP_CODE.get(p.directMap);
  const g = STAGE2_CODE.get(p.stage2);
  if (a === undefined || b === undefined || t === undefined || d === undefined || g === undefined) return undefined;
  if (!finite(p.content) || !finite(p.pins) || !Array.isArray(p.hostMappers)) return undefined;
  let k = `${a + b + t + d + g + p.content}/${p.pins}/`;
  const hm = p.hostMappers;
  for (let i = 0; i < hm.length; i++) {
    const m = hm[i];
    if (!finite(m)) return undefined;
    k += `${m},`;
  }
  k += p.bytes === undefined ? '{}' : JSON.stringify(p.bytes);
  for (const f in event) {
    const v = (event as Record<string, unknown>)[f];
    if (typeof v === 'string') {
      if (!EVENT_STRINGS.has(v)) return undefined;
    } else if (typeof v === 'boolean') {
      // written as true / false
    } else if (!finite(v)) return undefined;
    k += `|${f}:${v}`;
  }
  return k;
}

export type FdLookup = { kind: 'open'; fd: FdState; index: number } | { kind: 'closed' };

type Part = 'vms' | 'gmems' | 'fds' | 'maps' | 'pins';
const PART_BIT: Record<Part, number> = { vms: 1, gmems: 2, fds: 4, maps: 8, pins: 16 };
const NAMES_BIT = 32;

/**
 * The working copy is copy-on-write: `s` starts out sharing its arrays, their elements and the names with the
 * given state. An array or the names are copied the first time World changes them, and an element is
 * deep-copied (as cloneState copies it) the first time World hands it out for a change: vm(), gmem(), pin() and
 * ownMap() copy; fd(), map() and the peek helpers only read. So a rule reads `s` but changes the state only
 * through World (newVm, newGmem, newPin, newFd, newMap, name, and the elements those accessors hand out).
 */
export class World {
  readonly s: SystemState;
  private readonly base: SystemState;
  /** Which arrays (PART_BIT) and whether the names (NAMES_BIT) of `s` are this World's own copies. */
  private owned = 0;

  /** @param observer hears every machine transition this step takes (coverage, diagrams). */
  constructor(
    readonly profile: Profile,
    state: SystemState,
    readonly observer?: MachineObserver,
  ) {
    this.base = state;
    this.s = {
      proc: state.proc,
      vms: state.vms,
      gmems: state.gmems,
      fds: state.fds,
      maps: state.maps,
      pins: state.pins,
      names: state.names,
    };
  }

  /** An array of `s`, this World's own copy (elements still shared until owned one by one). */
  private part<K extends Part>(k: K): SystemState[K] {
    const bit = PART_BIT[k];
    if (!(this.owned & bit)) {
      this.s[k] = this.s[k].slice() as SystemState[K];
      this.owned |= bit;
    }
    return this.s[k];
  }

  ref(name: string): NameRef {
    const r = this.s.names[name];
    if (!r) throw new UnknownHandleError(name);
    return r;
  }

  /** The fd a handle names; a closed fd, a failed creation or a mapping handle reads as a bad fd (EBADF). */
  fd(name: string): FdLookup {
    const r = this.ref(name);
    if (!('fd' in r)) return { kind: 'closed' };
    const fd = this.s.fds[r.fd];
    if (!fd?.open) return { kind: 'closed' };
    return { kind: 'open', fd, index: r.fd };
  }

  /** The VM or guest_memfd (its id) that a handle names when it is an open fd of that kind, else undefined. */
  openFdOf(name: string, kind: FdState['kind']): number | undefined {
    const f = this.fd(name);
    return f.kind === 'open' && f.fd.kind === kind ? f.fd.id : undefined;
  }

  /** The mapping a handle names, or undefined for a failed mmap / unmapped mapping. */
  map(name: string): { map: MapState; index: number } | undefined {
    const r = this.ref(name);
    if (!('map' in r)) return undefined;
    const map = this.s.maps[r.map];
    return map?.live ? { map, index: r.map } : undefined;
  }

  /** A VM, this World's own copy: the caller may change it. */
  vm(id: number): VmState {
    const v = own(this.part('vms'), this.base.vms, id, copyVm);
    if (!v) throw new Error(`internal: no vm ${id}`);
    return v;
  }

  /** A guest_memfd, this World's own copy: the caller may change it. */
  gmem(id: number): GmemState {
    const g = own(this.part('gmems'), this.base.gmems, id, copyGmem);
    if (!g) throw new Error(`internal: no guest_memfd ${id}`);
    return g;
  }

  /** A VM to read, not to change. */
  peekVm(id: number): VmState {
    const v = this.s.vms[id];
    if (!v) throw new Error(`internal: no vm ${id}`);
    return v;
  }

  /** A guest_memfd to read, not to change. */
  peekGmem(id: number): GmemState {
    const g = this.s.gmems[id];
    if (!g) throw new Error(`internal: no guest_memfd ${id}`);
    return g;
  }

  /** Pin `index`, this World's own copy: the caller may change it. */
  pin(index: number): PinState | undefined {
    return own(this.part('pins'), this.base.pins, index, copyPin);
  }

  /** Mapping `index`, this World's own copy: the caller may change it. */
  ownMap(index: number): MapState | undefined {
    return own(this.part('maps'), this.base.maps, index, copyMap);
  }

  vmRules(vmId: number): VmTypeRules {
    const r = this.profile.vmTypes[this.peekVm(vmId).type];
    if (!r) throw new Error(`internal: profile ${this.profile.name} has no VM type ${this.peekVm(vmId).type}`);
    return r;
  }

  /** The guest_memfd's flag definitions (shared between calls: read them, do not change them). */
  flagDefs(gmemId: number): FlagDef[] {
    return flagInfo(this.profile, this.peekGmem(gmemId).flags).defs;
  }

  initShared(gmemId: number): boolean {
    return flagInfo(this.profile, this.peekGmem(gmemId).flags).initShared;
  }

  pageRules(gmemId: number): PageRules {
    return { ...this.pageInfo(gmemId).rules };
  }

  /** Page rules and the page-event memo for a guest_memfd (by its flags and its VM's type). */
  private pageInfo(gmemId: number): PageInfo {
    const g = this.peekGmem(gmemId);
    const flags = flagInfo(this.profile, g.flags);
    const type = this.peekVm(g.vm).type;
    let info = flags.byVmType.get(type);
    if (!info) {
      const defs = flags.defs;
      const vr = this.vmRules(g.vm);
      const dm = defs.find((d) => d.effects.directMap)?.effects.directMap;
      const rules: PageRules = {
        hostMayMapPrivate: hasEffect(defs, (e) => e.hostMapPrivate),
        conversionChecksRefs: !hasEffect(defs, (e) => e.conversionIgnoresRefs),
        conversionContent: { toPrivate: vr.conversionContent.toPrivate, toShared: vr.conversionContent.toShared },
        directMap: dm ?? 'keep',
        trustedEntityPrepares: vr.trustedEntityPrepares,
        ...this.profile.pageRuleOverrides,
      };
      info = { rules, memo: new Map() };
      flags.byVmType.set(type, info);
    }
    return info;
  }

  folioPages(gmemId: number): number {
    return flagInfo(this.profile, this.peekGmem(gmemId).flags).folioPages;
  }

  page(gmemId: number, index: number): PageState {
    return this.peekGmem(gmemId).pages[String(index)] ?? freshPage(this.initShared(gmemId));
  }

  /**
   * The page machine's answer to an event on a page (null: refused), memoised per (flags, VM type) on the page
   * and the event, with the freshness test (is the new page a fresh one?) done once. `observer` (when the event is taken, not only
   * asked about) hears the machine transition, computed or memoised alike.
   */
  private pageResult(gmemId: number, index: number, event: PageEvent, observer: MachineObserver | undefined): PageResult | null {
    const info = this.pageInfo(gmemId);
    const g = this.peekGmem(gmemId);
    const flags = flagInfo(this.profile, g.flags);
    const page = g.pages[String(index)] ?? flags.fresh;
    const key = pageEventKey(page, event);
    if (key !== undefined) {
      const hit = info.memo.get(key);
      if (hit !== undefined) {
        if (hit && observer) observer(hit.taken.machine, hit.taken.before, event, hit.taken.after);
        return hit;
      }
    }
    const taken = pageTransition(info.rules, page, flags.initShared, event, observer);
    const result = taken && { page: taken.page, fresh: JSON.stringify(taken.page) === JSON.stringify(flags.fresh), taken };
    if (key !== undefined) {
      if (info.memo.size >= PAGE_MEMO_LIMIT) info.memo.clear();
      info.memo.set(key, result);
    }
    return result;
  }

  /** Whether the page machine accepts the event, without changing anything (nor telling the observer). */
  pageCan(gmemId: number, index: number, event: PageEvent): boolean {
    return this.pageResult(gmemId, index, event, undefined) !== null;
  }

  /** Apply a page event; false (and no change) when the page machine refuses it. */
  pageEvent(gmemId: number, index: number, event: PageEvent): boolean {
    const r = this.pageResult(gmemId, index, event, this.observer);
    if (!r) return false;
    // Canonical form: a page equal to a fresh one is not stored.
    const pages = this.gmem(gmemId).pages;
    if (r.fresh) delete pages[String(index)];
    else pages[String(index)] = r.page;
    if (this.folioPages(gmemId) > 1) this.settleFolio(gmemId, Math.floor(index / this.folioPages(gmemId)));
    return true;
  }

  /**
   * Whether the folio machine would refuse to bring folio `folio` in line with its pages once a change under way
   * is done: `willBePrivate(i)` says which of its pages (by file index) will then be private, and `punched` that
   * all of them will be holes. How a rule asks before it changes pages (EAGAIN for an unsafe split, merge or free).
   */
  folioRefuses(gmemId: number, folio: number, change: { willBePrivate?: (i: number) => boolean; punched?: boolean }): boolean {
    const g = this.peekGmem(gmemId);
    const indices = folioPageIndices(g, this.folioPages(gmemId), folio);
    const pages = indices.map((i) => this.page(gmemId, i));
    const willBePrivate = change.willBePrivate;
    const facts = folioFacts(pages, willBePrivate && ((k) => willBePrivate(indices[k] as number)));
    if (change.punched) facts.backed = 0;
    const now = folioValue(g, folio);
    const event = settlingEvent(now, facts);
    return event !== undefined && folioBridge(this.pageInfo(gmemId).rules.folio).apply({ value: now, context: {} }, event) === null;
  }

  /**
   * Bring a huge folio in line with its pages after a page event: allocate it when a page gets memory (the other
   * pages of the run get memory with it), free it when every page is a hole, split it when a page is shared,
   * merge it when all are private again. A refusal leaves it as it was: the rule that changed the pages asked
   * first (folioRefuses) where the kernel refuses.
   */
  private settleFolio(gmemId: number, folio: number): void {
    const g = this.peekGmem(gmemId);
    const indices = folioPageIndices(g, this.folioPages(gmemId), folio);
    const before = folioValue(g, folio);
    const event = settlingEvent(before, folioFacts(indices.map((i) => this.page(gmemId, i))));
    if (!event) return;
    const next = folioBridge(this.pageInfo(gmemId).rules.folio).apply({ value: before, context: {} }, event, this.observer);
    if (!next || next.value === before) return;
    setFolioValue(this.gmem(gmemId), folio, next.value as FolioValue);
    // The page machine allocates the holes of the run (it refuses ALLOCATE to a page that has memory already).
    if (event.type === 'ALLOCATE') for (const i of indices) this.pageEvent(gmemId, i, { type: 'ALLOCATE' });
  }

  /** Indices of pages that are not fresh (the only ones an event over a range can change). */
  touchedPages(gmemId: number, start: number, npages: number): number[] {
    const out: number[] = [];
    for (const k of Object.keys(this.peekGmem(gmemId).pages)) {
      const i = Number(k);
      if (i >= start && i < start + npages) out.push(i);
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * Whether the guest_memfd's machine would take the event now (its guards decide): how a rule asks the machine
   * instead of repeating its guard. Changes nothing and tells no observer (a question, not a transition).
   */
  gmemAccepts(gmemId: number, event: GmemEvent): boolean {
    return gmemBridge.apply(gmemPart(this.peekGmem(gmemId)), event) !== null;
  }

  gmemEvent(gmemId: number, event: GmemEvent): boolean {
    const g = this.gmem(gmemId);
    const next = gmemBridge.apply(gmemPart(g), event, this.observer);
    if (!next) return false;
    const wasReleased = g.lifecycle === 'released';
    g.lifecycle = next.value as GmemState['lifecycle'];
    g.fds = next.context.fds;
    g.maps = next.context.maps;
    g.bindings = next.context.bindings;
    if (!wasReleased && g.lifecycle === 'released') this.onGmemReleased(gmemId);
    return true;
  }

  /** Whether the VM's machine would take the event now (as gmemAccepts: a question, no change, no observer). */
  vmAccepts(vmId: number, event: VmEvent): boolean {
    return vmBridge.apply(vmPart(this.peekVm(vmId)), event) !== null;
  }

  vmEvent(vmId: number, event: VmEvent): boolean {
    const before = this.peekVm(vmId);
    const next = vmBridge.apply(vmPart(before), event, this.observer);
    if (!next) return false;
    const value = next.value as { lifecycle: VmState['lifecycle']; launch: VmState['launch'] };
    // A transition that changes nothing (POPULATE, RUN) leaves the VM shared with the caller's state.
    if (
      value.lifecycle === before.lifecycle &&
      value.launch === before.launch &&
      next.context.fds === before.fds &&
      next.context.gmemRefs === before.gmemRefs
    )
      return true;
    const v = this.vm(vmId);
    const wasDestroyed = v.lifecycle === 'destroyed';
    v.lifecycle = value.lifecycle;
    v.launch = value.launch;
    v.fds = next.context.fds;
    v.gmemRefs = next.context.gmemRefs;
    if (!wasDestroyed && v.lifecycle === 'destroyed') {
      v.memslots = [];
      v.privateRanges = [];
      delete v.pendingConversion;
    }
    return true;
  }

  /** kvm_gmem_release + inode eviction: slots lose the file, memory is freed, the VM reference is put. */
  private onGmemReleased(gmemId: number): void {
    const g = this.gmem(gmemId);
    for (let i = 0; i < this.s.vms.length; i++) {
      const v = this.s.vms[i] as VmState;
      if (v.memslots.some((m) => m.gmem === gmemId)) for (const m of this.vm(i).memslots) if (m.gmem === gmemId) m.gmemGone = true;
    }
    g.pages = {};
    delete g.folios;
    for (let i = 0; i < this.s.pins.length; i++) {
      const p = this.s.pins[i] as PinState;
      if (p.live && this.s.maps[p.map]?.gmem === gmemId) (this.pin(i) as PinState).pages = [];
    }
    this.vmEvent(g.vm, { type: 'GMEM_RELEASED' });
  }

  closeFd(index: number): void {
    const fd = own(this.part('fds'), this.base.fds, index, copyFd);
    if (!fd?.open) return;
    fd.open = false;
    if (fd.kind === 'vm') this.vmEvent(fd.id, { type: 'FD_CLOSED' });
    else this.gmemEvent(fd.id, { type: 'FD_CLOSED' });
  }

  /** munmap: the VMA's PTEs go, its pins keep their folios, the file reference is dropped. */
  unmap(index: number): void {
    const m = this.ownMap(index);
    if (!m?.live) return;
    for (const i of this.touchedPages(m.gmem, m.start, m.npages)) {
      this.pageEvent(m.gmem, i, { type: 'HOST_UNMAP', mapper: index });
    }
    m.live = false;
    this.gmemEvent(m.gmem, { type: 'UNMAPPED' });
  }

  newFd(fd: FdState): number {
    return this.part('fds').push(fd) - 1;
  }

  newMap(map: MapState): number {
    return this.part('maps').push(map) - 1;
  }

  name(as: string | undefined, ref: NameRef): void {
    if (as === undefined) return;
    if (!(this.owned & NAMES_BIT)) {
      this.s.names = { ...this.s.names };
      this.owned |= NAMES_BIT;
    }
    this.s.names[as] = ref;
  }

  newVm(vm: VmState): number {
    return this.part('vms').push(vm) - 1;
  }

  newGmem(gmem: GmemState): number {
    return this.part('gmems').push(gmem) - 1;
  }

  newPin(pin: PinState): number {
    return this.part('pins').push(pin) - 1;
  }
}
