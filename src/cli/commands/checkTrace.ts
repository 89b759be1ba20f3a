/**
 * gmem-spec check-trace trace.json [--profile P]: compare each step's `observed` outcome with the spec.
 * Exit 0 when all agree, 1 at the first divergence (reported with the rule and the state that explains it),
 * 2 on malformed input.
 */
import { compareTrace } from '../../../spec/compare.ts';
import { describeForStep } from '../../../spec/describe.ts';
import { formatOutcome } from '../../../spec/outcome.ts';
import { onlyOptions, opt, parseArgs, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { loadTrace } from '../traceInput.ts';
import { describeStep } from './predict.ts';

export const checkTrace: Command = {
  name: 'check-trace',
  summary: 'compare a trace\'s observed outcomes with the spec; report the first divergence',
  usage: 'gmem-spec check-trace TRACE.json [--profile P]',
  async run(argv, io) {
    const args = parseArgs(argv);
    onlyOptions(args, ['profile']);
    const [path, ...rest] = args.positionals;
    if (!path || rest.length) throw new UsageError('check-trace takes exactly one trace file');
    const { trace, profile } = loadTrace(path, opt(args, 'profile'));
    const observed = trace.steps.map((s) => s.observed);
    if (!observed.some((o) => o !== undefined)) {
      io.err(`${path}: no step has an "observed" outcome: nothing to check (record one with gmem-spec record)`);
      return 2;
    }
    const c = compareTrace(profile, trace.steps, observed);
    if (!c.divergence) {
      io.out(`${path}: ${c.checked} observed outcome(s) agree with profile ${profile.name}`);
      return 0;
    }
    const d = c.divergence;
    io.out(`${path}: step ${d.path.map((p) => p + 1).join('.')} diverges from profile ${profile.name}`);
    io.out(`  step:     ${describeStep(d.step)}`);
    io.out(`  expected: ${formatOutcome(d.expected)}   [${d.rule.id}: ${d.rule.says} — ${d.rule.cite}]`);
    io.out(`  observed: ${formatOutcome(d.observed)}`);
    const why = describeForStep(d.before, profile, d.step);
    if (why.length) io.out('  state before the step:', );
    for (const l of why) io.out(`    ${l}`);
    return 1;
  },
};
