/** The mutation harness: the linux-6.18 corpus kills every catalogued deviation, and a thin suite does not. */
import { describe, expect, it } from 'vitest';
import { LINUX_6_18, getProfile } from '../spec/profiles/index.ts';
import { loadSuite, loadTraceFiles } from '../src/conform/suite.ts';
import { runMutants } from '../src/mutation/harness.ts';
import { MUTANTS } from '../src/mutation/catalogue.ts';

describe('mutation harness', () => {
  it('has at least 15 realistic deviations for linux-6.18', () => {
    expect(MUTANTS.filter((m) => m.appliesTo.includes('linux-6.18')).length).toBeGreaterThanOrEqual(15);
  });

  it('the recorded kernel corpus kills every linux-6.18 mutant', async () => {
    const results = await runMutants(LINUX_6_18, loadSuite('examples/corpus/linux-6.18'));
    expect(results.filter((r) => !r.killed).map((r) => r.mutant.id)).toEqual([]);
  });

  it('a suite that never exercises a deviation lets it survive (the harness can fail)', async () => {
    const thin = loadTraceFiles(['examples/corpus/linux-6.18/punch--page0.json']);
    const results = await runMutants(LINUX_6_18, thin, ['mmap-private-accepted', 'punch-keeps-data']);
    expect(Object.fromEntries(results.map((r) => [r.mutant.id, r.killed]))).toEqual({ 'mmap-private-accepted': false, 'punch-keeps-data': true });
  });

  it('in-place mutants apply to the in-place profile only', async () => {
    const ids = MUTANTS.filter((m) => m.appliesTo.includes('inplace-conversion')).map((m) => m.id);
    expect(ids).toContain('pinned-page-converts');
    expect(getProfile('inplace-conversion').name).toBe('inplace-conversion');
  });
});
