/**
 * KVM / guest_memfd user-space ABI constants.
 * Source: ../shared/reference/kernel-abi.md §1 (include/uapi/linux/kvm.h), checked against the kernel here
 * where the kernel can answer (see docs/kernel-observations.md).
 */

export const PAGE_SIZE = 4096;

/** _IOC encoding: dir<<30 | size<<16 | type<<8 | nr. */
const IOC_NONE = 0;
const IOC_WRITE = 1;
const IOC_READWRITE = 3;
const KVMIO = 0xae;
function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
}

export const STRUCT_SIZE = {
  kvm_create_guest_memfd: 64,
  kvm_userspace_memory_region: 32,
  kvm_userspace_memory_region2: 160,
  kvm_memory_attributes: 32,
  kvm_memory_attributes2: 128,
  kvm_pre_fault_memory: 64,
  kvm_arm_rmi_populate: 32,
} as const;

export const IOCTL = {
  KVM_GET_API_VERSION: ioc(IOC_NONE, 0x00, 0),
  KVM_CREATE_VM: ioc(IOC_NONE, 0x01, 0),
  KVM_CHECK_EXTENSION: ioc(IOC_NONE, 0x03, 0),
  KVM_GET_VCPU_MMAP_SIZE: ioc(IOC_NONE, 0x04, 0),
  KVM_CREATE_VCPU: ioc(IOC_NONE, 0x41, 0),
  KVM_SET_USER_MEMORY_REGION: ioc(IOC_WRITE, 0x46, STRUCT_SIZE.kvm_userspace_memory_region),
  KVM_SET_USER_MEMORY_REGION2: ioc(IOC_WRITE, 0x49, STRUCT_SIZE.kvm_userspace_memory_region2),
  KVM_RUN: ioc(IOC_NONE, 0x80, 0),
  KVM_MEMORY_ENCRYPT_OP: ioc(IOC_READWRITE, 0xba, 8),
  KVM_SET_MEMORY_ATTRIBUTES: ioc(IOC_WRITE, 0xd2, STRUCT_SIZE.kvm_memory_attributes),
  /** Proposed (in-place conversion v8): on the guest_memfd fd. */
  KVM_SET_MEMORY_ATTRIBUTES2: ioc(IOC_READWRITE, 0xd2, STRUCT_SIZE.kvm_memory_attributes2),
  KVM_CREATE_GUEST_MEMFD: ioc(IOC_READWRITE, 0xd4, STRUCT_SIZE.kvm_create_guest_memfd),
  KVM_PRE_FAULT_MEMORY: ioc(IOC_READWRITE, 0xd5, STRUCT_SIZE.kvm_pre_fault_memory),
  /** Arm CCA series (v12 numbering), not mainline. */
  KVM_ARM_RMI_POPULATE: ioc(IOC_WRITE, 0xd7, STRUCT_SIZE.kvm_arm_rmi_populate),
} as const;

/** guest_memfd creation flags (struct kvm_create_guest_memfd.flags). */
export const GUEST_MEMFD_FLAG = {
  MMAP: 1n << 0n,
  INIT_SHARED: 1n << 1n,
  /** Proposed (NO_DIRECT_MAP v12). */
  NO_DIRECT_MAP: 1n << 2n,
} as const;

/** Memslot flags (struct kvm_userspace_memory_region2.flags). Bits 0-15 are user-visible. */
export const KVM_MEM = {
  LOG_DIRTY_PAGES: 1 << 0,
  READONLY: 1 << 1,
  GUEST_MEMFD: 1 << 2,
} as const;

export const KVM_MEMORY_ATTRIBUTE_PRIVATE = 1n << 3n;

/** KVM_CHECK_EXTENSION numbers. */
export const KVM_CAP = {
  NR_MEMSLOTS: 10,
  READONLY_MEM: 31,
  MULTI_ADDRESS_SPACE: 118,
  EXIT_HYPERCALL: 201,
  USER_MEMORY2: 231,
  MEMORY_FAULT_INFO: 232,
  MEMORY_ATTRIBUTES: 233,
  GUEST_MEMFD: 234,
  VM_TYPES: 235,
  PRE_FAULT_MEMORY: 236,
  GUEST_MEMFD_FLAGS: 244,
  /** In flux (249/250/251) in the in-place conversion series; 250 as in INPLACE-v8. */
  GUEST_MEMFD_MEMORY_ATTRIBUTES: 250,
} as const;

/** x86 VM types (KVM_CREATE_VM argument). arm64 types are modelled by name only. */
export const VM_TYPE = {
  default: 0,
  sw_protected: 1,
  sev: 2,
  sev_es: 3,
  snp: 4,
  tdx: 5,
  /** arm64: KVM_VM_TYPE_ARM_PROTECTED = 1<<31 selects a pKVM protected VM. */
  pkvm: 0x80000000,
  /** arm64 CCA Realm: encoding unconfirmed (fact sheet §6 item 8); a placeholder value, never sent to a kernel. */
  cca: 0x100,
} as const;
export type VmTypeName = keyof typeof VM_TYPE;
export const VM_TYPE_NAMES = Object.keys(VM_TYPE) as VmTypeName[];

export const FALLOC_FL = {
  KEEP_SIZE: 0x01,
  PUNCH_HOLE: 0x02,
  NO_HIDE_STALE: 0x04,
  COLLAPSE_RANGE: 0x08,
  ZERO_RANGE: 0x10,
  INSERT_RANGE: 0x20,
  UNSHARE_RANGE: 0x40,
  WRITE_ZEROES: 0x80,
} as const;

/** Modes the VFS knows (FALLOC_FL_SUPPORTED_MASK); anything else is EOPNOTSUPP in vfs_fallocate. */
export const FALLOC_VFS_KNOWN =
  FALLOC_FL.KEEP_SIZE |
  FALLOC_FL.PUNCH_HOLE |
  FALLOC_FL.COLLAPSE_RANGE |
  FALLOC_FL.ZERO_RANGE |
  FALLOC_FL.INSERT_RANGE |
  FALLOC_FL.UNSHARE_RANGE |
  FALLOC_FL.WRITE_ZEROES;

/** madvise advice (include/uapi/asm-generic/mman-common.h); the native helper receives the number. */
export const MADV = {
  normal: 0,
  random: 1,
  sequential: 2,
  willneed: 3,
  dontneed: 4,
  free: 8,
  remove: 9,
  dontfork: 10,
  dofork: 11,
  mergeable: 12,
  unmergeable: 13,
  hugepage: 14,
  nohugepage: 15,
  dontdump: 16,
  dodump: 17,
  wipeonfork: 18,
  keeponfork: 19,
  cold: 20,
  pageout: 21,
  populate_read: 22,
  populate_write: 23,
  dontneed_locked: 24,
  collapse: 25,
  guard_install: 102,
  guard_remove: 103,
} as const;
export type MadviseName = keyof typeof MADV;

/** errno names the spec can return, with x86-64 Linux numbers (for the native helper's protocol). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  ENXIO: 6,
  EOVERFLOW: 75,
  ENOTTY: 25,
  EFBIG: 27,
  ESPIPE: 29,
  EOPNOTSUPP: 95,
  EHWPOISON: 133,
} as const;
export type ErrnoName = keyof typeof ERRNO;
export const ERRNO_NAMES = Object.keys(ERRNO) as ErrnoName[];
export function isErrnoName(s: string): s is ErrnoName {
  return Object.hasOwn(ERRNO, s);
}

/** x86 TASK_SIZE_MAX with 4-level paging: access_ok() limit for userspace_addr ranges. */
export const TASK_SIZE_MAX = 0x7ffffffff000n;
/** KVM_MEM_MAX_NR_PAGES: a memslot holds at most 2^31 - 1 pages. */
export const KVM_MEM_MAX_NR_PAGES = 2 ** 31 - 1;

export const U64_MAX = (1n << 64n) - 1n;
