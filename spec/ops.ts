/**
 * The operation vocabulary: plain JSON-able objects shared by the spec, the backends, the generated tests and
 * recorded traces. Integers are `Int` (number when it fits, bigint past 2^53) because the ABI's fields are u64.
 */
import type { ErrnoName, MadviseName, VmTypeName } from './constants.ts';

export type Int = number | bigint;
/** A handle names an object a step created (`vm0`, `g0`, `m0`, ...). */
export type Handle = string;

export type Prot = string; // subset of "rwx" in that order, or "none"

export interface CheckExtensionOp {
  op: 'check_extension';
  on: 'kvm' | Handle;
  cap: Int;
}
export interface CreateVmOp {
  op: 'create_vm';
  type: VmTypeName | Int;
}
export interface CreateGmemOp {
  op: 'create_gmem';
  vm: Handle;
  size: Int;
  flags: Int;
  reserved?: Int[];
}
export interface CloseOp {
  op: 'close';
  h: Handle;
}
export interface DupOp {
  op: 'dup';
  h: Handle;
}
export interface MmapOp {
  op: 'mmap';
  gmem: Handle;
  offset: Int;
  length: Int;
  prot: Prot;
  shared: boolean;
}
export interface MunmapOp {
  op: 'munmap';
  map: Handle;
}
export interface MprotectOp {
  op: 'mprotect';
  map: Handle;
  prot: Prot;
}
export interface MadviseOp {
  op: 'madvise';
  map: Handle;
  offset: Int;
  length: Int;
  advice: MadviseName;
}
export interface ReadMemOp {
  op: 'read_mem';
  map: Handle;
  offset: Int;
}
export interface WriteMemOp {
  op: 'write_mem';
  map: Handle;
  offset: Int;
  value: number;
}
export interface FillMemOp {
  op: 'fill_mem';
  map: Handle;
  offset: Int;
  length: Int;
  value: number;
}
export interface CheckMemOp {
  op: 'check_mem';
  map: Handle;
  offset: Int;
  length: Int;
  value: number;
}
export type FallocateMode = 'allocate' | 'punch_hole' | Int;
export interface FallocateOp {
  op: 'fallocate';
  gmem: Handle;
  mode: FallocateMode;
  offset: Int;
  len: Int;
}
export interface FstatOp {
  op: 'fstat';
  h: Handle;
}
export interface FtruncateOp {
  op: 'ftruncate';
  h: Handle;
  length: Int;
}
export interface ReadOp {
  op: 'read';
  h: Handle;
  len: Int;
}
export interface WriteOp {
  op: 'write';
  h: Handle;
  len: Int;
}
export interface PreadOp {
  op: 'pread';
  h: Handle;
  offset: Int;
  len: Int;
}
export interface PwriteOp {
  op: 'pwrite';
  h: Handle;
  offset: Int;
  len: Int;
}
export type MemslotFlag = 'gmem' | 'log_dirty' | 'readonly';
export interface SetMemoryRegion2Op {
  op: 'set_memory_region2';
  vm: Handle;
  slot: Int;
  /** Named flags, or a raw u32 for flag bits the vocabulary has no name for. */
  flags: MemslotFlag[] | Int;
  gpa: Int;
  size: Int;
  gmem?: Handle;
  gmem_offset?: Int;
  /** A raw user address, or an address inside a mapping this trace made. */
  uaddr: Int | { map: Handle; offset: Int };
}
export interface DeleteMemslotOp {
  op: 'delete_memslot';
  vm: Handle;
  slot: Int;
}
export interface SetMemoryAttributesOp {
  op: 'set_memory_attributes';
  vm: Handle;
  address: Int;
  size: Int;
  attributes: Int;
  flags?: Int;
}
/** Proposal (in-place conversion): KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd fd. */
export interface SetMemoryAttributes2Op {
  op: 'set_memory_attributes2';
  gmem: Handle;
  offset: Int;
  size: Int;
  attributes: Int;
  flags?: Int;
}
/** Long-term GUP pin (e.g. io_uring fixed buffer, VFIO) of the pages under [offset, offset+len) of a mapping. */
export interface PinOp {
  op: 'pin';
  map: Handle;
  offset: Int;
  len: Int;
}
export interface UnpinOp {
  op: 'unpin';
  map: Handle;
  offset: Int;
  len: Int;
}
/** Run the nested steps in a forked child process; the child exits afterwards. */
export interface ForkOp {
  op: 'fork';
  steps: Step[];
}
/** Platform launch flow (SNP LAUNCH_START/FINISH, TDX INIT_VM/FINALIZE_VM, CCA activate). */
export interface LaunchOp {
  op: 'launch_start' | 'launch_finish';
  vm: Handle;
}
/** Platform populate (SNP LAUNCH_UPDATE, TDX INIT_MEM_REGION, CCA RMI_POPULATE): load and measure initial image. */
export interface PopulateOp {
  op: 'populate';
  vm: Handle;
  gpa: Int;
  size: Int;
  source: 'buffer' | 'in_place';
}
/**
 * A guest (vCPU) access to a GPA. `private` is the access's own private-ness where the platform takes it from
 * the access (SNP C-bit, TDX shared bit, CCA IPA half, pKVM); where KVM derives it from the GFN's attribute
 * (SW_PROTECTED, default VM) the field is ignored.
 */
export interface GuestAccessOp {
  op: 'guest_access';
  vm: Handle;
  gpa: Int;
  private: boolean;
  write?: number;
}
/**
 * KVM_PRE_FAULT_MEMORY on the VM's vCPU: map [gpa, gpa+size) into the guest's stage-2 ahead of its accesses.
 * Success carries `ret`: the bytes of the range not pre-faulted (the kernel's leftover `size`).
 */
export interface PreFaultOp {
  op: 'pre_fault';
  vm: Handle;
  gpa: Int;
  size: Int;
  flags?: Int;
}
/** A guest's conversion request (KVM_HC_MAP_GPA_RANGE exit): userspace must then set attributes. */
export interface GuestRequestConversionOp {
  op: 'guest_request_conversion';
  vm: Handle;
  gpa: Int;
  size: Int;
  private: boolean;
}

/** userfaultfd modes a registration asks for (UFFDIO_REGISTER_MODE_MINOR / _MISSING). */
export type UffdMode = 'minor' | 'missing';
/**
 * userfaultfd(2) for the process (UFFDIO_API, once), then UFFDIO_REGISTER of [offset, offset+length) of a mapping
 * in one mode (kernel-abi.md §4.3). Faults there are then reported to the userfaultfd instead of being resolved.
 */
export interface UffdRegisterOp {
  op: 'uffd_register';
  map: Handle;
  offset: Int;
  length: Int;
  mode: UffdMode;
}
/** UFFDIO_CONTINUE of [offset, offset+length) of a mapping: map the page-cache pages already there (minor faults). */
export interface UffdContinueOp {
  op: 'uffd_continue';
  map: Handle;
  offset: Int;
  length: Int;
}

export type Op =
  | CheckExtensionOp
  | CreateVmOp
  | CreateGmemOp
  | CloseOp
  | DupOp
  | MmapOp
  | MunmapOp
  | MprotectOp
  | MadviseOp
  | ReadMemOp
  | WriteMemOp
  | FillMemOp
  | CheckMemOp
  | FallocateOp
  | FstatOp
  | FtruncateOp
  | ReadOp
  | WriteOp
  | PreadOp
  | PwriteOp
  | SetMemoryRegion2Op
  | DeleteMemslotOp
  | SetMemoryAttributesOp
  | SetMemoryAttributes2Op
  | PinOp
  | UnpinOp
  | ForkOp
  | LaunchOp
  | PopulateOp
  | GuestAccessOp
  | PreFaultOp
  | GuestRequestConversionOp
  | UffdRegisterOp
  | UffdContinueOp;

export type OpName = Op['op'];

/** Ops that create an object and so may carry `as`. */
export const CREATING_OPS: ReadonlySet<OpName> = new Set<OpName>(['create_vm', 'create_gmem', 'dup', 'mmap']);

/**
 * Ops whose success return value is an fd or an address: never part of an outcome, so a `ret` recorded for
 * them is ignored (docs/trace-format.md). Every other op's success return is 0 unless the spec says otherwise.
 */
export const RETURNS_FD_OR_ADDRESS: ReadonlySet<OpName> = CREATING_OPS;

export interface FstatFields {
  st_size: Int;
  st_blksize: number;
  /** "reg" for a regular file. */
  st_type: string;
}

/** What a step did. fds and addresses are never part of an outcome. */
export type Outcome =
  | { ok: true; ret?: Int; fstat?: FstatFields; steps?: Outcome[] }
  | { errno: ErrnoName; error_offset?: Int }
  | { access: 'ok'; value?: number; match?: boolean }
  | { access: 'SIGBUS' | 'SIGSEGV' | 'MCE' }
  /**
   * The access raised a userfault in a uffd-registered range (spec/rules/uffd.ts): the thread waits and the
   * userfaultfd reports a page fault (MINOR: the page is in the page cache; MISSING: it is a hole).
   */
  | { access: 'UFFD_MINOR' | 'UFFD_MISSING' }
  | { exit: 'MEMORY_FAULT'; private: boolean }
  | { exit: 'MMIO' }
  /** Not an ABI outcome: the backend could not perform the step (helper crash, timeout, unsupported op). */
  | { failed: string }
  /**
   * Not an ABI outcome: the spec does not say what the kernel answers (a capability it does not model). A
   * prediction only, never an observation; comparisons count such a step as not compared.
   */
  | { not_modelled: string };

/** What a trace step carries besides its operation. */
export interface StepMeta {
  as?: Handle;
  observed?: Outcome;
  expected?: Outcome;
  /** Free text: why this step is in the trace. */
  note?: string;
}

/** A trace step: the operation's fields flat, as in the file (`{"op": "mmap", "gmem": "g0", ..., "as": "m0"}`). */
export type Step = Op & StepMeta;

export interface Trace {
  format: 'gmem-trace/1';
  profile?: string;
  name?: string;
  description?: string;
  steps: Step[];
}

export const TRACE_FORMAT = 'gmem-trace/1';
