/**
 * A mutable working copy of the system state for one step, with the helpers every rule needs: name
 * resolution, page access through the page machine, and the cascades of close / munmap / release through the
 * guestMemfd and vm machines. Rules never mutate the caller's state: World clones it first.
 */
import { MachineBridge } from '../machines/bridge.ts';
import { type GmemContext, type GmemEvent, guestMemfdMachine } from '../machines/guestMemfd.ts';
import type { PageEvent, PageRules } from '../machines/page.ts';
import { applyPageEvent } from '../machines/pageCodec.ts';
import { type VmContext, type VmEvent, vmMachine } from '../machines/vm.ts';
import type { FlagDef, Profile, VmTypeRules } from './profile.ts';
import { type FdState, type GmemState, type MapState, type NameRef, type PageState, type SystemState, type VmState, freshPage } from './state.ts';

const gmemBridge = new MachineBridge<GmemContext, GmemEvent>(guestMemfdMachine);
const vmBridge = new MachineBridge<VmContext, VmEvent>(vmMachine);

export function cloneState(s: SystemState): SystemState {
  return {
    proc: s.proc,
    vms: s.vms.map((v) => ({
      ...v,
      memslots: v.memslots.map((m) => ({ ...m })),
      privateRanges: v.privateRanges.map((r) => [r[0], r[1]] as [number, number]),
      ...(v.pendingConversion ? { pendingConversion: v.pendingConversion.map((r) => [...r] as [number, number, 'private' | 'shared']) } : {}),
    })),
    gmems: s.gmems.map((g) => ({ ...g, bindings: g.bindings.map((b) => ({ ...b })), pages: { ...g.pages } })),
    fds: s.fds.map((f) => ({ ...f })),
    maps: s.maps.map((m) => ({ ...m })),
    pins: s.pins.map((p) => ({ ...p, pages: [...p.pages] })),
    names: { ...s.names },
  };
}

/** Thrown for a trace that names a handle it never created: a malformed trace, not an errno. */
export class UnknownHandleError extends Error {
  constructor(readonly handle: string) {
    super(`unknown handle ${JSON.stringify(handle)}: no earlier step created it`);
    this.name = 'UnknownHandleError';
  }
}

export function flagDefsOf(profile: Profile, flags: number): FlagDef[] {
  return profile.flags.filter((f) => f.bit < 53 && (flags & 2 ** f.bit) !== 0);
}

export function hasEffect(defs: FlagDef[], pick: (e: FlagDef['effects']) => unknown): boolean {
  return defs.some((d) => Boolean(pick(d.effects)));
}

export type FdLookup = { kind: 'open'; fd: FdState; index: number } | { kind: 'closed' };

export class World {
  readonly s: SystemState;

  constructor(readonly profile: Profile, state: SystemState) {
    this.s = cloneState(state);
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
    if (!fd || !fd.open) return { kind: 'closed' };
    return { kind: 'open', fd, index: r.fd };
  }

  /** The mapping a handle names, or undefined for a failed mmap / unmapped mapping. */
  map(name: string): { map: MapState; index: number } | undefined {
    const r = this.ref(name);
    if (!('map' in r)) return undefined;
    const map = this.s.maps[r.map];
    return map && map.live ? { map, index: r.map } : undefined;
  }

  vm(id: number): VmState {
    const v = this.s.vms[id];
    if (!v) throw new Error(`internal: no vm ${id}`);
    return v;
  }

  gmem(id: number): GmemState {
    const g = this.s.gmems[id];
    if (!g) throw new Error(`internal: no guest_memfd ${id}`);
    return g;
  }

  vmRules(vmId: number): VmTypeRules {
    const r = this.profile.vmTypes[this.vm(vmId).type];
    if (!r) throw new Error(`internal: profile ${this.profile.name} has no VM type ${this.vm(vmId).type}`);
    return r;
  }

  flagDefs(gmemId: number): FlagDef[] {
    return flagDefsOf(this.profile, this.gmem(gmemId).flags);
  }

  initShared(gmemId: number): boolean {
    return hasEffect(this.flagDefs(gmemId), (e) => e.initShared);
  }

  pageRules(gmemId: number): PageRules {
    const defs = this.flagDefs(gmemId);
    const vr = this.vmRules(this.gmem(gmemId).vm);
    const dm = defs.find((d) => d.effects.directMap)?.effects.directMap;
    return {
      hostMayMapPrivate: hasEffect(defs, (e) => e.hostMapPrivate),
      conversionChecksRefs: !hasEffect(defs, (e) => e.conversionIgnoresRefs),
      conversionContent: vr.conversionContent,
      directMap: dm ?? 'keep',
      trustedEntityPrepares: vr.trustedEntityPrepares,
      ...this.profile.pageRuleOverrides,
    };
  }

  folioPages(gmemId: number): number {
    return this.flagDefs(gmemId).reduce((n, d) => Math.max(n, d.effects.folioPages ?? 1), 1);
  }

  page(gmemId: number, index: number): PageState {
    return this.gmem(gmemId).pages[String(index)] ?? freshPage(this.initShared(gmemId));
  }

  setPage(gmemId: number, index: number, page: PageState): void {
    const g = this.gmem(gmemId);
    const fresh = freshPage(this.initShared(gmemId));
    // Canonical form: a page equal to a fresh one is not stored.
    if (JSON.stringify(page) === JSON.stringify(fresh)) delete g.pages[String(index)];
    else g.pages[String(index)] = page;
  }

  /** Whether the page machine accepts the event, without changing anything. */
  pageCan(gmemId: number, index: number, event: PageEvent): boolean {
    return applyPageEvent(this.pageRules(gmemId), this.page(gmemId, index), this.initShared(gmemId), event) !== null;
  }

  /** Apply a page event; false (and no change) when the page machine refuses it. */
  pageEvent(gmemId: number, index: number, event: PageEvent): boolean {
    const next = applyPageEvent(this.pageRules(gmemId), this.page(gmemId, index), this.initShared(gmemId), event);
    if (!next) return false;
    this.setPage(gmemId, index, next);
    return true;
  }

  /** Indices of pages that are not fresh (the only ones an event over a range can change). */
  touchedPages(gmemId: number, start: number, npages: number): number[] {
    const out: number[] = [];
    for (const k of Object.keys(this.gmem(gmemId).pages)) {
      const i = Number(k);
      if (i >= start && i < start + npages) out.push(i);
    }
    return out.sort((a, b) => a - b);
  }

  gmemEvent(gmemId: number, event: GmemEvent): boolean {
    const g = this.gmem(gmemId);
    const next = gmemBridge.apply({ value: g.lifecycle, context: { fds: g.fds, maps: g.maps, bindings: g.bindings } }, event);
    if (!next) return false;
    const wasReleased = g.lifecycle === 'released';
    g.lifecycle = next.value as GmemState['lifecycle'];
    g.fds = next.context.fds;
    g.maps = next.context.maps;
    g.bindings = next.context.bindings;
    if (!wasReleased && g.lifecycle === 'released') this.onGmemReleased(gmemId);
    return true;
  }

  vmEvent(vmId: number, event: VmEvent): boolean {
    const v = this.vm(vmId);
    const next = vmBridge.apply(
      { value: { lifecycle: v.lifecycle, launch: v.launch }, context: { fds: v.fds, gmemRefs: v.gmemRefs } },
      event,
    );
    if (!next) return false;
    const value = next.value as { lifecycle: VmState['lifecycle']; launch: VmState['launch'] };
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
    for (const v of this.s.vms) {
      for (const m of v.memslots) if (m.gmem === gmemId) m.gmemGone = true;
    }
    g.pages = {};
    for (const p of this.s.pins) if (p.live && this.s.maps[p.map]?.gmem === gmemId) p.pages = [];
    this.vmEvent(g.vm, { type: 'GMEM_RELEASED' });
  }

  closeFd(index: number): void {
    const fd = this.s.fds[index];
    if (!fd || !fd.open) return;
    fd.open = false;
    if (fd.kind === 'vm') this.vmEvent(fd.id, { type: 'FD_CLOSED' });
    else this.gmemEvent(fd.id, { type: 'FD_CLOSED' });
  }

  /** munmap: the VMA's PTEs go, its pins keep their folios, the file reference is dropped. */
  unmap(index: number): void {
    const m = this.s.maps[index];
    if (!m || !m.live) return;
    for (const i of this.touchedPages(m.gmem, m.start, m.npages)) {
      this.pageEvent(m.gmem, i, { type: 'HOST_UNMAP', mapper: index });
    }
    m.live = false;
    this.gmemEvent(m.gmem, { type: 'UNMAPPED' });
  }

  newFd(fd: FdState): number {
    this.s.fds.push(fd);
    return this.s.fds.length - 1;
  }

  newMap(map: MapState): number {
    this.s.maps.push(map);
    return this.s.maps.length - 1;
  }

  name(as: string | undefined, ref: NameRef): void {
    if (as !== undefined) this.s.names[as] = ref;
  }
}
