/**
 * Each shipped profile carries its committed suites (Profile.suites), and src/generate/config.ts lists them: a
 * new profile touches its own file and spec/profiles/index.ts only (docs/architecture.md).
 */
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../spec/profiles/index.ts';
import { COMMITTED } from '../src/generate/config.ts';

describe('committed suites come from the profiles', () => {
  it('commits one suite per shipped profile, in the order the profiles are listed, at the bound it declares', () => {
    expect(COMMITTED.map((c) => c.profile)).toEqual(PROFILES.map((p) => p.name));
    expect(COMMITTED.find((c) => c.profile === 'arm-cca')?.bound).toBe('vms=1,gmems=1,pages=1,maps=0,pins=0,slots=1');
  });

  it.each(PROFILES.map((p) => [p.name, p] as const))(
    '%s: emits C selftests and covers every edge exactly when a kernel here implements it',
    (_name, p) => {
      expect(p.suites.c).toBe(p.checkedAgainstKernel);
      expect(p.suites.coverage.includes('transition')).toBe(p.checkedAgainstKernel);
    },
  );
});
