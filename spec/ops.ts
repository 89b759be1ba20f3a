/**
 * The operation vocabulary: plain JSON-able objects shared by the spec, the backends, the generated tests and
 * recorded traces. Integers are `Int` (number when it fits, bigint past 2^53) because the ABI's fields are u64.
 */
import type { ErrnoName } from './constants.ts';
import { OPS, type OpTypes } from './ops/index.ts';

export type Int = number | bigint;
/** A handle names an object a step created (`vm0`, `g0`, `m0`, ...). */
export type Handle = string;

export type Prot = string; // subset of "rwx" in that order, or "none"

/** Named flags of KVM_SET_USER_MEMORY_REGION2 (a raw u32 carries bits without a name). */
export type MemslotFlag = 'gmem' | 'log_dirty' | 'readonly';

/**
 * The operations, each computed from its schema in its module under spec/ops/ (`opSchema`): a new operation
 * needs no line here. `OpOf<'fallocate'>` is one operation's type.
 */
export type OpName = keyof OpTypes;
export type OpOf<N extends OpName> = OpTypes[N];
export type Op = OpTypes[OpName];

// Named aliases of the operations, by the rules file that takes them; new operations use OpOf<'name'>.
// spec/rules/kvm.ts
export type CheckExtensionOp = OpOf<'check_extension'>;
export type CreateVmOp = OpOf<'create_vm'>;
/** Platform launch flow (SNP LAUNCH_START/FINISH, TDX INIT_VM/FINALIZE_VM, CCA activate). */
export type LaunchOp = OpOf<'launch_start' | 'launch_finish'>;
// spec/rules/gmemFile.ts
export type CreateGmemOp = OpOf<'create_gmem'>;
export type CloseOp = OpOf<'close'>;
export type DupOp = OpOf<'dup'>;
export type FstatOp = OpOf<'fstat'>;
export type FtruncateOp = OpOf<'ftruncate'>;
export type ReadOp = OpOf<'read'>;
export type WriteOp = OpOf<'write'>;
export type PreadOp = OpOf<'pread'>;
export type PwriteOp = OpOf<'pwrite'>;
// spec/rules/mmap.ts, madvise.ts
export type MmapOp = OpOf<'mmap'>;
export type MunmapOp = OpOf<'munmap'>;
export type MprotectOp = OpOf<'mprotect'>;
export type MadviseOp = OpOf<'madvise'>;
// spec/rules/memAccess.ts
export type ReadMemOp = OpOf<'read_mem'>;
export type WriteMemOp = OpOf<'write_mem'>;
export type FillMemOp = OpOf<'fill_mem'>;
export type CheckMemOp = OpOf<'check_mem'>;
/** Long-term GUP pin (e.g. io_uring fixed buffer, VFIO) of the pages under [offset, offset+len) of a mapping. */
export type PinOp = OpOf<'pin'>;
export type UnpinOp = OpOf<'unpin'>;
// spec/rules/fallocate.ts, memslots.ts
export type FallocateOp = OpOf<'fallocate'>;
export type FallocateMode = FallocateOp['mode'];
export type SetMemoryRegion2Op = OpOf<'set_memory_region2'>;
export type DeleteMemslotOp = OpOf<'delete_memslot'>;
// spec/rules/attributes.ts
export type SetMemoryAttributesOp = OpOf<'set_memory_attributes'>;
/** Proposal (in-place conversion): KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd fd. */
export type SetMemoryAttributes2Op = OpOf<'set_memory_attributes2'>;
/** A guest's conversion request (KVM_HC_MAP_GPA_RANGE exit): userspace must then set attributes. */
export type GuestRequestConversionOp = OpOf<'guest_request_conversion'>;
// spec/rules/platform.ts
/** Platform populate (SNP LAUNCH_UPDATE, TDX INIT_MEM_REGION, CCA RMI_POPULATE): load and measure initial image. */
export type PopulateOp = OpOf<'populate'>;
/** A guest (vCPU) access to a GPA (spec/ops/platform.ts says when its `private` field counts). */
export type GuestAccessOp = OpOf<'guest_access'>;
/** KVM_PRE_FAULT_MEMORY on the VM's vCPU; success carries `ret`, the bytes of the range not pre-faulted. */
export type PreFaultOp = OpOf<'pre_fault'>;
// spec/rules/uffd.ts
/** UFFDIO_REGISTER of a mapping's range in one mode, after userfaultfd(2) + UFFDIO_API (kernel-abi.md §4.3). */
export type UffdRegisterOp = OpOf<'uffd_register'>;
/** userfaultfd modes a registration asks for (UFFDIO_REGISTER_MODE_MINOR / _MISSING). */
export type UffdMode = UffdRegisterOp['mode'];
/** UFFDIO_CONTINUE of [offset, offset+length) of a mapping: map the page-cache pages already there (minor faults). */
export type UffdContinueOp = OpOf<'uffd_continue'>;
/** Run the nested steps in a forked child process; the child exits afterwards (step() runs them). */
export type ForkOp = OpOf<'fork'>;

/** Ops that create an object and so may carry `as`: those whose record says so (`createsHandle`). */
export const CREATING_OPS: ReadonlySet<OpName> = new Set(
  Object.values(OPS)
    .filter((m) => m.createsHandle)
    .map((m) => m.name),
);

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
