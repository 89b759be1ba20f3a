/** fallocate(2) on a guest_memfd: allocate (KEEP_SIZE) or punch a hole. */
import { FALLOC_FL } from '../constants.ts';
import { folioPagesOf } from '../granularity.ts';
import { fallocate, fallocateChecks, fallocateContext } from '../rules/fallocate.ts';
import type { GmemState } from '../state.ts';
import { handleField, intField } from './fields.ts';
import type { StepOf } from './fields.ts';
import { PAGE } from './probes.ts';
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
  probes: {
    gmem: {
      rank: 20,
      // Moves: punch / allocate each page (and each huge folio). Probes: mode 0; PUNCH without KEEP_SIZE; an unknown bit; an unaligned
      // offset; len 0; allocate at EOF; an end past 2^63-1.
      values: ({ profile, s, g, bound, size }) => {
        const ev: StepOf<'fallocate'>[] = [];
        for (let i = 0; i < bound.pages; i++) {
          ev.push({ op: 'fallocate', gmem: g.name, mode: 'punch_hole', offset: i * PAGE, len: PAGE });
          ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: i * PAGE, len: PAGE });
        }
        // Huge folios (hugetlb): the per-page ranges above are refused as unaligned; punch / allocate each folio too.
        const folio = folioPagesOf(profile, s.gmems[g.id] as GmemState);
        if (folio > 1)
          for (let i = 0; i + folio <= bound.pages; i += folio) {
            ev.push({ op: 'fallocate', gmem: g.name, mode: 'punch_hole', offset: i * PAGE, len: folio * PAGE });
            ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: i * PAGE, len: folio * PAGE });
          }
        ev.push({ op: 'fallocate', gmem: g.name, mode: 0, offset: 0, len: PAGE });
        ev.push({ op: 'fallocate', gmem: g.name, mode: 2, offset: 0, len: PAGE });
        ev.push({ op: 'fallocate', gmem: g.name, mode: 5, offset: 0, len: PAGE });
        ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: 1, len: PAGE });
        ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: 0, len: 0 });
        ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: size, len: PAGE });
        ev.push({ op: 'fallocate', gmem: g.name, mode: 'allocate', offset: 0x7ffffffffffff000n, len: 0x2000 });
        return ev;
      },
    },
  },
};
