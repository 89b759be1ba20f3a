/**
 * vCPU-backed operations (guest_access, pre_fault, guest_request_conversion): how the linux backend's wire
 * carries them to the native helper and reads the helper's KVM_RUN answers back (no kernel needed). What the
 * kernel answers is checked against the spec by the lab corpora (test/corpus-lab.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Outcome } from '../spec/ops.ts';
import { parseAnswer, planTrace } from '../src/backend/linux/wire.ts';

const PAGE = 4096;
const GPA = 0x100000;

describe('wire: vCPU-backed operations', () => {
  it('writes guest_access, pre_fault and guest_request_conversion as request lines', () => {
    const { lines } = planTrace([
      { op: 'guest_access', vm: 'vm0', gpa: GPA + 5, private: true },
      { op: 'guest_access', vm: 'vm0', gpa: GPA, private: false, write: 170 },
      { op: 'pre_fault', vm: 'vm0', gpa: GPA, size: 2 * PAGE },
      { op: 'pre_fault', vm: 'vm0', gpa: GPA, size: PAGE, flags: 1 },
      { op: 'guest_request_conversion', vm: 'vm0', gpa: GPA, size: PAGE, private: false },
    ]);
    expect(lines).toEqual([
      'guest_access vm=vm0 gpa=1048581 private=true',
      'guest_access vm=vm0 gpa=1048576 private=false write=170',
      'pre_fault vm=vm0 gpa=1048576 size=8192',
      'pre_fault vm=vm0 gpa=1048576 size=4096 flags=1',
      'guest_request_conversion vm=vm0 gpa=1048576 size=4096 private=false',
    ]);
  });

  it('rejects a guest write that is not a byte before it reaches the helper', () => {
    const { lines } = planTrace([{ op: 'guest_access', vm: 'vm0', gpa: GPA, private: false, write: 256 }]);
    expect(lines[0]).toMatch(/^reject invalid step steps\[0\]: write: expected a byte, got 256$/);
  });

  it('reads KVM_RUN answers back as exits; gpa, size and errno are not part of the outcome', () => {
    const cases: [string, Outcome | undefined][] = [
      ['exit MEMORY_FAULT private=true gpa=1048576 size=4096 errno=EFAULT', { exit: 'MEMORY_FAULT', private: true }],
      ['exit MEMORY_FAULT private=false gpa=0 size=4096 errno=EHWPOISON', { exit: 'MEMORY_FAULT', private: false }],
      ['exit MMIO', { exit: 'MMIO' }],
      ['access ok value=0', { access: 'ok', value: 0 }],
      ['ok ret=4096', { ok: true, ret: 4096 }],
      // malformed: not protocol
      ['exit MEMORY_FAULT private=maybe gpa=0 size=4096 errno=EFAULT', undefined],
      ['exit MEMORY_FAULT private=true', undefined],
      ['exit MEMORY_FAULT private=true gpa=0 size=4096 errno=EINVAL', undefined],
      ['exit HLT', undefined],
    ];
    for (const [body, outcome] of cases) expect(parseAnswer(body), body).toEqual(outcome);
  });
});
