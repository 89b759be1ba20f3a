/** Host mappings of a guest_memfd: mmap, munmap, mprotect, madvise. */
import { MADV } from '../constants.ts';
import { madvise } from '../rules/madvise.ts';
import { mmap, mmapChecks, mmapContext, mprotect, munmap } from '../rules/mmap.ts';
import { handleField, intField } from './fields.ts';
import { PAGE, freeMapName } from './probes.ts';
import { type OpModule, checkList } from './types.ts';
import { bytesWords, offsetWords, range } from './words.ts';

const protWords = (prot: string): string => (prot === 'none' ? 'PROT_NONE' : prot);

export const mmapOp: OpModule<'mmap'> = {
  name: 'mmap',
  summary: 'mmap(2) of a guest_memfd',
  fields: [
    handleField('gmem'),
    intField('offset'),
    intField('length'),
    { name: 'prot', type: { kind: 'prot' } },
    { name: 'shared', type: { kind: 'bool' } },
  ],
  decide: mmap,
  checkList: checkList({ checks: mmapChecks, context: mmapContext }),
  footprint: { reads: ['names', 'fds', 'gmems'], writes: ['gmems', 'maps', 'names'] },
  phrase: (_p, s) =>
    `mmap(${s.gmem}, ${offsetWords(s.offset)}, ${bytesWords(s.length)}, ${protWords(s.prot)}, ${s.shared ? 'MAP_SHARED' : 'MAP_PRIVATE'})${s.as ? ` as ${s.as}` : ''}`,
  wireEnums: {},
  probes: {
    gmem: {
      rank: 10,
      // Move: offset 0, one page past EOF, rw, MAP_SHARED. Probes: MAP_PRIVATE; PROT_EXEC; an unaligned offset.
      values: ({ g, bound, size, maps }) => [
        ...(maps.length < bound.maps
          ? [{ op: 'mmap' as const, gmem: g.name, offset: 0, length: size + PAGE, prot: 'rw', shared: true, as: freeMapName(maps) }]
          : []),
        { op: 'mmap', gmem: g.name, offset: 0, length: size, prot: 'rw', shared: false },
        { op: 'mmap', gmem: g.name, offset: 0, length: size, prot: 'rwx', shared: true },
        { op: 'mmap', gmem: g.name, offset: 1, length: size, prot: 'rw', shared: true },
      ],
    },
  },
};

export const munmapOp: OpModule<'munmap'> = {
  name: 'munmap',
  summary: 'munmap(2) of a whole mapping',
  fields: [handleField('map')],
  decide: munmap,
  checkList: { none: 'munmap of an unmapped range succeeds: no failure condition' },
  // The last mapping of a closed file releases it, and with it the VM it held (test/ops-registry found it).
  footprint: { reads: ['names', 'maps'], writes: ['vms', 'gmems', 'maps', 'pins'] },
  phrase: (_p, s) => `munmap(${s.map})`,
  wireEnums: {},
  probes: { map: { rank: 50, values: ({ m }) => [{ op: 'munmap', map: m.name }] } },
};

export const mprotectOp: OpModule<'mprotect'> = {
  name: 'mprotect',
  summary: 'mprotect(2) of a whole mapping',
  fields: [handleField('map'), { name: 'prot', type: { kind: 'prot' } }],
  decide: mprotect,
  checkList: { none: 'unmapped range (ENOMEM) and a PROT_EXEC refusal, decided in order by the rule' },
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['maps'] },
  phrase: (_p, s) => `mprotect(${s.map}, ${protWords(s.prot)})`,
  wireEnums: {},
  probes: { none: 'not yet explored: its refusals are covered by hand-written traces (examples/)' },
};

export const madviseOp: OpModule<'madvise'> = {
  name: 'madvise',
  summary: 'madvise(2) on a range of a mapping',
  fields: [
    handleField('map'),
    intField('offset'),
    intField('length'),
    { name: 'advice', type: { kind: 'enum', values: Object.keys(MADV) } },
  ],
  decide: madvise,
  checkList: { none: 'one answer per advice (spec/rules/madvise.ts table)' },
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['gmems', 'maps'] },
  phrase: (_p, s) =>
    `madvise(${s.map}, ${range(s.offset, s.length)}, MADV_${s.advice.toUpperCase()}${MADV[s.advice] === undefined ? '?' : ''})`,
  wireEnums: { advice: MADV },
  probes: { map: { rank: 40, values: ({ m, size }) => [{ op: 'madvise', map: m.name, offset: 0, length: size, advice: 'dontneed' }] } },
};
