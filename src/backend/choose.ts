/**
 * Which kernel runs a profile's suites: the host's, if it implements the profile; else the lab's, if the lab
 * can run (a cached kernel, or one it may build); else one SKIP line saying why neither can.
 */
import { PROFILES } from '../../spec/profiles/index.ts';
import { LAB_SERIES } from '../lab/kernelBuild.ts';
import { type HostKernel, detectHost } from './host.ts';
import { profilesOf } from './kernelProfile.ts';
import { type LabStatus, labBackendStatus } from './lab.ts';

export type KernelWanted = 'linux' | 'lab' | 'kernel';

export type KernelChoice =
  | { ok: true; backend: 'linux' | 'lab' /** Why, in words. */; why: string /** lab: the kernel must be built first. */; build: boolean }
  | { ok: false /** One line: `SKIP: ...`. */; skip: string };

const known = (name: string) => PROFILES.some((p) => p.name === name);

/**
 * What the lab kernel offers, as measured on it (docs: shared kernel-lab.md; KVM_CAP_VM_TYPES = 0x3):
 * used to decide before booting; the lab backend's capabilities() reads the real values once it runs.
 */
export const LAB_EXPECTED_CAPS: Record<string, number> = { GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 0x3, VM_TYPES: 0x3 };

export function labProfiles(): string[] {
  return profilesOf({ release: LAB_SERIES, caps: LAB_EXPECTED_CAPS }, known).profiles;
}

export function hostProfiles(host: HostKernel): string[] {
  return host.ok ? profilesOf({ release: host.release, caps: host.caps }, known).profiles : [];
}

export interface ChooseInputs {
  host: HostKernel;
  lab: LabStatus;
  /** May the lab kernel be built (about 10 min) when it is not cached? `run` yes; test suites no. */
  allowBuild: boolean;
  labProfiles: readonly string[];
}

/** The decision, from what was detected (pure). */
export function chooseKernelFrom(profile: string, want: KernelWanted, i: ChooseInputs): KernelChoice {
  const onHost = (): KernelChoice => {
    if (!i.host.ok) return { ok: false, skip: i.host.skip };
    const served = hostProfiles(i.host);
    if (served.includes(profile))
      return { ok: true, backend: 'linux', why: `the host kernel (Linux ${i.host.release}) implements ${profile}`, build: false };
    return {
      ok: false,
      skip: `SKIP: the host kernel (Linux ${i.host.release}) implements ${served.join(', ') || 'no profile of the spec'}, not ${profile}`,
    };
  };
  const onLab = (): KernelChoice => {
    if (!i.lab.ok) return { ok: false, skip: `SKIP: the lab cannot run (${i.lab.reason})` };
    if (!i.labProfiles.includes(profile)) {
      return {
        ok: false,
        skip: `SKIP: the lab kernel (Linux ${LAB_SERIES}) implements ${i.labProfiles.join(', ') || 'no profile of the spec yet'}, not ${profile}`,
      };
    }
    if (!i.lab.cached && !i.allowBuild)
      return { ok: false, skip: 'SKIP: no lab kernel is cached (build it with `gmem-spec lab build`, about 10 min)' };
    return {
      ok: true,
      backend: 'lab',
      why: `the lab kernel (Linux ${LAB_SERIES}) implements ${profile}${i.lab.cached ? '' : '; it is not cached and will be built first'}`,
      build: !i.lab.cached,
    };
  };
  switch (want) {
    case 'linux':
      return onHost();
    case 'lab':
      return onLab();
    case 'kernel': {
      const h = onHost();
      if (h.ok) return h;
      const l = onLab();
      if (l.ok) return l;
      return { ok: false, skip: `${h.skip}; ${l.skip.replace(/^SKIP: /, '')}` };
    }
  }
}

/** The decision on this machine. */
export function chooseKernel(profile: string, want: KernelWanted, options: { allowBuild: boolean }): KernelChoice {
  return chooseKernelFrom(profile, want, {
    host: detectHost(),
    lab: labBackendStatus(),
    allowBuild: options.allowBuild,
    labProfiles: labProfiles(),
  });
}
