/**
 * Operations, outcomes and states in words, for generated test names, describe titles and assertion messages:
 * "fallocate(g0, PUNCH_HOLE|KEEP_SIZE, page 0)", "fails with EINVAL", "g0 (MMAP|INIT_SHARED, 1 page):
 * page 0 shared, written 1, host-mapped by m0". A kernel developer reads these; they name what the ABI sees.
 */
import { FALLOC_FL, KVM_CAP, KVM_MEMORY_ATTRIBUTE_PRIVATE, MADV } from '../../spec/constants.ts';
import type { FallocateMode, Int, Outcome, SetMemoryRegion2Op, Step } from '../../spec/ops.ts';
import type { Profile } from '../../spec/profile.ts';
import type { PageState, SystemState } from '../../spec/state.ts';
import { memslotFlagBits } from '../../spec/rules/memslots.ts';

const PAGE = 4096n;

function big(v: Int): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

function hex(v: Int): string {
  const b = BigInt.asUintN(64, big(v));
  return `0x${b.toString(16)}`;
}

/** A byte count: "3 pages", "1 page", "4095 bytes", "2^63". */
export function bytesWords(v: Int): string {
  const b = big(v);
  if (b === 1n << 63n) return '2^63 bytes';
  if (b > 0n && b % PAGE === 0n && b / PAGE < 1n << 20n) return `${b / PAGE} page${b / PAGE === 1n ? '' : 's'}`;
  if (b < 0n) return `${b} bytes`;
  if (b >= 1n << 32n) return `${hex(b)} bytes`;
  return `${b} byte${b === 1n ? '' : 's'}`;
}

/** An offset: "page 2", "offset 1", "offset 0x7ffffffffffff000". */
export function offsetWords(v: Int): string {
  const b = big(v);
  if (b >= 0n && b % PAGE === 0n && b / PAGE < 1n << 20n) return `page ${b / PAGE}`;
  if (b < 0n) return `offset ${b}`;
  if (b >= 1n << 32n) return `offset ${hex(b)}`;
  return `offset ${b}`;
}

function range(off: Int, len: Int): string {
  const o = big(off);
  const l = big(len);
  if (o >= 0n && o % PAGE === 0n && l === PAGE && o / PAGE < 1n << 20n) return `page ${o / PAGE}`;
  if (o >= 0n && o % PAGE === 0n && l > 0n && l % PAGE === 0n && (o + l) / PAGE < 1n << 20n) return `pages ${o / PAGE}..${(o + l) / PAGE - 1n}`;
  return `${offsetWords(off)}, length ${bytesWords(len)}`;
}

const FALLOC_NAMES: Array<[number, string]> = [
  [FALLOC_FL.PUNCH_HOLE, 'PUNCH_HOLE'], [FALLOC_FL.COLLAPSE_RANGE, 'COLLAPSE_RANGE'], [FALLOC_FL.ZERO_RANGE, 'ZERO_RANGE'],
  [FALLOC_FL.INSERT_RANGE, 'INSERT_RANGE'], [FALLOC_FL.UNSHARE_RANGE, 'UNSHARE_RANGE'], [FALLOC_FL.WRITE_ZEROES, 'WRITE_ZEROES'],
  [FALLOC_FL.NO_HIDE_STALE, 'NO_HIDE_STALE'], [FALLOC_FL.KEEP_SIZE, 'KEEP_SIZE'],
];

export function fallocModeWords(mode: FallocateMode): string {
  if (mode === 'allocate') return 'KEEP_SIZE';
  if (mode === 'punch_hole') return 'PUNCH_HOLE|KEEP_SIZE';
  let m = Number(BigInt.asUintN(32, big(mode)));
  if (m === 0) return 'mode 0';
  const names: string[] = [];
  for (const [bit, name] of FALLOC_NAMES) if (m & bit) { names.push(name); m &= ~bit; }
  if (m) names.push(`0x${m.toString(16)}`);
  return names.join('|');
}

function flagWords(profile: Profile, flags: Int): string {
  let f = BigInt.asUintN(64, big(flags));
  if (f === 0n) return 'no flags';
  const names: string[] = [];
  for (const d of profile.flags) {
    const bit = 1n << BigInt(d.bit);
    if (f & bit) { names.push(d.name); f &= ~bit; }
  }
  if (f) names.push(`unknown flag ${hex(f)}`);
  return names.join('|');
}

const CAP_NAMES = new Map<number, string>(Object.entries(KVM_CAP).map(([k, v]) => [v, `KVM_CAP_${k}`]));

function attrWords(a: Int): string {
  const b = big(a);
  if (b === 0n) return 'SHARED';
  if (b === KVM_MEMORY_ATTRIBUTE_PRIVATE) return 'PRIVATE';
  return `attributes ${hex(b)}`;
}

function memslotFlags(flags: SetMemoryRegion2Op['flags']): string {
  if (Array.isArray(flags)) return flags.length ? flags.map((f) => (f === 'gmem' ? 'GUEST_MEMFD' : f === 'log_dirty' ? 'LOG_DIRTY_PAGES' : 'READONLY')).join('|') : 'no flags';
  const bits = memslotFlagBits(flags);
  return bits === 0 ? 'no flags' : `flags ${hex(bits)}`;
}

/** A step in words, e.g. `fallocate(g0, PUNCH_HOLE|KEEP_SIZE, page 0)`. */
export function stepPhrase(profile: Profile, s: Step): string {
  const as = s.as ? ` as ${s.as}` : '';
  switch (s.op) {
    case 'check_extension': return `KVM_CHECK_EXTENSION(${CAP_NAMES.get(Number(s.cap)) ?? `cap ${s.cap}`}) on ${s.on === 'kvm' ? '/dev/kvm' : s.on}`;
    case 'create_vm': return `KVM_CREATE_VM(${typeof s.type === 'string' ? s.type : `type ${s.type}`})${as}`;
    case 'create_gmem': {
      const res = s.reserved?.some((r) => big(r) !== 0n) ? `, reserved ${s.reserved.map(String).join(',')}` : '';
      return `KVM_CREATE_GUEST_MEMFD(${s.vm}, ${bytesWords(s.size)}, ${flagWords(profile, s.flags)}${res})${as}`;
    }
    case 'close': return `close(${s.h})`;
    case 'dup': return `dup(${s.h})${as}`;
    case 'mmap': return `mmap(${s.gmem}, ${offsetWords(s.offset)}, ${bytesWords(s.length)}, ${s.prot === 'none' ? 'PROT_NONE' : s.prot}, ${s.shared ? 'MAP_SHARED' : 'MAP_PRIVATE'})${as}`;
    case 'munmap': return `munmap(${s.map})`;
    case 'mprotect': return `mprotect(${s.map}, ${s.prot === 'none' ? 'PROT_NONE' : s.prot})`;
    case 'madvise': return `madvise(${s.map}, ${range(s.offset, s.length)}, MADV_${s.advice.toUpperCase()}${MADV[s.advice] === undefined ? '?' : ''})`;
    case 'read_mem': return `a host read of ${offsetWords(s.offset)} through ${s.map}`;
    case 'write_mem': return `a host write of ${s.value} to ${offsetWords(s.offset)} through ${s.map}`;
    case 'fill_mem': return `a host fill of ${range(s.offset, s.length)} with ${s.value} through ${s.map}`;
    case 'check_mem': return `a host read-back of ${range(s.offset, s.length)} through ${s.map} expecting ${s.value}`;
    case 'fallocate': return `fallocate(${s.gmem}, ${fallocModeWords(s.mode)}, ${range(s.offset, s.len)})`;
    case 'fstat': return `fstat(${s.h})`;
    case 'ftruncate': return `ftruncate(${s.h}, ${bytesWords(s.length)})`;
    case 'read': case 'write': return `${s.op}(${s.h}, ${bytesWords(s.len)})`;
    case 'pread': case 'pwrite': return `${s.op}(${s.h}, ${bytesWords(s.len)} at ${offsetWords(s.offset)})`;
    case 'set_memory_region2': {
      const uaddr = typeof s.uaddr === 'object' ? `${s.uaddr.map}+${s.uaddr.offset}` : hex(s.uaddr);
      const g = s.gmem !== undefined ? `, ${s.gmem} at ${offsetWords(s.gmem_offset ?? 0)}` : '';
      return `KVM_SET_USER_MEMORY_REGION2(${s.vm}, slot ${s.slot}, ${memslotFlags(s.flags)}, gpa ${hex(s.gpa)}, ${bytesWords(s.size)}${g}, uaddr ${uaddr})`;
    }
    case 'delete_memslot': return `deleting memslot ${s.slot} of ${s.vm}`;
    case 'set_memory_attributes': return `KVM_SET_MEMORY_ATTRIBUTES(${s.vm}, gpa ${hex(s.address)}, ${bytesWords(s.size)}, ${attrWords(s.attributes)}${s.flags ? `, flags ${s.flags}` : ''})`;
    case 'set_memory_attributes2': return `KVM_SET_MEMORY_ATTRIBUTES2(${s.gmem}, ${range(s.offset, s.size)}, ${attrWords(s.attributes)}${s.flags ? `, flags ${s.flags}` : ''})`;
    case 'pin': return `a long-term pin of ${range(s.offset, s.len)} through ${s.map}`;
    case 'unpin': return `unpinning ${range(s.offset, s.len)} of ${s.map}`;
    case 'fork': return `in a forked child: ${s.steps.map((x) => stepPhrase(profile, x)).join('; ')}`;
    case 'launch_start': case 'launch_finish': return `${s.op === 'launch_start' ? 'launch start' : 'launch finish'} on ${s.vm}`;
    case 'populate': return `populate(${s.vm}, gpa ${hex(s.gpa)}, ${bytesWords(s.size)}, ${s.source === 'in_place' ? 'in place' : 'from a buffer'})`;
    case 'guest_access': return `a guest ${s.write !== undefined ? `write of ${s.write}` : 'read'} (${s.private ? 'private' : 'shared'}) of gpa ${hex(s.gpa)} on ${s.vm}`;
    case 'guest_request_conversion': return `a guest request (MAP_GPA_RANGE) to make gpa ${hex(s.gpa)}, ${bytesWords(s.size)} ${s.private ? 'private' : 'shared'} on ${s.vm}`;
  }
}

/** What happened, as the rest of a sentence: "succeeds", "fails with EINVAL", "reads 0", "is SIGBUS". */
export function outcomePhrase(o: Outcome): string {
  if ('errno' in o) return `fails with ${o.errno}${o.error_offset !== undefined ? ` (error_offset ${o.error_offset})` : ''}`;
  if ('access' in o) {
    if (o.access !== 'ok') return `is ${o.access}`;
    if (o.match !== undefined) return o.match ? 'reads back the value' : 'reads back something else';
    return o.value !== undefined ? `reads ${o.value}` : 'succeeds';
  }
  if ('exit' in o) return o.exit === 'MEMORY_FAULT' ? `exits with KVM_EXIT_MEMORY_FAULT (${o.private ? 'private' : 'shared'})` : 'exits with KVM_EXIT_MMIO';
  if ('failed' in o) return `cannot run (${o.failed})`;
  if ('not_modelled' in o) return `is not modelled (${o.not_modelled})`;
  if (o.fstat) return `reports st_size ${o.fstat.st_size}`;
  if (o.ret !== undefined) return `returns ${o.ret}`;
  if (o.steps) return `runs (${o.steps.map(outcomePhrase).join('; ')})`;
  return 'succeeds';
}

function fdNames(s: SystemState): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of Object.keys(s.names).sort()) {
    const r = s.names[n];
    if (!r) continue;
    const key = 'fd' in r ? `fd${r.fd}` : 'map' in r ? `map${r.map}` : '';
    if (key && !out.has(key)) out.set(key, n);
  }
  return out;
}

function pageWords(p: PageState | undefined, initShared: boolean, mapName: (i: number) => string): string | undefined {
  if (!p) return undefined;
  const bits: string[] = [p.attribute];
  if (p.backing === 'allocated') bits.push('allocated');
  if (p.backing === 'initialised') bits.push(p.content || p.bytes ? `written ${p.content}${p.bytes ? ' (and other bytes)' : ''}` : 'zeroed');
  if (p.hostMappers.length) bits.push(`host-mapped by ${p.hostMappers.map(mapName).join(', ')}`);
  if (p.pins) bits.push(p.pins === 1 ? 'pinned' : `pinned ${p.pins} times`);
  if (p.trustedEntity !== 'unprepared') bits.push(p.trustedEntity);
  if (p.stage2 !== 'none') bits.push(`guest-mapped ${p.stage2}`);
  if (p.directMap === 'removed') bits.push('out of the direct map');
  if (bits.length === 1 && p.attribute === (initShared ? 'shared' : 'private')) return undefined;
  return bits.join(', ');
}

/** What a step should do, after "should": "fail with EINVAL", "succeed", "read 0", "be SIGBUS". */
export function expectPhrase(o: Outcome): string {
  if ('errno' in o) return `fail with ${o.errno}${o.error_offset !== undefined ? ` (error_offset ${o.error_offset})` : ''}`;
  if ('access' in o) {
    if (o.access !== 'ok') return `be ${o.access}`;
    if (o.match !== undefined) return o.match ? 'read back the value' : 'read back something else';
    return o.value !== undefined ? `read ${o.value}` : 'succeed';
  }
  if ('exit' in o) return o.exit === 'MEMORY_FAULT' ? `exit with KVM_EXIT_MEMORY_FAULT (${o.private ? 'private' : 'shared'})` : 'exit with KVM_EXIT_MMIO';
  if ('failed' in o) return `not run (${o.failed})`;
  if ('not_modelled' in o) return `do what the kernel does (not modelled: ${o.not_modelled})`;
  if (o.fstat) return `report st_size ${o.fstat.st_size}, st_blksize ${o.fstat.st_blksize}, type ${o.fstat.st_type}`;
  if (o.ret !== undefined) return `return ${o.ret}`;
  if (o.steps) return `run (${o.steps.map(outcomePhrase).join('; ')})`;
  return 'succeed';
}

/** A state in words: every VM, guest_memfd (with its non-fresh pages), mapping and pin. */
export function stateWords(profile: Profile, s: SystemState): string {
  if (!s.vms.length) return 'nothing created yet';
  const names = fdNames(s);
  const parts: string[] = [];
  s.vms.forEach((v, id) => {
    const fdIdx = s.fds.findIndex((f) => f.open && f.kind === 'vm' && f.id === id);
    const name = fdIdx >= 0 ? (names.get(`fd${fdIdx}`) ?? `VM #${id}`) : `VM #${id} (fd closed)`;
    const bits: string[] = [];
    if (v.lifecycle === 'destroyed') bits.push('destroyed');
    if (v.launch !== 'none') bits.push(`launch ${v.launch}`);
    for (const m of v.memslots) bits.push(`slot ${m.slot} → ${m.gmem >= 0 ? `guest_memfd #${m.gmem}${m.gmemGone ? ' (released)' : ''}` : 'user memory'}`);
    if (v.privateRanges.length) bits.push(`private GFNs ${v.privateRanges.map(([a, b]) => (b - a === 1 ? `${a}` : `${a}..${b - 1}`)).join(',')}`);
    if (v.pendingConversion?.length) bits.push(`pending conversion ${v.pendingConversion.map(([a, , t]) => `${a}→${t}`).join(',')}`);
    parts.push(`${name}${v.type !== 'default' ? ` (${v.type})` : ''}${bits.length ? ` [${bits.join('; ')}]` : ''}`);
  });
  const mapName = (i: number) => names.get(`map${i}`) ?? `mapping #${i}`;
  s.gmems.forEach((g, id) => {
    const fdIdx = s.fds.findIndex((f) => f.open && f.kind === 'gmem' && f.id === id);
    const name = fdIdx >= 0 ? (names.get(`fd${fdIdx}`) ?? `guest_memfd #${id}`) : `guest_memfd #${id}`;
    if (g.lifecycle === 'released') {
      parts.push(`${name} released`);
      return;
    }
    const initShared = profile.flags.some((f) => f.effects.initShared && (g.flags & 2 ** f.bit) !== 0);
    const bits: string[] = [];
    if (fdIdx < 0) bits.push('fd closed, kept by its mapping');
    if (g.bindings.length) bits.push(`bound to ${g.bindings.map((b) => `slot ${b.slot}`).join(', ')}`);
    const pageBits: string[] = [];
    for (let i = 0; i < g.sizePages; i++) {
      const w = pageWords(g.pages[String(i)], initShared, mapName);
      if (w) pageBits.push(`page ${i} ${w}`);
    }
    bits.push(pageBits.length ? pageBits.join('; ') : `every page ${initShared ? 'shared' : 'private'} and fresh`);
    parts.push(`${name} (${flagWords(profile, g.flags)}, ${g.sizePages} page${g.sizePages === 1 ? '' : 's'}): ${bits.join('; ')}`);
  });
  s.maps.forEach((m, i) => { if (m.live) parts.push(`${mapName(i)} maps guest_memfd #${m.gmem}${m.prot !== 'rw' ? ` (${m.prot})` : ''}`); });
  const pins = s.pins.filter((p) => p.live);
  if (pins.length) {
    parts.push(pins.map((p) => (p.map >= 0 ? `a pin on ${mapName(p.map)} at ${offsetWords(p.offset)}` : 'a pin whose mapping is gone')).join(', '));
  }
  return parts.join('; ');
}

/** Shorten a title to `max` characters at a word boundary. */
export function clip(s: string, max = 240): string {
  if (s.length <= max) return s;
  const cut = s.lastIndexOf(' ', max - 1);
  return `${s.slice(0, cut > max / 2 ? cut : max - 1)}…`;
}
