/** fallocate(2) on a guest_memfd: allocate (KEEP_SIZE) or punch a hole. */
import { FALLOC_FL } from '../constants.ts';
import { fallocate, fallocateChecks, fallocateContext } from '../rules/fallocate.ts';
import { handleField, intField } from './fields.ts';
import { type OpModule, checkList } from './types.ts';
import { fallocModeWords, range } from './words.ts';

export const fallocateOp: OpModule<'fallocate'> = {
  name: 'fallocate',
  summary: 'fallocate(2) of a guest_memfd range',
  fields: [
    handleField('gmem'),
    { name: 'mode', type: { kind: 'int-or-enum', values: ['allocate', 'punch_hole'] } },
    intField('offset'),
    intField('len'),
  ],
  decide: fallocate,
  checkList: checkList({ checks: fallocateChecks, context: fallocateContext }),
  // A punch drops the pins of the pages it frees (test/ops-registry found it).
  footprint: { reads: ['names', 'fds', 'gmems'], writes: ['gmems', 'maps', 'pins'] },
  phrase: (_p, s) => `fallocate(${s.gmem}, ${fallocModeWords(s.mode)}, ${range(s.offset, s.len)})`,
  wireEnums: { mode: { allocate: FALLOC_FL.KEEP_SIZE, punch_hole: FALLOC_FL.PUNCH_HOLE | FALLOC_FL.KEEP_SIZE } },
};
