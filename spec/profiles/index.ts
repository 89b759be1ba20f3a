/** Every profile the spec ships, by name. */
import type { Profile } from '../profile.ts';
import { LINUX_6_18 } from './linux-6.18.ts';
import { LINUX_7_3 } from './linux-7.3.ts';
import { ARM_CCA, PKVM, SEV_SNP, SW_PROTECTED, TDX } from './platforms.ts';
import { EXCLUSIVE_GUP, HUGETLB_PROFILE, IN_PLACE_CONVERSION, NO_DIRECT_MAP_PROFILE } from './proposals.ts';
import { UFFD_MINOR } from './uffd-minor.ts';

export const PROFILES: readonly Profile[] = [
  LINUX_6_18,
  LINUX_7_3,
  SW_PROTECTED,
  SEV_SNP,
  TDX,
  PKVM,
  ARM_CCA,
  IN_PLACE_CONVERSION,
  NO_DIRECT_MAP_PROFILE,
  HUGETLB_PROFILE,
  EXCLUSIVE_GUP,
  UFFD_MINOR,
];

export const DEFAULT_PROFILE = 'linux-6.18';

export class UnknownProfileError extends Error {
  constructor(readonly profile: string) {
    super(`unknown profile ${JSON.stringify(profile)}; known: ${PROFILES.map((p) => p.name).join(', ')}`);
    this.name = 'UnknownProfileError';
  }
}

export function getProfile(name: string): Profile {
  const p = PROFILES.find((x) => x.name === name);
  if (!p) throw new UnknownProfileError(name);
  return p;
}

export { LINUX_6_18 };
