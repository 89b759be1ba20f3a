/**
 * gmem-spec conform --backend linux|reference [--profile P] [--suite DIR]... [TRACE.json...]
 *                   [--format human|json|junit|tap] [--out FILE] [--failures DIR]
 * Run a suite (default: generated-tests/<profile>) and trace files on a backend; compare every step with the
 * spec. Exit 0 when every trace agrees, 1 when one diverges, 2 on bad input or an unavailable backend.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PROFILE, getProfile } from '../../../spec/profiles/index.ts';
import { formatTrace } from '../../../spec/trace.ts';
import { openBackend } from '../../backend/index.ts';
import { type ResultFormat, RESULT_FORMATS, formatHuman, formatJson, formatJunit, formatTap } from '../../conform/format.ts';
import { runSuite } from '../../conform/runner.ts';
import { type SuiteTrace, loadSuite, loadTraceFiles } from '../../conform/suite.ts';
import { writeFileAtomic } from '../../files.ts';
import { onlyOptions, opt, optAll, parseArgs, UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const conform: Command = {
  name: 'conform',
  summary: 'run a generated suite and traces on a backend and compare every step with the spec',
  usage: 'gmem-spec conform --backend linux|reference [--profile P] [--suite DIR]... [TRACE.json...] [--format human|json|junit|tap] [--out FILE] [--failures DIR]',
  async run(argv, io) {
    const args = parseArgs(argv);
    onlyOptions(args, ['backend', 'profile', 'suite', 'format', 'out', 'failures']);
    const backendName = opt(args, 'backend');
    if (!backendName) throw new UsageError('--backend is required (linux or reference)');
    const format = (opt(args, 'format') ?? 'human') as ResultFormat;
    if (!RESULT_FORMATS.includes(format)) throw new UsageError(`unknown --format ${format} (known: ${RESULT_FORMATS.join(', ')})`);
    const requested = opt(args, 'profile');
    // An unavailable backend is reported by main() as one SKIP line, exit 2.
    const backend = openBackend(backendName, getProfile(requested ?? DEFAULT_PROFILE));
    try {
      const caps = await backend.capabilities();
      const profile = getProfile(requested ?? caps.profile);
      const suites = optAll(args, 'suite');
      const defaultSuite = join('generated-tests', profile.name);
      if (!suites.length && !args.positionals.length) {
        if (!existsSync(defaultSuite)) throw new UsageError(`no suite given and ${defaultSuite} does not exist (run gmem-spec generate --profile ${profile.name})`);
        suites.push(defaultSuite);
      }
      const traces: SuiteTrace[] = [...suites.flatMap((d) => {
        if (!existsSync(d)) throw new UsageError(`--suite ${d}: no such directory`);
        return loadSuite(d);
      }), ...loadTraceFiles(args.positionals)];
      if (!traces.length) throw new UsageError('the suite holds no traces');
      const results = await runSuite(backend, profile, traces);
      const failuresDir = opt(args, 'failures') ?? join('out', 'conform-failures');
      const reproduce = new Map<string, string>();
      for (const r of results) {
        if (r.passed) continue;
        const file = join(failuresDir, `${r.name.replace(/[\\/]/g, '__').replace(/\.json$/, '')}.observed.json`);
        writeFileAtomic(file, formatTrace(r.observedTrace));
        reproduce.set(r.name, `${file} --profile ${profile.name}`);
      }
      const header = { backend: caps.backend, profile: profile.name, detectedFrom: caps.detectedFrom };
      const text = format === 'json' ? formatJson(header, results) : format === 'junit' ? formatJunit(header, results, reproduce) : format === 'tap' ? formatTap(header, results, reproduce) : formatHuman(header, results, reproduce);
      const out = opt(args, 'out');
      if (out) {
        writeFileAtomic(out, `${text}\n`);
        io.out(`${results.filter((r) => r.passed).length} passed, ${results.filter((r) => !r.passed).length} failed; ${format} report in ${out}`);
      } else io.out(text);
      return results.every((r) => r.passed) ? 0 : 1;
    } finally {
      await backend.close();
    }
  },
};
