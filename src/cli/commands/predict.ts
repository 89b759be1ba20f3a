/** gmem-spec predict trace.json [--profile P] [--json] [--out FILE]: the spec's outcome for every step. */
import { predictTrace } from '../../../spec/compare.ts';
import { stringifyJson } from '../../../spec/json.ts';
import type { Step, Trace } from '../../../spec/ops.ts';
import { formatOutcome } from '../../../spec/outcome.ts';
import type { StepResult } from '../../../spec/step.ts';
import { formatTrace } from '../../../spec/trace.ts';
import { writeFileAtomic } from '../../files.ts';
import { flag, onlyOptions, opt, parseArgs, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
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

function printResults(steps: readonly Step[], results: readonly StepResult[], indent: string, out: (s: string) => void, prefix: string): void {
  steps.forEach((s, i) => {
    const r = results[i];
    if (!r) return;
    out(`${indent}${prefix}${i + 1}. ${describeStep(s)}`);
    out(`${indent}     → ${formatOutcome(r.outcome)}   [${r.rule.id}: ${r.rule.says}]`);
    if (s.op === 'fork' && r.nested) printResults(s.steps, r.nested, `${indent}     `, out, `${prefix}${i + 1}.`);
  });
}

export const predict: Command = {
  name: 'predict',
  summary: 'print the spec\'s outcome (and deciding rule) for every step of a trace',
  usage: 'gmem-spec predict TRACE.json [--profile P] [--json] [--out FILE]',
  async run(argv, io) {
    const args = parseArgs(argv, ['json']);
    onlyOptions(args, ['profile', 'json', 'out']);
    const [path, ...rest] = args.positionals;
    if (!path || rest.length) throw new UsageError('predict takes exactly one trace file');
    const { trace, profile } = loadTrace(path, opt(args, 'profile'));
    const results = predictTrace(profile, trace.steps);
    if (flag(args, 'json') || opt(args, 'out')) {
      const written: Trace = { ...trace, profile: profile.name, steps: withExpected(trace.steps, results) };
      const text = formatTrace(written);
      const file = opt(args, 'out');
      if (file) writeFileAtomic(file, text);
      else io.out(text.trimEnd());
      return 0;
    }
    io.out(`profile ${profile.name}: ${profile.title}`);
    printResults(trace.steps, results, '', io.out, '');
    return 0;
  },
};
