/**
 * userfaultfd on guest_memfd mappings (issue 14; spec/rules/uffd.ts): what the lab's Linux 7.3 does with a
 * registration (refused: measured, examples/corpus/linux-7.3/uffd--*), and the proposal's minor and missing faults
 * (uffd-minor). The traces below are written from the proposal's text and userfaultfd(2), not from the model.
 */
import { describe, expect, it } from 'vitest';
import { predictTrace } from '../spec/compare.ts';
import { parseBound } from '../spec/explore/bound.ts';
import { explore } from '../spec/explore/explorer.ts';
import { sameState } from '../spec/explore/keys.ts';
import { stateKey } from '../spec/explore/stateKey.ts';
import type { Outcome, Step } from '../spec/ops.ts';
import type { Profile } from '../spec/profile.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { type MapState, emptySystem } from '../spec/state.ts';
import { parseTrace } from '../spec/trace.ts';

const PAGE = 4096;
const SIZE = 2 * PAGE;
const setup: Step[] = [
  { op: 'create_vm', type: 'default', as: 'vm0' },
  { op: 'create_gmem', vm: 'vm0', size: SIZE, flags: 3, as: 'g0' },
  { op: 'mmap', gmem: 'g0', offset: 0, length: SIZE, prot: 'rw', shared: true, as: 'm0' },
  { op: 'mmap', gmem: 'g0', offset: 0, length: SIZE, prot: 'rw', shared: true, as: 'm1' },
];
const reg = (mode: 'minor' | 'missing', offset = 0, length = SIZE, map = 'm1'): Step => ({
  op: 'uffd_register',
  map,
  offset,
  length,
  mode,
});
const cont = (offset = 0, length = PAGE, map = 'm1'): Step => ({ op: 'uffd_continue', map, offset, length });
const read = (offset: number, map = 'm1'): Step => ({ op: 'read_mem', map, offset });
const write = (offset: number, value: number, map = 'm1'): Step => ({ op: 'write_mem', map, offset, value });

/** The outcomes of `steps` after the common setup. */
function outcomes(profile: Profile, steps: Step[]): Outcome[] {
  return predictTrace(profile, [...setup, ...steps])
    .slice(setup.length)
    .map((r) => r.outcome);
}

const uffdMinor = getProfile('uffd-minor');
const linux73 = getProfile('linux-7.3');

describe('userfaultfd on guest_memfd: Linux 7.3 (measured on the lab)', () => {
  it('refuses MINOR and MISSING registration with EINVAL, and CONTINUE finds nothing registered (ENOENT)', () => {
    expect(linux73.uffd?.registerModes).toEqual([]);
    expect(outcomes(linux73, [write(0, 7, 'm0'), reg('minor'), read(0), cont(0), reg('missing'), read(PAGE)])).toEqual([
      { access: 'ok' },
      { errno: 'EINVAL' },
      { access: 'ok', value: 7 },
      { errno: 'ENOENT' },
      { errno: 'EINVAL' },
      { access: 'ok', value: 0 },
    ]);
  });

  it('checks the range before the VMA: an unaligned range is EINVAL for register and continue', () => {
    expect(outcomes(linux73, [reg('minor', 1, PAGE), cont(1), cont(0, 0)])).toEqual([
      { errno: 'EINVAL' },
      { errno: 'EINVAL' },
      { errno: 'EINVAL' },
    ]);
  });

  it('the lab corpus holds the measurement (uffd--register-minor)', async () => {
    const { readFileSync } = await import('node:fs');
    const t = parseTrace(readFileSync('examples/corpus/linux-7.3/uffd--register-minor.json', 'utf8'));
    const registered = t.steps.find((s) => s.op === 'uffd_register');
    expect(registered?.observed).toEqual({ errno: 'EINVAL' });
  });
});

describe('userfaultfd on guest_memfd: the uffd-minor proposal', () => {
  it('accepts MINOR and MISSING registration on a guest_memfd mapping', () => {
    expect([...(uffdMinor.uffd?.registerModes ?? [])].sort()).toEqual(['minor', 'missing']);
    expect(outcomes(uffdMinor, [reg('minor'), reg('missing')])).toEqual([{ ok: true }, { ok: true }]);
  });

  it('register MINOR, fault, CONTINUE: the page written through another mapping is then read through this one', () => {
    expect(outcomes(uffdMinor, [write(0, 7, 'm0'), reg('minor'), read(0), cont(0), read(0), cont(0)])).toEqual([
      { access: 'ok' },
      { ok: true },
      { access: 'UFFD_MINOR' }, // in the page cache, not mapped through m1
      { ok: true },
      { access: 'ok', value: 7 },
      { errno: 'EEXIST' }, // already mapped
    ]);
  });

  it('a MINOR registration takes no fault on a hole (nothing in the page cache) and CONTINUE there is EFAULT', () => {
    expect(outcomes(uffdMinor, [reg('minor'), cont(PAGE), read(PAGE), write(PAGE, 3)])).toEqual([
      { ok: true },
      { errno: 'EFAULT' },
      { access: 'ok', value: 0 },
      { access: 'ok' },
    ]);
  });

  it('a MISSING registration faults on a hole only, and MADV_DONTNEED brings a MINOR fault back', () => {
    expect(outcomes(uffdMinor, [reg('missing', PAGE, PAGE), read(PAGE), write(0, 1, 'm0'), reg('minor', 0, PAGE), read(0)])).toEqual([
      { ok: true },
      { access: 'UFFD_MISSING' },
      { access: 'ok' },
      { ok: true },
      { access: 'UFFD_MINOR' },
    ]);
    const zap: Step = { op: 'madvise', map: 'm1', offset: 0, length: PAGE, advice: 'dontneed' };
    expect(outcomes(uffdMinor, [write(0, 1, 'm0'), reg('minor', 0, PAGE), cont(0), read(0), zap, read(0)]).slice(3)).toEqual([
      { access: 'ok', value: 1 },
      { ok: true },
      { access: 'UFFD_MINOR' },
    ]);
  });

  it('CONTINUE over pages registered in different modes (two VMAs) is ENOENT', () => {
    expect(outcomes(uffdMinor, [write(0, 1, 'm0'), reg('minor', 0, PAGE), reg('missing', PAGE, PAGE), cont(0, SIZE)]).at(-1)).toEqual({
      errno: 'ENOENT',
    });
  });

  it('a private page is refused (SIGBUS) before any userfault: only shared pages are involved', () => {
    const privateFile: Step[] = [
      { op: 'create_vm', type: 'default', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: SIZE, flags: 1, as: 'g0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: SIZE, prot: 'rw', shared: true, as: 'm1' },
      { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: PAGE },
      reg('minor'),
      read(0),
      cont(0),
    ];
    expect(
      predictTrace(uffdMinor, privateFile)
        .map((r) => r.outcome)
        .slice(-3),
    ).toEqual([{ ok: true }, { access: 'SIGBUS' }, { errno: 'EFAULT' }]);
  });

  it("a long-term pin of a page that would userfault waits on it (GUP may retry); a fork child's mapping is not registered", () => {
    const steps = [
      write(0, 4, 'm0'),
      reg('minor'),
      { op: 'pin', map: 'm1', offset: 0, len: PAGE } as Step,
      { op: 'fork', steps: [read(0)] } as Step,
    ];
    const o = outcomes(uffdMinor, steps);
    expect(o[2]).toEqual({ access: 'UFFD_MINOR' });
    expect(o[3]).toEqual({ ok: true, steps: [{ access: 'ok', value: 4 }] });
  });

  it('without the proposal semantics the same trace takes no userfault (the profile carries them)', () => {
    const without: Profile = { ...uffdMinor, uffd: { registerModes: [], source: 'test' } };
    const steps = [write(0, 7, 'm0'), reg('minor'), read(0)];
    expect(outcomes(uffdMinor, steps).at(-1)).toEqual({ access: 'UFFD_MINOR' });
    expect(outcomes(without, steps).at(-1)).toEqual({ access: 'ok', value: 7 });
  });

  it("KVM's own access through userspace_addr waits on the same userfault (seed 002)", () => {
    // A plain memslot whose userspace_addr is the registered guest_memfd mapping: KVM GUPs the page through it.
    const steps: Step[] = [
      write(0, 7, 'm0'),
      reg('minor'),
      { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: [], gpa: 0, size: PAGE, uaddr: { map: 'm1', offset: 0 } },
      { op: 'guest_access', vm: 'vm0', gpa: 0, private: false },
    ];
    expect(outcomes(uffdMinor, steps).at(-1)).toEqual({ access: 'UFFD_MINOR' });
    expect(outcomes(linux73, steps).at(-1)).toEqual({ access: 'ok', value: 7 });
  });

  it('the explored graph reaches both userfaults and a successful CONTINUE', () => {
    const g = explore(uffdMinor, parseBound('vms=1,gmems=1,pages=1,maps=1,pins=0,slots=0'));
    const seen = new Set(Array.from(g.edgeOutcome.subarray(0, g.edgeCount), (o) => JSON.stringify(g.outcomes[o])));
    const rules = new Set(Array.from(g.edgeRule.subarray(0, g.edgeCount), (r) => g.rules[r]?.id));
    expect(rules).toContain('uffd_continue.ok');
    expect(seen).toContain(JSON.stringify({ access: 'UFFD_MINOR' }));
    expect(seen).toContain(JSON.stringify({ access: 'UFFD_MISSING' }));
  });
});

describe('userfaultfd in profiles that do not model it', () => {
  it('linux-6.18 predicts not_modelled for both operations', () => {
    const o = outcomes(getProfile('linux-6.18'), [reg('minor'), cont(0)]);
    expect(o.every((x) => 'not_modelled' in x)).toBe(true);
  });
});

describe('the registration is part of the state key', () => {
  it('two states differing only in a registration get different keys and are not the same state', () => {
    const map: MapState = { gmem: 0, start: 0, npages: 1, prot: 'rw', proc: 0, live: true };
    const a = { ...emptySystem(), maps: [map] };
    const b = { ...emptySystem(), maps: [{ ...map, uffd: [{ page: 0, mode: 'minor' as const }] }] };
    const c = { ...emptySystem(), maps: [{ ...map, uffd: [{ page: 0, mode: 'missing' as const }] }] };
    expect(new Set([stateKey(a), stateKey(b), stateKey(c)]).size).toBe(3);
    expect(sameState(a, b)).toBe(false);
    expect(sameState(b, c)).toBe(false);
  });
});
