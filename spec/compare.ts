/**
 * Compare what a backend observed with what the spec predicts, step by step (nested fork steps included), and
 * report the first divergence with the rule that decided the expectation and the state that explains it.
 */
import type { Outcome, Step } from './ops.ts';
import { outcomesEqual } from './outcome.ts';
import type { Profile } from './profile.ts';
import type { RuleRef } from './rules/check.ts';
import { type SystemState, emptySystem } from './state.ts';
import { type StepResult, step } from './step.ts';

export interface Divergence {
  /** Index path: [3] is the fourth step, [3, 1] the second step nested in it. */
  path: number[];
  step: Step;
  expected: Outcome;
  observed: Outcome;
  rule: RuleRef;
  /** The spec's state before the step. */
  before: SystemState;
}

export interface Comparison {
  checked: number;
  divergence?: Divergence;
}

function compareSteps(profile: Profile, state: SystemState, steps: readonly Step[], observed: readonly (Outcome | undefined)[], prefix: number[], acc: { checked: number }): { state: SystemState; divergence?: Divergence } {
  let s = state;
  for (let i = 0; i < steps.length; i++) {
    const st = steps[i] as Step;
    const obs = observed[i];
    const r: StepResult = step(profile, s, st);
    if (obs !== undefined) {
      if (st.op === 'fork' && 'ok' in obs && obs.steps && r.nested) {
        // Compare nested steps one by one for a precise report.
        let inner = s;
        for (let k = 0; k < st.steps.length; k++) {
          const n = r.nested[k];
          const o = obs.steps[k];
          if (!n) break;
          if (o !== undefined) {
            acc.checked++;
            if (!outcomesEqual(n.outcome, o)) return { state: s, divergence: { path: [...prefix, i, k], step: st.steps[k] as Step, expected: n.outcome, observed: o, rule: n.rule, before: inner } };
          }
          inner = n.state;
        }
      } else {
        acc.checked++;
        if (!outcomesEqual(r.outcome, obs)) return { state: s, divergence: { path: [...prefix, i], step: st, expected: r.outcome, observed: obs, rule: r.rule, before: s } };
      }
    }
    s = r.state;
  }
  return { state: s };
}

/** `observed[i]` is the outcome of top-level step i (undefined: not observed, not compared). */
export function compareTrace(profile: Profile, steps: readonly Step[], observed: readonly (Outcome | undefined)[]): Comparison {
  const acc = { checked: 0 };
  const r = compareSteps(profile, emptySystem(), steps, observed, [], acc);
  return r.divergence ? { checked: acc.checked, divergence: r.divergence } : { checked: acc.checked };
}

/** The spec's outcome for every step, with the rule, for `predict`. */
export function predictTrace(profile: Profile, steps: readonly Step[]): StepResult[] {
  let s = emptySystem();
  const out: StepResult[] = [];
  for (const st of steps) {
    const r = step(profile, s, st);
    out.push(r);
    s = r.state;
  }
  return out;
}
