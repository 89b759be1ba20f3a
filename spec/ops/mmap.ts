/** Host mappings of a guest_memfd: mmap, munmap, mprotect, madvise. */
import { MADV, type MadviseName } from '../constants.ts';
import { madvise } from '../rules/madvise.ts';
import { mmap, mmapChecks, mmapContext, mprotect, munmap } from '../rules/mmap.ts';
import type { Prot } from '../ops.ts';
import { addr, callIntoRet, fd, ident, s64, u64 } from './cSelftest.ts';
import { handleField, intField, opSchema } from './fields.ts';
import { PAGE, freeMapName } from './probes.ts';
import { type OpModule, checkList } from './types.ts';
import { bytesWords, offsetWords, range } from './words.ts';

const protWords = (prot: string): string => (prot === 'none' ? 'PROT_NONE' : prot);

/** A protection in C: `PROT_READ | PROT_WRITE`. */
function cProt(p: Prot): string {
  if (p === 'none') return 'PROT_NONE';
  const out: string[] = [];
  if (p.includes('r')) out.push('PROT_READ');
  if (p.includes('w')) out.push('PROT_WRITE');
  if (p.includes('x')) out.push('PROT_EXEC');
  return out.join(' | ');
}

/** An advice's name in C (<sys/mman.h>); a name without an entry is written as given. */
const MADV_C_NAMES: Readonly<Record<string, string>> = {
  normal: 'MADV_NORMAL',
  random: 'MADV_RANDOM',
  sequential: 'MADV_SEQUENTIAL',
  willneed: 'MADV_WILLNEED',
  dontneed: 'MADV_DONTNEED',
  free: 'MADV_FREE',
  remove: 'MADV_REMOVE',
  dontfork: 'MADV_DONTFORK',
  dofork: 'MADV_DOFORK',
  hugepage: 'MADV_HUGEPAGE',
  nohugepage: 'MADV_NOHUGEPAGE',
  pageout: 'MADV_PAGEOUT',
  collapse: 'MADV_COLLAPSE',
};

export const mmapSchema = opSchema('mmap', [
  handleField('gmem'),
  intField('offset'),
  intField('length'),
  { name: 'prot', type: { kind: 'prot' } },
  { name: 'shared', type: { kind: 'bool' } },
]);

export const mmapOp: OpModule<'mmap'> = {
  ...mmapSchema,
  summary: 'mmap(2) of a guest_memfd',
  decide: mmap,
  checkList: checkList({ checks: mmapChecks, context: mmapContext }),
  createsHandle: true,
  pageAddress: { none: 'maps a whole file as the explorer offers it (its offset names where the mapping starts)' },
  footprint: { reads: ['names', 'fds', 'gmems'], writes: ['gmems', 'maps', 'names'] },
  phrase: (_p, s) =>
    `mmap(${s.gmem}, ${offsetWords(s.offset)}, ${bytesWords(s.length)}, ${protWords(s.prot)}, ${s.shared ? 'MAP_SHARED' : 'MAP_PRIVATE'})${s.as ? ` as ${s.as}` : ''}`,
  edgeWord: (_p, s) => `mmap(${s.shared ? 'MAP_SHARED' : 'MAP_PRIVATE'})`,
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
  // A mapping the step names goes in that handle's `struct gmap`, an unnamed one in `scratch_map`.
  cSelftest: {
    step: (s) => ({
      locals: s.as ? [] : ['scratch_map'],
      lines: [
        `${s.as ? ident(s.as) : 'scratch_map'} = gmem_mmap(${fd(s.gmem)}, ${s64(s.offset)}, ${u64(s.length)}, ${cProt(s.prot)}, ${s.shared ? 'MAP_SHARED' : 'MAP_PRIVATE'}, &ret);`,
        { assertResult: 'ret' },
      ],
    }),
    table: {
      members: 'int fd; off_t offset; uint64_t length; int prot; int flags;',
      row: (s) => `${fd(s.gmem)}, ${s64(s.offset)}, ${u64(s.length)}, ${cProt(s.prot)}, ${s.shared ? 'MAP_SHARED' : 'MAP_PRIVATE'}`,
      call: (r) => `mmap_ret(${r}.fd, ${r}.offset, ${r}.length, ${r}.prot, ${r}.flags)`,
      // A successful mmap in a table would map and unmap again: not the step the trace has.
      successRows: false,
    },
  },
};

export const munmapSchema = opSchema('munmap', [handleField('map')]);

export const munmapOp: OpModule<'munmap'> = {
  ...munmapSchema,
  summary: 'munmap(2) of a whole mapping',
  decide: munmap,
  checkList: { none: 'munmap of an unmapped range succeeds: no failure condition' },
  // The last mapping of a closed file releases it, and with it the VM it held (test/ops-registry found it).
  createsHandle: false,
  pageAddress: { none: 'unmaps a whole mapping' },
  footprint: { reads: ['names', 'maps'], writes: ['vms', 'gmems', 'maps', 'pins'] },
  phrase: (_p, s) => `munmap(${s.map})`,
  edgeWord: () => 'munmap',
  wireEnums: {},
  probes: { map: { rank: 50, values: ({ m }) => [{ op: 'munmap', map: m.name }] } },
  cSelftest: { step: (s) => callIntoRet(`munmap(${ident(s.map)}.addr, ${ident(s.map)}.len)`) },
};

export const mprotectSchema = opSchema('mprotect', [handleField('map'), { name: 'prot', type: { kind: 'prot' } }]);

export const mprotectOp: OpModule<'mprotect'> = {
  ...mprotectSchema,
  summary: 'mprotect(2) of a whole mapping',
  decide: mprotect,
  checkList: { none: 'unmapped range (ENOMEM) and a PROT_EXEC refusal, decided in order by the rule' },
  createsHandle: false,
  pageAddress: { none: 'protects a whole mapping' },
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['maps'] },
  phrase: (_p, s) => `mprotect(${s.map}, ${protWords(s.prot)})`,
  edgeWord: (_p, s) => s.op,
  wireEnums: {},
  probes: { none: 'not yet explored: its refusals are covered by hand-written traces (examples/)' },
  cSelftest: { step: (s) => callIntoRet(`mprotect(${ident(s.map)}.addr, ${ident(s.map)}.len, ${cProt(s.prot)})`) },
};

export const madviseSchema = opSchema('madvise', [
  handleField('map'),
  intField('offset'),
  intField('length'),
  { name: 'advice', type: { kind: 'enum', values: Object.keys(MADV) as MadviseName[] } },
]);

export const madviseOp: OpModule<'madvise'> = {
  ...madviseSchema,
  summary: 'madvise(2) on a range of a mapping',
  decide: madvise,
  checkList: { none: 'one answer per advice (spec/rules/madvise.ts table)' },
  createsHandle: false,
  pageAddress: { none: 'advises a whole mapping as the explorer offers it' },
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['gmems', 'maps'] },
  phrase: (_p, s) =>
    `madvise(${s.map}, ${range(s.offset, s.length)}, MADV_${s.advice.toUpperCase()}${MADV[s.advice] === undefined ? '?' : ''})`,
  edgeWord: (_p, s) => `madvise(MADV_${s.advice.toUpperCase()})`,
  wireEnums: { advice: MADV },
  probes: { map: { rank: 40, values: ({ m, size }) => [{ op: 'madvise', map: m.name, offset: 0, length: size, advice: 'dontneed' }] } },
  cSelftest: {
    step: (s) => callIntoRet(`madvise(${addr(s.map, s.offset)}, ${u64(s.length)}, ${MADV_C_NAMES[s.advice] ?? s.advice})`),
  },
};
