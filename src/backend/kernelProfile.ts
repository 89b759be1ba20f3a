/**
 * Which spec profiles a kernel implements, from its release (`uname -r`) and what KVM_CHECK_EXTENSION read.
 * Pure: the backend reads the facts, this decides. A profile the spec does not have (yet) is named in the
 * explanation and not claimed.
 */
import { GUEST_MEMFD_FLAG, KVM_CAP, VM_TYPE } from '../../spec/constants.ts';

export interface KernelFacts {
  /** `uname -r` of the kernel the helper runs on: `6.18.44-fc-v1272`, `7.3.4`. */
  release: string;
  /** Capability values by KVM_CAP name (GUEST_MEMFD, GUEST_MEMFD_FLAGS, VM_TYPES, ...). */
  caps: Record<string, number>;
}

export interface KernelProfiles {
  /** The profile of the default VM type, or `linux-unknown`. */
  profile: string;
  /** Every profile this kernel implements (default VM type first), for suites that need a real kernel. */
  profiles: string[];
  /** Why, in words. */
  detectedFrom: string;
}

/** Kernel series with a measured profile for the default VM type. */
const SERIES_PROFILES: readonly { series: string; profile: string }[] = [
  { series: '6.18', profile: 'linux-6.18' },
  { series: '7.3', profile: 'linux-7.3' },
];

const hex = (n: number): string => `0x${n.toString(16)}`;

/** `7.3` from `7.3.4-1~bpo13+1`; undefined when the release does not start with a version. */
export function kernelSeries(release: string): string | undefined {
  return /^(\d+\.\d+)(?:\D|$)/.exec(release)?.[1];
}

/** `GUEST_MEMFD(234)=1, VM_TYPES(235)=0x3, ...`: bit masks in hex. */
export function describeCaps(caps: Record<string, number>): string {
  const num = (k: string) => (Object.hasOwn(KVM_CAP, k) ? `(${KVM_CAP[k as keyof typeof KVM_CAP]})` : '');
  return Object.entries(caps)
    .map(([k, v]) => `${k}${num(k)}=${k === 'VM_TYPES' || k === 'GUEST_MEMFD_FLAGS' || k === 'MEMORY_ATTRIBUTES' ? hex(v) : v}`)
    .join(', ');
}

export function profilesOf(facts: KernelFacts, known: (name: string) => boolean): KernelProfiles {
  const { caps } = facts;
  const series = kernelSeries(facts.release);
  const base = `Linux ${facts.release}, ${describeCaps(caps)}`;
  const none = (why: string): KernelProfiles => ({ profile: 'linux-unknown', profiles: [], detectedFrom: `${base}: ${why}` });
  if (!((caps.GUEST_MEMFD ?? 0) > 0)) return none('no guest_memfd (KVM_CAP_GUEST_MEMFD=0)');
  const mmapInitShared = Number(GUEST_MEMFD_FLAG.MMAP | GUEST_MEMFD_FLAG.INIT_SHARED);
  if (caps.GUEST_MEMFD_FLAGS !== mmapInitShared) {
    return none(
      `no profile has GUEST_MEMFD_FLAGS=${hex(caps.GUEST_MEMFD_FLAGS ?? 0)} (the measured kernels have exactly MMAP|INIT_SHARED = 0x3)`,
    );
  }
  const vmTypes = caps.VM_TYPES ?? 0;
  // Before KVM_CAP_VM_TYPES a kernel reports 0 and has only the default type.
  if (vmTypes !== 0 && !(vmTypes & (1 << VM_TYPE.default))) return none(`the default VM type is not offered (VM_TYPES=${hex(vmTypes)})`);
  const entry = SERIES_PROFILES.find((e) => e.series === series);
  if (!entry) {
    return none(
      `no profile was measured on Linux ${series ?? facts.release} (measured: ${SERIES_PROFILES.map((e) => `${e.series} → ${e.profile}`).join(', ')})`,
    );
  }
  const profiles: string[] = [];
  const said: string[] = [];
  if (known(entry.profile)) {
    profiles.push(entry.profile);
    said.push(`the default VM type is ${entry.profile} (Linux ${entry.series}, guest_memfd flags exactly MMAP|INIT_SHARED)`);
  } else said.push(`the default VM type would be ${entry.profile}, which the spec does not have yet`);
  if (vmTypes & (1 << VM_TYPE.sw_protected)) {
    if (known('sw-protected')) profiles.push('sw-protected');
    said.push(
      known('sw-protected')
        ? 'KVM_X86_SW_PROTECTED_VM is offered: sw-protected too'
        : 'KVM_X86_SW_PROTECTED_VM is offered, but the spec has no sw-protected profile',
    );
  }
  return { profile: known(entry.profile) ? entry.profile : 'linux-unknown', profiles, detectedFrom: `${base}: ${said.join('; ')}` };
}
