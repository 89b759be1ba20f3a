/** gmem-spec report [--out DIR] [--profiles a,b] [--depth N]: the static HTML site (opens from disk). */
import { writeReport } from '../../report/site.ts';
import { getProfile } from '../../../spec/profiles/index.ts';
import { onlyOptions, opt, parseArgs, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { intOption } from './diagram.ts';

export const report: Command = {
  name: 'report',
  summary: 'write the static HTML report: every profile\'s diagrams, invariants, failure order, coverage, diffs and counterexamples',
  usage: 'gmem-spec report [--out DIR] [--profiles P1,P2] [--depth N]',
  async run(argv, io) {
    const args = parseArgs(argv);
    onlyOptions(args, ['out', 'profiles', 'depth']);
    if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const list = opt(args, 'profiles')?.split(',').map((s) => s.trim()).filter(Boolean);
    for (const p of list ?? []) getProfile(p);
    const depth = intOption(opt(args, 'depth'), 'depth', 1, 12);
    const r = await writeReport({ out: opt(args, 'out') ?? 'out/report', ...(list ? { profiles: list } : {}), ...(depth !== undefined ? { maxDepth: depth } : {}) });
    io.out(`wrote ${r.out}/index.html: ${r.pages} pages, ${r.diagrams} diagrams, ${r.sequences} sequence diagrams, ${(r.bytes / 1024 / 1024).toFixed(1)} MiB in ${(r.millis / 1000).toFixed(1)} s`);
    return 0;
  },
};
