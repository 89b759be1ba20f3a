/**
 * gmem-spec record --backend linux TRACE.json [--out FILE]: run a trace's steps on a backend and write what it
 * observed into each step (`observed`), so a kernel's behaviour can be kept and diffed against the spec
 * (check-trace) or another kernel. Writes in place unless --out is given; the file is replaced atomically.
 */
import { DEFAULT_PROFILE, getProfile } from '../../../spec/profiles/index.ts';
import { formatTrace } from '../../../spec/trace.ts';
import { openBackend } from '../../backend/index.ts';
import { withObserved } from '../../conform/runner.ts';
import { writeFileAtomic } from '../../files.ts';
import { onlyOptions, opt, parseArgs, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { loadTrace } from '../traceInput.ts';

export const record: Command = {
  name: 'record',
  summary: 'run a trace on a backend and write the observed outcome into every step',
  usage: 'gmem-spec record --backend linux|reference TRACE.json [--out FILE]',
  async run(argv, io) {
    const args = parseArgs(argv);
    onlyOptions(args, ['backend', 'out', 'profile']);
    const [path, ...rest] = args.positionals;
    if (!path || rest.length) throw new UsageError('record takes exactly one trace file');
    const backendName = opt(args, 'backend');
    if (!backendName) throw new UsageError('--backend is required (linux or reference)');
    const { trace } = loadTrace(path, opt(args, 'profile'));
    // An unavailable backend is reported by main() as one SKIP line, exit 2.
    const backend = openBackend(backendName, getProfile(opt(args, 'profile') ?? trace.profile ?? DEFAULT_PROFILE));
    try {
      const caps = await backend.capabilities();
      const run = await backend.run(trace);
      const out = opt(args, 'out') ?? path;
      writeFileAtomic(out, formatTrace({ ...trace, steps: withObserved(trace.steps, run.outcomes) }));
      const failed = run.outcomes.filter((o) => 'failed' in o).length;
      io.out(`recorded ${run.outcomes.length} step(s) from backend ${caps.backend} (${caps.detectedFrom}) into ${out}${failed ? `; ${failed} step(s) could not run` : ''}`);
      return failed ? 1 : 0;
    } finally {
      await backend.close();
    }
  },
};
