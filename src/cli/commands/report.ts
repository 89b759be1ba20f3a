/** gmem-spec report: the static HTML site (opens from disk), written whole or not at all. */
import { ReportInterrupted, writeReport } from '../../presentation/report/site.ts';
import { intValue } from '../args.ts';
import { EXIT_BAD_INPUT, EXIT_INTERRUPTED, defineCommand } from '../command.ts';
import { EXIT_SIGINT, catchInterrupt } from '../interrupt.ts';
import { FLAG_DEFINITION_OPTION, resolveProfiles } from '../profiles.ts';
import { DEPTH_OPTION } from './diagram.ts';

export const report = defineCommand({
  name: 'report',
  summary: "write the static HTML report: every profile's diagrams, invariants, failure order, coverage, diffs and counterexamples",
  args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
  options: {
    out: {
      type: 'string',
      short: 'o',
      value: 'DIR',
      default: 'out/report',
      description: "the report's directory (replaced whole, atomically)",
    },
    profile: {
      type: 'string',
      short: 'p',
      multiple: true,
      value: 'P',
      description: 'a profile to report on: a name or base+FLAG (a comma list works too)',
      defaultText: 'every built-in profile',
    },
    flag: FLAG_DEFINITION_OPTION,
    depth: DEPTH_OPTION,
  },
  exitCodes: { 0: 'the report was written', 2: EXIT_BAD_INPUT, [EXIT_SIGINT]: EXIT_INTERRUPTED },
  async action({ values }, io) {
    const names = values.profile
      .flatMap((p) => p.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    const profiles = names.length ? (await resolveProfiles(names, values.flag)).map((r) => r.profile) : undefined;
    const depth = intValue(values.depth, 'depth', 1, 12);
    const ctrlC = catchInterrupt();
    try {
      const r = await writeReport({
        out: values.out,
        ...(profiles ? { profiles } : {}),
        ...(depth !== undefined ? { maxDepth: depth } : {}),
        onProgress: (phase) => io.progress?.phase(phase),
        signal: ctrlC.signal,
      });
      io.progress?.done();
      io.out(
        `wrote ${r.out}/index.html: ${r.pages} pages, ${r.diagrams} diagrams, ${r.sequences} sequence diagrams, ${(r.bytes / 1024 / 1024).toFixed(1)} MiB in ${(r.millis / 1000).toFixed(1)} s`,
      );
      return 0;
    } catch (e) {
      if (!(e instanceof ReportInterrupted)) throw e;
      io.progress?.done();
      io.err(
        `interrupted: nothing written (${values.out} is as it was; ${e.built} of ${e.total} profile page(s) had been built in memory)`,
      );
      return EXIT_SIGINT;
    } finally {
      ctrlC.dispose();
    }
  },
});
