/** fallocate(2) on a guest_memfd: allocate (KEEP_SIZE) or punch a hole. */
import { FALLOC_FL } from '../constants.ts';
import { folioPagesOf } from '../granularity.ts';
import { fallocate, fallocateChecks, fallocateContext, modeBits } from '../rules/fallocate.ts';
import type { GmemState } from '../state.ts';
import { callIntoRet, fd, s64 } from './cSelftest.ts';
import { handleField, intField, opSchema } from './fields.ts';
import type { StepOf } from './fields.ts';
import { PAGE } from './probes.ts';
import { type OpModule, checkList } from './types.ts';
import { fallocModeWords, range } from './words.ts';

/** The mode bits by their <linux/falloc.h> names, lowest bit first. */
const FALLOC_C_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x01, 'FALLOC_FL_KEEP_SIZE'],
  [0x02, 'FALLOC_FL_PUNCH_HOLE'],
  [0x04, 'FALLOC_FL_NO_HIDE_STALE'],
  [0x08, 'FALLOC_FL_COLLAPSE_RANGE'],
  [0x10, 'FALLOC_FL_ZERO_RANGE'],
  [0x20, 'FALLOC_FL_INSERT_RANGE'],
  [0x40, 'FALLOC_FL_UNSHARE_RANGE'],
];

/** A mode in C: `FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE`, bits without a name as a number. */
function cMode(m: number): string {
  if (m === 0) return '0';
  const out: string[] = [];
  let rest = m;
  for (const [bit, name] of FALLOC_C_NAMES)
    if (rest & bit) {
      out.push(name);
      rest &= ~bit;
    }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out.join(' | ');
}

export const fallocateSchema = opSchema('fallocate', [
  handleField('gmem'),
  { name: 'mode', type: { kind: 'int-or-enum', values: ['allocate', 'punch_hole'] } },
  intField('offset'),
  intField('len'),
]);

export const fallocateOp: OpModule<'fallocate'> = {
  ...fallocateSchema,
  summary: 'fallocate(2) of a guest_memfd range',
  decide: fallocate,
  checkList: checkList({ checks: fallocateChecks, context: fallocateContext }),
  // A punch drops the pins of the pages it frees (test/ops-registry found it).
  createsHandle: false,
  pageAddress: { via: 'file', file: 'gmem', offset: 'offset', length: 'len' },
  footprint: { reads: ['names', 'fds', 'gmems'], writes: ['gmems', 'maps', 'pins'] },
  phrase: (_p, s) => `fallocate(${s.gmem}, ${fallocModeWords(s.mode)}, ${range(s.offset, s.len)})`,
  edgeWord: (_p, s) =>
    s.mode === 'punch_hole'
      ? 'fallocate(PUNCH_HOLE)'
      : s.mode === 'allocate'
        ? 'fallocate(KEEP_SIZE)'
        : `fallocate(mode ${String(s.mode)})`,
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
  cSelftest: {
    step: (s) => callIntoRet(`fallocate(${fd(s.gmem)}, ${cMode(modeBits(s.mode))}, ${s64(s.offset)}, ${s64(s.len)})`),
    table: {
      members: 'int fd; int mode; off_t offset; off_t len;',
      row: (s) => `${fd(s.gmem)}, ${cMode(modeBits(s.mode))}, ${s64(s.offset)}, ${s64(s.len)}`,
      call: (r) => `fallocate(${r}.fd, ${r}.mode, ${r}.offset, ${r}.len)`,
      successRows: true,
    },
  },
};
