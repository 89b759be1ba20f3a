/**
 * Realistic deviations a backend (a kernel, a platform model) might have, each injected into the reference
 * backend as a deviating profile. The generated suite must catch ("kill") every one of them.
 */
import type { Profile } from '../../spec/profile.ts';

export interface Mutant {
  id: string;
  /** What the deviating backend gets wrong, in words. */
  says: string;
  /** Profiles whose suites can observe it (the deviation needs that profile's operations). */
  appliesTo: string[];
  apply: (p: Profile) => Profile;
}

const skip =
  (...ids: string[]) =>
  (p: Profile): Profile => ({ ...p, deviations: { ...p.deviations, skipChecks: [...(p.deviations?.skipChecks ?? []), ...ids] } });
const swap =
  (a: string, b: string) =>
  (p: Profile): Profile => ({ ...p, deviations: { ...p.deviations, swapChecks: [...(p.deviations?.swapChecks ?? []), [a, b]] } });
const UP = ['linux-6.18', 'linux-7.3'];
const INPLACE = ['inplace-conversion'];
/** Guest accesses through a vCPU and per-VM attributes: checked on the lab kernel. */
const SW = ['sw-protected'];

export const MUTANTS: readonly Mutant[] = [
  { id: 'mmap-private-accepted', says: 'accepts MAP_PRIVATE (copy-on-write) mappings', appliesTo: UP, apply: skip('mmap.map-private') },
  { id: 'mmap-exec-accepted', says: 'accepts PROT_EXEC mappings', appliesTo: UP, apply: skip('mmap.exec-noexec-mount') },
  {
    id: 'mmap-without-flag',
    says: 'lets a guest_memfd created without MMAP be mmap()ed',
    appliesTo: UP,
    apply: skip('mmap.not-mmap-capable'),
  },
  {
    id: 'private-fault-allowed',
    says: 'lets a private page fault into host user space',
    appliesTo: UP,
    apply: (p) => ({ ...p, pageRuleOverrides: { ...p.pageRuleOverrides, hostMayMapPrivate: true } }),
  },
  {
    id: 'punch-keeps-data',
    says: 'forgets to zero after fallocate(PUNCH_HOLE)',
    appliesTo: UP,
    apply: (p) => ({ ...p, deviations: { ...p.deviations, punchKeepsData: true } }),
  },
  { id: 'fallocate-unaligned-accepted', says: 'accepts an unaligned fallocate range', appliesTo: UP, apply: skip('fallocate.unaligned') },
  { id: 'allocate-past-eof-accepted', says: 'lets fallocate allocate past EOF', appliesTo: UP, apply: skip('fallocate.allocate-past-eof') },
  {
    id: 'fallocate-without-keep-size',
    says: 'accepts fallocate without FALLOC_FL_KEEP_SIZE',
    appliesTo: UP,
    apply: skip('fallocate.no-keep-size'),
  },
  {
    id: 'overlapping-bindings',
    says: 'allows overlapping memslot bindings of one guest_memfd',
    appliesTo: UP,
    apply: skip('set_memory_region2.gmem-range-bound'),
  },
  {
    id: 'binding-past-eof',
    says: 'binds a range that ends past the guest_memfd size',
    appliesTo: UP,
    apply: skip('set_memory_region2.gmem-past-eof'),
  },
  {
    id: 'gmem-slot-mutable',
    says: 'lets a guest_memfd memslot be re-issued or modified',
    appliesTo: UP,
    apply: skip('set_memory_region2.gmem-slot-immutable'),
  },
  {
    id: 'dirty-logging-with-gmem',
    says: 'accepts dirty logging or READONLY on a guest_memfd slot',
    appliesTo: UP,
    apply: skip('set_memory_region2.flags'),
  },
  {
    id: 'create-unaligned-size',
    says: 'creates a guest_memfd of an unaligned size',
    appliesTo: UP,
    apply: skip('create_gmem.size-unaligned'),
  },
  {
    id: 'create-unknown-flags',
    says: 'accepts unknown guest_memfd creation flags',
    appliesTo: UP,
    apply: skip('create_gmem.flags-unsupported'),
  },
  {
    id: 'fallocate-order-unaligned-first',
    says: 'checks alignment before the mode (EINVAL instead of EOPNOTSUPP for an unaligned mode-0 fallocate)',
    appliesTo: UP,
    apply: swap('fallocate.no-keep-size', 'fallocate.unaligned'),
  },
  {
    id: 'bind-order-fd-first',
    says: 'looks the guest_memfd fd up before the GPA overlap check (EBADF instead of EEXIST)',
    appliesTo: UP,
    apply: swap('set_memory_region2.gpa-overlap', 'set_memory_region2.gmem-fd-bad'),
  },
  {
    id: 'read-errno-espipe',
    says: 'fails read() with ESPIPE instead of EINVAL',
    appliesTo: UP,
    apply: (p) => ({ ...p, choices: { ...p.choices, readErrno: 'ESPIPE' } }),
  },
  {
    id: 'pread-errno-einval',
    says: 'fails pread() with EINVAL instead of ESPIPE',
    appliesTo: UP,
    apply: (p) => ({ ...p, choices: { ...p.choices, preadErrno: 'EINVAL' } }),
  },
  {
    id: 'pinned-page-converts',
    says: 'lets a pinned page convert to private (no EAGAIN)',
    appliesTo: INPLACE,
    apply: (p) => ({ ...p, pageRuleOverrides: { ...p.pageRuleOverrides, conversionChecksRefs: false } }),
  },
  {
    id: 'conversion-no-private-mem-check',
    says: 'converts guest_memfd pages of a VM without private memory',
    appliesTo: INPLACE,
    apply: skip('set_memory_attributes2.no-private-mem'),
  },
  {
    id: 'private-access-no-exit',
    says: 'serves a private guest access to a memslot without guest_memfd from userspace_addr instead of exiting with KVM_EXIT_MEMORY_FAULT',
    appliesTo: SW,
    apply: skip('guest_access.private-no-gmem'),
  },
  {
    id: 'private-no-slot-mmio',
    says: 'treats a private guest access to a GPA with no memslot as MMIO instead of a private memory fault',
    appliesTo: SW,
    apply: skip('guest_access.no-slot-private'),
  },
  {
    id: 'released-gmem-still-served',
    says: 'keeps serving guest faults from a guest_memfd whose file was released',
    appliesTo: SW,
    apply: skip('guest_access.gmem-gone'),
  },
  {
    id: 'shared-access-without-user-memory',
    says: 'lets a shared guest access succeed where userspace_addr maps nothing (no EFAULT)',
    appliesTo: SW,
    apply: skip('guest_access.shared-no-user-memory'),
  },
  {
    id: 'attributes-flags-accepted',
    says: 'accepts KVM_SET_MEMORY_ATTRIBUTES with non-zero flags',
    appliesTo: SW,
    apply: skip('set_memory_attributes.flags'),
  },
  {
    id: 'attributes-unaligned-accepted',
    says: 'accepts an unaligned KVM_SET_MEMORY_ATTRIBUTES range',
    appliesTo: SW,
    apply: skip('set_memory_attributes.unaligned'),
  },
  {
    id: 'private-attribute-on-default-vm',
    says: 'lets a VM without private memory set the PRIVATE attribute',
    appliesTo: SW,
    apply: skip('set_memory_attributes.unsupported'),
  },
  {
    id: 'attributes-empty-range-accepted',
    says: 'accepts KVM_SET_MEMORY_ATTRIBUTES of size 0 or a range that wraps',
    appliesTo: SW,
    apply: skip('set_memory_attributes.range'),
  },
];
