/**
 * gmem-spec check-trace TRACE.json: compare each step's `observed` outcome with the spec, and check every
 * invariant in every state the trace reaches.
 */
import { compareTrace, hasObserved, predictTrace } from '../../../spec/compare.ts';
import { describeForStep } from '../../../spec/describe.ts';
import { formatOutcome } from '../../../spec/outcome.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { firstExpectationMismatch } from '../expectations.ts';
import { brokenInvariants, describeBroken } from '../invariantReplay.ts';
import { FLAG_OPTION, profileOption } from '../profiles.ts';
import { loadTrace } from '../traceInput.ts';
import { describeStep } from './predict.ts';

export const checkTrace = defineCommand({
  name: 'check-trace',
  summary: "compare a trace's observed outcomes with the spec and check the invariants along it; report the first divergence",
  args: { synopsis: 'TRACE.json', min: 1, max: 1, what: 'one trace file' },
  options: {
    profile: profileOption('the trace\'s "profile", else linux-6.18; a different one than the trace\'s is refused'),
    flag: FLAG_OPTION,
  },
  exitCodes: {
    0: 'every observed outcome agrees with the spec (and with the step\'s own "expected" outcome, where it has one) and every invariant holds along the trace',
    1: 'a step diverges (printed with the rule and the state that explain it), a step\'s observed outcome is not its "expected" one, or an invariant breaks',
    2: `${EXIT_BAD_INPUT}; also a trace with no observed outcome and no broken invariant (nothing to check)`,
  },
  async action({ values, positionals }, io) {
    const path = positionals[0] as string;
    const { trace, resolved } = await loadTrace(path, values);
    const profile = resolved.profile;
    const broken = brokenInvariants(profile, trace.steps, predictTrace(profile, trace.steps));
    if (!hasObserved(trace.steps)) {
      if (!broken.length) {
        io.err(
          `${path}: no step has an "observed" outcome, so nothing to compare (gmem-spec record writes what a backend observes into a trace), and every invariant holds along it`,
        );
        return 2;
      }
      io.out(`${path}: no observed outcomes; the spec's run of it under profile ${profile.name} breaks ${broken.length} invariant(s)`);
      for (const b of broken) io.out(`  ${describeBroken(b, profile)}`);
      return 1;
    }
    const c = compareTrace(profile, trace.steps);
    if (!c.divergence) {
      const m = firstExpectationMismatch(trace.steps);
      if (m) {
        io.out(
          `${path}: step ${m.path.map((p) => p + 1).join('.')} observed ${formatOutcome(m.observed)}, which profile ${profile.name} predicts, but the trace expects ${formatOutcome(m.expected)} (its "expected" outcome is stale)`,
        );
        io.out(`  step:     ${describeStep(m.step)}`);
      } else
        io.out(
          `${path}: ${c.checked} observed outcome(s) agree with profile ${profile.name}${c.notModelled.length ? `; ${c.notModelled.length} not modelled, not compared` : ''}`,
        );
      for (const n of c.notModelled)
        io.out(
          `  not modelled: step ${n.path.map((p) => p + 1).join('.')}: ${describeStep(n.step)} observed ${formatOutcome(n.observed)} (${n.reason})`,
        );
      for (const b of broken) io.out(`  ${describeBroken(b, profile)}`);
      return broken.length || m ? 1 : 0;
    }
    const d = c.divergence;
    io.out(`${path}: step ${d.path.map((p) => p + 1).join('.')} diverges from profile ${profile.name}`);
    io.out(`  step:     ${describeStep(d.step)}`);
    io.out(`  expected: ${formatOutcome(d.expected)}   [${d.rule.id}: ${d.rule.says} — ${d.rule.cite}]`);
    io.out(`  observed: ${formatOutcome(d.observed)}`);
    const why = describeForStep(d.before, profile, d.step);
    if (why.length) io.out('  state before the step:');
    for (const l of why) io.out(`    ${l}`);
    for (const b of broken) io.out(`  ${describeBroken(b, profile)}`);
    return 1;
  },
});
