/** Confidential-computing platform flows: launch start/finish, populate, guest accesses, KVM_PRE_FAULT_MEMORY. */
import { launch } from '../rules/kvm.ts';
import { guestAccess, populate, populateChecks, populateContext, preFault } from '../rules/platform.ts';
import { handleField, intField } from './fields.ts';
import { PAGE } from './probes.ts';
import { type OpModule, checkList } from './types.ts';
import { bytesWords, hex } from './words.ts';

export const launchStartOp: OpModule<'launch_start'> = {
  name: 'launch_start',
  summary: 'the platform launch start (SNP LAUNCH_START, TDX INIT_VM, CCA Realm create)',
  fields: [handleField('vm')],
  decide: launch,
  checkList: { none: 'VM-fd checks, then the VM machine (machines/vm.ts) decides whether launch may start' },
  footprint: { reads: ['names', 'fds', 'vms'], writes: ['vms'] },
  phrase: (_p, s) => `launch start on ${s.vm}`,
  wireEnums: {},
  probes: {
    vm: { rank: 60, values: ({ platform, rules, vm }) => (platform && rules?.launch ? [{ op: 'launch_start', vm: vm.name }] : []) },
  },
};

export const launchFinishOp: OpModule<'launch_finish'> = {
  name: 'launch_finish',
  summary: 'the platform launch finish (SNP LAUNCH_FINISH, TDX FINALIZE_VM, CCA Realm activate)',
  fields: [handleField('vm')],
  decide: launch,
  checkList: { none: 'VM-fd checks, then the VM machine (machines/vm.ts) decides whether launch may finish' },
  footprint: { reads: ['names', 'fds', 'vms'], writes: ['vms'] },
  phrase: (_p, s) => `launch finish on ${s.vm}`,
  wireEnums: {},
  probes: {
    vm: { rank: 61, values: ({ platform, rules, vm }) => (platform && rules?.launch ? [{ op: 'launch_finish', vm: vm.name }] : []) },
  },
};

export const populateOp: OpModule<'populate'> = {
  name: 'populate',
  summary: 'populating private memory before launch (SNP LAUNCH_UPDATE, TDX INIT_MEM_REGION, RMI_POPULATE)',
  fields: [
    handleField('vm'),
    intField('gpa'),
    intField('size'),
    { name: 'source', type: { kind: 'enum', values: ['buffer', 'in_place'] } },
  ],
  decide: populate,
  checkList: checkList({ checks: populateChecks, context: populateContext }),
  footprint: { reads: ['names', 'fds', 'vms', 'gmems'], writes: ['gmems'] },
  phrase: (_p, s) =>
    `populate(${s.vm}, gpa ${hex(s.gpa)}, ${bytesWords(s.size)}, ${s.source === 'in_place' ? 'in place' : 'from a buffer'})`,
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
};

export const guestAccessOp: OpModule<'guest_access'> = {
  name: 'guest_access',
  summary: 'a guest load or store of one byte (KVM_RUN), private or shared',
  fields: [
    handleField('vm'),
    intField('gpa'),
    { name: 'private', type: { kind: 'bool' } },
    { name: 'write', type: { kind: 'byte' }, optional: true },
  ],
  decide: guestAccess,
  checkList: { none: 'the access faults by the page state: MEMORY_FAULT / MMIO exits decided by the rule' },
  // vms: the MMIO SPTEs KVM caches for slot-less GFNs (VmState.mmioGfns).
  footprint: { reads: ['names', 'fds', 'vms', 'gmems', 'maps'], writes: ['gmems', 'vms'] },
  phrase: (_p, s) =>
    `a guest ${s.write !== undefined ? `write of ${s.write}` : 'read'} (${s.private ? 'private' : 'shared'}) of gpa ${hex(s.gpa)} on ${s.vm}`,
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
};

export const preFaultOp: OpModule<'pre_fault'> = {
  name: 'pre_fault',
  summary: "KVM_PRE_FAULT_MEMORY on the VM's vCPU",
  fields: [handleField('vm'), intField('gpa'), intField('size'), intField('flags', true)],
  decide: preFault,
  checkList: { none: 'its ordered checks live in spec/rules/platform.ts (preFault); not yet published to the failure generator' },
  footprint: { reads: ['names', 'fds', 'vms', 'gmems', 'maps'], writes: ['gmems', 'vms'] },
  phrase: (_p, s) => `KVM_PRE_FAULT_MEMORY(${s.vm}'s vCPU, gpa ${hex(s.gpa)}, ${bytesWords(s.size)}${s.flags ? `, flags ${s.flags}` : ''})`,
  wireEnums: {},
  probes: { none: 'not yet explored: it needs a vCPU, and its refusals are covered by the lab corpus' },
};
