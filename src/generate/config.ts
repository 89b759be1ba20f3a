/**
 * The committed suites: which profiles, at which bound, with which coverage. `gmem-spec generate --all`
 * writes them under generated-tests/<profile>/ and `gmem-spec generate --check` regenerates them in memory and
 * compares with what is committed. Each shipped profile declares its own (Profile.suites; the two kinds and why
 * their bounds are what they are: spec/profiles/suites.ts); this lists them in PROFILES' order.
 */
import { formatBound } from '../../spec/explore/bound.ts';
import { PROFILES } from '../../spec/profiles/index.ts';
import type { Coverage } from './generate.ts';

export interface CommittedSuite {
  profile: string;
  bound: string;
  coverage: Coverage[];
  /** Emit C selftests (profiles a kernel here implements). */
  c: boolean;
}

export const COMMITTED: readonly CommittedSuite[] = PROFILES.map((p) => ({
  profile: p.name,
  bound: formatBound(p.suites.bound),
  coverage: [...p.suites.coverage],
  c: p.suites.c,
}));

export function committedFor(profile: string): CommittedSuite | undefined {
  return COMMITTED.find((c) => c.profile === profile);
}

export function commandFor(c: { profile: string; bound: string; coverage: readonly Coverage[]; c?: boolean }): string {
  return `gmem-spec generate --profile ${c.profile} --bound ${c.bound} --coverage ${c.coverage.join(',')}${c.c ? ' --c' : ''}`;
}
