/**
 * madvise advice the kernel accepts on a guest_memfd mapping is accepted, with the outcome mm/madvise.c gives
 * such a (MAP_SHARED file) mapping (issue 12, item 7): VMA hints succeed, MADV_WIPEONFORK is EINVAL, populate
 * faults pages in and stops with EFAULT where a fault would fail, guard regions make accesses SIGSEGV.
 */
import { describe, expect, it } from 'vitest';
import { MADV } from '../spec/constants.ts';
import type { Outcome, Step } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { type SystemState, emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { parseTrace } from '../spec/trace.ts';

const linux = getProfile('linux-6.18');
const PAGE = 4096;

/** Run steps (parsed, so the vocabulary is the trace format's) and return each outcome and the last state. */
function run(steps: unknown[]): { outcomes: Outcome[]; state: SystemState } {
  const t = parseTrace(JSON.stringify({ format: 'gmem-trace/1', steps }));
  let s = emptySystem();
  const outcomes: Outcome[] = [];
  for (const st of t.steps) {
    const r = step(linux, s, st as Step);
    outcomes.push(r.outcome);
    s = r.state;
  }
  return { outcomes, state: s };
}

/** A VM, a one-page guest_memfd (flags: 3 shared, 1 private) and a two-page mapping of it (one page past EOF). */
const setup = (flags = 3, prot = 'rw') => [
  { op: 'create_vm', type: 'default', as: 'vm0' },
  { op: 'create_gmem', vm: 'vm0', size: PAGE, flags, as: 'g0' },
  { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot, shared: true, as: 'm0' },
];
const advise = (advice: string, length = PAGE, offset = 0) => ({ op: 'madvise', map: 'm0', offset, length, advice });
const last = (steps: unknown[]) => run(steps).outcomes.at(-1);

describe('madvise vocabulary', () => {
  const NAMES = [
    'dontdump',
    'dodump',
    'populate_read',
    'populate_write',
    'guard_install',
    'guard_remove',
    'mergeable',
    'unmergeable',
    'wipeonfork',
    'keeponfork',
    'cold',
  ];

  it("accepts every advice issue 12 lists, with the kernel's numbers", () => {
    expect(NAMES.filter((n) => !(n in MADV))).toEqual([]);
    expect([
      MADV.mergeable,
      MADV.dontdump,
      MADV.wipeonfork,
      MADV.cold,
      MADV.populate_read,
      MADV.populate_write,
      MADV.guard_install,
      MADV.guard_remove,
    ]).toEqual([12, 16, 18, 20, 22, 23, 102, 103]);
    for (const n of NAMES) expect(() => run([...setup(), advise(n)])).not.toThrow();
  });

  it.each(['dontdump', 'dodump', 'mergeable', 'unmergeable', 'keeponfork', 'cold', 'pageout'])(
    'MADV_%s succeeds on a guest_memfd mapping',
    (advice) => {
      expect(last([...setup(), advise(advice)])).toEqual({ ok: true });
    },
  );

  it('MADV_WIPEONFORK is EINVAL on a file mapping', () => {
    expect(last([...setup(), advise('wipeonfork')])).toEqual({ errno: 'EINVAL' });
  });

  it('a range that runs past the mapping is ENOMEM', () => {
    expect(last([...setup(), advise('dodump', 3 * PAGE)])).toEqual({ errno: 'ENOMEM' });
  });
});

describe('MADV_POPULATE_READ / _WRITE', () => {
  it('fault a shared page in (it is then host-mapped and allocated)', () => {
    const r = run([...setup(), advise('populate_write')]);
    expect(r.outcomes.at(-1)).toEqual({ ok: true });
    expect(r.state.gmems[0]?.pages['0']).toMatchObject({ backing: 'initialised', hostMappers: [0] });
  });

  it('fail with EFAULT on a private page, as the fault would be SIGBUS', () => {
    expect(last([...setup(1), advise('populate_read')])).toEqual({ errno: 'EFAULT' });
  });

  it('stop with EFAULT at the page past EOF, keeping the page before it faulted in', () => {
    const r = run([...setup(), advise('populate_read', 2 * PAGE)]);
    expect(r.outcomes.at(-1)).toEqual({ errno: 'EFAULT' });
    expect(r.state.gmems[0]?.pages['0']?.hostMappers).toEqual([0]);
  });

  it('populate_write on a read-only mapping is EFAULT; populate_read there succeeds', () => {
    expect(last([...setup(3, 'r'), advise('populate_write')])).toEqual({ errno: 'EFAULT' });
    expect(last([...setup(3, 'r'), advise('populate_read')])).toEqual({ ok: true });
  });
});

describe('guard regions (MADV_GUARD_INSTALL / _REMOVE)', () => {
  const written = [...setup(), { op: 'write_mem', map: 'm0', offset: 0, value: 7 }];

  it('an access to a guarded page is SIGSEGV, a pin there EFAULT, populate EFAULT', () => {
    const r = run([
      ...written,
      advise('guard_install'),
      { op: 'read_mem', map: 'm0', offset: 0 },
      { op: 'pin', map: 'm0', offset: 0, len: PAGE },
      advise('populate_read'),
    ]);
    expect(r.outcomes.slice(-4)).toEqual([{ ok: true }, { access: 'SIGSEGV' }, { errno: 'EFAULT' }, { errno: 'EFAULT' }]);
    // Installing zaps the PTEs; the file keeps the data.
    expect(r.state.gmems[0]?.pages['0']).toMatchObject({ hostMappers: [], backing: 'initialised', bytes: { 0: 7 } });
  });

  it('removing the guard makes the page accessible again, with its data', () => {
    expect(last([...written, advise('guard_install'), advise('guard_remove'), { op: 'read_mem', map: 'm0', offset: 0 }])).toEqual({
      access: 'ok',
      value: 7,
    });
  });

  it('a guard on one page leaves the others accessible', () => {
    const r = run([
      ...setup(3),
      advise('guard_install', PAGE, PAGE),
      { op: 'read_mem', map: 'm0', offset: 0 },
      { op: 'read_mem', map: 'm0', offset: PAGE },
    ]);
    expect(r.outcomes.slice(-2)).toEqual([{ access: 'ok', value: 0 }, { access: 'SIGSEGV' }]);
  });
});

describe('MADV_DONTNEED_LOCKED', () => {
  it('zaps like MADV_DONTNEED: the PTEs go, the data stays', () => {
    const r = run([
      ...setup(),
      { op: 'write_mem', map: 'm0', offset: 0, value: 5 },
      advise('dontneed_locked'),
      { op: 'read_mem', map: 'm0', offset: 0 },
    ]);
    expect(r.outcomes.slice(-2)).toEqual([{ ok: true }, { access: 'ok', value: 5 }]);
    const zapped = run([...setup(), { op: 'write_mem', map: 'm0', offset: 0, value: 5 }, advise('dontneed_locked')]);
    expect(zapped.state.gmems[0]?.pages['0']?.hostMappers).toEqual([]);
  });
});
