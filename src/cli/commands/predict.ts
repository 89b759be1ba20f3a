/** gmem-spec predict TRACE.json: the spec's outcome and deciding rule for every step, and the invariants along it. */
import { predictTrace } from '../../../spec/compare.ts';
import { pageTupleWords, touchedPages } from '../../../spec/describe.ts';
import { stringifyJson } from '../../../spec/json.ts';
import type { Step, Trace } from '../../../spec/ops.ts';
import { formatOutcome } from '../../../spec/outcome.ts';
import type { Profile } from '../../../spec/profile.ts';
import { type SystemState, emptySystem } from '../../../spec/state.ts';
import type { StepResult } from '../../../spec/step.ts';
import { writeFileAtomic } from '../../files.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { brokenInvariants, describeBroken } from '../invariantReplay.ts';
import { FLAG_OPTION, profileOption, traceDocument } from '../profiles.ts';
import { loadTrace } from '../traceInput.ts';

function withExpected(steps: readonly Step[], results: readonly StepResult[]): Step[] {
  return steps.map((s, i) => {
    const r = results[i];
    if (!r) return s;
    const out: Step = { ...s, expected: r.outcome };
    if (s.op === 'fork' && r.nested && out.op === 'fork') out.steps = withExpected(s.steps, r.nested);
    return out;
  });
}

export function describeStep(s: Step): string {
  const rec = s as unknown as Record<string, unknown>;
  const args = Object.entries(rec)
    .filter(([k]) => !['op', 'as', 'observed', 'expected', 'note', 'steps'].includes(k))
    .map(([k, v]) => `${k}=${typeof v === 'object' ? stringifyJson(v) : String(v)}`);
  return `${s.op}(${args.join(', ')})${s.as ? ` as ${s.as}` : ''}`;
}

interface PrintOptions {
  indent: string;
  prefix: string;
  /** With the page tuples each step touched (--states): the profile, and the state before the first step. */
  states?: { profile: Profile; before: SystemState };
}

function printResults(steps: readonly Step[], results: readonly StepResult[], out: (s: string) => void, o: PrintOptions): void {
  let before = o.states?.before;
  steps.forEach((s, i) => {
    const r = results[i];
    if (!r) return;
    out(`${o.indent}${o.prefix}${i + 1}. ${describeStep(s)}`);
    out(`${o.indent}     → ${formatOutcome(r.outcome)}   [${r.rule.id}: ${r.rule.says}]`);
    if (o.states && before) {
      for (const t of touchedPages(o.states.profile, before, r.state, s))
        out(`${o.indent}       guest_memfd #${t.gmem} page ${t.page}: ${pageTupleWords(t)}`);
      before = r.state;
    }
    if (s.op === 'fork' && r.nested) printResults(s.steps, r.nested, out, { indent: `${o.indent}     `, prefix: `${o.prefix}${i + 1}.` });
  });
}

export const predict = defineCommand({
  name: 'predict',
  summary: "print the spec's outcome (and deciding rule) for every step of a trace, and any invariant it breaks",
  args: { synopsis: 'TRACE.json', min: 1, max: 1, what: 'one trace file' },
  options: {
    profile: profileOption('the trace\'s "profile", else linux-6.18; a different one than the trace\'s is refused'),
    flag: FLAG_OPTION,
    json: { type: 'boolean', description: 'print the trace back as JSON with the expected outcome on every step' },
    states: {
      type: 'boolean',
      description:
        'after each step, the state of every page it touched: attribute, backing, content, mappings, pins, trusted entity, direct map, stage-2',
    },
    out: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      description: 'write that JSON trace to FILE (atomically) instead',
      defaultText: 'standard output',
    },
  },
  exitCodes: { 0: 'the prediction was printed (or written)', 2: EXIT_BAD_INPUT },
  async action({ values, positionals }, io) {
    const path = positionals[0] as string;
    const { trace, resolved } = await loadTrace(path, values);
    const profile = resolved.profile;
    const results = predictTrace(profile, trace.steps);
    if (values.json || values.out) {
      const written: Trace = { ...trace, profile: profile.name, steps: withExpected(trace.steps, results) };
      const text = traceDocument(written, resolved);
      if (values.out) writeFileAtomic(values.out, text);
      else io.out(text.trimEnd());
      return 0;
    }
    io.out(`profile ${profile.name}: ${profile.title}`);
    printResults(trace.steps, results, io.out, {
      indent: '',
      prefix: '',
      ...(values.states ? { states: { profile, before: emptySystem() } } : {}),
    });
    const broken = brokenInvariants(profile, trace.steps, results);
    for (const b of broken) io.out(describeBroken(b, profile));
    if (!broken.length) io.out('invariants: every invariant holds in every state the trace reaches');
    return 0;
  },
});
