/** Confidential-computing platform flows: launch start/finish, populate, guest accesses, KVM_PRE_FAULT_MEMORY. */
import { launch } from '../rules/kvm.ts';
import { guestAccess, populate, populateChecks, populateContext, preFault } from '../rules/platform.ts';
import { NEEDS_A_VCPU } from './cSelftest.ts';
import { handleField, intField, opSchema } from './fields.ts';
import { PAGE } from './probes.ts';
import type { Profile, VmTypeRules } from '../profile.ts';
import { type Footprint, type OpModule, checkList } from './types.ts';
import { bytesWords, hex, launchName, populateName } from './words.ts';

export const launchStartSchema = opSchema('launch_start', [handleField('vm')]);
export const launchFinishSchema = opSchema('launch_finish', [handleField('vm')]);

/** What launch start and finish share: one rule (launch), the VM machine (machines/vm.ts) decides by the phase. */
function launchFacets(phase: 'start' | 'finish', platformCalls: string) {
  return {
    summary: `the platform launch ${phase} (${platformCalls})`,
    decide: launch,
    checkList: { none: `VM-fd checks, then the VM machine (machines/vm.ts) decides whether launch may ${phase}` },
    footprint: { reads: ['names', 'fds', 'vms'], writes: ['vms'] } satisfies Footprint,
    createsHandle: false,
    pageAddress: { none: `launch ${phase} acts on the whole VM` },
    phrase: (_p: Profile, s: { vm: string }) => `launch ${phase} on ${s.vm}`,
    edgeWord: (_p: Profile, _s: unknown, r: VmTypeRules | undefined) => launchName(r, phase),
    wireEnums: {},
    cSelftest: { none: NEEDS_A_VCPU },
  };
}

export const launchStartOp: OpModule<'launch_start'> = {
  ...launchStartSchema,
  ...launchFacets('start', 'SNP LAUNCH_START, TDX INIT_VM, CCA Realm create'),
  probes: {
    vm: { rank: 60, values: ({ platform, rules, vm }) => (platform && rules?.launch ? [{ op: 'launch_start', vm: vm.name }] : []) },
  },
};

export const launchFinishOp: OpModule<'launch_finish'> = {
  ...launchFinishSchema,
  ...launchFacets('finish', 'SNP LAUNCH_FINISH, TDX FINALIZE_VM, CCA Realm activate'),
  probes: {
    vm: { rank: 61, values: ({ platform, rules, vm }) => (platform && rules?.launch ? [{ op: 'launch_finish', vm: vm.name }] : []) },
  },
};

export const populateSchema = opSchema('populate', [
  handleField('vm'),
  intField('gpa'),
  intField('size'),
  { name: 'source', type: { kind: 'enum', values: ['buffer', 'in_place'] } },
]);

export const populateOp: OpModule<'populate'> = {
  ...populateSchema,
  summary: 'populating private memory before launch (SNP LAUNCH_UPDATE, TDX INIT_MEM_REGION, RMI_POPULATE)',
  decide: populate,
  checkList: checkList({ checks: populateChecks, context: populateContext }),
  createsHandle: false,
  pageAddress: { via: 'gpa', vm: 'vm', gpa: 'gpa', size: 'size' },
  footprint: { reads: ['names', 'fds', 'vms', 'gmems'], writes: ['gmems'] },
  phrase: (_p, s) =>
    `populate(${s.vm}, gpa ${hex(s.gpa)}, ${bytesWords(s.size)}, ${s.source === 'in_place' ? 'in place' : 'from a buffer'})`,
  edgeWord: (_p, s, r) => `${r ? populateName(r) : 'populate'}${s.source === 'in_place' ? ' (in place)' : ''}`,
  wireEnums: {},
  // Each bound page, from the source the platform populates from.
  probes: {
    vmPage: {
      rank: 70,
      values: ({ platform, rules, vm, gpa }) =>
        platform && rules && rules.populate !== 'none'
          ? [{ op: 'populate', vm: vm.name, gpa, size: PAGE, source: rules.conversion === 'in-place' ? 'in_place' : 'buffer' }]
          : [],
    },
  },
  cSelftest: { none: NEEDS_A_VCPU },
};

/**
 * A guest (vCPU) access to a GPA. `private` is the access's own private-ness where the platform takes it from
 * the access (SNP C-bit, TDX shared bit, CCA IPA half, pKVM); where KVM derives it from the GFN's attribute
 * (SW_PROTECTED, default VM) the field is ignored. `write`: the byte a store writes (a load without it).
 */
export const guestAccessSchema = opSchema('guest_access', [
  handleField('vm'),
  intField('gpa'),
  { name: 'private', type: { kind: 'bool' } },
  { name: 'write', type: { kind: 'byte' }, optional: true },
]);

export const guestAccessOp: OpModule<'guest_access'> = {
  ...guestAccessSchema,
  summary: 'a guest load or store of one byte (KVM_RUN), private or shared',
  decide: guestAccess,
  checkList: { none: 'the access faults by the page state: MEMORY_FAULT / MMIO exits decided by the rule' },
  // vms: the MMIO SPTEs KVM caches for slot-less GFNs (VmState.mmioGfns).
  createsHandle: false,
  pageAddress: { via: 'gpa', vm: 'vm', gpa: 'gpa', size: { none: 'one access: any byte of the page names it' } },
  footprint: { reads: ['names', 'fds', 'vms', 'gmems', 'maps'], writes: ['gmems', 'vms'] },
  phrase: (_p, s) =>
    `a guest ${s.write !== undefined ? `write of ${s.write}` : 'read'} (${s.private ? 'private' : 'shared'}) of gpa ${hex(s.gpa)} on ${s.vm}`,
  edgeWord: (_p, s) => `guest ${s.write !== undefined ? 'write' : 'access'} (${s.private ? 'private' : 'shared'})`,
  wireEnums: {},
  // A private and a shared access to each bound page, on platforms with private memory (and, where conversion is
  // in place, a private guest write of 2).
  probes: {
    vmPage: {
      rank: 71,
      values: ({ platform, rules, vm, gpa }) =>
        platform && rules
          ? [
              { op: 'guest_access', vm: vm.name, gpa, private: true },
              // In place the guest's bytes can reach the host: a private write of its own value (2, where the host
              // writes 1), read by the host after conversion to shared, shows the platform's content semantics
              // (spec/rules/content.ts) in the state graph, so the generated suites hold that round trip.
              ...(rules.hasPrivateMem && rules.conversion === 'in-place'
                ? [{ op: 'guest_access' as const, vm: vm.name, gpa, private: true, write: 2 }]
                : []),
              { op: 'guest_access', vm: vm.name, gpa, private: false },
            ]
          : [],
    },
  },
  cSelftest: { none: NEEDS_A_VCPU },
};

/**
 * KVM_PRE_FAULT_MEMORY on the VM's vCPU: map [gpa, gpa+size) into the guest's stage-2 ahead of its accesses.
 * Success carries `ret`: the bytes of the range not pre-faulted (the kernel's leftover `size`).
 */
export const preFaultSchema = opSchema('pre_fault', [handleField('vm'), intField('gpa'), intField('size'), intField('flags', true)]);

export const preFaultOp: OpModule<'pre_fault'> = {
  ...preFaultSchema,
  summary: "KVM_PRE_FAULT_MEMORY on the VM's vCPU",
  decide: preFault,
  checkList: { none: 'its ordered checks live in spec/rules/platform.ts (preFault); not yet published to the failure generator' },
  createsHandle: false,
  pageAddress: { none: 'never explored (needs a vCPU)' },
  footprint: { reads: ['names', 'fds', 'vms', 'gmems', 'maps'], writes: ['gmems', 'vms'] },
  phrase: (_p, s) => `KVM_PRE_FAULT_MEMORY(${s.vm}'s vCPU, gpa ${hex(s.gpa)}, ${bytesWords(s.size)}${s.flags ? `, flags ${s.flags}` : ''})`,
  edgeWord: (_p, s) => s.op,
  wireEnums: {},
  probes: { none: 'not yet explored: it needs a vCPU, and its refusals are covered by the lab corpus' },
  cSelftest: { none: NEEDS_A_VCPU },
};
