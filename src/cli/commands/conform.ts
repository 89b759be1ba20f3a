/**
 * gmem-spec conform --backend linux|reference [TRACE.json...]: run a suite (default generated-tests/<profile>)
 * and trace files on a backend and compare every step with the spec. Every trace must be for the profile the run
 * checks (the command line's, else the backend's): a trace for another profile is refused, not run under this one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND_NAMES, BackendUnavailableError, openBackend } from '../../backend/index.ts';
import { progressLines } from '../../backend/lab.ts';
import { RESULT_FORMATS, formatHuman, formatJson, formatJunit, formatTap } from '../../conform/format.ts';
import { runSuite } from '../../conform/runner.ts';
import { type SuiteTrace, loadSuite, loadTraceFiles } from '../../conform/suite.ts';
import { writeFileAtomic } from '../../files.ts';
import { UsageError } from '../args.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { withExpectations } from '../expectations.ts';
import {
  FLAG_OPTION,
  type ResolvedProfile,
  assertTracesProfile,
  profileOfTraces,
  profileOption,
  resolveProfile,
  shellWord,
  traceDocument,
} from '../profiles.ts';

export const conform = defineCommand({
  name: 'conform',
  summary: 'run a generated suite and traces on a backend and compare every step with the spec',
  args: { synopsis: '[TRACE.json...]', min: 0, max: Infinity, what: 'trace files' },
  options: {
    backend: {
      type: 'string',
      short: 'b',
      value: 'NAME',
      choices: BACKEND_NAMES,
      description:
        "where the traces run: linux (the host kernel's /dev/kvm), lab (the lab VM's Linux 7.3, built on first use) or reference (the spec itself)",
      defaultText: 'none: required',
    },
    preload: {
      type: 'string',
      value: 'FILE',
      description: 'with --backend lab: run the helper under this LD_PRELOAD shim (a shared object; its libraries are copied into the VM)',
      defaultText: 'none',
    },
    profile: profileOption(
      'with --backend linux the profile the kernel matches; with reference the traces\' own "profile", else linux-6.18',
    ),
    flag: FLAG_OPTION,
    suite: {
      type: 'string',
      multiple: true,
      value: 'DIR',
      description: 'run every trace under DIR',
      defaultText: 'generated-tests/<profile> when no TRACE is given',
    },
    format: { type: 'string', short: 'f', value: 'FORMAT', choices: RESULT_FORMATS, default: 'human', description: "the report's format" },
    out: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      description: 'write the report to FILE (atomically) and print a one-line summary',
      defaultText: 'standard output',
    },
    failures: {
      type: 'string',
      value: 'DIR',
      default: join('out', 'conform-failures'),
      description: 'where each failing trace is written with what the backend observed, to replay with check-trace',
    },
  },
  exitCodes: {
    0: 'every trace agrees with the spec (and with its own expected outcomes)',
    1: 'a trace diverges from the spec or from its own expected outcomes (each failure: the first diverging step, expected and rule vs observed, a file to replay it)',
    2: `${EXIT_BAD_INPUT}; also a trace for another profile than the run's`,
  },
  async action({ values, positionals }, io) {
    const backendName = values.backend;
    if (!backendName) throw new UsageError(`--backend is required (${BACKEND_NAMES.join(' or ')})`);
    const given = loadTraceFiles(positionals);
    const asked = values.profile !== undefined || values.flag.length > 0;
    const requested = asked ? await resolveProfile(values) : undefined;
    let resolved: ResolvedProfile | undefined = requested;
    if (!resolved && backendName === 'reference') resolved = (await profileOfTraces(given)) ?? (await resolveProfile({}));
    // An unavailable backend is reported by main() as one SKIP line, exit 2.
    const backend = openBackend(backendName, (resolved ?? (await resolveProfile({}))).profile, {
      ...(values.preload !== undefined ? { preload: values.preload } : {}),
      progress: progressLines(io.err),
    });
    try {
      const caps = await backend.capabilities();
      if (caps.unavailable) throw new BackendUnavailableError(caps.backend, caps.unavailable);
      if (!resolved) {
        if (caps.profile.endsWith('-unknown')) {
          throw new UsageError(
            `the ${caps.backend} backend matches no profile of the spec here (${caps.detectedFrom}); name the profile to compare it with, e.g. --profile linux-6.18`,
          );
        }
        resolved = await resolveProfile({ profile: caps.profile });
      }
      const profile = resolved.profile;
      const suites = [...values.suite];
      const defaultSuite = join('generated-tests', profile.name);
      if (!suites.length && !positionals.length) {
        if (!existsSync(defaultSuite))
          throw new UsageError(
            `no suite given and ${defaultSuite} does not exist (write one with gmem-spec generate ${resolved.args.map(shellWord).join(' ')})`,
          );
        suites.push(defaultSuite);
      }
      const traces: SuiteTrace[] = [
        ...suites.flatMap((d) => {
          if (!existsSync(d)) throw new UsageError(`--suite ${d}: no such directory`);
          return loadSuite(d);
        }),
        ...given,
      ];
      if (!traces.length) throw new UsageError('the suite holds no traces');
      await assertTracesProfile(traces, resolved, requested ? 'the command line' : `the ${caps.backend} backend's profile`);
      io.progress?.phase(`running ${traces.length} trace(s) on the ${caps.backend} backend against ${profile.name}`);
      let done = 0;
      const results = (await runSuite(backend, profile, traces, () => io.progress?.status(`${++done}/${traces.length}`))).map((r) =>
        withExpectations(profile, r),
      );
      const reproduce = new Map<string, string>();
      for (const r of results) {
        if (r.passed) continue;
        const file = join(values.failures, `${r.name.replace(/[\\/]/g, '__').replace(/\.json$/, '')}.observed.json`);
        writeFileAtomic(file, traceDocument(r.observedTrace, resolved));
        reproduce.set(r.name, shellWord(file));
      }
      const header = { backend: caps.backend, profile: profile.name, detectedFrom: caps.detectedFrom };
      const format = values.format;
      const text =
        format === 'json'
          ? formatJson(header, results)
          : format === 'junit'
            ? formatJunit(header, results, reproduce)
            : format === 'tap'
              ? formatTap(header, results, reproduce)
              : formatHuman(header, results, reproduce);
      io.progress?.done();
      if (values.out) {
        writeFileAtomic(values.out, `${text}\n`);
        io.out(
          `${results.filter((r) => r.passed).length} passed, ${results.filter((r) => !r.passed).length} failed; ${format} report in ${values.out}`,
        );
      } else io.out(text);
      return results.every((r) => r.passed) ? 0 : 1;
    } finally {
      await backend.close();
    }
  },
});
