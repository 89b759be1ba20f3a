/** Run a suite against every applicable mutant of a profile and report which ones the suite kills. */
import type { Profile } from '../../spec/profile.ts';
import { ReferenceBackend } from '../backend/reference.ts';
import type { Backend } from '../backend/types.ts';
import { runSuite } from '../conform/runner.ts';
import type { SuiteTrace } from '../conform/suite.ts';
import { MUTANTS, type Mutant } from './catalogue.ts';

export interface MutantResult {
  mutant: Mutant;
  killed: boolean;
  /** The first trace that caught it. */
  killedBy?: string;
  failingTraces: number;
}

/** `backendFor` makes the deviating backend from a mutant's profile: the reference by default, or a kernel's
 * recorded answers with the deviation injected (src/backend/deviating.ts). */
export async function runMutants(
  profile: Profile,
  suite: readonly SuiteTrace[],
  only?: readonly string[],
  backendFor: (mutant: Profile) => Backend = (p) => new ReferenceBackend(p),
): Promise<MutantResult[]> {
  const out: MutantResult[] = [];
  for (const mutant of MUTANTS.filter((m) => m.appliesTo.includes(profile.name) && (!only || only.includes(m.id)))) {
    const backend = backendFor(mutant.apply(profile));
    // The suite's expectations come from the true profile; the backend deviates.
    const results = await runSuite(backend, profile, suite);
    const failing = results.filter((r) => !r.passed);
    out.push({ mutant, killed: failing.length > 0, failingTraces: failing.length, ...(failing[0] ? { killedBy: failing[0].name } : {}) });
  }
  return out;
}
