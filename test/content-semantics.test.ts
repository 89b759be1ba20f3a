/**
 * Issue 14, "in-place populate loses the data it exists for" and "pKVM content semantics": what each side reads
 * of bytes the other side wrote follows the platform and the conversion kind, declared once per platform
 * (spec/profiles/vmTypes.ts, said per kind by spec/rules/content.ts).
 *
 * The flow the seeds argue for (seed 001, kernel-abi.md §2.16 "Populate in in-place mode"): userspace writes the
 * image while the page is shared, converts it in place to private, and populates with no source; the trusted
 * entity encrypts (SNP) or adds (TDX) the page in place, so the guest reads what userspace wrote.
 */
import { describe, expect, it } from 'vitest';
import { predictTrace } from '../spec/compare.ts';
import type { Outcome, Step } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { contentSemantics } from '../spec/rules/content.ts';
import { IMAGE_TOKEN } from '../spec/rules/platform.ts';
import { SCRAMBLED } from '../machines/page.ts';

const PAGE = 4096;
const GPA = 0x100000;

/** Write 65 / 66 into two shared pages, convert both in place, launch with `populate` for the first, run. */
function launchFlow(vmType: string, populate: 'in_place' | 'buffer'): Step[] {
  return [
    { op: 'create_vm', type: vmType, as: 'vm0' },
    { op: 'create_gmem', vm: 'vm0', size: 2 * PAGE, flags: 3, as: 'g0' },
    { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'm0' },
    { op: 'write_mem', map: 'm0', offset: 5, value: 65 },
    { op: 'write_mem', map: 'm0', offset: PAGE + 5, value: 66 },
    { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: 2 * PAGE, attributes: 8 },
    { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: GPA, size: 2 * PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
    { op: 'launch_start', vm: 'vm0' },
    { op: 'populate', vm: 'vm0', gpa: GPA, size: PAGE, source: populate },
    { op: 'launch_finish', vm: 'vm0' },
    { op: 'guest_access', vm: 'vm0', gpa: GPA + 5, private: true },
    { op: 'guest_access', vm: 'vm0', gpa: GPA + PAGE + 5, private: true },
    { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: 2 * PAGE, attributes: 0 },
    { op: 'read_mem', map: 'm0', offset: 5 },
    { op: 'read_mem', map: 'm0', offset: PAGE + 5 },
  ] as Step[];
}

const value = (o: Outcome | undefined) => (o && 'value' in o ? o.value : undefined);

describe('populate in place keeps what userspace wrote while the page was shared', () => {
  for (const [profile, vmType, untaken] of [
    ['inplace-conversion', 'snp', SCRAMBLED],
    ['inplace-conversion', 'tdx', 0],
    ['arm-cca', 'cca', 0],
  ] as const) {
    it(`${profile} ${vmType}: the populated page reads 65; the page the trusted entity takes at a fault reads ${untaken}`, () => {
      const r = predictTrace(getProfile(profile), launchFlow(vmType, 'in_place'));
      expect(r.slice(0, 10).map((x) => ('ok' in x.outcome || 'access' in x.outcome ? 'ok' : JSON.stringify(x.outcome)))).toEqual(
        Array(10).fill('ok'),
      );
      expect(r[8]?.rule.id).toBe('populate.in-place');
      expect(value(r[10]?.outcome)).toBe(65);
      // Not populated: the trusted entity takes it at the guest's first private fault, and the platform decides.
      expect(value(r[11]?.outcome)).toBe(untaken);
      expect(r[11]?.rule.id).toBe('guest_access.read-taken');
    });
  }

  it('a buffer-sourced populate loads the image token, and its rule says so', () => {
    const r = predictTrace(getProfile('inplace-conversion'), launchFlow('snp', 'buffer'));
    expect(r[8]?.rule.id).toBe('populate.ok');
    expect(r[8]?.rule.says).toContain(`0x${IMAGE_TOKEN.toString(16)}`);
    expect(value(r[10]?.outcome)).toBe(IMAGE_TOKEN);
  });

  it('given back to the host: SNP shows ciphertext, TDX zeroes (the trusted entity held the pages)', () => {
    const snp = predictTrace(getProfile('inplace-conversion'), launchFlow('snp', 'in_place'));
    expect([value(snp[13]?.outcome), value(snp[14]?.outcome)]).toEqual([SCRAMBLED, SCRAMBLED]);
    const tdx = predictTrace(getProfile('inplace-conversion'), launchFlow('tdx', 'in_place'));
    expect([value(tdx[13]?.outcome), value(tdx[14]?.outcome)]).toEqual([0, 0]);
  });

  it('a page no trusted entity took keeps its bytes across a round trip (guest_memfd never copies nor zeroes)', () => {
    const steps = launchFlow('snp', 'in_place');
    // No launch, no guest access: convert private and back, then the host reads its own bytes.
    const r = predictTrace(getProfile('inplace-conversion'), [...steps.slice(0, 6), steps[12] as Step, steps[13] as Step]);
    expect(value(r[7]?.outcome)).toBe(65);
  });
});

describe('pKVM: conversion preserves content, both ways, and the words name its signal', () => {
  const roundTrip: Step[] = [
    { op: 'create_vm', type: 'pkvm', as: 'vm0' },
    { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 3, as: 'g0' },
    { op: 'mmap', gmem: 'g0', offset: 0, length: PAGE, prot: 'rw', shared: true, as: 'm0' },
    { op: 'write_mem', map: 'm0', offset: 0, value: 1 },
    { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: GPA, size: PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
    { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 },
    { op: 'guest_access', vm: 'vm0', gpa: GPA, private: true },
    { op: 'guest_access', vm: 'vm0', gpa: GPA, private: true, write: 2 },
    { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 0 },
    { op: 'read_mem', map: 'm0', offset: 0 },
  ] as Step[];

  it('write shared, convert to private, the guest reads it; the guest writes, convert back, the host reads that', () => {
    const r = predictTrace(getProfile('pkvm'), roundTrip);
    expect(value(r[6]?.outcome)).toBe(1);
    expect(value(r[9]?.outcome)).toBe(2);
  });

  it('the rule for conversion to private says SIGSEGV on pkvm and SIGBUS where the platform raises SIGBUS', () => {
    const r = predictTrace(getProfile('pkvm'), roundTrip);
    expect(r[5]?.rule.says).toMatch(/later host faults SIGSEGV/);
    const ip = predictTrace(getProfile('inplace-conversion'), launchFlow('snp', 'in_place'));
    expect(ip[5]?.rule.says).toMatch(/later host faults SIGBUS/);
  });

  it('the generated pkvm suite holds both halves of the round trip, chosen by the state graph (no hand-written trace)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = 'generated-tests/pkvm/traces/state';
    const traces = readdirSync(dir).map(
      (f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as { steps: Array<Step & { expected?: Outcome }> },
    );
    const shape = (t: { steps: Array<Step & { expected?: Outcome }> }) =>
      t.steps
        .map((s) => {
          if (s.op === 'write_mem') return `host-write ${s.value}`;
          if (s.op === 'read_mem') return `host-read ${value(s.expected)}`;
          if (s.op === 'set_memory_attributes2') return s.attributes === 8 ? 'to-private' : 'to-shared';
          if (s.op === 'guest_access') return s.write !== undefined ? `guest-write ${s.write}` : `guest-read ${value(s.expected)}`;
          return '';
        })
        .filter((x) => x !== '')
        .join(' ');
    const shapes = traces.map(shape);
    // Host → guest: written shared, converted in place, the guest reads the host's value.
    expect(shapes.some((s) => /host-write 1 .*to-private.* guest-read 1/.test(s))).toBe(true);
    // Guest → host: written private, converted back, the host reads the guest's value.
    expect(shapes.some((s) => /guest-write 2 .*to-shared.* host-read 2/.test(s))).toBe(true);
  });
});

describe('content semantics, declared once per platform and said per conversion kind', () => {
  it('in place the platform decides; with per-VM attributes shared memory is other memory', () => {
    const of = (p: string, t: string) => contentSemantics(getProfile(p).vmTypes[t as 'snp'] as never);
    expect(of('inplace-conversion', 'snp')).toMatchObject({
      conversion: 'in-place',
      sharedToPrivate: 'scramble',
      privateToShared: 'scramble',
      populateInPlace: 'preserve',
    });
    expect(of('inplace-conversion', 'tdx')).toMatchObject({ sharedToPrivate: 'zero', privateToShared: 'zero' });
    expect(of('pkvm', 'pkvm')).toMatchObject({ conversion: 'in-place', sharedToPrivate: 'preserve', privateToShared: 'preserve' });
    expect(of('inplace-conversion', 'sw_protected')).toMatchObject({ sharedToPrivate: 'preserve', privateToShared: 'preserve' });
    expect(of('sev-snp', 'snp')).toMatchObject({
      conversion: 'vm-attributes',
      sharedToPrivate: 'other-memory',
      populateInPlace: 'not-in-place',
    });
    expect(of('linux-6.18', 'default')).toMatchObject({ conversion: 'none', sharedToPrivate: 'no-conversion' });
  });
});
