/** Confidential-computing platform flows: launch start/finish, populate, guest accesses, KVM_PRE_FAULT_MEMORY. */
import { launch } from '../rules/kvm.ts';
import { guestAccess, populate, populateChecks, populateContext, preFault } from '../rules/platform.ts';
import { handleField, intField } from './fields.ts';
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
};
