/**
 * A profile is a named, documented set of rules: which VM types exist, what each platform's trusted entity
 * does, which guest_memfd flags exist and what they change, and the switchable choices where the fact sheet
 * could not confirm the kernel's behaviour. Every operation's outcome is decided by the profile.
 */
import type { ContentEffect, PageRules } from '../machines/page.ts';
import type { ErrnoName, MadviseName, VmTypeName } from './constants.ts';
import type { Bound } from './explore/bound.ts';
import type { UffdMode } from './ops.ts';

export type HostPrivateAccess = 'SIGBUS' | 'SIGSEGV' | 'MCE';

export interface VmTypeRules {
  /** kvm_arch_has_private_mem(): the VM has a private/shared split at all. */
  hasPrivateMem: boolean;
  /** Who enforces privacy, in words (README and diagrams). */
  trustedEntity: string;
  /** What a host user-space access to private memory does. */
  privateHostAccess: HostPrivateAccess;
  /**
   * Where the private/shared attribute lives and how it changes:
   *  none           the file-wide initial attribute never changes (6.18 default VM);
   *  vm-attributes  KVM_SET_MEMORY_ATTRIBUTES on the VM; guest_memfd pages are private, shared memory is elsewhere;
   *  in-place       KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd: per-page attribute, same physical page.
   */
  conversion: 'none' | 'vm-attributes' | 'in-place';
  /**
   * The platform's content semantics: what the other side sees of a page's bytes when they change side. Read by
   * the page machine, and by spec/rules/content.ts, which says what each conversion kind makes of them.
   */
  conversionContent: ConversionContent;
  /** How the initial image is loaded and measured. */
  populate: 'none' | 'snp-launch-update' | 'tdx-init-mem-region' | 'cca-rmi-populate';
  /** Has a launch flow (start → populate* → finish); populate only before finish, guest runs only after. */
  launch: boolean;
  /** Private guest faults run the arch prepare hook (the trusted entity takes the page). */
  trustedEntityPrepares: boolean;
  /**
   * Where a guest access's private-ness comes from: the access itself (SNP C-bit, TDX shared bit, CCA IPA
   * half, pKVM state) or KVM's attribute for the GFN (SW_PROTECTED, default VM: no hardware bit).
   */
  accessPrivacy: 'hardware' | 'attribute';
}

export type { ContentEffect };

/** What a platform does to a page's bytes when its trusted entity takes the page or gives it back. */
export interface ConversionContent {
  /** What the guest reads, at its first private fault, of bytes the host wrote while the page was shared. */
  toPrivate: ContentEffect;
  /** What the host reads, once the page is shared again, of bytes the guest had while it was private. */
  toShared: ContentEffect;
  /** Where this comes from (fact sheet sections, seeds). */
  source: string;
}

export type FlagAcceptance = 'all' | 'no-private-mem' | 'private-mem' | VmTypeName[];

/** A guest_memfd creation flag, declared as data (spec/flags/*.ts). */
export interface FlagDef {
  name: string;
  bit: number;
  status: 'mainline' | 'proposed' | 'rejected' | 'example';
  summary: string;
  source: string;
  /** VM types whose KVM_CREATE_GUEST_MEMFD accepts the flag (others: EINVAL). */
  acceptedBy: FlagAcceptance;
  /** VM types that accept it only when attributes are tracked in place (INPLACE-v8 lets INIT_SHARED on CoCo). */
  acceptedInPlaceBy?: FlagAcceptance;
  /** Flags that must also be set / must not be set (EINVAL otherwise). */
  requires?: string[];
  conflictsWith?: string[];
  effects: {
    /** mmap() is allowed on the file (ENODEV otherwise). */
    enablesMmap?: boolean;
    /** Every page starts shared instead of private. */
    initShared?: boolean;
    /** Folios leave the kernel direct map: all of them, or while private. */
    directMap?: 'remove-all' | 'remove-private';
    /** Host user space may fault private pages in (an unsafe proposal, for the model checker). */
    hostMapPrivate?: boolean;
    /** Conversion to private ignores elevated refcounts (what EAGAIN prevents; unsafe). */
    conversionIgnoresRefs?: boolean;
    /** Folio size in pages (hugetlb): create size and fallocate ranges must be multiples. */
    folioPages?: number;
  };
  /** Invariants the flag's author claims it keeps, and ones it adds (by name). */
  keeps?: string[];
  adds?: string[];
}

/** Facts the fact sheet could not confirm, made explicit and switchable. Values for linux-6.18 are measured. */
export interface Choices {
  readErrno: ErrnoName;
  writeErrno: ErrnoName;
  preadErrno: ErrnoName;
  pwriteErrno: ErrnoName;
  ftruncateErrno: ErrnoName;
  /** PROT_EXEC mmap of the file: refused (noexec mount) with this errno, or allowed (null). */
  protExecErrno: ErrnoName | null;
  /** mprotect adding PROT_EXEC on such a mapping. */
  mprotectExecErrno: ErrnoName | null;
  /** kvm_create_guest_memfd.reserved[] must be zero (EINVAL) or is ignored. */
  createReservedChecked: boolean;
  /** KVM_SET_MEMORY_ATTRIBUTES exists on this kernel; if not, this errno for every call. */
  setMemoryAttributesMissing: ErrnoName | null;
  /**
   * KVM_SET_MEMORY_ATTRIBUTES on a VM whose attributes live in guest_memfd (in-place mode): INPLACE-v8 rejects
   * it, errno unconfirmed (fact sheet §2.15, §6 item 4).
   */
  vmAttributesInPlaceErrno?: ErrnoName;
  /** madvise outcomes that are not plain success. */
  madvise: Partial<Record<MadviseName, ErrnoName | 'zap' | 'punch'>>;
  /** Long-term GUP pin of a guest_memfd mapping: allowed (null) or refused with this errno. */
  pinRefused: ErrnoName | null;
  /** Highest guest physical address bit (x86 kvm_mmu_max_gfn); slots ending beyond 2^maxGpaBits → EINVAL. */
  maxGpaBits: number;
  /** KVM_USER_MEM_SLOTS (cap 10 KVM_CAP_NR_MEMSLOTS): slot ids at or above fail with EINVAL. */
  userMemSlots: number;
  /** KVM_ADDRESS_SPACE_NUM: 2 with SMM, 1 without. */
  addressSpaces: number;
  /** Memslot flags besides GUEST_MEMFD the VM accepts on a slot without guest_memfd. */
  readonlyMemslots: boolean;
  /** Binding guest_memfd pages another memslot already binds: EINVAL (6.18 kvm_gmem_bind), EEXIST (7.3). */
  gmemBindingOverlapErrno: ErrnoName;
}

export type ProfileKind = 'upstream' | 'platform' | 'proposal';

/** Which tests `generate` selects from a profile's state graph (docs/coverage.md). */
export type SuiteCoverage = 'state' | 'transition' | 'failures' | `path:${number}`;

/** The suites `gmem-spec generate --all` writes for a profile under generated-tests/<name>/ and CI compares. */
export interface CommittedSuites {
  /** The bound its graph is explored within: small enough that the suites stay readable and fast. */
  bound: Bound;
  coverage: readonly SuiteCoverage[];
  /** Emit kselftest-style C too (a kernel here implements the profile: the host's or the lab's). */
  c: boolean;
}

export interface Profile {
  name: string;
  title: string;
  kind: ProfileKind;
  /** Two or three sentences: what this profile says. */
  summary: string;
  /** Where each part comes from (fact sheet sections, seed posts, selftests). */
  sources: string[];
  /** Checked step by step against a real kernel on this project's CI, or modelled only. */
  checkedAgainstKernel: boolean;
  /** The architecture whose KVM this is: capabilities and limits differ (spec/rules/caps.ts). */
  arch: 'x86_64' | 'arm64';
  /** The profile this one is drawn and diffed against. */
  base?: string;
  vmTypes: Partial<Record<VmTypeName, VmTypeRules>>;
  flags: FlagDef[];
  choices: Choices;
  /** KVM_CHECK_EXTENSION answers that are not derived from the rules above: cap → value on /dev/kvm and on a VM. */
  extraCaps: Record<number, { kvm: number; vm?: number }>;
  /** Per-guest_memfd attribute ioctl (KVM_SET_MEMORY_ATTRIBUTES2) and its cap. */
  gmemAttributes?: { cap: number; errorOffset: boolean };
  /**
   * userfaultfd on guest_memfd mappings (spec/rules/uffd.ts). Absent: not modelled (the uffd operations predict
   * not_modelled).
   */
  uffd?: UffdRules;
  /**
   * Its committed suites (src/generate/config.ts lists them in PROFILES' order). A composed profile (base+FLAG)
   * carries its base's, but only the shipped profiles' are committed.
   */
  suites: CommittedSuites;
  /** Profile-wide changes to the page machine's rules (e.g. the rejected exclusive-GUP design). */
  pageRuleOverrides?: Partial<PageRules>;
  /** Invariants (spec/invariants.ts names) this profile promises; default: all of them. */
  promises?: string[];
  /** Deliberate deviations, for the mutation harness only (src/mutation): never set in a shipped profile. */
  deviations?: Deviations;
}

/** What UFFDIO_REGISTER does on a guest_memfd VMA, and where that comes from. */
export interface UffdRules {
  /** Modes a guest_memfd VMA accepts; empty: none (EINVAL: guest_memfd's vm_ops have no vm_uffd_ops). */
  registerModes: readonly UffdMode[];
  /** The source of these semantics: a measurement on a kernel, or the proposal's text. */
  source: string;
}

/** How a deviating backend differs from the rules: a skipped check, two checks in the wrong order, a lost effect. */
export interface Deviations {
  /** Check ids (spec/rules) the backend never evaluates. */
  skipChecks?: string[];
  /** Pairs of check ids the backend evaluates in the opposite order. */
  swapChecks?: Array<[string, string]>;
  /** fallocate(PUNCH_HOLE) succeeds but leaves the data in place. */
  punchKeepsData?: boolean;
}
