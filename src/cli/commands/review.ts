/** gmem-spec review: docs/review/<seed>.md, each mailing-list debate with the commands that answer it and their output. */
import { checkReviews, writeReviews } from '../review/render.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';

export const review = defineCommand({
  name: 'review',
  summary: 'write docs/review/<seed>.md: each seed debate, the commands that answer it and their output (--check: compare)',
  args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
  options: {
    check: { type: 'boolean', description: 'regenerate in memory and compare with what is committed' },
  },
  exitCodes: { 0: 'written (--check: up to date)', 1: '--check: a review document is stale', 2: EXIT_BAD_INPUT },
  async action({ values }, io) {
    if (values.check) return (await checkReviews(io)) ? 1 : 0;
    await writeReviews(io);
    return 0;
  },
});
