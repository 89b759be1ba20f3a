/**
 * gmem-spec mutate: the mutation harness. Each mutant is a realistic deviation injected into the reference
 * backend, or, with --backend linux|lab, into a kernel's answers (the kernel runs the suite once; traces it
 * disagrees with are left out); the suite kills it when some trace diverges. Prints the kill rate.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND_NAMES, openBackend } from '../../backend/index.ts';
import { DeviatingBackend, RecordedBackend } from '../../backend/deviating.ts';
import { progressLines } from '../../backend/lab.ts';
import type { Backend } from '../../backend/types.ts';
import { runSuite } from '../../conform/runner.ts';
import { loadSuite } from '../../conform/suite.ts';
import { MUTANTS } from '../../mutation/catalogue.ts';
import { runMutants } from '../../mutation/harness.ts';
import { UsageError } from '../args.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { FLAG_OPTION, assertTracesProfile, profileOption, resolveProfile } from '../profiles.ts';
import type { Profile } from '../../../spec/profile.ts';

export const mutate = defineCommand({
  name: 'mutate',
  summary: "mutation harness: inject known deviations into a backend and print the suite's kill rate",
  args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
  options: {
    profile: profileOption('linux-6.18'),
    flag: FLAG_OPTION,
    suite: {
      type: 'string',
      multiple: true,
      value: 'DIR',
      description: 'the suite: every trace under DIR',
      defaultText: 'generated-tests/<profile>',
    },
    backend: {
      type: 'string',
      short: 'b',
      value: 'NAME',
      choices: BACKEND_NAMES,
      default: 'reference',
      description:
        "where the suite runs: reference (each mutant is the spec with a deviation), or a kernel (linux, lab) whose answers get each mutant's deviation injected",
    },
    mutant: {
      type: 'string',
      multiple: true,
      value: 'ID',
      description: `only this mutant (${MUTANTS.length} known, e.g. ${MUTANTS[0]?.id})`,
      defaultText: 'every mutant that applies to the profile',
    },
  },
  exitCodes: { 0: 'the suite kills every mutant', 1: 'some mutant survives (listed)', 2: EXIT_BAD_INPUT },
  async action({ values }, io) {
    const resolved = await resolveProfile(values);
    const profile = resolved.profile;
    const dirs = [...values.suite];
    if (!dirs.length) dirs.push(join('generated-tests', profile.name));
    for (const d of dirs) if (!existsSync(d)) throw new UsageError(`--suite ${d}: no such directory`);
    const suite = dirs.flatMap((d) => loadSuite(d));
    if (!suite.length) throw new UsageError(`no traces under ${dirs.join(', ')}`);
    await assertTracesProfile(suite, resolved, 'the command line');
    const only = values.mutant;
    // Mutants are catalogued by built-in profile: a composed profile gets its base's (the deviations are the
    // same; only the catalogue's selection reads the name).
    const selectable = resolved.added.length ? { ...profile, name: resolved.builtIn } : profile;
    if (!MUTANTS.some((m) => m.appliesTo.includes(selectable.name) && (!only.length || only.includes(m.id)))) {
      throw new UsageError(`no mutant applies to profile ${profile.name}${only.length ? ` among ${only.join(', ')}` : ''}`);
    }
    let kernel: RecordedBackend | undefined;
    let kept = suite;
    let backendFor: ((p: Profile) => Backend) | undefined;
    if (values.backend !== 'reference') {
      // An unavailable backend is reported by main() as one SKIP line, exit 2.
      kernel = new RecordedBackend(openBackend(values.backend, profile, { progress: progressLines(io.err) }));
    }
    let results;
    try {
      if (kernel) {
        const k = kernel;
        io.progress?.phase(`running ${suite.length} trace(s) once on the ${values.backend} backend, unmutated`);
        const baseline = await runSuite(k, profile, suite);
        const off = baseline.filter((r) => !r.passed);
        kept = suite.filter((_, i) => baseline[i]?.passed);
        io.out(
          `baseline: ${kept.length} of ${suite.length} trace(s) agree with ${profile.name} on the ${values.backend} backend${off.length ? `; the ${off.length} that diverge are left out (first: ${off[0]?.name})` : ''}`,
        );
        if (!kept.length)
          throw new UsageError(
            `no trace agrees with ${profile.name} on the ${values.backend} backend: nothing to mutate (gmem-spec conform --backend ${values.backend} shows why)`,
          );
        backendFor = (p) => new DeviatingBackend(k, profile, p);
      }
      io.progress?.phase(`running ${kept.length} trace(s) against the mutants of ${profile.name}`);
      results = await runMutants(selectable, kept, only.length ? only : undefined, backendFor);
    } finally {
      await kernel?.close();
    }
    io.progress?.done();
    io.out(
      `mutation harness: ${kept.length} trace(s) of ${dirs.join(', ')} against ${results.length} mutant(s) of ${profile.name} on the ${values.backend} backend`,
    );
    for (const r of results) {
      io.out(
        `${r.killed ? 'KILLED  ' : 'SURVIVED'} ${r.mutant.id.padEnd(34)} ${r.mutant.says}${r.killed ? `  (by ${r.killedBy}; ${r.failingTraces} trace(s) fail)` : ''}`,
      );
    }
    const killed = results.filter((r) => r.killed).length;
    io.out(`kill rate: ${killed}/${results.length} (${((100 * killed) / results.length).toFixed(1)}%)`);
    return killed === results.length ? 0 : 1;
  },
});
