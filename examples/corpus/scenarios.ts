/**
 * The linux-6.18 conformance corpus: one small trace per behaviour, built from tables. Each trace's observed
 * outcomes are recorded from a real kernel by scripts/build-corpus.ts and committed, so the spec's agreement
 * with that kernel is checked even where no /dev/kvm exists (and re-checked live where one does).
 */
import type { Step } from '../../spec/ops.ts';

export interface Scenario {
  name: string;
  area: string;
  description: string;
  steps: Step[];
}

const PAGE = 4096;
const TOTAL = 4 * PAGE;
const vm: Step = { op: 'create_vm', type: 'default', as: 'vm0' };
const gmem = (flags = 3, size = TOTAL): Step => ({ op: 'create_gmem', vm: 'vm0', size, flags, as: 'g0' });
const map = (length = TOTAL, as = 'm0', offset = 0): Step => ({ op: 'mmap', gmem: 'g0', offset, length, prot: 'rw', shared: true, as });
const base = (flags = 3): Step[] => [vm, gmem(flags)];
const mapped = (flags = 3, length = TOTAL): Step[] => [...base(flags), map(length)];

const out: Scenario[] = [];
const add = (area: string, name: string, description: string, steps: Step[]) => out.push({ area, name: `${area}--${name}`, description, steps });

// create: every flag bit alone, sizes, reserved words.
for (let bit = 0; bit < 64; bit++) {
  add('create', `flag-bit-${String(bit).padStart(2, '0')}`, `KVM_CREATE_GUEST_MEMFD with only flag bit ${bit}`, [vm, { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 1n << BigInt(bit) }]);
}
for (const [name, size] of [['0', 0n], ['1', 1n], ['4095', 4095n], ['4096', 4096n], ['4097', 4097n], ['8192', 8192n], ['1TiB', 1n << 40n], ['2^63-4096', (1n << 63n) - 4096n], ['2^63', 1n << 63n], ['2^64-4096', (1n << 64n) - 4096n]] as const) {
  add('create', `size-${name}`, `KVM_CREATE_GUEST_MEMFD of size ${name}, then fstat`, [vm, { op: 'create_gmem', vm: 'vm0', size, flags: 3, as: 'g0' }, { op: 'fstat', h: 'g0' }]);
}
add('create', 'reserved-nonzero', 'non-zero reserved words are not checked', [vm, { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 0, reserved: [1, 0, 0, 0, 0, (1n << 64n) - 1n] }]);
add('create', 'bad-flag-and-size', 'an unknown flag and a bad size together', [vm, { op: 'create_gmem', vm: 'vm0', size: 1, flags: 4 }]);
add('create', 'closed-vm', 'KVM_CREATE_GUEST_MEMFD on a closed VM fd', [vm, { op: 'close', h: 'vm0' }, { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 0 }]);
add('create', 'two-files', 'two guest_memfds of one VM, each with its own size', [vm, gmem(3, PAGE), { op: 'create_gmem', vm: 'vm0', size: TOTAL, flags: 0, as: 'g1' }, { op: 'fstat', h: 'g0' }, { op: 'fstat', h: 'g1' }]);
add('create', 'caps', 'KVM_CHECK_EXTENSION: guest_memfd caps on /dev/kvm and on the VM', [vm, ...[234, 235, 244, 233, 231, 232, 236].map((cap) => ({ op: 'check_extension', on: 'kvm', cap }) as Step), { op: 'check_extension', on: 'vm0', cap: 244 }]);
for (const type of ['sw_protected', 'sev', 'snp', 'tdx', 'pkvm'] as const) add('create', `vm-type-${type}`, `KVM_CREATE_VM(${type})`, [{ op: 'create_vm', type }]);

// mmap: flags, MAP_PRIVATE, PROT_EXEC, offsets past EOF.
const mm = (flags: number, x: Partial<Record<string, unknown>>): Step[] => [...base(flags), { op: 'mmap', gmem: 'g0', offset: 0, length: TOTAL, prot: 'rw', shared: true, as: 'm0', ...x } as Step];
for (const [name, flags, x] of [
  ['shared', 3, {}], ['shared-mmap-only', 1, {}], ['no-mmap-flag', 2, {}], ['no-flags-private', 0, { shared: false }], ['map-private', 3, { shared: false }],
  ['prot-exec', 3, { prot: 'rwx' }], ['prot-exec-no-mmap-flag', 0, { prot: 'rwx' }], ['prot-exec-private', 3, { prot: 'rwx', shared: false }], ['prot-read', 3, { prot: 'r' }],
  ['prot-none', 3, { prot: 'none' }], ['offset-unaligned', 3, { offset: 1 }], ['length-zero', 3, { length: 0 }], ['offset-at-eof', 3, { offset: TOTAL }],
  ['offset-1TiB', 3, { offset: 1n << 40n }], ['length-4x', 3, { length: 4 * TOTAL }], ['end-past-2^63', 3, { offset: (1n << 63n) - 4096n, length: 2 * PAGE }],
] as const) add('mmap', name, `mmap ${name}`, mm(flags, x));
add('mmap', 'closed-fd', 'mmap of a closed guest_memfd fd', [...base(), { op: 'close', h: 'g0' }, map()]);
add('mmap', 'mprotect-exec', 'mprotect adding PROT_EXEC', [...mapped(), { op: 'mprotect', map: 'm0', prot: 'rwx' }]);
add('mmap', 'mprotect-read-then-write', 'a store after mprotect(PROT_READ)', [...mapped(), { op: 'write_mem', map: 'm0', offset: 0, value: 1 }, { op: 'mprotect', map: 'm0', prot: 'r' }, { op: 'read_mem', map: 'm0', offset: 0 }, { op: 'write_mem', map: 'm0', offset: 0, value: 2 }, { op: 'mprotect', map: 'm0', prot: 'rw' }, { op: 'write_mem', map: 'm0', offset: 0, value: 3 }, { op: 'read_mem', map: 'm0', offset: 0 }]);
add('mmap', 'prot-none-then-read', 'PROT_NONE faults, mprotect(PROT_READ) then reads', [...base(), { op: 'mmap', gmem: 'g0', offset: 0, length: TOTAL, prot: 'none', shared: true, as: 'm0' }, { op: 'read_mem', map: 'm0', offset: 0 }, { op: 'mprotect', map: 'm0', prot: 'r' }, { op: 'read_mem', map: 'm0', offset: 0 }]);

// host faults.
add('fault', 'shared-zero-then-data', 'a never-written shared page reads zero; a store reads back', [...mapped(), { op: 'read_mem', map: 'm0', offset: 5 }, { op: 'write_mem', map: 'm0', offset: 5, value: 171 }, { op: 'read_mem', map: 'm0', offset: 5 }, { op: 'read_mem', map: 'm0', offset: 6 }]);
add('fault', 'private-read', 'MMAP without INIT_SHARED: a read faults SIGBUS', [...mapped(1), { op: 'read_mem', map: 'm0', offset: 0 }]);
add('fault', 'private-write', 'MMAP without INIT_SHARED: a write faults SIGBUS', [...mapped(1), { op: 'write_mem', map: 'm0', offset: PAGE, value: 1 }]);
add('fault', 'private-after-fallocate', 'private memory stays unfaultable after fallocate', [...mapped(1), { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: TOTAL }, { op: 'read_mem', map: 'm0', offset: 0 }]);
add('fault', 'past-eof', 'a mapping 4x the file: the last page reads, the next is SIGBUS', [...mapped(3, 4 * TOTAL), { op: 'read_mem', map: 'm0', offset: TOTAL - 1 }, { op: 'read_mem', map: 'm0', offset: TOTAL }, { op: 'write_mem', map: 'm0', offset: 15 * PAGE, value: 1 }]);
add('fault', 'outside-mapping', 'an access just past the mapping is SIGSEGV', [...mapped(), { op: 'read_mem', map: 'm0', offset: TOTAL }]);
add('fault', 'mapping-at-eof', 'a mapping starting at EOF: every access SIGBUS', [...base(), map(PAGE, 'm0', TOTAL), { op: 'read_mem', map: 'm0', offset: 0 }]);
add('fault', 'after-munmap', 'an access after munmap is SIGSEGV', [...mapped(), { op: 'write_mem', map: 'm0', offset: 0, value: 1 }, { op: 'munmap', map: 'm0' }, { op: 'read_mem', map: 'm0', offset: 0 }]);
add('fault', 'failed-mmap-handle', 'accesses through a failed mmap hit unmapped memory', [...base(), { op: 'mmap', gmem: 'g0', offset: 0, length: TOTAL, prot: 'rw', shared: false, as: 'm0' }, { op: 'read_mem', map: 'm0', offset: 0 }, { op: 'munmap', map: 'm0' }, { op: 'mprotect', map: 'm0', prot: 'r' }]);
add('fault', 'fill-check-whole-file', 'fill every byte, check every byte', [...mapped(), { op: 'fill_mem', map: 'm0', offset: 0, length: TOTAL, value: 90 }, { op: 'check_mem', map: 'm0', offset: 0, length: TOTAL, value: 90 }, { op: 'check_mem', map: 'm0', offset: 0, length: TOTAL, value: 91 }]);
add('fault', 'fill-past-eof', 'a fill that runs past EOF stops at EOF with SIGBUS, keeping what it wrote', [...mapped(3, TOTAL + PAGE), { op: 'fill_mem', map: 'm0', offset: TOTAL - PAGE, length: 2 * PAGE, value: 7 }, { op: 'check_mem', map: 'm0', offset: TOTAL - PAGE, length: PAGE, value: 7 }]);

// data persistence across mappings and munmap/mmap.
add('persist', 'two-mappings', 'a store through one mapping is read through another', [...mapped(), map(TOTAL, 'm1'), { op: 'write_mem', map: 'm0', offset: PAGE, value: 90 }, { op: 'read_mem', map: 'm1', offset: PAGE }, { op: 'write_mem', map: 'm1', offset: 2 * PAGE, value: 51 }, { op: 'read_mem', map: 'm0', offset: 2 * PAGE }]);
add('persist', 'remap', 'data survives munmap and a new mmap', [...mapped(), { op: 'fill_mem', map: 'm0', offset: 0, length: 2 * PAGE, value: 171 }, { op: 'munmap', map: 'm0' }, map(TOTAL, 'm1'), { op: 'check_mem', map: 'm1', offset: 0, length: 2 * PAGE, value: 171 }, { op: 'check_mem', map: 'm1', offset: 2 * PAGE, length: 2 * PAGE, value: 0 }]);
add('persist', 'offset-mapping', 'a mapping at file offset one page sees that page', [...mapped(), { op: 'write_mem', map: 'm0', offset: PAGE + 5, value: 90 }, map(PAGE, 'm1', PAGE), { op: 'read_mem', map: 'm1', offset: 5 }]);
add('persist', 'after-close-fd', 'the mapping keeps working after the guest_memfd fd is closed', [...mapped(), { op: 'write_mem', map: 'm0', offset: 0, value: 66 }, { op: 'close', h: 'g0' }, { op: 'read_mem', map: 'm0', offset: 0 }, { op: 'write_mem', map: 'm0', offset: 0, value: 67 }, { op: 'read_mem', map: 'm0', offset: 0 }]);
add('persist', 'madvise-dontneed', 'MADV_DONTNEED zaps PTEs but keeps the data', [...mapped(), { op: 'write_mem', map: 'm0', offset: PAGE, value: 60 }, { op: 'madvise', map: 'm0', offset: 0, length: TOTAL, advice: 'dontneed' }, { op: 'read_mem', map: 'm0', offset: PAGE }]);

// punch-hole zeroing.
add('punch', 'page0', 'punch page 0: it reads zero, page 1 keeps its data', [...mapped(), { op: 'fill_mem', map: 'm0', offset: 0, length: TOTAL, value: 205 }, { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE }, { op: 'check_mem', map: 'm0', offset: 0, length: PAGE, value: 0 }, { op: 'check_mem', map: 'm0', offset: PAGE, length: 3 * PAGE, value: 205 }]);
add('punch', 'two-mappings', 'a punched page reads zero in every mapping', [...mapped(), map(TOTAL, 'm1'), { op: 'write_mem', map: 'm0', offset: 0, value: 9 }, { op: 'read_mem', map: 'm1', offset: 0 }, { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE }, { op: 'read_mem', map: 'm0', offset: 0 }, { op: 'read_mem', map: 'm1', offset: 0 }]);
add('punch', 'all-then-reallocate', 'punch everything, reallocate: zeroes', [...mapped(), { op: 'fill_mem', map: 'm0', offset: 0, length: TOTAL, value: 3 }, { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: TOTAL }, { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: TOTAL }, { op: 'check_mem', map: 'm0', offset: 0, length: TOTAL, value: 0 }]);
add('punch', 'madvise-remove', 'MADV_REMOVE punches the page out of the file', [...mapped(), map(TOTAL, 'm1'), { op: 'fill_mem', map: 'm0', offset: 0, length: 2 * PAGE, value: 238 }, { op: 'madvise', map: 'm1', offset: PAGE, length: PAGE, advice: 'remove' }, { op: 'read_mem', map: 'm0', offset: PAGE }, { op: 'read_mem', map: 'm0', offset: 0 }]);
add('punch', 'while-pinned', 'punch a long-term pinned page: the file page reads zero', [...mapped(), { op: 'write_mem', map: 'm0', offset: 0, value: 71 }, { op: 'pin', map: 'm0', offset: 0, len: PAGE }, { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE }, { op: 'read_mem', map: 'm0', offset: 0 }, { op: 'unpin', map: 'm0', offset: 0, len: PAGE }]);

// fallocate modes, alignment, range errors.
for (const [name, mode, offset, len] of [
  ['keep-size-all', 'allocate', 0, TOTAL], ['punch-one', 'punch_hole', 0, PAGE], ['mode-0', 0, 0, PAGE], ['punch-without-keep', 2, 0, PAGE], ['no-hide-stale', 4, 0, PAGE],
  ['collapse', 8, 0, PAGE], ['collapse-keep', 9, 0, PAGE], ['zero-range-keep', 0x11, 0, PAGE], ['insert', 0x20, 0, PAGE], ['unshare-keep', 0x41, 0, PAGE], ['write-zeroes', 0x80, 0, PAGE],
  ['unknown-0x100', 0x100, 0, PAGE], ['all-mode-bits', 0xffffffff, 0, PAGE], ['offset-minus-1', 'allocate', -1, PAGE], ['len-0', 'allocate', 0, 0], ['len-minus-1', 'punch_hole', 0, -1],
  ['offset-unaligned', 'allocate', PAGE - 1, PAGE], ['len-unaligned', 'punch_hole', PAGE, PAGE - 1], ['off1-len1', 'allocate', 1, 1], ['allocate-at-eof', 'allocate', TOTAL, PAGE],
  ['allocate-past-eof', 'allocate', TOTAL + PAGE, PAGE], ['allocate-straddle-eof', 'allocate', TOTAL - PAGE, 2 * PAGE], ['allocate-last-page', 'allocate', TOTAL - PAGE, PAGE],
  ['punch-at-eof', 'punch_hole', TOTAL, PAGE], ['punch-straddle-eof', 'punch_hole', TOTAL - PAGE, 2 * PAGE], ['punch-1TiB-past', 'punch_hole', 1n << 40n, 1n << 40n],
  ['end-past-2^63', 'allocate', (1n << 63n) - 4096n, 2 * PAGE], ['punch-end-2^63', 'punch_hole', (1n << 63n) - 4096n, PAGE], ['punch-end-below-2^63', 'punch_hole', (1n << 63n) - 8192n, PAGE],
  ['order-mode0-unaligned', 0, 1, PAGE], ['order-len0-badmode', 4, 0, 0], ['order-efbig-mode0', 0, (1n << 63n) - 4096n, PAGE], ['order-efbig-collapse-keep', 9, (1n << 63n) - 4096n, 2 * PAGE],
] as const) add('fallocate', name, `fallocate mode ${String(mode)} at ${String(offset)}+${String(len)}`, [...base(), { op: 'fallocate', gmem: 'g0', mode, offset, len }]);
add('fallocate', 'closed-fd', 'fallocate on a closed fd', [...base(), { op: 'close', h: 'g0' }, { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: PAGE }]);
add('fallocate', 'vm-fd', 'fallocate on a VM fd', [...base(), { op: 'fallocate', gmem: 'vm0', mode: 'allocate', offset: 0, len: PAGE }]);

// memslot binding rules.
const bind = (x: Record<string, unknown> = {}): Step => ({ op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: 0x100000, size: 2 * PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0, ...x }) as Step;
for (const [name, x, flags] of [
  ['uaddr-0', {}, 3], ['uaddr-mapping', { uaddr: { map: 'm0', offset: 0 } }, 3], ['flags-0-file', {}, 0], ['mmap-only-file', {}, 1], ['init-shared-only-file', {}, 2],
  ['slot-32763', { slot: 32763 }, 3], ['slot-32764', { slot: 32764 }, 3], ['address-space-1', { slot: 0x10000 }, 3], ['log-dirty', { flags: ['gmem', 'log_dirty'] }, 3],
  ['readonly', { flags: ['gmem', 'readonly'] }, 3], ['flag-bit-3', { flags: 4 | 8 }, 3], ['size-unaligned', { size: PAGE + 1 }, 3], ['gpa-unaligned', { gpa: 0x100001 }, 3],
  ['uaddr-unaligned', { uaddr: 1 }, 3], ['uaddr-kernel', { uaddr: 0xffff888000000000n }, 3], ['offset-unaligned', { gmem_offset: 1 }, 3], ['past-eof', { gmem_offset: 3 * PAGE }, 3],
  ['offset-at-eof', { gmem_offset: TOTAL }, 3], ['exact-end', { gmem_offset: 2 * PAGE }, 3], ['offset-wraps', { gmem_offset: (1n << 64n) - 4096n }, 3], ['gpa-wraps', { gpa: (1n << 64n) - 4096n }, 3],
  ['gpa-2^52', { gpa: 1n << 52n }, 3], ['gpa-2^46', { gpa: 1n << 46n }, 3], ['vm-fd-as-gmem', { gmem: 'vm0' }, 3], ['size-0-new-slot', { size: 0 }, 3],
] as const) add('memslot', name, `bind ${name}`, [...mapped(flags), bind(x)]);
const first = [...mapped(), bind()];
add('memslot', 'overlap-gmem-range', 'a second slot on an overlapping guest_memfd range', [...first, bind({ slot: 1, gpa: 0x200000, gmem_offset: PAGE })]);
add('memslot', 'disjoint-gmem-range', 'a second slot on a disjoint guest_memfd range', [...first, bind({ slot: 1, gpa: 0x200000, gmem_offset: 2 * PAGE })]);
add('memslot', 'overlap-gpa', 'a second slot on an overlapping GPA range', [...first, bind({ slot: 1, gpa: 0x101000, gmem_offset: 2 * PAGE })]);
add('memslot', 'order-gpa-overlap-vs-gmem-overlap', 'GPA overlap and guest_memfd overlap together', [...first, bind({ slot: 1, gpa: 0x101000 })]);
add('memslot', 'order-gpa-overlap-vs-bad-fd', 'GPA overlap and a closed fd together', [...first, { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 0, as: 'g1' }, { op: 'close', h: 'g1' }, bind({ slot: 1, gpa: 0x101000, gmem: 'g1' })]);
add('memslot', 'order-bad-fd-vs-past-eof', 'a closed fd and a range past EOF together', [...first, { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 0, as: 'g1' }, { op: 'close', h: 'g1' }, bind({ slot: 1, gpa: 0x300000, gmem: 'g1', gmem_offset: 3 * PAGE })]);
add('memslot', 'order-gpa-unaligned-vs-bad-fd', 'an unaligned gpa and a closed fd together', [...base(), { op: 'close', h: 'g0' }, bind({ gpa: 0x100001 })]);
add('memslot', 'closed-fd', 'binding a closed guest_memfd fd', [...base(), { op: 'close', h: 'g0' }, bind()]);
add('memslot', 'other-vm', 'binding a guest_memfd of another VM', [...base(), { op: 'create_vm', type: 'default', as: 'vm1' }, { op: 'set_memory_region2', vm: 'vm1', slot: 0, flags: ['gmem'], gpa: 0, size: PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0 }]);
add('memslot', 'reissue-identical', 'a guest_memfd slot cannot be re-issued', [...first, bind()]);
add('memslot', 'drop-gmem-flag', 'a guest_memfd slot cannot lose the flag', [...first, { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: [], gpa: 0x100000, size: 2 * PAGE, uaddr: 0 }]);
add('memslot', 'move', 'a guest_memfd slot cannot move', [...first, bind({ gpa: 0x400000 })]);
add('memslot', 'delete-and-rebind', 'delete the slot, bind the same range again, delete a missing slot', [...first, { op: 'delete_memslot', vm: 'vm0', slot: 0 }, bind(), { op: 'delete_memslot', vm: 'vm0', slot: 5 }]);
add('memslot', 'delete-with-flags', 'memory_size 0 with the guest_memfd flag deletes', [...first, bind({ size: 0 })]);
add('memslot', 'plain-slot-reissue', 'a plain slot can be re-issued but cannot gain guest_memfd', [...base(), { op: 'set_memory_region2', vm: 'vm0', slot: 3, flags: [], gpa: 0x400000, size: PAGE, uaddr: 0 }, { op: 'set_memory_region2', vm: 'vm0', slot: 3, flags: [], gpa: 0x400000, size: PAGE, uaddr: 0 }, { op: 'set_memory_region2', vm: 'vm0', slot: 3, flags: ['gmem'], gpa: 0x400000, size: PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0 }]);
add('memslot', 'gmem-flag-without-fd', 'the guest_memfd flag with no fd named (fd 0)', [...base(), { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: 0, size: PAGE, uaddr: 0 }]);
add('memslot', 'attributes-missing', 'KVM_SET_MEMORY_ATTRIBUTES and ...2 do not exist here', [...base(), { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8 }, { op: 'set_memory_attributes', vm: 'vm0', address: 1, size: 0, attributes: 0, flags: 1 }, { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 }]);

// close ordering.
add('close', 'vm-first', 'close the VM first: the guest_memfd still maps, faults, fallocates', [...base(), { op: 'close', h: 'vm0' }, map(), { op: 'write_mem', map: 'm0', offset: 2 * PAGE, value: 34 }, { op: 'read_mem', map: 'm0', offset: 2 * PAGE }, { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 2 * PAGE, len: PAGE }, { op: 'read_mem', map: 'm0', offset: 2 * PAGE }, { op: 'fstat', h: 'g0' }]);
add('close', 'gmem-first-mapped', 'close the guest_memfd while mapped: memory stays, the fd is gone', [...mapped(), { op: 'write_mem', map: 'm0', offset: 0, value: 66 }, { op: 'close', h: 'g0' }, { op: 'read_mem', map: 'm0', offset: 0 }, { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: PAGE }, { op: 'close', h: 'g0' }]);
add('close', 'bound-gmem', 'close a bound guest_memfd: the slot stays, can be deleted, not re-issued', [...base(), bind(), { op: 'close', h: 'g0' }, bind(), { op: 'delete_memslot', vm: 'vm0', slot: 0 }]);
add('close', 'both-mapped', 'both fds closed: the mapping still reads and writes', [...mapped(), { op: 'write_mem', map: 'm0', offset: 0, value: 5 }, { op: 'close', h: 'g0' }, { op: 'close', h: 'vm0' }, { op: 'read_mem', map: 'm0', offset: 0 }, { op: 'write_mem', map: 'm0', offset: PAGE, value: 6 }, { op: 'read_mem', map: 'm0', offset: PAGE }]);
add('close', 'dup', 'a dup keeps the file usable after the first fd is closed', [...base(), { op: 'dup', h: 'g0', as: 'g0b' }, { op: 'close', h: 'g0' }, { op: 'fstat', h: 'g0b' }, { op: 'fallocate', gmem: 'g0b', mode: 'allocate', offset: 0, len: PAGE }, { op: 'fstat', h: 'g0' }]);
add('close', 'double-close', 'closing twice', [...base(), { op: 'close', h: 'g0' }, { op: 'close', h: 'g0' }, { op: 'close', h: 'vm0' }, { op: 'close', h: 'vm0' }]);

// fork.
add('fork', 'shared-data', 'a child reads the parent\'s data; the parent sees the child\'s writes', [...mapped(), { op: 'write_mem', map: 'm0', offset: 0, value: 97 }, { op: 'fork', steps: [{ op: 'read_mem', map: 'm0', offset: 0 }, { op: 'write_mem', map: 'm0', offset: PAGE, value: 98 }] }, { op: 'read_mem', map: 'm0', offset: PAGE }]);
add('fork', 'child-file-ops', 'a child may fallocate and mmap the inherited guest_memfd', [...mapped(), { op: 'fork', steps: [{ op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: PAGE }, map(TOTAL, 'm1'), { op: 'write_mem', map: 'm1', offset: 2 * PAGE, value: 99 }] }, { op: 'read_mem', map: 'm0', offset: 2 * PAGE }]);
add('fork', 'child-vm-ioctl', 'VM ioctls from the child fail with EIO', [...base(), { op: 'fork', steps: [{ op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 0 }, bind(), { op: 'check_extension', on: 'vm0', cap: 244 }] }]);
add('fork', 'dontfork', 'a MADV_DONTFORK mapping is absent in the child', [...mapped(), { op: 'write_mem', map: 'm0', offset: 0, value: 1 }, { op: 'madvise', map: 'm0', offset: 0, length: TOTAL, advice: 'dontfork' }, { op: 'fork', steps: [{ op: 'read_mem', map: 'm0', offset: 0 }] }, { op: 'madvise', map: 'm0', offset: 0, length: TOTAL, advice: 'dofork' }, { op: 'fork', steps: [{ op: 'read_mem', map: 'm0', offset: 0 }] }]);

// fstat / ftruncate / read / write.
for (const [name, s] of [
  ['fstat', { op: 'fstat', h: 'g0' }], ['ftruncate-same', { op: 'ftruncate', h: 'g0', length: TOTAL }], ['ftruncate-0', { op: 'ftruncate', h: 'g0', length: 0 }], ['ftruncate-grow', { op: 'ftruncate', h: 'g0', length: 2 * TOTAL }],
  ['read', { op: 'read', h: 'g0', len: PAGE }], ['read-0', { op: 'read', h: 'g0', len: 0 }], ['write', { op: 'write', h: 'g0', len: PAGE }], ['pread', { op: 'pread', h: 'g0', offset: 0, len: PAGE }],
  ['pwrite', { op: 'pwrite', h: 'g0', offset: 0, len: PAGE }], ['pread-negative', { op: 'pread', h: 'g0', offset: -1, len: PAGE }],
] as const) add('file', name, `${name} on a guest_memfd`, [...base(), s as Step, { op: 'fstat', h: 'g0' }]);

add('file', 'vm-fd-ops', 'file operations on a VM fd, and guest_memfd ioctls on the wrong fds', [
  vm, { op: 'fstat', h: 'vm0' }, { op: 'read', h: 'vm0', len: 16 }, { op: 'pread', h: 'vm0', offset: 0, len: 16 }, { op: 'ftruncate', h: 'vm0', length: 0 },
  { op: 'mmap', gmem: 'vm0', offset: 0, length: PAGE, prot: 'rw', shared: true }, { op: 'dup', h: 'vm0', as: 'vm1' }, { op: 'close', h: 'vm0' },
  { op: 'create_gmem', vm: 'vm1', size: PAGE, flags: 3, as: 'g0' }, { op: 'check_extension', on: 'g0', cap: 244 }, { op: 'set_memory_attributes2', gmem: 'vm1', offset: 0, size: PAGE, attributes: 8 },
]);

// madvise and pins.
for (const advice of ['hugepage', 'nohugepage', 'collapse', 'free', 'willneed', 'pageout', 'sequential', 'random'] as const) {
  add('madvise', advice, `MADV_${advice.toUpperCase()} on a shared mapping, then a read`, [...mapped(), { op: 'write_mem', map: 'm0', offset: PAGE, value: 60 }, { op: 'madvise', map: 'm0', offset: 0, length: TOTAL, advice }, { op: 'read_mem', map: 'm0', offset: PAGE }]);
}
add('pin', 'shared', 'a long-term pin of shared pages, then unpin', [...mapped(), { op: 'pin', map: 'm0', offset: 0, len: TOTAL }, { op: 'unpin', map: 'm0', offset: 0, len: TOTAL }]);
add('pin', 'private', 'a long-term pin of private pages fails with EFAULT', [...mapped(1), { op: 'pin', map: 'm0', offset: 0, len: PAGE }]);
add('pin', 'ops-while-pinned', 'punch, allocate, DONTNEED, munmap and close while pinned', [...mapped(), { op: 'pin', map: 'm0', offset: 0, len: 2 * PAGE }, { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE }, { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: TOTAL }, { op: 'madvise', map: 'm0', offset: 0, length: TOTAL, advice: 'dontneed' }, { op: 'unpin', map: 'm0', offset: 0, len: 2 * PAGE }, { op: 'munmap', map: 'm0' }, { op: 'close', h: 'g0' }]);

add('pin', 'ranges', 'pins need not be page-aligned; an empty range or one reaching past EOF is EFAULT', [...base(3).slice(0, 1), gmem(3, 2 * PAGE), map(3 * PAGE), { op: 'pin', map: 'm0', offset: 1, len: PAGE }, { op: 'pin', map: 'm0', offset: 1, len: 100 }, { op: 'pin', map: 'm0', offset: 0, len: 0 }, { op: 'pin', map: 'm0', offset: PAGE + 1, len: PAGE }, { op: 'pin', map: 'm0', offset: 2 * PAGE, len: PAGE }]);
add('fallocate', 'vm-fd-orders', 'fallocate and mmap on a VM fd: the VFS mode check, then ENODEV, before the size limits', [vm, { op: 'fallocate', gmem: 'vm0', mode: 'allocate', offset: 0, len: 0 }, { op: 'fallocate', gmem: 'vm0', mode: 0, offset: 0, len: PAGE }, { op: 'fallocate', gmem: 'vm0', mode: 2, offset: 0, len: PAGE }, { op: 'fallocate', gmem: 'vm0', mode: 'punch_hole', offset: (1n << 63n) - 4096n, len: PAGE }, { op: 'mmap', gmem: 'vm0', offset: (1n << 63n) - 4096n, length: 2 * PAGE, prot: 'rwx', shared: true }, { op: 'mmap', gmem: 'vm0', offset: (1n << 63n) - 4096n, length: 2 * PAGE, prot: 'rw', shared: true }]);

export const SCENARIOS: readonly Scenario[] = out;
