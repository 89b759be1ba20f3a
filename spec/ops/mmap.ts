/** Host mappings of a guest_memfd: mmap, munmap, mprotect, madvise. */
import { MADV } from '../constants.ts';
import { madvise } from '../rules/madvise.ts';
import { mmap, mmapChecks, mmapContext, mprotect, munmap } from '../rules/mmap.ts';
import { handleField, intField } from './fields.ts';
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
};
