/** gmem-spec review: docs/review/<seed>.md, each mailing-list debate with the commands that answer it and their output. */
import { UsageError } from '../args.ts';
import { REVIEW_DIR, checkReviews, runInProcess, writeReviews } from '../review/render.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';

export const review = defineCommand({
  name: 'review',
  summary: 'write docs/review/<seed>.md: each seed debate, the commands that answer it and their output (--check: compare)',
  args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
  options: {
    check: { type: 'boolean', description: 'regenerate in memory and compare with what is committed' },
    out: { type: 'string', short: 'o', value: 'DIR', default: 'docs/review', description: 'where the documents are written' },
  },
  exitCodes: { 0: 'written (--check: up to date)', 1: '--check: a review document is stale', 2: EXIT_BAD_INPUT },
  async action({ values }, io) {
    if (values.check) {
      if (values.out !== REVIEW_DIR) throw new UsageError('--check compares docs/review with what would be written: leave out --out');
      return (await checkReviews(io)) ? 1 : 0;
    }
    await writeReviews(io, runInProcess, values.out);
    return 0;
  },
});
