/** Helpers for rule tests: run steps through the spec and read back outcomes and deciding rules. */
import { predictTrace } from '../../spec/compare.ts';
import type { Outcome, Step } from '../../spec/ops.ts';
import type { Profile } from '../../spec/profile.ts';
import { getProfile } from '../../spec/profiles/index.ts';

export function run(profile: Profile | string, steps: Step[]): { outcomes: Outcome[]; rules: string[]; last: Outcome } {
  const p = typeof profile === 'string' ? getProfile(profile) : profile;
  const results = predictTrace(p, steps);
  const outcomes = results.map((r) => r.outcome);
  return { outcomes, rules: results.map((r) => r.rule.id), last: outcomes[outcomes.length - 1] as Outcome };
}

export const PAGE = 4096;

/** A default VM and a 4-page guest_memfd (`flags`), named vm0 and g0, as the selftests set up. */
export function vmAndGmem(flags = 3, size = 4 * PAGE, type = 'default'): Step[] {
  return [
    { op: 'create_vm', type: type as 'default', as: 'vm0' },
    { op: 'create_gmem', vm: 'vm0', size, flags, as: 'g0' },
  ];
}

/** vmAndGmem plus a read-write MAP_SHARED mapping m0 of the whole file. */
export function mapped(flags = 3, size = 4 * PAGE, type = 'default'): Step[] {
  return [...vmAndGmem(flags, size, type), { op: 'mmap', gmem: 'g0', offset: 0, length: size, prot: 'rw', shared: true, as: 'm0' }];
}
