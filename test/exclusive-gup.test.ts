/**
 * Issue 14, "the exclusive-GUP profile models the wrong design": the rejected FOLL_EXCLUSIVE design
 * (kernel-abi.md §4.5) donated ordinary user memory under one exclusive pin, and the memory stayed in the VMM's
 * page tables, so host user space could still touch private memory (seed 004: Perret, "Userspace accesses
 * protected guest memory? Fine, we'll SEGV the userspace process"; Hildenbrand, "private memory: not mapped, not
 * pinned"). The counterexample `check` finds must show that host access, not only a pin that survives.
 */
import { describe, expect, it } from 'vitest';
import { predictTrace } from '../spec/compare.ts';
import { parseBound } from '../spec/explore/bound.ts';
import type { Step } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { check } from '../src/check/engine.ts';

const UNIT = parseBound('vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1');

describe('exclusive-gup: private memory stays host-mapped, so the host can access it', () => {
  it('check finds a host access to private memory as the last step of the shortest counterexample', async () => {
    const r = await check({
      profile: getProfile('exclusive-gup'),
      bound: UNIT,
      invariants: ['PrivateNotHostAccessed'],
      stopWhenAllViolated: true,
    });
    const v = r.violations.find((x) => x.invariant === 'PrivateNotHostAccessed');
    expect(v?.path.map((p) => p.step.op)).toEqual(['create_vm', 'create_gmem', 'mmap', 'read_mem', 'set_memory_attributes2', 'read_mem']);
    expect(v?.path.at(-1)?.outcome).toMatchObject({ access: 'ok' });
    expect(v?.detail).toMatch(/read guest_memfd 0 page 0, which is private/);
  });

  it('the same trace on the in-place baseline: the conversion zaps the mapping and the access is refused', () => {
    const trace: Step[] = [
      { op: 'create_vm', type: 'sw_protected', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: 4096, flags: 3, as: 'g0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: 4096, prot: 'rw', shared: true, as: 'm0' },
      { op: 'write_mem', map: 'm0', offset: 0, value: 1 },
      { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: 4096, attributes: 8 },
      { op: 'read_mem', map: 'm0', offset: 0 },
    ] as Step[];
    expect(predictTrace(getProfile('inplace-conversion'), trace).at(-1)?.outcome).toEqual({ access: 'SIGBUS' });
    const xg = trace.map((s) => (s.op === 'create_vm' ? { ...s, type: 'pkvm' } : s)) as Step[];
    expect(predictTrace(getProfile('exclusive-gup'), xg).at(-1)?.outcome).toEqual({ access: 'ok', value: 1 });
  });

  it('every other profile keeps the promise: no host access to private memory within the unit bound', async () => {
    for (const p of ['inplace-conversion', 'pkvm', 'sw-protected']) {
      const r = await check({ profile: getProfile(p), bound: parseBound('pins=0', UNIT), invariants: ['PrivateNotHostAccessed'] });
      expect(r.complete, p).toBe(true);
      expect(r.violations, p).toEqual([]);
    }
  });
});
