/** /dev/kvm and VM-level operations: KVM_CHECK_EXTENSION, KVM_CREATE_VM. */
import { VM_TYPE, type VmTypeName } from '../constants.ts';
import { checkExtension, createVm } from '../rules/kvm.ts';
import { callIntoRet, fd, target, u64 } from './cSelftest.ts';
import { opSchema } from './fields.ts';
import type { OpModule } from './types.ts';
import { CAP_NAMES } from './words.ts';

export const checkExtensionSchema = opSchema('check_extension', [
  { name: 'on', type: { kind: 'kvm-or-handle' } },
  { name: 'cap', type: { kind: 'int' } },
]);

export const checkExtensionOp: OpModule<'check_extension'> = {
  ...checkExtensionSchema,
  summary: 'KVM_CHECK_EXTENSION on /dev/kvm or a VM fd',
  decide: checkExtension,
  checkList: { none: 'one condition (a closed or foreign VM fd); the answer is the capability table (spec/rules/caps.ts)' },
  createsHandle: false,
  pageAddress: { none: 'asks about the VM, no memory' },
  footprint: { reads: ['names', 'fds', 'vms'], writes: [] },
  phrase: (_p, s) => `KVM_CHECK_EXTENSION(${CAP_NAMES.get(Number(s.cap)) ?? `cap ${s.cap}`}) on ${s.on === 'kvm' ? '/dev/kvm' : s.on}`,
  edgeWord: (_p, s) => s.op,
  wireEnums: {},
  // Probe: the extension query the kernel answers without a VM (KVM_CAP_GUEST_MEMFD_FLAGS).
  probes: { kvm: { rank: 20, values: ({ s }) => (s.vms.length === 0 ? [{ op: 'check_extension', on: 'kvm', cap: 244 }] : []) } },
  cSelftest: {
    step: (s) => callIntoRet(`ioctl(${fd(s.on)}, KVM_CHECK_EXTENSION, ${CAP_NAMES.get(Number(s.cap)) ?? u64(s.cap)})`),
  },
};

export const createVmSchema = opSchema('create_vm', [
  { name: 'type', type: { kind: 'int-or-enum', values: Object.keys(VM_TYPE) as VmTypeName[] } },
]);

export const createVmOp: OpModule<'create_vm'> = {
  ...createVmSchema,
  summary: 'KVM_CREATE_VM with a VM type',
  decide: createVm,
  checkList: { none: 'one condition: the VM type is one the profile has' },
  createsHandle: true,
  pageAddress: { none: 'creates a VM' },
  footprint: { reads: [], writes: ['vms', 'fds', 'names'] },
  phrase: (_p, s) => `KVM_CREATE_VM(${typeof s.type === 'string' ? s.type : `type ${s.type}`})${s.as ? ` as ${s.as}` : ''}`,
  edgeWord: (_p, s) => `KVM_CREATE_VM(${String(s.type)})`,
  wireEnums: {
    type: {
      ...VM_TYPE,
      cca: {
        unsendable:
          'VM type "cca" has no confirmed kernel encoding (spec/constants.ts VM_TYPE.cca is a placeholder); not sent to the kernel',
      },
    },
  },
  // Moves: each VM type of the profile. Probe: an unknown type (99).
  probes: {
    kvm: {
      rank: 10,
      values: ({ profile, bound, s }) => [
        ...(s.vms.length < bound.vms
          ? (Object.keys(profile.vmTypes) as VmTypeName[]).map((type) => ({ op: 'create_vm' as const, type, as: `vm${s.vms.length}` }))
          : []),
        ...(s.vms.length === 0 ? [{ op: 'create_vm' as const, type: 99 }] : []),
      ],
    },
  },
  cSelftest: {
    step: (s) => {
      if (s.type === 'cca') return { unsupported: 'VM type cca has no kernel encoding' };
      const into = target(s.as);
      const type = typeof s.type === 'string' ? `${VM_TYPE[s.type]}` : u64(s.type);
      return { lines: [`${into} = ioctl(kvm_fd, KVM_CREATE_VM, ${type}UL);`, { assertResult: into }] };
    },
  },
};
