/** The mutation harness: the linux-6.18 corpus kills every catalogued deviation, and a thin suite does not. */
import { describe, expect, it } from 'vitest';
import { LINUX_6_18, getProfile } from '../spec/profiles/index.ts';
import { loadSuite, loadTraceFiles } from '../src/conform/suite.ts';
import { ReferenceBackend } from '../src/backend/reference.ts';
import { runSuite } from '../src/conform/runner.ts';
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
    expect(Object.fromEntries(results.map((r) => [r.mutant.id, r.killed]))).toEqual({
      'mmap-private-accepted': false,
      'punch-keeps-data': true,
    });
  });

  // "Only": the harness never runs them for linux-6.18, and it could not see them there anyway (6.18 has no
  // conversion): applied to linux-6.18, neither changes an outcome of its recorded corpus.
  it('in-place mutants apply to the in-place profile only', async () => {
    const inplace = MUTANTS.filter((m) => m.appliesTo.includes('inplace-conversion'));
    expect(inplace.map((m) => m.id).sort()).toEqual(['conversion-no-private-mem-check', 'pinned-page-converts']);
    for (const m of inplace) expect(m.appliesTo).toEqual(['inplace-conversion']);
    const corpus = loadSuite('examples/corpus/linux-6.18');
    const ran = await runMutants(LINUX_6_18, corpus);
    expect(ran.filter((r) => inplace.includes(r.mutant)).map((r) => r.mutant.id)).toEqual([]);
    for (const m of inplace) {
      const results = await runSuite(new ReferenceBackend(m.apply(LINUX_6_18)), LINUX_6_18, corpus);
      expect(
        results.filter((r) => !r.passed).map((r) => r.name),
        m.id,
      ).toEqual([]);
    }
  });

  // The committed suite's bound has no pins, and its failure-order tests never start from a mapped page, so the
  // pinned-conversion deviation needs the hand-written EAGAIN trace beside it.
  it('the in-place suites (the committed one and examples/traces/inplace-eagain.json) kill every in-place mutant', async () => {
    const suite = [...loadSuite('generated-tests/inplace-conversion'), ...loadTraceFiles(['examples/traces/inplace-eagain.json'])];
    const results = await runMutants(getProfile('inplace-conversion'), suite);
    expect(results.map((r) => [r.mutant.id, r.killed]).sort()).toEqual([
      ['conversion-no-private-mem-check', true],
      ['pinned-page-converts', true],
    ]);
  });
});
