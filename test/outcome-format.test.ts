/**
 * Outcomes are read strictly and compared as docs/trace-format.md says (issue 12, item 6): an unknown field in
 * an outcome is rejected with its path; a fork's children may carry their own `observed`; `{"ok": true,
 * "ret": 0}` is plain ok, and the fd or address an fd- or address-returning call gives back is not compared.
 */
import { describe, expect, it } from 'vitest';
import { compareTrace, hasObserved } from '../spec/compare.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { TraceError, formatTrace, parseTrace } from '../spec/trace.ts';

const linux = getProfile('linux-6.18');
const doc = (steps: unknown[]) => JSON.stringify({ format: 'gmem-trace/1', profile: 'linux-6.18', steps });
const rejection = (steps: unknown[]): string => {
  try {
    parseTrace(doc(steps), 't.json');
  } catch (e) {
    expect(e).toBeInstanceOf(TraceError);
    return (e as Error).message;
  }
  throw new Error('accepted');
};

const VM = { op: 'create_vm', type: 'default', as: 'vm0' };
const GMEM = { op: 'create_gmem', vm: 'vm0', size: 4096, flags: 3, as: 'g0' };
const MAP = { op: 'mmap', gmem: 'g0', offset: 0, length: 4096, prot: 'rw', shared: true, as: 'm0' };

describe('an outcome with a field that does not belong to it is rejected, naming the field', () => {
  it.each([
    [
      'st_size beside ok instead of inside fstat',
      { ok: true, st_size: 4096 },
      't.json: steps[1].observed.st_size: unknown field in an ok outcome (allowed: ok, ret, fstat, steps)',
    ],
    [
      'a field inside fstat',
      { ok: true, fstat: { st_size: 4096, st_blksize: 4096, st_mode: 1 } },
      't.json: steps[1].observed.fstat.st_mode: unknown field in fstat (allowed: st_size, st_blksize, st_type)',
    ],
    [
      'a value on an errno',
      { errno: 'EINVAL', value: 0 },
      't.json: steps[1].observed.value: unknown field in an errno outcome (allowed: errno, error_offset)',
    ],
    [
      'a value on a signal',
      { access: 'SIGBUS', value: 0 },
      't.json: steps[1].observed.value: unknown field in a SIGBUS outcome (allowed: access)',
    ],
    [
      'a gpa on an exit',
      { exit: 'MEMORY_FAULT', private: true, gpa: 0 },
      't.json: steps[1].observed.gpa: unknown field in a memory-fault exit outcome (allowed: exit, private)',
    ],
    ['ok: false', { ok: false }, 't.json: steps[1].observed.ok: expected true (a failure is {"errno": ...}), got false'],
    ['not_modelled as an observation', { not_modelled: 'x' }, /^t\.json: steps\[1\]\.observed\.not_modelled: only an expected outcome/],
  ])('%s', (_what, observed, message) => {
    const m = rejection([VM, { ...GMEM, observed }]);
    if (message instanceof RegExp) expect(m).toMatch(message);
    else expect(m).toBe(message);
  });

  it('accepts a not_modelled expectation (what predict --json writes for a capability the spec does not model)', () => {
    const t = parseTrace(doc([{ op: 'check_extension', on: 'kvm', cap: 12345, expected: { not_modelled: 'KVM_CHECK_EXTENSION(12345)' } }]));
    expect(t.steps[0]?.expected).toEqual({ not_modelled: 'KVM_CHECK_EXTENSION(12345)' });
  });
});

describe("a fork's child steps may carry their own observed outcomes", () => {
  const fork = (childObserved: unknown, forkObserved?: unknown) =>
    doc([
      VM,
      GMEM,
      MAP,
      { op: 'write_mem', map: 'm0', offset: 0, value: 7 },
      {
        op: 'fork',
        steps: [
          { op: 'read_mem', map: 'm0', offset: 0, observed: childObserved },
          { op: 'create_gmem', vm: 'vm0', size: 4096, flags: 0, observed: { errno: 'EIO' } },
        ],
        ...(forkObserved ? { observed: forkObserved } : {}),
      },
    ]);

  it('compares them as the child outcomes when the fork has none', () => {
    const t = parseTrace(fork({ access: 'ok', value: 7 }));
    expect(hasObserved(t.steps)).toBe(true);
    expect(compareTrace(linux, t.steps)).toEqual({ checked: 2, notModelled: [] });
  });

  it('and when the fork says only that it ran ({"ok": true} without steps)', () => {
    const c = compareTrace(linux, parseTrace(fork({ access: 'ok', value: 7 }, { ok: true })).steps);
    expect(c.divergence).toBeUndefined();
    expect(c.checked).toBe(3);
  });

  it('a child that diverges is reported at its nested path', () => {
    const c = compareTrace(linux, parseTrace(fork({ access: 'ok', value: 9 })).steps);
    expect(c.divergence?.path).toEqual([4, 0]);
    expect(c.divergence?.expected).toEqual({ access: 'ok', value: 7 });
  });

  it('a child outcome given twice must agree', () => {
    expect(() => parseTrace(fork({ access: 'ok', value: 7 }, { ok: true, steps: [{ access: 'ok', value: 8 }] }), 't.json')).toThrow(
      "t.json: steps[4].steps[0].observed: access ok, reads 7 disagrees with the fork's observed.steps[0] (access ok, reads 8); give a child's outcome once, or the same in both places",
    );
    expect(() => parseTrace(fork({ access: 'ok', value: 7 }, { ok: true, steps: [{ access: 'ok', value: 7 }] }))).not.toThrow();
  });

  it('survives formatTrace and parseTrace unchanged', () => {
    const t = parseTrace(fork({ access: 'ok', value: 7 }));
    expect(parseTrace(formatTrace(t))).toEqual(t);
  });
});

describe('ret: 0 is plain ok; an fd or an address is never compared', () => {
  const closeWith = (observed: unknown) =>
    parseTrace(
      doc([
        VM,
        { ...GMEM, observed: { ok: true, ret: 5 } },
        { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: 4096, observed: { ok: true, ret: 0 } },
        { op: 'close', h: 'g0', observed },
      ]),
    );

  it('{"ok": true, "ret": 0} from close and fallocate agrees with the spec\'s ok', () => {
    expect(compareTrace(linux, closeWith({ ok: true, ret: 0 }).steps)).toEqual({ checked: 3, notModelled: [] });
  });

  it('a non-zero ret from a call whose success returns 0 diverges', () => {
    expect(compareTrace(linux, closeWith({ ok: true, ret: 1 }).steps).divergence?.path).toEqual([3]);
  });

  it('the fd a creation returns is dropped when read (fds are never part of an outcome)', () => {
    expect(closeWith({ ok: true }).steps[1]?.observed).toEqual({ ok: true });
  });

  it('a memslot ioctl that returned 0', () => {
    const t = parseTrace(
      doc([
        VM,
        GMEM,
        {
          op: 'set_memory_region2',
          vm: 'vm0',
          slot: 0,
          flags: ['gmem'],
          gpa: 0,
          size: 4096,
          gmem: 'g0',
          gmem_offset: 0,
          uaddr: 0,
          observed: { ok: true, ret: 0 },
        },
      ]),
    );
    expect(compareTrace(linux, t.steps)).toEqual({ checked: 1, notModelled: [] });
  });
});
