/** Memslots: KVM_SET_USER_MEMORY_REGION2 (bind a guest_memfd range to guest physical memory), slot deletion. */
import { deleteMemslot, memoryRegionChecks, memoryRegionContext, setMemoryRegion2 } from '../rules/memslots.ts';
import { handleField, intField } from './fields.ts';
import { type OpModule, checkList } from './types.ts';
import { bytesWords, hex, memslotFlags, offsetWords } from './words.ts';

export const setMemoryRegion2Op: OpModule<'set_memory_region2'> = {
  name: 'set_memory_region2',
  summary: 'KVM_SET_USER_MEMORY_REGION2 on a VM fd',
  fields: [
    handleField('vm'),
    intField('slot'),
    { name: 'flags', type: { kind: 'memslot-flags' } },
    intField('gpa'),
    intField('size'),
    { name: 'gmem', type: { kind: 'handle' }, optional: true },
    intField('gmem_offset', true),
    { name: 'uaddr', type: { kind: 'uaddr' } },
  ],
  decide: setMemoryRegion2,
  checkList: checkList({ checks: () => memoryRegionChecks(), context: memoryRegionContext }),
  footprint: { reads: ['names', 'fds', 'vms', 'gmems', 'maps'], writes: ['vms', 'gmems'] },
  phrase: (_p, s) => {
    const uaddr = typeof s.uaddr === 'object' ? `${s.uaddr.map}+${s.uaddr.offset}` : hex(s.uaddr);
    const g = s.gmem !== undefined ? `, ${s.gmem} at ${offsetWords(s.gmem_offset ?? 0)}` : '';
    return `KVM_SET_USER_MEMORY_REGION2(${s.vm}, slot ${s.slot}, ${memslotFlags(s.flags)}, gpa ${hex(s.gpa)}, ${bytesWords(s.size)}${g}, uaddr ${uaddr})`;
  },
  wireEnums: {},
};

export const deleteMemslotOp: OpModule<'delete_memslot'> = {
  name: 'delete_memslot',
  summary: 'KVM_SET_USER_MEMORY_REGION2 with memory_size 0: delete a slot',
  fields: [handleField('vm'), intField('slot')],
  decide: deleteMemslot,
  checkList: { none: 'the VM-fd checks and a missing slot, decided by the rule (spec/rules/memslots.ts)' },
  footprint: { reads: ['names', 'fds', 'vms'], writes: ['vms', 'gmems'] },
  phrase: (_p, s) => `deleting memslot ${s.slot} of ${s.vm}`,
  wireEnums: {},
};
