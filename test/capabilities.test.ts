/**
 * KVM_CHECK_EXTENSION (issue 12, item 7): the capabilities a VMM queries around guest_memfd are modelled per
 * profile, from measurements where there are any (docs/kernel-observations.md for the kernel here,
 * kernel-lab.md for the 7.3 lab kernel); any other capability is "not modelled": no prediction, not compared,
 * counted apart by check-trace and conform.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareTrace } from '../spec/compare.ts';
import { KVM_CAP, type VmTypeName } from '../spec/constants.ts';
import type { Outcome, Step, Trace } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { parseTrace } from '../spec/trace.ts';
import { ReferenceBackend } from '../src/backend/reference.ts';
import type { Backend, TraceRun } from '../src/backend/types.ts';
import { formatHuman, formatJson, formatJunit, formatTap } from '../src/conform/format.ts';
import { runSuite } from '../src/conform/runner.ts';
import { emitC } from '../src/generate/emitC.ts';
import { materialiseSteps } from '../src/generate/materialise.ts';

/** What check_extension predicts on /dev/kvm, or on a fresh VM of `type`. */
function cap(profile: string, n: number, type?: VmTypeName): Outcome {
  const p = getProfile(profile);
  if (type === undefined) return step(p, emptySystem(), { op: 'check_extension', on: 'kvm', cap: n }).outcome;
  const vm = step(p, emptySystem(), { op: 'create_vm', type, as: 'vm0' } as Step);
  return step(p, vm.state, { op: 'check_extension', on: 'vm0', cap: n }).outcome;
}
const ret = (v: number): Outcome => ({ ok: true, ret: v });

describe('the capabilities of the kernel here (linux-6.18, docs/kernel-observations.md)', () => {
  it.each([
    ['NR_MEMSLOTS', KVM_CAP.NR_MEMSLOTS, 32764],
    ['READONLY_MEM', KVM_CAP.READONLY_MEM, 1],
    ['MULTI_ADDRESS_SPACE', KVM_CAP.MULTI_ADDRESS_SPACE, 0],
    ['EXIT_HYPERCALL', KVM_CAP.EXIT_HYPERCALL, 4096],
    ['USER_MEMORY2', KVM_CAP.USER_MEMORY2, 1],
    ['MEMORY_FAULT_INFO', KVM_CAP.MEMORY_FAULT_INFO, 1],
    ['MEMORY_ATTRIBUTES', KVM_CAP.MEMORY_ATTRIBUTES, 0],
    ['GUEST_MEMFD', KVM_CAP.GUEST_MEMFD, 1],
    ['VM_TYPES', KVM_CAP.VM_TYPES, 1],
    ['PRE_FAULT_MEMORY', KVM_CAP.PRE_FAULT_MEMORY, 0],
    ['GUEST_MEMFD_FLAGS', KVM_CAP.GUEST_MEMFD_FLAGS, 3],
  ])('KVM_CAP_%s (%i) = %i, on /dev/kvm and on a VM', (_name, n, v) => {
    expect(cap('linux-6.18', n)).toEqual(ret(v));
    expect(cap('linux-6.18', n, 'default')).toEqual(ret(v));
  });
});

describe('an x86 host with SMM, TDP and KVM_SW_PROTECTED_VM (sw-protected) answers what the 7.3 lab kernel measured (kernel-lab.md)', () => {
  it.each([
    ['VM_TYPES', KVM_CAP.VM_TYPES, 0x3],
    ['MEMORY_ATTRIBUTES', KVM_CAP.MEMORY_ATTRIBUTES, 8],
    ['GUEST_MEMFD_FLAGS', KVM_CAP.GUEST_MEMFD_FLAGS, 3],
    ['PRE_FAULT_MEMORY', KVM_CAP.PRE_FAULT_MEMORY, 1],
    ['MULTI_ADDRESS_SPACE', KVM_CAP.MULTI_ADDRESS_SPACE, 2],
    ['NR_MEMSLOTS', KVM_CAP.NR_MEMSLOTS, 32764],
  ])('KVM_CAP_%s = %i on /dev/kvm', (_name, n, v) => {
    expect(cap('sw-protected', n)).toEqual(ret(v));
  });
});

describe('per VM type and architecture', () => {
  it('READONLY_MEM: 1 on /dev/kvm and for SEV, 0 for VMs with protected state (SEV-ES, SNP, TDX)', () => {
    expect(cap('sev-snp', KVM_CAP.READONLY_MEM)).toEqual(ret(1));
    expect(cap('sev-snp', KVM_CAP.READONLY_MEM, 'sev')).toEqual(ret(1));
    expect(cap('sev-snp', KVM_CAP.READONLY_MEM, 'sev_es')).toEqual(ret(0));
    expect(cap('sev-snp', KVM_CAP.READONLY_MEM, 'snp')).toEqual(ret(0));
    expect(cap('tdx', KVM_CAP.READONLY_MEM, 'tdx')).toEqual(ret(0));
  });

  it('MULTI_ADDRESS_SPACE: a VM with private memory has no SMM address space', () => {
    expect(cap('sw-protected', KVM_CAP.MULTI_ADDRESS_SPACE, 'default')).toEqual(ret(2));
    expect(cap('sw-protected', KVM_CAP.MULTI_ADDRESS_SPACE, 'sw_protected')).toEqual(ret(1));
  });

  it('arm64: 32767 memslots (no internal slots), no VM_TYPES; MEMORY_FAULT_INFO and PRE_FAULT_MEMORY unconfirmed, so not modelled', () => {
    expect(cap('pkvm', KVM_CAP.NR_MEMSLOTS)).toEqual(ret(32767));
    expect(cap('arm-cca', KVM_CAP.VM_TYPES)).toEqual(ret(0));
    expect(cap('pkvm', KVM_CAP.MEMORY_FAULT_INFO)).toMatchObject({ not_modelled: expect.stringMatching(/x86 only/) });
    expect(cap('arm-cca', KVM_CAP.PRE_FAULT_MEMORY)).toMatchObject({ not_modelled: expect.stringMatching(/unconfirmed/) });
  });

  it('in-place conversion answers its attribute cap on a VM with in-place private memory only', () => {
    expect(cap('inplace-conversion', 250, 'sw_protected')).toEqual(ret(8));
    expect(cap('inplace-conversion', 250, 'default')).toEqual(ret(0));
  });
});

describe('a capability the spec does not model', () => {
  it.each(['linux-6.18', 'sev-snp', 'pkvm', 'hugetlb'])('%s: KVM_CAP_IRQCHIP (0) and 12345 are not modelled (not guessed as 0)', (p) => {
    expect(cap(p, 0)).toMatchObject({ not_modelled: expect.stringMatching(/^KVM_CHECK_EXTENSION\(0\) is not modelled/) });
    expect(cap(p, 12345, 'default')).toMatchObject({ not_modelled: expect.stringMatching(/not modelled/) });
  });

  const trace: Trace = parseTrace(
    JSON.stringify({
      format: 'gmem-trace/1',
      profile: 'linux-6.18',
      name: 'caps',
      steps: [
        { op: 'check_extension', on: 'kvm', cap: 31, observed: { ok: true, ret: 1 } },
        { op: 'check_extension', on: 'kvm', cap: 0, observed: { ok: true, ret: 1 } },
        { op: 'check_extension', on: 'kvm', cap: 234, observed: { ok: true, ret: 1 } },
      ],
    }),
  );

  it('check-trace compares the modelled ones and counts the other apart (neither agreement nor divergence)', () => {
    const c = compareTrace(getProfile('linux-6.18'), trace.steps);
    expect(c.divergence).toBeUndefined();
    expect(c.checked).toBe(2);
    expect(c.notModelled.map((n) => n.path)).toEqual([[1]]);
  });

  /** A kernel that says 1 for every capability. */
  class AllOnes implements Backend {
    readonly name = 'all-ones';
    async capabilities() {
      return new ReferenceBackend(getProfile('linux-6.18')).capabilities();
    }
    async run(t: Trace): Promise<TraceRun> {
      return { outcomes: t.steps.map(() => ({ ok: true, ret: 1 })) };
    }
    async close() {}
  }

  it('conform passes the trace and reports the step as not modelled in every format', async () => {
    const [r] = await runSuite(new AllOnes(), getProfile('linux-6.18'), [{ name: 'caps', path: 'caps.json', trace }]);
    expect(r?.passed).toBe(true);
    expect(r?.notModelled).toHaveLength(1);
    const h = { backend: 'all-ones', profile: 'linux-6.18', detectedFrom: 'test' };
    const results = r ? [r] : [];
    expect(formatHuman(h, results, new Map())).toMatch(
      /not modelled, not compared: step 2: .*observed ok, ret 1[\s\S]*1 passed, 0 failed \(3 steps; 1 not modelled, not compared\)/,
    );
    expect(JSON.parse(formatJson(h, results))).toMatchObject({ passed: 1, failed: 0, notModelled: 1 });
    expect(formatJunit(h, results, new Map())).toMatch(/<system-out>not modelled, not compared: step 2/);
    expect(formatTap(h, results, new Map())).toMatch(/# 1 passed, 0 failed, 1 step\(s\) not modelled, not compared/);
  });
});

describe('a generated C selftest with a step the spec does not model', () => {
  const gcc = spawnSync('gcc', ['--version']).status === 0;
  if (!gcc) console.log('SKIP: no gcc (the generated C is not compiled)');

  it.skipIf(!gcc)('runs the call, compares nothing, and still builds with gcc -Wall -Werror', () => {
    const profile = getProfile('linux-6.18');
    const steps = [
      { op: 'check_extension', on: 'kvm', cap: 0 },
      { op: 'check_extension', on: 'kvm', cap: KVM_CAP.GUEST_MEMFD },
    ] as Step[];
    const t = materialiseSteps(profile, steps, [], {
      suite: 'failures',
      file: 'traces/failures/x.json',
      name: 'caps',
      title: 'caps',
      description: 'caps',
      groups: [{ from: 0, to: 2, title: 'caps' }],
    });
    const c = emitC(profile, new Map([['failures', [t]]]), 'test');
    const [file, text] = [...c.files].find(([k]) => k.endsWith('.c')) ?? ['', ''];
    expect(text).toMatch(/\(void\)\(.*\); \/\* not modelled, not compared: KVM_CHECK_EXTENSION\(0\) is not modelled/);
    expect(text).toMatch(/ASSERT_EQ\(1, /);
    const dir = mkdtempSync(join(tmpdir(), 'gmem-caps-'));
    try {
      writeFileSync(join(dir, 'caps.c'), text);
      // The UAPI and harness every generated C file includes, written beside it once per suite folder.
      writeFileSync(join(dir, 'gmem_test.h'), c.files.get('c/gmem_test.h') ?? '');
      const r = spawnSync('gcc', ['-Wall', '-Werror', '-o', join(dir, 'caps'), join(dir, 'caps.c')], { encoding: 'utf8' });
      expect(r.status, `${file}: ${r.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
