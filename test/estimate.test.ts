/**
 * The up-front estimate of `gmem-spec check` (src/check/estimate.ts) has measured growth factors for every
 * shipped profile: a new profile must not silently fall back to the largest factors measured (which put
 * linux-7.3 at pages=2,maps=2,pins=2 at 126 GiB and refused a check that takes 33 s).
 */
import { describe, expect, it } from 'vitest';
import { parseBound } from '../spec/explore/bound.ts';
import { PROFILES } from '../spec/profiles/index.ts';
import { resolveProfileName } from '../spec/profileCompose.ts';
import { GROWTH, estimate } from '../src/check/estimate.ts';

const UNIT = parseBound('vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1');
const HOW = 'measure them with `npx tsx bench/check.bench.ts growth --profiles NAME` and add them to GROWTH in src/check/estimate.ts';

describe('estimate', () => {
  it.each(PROFILES.map((p) => [p.name, p] as const))('%s has measured growth factors', (name, profile) => {
    expect(GROWTH[name], `profile ${name} has no growth factors: ${HOW}`).toBeDefined();
    expect(estimate(profile, UNIT).basis, `profile ${name} gets the fallback estimate: ${HOW}`).toContain(`measured for ${name}`);
  });

  it('has no growth factors for a profile that is not shipped (a renamed profile leaves none behind)', () => {
    const shipped = new Set(PROFILES.map((p) => p.name));
    expect(Object.keys(GROWTH).filter((n) => !shipped.has(n))).toEqual([]);
  });

  it("uses the base profile's factors for a profile with flags added", () => {
    const flagged = resolveProfileName('linux-6.18+HOST_MAP_PRIVATE').profile;
    expect(estimate(flagged, UNIT).basis).toContain('measured for linux-6.18');
  });
});
