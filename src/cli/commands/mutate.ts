/**
 * gmem-spec mutate: the mutation harness. Each mutant is a realistic deviation injected into the reference
 * backend; the suite kills it when some trace diverges. Prints the kill rate.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSuite } from '../../conform/suite.ts';
import { MUTANTS } from '../../mutation/catalogue.ts';
import { runMutants } from '../../mutation/harness.ts';
import { UsageError } from '../args.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { FLAG_OPTION, assertTracesProfile, profileOption, resolveProfile } from '../profiles.ts';

export const mutate = defineCommand({
  name: 'mutate',
  summary: 'mutation harness: inject known deviations into a backend and print the suite\'s kill rate',
  args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
  options: {
    profile: profileOption('linux-6.18'),
    flag: FLAG_OPTION,
    suite: { type: 'string', multiple: true, value: 'DIR', description: 'the suite: every trace under DIR', defaultText: 'generated-tests/<profile>' },
    mutant: { type: 'string', multiple: true, value: 'ID', description: `only this mutant (${MUTANTS.length} known, e.g. ${MUTANTS[0]?.id})`, defaultText: 'every mutant that applies to the profile' },
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
    io.progress?.phase(`running ${suite.length} trace(s) against the mutants of ${profile.name}`);
    const results = await runMutants(profile, suite, only.length ? only : undefined);
    if (!results.length) throw new UsageError(`no mutant applies to profile ${profile.name}${only.length ? ` among ${only.join(', ')}` : ''}`);
    io.progress?.done();
    io.out(`mutation harness: ${suite.length} trace(s) of ${dirs.join(', ')} against ${results.length} mutant(s) of ${profile.name}`);
    for (const r of results) {
      io.out(`${r.killed ? 'KILLED  ' : 'SURVIVED'} ${r.mutant.id.padEnd(34)} ${r.mutant.says}${r.killed ? `  (by ${r.killedBy}; ${r.failingTraces} trace(s) fail)` : ''}`);
    }
    const killed = results.filter((r) => r.killed).length;
    io.out(`kill rate: ${killed}/${results.length} (${((100 * killed) / results.length).toFixed(1)}%)`);
    return killed === results.length ? 0 : 1;
  },
});
