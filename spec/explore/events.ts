/**
 * The finite operation set the explorer tries in each state: every operation of the vocabulary, with its
 * parameters drawn from documented equivalence classes, so that every failure condition of every check list is
 * the decision of some edge. "Moves" change the state (creations, accesses, punches, conversions); "probes"
 * exercise one failure condition each and leave the state as it is (self-loop error edges).
 *
 * Equivalence classes (per object):
 *   create_vm       each VM type of the profile; an unknown type (99)
 *   create_gmem     size = bound.pages pages with each accepted flag combination; size 0; size 4095;
 *                   an unsupported flag bit (the first bit the VM type does not accept)
 *   mmap            offset 0, length pages+1 (one page past EOF), rw, MAP_SHARED; MAP_PRIVATE; PROT_EXEC; offset 1
 *   host access     read / write (value 1) of each page; read of the page past EOF
 *   fallocate       punch / allocate each page (and each huge folio); mode 0; PUNCH without KEEP_SIZE; unknown bit 0x04;
 *                   unaligned offset; len 0; allocate at EOF; end past 2^63-1
 *   memslots        bind the whole file at a fresh GPA; unaligned gmem offset; LOG_DIRTY with gmem;
 *                   a second slot on a bound range; a GPA overlap; delete each slot; delete a missing slot
 *   attributes      per page to private / shared (where the profile converts); one probe where it cannot
 *   pins            pin / unpin each page (up to bound.pins live pins)
 *   file ops        fstat, ftruncate, read, pread on each open guest_memfd fd
 *   userfaultfd     register the file's pages MINOR / MISSING, continue each page (profiles that model
 *                   userfaultfd); an unaligned and an out-of-mapping register, an unaligned continue (where
 *                   registration works)
 *   platform        launch start / finish, populate each bound page, guest access (private / shared) to each
 *                   bound page, guest conversion requests — only in profiles with private memory
 */
import type { VmTypeName } from '../constants.ts';
import type { Step } from '../ops.ts';
import type { Profile } from '../profile.ts';
import { acceptedFlagDefs } from '../rules/kvm.ts';
import { folioPagesOf } from '../granularity.ts';
import type { GmemState, SystemState } from '../state.ts';
import type { Bound } from './bound.ts';

const PAGE = 4096;

function subsets<T>(xs: readonly T[]): T[][] {
  let out: T[][] = [[]];
  for (const x of xs) out = [...out, ...out.map((s) => [...s, x])];
  return out;
}

/** Flag values a VM type accepts, every combination, ascending. */
export function flagCombinations(profile: Profile, type: VmTypeName): number[] {
  return subsets(acceptedFlagDefs(profile, type).filter((f) => f.bit < 31))
    .map((s) => s.reduce((m, f) => m | (1 << f.bit), 0))
    .sort((a, b) => a - b);
}

function openNames(s: SystemState, kind: 'vm' | 'gmem'): Array<{ name: string; id: number }> {
  const out: Array<{ name: string; id: number }> = [];
  for (const name of Object.keys(s.names).sort()) {
    const r = s.names[name];
    if (!r || !('fd' in r)) continue;
    const fd = s.fds[r.fd];
    if (fd?.open && fd.kind === kind && fd.proc === s.proc) out.push({ name, id: fd.id });
  }
  return out;
}

function liveMaps(s: SystemState): Array<{ name: string; id: number }> {
  const out: Array<{ name: string; id: number }> = [];
  for (const name of Object.keys(s.names).sort()) {
    const r = s.names[name];
    if (r && 'map' in r && s.maps[r.map]?.live) out.push({ name, id: r.map });
  }
  return out;
}

/**
 * The lowest `m<k>` that names no live mapping. Not `m<number of mappings>`: compaction renumbers mappings, so
 * after mmap m0, mmap m1, munmap m0 that name would be m1's again, the old m1 would lose its name while staying
 * mapped, the mapping count would escape the bound and the search would never close (maps >= 2).
 */
function freeMapName(live: ReadonlyArray<{ name: string }>): string {
  let k = 0;
  while (live.some((m) => m.name === `m${k}`)) k++;
  return `m${k}`;
}

export function eventsFor(profile: Profile, bound: Bound, s: SystemState): Step[] {
  const ev: Step[] = [];
  const types = Object.keys(profile.vmTypes) as VmTypeName[];
  const platform = types.some((t) => profile.vmTypes[t]?.hasPrivateMem);
  const size = bound.pages * PAGE;

  if (s.vms.length < bound.vms) for (const type of types) ev.push({ op: 'create_vm', type, as: `vm${s.vms.length}` });
  if (s.vms.length === 0) {
    ev.push({ op: 'create_vm', type: 99 });
    ev.push({ op: 'check_extension', on: 'kvm', cap: 244 });
  }

  const gmemsByVm = new Map<number, Array<{ name: string; id: number }>>();
  for (const g of openNames(s, 'gmem')) {
    const vm = s.gmems[g.id]?.vm ?? -1;
    gmemsByVm.set(vm, [...(gmemsByVm.get(vm) ?? []), g]);
  }

  for (const vm of openNames(s, 'vm')) {
    const v = s.vms[vm.id];
    if (!v) continue;
    const rules = profile.vmTypes[v.type];
    if (s.gmems.length < bound.gmems) {
      for (const flags of flagCombinations(profile, v.type))
        ev.push({ op: 'create_gmem', vm: vm.name, size, flags, as: `g${s.gmems.length}` });
    }
    // Probes: each create_gmem failure condition once per VM.
    const accepted = flagCombinations(profile, v.type).reduce((m, f) => m | f, 0);
    let badBit = 0;
    while (accepted & (1 << badBit)) badBit++;
    ev.push({ op: 'create_gmem', vm: vm.name, size, flags: 1 << badBit });
    ev.push({ op: 'create_gmem', vm: vm.name, size: 0, flags: 0 });
    ev.push({ op: 'create_gmem', vm: vm.name, size: PAGE - 1, flags: 0 });

    // Memslots: bind whole files at distinct GPAs; delete existing slots.
    const slotIds = new Set(v.memslots.map((m) => m.slot));
    let nextSlot = 0;
    while (slotIds.has(nextSlot)) nextSlot++;
    for (const g of gmemsByVm.get(vm.id) ?? []) {
      const bound_ = (s.gmems[g.id]?.bindings.length ?? 0) > 0;
      if (v.memslots.length < bound.slots && !bound_) {
        ev.push({
          op: 'set_memory_region2',
          vm: vm.name,
          slot: nextSlot,
          flags: ['gmem'],
          gpa: 0x100000 * (nextSlot + 1),
          size,
          gmem: g.name,
          gmem_offset: 0,
          uaddr: 0,
        });
      }
      ev.push({
        op: 'set_memory_region2',
        vm: vm.name,
        slot: nextSlot,
        flags: ['gmem'],
        gpa: 0x100000 * (nextSlot + 1),
        size,
        gmem: g.name,
        gmem_offset: 1,
        uaddr: 0,
      });
      ev.push({
        op: 'set_memory_region2',
        vm: vm.name,
        slot: nextSlot,
        flags: ['gmem', 'log_dirty'],
        gpa: 0x100000 * (nextSlot + 1),
        size,
        gmem: g.name,
        gmem_offset: 0,
        uaddr: 0,
      });
      if (bound_)
        ev.push({
          op: 'set_memory_region2',
          vm: vm.name,
          slot: nextSlot,
          flags: ['gmem'],
          gpa: 0x100000 * (nextSlot + 1),
          size,
          gmem: g.name,
          gmem_offset: 0,
          uaddr: 0,
        });
    }
    for (const m of v.memslots) {
      ev.push({ op: 'delete_memslot', vm: vm.name, slot: m.slot });
      const g = (gmemsByVm.get(vm.id) ?? [])[0];
      if (g)
        ev.push({
          op: 'set_memory_region2',
          vm: vm.name,
          slot: nextSlot,
          flags: ['gmem'],
          gpa: m.gfn * PAGE,
          size,
          gmem: g.name,
          gmem_offset: 0,
          uaddr: 0,
        });
    }
    ev.push({ op: 'delete_memslot', vm: vm.name, slot: 7 });

    if (rules?.conversion === 'vm-attributes' || profile.choices.setMemoryAttributesMissing) {
      const gfns = v.memslots.flatMap((m) => Array.from({ length: m.npages }, (_, i) => m.gfn + i));
      if (rules?.conversion === 'vm-attributes') {
        for (const gfn of gfns)
          for (const attributes of [8, 0])
            ev.push({ op: 'set_memory_attributes', vm: vm.name, address: gfn * PAGE, size: PAGE, attributes });
      }
      ev.push({ op: 'set_memory_attributes', vm: vm.name, address: 0x100000, size: PAGE, attributes: 8 });
    }
    if (platform && rules) {
      if (rules.launch) {
        ev.push({ op: 'launch_start', vm: vm.name });
        ev.push({ op: 'launch_finish', vm: vm.name });
      }
      for (const m of v.memslots) {
        for (let i = 0; i < m.npages; i++) {
          const gpa = (m.gfn + i) * PAGE;
          if (rules.populate !== 'none')
            ev.push({ op: 'populate', vm: vm.name, gpa, size: PAGE, source: rules.conversion === 'in-place' ? 'in_place' : 'buffer' });
          ev.push({ op: 'guest_access', vm: vm.name, gpa, private: true });
          ev.push({ op: 'guest_access', vm: vm.name, gpa, private: false });
          if (rules.hasPrivateMem && rules.conversion === 'in-place')
            ev.push({ op: 'guest_request_conversion', vm: vm.name, gpa, size: PAGE, private: true });
        }
      }
    }
    ev.push({ op: 'close', h: vm.name });
  }

  const maps = liveMaps(s);
  for (const g of openNames(s, 'gmem')) {
    if (maps.length < bound.maps) {
      ev.push({ op: 'mmap', gmem: g.name, offset: 0, length: size + PAGE, prot: 'rw', shared: true, as: freeMapName(maps) });
    }
    ev.push({ op: 'mmap', gmem: g.name, offset: 0, length: size, prot: 'rw', shared: false });
    ev.push({ op: 'mmap', gmem: g.name, offset: 0, length: size, prot: 'rwx', shared: true });
    ev.push({ op: 'mmap', gmem: g.name, offset: 1, length: size, prot: 'rw', shared: true });
    for (let i = 0; i < bound.pages; i++) {
      ev.push({ op: 'fallocate', gmem: g.name, mode: 'punch_hole', offset: i * PAGE, len: PAGE });
      ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: i * PAGE, len: PAGE });
    }
    // Huge folios (hugetlb): the per-page ranges above are refused as unaligned; punch / allocate each folio too.
    const folio = folioPagesOf(profile, s.gmems[g.id] as GmemState);
    if (folio > 1)
      for (let i = 0; i + folio <= bound.pages; i += folio) {
        ev.push({ op: 'fallocate', gmem: g.name, mode: 'punch_hole', offset: i * PAGE, len: folio * PAGE });
        ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: i * PAGE, len: folio * PAGE });
      }
    ev.push({ op: 'fallocate', gmem: g.name, mode: 0, offset: 0, len: PAGE });
    ev.push({ op: 'fallocate', gmem: g.name, mode: 2, offset: 0, len: PAGE });
    ev.push({ op: 'fallocate', gmem: g.name, mode: 5, offset: 0, len: PAGE });
    ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: 1, len: PAGE });
    ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: 0, len: 0 });
    ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: size, len: PAGE });
    ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: 0x7ffffffffffff000n, len: 0x2000 });
    if (profile.gmemAttributes) {
      const vm = s.gmems[g.id]?.vm ?? 0;
      const rules = profile.vmTypes[s.vms[vm]?.type ?? 'default'];
      if (rules?.conversion === 'in-place' && rules.hasPrivateMem) {
        for (let i = 0; i < bound.pages; i++)
          for (const attributes of [8, 0])
            ev.push({ op: 'set_memory_attributes2', gmem: g.name, offset: i * PAGE, size: PAGE, attributes });
        ev.push({ op: 'set_memory_attributes2', gmem: g.name, offset: 0, size: size, attributes: 8 });
      }
      ev.push({ op: 'set_memory_attributes2', gmem: g.name, offset: size, size: PAGE, attributes: 8 });
    } else {
      ev.push({ op: 'set_memory_attributes2', gmem: g.name, offset: 0, size: PAGE, attributes: 8 });
    }
    ev.push({ op: 'fstat', h: g.name });
    ev.push({ op: 'ftruncate', h: g.name, length: size });
    ev.push({ op: 'read', h: g.name, len: PAGE });
    ev.push({ op: 'pread', h: g.name, offset: 0, len: PAGE });
    ev.push({ op: 'close', h: g.name });
  }

  const livePins = s.pins.filter((p) => p.live);
  for (const m of maps) {
    for (let i = 0; i <= bound.pages; i++) ev.push({ op: 'read_mem', map: m.name, offset: i * PAGE });
    for (let i = 0; i < bound.pages; i++) ev.push({ op: 'write_mem', map: m.name, offset: i * PAGE, value: 1 });
    if (livePins.length < bound.pins)
      for (let i = 0; i < bound.pages; i++) ev.push({ op: 'pin', map: m.name, offset: i * PAGE, len: PAGE });
    ev.push({ op: 'madvise', map: m.name, offset: 0, length: size, advice: 'dontneed' });
    ev.push({ op: 'munmap', map: m.name });
    // userfaultfd, where the profile says what it does: register the file's pages in each mode, continue each
    // page (linux-7.3: each refused); where registration works (uffd-minor), probes too: an unaligned range, a
    // range past the mapping, an unaligned continue.
    if (profile.uffd) {
      for (const mode of ['minor', 'missing'] as const) ev.push({ op: 'uffd_register', map: m.name, offset: 0, length: size, mode });
      for (let i = 0; i < bound.pages; i++) ev.push({ op: 'uffd_continue', map: m.name, offset: i * PAGE, length: PAGE });
      if (profile.uffd.registerModes.length) {
        ev.push({ op: 'uffd_register', map: m.name, offset: 1, length: size, mode: 'minor' });
        ev.push({ op: 'uffd_register', map: m.name, offset: size + PAGE, length: PAGE, mode: 'minor' });
        ev.push({ op: 'uffd_continue', map: m.name, offset: 1, length: PAGE });
      }
    }
  }
  for (const p of livePins) {
    const name = Object.keys(s.names)
      .sort()
      .find((n) => {
        const r = s.names[n];
        return r !== undefined && 'map' in r && r.map === p.map;
      });
    if (name) ev.push({ op: 'unpin', map: name, offset: p.offset, len: p.len });
  }
  return ev;
}
