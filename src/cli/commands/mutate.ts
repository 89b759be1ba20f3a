/**
 * gmem-spec mutate [--profile P] [--suite DIR]... [--mutant ID]...: the mutation harness. Each mutant is a
 * realistic deviation injected into the reference backend; the suite kills it when some trace diverges.
 * Prints the kill rate; exit 0 only when every mutant is killed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PROFILE, getProfile } from '../../../spec/profiles/index.ts';
import { loadSuite } from '../../conform/suite.ts';
import { runMutants } from '../../mutation/harness.ts';
import { onlyOptions, opt, optAll, parseArgs, UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const mutate: Command = {
  name: 'mutate',
  summary: 'mutation harness: inject known deviations into a backend and print the suite\'s kill rate',
  usage: 'gmem-spec mutate [--profile P] [--suite DIR]... [--mutant ID]...',
  async run(argv, io) {
    const args = parseArgs(argv);
    onlyOptions(args, ['profile', 'suite', 'mutant']);
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const profile = getProfile(opt(args, 'profile') ?? DEFAULT_PROFILE);
    const dirs = optAll(args, 'suite');
    if (!dirs.length) dirs.push(join('generated-tests', profile.name));
    for (const d of dirs) if (!existsSync(d)) throw new UsageError(`--suite ${d}: no such directory`);
    const suite = dirs.flatMap((d) => loadSuite(d));
    if (!suite.length) throw new UsageError(`no traces under ${dirs.join(', ')}`);
    const only = optAll(args, 'mutant');
    const results = await runMutants(profile, suite, only.length ? only : undefined);
    if (!results.length) throw new UsageError(`no mutant applies to profile ${profile.name}${only.length ? ` among ${only.join(', ')}` : ''}`);
    io.out(`mutation harness: ${suite.length} trace(s) of ${dirs.join(', ')} against ${results.length} mutant(s) of ${profile.name}`);
    for (const r of results) {
      io.out(`${r.killed ? 'KILLED  ' : 'SURVIVED'} ${r.mutant.id.padEnd(34)} ${r.mutant.says}${r.killed ? `  (by ${r.killedBy}; ${r.failingTraces} trace(s) fail)` : ''}`);
    }
    const killed = results.filter((r) => r.killed).length;
    io.out(`kill rate: ${killed}/${results.length} (${((100 * killed) / results.length).toFixed(1)}%)`);
    return killed === results.length ? 0 : 1;
  },
};
