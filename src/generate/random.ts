/**
 * Random conformance: fast-check random walks over the same model as the explorer (spec/explore/random.ts),
 * for bounds too large to enumerate. Each walk runs on the backend and every step is compared with the spec;
 * the first walk that disagrees is shrunk by fast-check to a minimal failing trace, which carries the expected
 * and the observed outcome of every step and the seed that reproduces it.
 */
import type { Bound } from '../../spec/explore/bound.ts';
import { formatBound } from '../../spec/explore/bound.ts';
import { randomWalksAsync } from '../../spec/explore/random.ts';
import { predictTrace } from '../../spec/compare.ts';
import type { Outcome, Step, Trace } from '../../spec/ops.ts';
import { formatOutcome, observationAgrees } from '../../spec/outcome.ts';
import type { Profile } from '../../spec/profile.ts';
import type { Backend } from '../backend/types.ts';
import { stepPhrase } from './words.ts';

export interface RandomOptions {
  seed: number;
  runs: number;
  maxLength: number;
}

export interface RandomDivergence {
  step: number;
  expected: Outcome;
  observed: Outcome;
  rule: string;
}

export interface RandomResult {
  runs: number;
  steps: number;
  failure?: { seed: number; trace: Trace; divergence: RandomDivergence; message: string };
}

/** Run the steps on the backend; the first step whose outcome differs from the spec's. */
async function diverges(profile: Profile, backend: Backend, steps: readonly Step[]): Promise<RandomDivergence | undefined> {
  const predicted = predictTrace(profile, steps);
  const { outcomes } = await backend.run({ format: 'gmem-trace/1', profile: profile.name, steps: [...steps] });
  for (let i = 0; i < steps.length; i++) {
    const exp = (predicted[i] as (typeof predicted)[number]).outcome;
    const obs = outcomes[i] ?? { failed: 'no outcome' };
    if (!observationAgrees(exp, obs))
      return { step: i, expected: exp, observed: obs, rule: `${predicted[i]?.rule.id}: ${predicted[i]?.rule.says}` };
  }
  return undefined;
}

export async function randomConformance(profile: Profile, bound: Bound, backend: Backend, o: RandomOptions): Promise<RandomResult> {
  let steps = 0;
  const found = await randomWalksAsync(profile, bound, { seed: o.seed, runs: o.runs, maxLength: o.maxLength }, async (walk) => {
    steps += walk.steps.length;
    return diverges(profile, backend, walk.steps);
  });
  if (!found) return { runs: o.runs, steps };
  const d = found.problem;
  const predicted = predictTrace(profile, found.walk.steps);
  const { outcomes } = await backend.run({ format: 'gmem-trace/1', profile: profile.name, steps: found.walk.steps });
  const trace: Trace = {
    format: 'gmem-trace/1',
    profile: profile.name,
    name: `random-seed${o.seed}`,
    description: `shrunk from a random walk (gmem-spec generate --profile ${profile.name} --bound ${formatBound(bound)} --seed ${o.seed} --random ${o.runs}): step ${d.step + 1} diverges`,
    steps: found.walk.steps.map(
      (s, i) =>
        ({
          ...s,
          expected: predicted[i]?.outcome,
          observed: outcomes[i],
          note: `${predicted[i]?.rule.id}: ${predicted[i]?.rule.says}`,
        }) as Step,
    ),
  };
  const st = found.walk.steps[d.step] as Step;
  const message = `seed ${o.seed}: step ${d.step + 1} of ${found.walk.steps.length} (${stepPhrase(profile, st)}): the spec expects ${formatOutcome(d.expected)} (${d.rule}), the backend observed ${formatOutcome(d.observed)}`;
  return { runs: found.runs, steps, failure: { seed: o.seed, trace, divergence: d, message } };
}
