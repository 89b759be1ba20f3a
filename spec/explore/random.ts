/**
 * Random walks over the same model as the explorer, for bounds too large to enumerate. A walk is a list of
 * choices (each picks one of the operations the explorer would try in the current state); fast-check
 * generates and shrinks the choice lists, so a failing walk shrinks to a minimal trace. Reproducible from the
 * seed, which every failure report carries.
 */
import fc from 'fast-check';
import type { Step } from '../ops.ts';
import type { Profile } from '../profile.ts';
import { type StepResult, step } from '../step.ts';
import { type SystemState, emptySystem } from '../state.ts';
import type { Bound } from './bound.ts';
import { compact } from './compact.ts';
import { eventsFor } from './events.ts';

export interface Walk {
  steps: Step[];
  results: StepResult[];
}

/** Replay choices: choice c picks event c mod (number of events) in the current state. */
export function walkFromChoices(profile: Profile, bound: Bound, choices: readonly number[]): Walk {
  let s: SystemState = emptySystem();
  const steps: Step[] = [];
  const results: StepResult[] = [];
  for (const c of choices) {
    const evs = eventsFor(profile, bound, s);
    if (!evs.length) break;
    const ev = evs[c % evs.length] as Step;
    const r = step(profile, s, ev);
    steps.push(ev);
    results.push(r);
    s = compact(r.state);
  }
  return { steps, results };
}

export interface RandomOptions {
  seed: number;
  runs: number;
  maxLength: number;
}

export interface RandomFailure<T> {
  seed: number;
  /** The shrunk walk. */
  walk: Walk;
  /** What the predicate said about it. */
  problem: T;
  runs: number;
}

const choicesArb = (maxLength: number) => fc.array(fc.nat({ max: 1 << 20 }), { minLength: 1, maxLength });

/** Run random walks; `problem` returns undefined when a walk is fine. Returns the shrunk first failure. */
export function randomWalks<T>(
  profile: Profile,
  bound: Bound,
  opts: RandomOptions,
  problem: (w: Walk) => T | undefined,
): RandomFailure<T> | undefined {
  let last: { walk: Walk; problem: T } | undefined;
  const out = fc.check(
    fc.property(choicesArb(opts.maxLength), (choices) => {
      const walk = walkFromChoices(profile, bound, choices);
      const p = problem(walk);
      if (p !== undefined) last = { walk, problem: p };
      return p === undefined;
    }),
    { seed: opts.seed, numRuns: opts.runs },
  );
  if (!out.failed || !out.counterexample) return undefined;
  const walk = walkFromChoices(profile, bound, out.counterexample[0]);
  const p = problem(walk) ?? last?.problem;
  return p === undefined ? undefined : { seed: opts.seed, walk, problem: p, runs: out.numRuns };
}

/** The async form, for predicates that run a backend. */
export async function randomWalksAsync<T>(
  profile: Profile,
  bound: Bound,
  opts: RandomOptions,
  problem: (w: Walk) => Promise<T | undefined>,
): Promise<RandomFailure<T> | undefined> {
  const out = await fc.check(
    fc.asyncProperty(
      choicesArb(opts.maxLength),
      async (choices) => (await problem(walkFromChoices(profile, bound, choices))) === undefined,
    ),
    { seed: opts.seed, numRuns: opts.runs },
  );
  if (!out.failed || !out.counterexample) return undefined;
  const walk = walkFromChoices(profile, bound, out.counterexample[0]);
  const p = await problem(walk);
  return p === undefined ? undefined : { seed: opts.seed, walk, problem: p, runs: out.numRuns };
}
