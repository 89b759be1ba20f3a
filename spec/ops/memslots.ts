/** Memslots: KVM_SET_USER_MEMORY_REGION2 (bind a guest_memfd range to guest physical memory), slot deletion. */
import { deleteMemslot, memoryRegionChecks, memoryRegionContext, setMemoryRegion2 } from '../rules/memslots.ts';
import { handleField, intField } from './fields.ts';
import type { MemslotFlag } from '../ops.ts';
import type { StepOf } from './fields.ts';
import { PAGE } from './probes.ts';
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
  probes: {
    // Move: bind a whole unbound file at a fresh GPA. Probes: an unaligned gmem offset; LOG_DIRTY with gmem; a
    // second binding of a bound file.
    vmGmem: {
      rank: 20,
      values: ({ s, bound, vm, v, g, nextSlot, size }) => {
        const at = (flags: MemslotFlag[], gmem_offset: number): StepOf<'set_memory_region2'> => ({
          op: 'set_memory_region2',
          vm: vm.name,
          slot: nextSlot,
          flags,
          gpa: 0x100000 * (nextSlot + 1),
          size,
          gmem: g.name,
          gmem_offset,
          uaddr: 0,
        });
        const isBound = (s.gmems[g.id]?.bindings.length ?? 0) > 0;
        return [
          ...(v.memslots.length < bound.slots && !isBound ? [at(['gmem'], 0)] : []),
          at(['gmem'], 1),
          at(['gmem', 'log_dirty'], 0),
          ...(isBound ? [at(['gmem'], 0)] : []),
        ];
      },
    },
    // Probe: a new slot over an existing slot's GPAs (after that slot's deletion probe).
    vmSlot: {
      rank: 31,
      values: ({ vm, gmems, slot, nextSlot, size }) => {
        const g = gmems[0];
        if (!g) return [];
        return [
          {
            op: 'set_memory_region2',
            vm: vm.name,
            slot: nextSlot,
            flags: ['gmem'],
            gpa: slot.gfn * PAGE,
            size,
            gmem: g.name,
            gmem_offset: 0,
            uaddr: 0,
          },
        ];
      },
    },
  },
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
  // Move: delete each slot. Probe: a slot that does not exist (7).
  probes: {
    vmSlot: { rank: 30, values: ({ vm, slot }) => [{ op: 'delete_memslot', vm: vm.name, slot: slot.slot }] },
    vm: { rank: 40, values: ({ vm }) => [{ op: 'delete_memslot', vm: vm.name, slot: 7 }] },
  },
};
