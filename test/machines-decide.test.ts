/**
 * The machines decide the state-dependent refusals (issue 13, "the machines are the source of truth"): a rule
 * asks its machine (World.vmAccepts, gmemAccepts, pageCan, pageEvent's answer) instead of restating a guard.
 *
 * Each case runs one trace twice: with the real machines, where the machine refuses and the rule reports its
 * check, and with that one guard changed in the machine (a mutant built from the machine's own definition, loaded
 * in place of machines/<name>.ts), where the rule follows the machine. A rule that still restated the guard would
 * give the same answer both times.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AnyStateMachine, initialTransition, transition } from 'xstate';
import { type PageEvent, UPSTREAM_PAGE_RULES, createPageMachine } from '../machines/page.ts';
import { type VmEvent, vmMachine } from '../machines/vm.ts';
import type { StepResult } from '../spec/step.ts';
import type { Step } from '../spec/ops.ts';

const PAGE = 4096;
const GPA = 0x100000;

type Transitions = Record<string, unknown>;

/** A copy of `machine` whose state at `path` (state keys from the root) takes `on` in place of its own `on`. */
async function withTransitions(machine: AnyStateMachine, path: readonly string[], on: (old: Transitions) => Transitions) {
  const { createMachine } = await import('xstate');
  type Node = { states?: Record<string, Node>; on?: Transitions };
  const patch = (node: Node, rest: readonly string[]): Node => {
    const [head, ...tail] = rest;
    if (head === undefined) return { ...node, on: on(node.on ?? {}) };
    const child = node.states?.[head];
    if (!child) throw new Error(`no state ${head} in the machine under test`);
    return { ...node, states: { ...node.states, [head]: patch(child, tail) } };
  };
  return createMachine(patch(machine.config as Node, path) as never, machine.implementations as never);
}

type Mutant = {
  module: 'vm' | 'page';
  build: (actual: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>;
};

/** The trace's step results with the real machines, or with `mutant` loaded in place of its module. */
async function predict(profile: string, steps: readonly Step[], mutant?: Mutant): Promise<StepResult[]> {
  vi.resetModules();
  if (mutant) {
    const path = `../machines/${mutant.module}.ts`;
    vi.doMock(path, async (importOriginal) => mutant.build(await importOriginal<Record<string, unknown>>()));
  }
  const { predictTrace } = await import('../spec/compare.ts');
  const { getProfile } = await import('../spec/profiles/index.ts');
  return predictTrace(getProfile(profile), steps);
}

afterEach(() => {
  vi.doUnmock('../machines/vm.ts');
  vi.doUnmock('../machines/page.ts');
});

/** The vm machine with its launch region's `state` given the extra transitions `extra`. */
const vmMutant = (state: string, extra: Transitions): Mutant => ({
  module: 'vm',
  build: async (actual) => ({
    ...actual,
    vmMachine: await withTransitions(actual.vmMachine as AnyStateMachine, ['launch', state], (on) => ({ ...on, ...extra })),
  }),
});

/** The page machine of every profile with the named guards replaced. */
const pageMutant = (guards: Record<string, () => boolean>): Mutant => ({
  module: 'page',
  build: (actual) => ({
    ...actual,
    createPageMachine: (rules: unknown) =>
      (actual.createPageMachine as (r: unknown) => AnyStateMachine)(rules).provide({ guards } as never),
  }),
});

const decided = (r: StepResult | undefined) => [r?.rule.id, r?.outcome];

const snp: Step[] = [
  { op: 'create_vm', type: 'snp', as: 'vm0' },
  { op: 'create_gmem', vm: 'vm0', size: 2 * PAGE, flags: 0, as: 'g0' },
  { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: 0, size: 2 * PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
  { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: 2 * PAGE, attributes: 8 },
] as Step[];

describe('the vm machine decides the launch phase', () => {
  it('LAUNCH_FINISH before LAUNCH_START: refused by the launch region (wrong-phase), taken when the machine allows it', async () => {
    const trace = [...snp, { op: 'launch_finish', vm: 'vm0' }] as Step[];
    expect(decided((await predict('sev-snp', trace))[4])).toEqual(['launch_finish.wrong-phase', { errno: 'EINVAL' }]);
    const mutant = vmMutant('none', { LAUNCH_FINISH: { target: 'finished' } });
    const r = await predict('sev-snp', trace, mutant);
    expect(decided(r[4])).toEqual(['launch_finish.ok', { ok: true }]);
    expect(r[4]?.state.vms[0]?.launch).toBe('finished');
  });

  it('populate before the launch starts: refused by the launch region (POPULATE), accepted when it allows it', async () => {
    const trace = [...snp, { op: 'populate', vm: 'vm0', gpa: 0, size: PAGE, source: 'buffer' }] as Step[];
    expect(decided((await predict('sev-snp', trace))[4])).toEqual(['populate.not-launching', { errno: 'EINVAL' }]);
    const r = await predict('sev-snp', trace, vmMutant('none', { POPULATE: { target: 'none' } }));
    expect(decided(r[4])).toEqual(['populate.ok', { ok: true }]);
  });

  it('a guest access and a pre-fault before the launch finishes: refused by RUN, run when the machine lets the vCPU run', async () => {
    const trace = [
      ...snp,
      { op: 'launch_start', vm: 'vm0' },
      { op: 'guest_access', vm: 'vm0', gpa: 0, private: true },
      { op: 'pre_fault', vm: 'vm0', gpa: 0, size: PAGE },
    ] as Step[];
    const real = await predict('sev-snp', trace);
    expect([decided(real[5]), decided(real[6])]).toEqual([
      ['guest_access.not-launched', { errno: 'EINVAL' }],
      ['pre_fault.not-allowed', { errno: 'EOPNOTSUPP' }],
    ]);
    const r = await predict('sev-snp', trace, vmMutant('started', { RUN: { target: 'started' } }));
    expect(r[5]?.rule.id).toBe('guest_access.read');
    // Past the launch check the pre-fault meets the fault path: a pre-fault is a shared access, the GFN is private.
    expect(decided(r[6])).toEqual(['pre_fault.attribute-mismatch', { errno: 'EFAULT' }]);
  });
});

describe('the page machine decides populate and conversion refusals', () => {
  it('populating a page twice: the page machine refuses POPULATE once its trusted entity holds the page', async () => {
    const populate = { op: 'populate', vm: 'vm0', gpa: 0, size: PAGE, source: 'buffer' } as Step;
    const trace = [...snp, { op: 'launch_start', vm: 'vm0' }, populate, populate] as Step[];
    expect(decided((await predict('sev-snp', trace))[6])).toEqual(['populate.already-prepared', { errno: 'EEXIST' }]);
    const r = await predict('sev-snp', trace, pageMutant({ populatable: () => true }));
    expect(decided(r[6])).toEqual(['populate.ok', { ok: true }]);
  });

  it('a private fault on a page with bytes: the rule says the trusted entity took it only when the page machine did', async () => {
    // Written while shared, converted in place, faulted in private by the guest (content-semantics.test.ts).
    const trace = [
      { op: 'create_vm', type: 'snp', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 3, as: 'g0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: PAGE, prot: 'rw', shared: true, as: 'm0' },
      { op: 'write_mem', map: 'm0', offset: 5, value: 66 },
      { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 },
      { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: GPA, size: PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
      { op: 'launch_start', vm: 'vm0' },
      { op: 'launch_finish', vm: 'vm0' },
      { op: 'guest_access', vm: 'vm0', gpa: GPA + 5, private: true },
    ] as Step[];
    const real = await predict('inplace-conversion', trace);
    expect(real[8]?.rule.id).toBe('guest_access.read-taken');
    expect(real[8]?.state.gmems[0]?.pages['0']?.trustedEntity).toBe('prepared');
    const r = await predict('inplace-conversion', trace, pageMutant({ trustedEntityPrepares: () => false }));
    expect(decided(r[8])).toEqual(['guest_access.read', { access: 'ok', value: 66 }]);
    expect(r[8]?.state.gmems[0]?.pages['0']?.trustedEntity).toBe('unprepared');
  });

  it('converting a private page to private again: the page machine refuses CONVERT_BEGIN, so its stage-2 mapping stays', async () => {
    const trace = [
      { op: 'create_vm', type: 'snp', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 1, as: 'g0' },
      { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: GPA, size: PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
      { op: 'launch_start', vm: 'vm0' },
      { op: 'launch_finish', vm: 'vm0' },
      { op: 'guest_access', vm: 'vm0', gpa: GPA, private: true },
      { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 },
    ] as Step[];
    const real = await predict('inplace-conversion', trace);
    expect(real.map((x) => x.rule.id).slice(5)).toEqual(['guest_access.read', 'set_memory_attributes2.private']);
    expect(real[6]?.state.gmems[0]?.pages['0']?.stage2).toBe('private');
    const r = await predict('inplace-conversion', trace, pageMutant({ startsConversion: () => true }));
    expect(r[6]?.rule.id).toBe('set_memory_attributes2.private');
    expect(r[6]?.state.gmems[0]?.pages['0']?.stage2).toBe('none');
  });
});

describe('what the machines answer (the guards the rules now ask about)', () => {
  it('the vm launch region: POPULATE only while started; RUN at any time without a launch flow, with one once finished', () => {
    let [s] = initialTransition(vmMachine);
    const can = (e: VmEvent) => s.can(e);
    const answers = () => [can({ type: 'POPULATE' }), can({ type: 'RUN', launchFlow: true }), can({ type: 'RUN', launchFlow: false })];
    expect(answers()).toEqual([false, false, true]);
    [s] = transition(vmMachine, s, { type: 'LAUNCH_START' });
    expect(answers()).toEqual([true, false, true]);
    [s] = transition(vmMachine, s, { type: 'LAUNCH_FINISH' });
    expect(answers()).toEqual([false, true, true]);
    expect(transition(vmMachine, s, { type: 'RUN', launchFlow: true })[0].value).toEqual(s.value);
  });

  it('the page machine: POPULATE refused once the trusted entity holds the page; CONVERT_BEGIN only where a conversion starts', () => {
    const m = createPageMachine({ ...UPSTREAM_PAGE_RULES, trustedEntityPrepares: true });
    const pageAfter = (events: PageEvent[]) => {
      let [s] = initialTransition(m, { initShared: false });
      for (const e of events) [s] = transition(m, s, e);
      return s;
    };
    expect(pageAfter([]).can({ type: 'POPULATE' })).toBe(true);
    expect(pageAfter([{ type: 'POPULATE' }]).can({ type: 'POPULATE' })).toBe(false);
    expect(pageAfter([{ type: 'GUEST_MAP', private: true }]).can({ type: 'POPULATE', value: 1 })).toBe(false);
    // A private page the guest maps: converting it to private again starts nothing (its stage-2 mapping stays).
    const mapped = pageAfter([{ type: 'GUEST_MAP', private: true }]);
    expect(mapped.can({ type: 'CONVERT_BEGIN', to: 'private' })).toBe(false);
    expect(mapped.can({ type: 'CONVERT_BEGIN', to: 'shared' })).toBe(true);
    // A page the guest maps while it waits in transition: a second request does not start it again.
    const converting = pageAfter([
      { type: 'GUEST_MAP', private: true },
      { type: 'CONVERT_BEGIN', to: 'shared' },
      { type: 'GUEST_MAP', private: false },
    ]);
    expect(converting.can({ type: 'CONVERT_BEGIN', to: 'shared' })).toBe(false);
  });
});
