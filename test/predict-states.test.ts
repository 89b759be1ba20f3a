/**
 * `predict --states`: after each step, the tuple of every page the step touched (attribute, backing, content,
 * mappings, pins, trusted entity, direct map, stage-2), from the spec's own state and each op's footprint.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { touchedPages } from '../spec/describe.ts';
import type { Step } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { main } from '../src/cli/main.ts';

async function predict(trace: object, ...argv: string[]): Promise<{ code: number; out: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'gmem-predict-states-')), 't.json');
  writeFileSync(file, JSON.stringify(trace));
  const out: string[] = [];
  const code = await main(['predict', file, ...argv], { out: (s) => out.push(s), err: () => {} });
  return { code, out: out.join('\n') };
}

const PAGE = 4096;
const STEPS: Step[] = [
  { op: 'create_vm', type: 'sw_protected', as: 'vm0' },
  { op: 'create_gmem', vm: 'vm0', size: 2 * PAGE, flags: 3, as: 'g0' },
  { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'm0' },
  { op: 'write_mem', map: 'm0', offset: PAGE, value: 0x5a },
  { op: 'pin', map: 'm0', offset: PAGE, len: PAGE },
  { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 },
];

describe('predict --states', () => {
  it('prints, after each step, the tuple of the pages it touched and only those', async () => {
    const r = await predict({ format: 'gmem-trace/1', profile: 'inplace-conversion', steps: STEPS }, '--states');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const touchedBy = (n: number) => {
      const i = lines.findIndex((l) => l.startsWith(`${n}. `));
      const j = lines.findIndex((l, k) => k > i && /^\d+\. |^invariants:/.test(l));
      return lines.slice(i + 2, j).map((l) => l.trim());
    };
    // The write faults page 1 in through mapping #0 and leaves page 0 alone.
    expect(touchedBy(4)).toEqual([
      'guest_memfd #0 page 1: attribute shared · backing initialised · content zeroes, byte 0 = 0x5a · mappings #0 · pins 0 · trusted entity unprepared · direct map present · stage-2 none',
    ]);
    expect(touchedBy(5)).toEqual([expect.stringMatching(/^guest_memfd #0 page 1: .*mappings #0 · pins 1 ·/)]);
    // Converting page 0 to private zaps nothing on page 1 (pinned, not in the range).
    expect(touchedBy(6)).toEqual([
      'guest_memfd #0 page 0: attribute private · backing hole · content zeroes (a hole) · mappings none · pins 0 · trusted entity unprepared · direct map present · stage-2 none',
    ]);
    // A creation touches no page.
    expect(touchedBy(1)).toEqual([]);
  });

  it('without --states nothing but the outcome and rule is printed', async () => {
    const r = await predict({ format: 'gmem-trace/1', profile: 'inplace-conversion', steps: STEPS });
    expect(r.out).not.toContain('guest_memfd #0 page');
  });

  it("a VM with per-VM attributes shows KVM's attribute of the bound GFN beside the file's", () => {
    const p = getProfile('sev-snp');
    let s = emptySystem();
    const steps: Step[] = [
      { op: 'create_vm', type: 'snp', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 0, as: 'g0' },
      { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: 0, size: PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
      { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8 },
    ];
    const seen = steps.map((st) => {
      const r = step(p, s, st);
      const t = touchedPages(p, s, r.state, st);
      s = r.state;
      return t.map((x) => x.vmAttribute ?? '-');
    });
    expect(seen).toEqual([[], [], ['shared'], ['private']]);
  });
});
