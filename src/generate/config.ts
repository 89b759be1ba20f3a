/**
 * The committed suites: which profiles, at which bound, with which coverage. `gmem-spec generate --all`
 * writes them under generated-tests/<profile>/ and `gmem-spec generate --check` regenerates them in memory and
 * compares with what is committed.
 *
 * linux-6.18 is the profile the host kernel implements, linux-7.3 and sw-protected the ones the lab kernel
 * implements: every reachable edge at its bound (transition) plus the failure-order suite, in TypeScript and in
 * C. The other profiles are modelled only (they run against the
 * reference backend): one shortest path to every reachable state plus the failure-order suite, at a bound
 * with a guest_memfd of one page (two for huge folios), its mapping and its memslot, and no pins (which
 * multiply the states) — and where that gives more than about a thousand leaf paths, without the part of the
 * system the profile is least about (each is said below).
 */
import type { Coverage } from './generate.ts';

export interface CommittedSuite {
  profile: string;
  bound: string;
  coverage: Coverage[];
  /** Emit C selftests (profiles a kernel here implements). */
  c: boolean;
}

export const COMMITTED: readonly CommittedSuite[] = [
  { profile: 'linux-6.18', bound: 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1', coverage: ['transition', 'failures'], c: true },
  // The lab kernel implements these two (src/lab): every edge, in TypeScript and in C, as for linux-6.18.
  { profile: 'linux-7.3', bound: 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1', coverage: ['transition', 'failures'], c: true },
  { profile: 'sw-protected', bound: 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=1', coverage: ['transition', 'failures'], c: true },
  { profile: 'sev-snp', bound: 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=1', coverage: ['state', 'failures'], c: false },
  { profile: 'tdx', bound: 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=1', coverage: ['state', 'failures'], c: false },
  { profile: 'pkvm', bound: 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=1', coverage: ['state', 'failures'], c: false },
  // Realm memory is the guest's: the memslot stays, the host mapping goes (with it, 1167 leaf paths).
  { profile: 'arm-cca', bound: 'vms=1,gmems=1,pages=1,maps=0,pins=0,slots=1', coverage: ['state', 'failures'], c: false },
  // In-place conversion is about host mappings of private and shared pages: the mapping stays, the memslot goes
  // (with both, 3194 leaf paths).
  { profile: 'inplace-conversion', bound: 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=0', coverage: ['state', 'failures'], c: false },
  { profile: 'no-direct-map', bound: 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=1', coverage: ['state', 'failures'], c: false },
  // Two pages, so that a huge folio (two pages here) fits; without the memslot (with it, 17112 leaf paths).
  { profile: 'hugetlb', bound: 'vms=1,gmems=1,pages=2,maps=1,pins=0,slots=0', coverage: ['state', 'failures'], c: false },
  { profile: 'exclusive-gup', bound: 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=1', coverage: ['state', 'failures'], c: false },
  // userfaultfd works on the host mapping: the mapping and a pin stay, the memslot goes (no vCPU access here).
  { profile: 'uffd-minor', bound: 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=0', coverage: ['state', 'failures'], c: false },
];

export function committedFor(profile: string): CommittedSuite | undefined {
  return COMMITTED.find((c) => c.profile === profile);
}

export function commandFor(c: { profile: string; bound: string; coverage: readonly Coverage[]; c?: boolean }): string {
  return `gmem-spec generate --profile ${c.profile} --bound ${c.bound} --coverage ${c.coverage.join(',')}${c.c ? ' --c' : ''}`;
}
