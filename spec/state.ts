/**
 * The system state the spec reasons about: VMs, guest_memfd instances (inodes) with their pages, open fds,
 * host mappings, pins and handle names. Plain JSON data, so that the graph traversal can key states on it.
 * Sizes and offsets inside the state are in pages (always exact: a u64 byte size / 4096 < 2^53).
 */
import type { Binding } from '../machines/guestMemfd.ts';
import type { VmTypeName } from './constants.ts';

export type Attribute = 'shared' | 'private' | 'toPrivate' | 'toShared';
export type Backing = 'hole' | 'allocated' | 'initialised';
export type TrustedEntityState = 'unprepared' | 'prepared' | 'populated';

/** One page: the page machine's region values plus its context, flattened. */
export interface PageState {
  attribute: Attribute;
  backing: Backing;
  content: number;
  bytes?: Record<string, number>;
  hostMappers: number[];
  pins: number;
  trustedEntity: TrustedEntityState;
  directMap: 'present' | 'removed';
  stage2: 'none' | 'shared' | 'private';
}

/** A memslot's binding of a range of file pages: the guestMemfd machine's own type. */
export type { Binding };

export type GmemLifecycle = 'open' | 'mappedOnly' | 'released';

export interface GmemState {
  vm: number;
  sizePages: number;
  /** Creation flags (only defined bits can be present: creation with others fails). */
  flags: number;
  lifecycle: GmemLifecycle;
  /** Open fds (all processes) and live mappings that reference the file. */
  fds: number;
  maps: number;
  bindings: Binding[];
  /** Pages that differ from a fresh page, by index. A missing index is a fresh page. */
  pages: Record<string, PageState>;
  /**
   * Huge folios (machines/folio.ts) of a file whose flags give folios of more than one page, by folio index
   * (first page / folio pages). A missing index has no folio; the field is absent when no folio exists.
   */
  folios?: Record<string, FolioState>;
}

/** A huge folio that exists: one folio, or split into 4 KiB folios. */
export type FolioState = 'whole' | 'split';

export interface Memslot {
  /** slot id with the address space in bits 16+ (as in the ABI). */
  slot: number;
  gfn: number;
  npages: number;
  flags: number;
  /** guest_memfd id, or -1 for a slot backed by userspace_addr only. */
  gmem: number;
  gmemStart: number;
  /** The guest_memfd file was released while the slot still names it (later gmem faults get EFAULT). */
  gmemGone?: boolean;
  /**
   * userspace_addr as one of the trace's mappings (its index in `maps`) and a byte offset into it: shared
   * accesses the slot serves from user memory go through that mapping. Absent: a raw address, where the model
   * has no user memory, so such accesses fail (EFAULT).
   */
  userMemory?: { map: number; offset: number };
}

export type VmLifecycle = 'alive' | 'fdsClosed' | 'destroyed';
export type LaunchState = 'none' | 'started' | 'finished';

export interface VmState {
  type: VmTypeName;
  lifecycle: VmLifecycle;
  fds: number;
  /** guest_memfd files that hold a reference on the VM. */
  gmemRefs: number;
  /** The process that created the VM: VM ioctls from any other mm get EIO. */
  proc: number;
  memslots: Memslot[];
  /** Per-VM memory attributes (KVM_SET_MEMORY_ATTRIBUTES): private gfn ranges [start, end), sorted, disjoint. */
  privateRanges: Array<[number, number]>;
  launch: LaunchState;
  /** Pending guest conversion requests (KVM_HC_MAP_GPA_RANGE exits) not yet honoured: gfn ranges. */
  pendingConversion?: Array<[number, number, 'private' | 'shared']>;
  /**
   * GFNs where KVM installed an MMIO SPTE (a shared fault with no memslot), sorted. Until it is zapped or
   * replaced, a guest access there takes a reserved-bit fault, which KVM never marks private (x86
   * kvm_mmu_page_fault): measured on the lab kernel.
   */
  mmioGfns?: number[];
}

export interface FdState {
  kind: 'vm' | 'gmem';
  id: number;
  proc: number;
  open: boolean;
}

export interface MapState {
  gmem: number;
  /** First file page and length in pages (the VMA). */
  start: number;
  npages: number;
  prot: string;
  proc: number;
  live: boolean;
  dontfork?: boolean;
  /** Mapping-relative pages with a guard marker (MADV_GUARD_INSTALL): accesses SIGSEGV, GUP fails. Never empty. */
  guards?: number[];
  /**
   * Mapping-relative pages registered with the process's userfaultfd (UFFDIO_REGISTER), each with its mode,
   * sorted by page. Never empty. spec/rules/uffd.ts.
   */
  uffd?: UffdRegistration[];
}

export interface UffdRegistration {
  page: number;
  mode: 'minor' | 'missing';
}

export interface PinState {
  map: number;
  /** Mapping-relative byte range as the pin op named it. */
  offset: number;
  len: number;
  /** File pages whose current folio this pin still holds (a punched folio leaves the file). */
  pages: number[];
  live: boolean;
}

export type NameRef = { fd: number } | { map: number } | { failed: 'fd' | 'map' };

export interface SystemState {
  /** The process issuing operations: 0, or the child inside a fork step. */
  proc: number;
  vms: VmState[];
  gmems: GmemState[];
  fds: FdState[];
  maps: MapState[];
  pins: PinState[];
  names: Record<string, NameRef>;
}

export function emptySystem(): SystemState {
  return { proc: 0, vms: [], gmems: [], fds: [], maps: [], pins: [], names: {} };
}

export function freshPage(initShared: boolean): PageState {
  return {
    attribute: initShared ? 'shared' : 'private',
    backing: 'hole',
    content: 0,
    hostMappers: [],
    pins: 0,
    trustedEntity: 'unprepared',
    directMap: 'present',
    stage2: 'none',
  };
}
