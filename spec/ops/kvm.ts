/** /dev/kvm and VM-level operations: KVM_CHECK_EXTENSION, KVM_CREATE_VM. */
import { VM_TYPE } from '../constants.ts';
import { checkExtension, createVm } from '../rules/kvm.ts';
import type { OpModule } from './types.ts';
import { CAP_NAMES } from './words.ts';

export const checkExtensionOp: OpModule<'check_extension'> = {
  name: 'check_extension',
  summary: 'KVM_CHECK_EXTENSION on /dev/kvm or a VM fd',
  fields: [
    { name: 'on', type: { kind: 'kvm-or-handle' } },
    { name: 'cap', type: { kind: 'int' } },
  ],
  decide: checkExtension,
  checkList: { none: 'one condition (a closed or foreign VM fd); the answer is the capability table (spec/rules/caps.ts)' },
  footprint: { reads: ['names', 'fds', 'vms'], writes: [] },
  phrase: (_p, s) => `KVM_CHECK_EXTENSION(${CAP_NAMES.get(Number(s.cap)) ?? `cap ${s.cap}`}) on ${s.on === 'kvm' ? '/dev/kvm' : s.on}`,
  wireEnums: {},
};

export const createVmOp: OpModule<'create_vm'> = {
  name: 'create_vm',
  summary: 'KVM_CREATE_VM with a VM type',
  fields: [{ name: 'type', type: { kind: 'int-or-enum', values: Object.keys(VM_TYPE) } }],
  decide: createVm,
  checkList: { none: 'one condition: the VM type is one the profile has' },
  footprint: { reads: [], writes: ['vms', 'fds', 'names'] },
  phrase: (_p, s) => `KVM_CREATE_VM(${typeof s.type === 'string' ? s.type : `type ${s.type}`})${s.as ? ` as ${s.as}` : ''}`,
  wireEnums: {
    type: {
      ...VM_TYPE,
      cca: {
        unsendable:
          'VM type "cca" has no confirmed kernel encoding (spec/constants.ts VM_TYPE.cca is a placeholder); not sent to the kernel',
      },
    },
  },
};
