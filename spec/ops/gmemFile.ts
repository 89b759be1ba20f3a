/** guest_memfd as a file: KVM_CREATE_GUEST_MEMFD, close, dup, fstat, ftruncate, read/write/pread/pwrite. */
import { close, createGmem, createGmemChecks, createGmemContext, dup, fstat, ftruncate, readWrite } from '../rules/gmemFile.ts';
import { handleField, intField } from './fields.ts';
import { PAGE, flagCombinations } from './probes.ts';
import { type OpModule, checkList } from './types.ts';
import { big, bytesWords, flagWords, offsetWords } from './words.ts';

const as = (s: { as?: string }): string => (s.as ? ` as ${s.as}` : '');

export const createGmemOp: OpModule<'create_gmem'> = {
  name: 'create_gmem',
  summary: 'KVM_CREATE_GUEST_MEMFD on a VM fd',
  fields: [handleField('vm'), intField('size'), intField('flags'), { name: 'reserved', type: { kind: 'int-list' }, optional: true }],
  decide: createGmem,
  checkList: checkList({ checks: createGmemChecks, context: createGmemContext }),
  footprint: { reads: ['names', 'fds', 'vms'], writes: ['vms', 'gmems', 'fds', 'names'] },
  phrase: (p, s) => {
    const res = s.reserved?.some((r) => big(r) !== 0n) ? `, reserved ${s.reserved.map(String).join(',')}` : '';
    return `KVM_CREATE_GUEST_MEMFD(${s.vm}, ${bytesWords(s.size)}, ${flagWords(p, s.flags)}${res})${as(s)}`;
  },
  wireEnums: {},
  probes: {
    vm: {
      rank: 10,
      // Moves: a file of bound.pages pages with each accepted flag combination. Probes, once per VM: the first
      // flag bit the VM type does not accept, size 0, a size that is not page-aligned.
      values: ({ profile, bound, s, size, vm, v }) => {
        const combos = flagCombinations(profile, v.type);
        const moves =
          s.gmems.length < bound.gmems
            ? combos.map((flags) => ({ op: 'create_gmem' as const, vm: vm.name, size, flags, as: `g${s.gmems.length}` }))
            : [];
        const accepted = combos.reduce((m, f) => m | f, 0);
        let badBit = 0;
        while (accepted & (1 << badBit)) badBit++;
        return [
          ...moves,
          { op: 'create_gmem', vm: vm.name, size, flags: 1 << badBit },
          { op: 'create_gmem', vm: vm.name, size: 0, flags: 0 },
          { op: 'create_gmem', vm: vm.name, size: PAGE - 1, flags: 0 },
        ];
      },
    },
  },
};

export const closeOp: OpModule<'close'> = {
  name: 'close',
  summary: 'close(2) of a VM or guest_memfd fd',
  fields: [handleField('h')],
  decide: close,
  checkList: { none: 'one condition (EBADF on a closed fd)' },
  footprint: { reads: ['names', 'fds'], writes: ['vms', 'gmems', 'fds', 'maps', 'pins'] },
  phrase: (_p, s) => `close(${s.h})`,
  wireEnums: {},
  // Each open VM fd after the VM's other probes, each open guest_memfd fd after the file's.
  probes: {
    vm: { rank: 90, values: ({ vm }) => [{ op: 'close', h: vm.name }] },
    gmem: { rank: 90, values: ({ g }) => [{ op: 'close', h: g.name }] },
  },
};

export const dupOp: OpModule<'dup'> = {
  name: 'dup',
  summary: 'dup(2) of an fd',
  fields: [handleField('h')],
  decide: dup,
  checkList: { none: 'one condition (EBADF on a closed fd)' },
  footprint: { reads: ['names', 'fds'], writes: ['vms', 'gmems', 'fds', 'names'] },
  phrase: (_p, s) => `dup(${s.h})${as(s)}`,
  wireEnums: {},
  probes: { none: 'a dup only renames an fd: the graph would grow without a new outcome' },
};

export const fstatOp: OpModule<'fstat'> = {
  name: 'fstat',
  summary: 'fstat(2) of an fd',
  fields: [handleField('h')],
  decide: fstat,
  checkList: { none: 'one condition (EBADF on a closed fd)' },
  footprint: { reads: ['names', 'fds', 'gmems'], writes: [] },
  phrase: (_p, s) => `fstat(${s.h})`,
  wireEnums: {},
  probes: { gmem: { rank: 40, values: ({ g }) => [{ op: 'fstat', h: g.name }] } },
};

export const ftruncateOp: OpModule<'ftruncate'> = {
  name: 'ftruncate',
  summary: 'ftruncate(2) of a guest_memfd (always refused)',
  fields: [handleField('h'), intField('length')],
  decide: ftruncate,
  checkList: { none: 'the file cannot be resized: one refusal per fd kind' },
  footprint: { reads: ['names', 'fds'], writes: [] },
  phrase: (_p, s) => `ftruncate(${s.h}, ${bytesWords(s.length)})`,
  wireEnums: {},
  probes: { gmem: { rank: 50, values: ({ g, size }) => [{ op: 'ftruncate', h: g.name, length: size }] } },
};

export const readOp: OpModule<'read'> = {
  name: 'read',
  summary: 'read(2) of an fd (guest_memfd has no read)',
  fields: [handleField('h'), intField('len')],
  decide: readWrite,
  checkList: { none: 'one refusal per fd kind' },
  footprint: { reads: ['names', 'fds'], writes: [] },
  phrase: (_p, s) => `read(${s.h}, ${bytesWords(s.len)})`,
  wireEnums: {},
  probes: { gmem: { rank: 60, values: ({ g }) => [{ op: 'read', h: g.name, len: PAGE }] } },
};

export const writeOp: OpModule<'write'> = {
  name: 'write',
  summary: 'write(2) to an fd (guest_memfd has no write)',
  fields: [handleField('h'), intField('len')],
  decide: readWrite,
  checkList: { none: 'one refusal per fd kind' },
  footprint: { reads: ['names', 'fds'], writes: [] },
  phrase: (_p, s) => `write(${s.h}, ${bytesWords(s.len)})`,
  wireEnums: {},
  probes: { none: 'refused like read (the same rule, readWrite), which the explorer probes' },
};

export const preadOp: OpModule<'pread'> = {
  name: 'pread',
  summary: 'pread(2) of an fd',
  fields: [handleField('h'), intField('offset'), intField('len')],
  decide: readWrite,
  checkList: { none: 'one refusal per fd kind' },
  footprint: { reads: ['names', 'fds'], writes: [] },
  phrase: (_p, s) => `pread(${s.h}, ${bytesWords(s.len)} at ${offsetWords(s.offset)})`,
  wireEnums: {},
  probes: { gmem: { rank: 70, values: ({ g }) => [{ op: 'pread', h: g.name, offset: 0, len: PAGE }] } },
};

export const pwriteOp: OpModule<'pwrite'> = {
  name: 'pwrite',
  summary: 'pwrite(2) to an fd',
  fields: [handleField('h'), intField('offset'), intField('len')],
  decide: readWrite,
  checkList: { none: 'one refusal per fd kind' },
  footprint: { reads: ['names', 'fds'], writes: [] },
  phrase: (_p, s) => `pwrite(${s.h}, ${bytesWords(s.len)} at ${offsetWords(s.offset)})`,
  wireEnums: {},
  probes: { none: 'refused like pread (the same rule, readWrite), which the explorer probes' },
};
