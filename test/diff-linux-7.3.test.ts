/**
 * `gmem-spec diff linux-6.18 linux-7.3`: every difference measured on the lab kernel (docs/kernel-observations.md,
 * "Linux 7.3 on the lab") is listed with a witness trace that predicts differently under the two profiles and,
 * where the lab can boot, behaves as linux-7.3 says on the lab kernel.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { diffProfiles, predictionsDiffer } from '../src/presentation/diff/profileDiff.ts';
import { compareTrace } from '../spec/compare.ts';
import { formatOutcome } from '../spec/outcome.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { openLabBackend } from '../src/backend/lab.ts';
import { labReady } from '../src/lab/index.ts';

const A = getProfile('linux-6.18');
const B = getProfile('linux-7.3');
const d = diffProfiles(A, B);
const byKey = new Map(d.behaviours.map((b) => [b.witness.key, b]));

describe('diff linux-6.18 → linux-7.3', () => {
  it('lists each measured difference with a witness, saying both outcomes', () => {
    const expected: Array<[string, RegExp, RegExp]> = [
      ['choice:gmemBindingOverlapErrno', /^EINVAL/, /^EEXIST/],
      ['choice:setMemoryAttributesMissing', /^ENOTTY/, /^EINVAL/],
      ['choice:addressSpaces', /^EINVAL/, /^ok/],
      ['choice:maxGpaBits', /^ok/, /^EINVAL/],
      ['choice:madvise:mergeable', /^ok/, /^EINVAL/],
      ['cap:236', /ret 0/, /ret 1/],
      ['cap:235', /ret 1/, /ret 3/],
      ['cap:233', /ret 0/, /ret 8/],
    ];
    for (const [key, a, b] of expected) {
      const w = byKey.get(key)?.witness;
      expect(w, key).toBeDefined();
      expect(w?.aSays, key).toMatch(a);
      expect(w?.bSays, key).toMatch(b);
    }
  });

  it('every witness trace predicts differently under the two profiles', () => {
    for (const b of d.behaviours) expect(predictionsDiffer(b.trace, A, B), b.witness.key).toBe(true);
  });
});

const lab = labReady();
if (!lab.ok) console.log(`SKIP: diff linux-6.18 → linux-7.3 witnesses on the lab: ${lab.reason}`);

describe.skipIf(!lab.ok)('diff linux-6.18 → linux-7.3, witnesses on the lab kernel', () => {
  const backend = openLabBackend();
  afterAll(() => backend.close());
  it('each witness behaves on the lab as linux-7.3 predicts', async () => {
    const problems: string[] = [];
    for (const b of d.behaviours) {
      const run = await backend.run(b.trace);
      const div = compareTrace(B, b.trace.steps, run.outcomes).divergence;
      if (div)
        problems.push(
          `${b.witness.key}: step ${div.path[0]! + 1} expected ${formatOutcome(div.expected)}, lab said ${formatOutcome(div.observed)}`,
        );
    }
    expect(problems).toEqual([]);
  }, 300_000);
});
