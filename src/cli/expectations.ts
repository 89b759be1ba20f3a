/**
 * A trace's own `expected` outcomes are assertions too: where a step carries one and the backend observed
 * something else, the run fails even when the spec agrees with the backend (the trace is then stale: its
 * expectation no longer matches the spec). conform and check-trace both apply it, so a failure conform reports
 * reproduces with check-trace on the file it writes.
 */
import { predictTrace } from '../../spec/compare.ts';
import type { Outcome, Step } from '../../spec/ops.ts';
import { outcomesEqual } from '../../spec/outcome.ts';
import type { Profile } from '../../spec/profile.ts';
import { emptySystem } from '../../spec/state.ts';
import type { TraceResult } from '../conform/runner.ts';

export interface ExpectationMismatch {
  /** Index path: [3] is the fourth step, [3, 1] the second step nested in it. */
  path: number[];
  step: Step;
  expected: Outcome;
  observed: Outcome;
}

/** An expectation the spec leaves open (not modelled) asserts nothing. */
function asserts(o: Outcome): boolean {
  return !('not_modelled' in o);
}

/** The first step whose `expected` outcome disagrees with its `observed` one (nested fork steps included). */
export function firstExpectationMismatch(steps: readonly Step[], prefix: number[] = []): ExpectationMismatch | undefined {
  for (const [i, s] of steps.entries()) {
    const path = [...prefix, i];
    if (s.expected && s.observed && asserts(s.expected) && !outcomesEqual(s.expected, s.observed))
      return { path, step: s, expected: s.expected, observed: s.observed };
    if (s.op === 'fork') {
      const nested = firstExpectationMismatch(s.steps, path);
      if (nested) return nested;
    }
  }
  return undefined;
}

/** A passing result whose trace expects other outcomes than the backend observed becomes a failure at that step. */
export function withExpectations(profile: Profile, r: TraceResult): TraceResult {
  if (!r.passed) return r;
  const m = firstExpectationMismatch(r.observedTrace.steps);
  if (!m) return r;
  const first = m.path[0] as number;
  const before = first ? (predictTrace(profile, r.observedTrace.steps.slice(0, first)).at(-1)?.state ?? emptySystem()) : emptySystem();
  const rule = {
    id: 'trace.expected',
    says: `the trace's own expected outcome; the spec (profile ${profile.name}) agrees with the backend here, so the trace's expectation is stale`,
    cite: r.path,
  };
  return { ...r, passed: false, divergence: { path: m.path, step: m.step, expected: m.expected, observed: m.observed, rule, before } };
}
