/**
 * Proposal profiles: ABI changes argued on the lists (kernel-abi.md §4), each drawn and diffed against the
 * upstream profile. Modelled only.
 */
import { HUGETLB, INIT_SHARED, MMAP, NO_DIRECT_MAP } from '../flags/index.ts';
import type { Profile, VmTypeRules } from '../profile.ts';
import { LINUX_6_18_CHOICES } from './linux-6.18.ts';
import { ARM64_CHOICES, X86_CHOICES } from './platforms.ts';
import { modelledSuites } from './suites.ts';
import { DEFAULT_VM, SNP_VM, SW_PROTECTED_VM, TDX_VM } from './vmTypes.ts';

const inPlace = (r: VmTypeRules): VmTypeRules => ({ ...r, conversion: 'in-place' });

export const IN_PLACE_CONVERSION: Profile = {
  name: 'inplace-conversion',
  title: 'In-place shared↔private conversion (INPLACE-v8)',
  kind: 'proposal',
  summary:
    'Per-page attributes live in the guest_memfd and change with KVM_SET_MEMORY_ATTRIBUTES2 on its fd; conversion to private zaps host mappings in every process and refuses pages with elevated refcounts (EAGAIN + error_offset); INIT_SHARED becomes legal for CoCo VMs; populate expects private destinations.',
  sources: [
    'kernel-abi.md §2.16, §4.1 (INPLACE-v8, 2026-06-18)',
    'seed 001 (populate: private as tracked by KVM)',
    'guest_memfd_conversions_test (elevated_refcount, forked_accesses, truncate)',
  ],
  checkedAgainstKernel: false,
  arch: 'x86_64',
  base: 'linux-6.18',
  vmTypes: { default: DEFAULT_VM, sw_protected: inPlace(SW_PROTECTED_VM), snp: inPlace(SNP_VM), tdx: inPlace(TDX_VM) },
  flags: [MMAP, INIT_SHARED],
  choices: X86_CHOICES,
  extraCaps: {},
  // In-place conversion is about host mappings of private and shared pages: the mapping stays, the memslot goes
  // (with both, 3194 leaf paths).
  suites: modelledSuites({ slots: 0 }),
  gmemAttributes: { cap: 250, errorOffset: true },
};

export const NO_DIRECT_MAP_PROFILE: Profile = {
  name: 'no-direct-map',
  title: 'GUEST_MEMFD_FLAG_NO_DIRECT_MAP (NDM-v12)',
  kind: 'proposal',
  summary:
    'Folios leave the kernel direct map while allocated (secretmem-like). Accepted where the architecture can change the direct map, refused for SNP and TDX, whose firmware paths touch pages through it.',
  sources: ['kernel-abi.md §4.2 (NDM-v12, 2026-04-10)'],
  checkedAgainstKernel: false,
  arch: 'x86_64',
  base: 'linux-6.18',
  vmTypes: { default: DEFAULT_VM, sw_protected: SW_PROTECTED_VM, snp: SNP_VM, tdx: TDX_VM },
  flags: [MMAP, INIT_SHARED, NO_DIRECT_MAP],
  choices: X86_CHOICES,
  extraCaps: {},
  suites: modelledSuites(),
};

export const HUGETLB_PROFILE: Profile = {
  name: 'hugetlb',
  title: 'hugetlb-backed guest_memfd with sub-folio conversion (WIP)',
  kind: 'proposal',
  summary:
    'GUEST_MEMFD_FLAG_HUGETLB backs the file with huge folios: size and fallocate ranges must be folio-aligned, INIT_SHARED cannot be combined, and in-place conversion works on single pages inside a folio. The model uses a 2-page folio.',
  sources: [
    'kernel-abi.md §4.4 (1G RFC v2; guest_memfd_hugetlb.c WIP)',
    'seed 004 (Hildenbrand: "huge/gigantic page support ... converting individual subpages")',
  ],
  checkedAgainstKernel: false,
  arch: 'x86_64',
  base: 'inplace-conversion',
  vmTypes: { default: DEFAULT_VM, sw_protected: inPlace(SW_PROTECTED_VM) },
  flags: [MMAP, INIT_SHARED, HUGETLB],
  choices: X86_CHOICES,
  extraCaps: {},
  // Two pages, so that a huge folio (two pages here) fits; without the memslot (with it, 17112 leaf paths).
  suites: modelledSuites({ pages: 2, slots: 0 }),
  gmemAttributes: { cap: 250, errorOffset: true },
};

export const EXCLUSIVE_GUP: Profile = {
  name: 'exclusive-gup',
  title: 'Exclusive GUP pinning (FOLL_EXCLUSIVE, rejected 2024)',
  kind: 'proposal',
  summary:
    "REJECTED design, kept to show why: the VMM donates ordinary user memory to the guest under one exclusive pin instead of guest_memfd's unmap-and-refcount check. The memory stays in the VMM's page tables when it becomes private, so a host access to private memory is possible; and because the pin, not a refcount check, guards the donation, a long-term pin taken before it survives into private memory.",
  sources: [
    'kernel-abi.md §4.5 (FOLL_EXCLUSIVE: at most one exclusive pin per page, ordinary user memory donated to the guest)',
    'seed 004 (Perret: "Userspace accesses protected guest memory? Fine, we\'ll SEGV the userspace process"; Hildenbrand: "FOLL_EXCLUSIVE is likely not it ... private memory: not mapped, not pinned")',
  ],
  checkedAgainstKernel: false,
  arch: 'arm64',
  base: 'inplace-conversion',
  vmTypes: { default: DEFAULT_VM, pkvm: inPlace({ ...SW_PROTECTED_VM, privateHostAccess: 'SIGSEGV' }) },
  flags: [MMAP, INIT_SHARED],
  choices: { ...LINUX_6_18_CHOICES, setMemoryAttributesMissing: 'EINVAL', userMemSlots: ARM64_CHOICES.userMemSlots },
  extraCaps: {},
  suites: modelledSuites(),
  gmemAttributes: { cap: 250, errorOffset: true },
  // Private memory stays in the host's page tables (the half of the objection the counterexample shows: a host
  // access to private memory), and the donation checks no references.
  pageRuleOverrides: { keepsHostMappings: true, conversionChecksRefs: false },
  // The design could not keep the others: that is the point of the profile.
  promises: [
    'PreparedIsPrivate',
    'BindingsDisjoint',
    'UnwrittenReadsZero',
    'NoDirectMapPrivateAbsent',
    'SizeNeverChanges',
    'PunchKeepsAttributes',
  ],
};
