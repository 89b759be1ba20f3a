/**
 * Compare what a backend observed with what the spec predicts, step by step (nested fork steps included), and
 * report the first divergence with the rule that decided the expectation and the state that explains it. A
 * step the spec does not model (a `not_modelled` prediction) is neither agreement nor divergence: it is counted
 * apart and not compared.
 */
import type { Outcome, Step } from './ops.ts';
import { isNotModelled, outcomesEqual } from './outcome.ts';
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

export interface NotCompared {
  path: number[];
  step: Step;
  observed: Outcome;
  /** Why the spec has no prediction. */
  reason: string;
}

export interface Comparison {
  /** Observed outcomes compared with a prediction (agreeing ones, and the diverging one if any). */
  checked: number;
  /** Observed outcomes of steps the spec does not model: not compared. */
  notModelled: NotCompared[];
  divergence?: Divergence;
}

interface Acc {
  checked: number;
  notModelled: NotCompared[];
}

/** Compare one observed outcome with the spec's; a divergence, or undefined when they agree or cannot be compared. */
function compareOne(acc: Acc, path: number[], st: Step, r: StepResult, obs: Outcome, before: SystemState): Divergence | undefined {
  if (isNotModelled(r.outcome)) {
    acc.notModelled.push({ path, step: st, observed: obs, reason: r.outcome.not_modelled });
    return undefined;
  }
  acc.checked++;
  return outcomesEqual(r.outcome, obs) ? undefined : { path, step: st, expected: r.outcome, observed: obs, rule: r.rule, before };
}

function compareSteps(
  profile: Profile,
  state: SystemState,
  steps: readonly Step[],
  observed: readonly (Outcome | undefined)[],
  prefix: number[],
  acc: Acc,
): { state: SystemState; divergence?: Divergence } {
  let s = state;
  for (let i = 0; i < steps.length; i++) {
    const st = steps[i] as Step;
    const obs = observed[i];
    const r: StepResult = step(profile, s, st);
    if (st.op === 'fork' && r.nested && (obs === undefined || 'ok' in obs)) {
      // The fork itself succeeded (or was not observed): compare its child steps one by one, each with the
      // outcome the fork lists for it or else the child's own `observed` (docs/trace-format.md).
      if (obs !== undefined && !obs.steps) acc.checked++;
      let inner = s;
      for (let k = 0; k < st.steps.length; k++) {
        const n = r.nested[k];
        if (!n) break;
        const child = st.steps[k] as Step;
        const o = obs?.steps?.[k] ?? child.observed;
        if (o !== undefined) {
          const d = compareOne(acc, [...prefix, i, k], child, n, o, inner);
          if (d) return { state: s, divergence: d };
        }
        inner = n.state;
      }
    } else if (obs !== undefined) {
      const d = compareOne(acc, [...prefix, i], st, r, obs, s);
      if (d) return { state: s, divergence: d };
    }
    s = r.state;
  }
  return { state: s };
}

/**
 * `observed[i]` is the outcome of top-level step i (undefined: not observed, not compared); a fork's children
 * may carry their own `observed` as well. Without `observed`, the steps' own `observed` outcomes are compared.
 */
export function compareTrace(
  profile: Profile,
  steps: readonly Step[],
  observed: readonly (Outcome | undefined)[] = steps.map((s) => s.observed),
): Comparison {
  const acc: Acc = { checked: 0, notModelled: [] };
  const r = compareSteps(profile, emptySystem(), steps, observed, [], acc);
  return r.divergence ? { ...acc, divergence: r.divergence } : acc;
}

/** Whether any step, a fork's child steps included, carries an observed outcome (something to compare). */
export function hasObserved(steps: readonly Step[]): boolean {
  return steps.some((s) => s.observed !== undefined || (s.op === 'fork' && hasObserved(s.steps)));
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
