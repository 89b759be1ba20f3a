/** guest_memfd as a file: KVM_CREATE_GUEST_MEMFD, close, dup, fstat, ftruncate, read/write/pread/pwrite. */
import { close, createGmem, createGmemChecks, createGmemContext, dup, fstat, ftruncate, readWrite } from '../rules/gmemFile.ts';
import type { Int } from '../ops.ts';
import type { Profile } from '../profile.ts';
import { callIntoRet, fd, s64, target, u64 } from './cSelftest.ts';
import { handleField, intField, opSchema } from './fields.ts';
import { PAGE, flagCombinations } from './probes.ts';
import { type OpModule, checkList } from './types.ts';
import { big, bytesWords, flagWords, offsetWords } from './words.ts';

const as = (s: { as?: string }): string => (s.as ? ` as ${s.as}` : '');

/** read/write and friends move bytes through the test's 64 KiB buffer, `io_buf`. */
const ioBuffer = (len: Int, call: string) =>
  big(len) > 65536n ? { unsupported: 'a read/write count above the 64 KiB buffer' } : callIntoRet(call);

/** guest_memfd flags by name for a diagram edge: `MMAP|INIT_SHARED`, or `0`. */
function flagNamesOrZero(profile: Profile, flags: Int): string {
  const n = typeof flags === 'bigint' ? flags : BigInt(Number(flags ?? 0));
  const names = profile.flags.filter((f) => (n >> BigInt(f.bit)) & 1n).map((f) => f.name);
  return names.length ? names.join('|') : '0';
}

/** guest_memfd flags in C: the UAPI's names for MMAP and INIT_SHARED, other bits as a number. */
function cGmemFlags(profile: Profile, flags: Int): string {
  let f = BigInt.asUintN(64, big(flags));
  if (f === 0n) return '0';
  const out: string[] = [];
  for (const d of profile.flags) {
    const bit = 1n << BigInt(d.bit);
    if (f & bit && (d.name === 'MMAP' || d.name === 'INIT_SHARED')) {
      out.push(`GUEST_MEMFD_FLAG_${d.name}`);
      f &= ~bit;
    }
  }
  if (f) out.push(u64(f));
  return out.join(' | ');
}

export const createGmemSchema = opSchema('create_gmem', [
  handleField('vm'),
  intField('size'),
  intField('flags'),
  { name: 'reserved', type: { kind: 'int-list' }, optional: true },
]);

export const createGmemOp: OpModule<'create_gmem'> = {
  ...createGmemSchema,
  summary: 'KVM_CREATE_GUEST_MEMFD on a VM fd',
  decide: createGmem,
  checkList: checkList({ checks: createGmemChecks, context: createGmemContext }),
  createsHandle: true,
  pageAddress: { none: 'creates a file' },
  footprint: { reads: ['names', 'fds', 'vms'], writes: ['vms', 'gmems', 'fds', 'names'] },
  phrase: (p, s) => {
    const res = s.reserved?.some((r) => big(r) !== 0n) ? `, reserved ${s.reserved.map(String).join(',')}` : '';
    return `KVM_CREATE_GUEST_MEMFD(${s.vm}, ${bytesWords(s.size)}, ${flagWords(p, s.flags)}${res})${as(s)}`;
  },
  edgeWord: (p, s) => `KVM_CREATE_GUEST_MEMFD(${flagNamesOrZero(p, s.flags)})`,
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
  cSelftest: {
    step: (s, _o, profile) => {
      const into = target(s.as);
      const res = s.reserved?.length ? `, .reserved = { ${s.reserved.map(u64).join(', ')} }` : '';
      const args = `.size = ${u64(s.size)}, .flags = ${cGmemFlags(profile, s.flags)}${res}`;
      return {
        lines: [
          `${into} = ioctl(${fd(s.vm)}, KVM_CREATE_GUEST_MEMFD, &(struct kvm_create_guest_memfd){ ${args} });`,
          { assertResult: into },
        ],
      };
    },
    table: {
      members: 'int vm; uint64_t size; uint64_t flags;',
      row: (s, profile) => `${fd(s.vm)}, ${u64(s.size)}, ${cGmemFlags(profile, s.flags)}`,
      call: (r) => `ioctl(${r}.vm, KVM_CREATE_GUEST_MEMFD, &(struct kvm_create_guest_memfd){ .size = ${r}.size, .flags = ${r}.flags })`,
      successRows: true,
      accepts: (s) => !s.reserved?.length,
    },
  },
};

export const closeSchema = opSchema('close', [handleField('h')]);

export const closeOp: OpModule<'close'> = {
  ...closeSchema,
  summary: 'close(2) of a VM or guest_memfd fd',
  decide: close,
  checkList: { none: 'one condition (EBADF on a closed fd)' },
  createsHandle: false,
  pageAddress: { none: 'closes an fd' },
  footprint: { reads: ['names', 'fds'], writes: ['vms', 'gmems', 'fds', 'maps', 'pins'] },
  phrase: (_p, s) => `close(${s.h})`,
  edgeWord: () => 'close',
  wireEnums: {},
  // Each open VM fd after the VM's other probes, each open guest_memfd fd after the file's.
  probes: {
    vm: { rank: 90, values: ({ vm }) => [{ op: 'close', h: vm.name }] },
    gmem: { rank: 90, values: ({ g }) => [{ op: 'close', h: g.name }] },
  },
  cSelftest: { step: (s) => ({ lines: [`ret = close(${fd(s.h)});`, `${fd(s.h)} = -1;`, { assertResult: 'ret' }] }) },
};

export const dupSchema = opSchema('dup', [handleField('h')]);

export const dupOp: OpModule<'dup'> = {
  ...dupSchema,
  summary: 'dup(2) of an fd',
  decide: dup,
  checkList: { none: 'one condition (EBADF on a closed fd)' },
  createsHandle: true,
  pageAddress: { none: 'duplicates an fd' },
  footprint: { reads: ['names', 'fds'], writes: ['vms', 'gmems', 'fds', 'names'] },
  phrase: (_p, s) => `dup(${s.h})${as(s)}`,
  edgeWord: () => 'dup',
  wireEnums: {},
  probes: { none: 'a dup only renames an fd: the graph would grow without a new outcome' },
  cSelftest: {
    step: (s) => {
      const into = target(s.as);
      return { lines: [`${into} = dup(${fd(s.h)});`, { assertResult: into }] };
    },
  },
};

export const fstatSchema = opSchema('fstat', [handleField('h')]);

export const fstatOp: OpModule<'fstat'> = {
  ...fstatSchema,
  summary: 'fstat(2) of an fd',
  decide: fstat,
  checkList: { none: 'one condition (EBADF on a closed fd)' },
  createsHandle: false,
  pageAddress: { none: 'reads the whole file' },
  footprint: { reads: ['names', 'fds', 'gmems'], writes: [] },
  phrase: (_p, s) => `fstat(${s.h})`,
  edgeWord: (_p, s) => s.op,
  wireEnums: {},
  probes: { gmem: { rank: 40, values: ({ g }) => [{ op: 'fstat', h: g.name }] } },
  cSelftest: {
    step: (s, o) => {
      const call = `ret = fstat(${fd(s.h)}, &st);`;
      if (!('ok' in o && o.fstat)) return { locals: ['st'], lines: [call, { assertResult: 'ret' }] };
      const type = o.fstat.st_type === 'reg' ? 'S_IFREG' : o.fstat.st_type === 'unknown' ? '0' : undefined;
      if (type === undefined) return { unsupported: `fstat type ${o.fstat.st_type}` };
      return {
        locals: ['st'],
        lines: [
          call,
          { assertOk: 'ret' },
          { assertEq: [u64(o.fstat.st_size), 'st.st_size'] },
          { assertEq: [`${o.fstat.st_blksize}`, 'st.st_blksize'] },
          { assertEq: [type, 'st.st_mode & S_IFMT'] },
        ],
      };
    },
  },
};

export const ftruncateSchema = opSchema('ftruncate', [handleField('h'), intField('length')]);

export const ftruncateOp: OpModule<'ftruncate'> = {
  ...ftruncateSchema,
  summary: 'ftruncate(2) of a guest_memfd (always refused)',
  decide: ftruncate,
  checkList: { none: 'the file cannot be resized: one refusal per fd kind' },
  createsHandle: false,
  pageAddress: { none: 'resizes the whole file' },
  footprint: { reads: ['names', 'fds'], writes: [] },
  phrase: (_p, s) => `ftruncate(${s.h}, ${bytesWords(s.length)})`,
  edgeWord: (_p, s) => s.op,
  wireEnums: {},
  probes: { gmem: { rank: 50, values: ({ g, size }) => [{ op: 'ftruncate', h: g.name, length: size }] } },
  cSelftest: { step: (s) => callIntoRet(`ftruncate(${fd(s.h)}, ${s64(s.length)})`) },
};

export const readSchema = opSchema('read', [handleField('h'), intField('len')]);

export const readOp: OpModule<'read'> = {
  ...readSchema,
  summary: 'read(2) of an fd (guest_memfd has no read)',
  decide: readWrite,
  checkList: { none: 'one refusal per fd kind' },
  createsHandle: false,
  pageAddress: { none: 'read(2) of a guest_memfd or VM fd names no page' },
  footprint: { reads: ['names', 'fds'], writes: [] },
  phrase: (_p, s) => `read(${s.h}, ${bytesWords(s.len)})`,
  edgeWord: (_p, s) => s.op,
  wireEnums: {},
  probes: { gmem: { rank: 60, values: ({ g }) => [{ op: 'read', h: g.name, len: PAGE }] } },
  cSelftest: { step: (s) => ioBuffer(s.len, `read(${fd(s.h)}, io_buf, ${u64(s.len)})`) },
};

export const writeSchema = opSchema('write', [handleField('h'), intField('len')]);

export const writeOp: OpModule<'write'> = {
  ...writeSchema,
  summary: 'write(2) to an fd (guest_memfd has no write)',
  decide: readWrite,
  checkList: { none: 'one refusal per fd kind' },
  createsHandle: false,
  pageAddress: { none: 'write(2) of a guest_memfd or VM fd names no page' },
  footprint: { reads: ['names', 'fds'], writes: [] },
  phrase: (_p, s) => `write(${s.h}, ${bytesWords(s.len)})`,
  edgeWord: (_p, s) => s.op,
  wireEnums: {},
  probes: { none: 'refused like read (the same rule, readWrite), which the explorer probes' },
  cSelftest: { step: (s) => ioBuffer(s.len, `write(${fd(s.h)}, io_buf, ${u64(s.len)})`) },
};

export const preadSchema = opSchema('pread', [handleField('h'), intField('offset'), intField('len')]);

export const preadOp: OpModule<'pread'> = {
  ...preadSchema,
  summary: 'pread(2) of an fd',
  decide: readWrite,
  checkList: { none: 'one refusal per fd kind' },
  createsHandle: false,
  pageAddress: { none: 'ESPIPE on a guest_memfd: no page is read' },
  footprint: { reads: ['names', 'fds'], writes: [] },
  phrase: (_p, s) => `pread(${s.h}, ${bytesWords(s.len)} at ${offsetWords(s.offset)})`,
  edgeWord: (_p, s) => s.op,
  wireEnums: {},
  probes: { gmem: { rank: 70, values: ({ g }) => [{ op: 'pread', h: g.name, offset: 0, len: PAGE }] } },
  cSelftest: { step: (s) => ioBuffer(s.len, `pread(${fd(s.h)}, io_buf, ${u64(s.len)}, ${s64(s.offset)})`) },
};

export const pwriteSchema = opSchema('pwrite', [handleField('h'), intField('offset'), intField('len')]);

export const pwriteOp: OpModule<'pwrite'> = {
  ...pwriteSchema,
  summary: 'pwrite(2) to an fd',
  decide: readWrite,
  checkList: { none: 'one refusal per fd kind' },
  createsHandle: false,
  pageAddress: { none: 'ESPIPE on a guest_memfd: no page is written' },
  footprint: { reads: ['names', 'fds'], writes: [] },
  phrase: (_p, s) => `pwrite(${s.h}, ${bytesWords(s.len)} at ${offsetWords(s.offset)})`,
  edgeWord: (_p, s) => s.op,
  wireEnums: {},
  probes: { none: 'refused like pread (the same rule, readWrite), which the explorer probes' },
  cSelftest: { step: (s) => ioBuffer(s.len, `pwrite(${fd(s.h)}, io_buf, ${u64(s.len)}, ${s64(s.offset)})`) },
};
