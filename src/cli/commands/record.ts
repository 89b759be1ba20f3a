/**
 * gmem-spec record --backend linux TRACE.json: run a trace's steps on a backend and write what it observed into
 * each step (`observed`), so a kernel's behaviour can be kept and compared with the spec (check-trace) or another
 * kernel. Writes in place unless --out is given; the file is replaced atomically and keeps its profile (and the
 * definitions of a composed profile's flags).
 */
import { BACKEND_NAMES, BackendUnavailableError, openBackend } from '../../backend/index.ts';
import { progressLines } from '../../backend/lab.ts';
import { withObserved } from '../../conform/runner.ts';
import { writeFileAtomic } from '../../files.ts';
import { UsageError } from '../args.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { FLAG_OPTION, profileOption, traceDocument } from '../profiles.ts';
import { loadTrace } from '../traceInput.ts';

export const record = defineCommand({
  name: 'record',
  summary: 'run a trace on a backend and write the observed outcome into every step',
  args: { synopsis: 'TRACE.json', min: 1, max: 1, what: 'one trace file' },
  options: {
    backend: {
      type: 'string',
      short: 'b',
      value: 'NAME',
      choices: BACKEND_NAMES,
      description:
        "where the trace runs: linux (the host kernel's /dev/kvm), lab (the lab VM's Linux 7.3, built on first use) or reference (the spec itself)",
      defaultText: 'none: required',
    },
    preload: {
      type: 'string',
      value: 'FILE',
      description: 'with --backend lab: run the helper under this LD_PRELOAD shim (a shared object; its libraries are copied into the VM)',
      defaultText: 'none',
    },
    profile: profileOption(
      'the trace\'s "profile", else linux-6.18 (the reference backend runs it; a different one than the trace\'s is refused)',
    ),
    flag: FLAG_OPTION,
    out: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      description: 'write the recorded trace to FILE',
      defaultText: 'the trace file itself',
    },
  },
  exitCodes: {
    0: 'every step ran and its outcome was written',
    1: 'some step could not run on the backend (written as {"failed": reason})',
    2: EXIT_BAD_INPUT,
  },
  async action({ values, positionals }, io) {
    const path = positionals[0] as string;
    const backendName = values.backend;
    if (!backendName) throw new UsageError(`--backend is required (${BACKEND_NAMES.join(' or ')})`);
    const { trace, resolved } = await loadTrace(path, values);
    // An unavailable backend is reported by main() as one SKIP line, exit 2.
    const backend = openBackend(backendName, resolved.profile, {
      ...(values.preload !== undefined ? { preload: values.preload } : {}),
      progress: progressLines(io.err),
    });
    try {
      const caps = await backend.capabilities();
      if (caps.unavailable) throw new BackendUnavailableError(caps.backend, caps.unavailable);
      const run = await backend.run(trace);
      const out = values.out ?? path;
      writeFileAtomic(out, traceDocument({ ...trace, steps: withObserved(trace.steps, run.outcomes) }, resolved));
      const failed = run.outcomes.filter((o) => 'failed' in o).length;
      io.out(
        `recorded ${run.outcomes.length} step(s) from backend ${caps.backend} (${caps.detectedFrom}) into ${out}${failed ? `; ${failed} step(s) could not run` : ''}`,
      );
      return failed ? 1 : 0;
    } finally {
      await backend.close();
    }
  },
});
