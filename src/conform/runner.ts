/**
 * The conformance runner: each trace runs on the backend, and every observed outcome is compared with the
 * spec. A failure names the first diverging step, the expected outcome and the rule that decided it, the
 * observed one, and the trace (with `observed` filled in) that reproduces it.
 */
import { type Divergence, type NotCompared, compareTrace } from '../../spec/compare.ts';
import type { Outcome, Step, Trace } from '../../spec/ops.ts';
import type { Profile } from '../../spec/profile.ts';
import type { Backend } from '../backend/types.ts';
import type { SuiteTrace } from './suite.ts';

export interface TraceResult {
  name: string;
  path: string;
  passed: boolean;
  steps: number;
  millis: number;
  divergence?: Divergence;
  /** Steps the backend ran whose outcome the spec does not model: reported, neither passed nor failed. */
  notModelled: NotCompared[];
  /** The trace with what the backend observed on each step, to reproduce a failure with check-trace. */
  observedTrace: Trace;
}

export function withObserved(steps: readonly Step[], outcomes: readonly (Outcome | undefined)[]): Step[] {
  return steps.map((s, i) => {
    const o = outcomes[i];
    const out: Step = { ...s };
    delete out.observed;
    if (o !== undefined) out.observed = o;
    if (s.op === 'fork' && out.op === 'fork') out.steps = withObserved(s.steps, o && 'ok' in o && o.steps ? o.steps : []);
    return out;
  });
}

function countSteps(steps: readonly Step[]): number {
  return steps.reduce((n, s) => n + 1 + (s.op === 'fork' ? countSteps(s.steps) : 0), 0);
}

export async function runTrace(backend: Backend, profile: Profile, t: SuiteTrace, timeoutMs?: number): Promise<TraceResult> {
  const t0 = performance.now();
  const run = await backend.run(t.trace, timeoutMs ? { timeoutMs } : {});
  const cmp = compareTrace(profile, t.trace.steps, run.outcomes);
  const observedTrace: Trace = { ...t.trace, profile: profile.name, steps: withObserved(t.trace.steps, run.outcomes) };
  return {
    name: t.name,
    path: t.path,
    passed: !cmp.divergence,
    steps: countSteps(t.trace.steps),
    millis: performance.now() - t0,
    ...(cmp.divergence ? { divergence: cmp.divergence } : {}),
    notModelled: cmp.notModelled,
    observedTrace,
  };
}

export async function runSuite(
  backend: Backend,
  profile: Profile,
  traces: readonly SuiteTrace[],
  onResult?: (r: TraceResult) => void,
): Promise<TraceResult[]> {
  const out: TraceResult[] = [];
  for (const t of traces) {
    const r = await runTrace(backend, profile, t);
    onResult?.(r);
    out.push(r);
  }
  return out;
}
