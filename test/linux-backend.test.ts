/**
 * The linux backend against this machine's real /dev/kvm (kernel 6.18, default VM type only). Every assertion
 * is on what the kernel answered; each test names the ABI behaviour it shows, as the kernel's
 * guest_memfd_test.c does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { U64_MAX } from '../spec/constants.ts';
import type { Outcome, Step } from '../spec/ops.ts';
import { LinuxBackend, detectHost } from '../src/backend/linux.ts';
import { descendantsOf, openFiles, processExists } from '../src/backend/linux/procfs.ts';

const kvm = detectHost();
if (!kvm.ok) console.log(kvm.skip);

const PAGE = 4096;
const SIZE = 4 * PAGE;

/** vm0, and g0 = a 4-page guest_memfd with the given flags. */
const setup = (flags = 3): Step[] => [
  { op: 'create_vm', type: 'default', as: 'vm0' },
  { op: 'create_gmem', vm: 'vm0', size: SIZE, flags, as: 'g0' },
];
/** ... and m0 = g0 mapped shared read-write over `length` bytes. */
const mapped = (flags = 3, length = SIZE): Step[] => [
  ...setup(flags),
  { op: 'mmap', gmem: 'g0', offset: 0, length, prot: 'rw', shared: true, as: 'm0' },
];

describe.skipIf(!kvm.ok)('linux backend on this kernel', () => {
  let backend: LinuxBackend;
  /** Run steps; return the outcomes of the steps after the first `skip`. */
  const run = async (steps: Step[], skip = 0): Promise<Outcome[]> => {
    const { outcomes } = await backend.run({ format: 'gmem-trace/1', steps });
    expect(outcomes).toHaveLength(steps.length);
    return outcomes.slice(skip);
  };

  beforeAll(() => {
    backend = new LinuxBackend();
  });
  afterAll(async () => {
    await backend.close();
  });

  it('capabilities: detects the linux-6.18 profile from KVM_CHECK_EXTENSION', async () => {
    const caps = await backend.capabilities();
    expect(caps.backend).toBe('linux');
    expect(caps.profile).toBe('linux-6.18');
    expect(caps.caps.GUEST_MEMFD).toBe(1);
    expect(caps.caps.GUEST_MEMFD_FLAGS).toBe(3);
    expect(caps.caps.VM_TYPES).toBe(1);
    expect(caps.detectedFrom).toContain('GUEST_MEMFD_FLAGS(244)=0x3');
  });

  it('create_guest_memfd: MMAP|INIT_SHARED with a page-multiple size succeeds', async () => {
    expect(await run(setup(3))).toEqual([{ ok: true }, { ok: true }]);
  });

  it('create_guest_memfd: each flag bit alone is accepted iff it is in GUEST_MEMFD_FLAGS (bits 0, 1)', async () => {
    const steps: Step[] = [{ op: 'create_vm', type: 'default', as: 'vm0' }];
    for (let bit = 0n; bit < 64n; bit++) steps.push({ op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 1n << bit });
    const outcomes = await run(steps, 1);
    outcomes.forEach((o, bit) => {
      expect(o, `flag bit ${bit}`).toEqual(bit <= 1 ? { ok: true } : { errno: 'EINVAL' });
    });
  });

  it('create_guest_memfd: unsupported flags (4, and u64 all-ones carried exactly) fail with EINVAL', async () => {
    expect(
      await run(
        [
          { op: 'create_vm', type: 'default', as: 'vm0' },
          { op: 'create_gmem', vm: 'vm0', size: SIZE, flags: 4 },
          { op: 'create_gmem', vm: 'vm0', size: SIZE, flags: U64_MAX },
          { op: 'create_gmem', vm: 'vm0', size: SIZE, flags: 3, reserved: [1, 2, 3, 4, 5, U64_MAX] },
        ],
        1,
      ),
    ).toEqual([{ errno: 'EINVAL' }, { errno: 'EINVAL' }, { ok: true }]);
  });

  it('create_guest_memfd: sizes that are zero, unaligned or negative as loff_t fail with EINVAL', async () => {
    const sizes = [0, 1, PAGE - 1, PAGE + 1, U64_MAX - BigInt(PAGE - 1)];
    const outcomes = await run(
      [{ op: 'create_vm', type: 'default', as: 'vm0' }, ...sizes.map((size): Step => ({ op: 'create_gmem', vm: 'vm0', size, flags: 3 }))],
      1,
    );
    outcomes.forEach((o, i) => expect(o, `size ${sizes[i]}`).toEqual({ errno: 'EINVAL' }));
  });

  it('mmap_cow: MAP_PRIVATE of a guest_memfd fails with EINVAL', async () => {
    expect(await run([...setup(3), { op: 'mmap', gmem: 'g0', offset: 0, length: SIZE, prot: 'rw', shared: false }], 2)).toEqual([
      { errno: 'EINVAL' },
    ]);
  });

  it('mmap_not_supported: mmap without GUEST_MEMFD_FLAG_MMAP fails with ENODEV', async () => {
    expect(await run([...setup(0), { op: 'mmap', gmem: 'g0', offset: 0, length: SIZE, prot: 'rw', shared: true }], 2)).toEqual([
      { errno: 'ENODEV' },
    ]);
  });

  it('mmap: PROT_EXEC is refused with EPERM (the guest_memfd mount is noexec)', async () => {
    expect(await run([...setup(3), { op: 'mmap', gmem: 'g0', offset: 0, length: SIZE, prot: 'rwx', shared: true }], 2)).toEqual([
      { errno: 'EPERM' },
    ]);
  });

  it('mmap_supported: a written byte reads back; untouched memory reads zero', async () => {
    expect(
      await run(
        [
          ...mapped(),
          { op: 'read_mem', map: 'm0', offset: 100 },
          { op: 'write_mem', map: 'm0', offset: 100, value: 170 },
          { op: 'read_mem', map: 'm0', offset: 100 },
          { op: 'fill_mem', map: 'm0', offset: 0, length: SIZE, value: 0x5a },
          { op: 'check_mem', map: 'm0', offset: 0, length: SIZE, value: 0x5a },
          { op: 'check_mem', map: 'm0', offset: 0, length: SIZE, value: 0 },
        ],
        3,
      ),
    ).toEqual([
      { access: 'ok', value: 0 },
      { access: 'ok' },
      { access: 'ok', value: 170 },
      { access: 'ok' },
      { access: 'ok', match: true },
      { access: 'ok', match: false },
    ]);
  });

  it('mmap_supported: punching the first page zeroes it; the other pages keep their data', async () => {
    expect(
      await run(
        [
          ...mapped(),
          { op: 'fill_mem', map: 'm0', offset: 0, length: SIZE, value: 0xaa },
          { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE },
          { op: 'check_mem', map: 'm0', offset: 0, length: PAGE, value: 0 },
          { op: 'check_mem', map: 'm0', offset: PAGE, length: SIZE - PAGE, value: 0xaa },
        ],
        4,
      ),
    ).toEqual([{ ok: true }, { access: 'ok', match: true }, { access: 'ok', match: true }]);
  });

  it('fault_overflow: pages below the file size are accessible, at or past EOF they SIGBUS', async () => {
    expect(
      await run(
        [
          ...mapped(3, 2 * SIZE),
          { op: 'read_mem', map: 'm0', offset: SIZE - 1 },
          { op: 'read_mem', map: 'm0', offset: SIZE },
          { op: 'write_mem', map: 'm0', offset: 2 * SIZE - 1, value: 1 },
          { op: 'fill_mem', map: 'm0', offset: 0, length: 2 * SIZE, value: 1 },
        ],
        3,
      ),
    ).toEqual([{ access: 'ok', value: 0 }, { access: 'SIGBUS' }, { access: 'SIGBUS' }, { access: 'SIGBUS' }]);
  });

  it('fault_private: MMAP without INIT_SHARED maps, but every access SIGBUSes (all memory is private)', async () => {
    expect(
      await run([...mapped(1), { op: 'read_mem', map: 'm0', offset: 0 }, { op: 'write_mem', map: 'm0', offset: 0, value: 1 }], 2),
    ).toEqual([{ ok: true }, { access: 'SIGBUS' }, { access: 'SIGBUS' }]);
  });

  it('access outside the mapping (even non-canonical), after munmap or through a failed mmap is SIGSEGV', async () => {
    expect(
      await run(
        [
          ...mapped(3, PAGE),
          { op: 'read_mem', map: 'm0', offset: PAGE },
          { op: 'read_mem', map: 'm0', offset: -1 },
          { op: 'write_mem', map: 'm0', offset: 1n << 47n, value: 1 }, // a non-canonical address
          { op: 'mmap', gmem: 'g0', offset: 0, length: PAGE, prot: 'rw', shared: false, as: 'bad' },
          { op: 'read_mem', map: 'bad', offset: 0 },
          { op: 'mprotect', map: 'bad', prot: 'r' },
          { op: 'munmap', map: 'm0' },
          { op: 'read_mem', map: 'm0', offset: 0 },
          { op: 'madvise', map: 'm0', offset: 0, length: PAGE, advice: 'dontneed' },
        ],
        3,
      ),
    ).toEqual([
      { access: 'SIGSEGV' },
      { access: 'SIGSEGV' },
      { access: 'SIGSEGV' },
      { errno: 'EINVAL' },
      { access: 'SIGSEGV' },
      { errno: 'ENOMEM' },
      { ok: true },
      { access: 'SIGSEGV' },
      { errno: 'ENOMEM' },
    ]);
  });

  it('mprotect: a read-only mapping SIGSEGVs on write and still reads', async () => {
    expect(
      await run(
        [
          ...mapped(),
          { op: 'write_mem', map: 'm0', offset: 0, value: 9 },
          { op: 'mprotect', map: 'm0', prot: 'r' },
          { op: 'write_mem', map: 'm0', offset: 0, value: 1 },
          { op: 'read_mem', map: 'm0', offset: 0 },
        ],
        4,
      ),
    ).toEqual([{ ok: true }, { access: 'SIGSEGV' }, { access: 'ok', value: 9 }]);
  });

  it('madvise: HUGEPAGE and DONTNEED succeed (data survives DONTNEED); COLLAPSE fails with EINVAL', async () => {
    expect(
      await run(
        [
          ...mapped(),
          { op: 'write_mem', map: 'm0', offset: 0, value: 7 },
          { op: 'madvise', map: 'm0', offset: 0, length: SIZE, advice: 'hugepage' },
          { op: 'madvise', map: 'm0', offset: 0, length: SIZE, advice: 'collapse' },
          { op: 'madvise', map: 'm0', offset: 0, length: SIZE, advice: 'dontneed' },
          { op: 'read_mem', map: 'm0', offset: 0 },
        ],
        4,
      ),
    ).toEqual([{ ok: true }, { errno: 'EINVAL' }, { ok: true }, { access: 'ok', value: 7 }]);
  });

  it('fallocate: mode 0 is EOPNOTSUPP, allocate past EOF and unaligned ranges EINVAL, punch past EOF succeeds', async () => {
    expect(
      await run(
        [
          ...setup(3),
          { op: 'fallocate', gmem: 'g0', mode: 0, offset: 0, len: PAGE },
          { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: SIZE },
          { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: SIZE, len: PAGE },
          { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: PAGE, len: PAGE - 1 },
          { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 1, len: PAGE - 1 },
          { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: SIZE, len: PAGE },
          { op: 'fallocate', gmem: 'g0', mode: 2, offset: 0, len: PAGE },
        ],
        2,
      ),
    ).toEqual([
      { errno: 'EOPNOTSUPP' },
      { ok: true },
      { errno: 'EINVAL' },
      { errno: 'EINVAL' },
      { errno: 'EINVAL' },
      { ok: true },
      { errno: 'EOPNOTSUPP' },
    ]);
  });

  it('file_size: fstat reports the creation size, PAGE_SIZE blocks and a regular file', async () => {
    expect(await run([...setup(3), { op: 'fstat', h: 'g0' }], 2)).toEqual([
      { ok: true, fstat: { st_size: SIZE, st_blksize: PAGE, st_type: 'reg' } },
    ]);
  });

  it('file_read_write: read/write fail with EINVAL, pread/pwrite with ESPIPE; ftruncate fails with EINVAL', async () => {
    expect(
      await run(
        [
          ...setup(3),
          { op: 'read', h: 'g0', len: PAGE },
          { op: 'write', h: 'g0', len: PAGE },
          { op: 'pread', h: 'g0', offset: 0, len: PAGE },
          { op: 'pwrite', h: 'g0', offset: 0, len: PAGE },
          { op: 'ftruncate', h: 'g0', length: SIZE },
        ],
        2,
      ),
    ).toEqual([{ errno: 'EINVAL' }, { errno: 'EINVAL' }, { errno: 'ESPIPE' }, { errno: 'ESPIPE' }, { errno: 'EINVAL' }]);
  });

  it('close: a closed handle gets EBADF from the kernel; a dup keeps the file usable', async () => {
    expect(
      await run(
        [
          ...setup(3),
          { op: 'dup', h: 'g0', as: 'g0b' },
          { op: 'close', h: 'g0' },
          { op: 'close', h: 'g0' },
          { op: 'fstat', h: 'g0' },
          { op: 'mmap', gmem: 'g0', offset: 0, length: PAGE, prot: 'rw', shared: true },
          { op: 'fstat', h: 'g0b' },
        ],
        2,
      ),
    ).toEqual([
      { ok: true },
      { ok: true },
      { errno: 'EBADF' },
      { errno: 'EBADF' },
      { errno: 'EBADF' },
      { ok: true, fstat: { st_size: SIZE, st_blksize: PAGE, st_type: 'reg' } },
    ]);
  });

  it("fork: the child sees the parent's writes through the shared mapping, and its VM ioctls get EIO", async () => {
    expect(
      await run(
        [
          ...mapped(),
          { op: 'write_mem', map: 'm0', offset: 5, value: 42 },
          {
            op: 'fork',
            steps: [
              { op: 'read_mem', map: 'm0', offset: 5 },
              { op: 'write_mem', map: 'm0', offset: 6, value: 43 },
              { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 3 },
              { op: 'fstat', h: 'g0' },
            ],
          },
          { op: 'read_mem', map: 'm0', offset: 6 },
        ],
        4,
      ),
    ).toEqual([
      {
        ok: true,
        steps: [
          { access: 'ok', value: 42 },
          { access: 'ok' },
          { errno: 'EIO' },
          { ok: true, fstat: { st_size: SIZE, st_blksize: PAGE, st_type: 'reg' } },
        ],
      },
      { access: 'ok', value: 43 },
    ]);
  });

  it('memslots: a default VM binds an MMAP|INIT_SHARED guest_memfd; the slot is immutable; deletion succeeds', async () => {
    const bind: Step = {
      op: 'set_memory_region2',
      vm: 'vm0',
      slot: 0,
      flags: ['gmem'],
      gpa: 0,
      size: SIZE,
      gmem: 'g0',
      gmem_offset: 0,
      uaddr: { map: 'm0', offset: 0 },
    };
    expect(
      await run(
        [
          ...mapped(),
          bind,
          bind,
          {
            op: 'set_memory_region2',
            vm: 'vm0',
            slot: 1,
            flags: ['gmem', 'log_dirty'],
            gpa: SIZE,
            size: SIZE,
            gmem: 'g0',
            gmem_offset: 0,
            uaddr: { map: 'm0', offset: 0 },
          },
          { op: 'delete_memslot', vm: 'vm0', slot: 0 },
          { op: 'delete_memslot', vm: 'vm0', slot: 0 },
        ],
        3,
      ),
    ).toEqual([{ ok: true }, { errno: 'EINVAL' }, { errno: 'EINVAL' }, { ok: true }, { errno: 'EINVAL' }]);
  });

  it('attributes: KVM_SET_MEMORY_ATTRIBUTES and the proposed ..._ATTRIBUTES2 are ENOTTY on this kernel', async () => {
    expect(
      await run(
        [
          ...setup(3),
          { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8 },
          { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 },
        ],
        2,
      ),
    ).toEqual([{ errno: 'ENOTTY' }, { errno: 'ENOTTY' }]);
  });

  it('pin: a long-term pin (io_uring fixed buffer) of shared pages succeeds and unpins', async () => {
    expect(
      await run([...mapped(), { op: 'pin', map: 'm0', offset: 0, len: PAGE }, { op: 'unpin', map: 'm0', offset: 0, len: PAGE }], 3),
    ).toEqual([{ ok: true }, { ok: true }]);
  });

  it('platform operations are reported as unsupported, not as kernel outcomes', async () => {
    const outcomes = await run(
      [...setup(3), { op: 'launch_start', vm: 'vm0' }, { op: 'guest_access', vm: 'vm0', gpa: 0, private: false }],
      2,
    );
    for (const o of outcomes) expect(o).toEqual({ failed: expect.stringContaining('unsupported') });
  });

  it('traces are isolated: handles of an earlier trace do not exist in the next', async () => {
    await run(setup(3));
    const [o] = await run([{ op: 'fstat', h: 'g0' }]);
    expect(o).toEqual({ failed: expect.stringContaining("unknown handle 'g0'") });
  });

  it('leaves nothing behind: between traces two idle spare children without kvm fds; nothing after close()', async () => {
    const b = new LinuxBackend();
    await b.run({ format: 'gmem-trace/1', steps: [...mapped(), { op: 'fork', steps: [{ op: 'read_mem', map: 'm0', offset: 0 }] }] });
    const pid = b.helperPid!;
    expect(pid).toBeTypeOf('number');
    // The server keeps two idle children forked ahead and reaps the finished one: once that has happened,
    // the server and its two children hold no kvm or guest_memfd fds.
    const kvmFds = (p: number) => openFiles(p).filter((f) => /kvm|gmem/.test(f));
    const idle = () => {
      const d = descendantsOf(pid);
      return d.length === 2 && d.every((c) => c.ppid === pid && c.state === 'S' && kvmFds(c.pid).length === 0) && kvmFds(pid).length === 0;
    };
    const settled = await waitFor(idle);
    const family = [pid, ...descendantsOf(pid).map((p) => p.pid)];
    expect(settled, `helper processes: ${JSON.stringify(descendantsOf(pid))}; fds: ${JSON.stringify(family.map(openFiles))}`).toBe(true);
    await b.close();
    for (const p of family) expect(processExists(p), `process ${p} after close()`).toBe(false);
  });
});

async function waitFor(cond: () => boolean, ms = 1000): Promise<boolean> {
  for (let t = 0; t < ms; t += 5) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return cond();
}
