/**
 * The sw-protected conformance corpus: one small trace per behaviour of a KVM_X86_SW_PROTECTED_VM, recorded
 * on the lab kernel (scripts/build-lab-corpus.ts) into examples/corpus/sw-protected/. Attributes, private and
 * shared guest faults, binding rules, pre-faults, guest conversion requests, and conversions with host
 * mappings and pins present.
 */
import type { Step } from '../../spec/ops.ts';
import type { Scenario } from './scenarios.ts';

const PAGE = 4096;
const GPA = 0x100000;
const PRIVATE = 8;
const vm: Step = { op: 'create_vm', type: 'sw_protected', as: 'vm0' };
const gmem = (flags = 0, size = 2 * PAGE, as = 'g0', on = 'vm0'): Step => ({ op: 'create_gmem', vm: on, size, flags, as });
const bind = (x: Partial<Record<string, unknown>> = {}): Step =>
  ({ op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: GPA, size: 2 * PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0, ...x }) as Step;
const attrs = (attributes: number, address = GPA, size = 2 * PAGE, x: Partial<Record<string, unknown>> = {}): Step =>
  ({ op: 'set_memory_attributes', vm: 'vm0', address, size, attributes, ...x }) as Step;
const read = (gpa = GPA, priv = true): Step => ({ op: 'guest_access', vm: 'vm0', gpa, private: priv });
const write = (gpa: number, value: number, priv = true): Step => ({ op: 'guest_access', vm: 'vm0', gpa, private: priv, write: value });
const preFault = (gpa = GPA, size = PAGE, x: Partial<Record<string, unknown>> = {}): Step => ({ op: 'pre_fault', vm: 'vm0', gpa, size, ...x }) as Step;
const request = (gpa = GPA, size = PAGE, priv = false): Step => ({ op: 'guest_request_conversion', vm: 'vm0', gpa, size, private: priv });
/** A private, bound guest_memfd of two pages at GPA. */
const privateBound = (flags = 0): Step[] => [vm, gmem(flags), bind(), attrs(PRIVATE)];
/**
 * Shared memory the trace owns: an INIT_SHARED guest_memfd of a second (default) VM, mapped. As the
 * userspace_addr of vm0's slot it is ordinary user memory to vm0.
 */
const userMemory = (): Step[] => [
  { op: 'create_vm', type: 'default', as: 'vm1' },
  gmem(3, 2 * PAGE, 'u0', 'vm1'),
  { op: 'mmap', gmem: 'u0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'um' },
];

const out: Scenario[] = [];
const add = (area: string, name: string, description: string, steps: Step[]) => out.push({ area, name: `${area}--${name}`, description, steps });

// VM type, capabilities, guest_memfd flags on a SW_PROTECTED VM.
add('vm', 'caps', 'KVM_CHECK_EXTENSION on /dev/kvm and on a SW_PROTECTED VM: VM types, attributes, pre-fault, guest_memfd flags',
  [vm, ...[235, 233, 236, 244].flatMap((cap) => [{ op: 'check_extension', on: 'kvm', cap }, { op: 'check_extension', on: 'vm0', cap }] as Step[])]);
for (const [name, flags] of [['none', 0], ['mmap', 1], ['init-shared', 2], ['mmap-init-shared', 3], ['bit-2', 4]] as const) {
  add('vm', `gmem-flags-${name}`, `KVM_CREATE_GUEST_MEMFD with flags ${flags} on a SW_PROTECTED VM`, [vm, gmem(flags, PAGE)]);
}

// KVM_SET_MEMORY_ATTRIBUTES: what it accepts.
add('attributes', 'private-then-shared', 'PRIVATE, then back to shared, on a range with no memslot', [vm, attrs(PRIVATE), attrs(0)]);
for (const [name, x] of [
  ['flags', { flags: 1 }], ['unknown-bit', { attributes: 16 }], ['rwx-bits', { attributes: 7 }], ['unaligned-address', { address: GPA + 1 }],
  ['unaligned-size', { size: PAGE + 1 }], ['size-zero', { size: 0 }], ['wraps', { address: (1n << 64n) - BigInt(PAGE), size: 2 * PAGE }],
  ['large-range', { address: 0, size: 1n << 30n }],
] as const) add('attributes', name, `KVM_SET_MEMORY_ATTRIBUTES: ${name}`, [vm, attrs(PRIVATE, GPA, 2 * PAGE, x)]);
add('attributes', 'default-vm', 'PRIVATE on a default VM, and attributes 0', [{ op: 'create_vm', type: 'default', as: 'vm0' }, attrs(PRIVATE), attrs(0)]);
add('attributes', 'closed-vm', 'KVM_SET_MEMORY_ATTRIBUTES on a closed VM fd', [vm, { op: 'close', h: 'vm0' }, attrs(PRIVATE)]);
add('attributes', 'from-child', 'KVM_SET_MEMORY_ATTRIBUTES from a forked child', [vm, { op: 'fork', steps: [attrs(PRIVATE)] }]);

// Binding rules on a SW_PROTECTED VM.
add('bind', 'private-gmem', 'a guest_memfd without flags binds; so does one with MMAP', [vm, gmem(0), bind(), gmem(1, 2 * PAGE, 'g1'), bind({ slot: 1, gpa: 2 * GPA, gmem: 'g1' })]);
add('bind', 'twice', 'the same guest_memfd range bound to a second slot', [vm, gmem(0), bind(), bind({ slot: 1, gpa: 2 * GPA })]);
add('bind', 'other-vm', 'a guest_memfd of another VM', [vm, { op: 'create_vm', type: 'sw_protected', as: 'vm1' }, gmem(0, 2 * PAGE, 'g0', 'vm1'), bind()]);
add('bind', 'past-eof', 'a slot reaching past the end of the file', [vm, gmem(0), bind({ size: 4 * PAGE })]);
add('bind', 'unaligned-offset', 'gmem_offset not page-aligned', [vm, gmem(0), bind({ gmem_offset: 1 })]);
add('bind', 'delete-rebind', 'delete the slot, bind the range again', [vm, gmem(0), bind(), { op: 'delete_memslot', vm: 'vm0', slot: 0 }, bind({ slot: 3 })]);

// Private guest faults: served by guest_memfd.
add('private', 'read-zero', 'a private page the guest never wrote reads zero', [...privateBound(), read(GPA + 7)]);
add('private', 'write-read', 'a guest write to a private page reads back; the other page is untouched', [...privateBound(), write(GPA + 9, 170), read(GPA + 9), read(GPA + 10), read(GPA + PAGE + 9)]);
add('private', 'host-cannot-read', 'MMAP without INIT_SHARED: the host mapping of private memory is SIGBUS while the guest reads it',
  [...privateBound(1), { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'm0' }, write(GPA, 5), { op: 'read_mem', map: 'm0', offset: 0 }, read(GPA)]);
add('private', 'punch', 'punching a private page the guest wrote: it reads zero again', [...privateBound(), write(GPA + 1, 66), { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE }, read(GPA + 1)]);
add('private', 'allocate-first', 'fallocate, then the guest reads', [...privateBound(), { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: 2 * PAGE }, read(GPA + PAGE)]);
add('private', 'no-gmem-slot', 'a private GFN in a slot without guest_memfd: KVM_EXIT_MEMORY_FAULT (private)',
  [vm, { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: [], gpa: GPA, size: PAGE, uaddr: 0 }, attrs(PRIVATE, GPA, PAGE), read()]);
add('private', 'no-slot', 'a private GFN with no memslot: KVM_EXIT_MEMORY_FAULT (private)', [vm, attrs(PRIVATE), read()]);
add('private', 'stale-mmio-spte', 'a GPA with no memslot is MMIO; made PRIVATE, the guest still hits KVM\'s MMIO SPTE: a memory fault that says shared (a pre-fault, taking the attribute, says EFAULT)',
  [vm, read(), attrs(PRIVATE, GPA, PAGE), read(), preFault(), attrs(0, GPA, PAGE), read()]);
add('private', 'stale-mmio-spte-then-slot', 'an MMIO GPA later bound to guest_memfd and made PRIVATE: the stale MMIO SPTE still makes the guest\'s access shared; made shared, the access is served and the SPTE replaced',
  [vm, read(), gmem(0), bind(), attrs(PRIVATE), read(), attrs(0), read(), attrs(PRIVATE), read()]);
add('private', 'gmem-closed', 'the guest_memfd fd is closed while bound: the next private fault', [...privateBound(), write(GPA, 1), { op: 'close', h: 'g0' }, read()]);
add('private', 'slot-deleted', 'the slot is deleted: the private GFN has no memslot any more', [...privateBound(), write(GPA, 1), { op: 'delete_memslot', vm: 'vm0', slot: 0 }, read()]);
add('private', 'second-slot-offset', 'a slot bound at a file offset sees that file page', [vm, gmem(0), bind({ size: PAGE }), bind({ slot: 1, gpa: 2 * GPA, size: PAGE, gmem_offset: PAGE }), attrs(PRIVATE, GPA, PAGE), attrs(PRIVATE, 2 * GPA, PAGE), write(2 * GPA, 7), read(2 * GPA), read(GPA)]);

// Shared guest faults: served by userspace_addr (or by guest_memfd for an MMAP file: GMEM_ONLY).
add('shared', 'no-user-memory', 'a shared GFN of a gmem slot whose userspace_addr is 0: KVM cannot fault it in', [vm, gmem(0), bind(), read(), write(GPA, 1, false)]);
add('shared', 'user-memory', 'a shared GFN whose userspace_addr is one of the trace\'s mappings', [...userMemory(), vm, gmem(0), bind({ uaddr: { map: 'um', offset: 0 } }), write(GPA + 3, 44, false), { op: 'read_mem', map: 'um', offset: 3 }]);
add('shared', 'gmem-only', 'an MMAP guest_memfd makes the slot GMEM_ONLY: a shared access is served by guest_memfd', [vm, gmem(1), bind(), write(GPA + 2, 9, false), read(GPA + 2, false)]);
add('shared', 'no-slot-mmio', 'a shared GFN with no memslot is MMIO', [vm, read(), write(GPA, 1, false)]);
add('shared', 'plain-slot', 'a slot without guest_memfd backed by the trace\'s mapping', [...userMemory(), vm, { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: [], gpa: GPA, size: PAGE, uaddr: { map: 'um', offset: 0 } }, write(GPA, 12, false), { op: 'read_mem', map: 'um', offset: 0 }]);

// Conversions (per-VM attributes) with guest_memfd contents, host mappings and pins present.
add('convert', 'private-shared-private', 'private data survives a round trip through shared: conversion does not touch guest_memfd',
  [...privateBound(), write(GPA + 4, 77), attrs(0), read(GPA + 4), attrs(PRIVATE), read(GPA + 4)]);
add('convert', 'shared-then-private', 'a shared GFN the guest could not fault becomes private and is served by guest_memfd', [vm, gmem(0), bind(), read(), attrs(PRIVATE), read()]);
add('convert', 'gmem-only-mapped', 'GMEM_ONLY slot with a host mapping: private or shared, the guest reads the same page',
  [vm, gmem(1), bind(), { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'm0' }, write(GPA, 31, false), attrs(PRIVATE), read(GPA), { op: 'read_mem', map: 'm0', offset: 0 }, attrs(0), read(GPA, false)]);
add('convert', 'pinned-user-memory', 'a long-term pin on the shared backing does not stop a conversion to private',
  [...userMemory(), vm, gmem(0), bind({ uaddr: { map: 'um', offset: 0 } }), { op: 'pin', map: 'um', offset: 0, len: PAGE }, write(GPA, 3, false), attrs(PRIVATE), read(GPA), attrs(0), { op: 'read_mem', map: 'um', offset: 0 }, { op: 'unpin', map: 'um', offset: 0, len: PAGE }]);
add('convert', 'pin-private-mapping', 'a long-term pin of a private guest_memfd mapping', [...privateBound(1), { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'm0' }, { op: 'pin', map: 'm0', offset: 0, len: PAGE }]);

// KVM_PRE_FAULT_MEMORY.
add('prefault', 'private', 'pre-fault a private page, then the guest reads it', [...privateBound(), preFault(), read()]);
add('prefault', 'whole-slot', 'pre-fault both pages of the slot', [...privateBound(), preFault(GPA, 2 * PAGE)]);
add('prefault', 'partial', 'a range running past the slot: the slot\'s pages are mapped, the rest is left over', [...privateBound(), preFault(GPA, 4 * PAGE)]);
add('prefault', 'shared-no-user-memory', 'pre-fault a shared GFN whose userspace_addr is 0', [vm, gmem(0), bind(), preFault()]);
add('prefault', 'shared-user-memory', 'pre-fault a shared GFN backed by the trace\'s mapping', [...userMemory(), vm, gmem(0), bind({ uaddr: { map: 'um', offset: 0 } }), preFault()]);
add('prefault', 'no-slot', 'pre-fault a GPA with no memslot: shared, then private', [vm, preFault(), attrs(PRIVATE), preFault()]);
for (const [name, x] of [['flags', { flags: 1 }], ['unaligned-gpa', { gpa: GPA + 1 }], ['unaligned-size', { size: PAGE + 1 }], ['size-zero', { size: 0 }], ['wraps', { gpa: (1n << 64n) - BigInt(PAGE), size: 2 * PAGE }]] as const) {
  add('prefault', name, `KVM_PRE_FAULT_MEMORY: ${name}`, [...privateBound(), preFault(GPA, PAGE, x)]);
}
add('prefault', 'gmem-closed', 'pre-fault after the guest_memfd fd is closed', [...privateBound(), { op: 'close', h: 'g0' }, preFault()]);
add('prefault', 'default-vm', 'pre-fault on a default VM: an MMAP guest_memfd slot, then MMIO', [{ op: 'create_vm', type: 'default', as: 'vm0' }, gmem(3), bind(), preFault(), preFault(4 * GPA)]);

// Guest conversion requests (KVM_HC_MAP_GPA_RANGE exits).
add('request', 'to-shared', 'the guest asks for a private range to become shared, then userspace converts', [...privateBound(), request(GPA, 2 * PAGE, false), attrs(0)]);
add('request', 'to-private', 'the guest asks for a range to become private', [vm, request(GPA, PAGE, true)]);
add('request', 'unaligned', 'a request for an unaligned GPA', [vm, request(GPA + 1)]);
add('request', 'zero-pages', 'a request for zero pages', [vm, request(GPA, 0)]);
add('request', 'default-vm', 'a default VM\'s guest makes the request', [{ op: 'create_vm', type: 'default', as: 'vm0' }, request()]);

// VM fd lifetime and other processes.
add('vm', 'closed', 'guest access and pre-fault through a closed VM fd', [...privateBound(), { op: 'close', h: 'vm0' }, read(), preFault()]);
add('vm', 'from-child', 'guest access and pre-fault from a forked child', [...privateBound(), { op: 'fork', steps: [read(), preFault()] }]);
add('vm', 'dup', 'a dup of the VM fd is the same VM, after the original is closed', [...privateBound(), write(GPA, 8), { op: 'dup', h: 'vm0', as: 'vm2' }, { op: 'close', h: 'vm0' }, { op: 'guest_access', vm: 'vm2', gpa: GPA, private: true }]);

export const SW_PROTECTED_SCENARIOS: readonly Scenario[] = out;
