/**
 * linux-6.18 rules, every error path of the check orders for create, mmap, host fault, fallocate, memslot
 * binding and deletion, close ordering. Expected values are what the kernel on this project's machine
 * answered (docs/kernel-observations.md), including which errno wins when two checks fail at once.
 */
import { describe, expect, it } from 'vitest';
import { stringifyJson } from '../spec/json.ts';
import type { Outcome, Step } from '../spec/ops.ts';
import { PAGE, mapped, run, vmAndGmem } from './support/spec.ts';

const P = 'linux-6.18';
const TOTAL = 4 * PAGE;

function expectLast(steps: Step[], outcome: Outcome, rule?: string) {
  const r = run(P, steps);
  expect(r.last, `outcome of ${stringifyJson(steps[steps.length - 1])}`).toEqual(outcome);
  if (rule) expect(r.rules[r.rules.length - 1]).toBe(rule);
}

describe('KVM_CREATE_GUEST_MEMFD', () => {
  const vm: Step = { op: 'create_vm', type: 'default', as: 'vm0' };
  it.each([
    ['MMAP|INIT_SHARED, one page', 3, PAGE, { ok: true }],
    ['INIT_SHARED without MMAP (the flags are orthogonal)', 2, PAGE, { ok: true }],
    ['no flags', 0, PAGE, { ok: true }],
    ['size 2^63-4096 (lazily allocated)', 3, 0x7ffffffffffff000n, { ok: true }],
    ['flag bit 2 (NO_DIRECT_MAP is not upstream)', 4, PAGE, { errno: 'EINVAL' }],
    ['flag bit 63', 1n << 63n, PAGE, { errno: 'EINVAL' }],
    ['all flag bits', (1n << 64n) - 1n, PAGE, { errno: 'EINVAL' }],
    ['size 0', 0, 0, { errno: 'EINVAL' }],
    ['size 4095', 0, PAGE - 1, { errno: 'EINVAL' }],
    ['size 4097', 0, PAGE + 1, { errno: 'EINVAL' }],
    ['size 2^63 (negative as loff_t)', 0, 1n << 63n, { errno: 'EINVAL' }],
    ['a bad flag and a bad size together', 4, 1, { errno: 'EINVAL' }],
  ])('%s', (_what, flags, size, outcome) => {
    expectLast([vm, { op: 'create_gmem', vm: 'vm0', size, flags }], outcome as Outcome);
  });

  it('does not check the reserved words', () => {
    expectLast([vm, { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 0, reserved: [1, 0, 0, 0, 0, (1n << 64n) - 1n] }], { ok: true });
  });

  it('on a closed VM fd fails with EBADF; on a guest_memfd fd with ENOTTY', () => {
    expectLast([vm, { op: 'close', h: 'vm0' }, { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 0 }], { errno: 'EBADF' });
    expectLast([...vmAndGmem(), { op: 'create_gmem', vm: 'g0', size: PAGE, flags: 0 }], { errno: 'ENOTTY' });
  });

  it('from a forked child (another mm) fails with EIO', () => {
    const r = run(P, [vm, { op: 'fork', steps: [{ op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 0 }] }]);
    expect(r.last).toEqual({ ok: true, steps: [{ errno: 'EIO' }] });
  });

  it('advertises MMAP|INIT_SHARED in KVM_CAP_GUEST_MEMFD_FLAGS and only the default VM type', () => {
    const r = run(P, [
      vm,
      { op: 'check_extension', on: 'kvm', cap: 244 },
      { op: 'check_extension', on: 'vm0', cap: 244 },
      { op: 'check_extension', on: 'kvm', cap: 235 },
      { op: 'check_extension', on: 'kvm', cap: 234 },
      { op: 'check_extension', on: 'kvm', cap: 233 },
    ]);
    expect(r.outcomes.slice(1)).toEqual([
      { ok: true, ret: 3 },
      { ok: true, ret: 3 },
      { ok: true, ret: 1 },
      { ok: true, ret: 1 },
      { ok: true, ret: 0 },
    ]);
  });

  it('refuses every VM type but the default', () => {
    for (const type of ['sw_protected', 'snp', 'tdx', 'pkvm'] as const) expectLast([{ op: 'create_vm', type }], { errno: 'EINVAL' });
  });
});

describe('mmap of a guest_memfd', () => {
  const mm = (flags: number, extra: Partial<Step & { op: 'mmap' }> = {}): Step[] => [
    ...vmAndGmem(flags),
    { op: 'mmap', gmem: 'g0', offset: 0, length: TOTAL, prot: 'rw', shared: true, ...extra } as Step,
  ];
  it.each([
    ['MAP_SHARED of an MMAP file', mm(1), { ok: true }, 'mmap.ok'],
    ['a file without MMAP: ENODEV', mm(2), { errno: 'ENODEV' }, 'mmap.not-mmap-capable'],
    ['MAP_PRIVATE: EINVAL', mm(3, { shared: false }), { errno: 'EINVAL' }, 'mmap.map-private'],
    ['PROT_EXEC: EPERM (noexec mount)', mm(3, { prot: 'rwx' }), { errno: 'EPERM' }, 'mmap.exec-noexec-mount'],
    ['PROT_EXEC beats ENODEV', mm(0, { prot: 'rwx' }), { errno: 'EPERM' }, 'mmap.exec-noexec-mount'],
    ['PROT_EXEC beats MAP_PRIVATE', mm(3, { prot: 'rwx', shared: false }), { errno: 'EPERM' }, 'mmap.exec-noexec-mount'],
    ['ENODEV beats MAP_PRIVATE', mm(0, { shared: false }), { errno: 'ENODEV' }, 'mmap.not-mmap-capable'],
    ['an unaligned offset: EINVAL', mm(3, { offset: 1 }), { errno: 'EINVAL' }, 'mmap.offset-unaligned'],
    ['length 0: EINVAL', mm(3, { length: 0 }), { errno: 'EINVAL' }, 'mmap.length-zero'],
    ['an offset at EOF maps fine', mm(3, { offset: TOTAL }), { ok: true }, 'mmap.ok'],
    ['four times the file size maps fine', mm(3, { length: 4 * TOTAL }), { ok: true }, 'mmap.ok'],
    [
      'an end past 2^63-1: EOVERFLOW',
      mm(3, { offset: 0x7ffffffffffff000n, length: 2 * PAGE }),
      { errno: 'EOVERFLOW' },
      'mmap.offset-overflow',
    ],
    ['PROT_NONE maps fine', mm(3, { prot: 'none' }), { ok: true }, 'mmap.ok'],
  ])('%s', (_what, steps, outcome, rule) => expectLast(steps, outcome as Outcome, rule));

  it('of a closed fd: EBADF, but an unaligned offset is checked first', () => {
    expectLast([...vmAndGmem(), { op: 'close', h: 'g0' }, { op: 'mmap', gmem: 'g0', offset: 0, length: PAGE, prot: 'rw', shared: true }], {
      errno: 'EBADF',
    });
    expectLast([...vmAndGmem(), { op: 'close', h: 'g0' }, { op: 'mmap', gmem: 'g0', offset: 1, length: PAGE, prot: 'rw', shared: true }], {
      errno: 'EINVAL',
    });
  });

  it('mprotect adding PROT_EXEC: EACCES; dropping write makes stores SIGSEGV', () => {
    expectLast([...mapped(), { op: 'mprotect', map: 'm0', prot: 'rwx' }], { errno: 'EACCES' });
    expectLast([...mapped(), { op: 'mprotect', map: 'm0', prot: 'r' }, { op: 'write_mem', map: 'm0', offset: 0, value: 1 }], {
      access: 'SIGSEGV',
    });
  });
});

describe('host faults', () => {
  it('a never-written shared page reads zero and keeps what is written', () => {
    const r = run(P, [
      ...mapped(),
      { op: 'read_mem', map: 'm0', offset: 100 },
      { op: 'write_mem', map: 'm0', offset: 100, value: 171 },
      { op: 'read_mem', map: 'm0', offset: 100 },
    ]);
    expect(r.outcomes.slice(-3)).toEqual([{ access: 'ok', value: 0 }, { access: 'ok' }, { access: 'ok', value: 171 }]);
  });

  it('MMAP without INIT_SHARED: every access SIGBUS (all memory is private), even after fallocate', () => {
    expectLast([...mapped(1), { op: 'read_mem', map: 'm0', offset: 0 }], { access: 'SIGBUS' }, 'access.private');
    expectLast(
      [
        ...mapped(1),
        { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: PAGE },
        { op: 'write_mem', map: 'm0', offset: 0, value: 1 },
      ],
      { access: 'SIGBUS' },
    );
  });

  it('inside a mapping, at or past EOF: SIGBUS; outside the mapping: SIGSEGV', () => {
    const steps: Step[] = [...vmAndGmem(), { op: 'mmap', gmem: 'g0', offset: 0, length: 4 * TOTAL, prot: 'rw', shared: true, as: 'm0' }];
    expectLast([...steps, { op: 'read_mem', map: 'm0', offset: TOTAL - 1 }], { access: 'ok', value: 0 });
    expectLast([...steps, { op: 'read_mem', map: 'm0', offset: TOTAL }], { access: 'SIGBUS' }, 'access.past-eof');
    expectLast([...steps, { op: 'write_mem', map: 'm0', offset: 15 * PAGE, value: 1 }], { access: 'SIGBUS' });
    expectLast([...steps, { op: 'read_mem', map: 'm0', offset: 4 * TOTAL }], { access: 'SIGSEGV' }, 'access.outside-mapping');
  });

  it('a PROT_NONE mapping: SIGSEGV; after munmap: SIGSEGV', () => {
    expectLast(
      [
        ...vmAndGmem(),
        { op: 'mmap', gmem: 'g0', offset: 0, length: TOTAL, prot: 'none', shared: true, as: 'm0' },
        { op: 'read_mem', map: 'm0', offset: 0 },
      ],
      { access: 'SIGSEGV' },
    );
    expectLast([...mapped(), { op: 'munmap', map: 'm0' }, { op: 'read_mem', map: 'm0', offset: 0 }], { access: 'SIGSEGV' });
  });

  it('data is shared between mappings and survives munmap/mmap', () => {
    const r = run(P, [
      ...mapped(),
      { op: 'mmap', gmem: 'g0', offset: 0, length: TOTAL, prot: 'rw', shared: true, as: 'm1' },
      { op: 'write_mem', map: 'm0', offset: PAGE, value: 90 },
      { op: 'read_mem', map: 'm1', offset: PAGE },
      { op: 'munmap', map: 'm0' },
      { op: 'munmap', map: 'm1' },
      { op: 'mmap', gmem: 'g0', offset: PAGE, length: PAGE, prot: 'r', shared: true, as: 'm2' },
      { op: 'read_mem', map: 'm2', offset: 0 },
    ]);
    expect(r.outcomes[5]).toEqual({ access: 'ok', value: 90 });
    expect(r.last).toEqual({ access: 'ok', value: 90 });
  });

  it('MADV_DONTNEED keeps the data; MADV_REMOVE punches it; MADV_COLLAPSE and MADV_FREE fail with EINVAL', () => {
    const w: Step[] = [...mapped(), { op: 'write_mem', map: 'm0', offset: PAGE, value: 60 }];
    expectLast(
      [...w, { op: 'madvise', map: 'm0', offset: 0, length: TOTAL, advice: 'dontneed' }, { op: 'read_mem', map: 'm0', offset: PAGE }],
      { access: 'ok', value: 60 },
    );
    expectLast(
      [...w, { op: 'madvise', map: 'm0', offset: PAGE, length: PAGE, advice: 'remove' }, { op: 'read_mem', map: 'm0', offset: PAGE }],
      { access: 'ok', value: 0 },
    );
    expectLast([...w, { op: 'madvise', map: 'm0', offset: 0, length: TOTAL, advice: 'collapse' }], { errno: 'EINVAL' });
    expectLast([...w, { op: 'madvise', map: 'm0', offset: 0, length: TOTAL, advice: 'free' }], { errno: 'EINVAL' });
    expectLast([...w, { op: 'madvise', map: 'm0', offset: 0, length: TOTAL, advice: 'hugepage' }], { ok: true });
  });
});

describe('fallocate', () => {
  const fa = (
    mode: Step & { op: 'fallocate' } extends infer S ? (S extends { mode: infer M } ? M : never) : never,
    offset: number | bigint,
    len: number | bigint,
  ): Step[] => [...vmAndGmem(), { op: 'fallocate', gmem: 'g0', mode, offset, len }];
  it.each([
    ['KEEP_SIZE over the file', fa('allocate', 0, TOTAL), { ok: true }, 'fallocate.allocate'],
    ['PUNCH_HOLE|KEEP_SIZE', fa('punch_hole', 0, PAGE), { ok: true }, 'fallocate.punch'],
    ['mode 0: EOPNOTSUPP (KEEP_SIZE required)', fa(0, 0, PAGE), { errno: 'EOPNOTSUPP' }, 'fallocate.no-keep-size'],
    ['PUNCH_HOLE alone: EOPNOTSUPP (VFS)', fa(2, 0, PAGE), { errno: 'EOPNOTSUPP' }, 'fallocate.vfs-mode'],
    ['NO_HIDE_STALE: EOPNOTSUPP', fa(4, 0, PAGE), { errno: 'EOPNOTSUPP' }, 'fallocate.vfs-mode'],
    ['ZERO_RANGE|KEEP_SIZE: EOPNOTSUPP (guest_memfd)', fa(0x11, 0, PAGE), { errno: 'EOPNOTSUPP' }, 'fallocate.gmem-mode'],
    ['COLLAPSE_RANGE|KEEP_SIZE: EOPNOTSUPP (VFS)', fa(0x09, 0, PAGE), { errno: 'EOPNOTSUPP' }, 'fallocate.vfs-mode'],
    ['offset -1: EINVAL', fa('allocate', -1, PAGE), { errno: 'EINVAL' }, 'fallocate.range-invalid'],
    ['len 0: EINVAL', fa('allocate', 0, 0), { errno: 'EINVAL' }, 'fallocate.range-invalid'],
    ['an unaligned offset: EINVAL', fa('allocate', PAGE - 1, PAGE), { errno: 'EINVAL' }, 'fallocate.unaligned'],
    ['an unaligned length: EINVAL', fa('punch_hole', PAGE, PAGE - 1), { errno: 'EINVAL' }, 'fallocate.unaligned'],
    ['allocate at EOF: EINVAL', fa('allocate', TOTAL, PAGE), { errno: 'EINVAL' }, 'fallocate.allocate-past-eof'],
    ['allocate straddling EOF: EINVAL', fa('allocate', TOTAL - PAGE, 2 * PAGE), { errno: 'EINVAL' }, 'fallocate.allocate-past-eof'],
    ['allocate the last page', fa('allocate', TOTAL - PAGE, PAGE), { ok: true }, 'fallocate.allocate'],
    ['punch at, past and across EOF succeeds', fa('punch_hole', TOTAL - PAGE, 4 * PAGE), { ok: true }, 'fallocate.punch'],
    ['an end past 2^63-1: EFBIG', fa('allocate', 0x7ffffffffffff000n, 0x2000), { errno: 'EFBIG' }, 'fallocate.end-too-large'],
    ['mode 0 and unaligned: EOPNOTSUPP wins', fa(0, 1, PAGE), { errno: 'EOPNOTSUPP' }, 'fallocate.no-keep-size'],
    ['len 0 and a bad mode: EINVAL wins', fa(4, 0, 0), { errno: 'EINVAL' }, 'fallocate.range-invalid'],
    ['end past 2^63-1 and mode 0: EFBIG wins', fa(0, 0x7ffffffffffff000n, 0x1000), { errno: 'EFBIG' }, 'fallocate.end-too-large'],
    [
      'end past 2^63-1 and COLLAPSE|KEEP: EOPNOTSUPP wins',
      fa(0x09, 0x7ffffffffffff000n, 0x2000),
      { errno: 'EOPNOTSUPP' },
      'fallocate.vfs-mode',
    ],
    [
      'end just below 2^63 allocating past EOF: EINVAL',
      fa('allocate', 0x7fffffffffffe000n, 0x1000),
      { errno: 'EINVAL' },
      'fallocate.allocate-past-eof',
    ],
  ])('%s', (_what, steps, outcome, rule) => expectLast(steps, outcome as Outcome, rule));

  it('punching page 0 zeroes it in every mapping; the next page keeps its data', () => {
    const r = run(P, [
      ...mapped(),
      { op: 'mmap', gmem: 'g0', offset: 0, length: TOTAL, prot: 'rw', shared: true, as: 'm1' },
      { op: 'fill_mem', map: 'm0', offset: 0, length: TOTAL, value: 205 },
      { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE },
      { op: 'check_mem', map: 'm0', offset: 0, length: PAGE, value: 0 },
      { op: 'check_mem', map: 'm1', offset: 0, length: PAGE, value: 0 },
      { op: 'check_mem', map: 'm1', offset: PAGE, length: PAGE, value: 205 },
    ]);
    expect(r.outcomes.slice(-3)).toEqual([
      { access: 'ok', match: true },
      { access: 'ok', match: true },
      { access: 'ok', match: true },
    ]);
  });

  it('on a closed fd: EBADF', () =>
    expectLast([...vmAndGmem(), { op: 'close', h: 'g0' }, { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: PAGE }], {
      errno: 'EBADF',
    }));
});

describe('file operations: the size never changes and there is no read/write', () => {
  it.each([
    ['read', { op: 'read', h: 'g0', len: PAGE }, 'EINVAL'],
    ['read of 0 bytes', { op: 'read', h: 'g0', len: 0 }, 'EINVAL'],
    ['write', { op: 'write', h: 'g0', len: PAGE }, 'EINVAL'],
    ['pread', { op: 'pread', h: 'g0', offset: 0, len: PAGE }, 'ESPIPE'],
    ['pwrite', { op: 'pwrite', h: 'g0', offset: 0, len: PAGE }, 'ESPIPE'],
    ['ftruncate to the same size', { op: 'ftruncate', h: 'g0', length: TOTAL }, 'EINVAL'],
    ['ftruncate to 0', { op: 'ftruncate', h: 'g0', length: 0 }, 'EINVAL'],
  ] as const)('%s fails with %s', (_w, s, errno) => expectLast([...vmAndGmem(), s as Step], { errno }));

  it('fstat: st_size is the creation size, st_blksize the page size, a regular file', () => {
    expectLast([...vmAndGmem(3, 4 * PAGE), { op: 'fstat', h: 'g0' }], {
      ok: true,
      fstat: { st_size: 4 * PAGE, st_blksize: PAGE, st_type: 'reg' },
    });
  });
});

describe('memslot binding (KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD)', () => {
  const bind = (extra: Record<string, unknown> = {}, setup: Step[] = vmAndGmem()): Step[] => [
    ...setup,
    {
      op: 'set_memory_region2',
      vm: 'vm0',
      slot: 0,
      flags: ['gmem'],
      gpa: 0x100000,
      size: 2 * PAGE,
      gmem: 'g0',
      gmem_offset: 0,
      uaddr: 0,
      ...extra,
    } as Step,
  ];
  it.each([
    ['a valid binding with userspace_addr 0', bind(), { ok: true }, 'set_memory_region2.bind'],
    ['a guest_memfd created without flags', bind({}, vmAndGmem(0)), { ok: true }, 'set_memory_region2.bind'],
    ['slot id 32763 (the last)', bind({ slot: 32763 }), { ok: true }, 'set_memory_region2.bind'],
    ['slot id 32764: EINVAL', bind({ slot: 32764 }), { errno: 'EINVAL' }, 'set_memory_region2.slot-id'],
    ['address space 1 (no SMM here): EINVAL', bind({ slot: 0x10000 }), { errno: 'EINVAL' }, 'set_memory_region2.address-space'],
    ['LOG_DIRTY_PAGES with guest_memfd: EINVAL', bind({ flags: ['gmem', 'log_dirty'] }), { errno: 'EINVAL' }, 'set_memory_region2.flags'],
    ['READONLY with guest_memfd: EINVAL', bind({ flags: ['gmem', 'readonly'] }), { errno: 'EINVAL' }, 'set_memory_region2.flags'],
    ['an unknown flag bit: EINVAL', bind({ flags: 4 | 8 }), { errno: 'EINVAL' }, 'set_memory_region2.flags'],
    ['an unaligned size: EINVAL', bind({ size: PAGE + 1 }), { errno: 'EINVAL' }, 'set_memory_region2.size-unaligned'],
    ['an unaligned gpa: EINVAL', bind({ gpa: 0x100001 }), { errno: 'EINVAL' }, 'set_memory_region2.gpa-unaligned'],
    ['an unaligned userspace_addr: EINVAL', bind({ uaddr: 1 }), { errno: 'EINVAL' }, 'set_memory_region2.uaddr'],
    ['a kernel userspace_addr: EINVAL', bind({ uaddr: 0xffff888000000000n }), { errno: 'EINVAL' }, 'set_memory_region2.uaddr'],
    ['an unaligned guest_memfd offset: EINVAL', bind({ gmem_offset: 1 }), { errno: 'EINVAL' }, 'set_memory_region2.gmem-offset'],
    ['a range past the guest_memfd size: EINVAL', bind({ gmem_offset: 3 * PAGE }), { errno: 'EINVAL' }, 'set_memory_region2.gmem-past-eof'],
    ['an offset equal to the size: EINVAL', bind({ gmem_offset: TOTAL }), { errno: 'EINVAL' }, 'set_memory_region2.gmem-past-eof'],
    ['a range ending exactly at EOF', bind({ gmem_offset: 2 * PAGE }), { ok: true }, 'set_memory_region2.bind'],
    ['a gpa range that wraps: EINVAL', bind({ gpa: 0xfffffffffffff000n }), { errno: 'EINVAL' }, 'set_memory_region2.gpa-range'],
    ['a slot ending past 2^52: EINVAL', bind({ gpa: 1n << 52n }), { errno: 'EINVAL' }, 'set_memory_region2.gpa-limit'],
    ['a VM fd instead of a guest_memfd: EINVAL', bind({ gmem: 'vm0' }), { errno: 'EINVAL' }, 'set_memory_region2.gmem-fd-not-gmem'],
    [
      'a closed guest_memfd fd: EBADF',
      bind({}, [...vmAndGmem(), { op: 'close', h: 'g0' }]),
      { errno: 'EBADF' },
      'set_memory_region2.gmem-fd-bad',
    ],
    [
      'an unaligned gpa beats a bad fd',
      bind({ gpa: 0x100001 }, [...vmAndGmem(), { op: 'close', h: 'g0' }]),
      { errno: 'EINVAL' },
      'set_memory_region2.gpa-unaligned',
    ],
    [
      'a bad fd beats a range past EOF',
      bind({ gmem_offset: 3 * PAGE }, [...vmAndGmem(), { op: 'close', h: 'g0' }]),
      { errno: 'EBADF' },
      'set_memory_region2.gmem-fd-bad',
    ],
  ])('%s', (_what, steps, outcome, rule) => expectLast(steps, outcome as Outcome, rule));

  const first = bind();
  it('a second slot on an overlapping guest_memfd range: EINVAL; a disjoint one is fine', () => {
    expectLast(
      [
        ...first,
        {
          op: 'set_memory_region2',
          vm: 'vm0',
          slot: 1,
          flags: ['gmem'],
          gpa: 0x200000,
          size: 2 * PAGE,
          gmem: 'g0',
          gmem_offset: PAGE,
          uaddr: 0,
        },
      ],
      { errno: 'EINVAL' },
      'set_memory_region2.gmem-range-bound',
    );
    expectLast(
      [
        ...first,
        {
          op: 'set_memory_region2',
          vm: 'vm0',
          slot: 1,
          flags: ['gmem'],
          gpa: 0x200000,
          size: 2 * PAGE,
          gmem: 'g0',
          gmem_offset: 2 * PAGE,
          uaddr: 0,
        },
      ],
      { ok: true },
    );
  });

  it('an overlapping GPA range: EEXIST, and it beats both a bad fd and a guest_memfd overlap', () => {
    expectLast(
      [
        ...first,
        {
          op: 'set_memory_region2',
          vm: 'vm0',
          slot: 1,
          flags: ['gmem'],
          gpa: 0x101000,
          size: 2 * PAGE,
          gmem: 'g0',
          gmem_offset: 2 * PAGE,
          uaddr: 0,
        },
      ],
      { errno: 'EEXIST' },
      'set_memory_region2.gpa-overlap',
    );
    expectLast(
      [
        ...first,
        {
          op: 'set_memory_region2',
          vm: 'vm0',
          slot: 1,
          flags: ['gmem'],
          gpa: 0x101000,
          size: 2 * PAGE,
          gmem: 'g0',
          gmem_offset: 0,
          uaddr: 0,
        },
      ],
      { errno: 'EEXIST' },
    );
    expectLast(
      [
        ...first,
        { op: 'close', h: 'g0' },
        {
          op: 'set_memory_region2',
          vm: 'vm0',
          slot: 1,
          flags: ['gmem'],
          gpa: 0x101000,
          size: 2 * PAGE,
          gmem: 'g0',
          gmem_offset: 2 * PAGE,
          uaddr: 0,
        },
      ],
      { errno: 'EEXIST' },
    );
  });

  it('a guest_memfd of another VM: EINVAL', () => {
    expectLast(
      [
        ...vmAndGmem(),
        { op: 'create_vm', type: 'default', as: 'vm1' },
        { op: 'set_memory_region2', vm: 'vm1', slot: 0, flags: ['gmem'], gpa: 0, size: PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
      ],
      { errno: 'EINVAL' },
      'set_memory_region2.gmem-other-vm',
    );
  });

  it('a guest_memfd slot is immutable: re-issuing the same call or dropping the flag fails with EINVAL', () => {
    const again = first[first.length - 1] as Step;
    expectLast([...first, again], { errno: 'EINVAL' }, 'set_memory_region2.gmem-slot-immutable');
    expectLast([...first, { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: [], gpa: 0x100000, size: 2 * PAGE, uaddr: 0 }], {
      errno: 'EINVAL',
    });
  });

  it('a plain slot can be re-issued, but cannot gain guest_memfd', () => {
    const plain: Step = { op: 'set_memory_region2', vm: 'vm0', slot: 3, flags: [], gpa: 0x400000, size: PAGE, uaddr: 0 };
    expectLast([...vmAndGmem(), plain, plain], { ok: true });
    expectLast([...vmAndGmem(), plain, { ...plain, flags: ['gmem'], gmem: 'g0', gmem_offset: 0 } as Step], { errno: 'EINVAL' });
  });

  it('delete then rebind the same range; deleting a missing slot: EINVAL', () => {
    const r = run(P, [
      ...first,
      { op: 'delete_memslot', vm: 'vm0', slot: 0 },
      first[first.length - 1] as Step,
      { op: 'delete_memslot', vm: 'vm0', slot: 5 },
    ]);
    expect(r.outcomes.slice(-3)).toEqual([{ ok: true }, { ok: true }, { errno: 'EINVAL' }]);
    expectLast(
      [...first, { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: 0, size: 0, gmem: 'g0', gmem_offset: 0, uaddr: 0 }],
      { ok: true },
      'set_memory_region2.delete',
    );
  });

  it('KVM_SET_MEMORY_ATTRIBUTES does not exist on this kernel: ENOTTY for any input', () => {
    expectLast([...vmAndGmem(), { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8 }], { errno: 'ENOTTY' });
    expectLast([...vmAndGmem(), { op: 'set_memory_attributes', vm: 'vm0', address: 1, size: 0, attributes: 0, flags: 1 }], {
      errno: 'ENOTTY',
    });
    expectLast([...vmAndGmem(), { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 }], { errno: 'ENOTTY' });
  });
});

describe('close ordering', () => {
  it('closing the VM first leaves the guest_memfd usable: mmap, fault, fallocate, fstat', () => {
    const r = run(P, [
      ...vmAndGmem(),
      { op: 'close', h: 'vm0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: TOTAL, prot: 'rw', shared: true, as: 'm0' },
      { op: 'write_mem', map: 'm0', offset: 2 * PAGE, value: 34 },
      { op: 'read_mem', map: 'm0', offset: 2 * PAGE },
      { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 2 * PAGE, len: PAGE },
      { op: 'read_mem', map: 'm0', offset: 2 * PAGE },
      { op: 'fstat', h: 'g0' },
    ]);
    expect(r.outcomes.slice(2)).toEqual([
      { ok: true },
      { ok: true },
      { access: 'ok' },
      { access: 'ok', value: 34 },
      { ok: true },
      { access: 'ok', value: 0 },
      { ok: true, fstat: { st_size: TOTAL, st_blksize: PAGE, st_type: 'reg' } },
    ]);
  });

  it('closing the guest_memfd first while mapped keeps the memory; later fd use is EBADF', () => {
    const r = run(P, [
      ...mapped(),
      { op: 'write_mem', map: 'm0', offset: 0, value: 66 },
      { op: 'close', h: 'g0' },
      { op: 'read_mem', map: 'm0', offset: 0 },
      { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: PAGE },
      { op: 'close', h: 'g0' },
    ]);
    expect(r.outcomes.slice(-3)).toEqual([{ access: 'ok', value: 66 }, { errno: 'EBADF' }, { errno: 'EBADF' }]);
  });

  it('closing a bound guest_memfd leaves the slot: it can still be deleted, not re-issued', () => {
    const bindStep: Step = {
      op: 'set_memory_region2',
      vm: 'vm0',
      slot: 0,
      flags: ['gmem'],
      gpa: 0,
      size: PAGE,
      gmem: 'g0',
      gmem_offset: 0,
      uaddr: 0,
    };
    expectLast([...vmAndGmem(), bindStep, { op: 'close', h: 'g0' }, bindStep], { errno: 'EINVAL' });
    expectLast([...vmAndGmem(), bindStep, { op: 'close', h: 'g0' }, { op: 'delete_memslot', vm: 'vm0', slot: 0 }], { ok: true });
  });

  it('both fds closed, the mapping still reads and writes', () => {
    const r = run(P, [
      ...mapped(),
      { op: 'write_mem', map: 'm0', offset: 0, value: 5 },
      { op: 'close', h: 'g0' },
      { op: 'close', h: 'vm0' },
      { op: 'read_mem', map: 'm0', offset: 0 },
      { op: 'write_mem', map: 'm0', offset: PAGE, value: 6 },
      { op: 'read_mem', map: 'm0', offset: PAGE },
    ]);
    expect(r.outcomes.slice(-3)).toEqual([{ access: 'ok', value: 5 }, { access: 'ok' }, { access: 'ok', value: 6 }]);
  });
});

describe('fork and pins', () => {
  it("a child reads the parent's data and the parent sees the child's writes; the child may fallocate", () => {
    const r = run(P, [
      ...mapped(),
      { op: 'write_mem', map: 'm0', offset: 0, value: 97 },
      {
        op: 'fork',
        steps: [
          { op: 'read_mem', map: 'm0', offset: 0 },
          { op: 'write_mem', map: 'm0', offset: PAGE, value: 98 },
          { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: PAGE },
        ],
      },
      { op: 'read_mem', map: 'm0', offset: PAGE },
    ]);
    expect(r.outcomes[r.outcomes.length - 2]).toEqual({ ok: true, steps: [{ access: 'ok', value: 97 }, { access: 'ok' }, { ok: true }] });
    expect(r.last).toEqual({ access: 'ok', value: 98 });
  });

  it('a long-term pin of shared pages succeeds; of private pages fails with EFAULT; punch while pinned zeroes the file page', () => {
    expectLast([...mapped(), { op: 'pin', map: 'm0', offset: 0, len: TOTAL }], { ok: true });
    expectLast([...mapped(1), { op: 'pin', map: 'm0', offset: 0, len: PAGE }], { errno: 'EFAULT' });
    const r = run(P, [
      ...mapped(),
      { op: 'write_mem', map: 'm0', offset: 0, value: 71 },
      { op: 'pin', map: 'm0', offset: 0, len: PAGE },
      { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE },
      { op: 'read_mem', map: 'm0', offset: 0 },
      { op: 'unpin', map: 'm0', offset: 0, len: PAGE },
    ]);
    expect(r.outcomes.slice(-3)).toEqual([{ ok: true }, { access: 'ok', value: 0 }, { ok: true }]);
  });
});
