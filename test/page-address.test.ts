/**
 * The page a step addresses (spec/explore/symmetry.ts pageParam, from each op's `pageAddress` facet), on a
 * two-page guest_memfd mapped whole and bound by a memslot at gpa 1 MiB: every size rule of the three forms, on
 * steps the explorer's probes never offer (so the graph digests could not notice them lost).
 */
import { describe, expect, it } from 'vitest';
import { pageParam } from '../spec/explore/symmetry.ts';
import type { Step } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { type SystemState, emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';

const PAGE = 4096;
const GPA = 0x100000;

function setUp(): SystemState {
  const p = getProfile('linux-6.18');
  let s = emptySystem();
  for (const st of [
    { op: 'create_vm', type: 'default', as: 'vm0' },
    { op: 'create_gmem', vm: 'vm0', size: 2 * PAGE, flags: 3, as: 'g0' },
    { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'm0' },
    { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: GPA, size: 2 * PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
  ] as Step[]) {
    const r = step(p, s, st);
    expect(r.outcome, JSON.stringify(st)).toEqual({ ok: true });
    s = r.state;
  }
  return s;
}

const s = setUp();
/** The page a step names and the step moved to page 0, or 'none'. */
function named(st: Step): { page: number; toPage0: Step } | 'none' {
  const pp = pageParam(s, st);
  return pp ? { page: pp.page, toPage0: pp.with(0) } : 'none';
}

describe('pageParam by the pageAddress facet', () => {
  it('a file offset names a page only with a length of exactly one aligned page (fallocate len, attributes2 size)', () => {
    const fa = { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: PAGE, len: PAGE } as Step;
    expect(named(fa)).toEqual({ page: 1, toPage0: { ...fa, offset: 0 } });
    expect(named({ ...fa, len: 2 * PAGE } as Step)).toBe('none');
    expect(named({ ...fa, offset: PAGE + 1 } as Step)).toBe('none');
    expect(named({ ...fa, offset: 2 * PAGE } as Step)).toBe('none'); // past the file
    const a2 = { op: 'set_memory_attributes2', gmem: 'g0', offset: PAGE, size: PAGE, attributes: 0 } as Step;
    expect(named(a2)).toEqual({ page: 1, toPage0: { ...a2, offset: 0 } });
    expect(named({ ...a2, size: 2 * PAGE } as Step)).toBe('none');
  });

  it('a mapping offset: a byte anywhere in the page; pin/unpin one aligned page; fill, check, continue inside it', () => {
    const rd = { op: 'read_mem', map: 'm0', offset: PAGE + 4000 } as Step;
    expect(named(rd)).toEqual({ page: 1, toPage0: { ...rd, offset: 4000 } });
    expect(named({ ...rd, offset: 2 * PAGE } as Step)).toBe('none'); // past the mapping
    expect(named({ ...rd, offset: -1 } as Step)).toBe('none');
    for (const op of ['pin', 'unpin'] as const) {
      const pin = { op, map: 'm0', offset: PAGE, len: PAGE } as Step;
      expect(named(pin)).toEqual({ page: 1, toPage0: { ...pin, offset: 0 } });
      expect(named({ ...pin, len: 100 } as Step), op).toBe('none');
      expect(named({ ...pin, offset: PAGE + 1 } as Step), op).toBe('none');
    }
    for (const op of ['fill_mem', 'check_mem', 'uffd_continue'] as const) {
      const fill = { op, map: 'm0', offset: PAGE + 100, length: PAGE - 100, value: 1 } as Step;
      expect(named(fill)).toEqual({ page: 1, toPage0: { ...fill, offset: 100 } });
      expect(named({ ...fill, length: PAGE - 99 } as Step), op).toBe('none');
    }
  });

  it('a guest physical address goes through the memslot; all but guest_access need one aligned page', () => {
    const acc = { op: 'guest_access', vm: 'vm0', gpa: GPA + PAGE + 8, private: false } as Step;
    expect(named(acc)).toEqual({ page: 1, toPage0: { ...acc, gpa: GPA + 8 } });
    expect(named({ ...acc, gpa: 0 } as Step)).toBe('none'); // no memslot there
    const attrs = { op: 'set_memory_attributes', vm: 'vm0', address: GPA + PAGE, size: PAGE, attributes: 0 } as Step;
    expect(named(attrs)).toEqual({ page: 1, toPage0: { ...attrs, address: GPA } });
    for (const op of ['populate', 'guest_request_conversion'] as const) {
      const pop = { op, vm: 'vm0', gpa: GPA + PAGE, size: PAGE } as Step;
      expect(named(pop)).toEqual({ page: 1, toPage0: { ...pop, gpa: GPA } });
      expect(named({ ...pop, size: 2 * PAGE } as Step), op).toBe('none');
      expect(named({ ...pop, gpa: GPA + PAGE + 8 } as Step), op).toBe('none');
    }
    expect(named({ ...attrs, size: 2 * PAGE } as Step)).toBe('none');
  });

  it('ops whose record says none address no page, whatever their offsets', () => {
    expect(named({ op: 'mmap', gmem: 'g0', offset: PAGE, length: PAGE, prot: 'rw', shared: true } as Step)).toBe('none');
    expect(named({ op: 'madvise', map: 'm0', offset: PAGE, length: PAGE, advice: 'dontneed' } as Step)).toBe('none');
  });
});
