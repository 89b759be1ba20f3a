/** Memslots: KVM_SET_USER_MEMORY_REGION2 (bind a guest_memfd range to guest physical memory), slot deletion. */
import { KVM_MEM } from '../constants.ts';
import type { Int, MemslotFlag, SetMemoryRegion2Op } from '../ops.ts';
import { deleteMemslot, memoryRegionChecks, memoryRegionContext, memslotFlagBits, setMemoryRegion2 } from '../rules/memslots.ts';
import { addr, callIntoRet, fd, u64 } from './cSelftest.ts';
import { handleField, intField, opSchema } from './fields.ts';
import type { StepOf } from './fields.ts';
import { PAGE } from './probes.ts';
import { type OpModule, checkList } from './types.ts';
import { big, bytesWords, hex, memslotFlags, offsetWords } from './words.ts';

/** A slot number as the u32 the UAPI holds. */
const cSlot = (slot: Int): string => u64(BigInt.asUintN(32, big(slot)));

/** The designated initialisers of a `struct kvm_userspace_memory_region2` for the step. */
function cRegion(s: SetMemoryRegion2Op): string {
  const flags = memslotFlagBits(s.flags);
  const names: string[] = [];
  if (flags & KVM_MEM.LOG_DIRTY_PAGES) names.push('KVM_MEM_LOG_DIRTY_PAGES');
  if (flags & KVM_MEM.READONLY) names.push('KVM_MEM_READONLY');
  if (flags & KVM_MEM.GUEST_MEMFD) names.push('KVM_MEM_GUEST_MEMFD');
  const rest = flags & ~(KVM_MEM.LOG_DIRTY_PAGES | KVM_MEM.READONLY | KVM_MEM.GUEST_MEMFD);
  if (rest) names.push(`0x${rest.toString(16)}`);
  const uaddr = typeof s.uaddr === 'object' ? `(uint64_t)(uintptr_t)${addr(s.uaddr.map, s.uaddr.offset)}` : u64(s.uaddr);
  const fields = [
    `.slot = ${cSlot(s.slot)}`,
    `.flags = ${names.join(' | ') || '0'}`,
    `.guest_phys_addr = ${u64(s.gpa)}`,
    `.memory_size = ${u64(s.size)}`,
    `.userspace_addr = ${uaddr}`,
  ];
  if (s.gmem_offset !== undefined) fields.push(`.guest_memfd_offset = ${u64(s.gmem_offset)}`);
  if (s.gmem !== undefined) fields.push(`.guest_memfd = (uint32_t)${fd(s.gmem)}`);
  return fields.join(', ');
}

const setRegion2 = (vm: string, region: string): string =>
  `ioctl(${fd(vm)}, KVM_SET_USER_MEMORY_REGION2, &(struct kvm_userspace_memory_region2){ ${region} })`;

export const setMemoryRegion2Schema = opSchema('set_memory_region2', [
  handleField('vm'),
  intField('slot'),
  { name: 'flags', type: { kind: 'memslot-flags' } },
  intField('gpa'),
  intField('size'),
  { name: 'gmem', type: { kind: 'handle' }, optional: true },
  intField('gmem_offset', true),
  { name: 'uaddr', type: { kind: 'uaddr' } },
]);

export const setMemoryRegion2Op: OpModule<'set_memory_region2'> = {
  ...setMemoryRegion2Schema,
  summary: 'KVM_SET_USER_MEMORY_REGION2 on a VM fd',
  decide: setMemoryRegion2,
  checkList: checkList({ checks: () => memoryRegionChecks(), context: memoryRegionContext }),
  createsHandle: false,
  pageAddress: { none: 'a memslot binds the whole file wherever symmetry holds' },
  footprint: { reads: ['names', 'fds', 'vms', 'gmems', 'maps'], writes: ['vms', 'gmems'] },
  phrase: (_p, s) => {
    const uaddr = typeof s.uaddr === 'object' ? `${s.uaddr.map}+${s.uaddr.offset}` : hex(s.uaddr);
    const g = s.gmem !== undefined ? `, ${s.gmem} at ${offsetWords(s.gmem_offset ?? 0)}` : '';
    return `KVM_SET_USER_MEMORY_REGION2(${s.vm}, slot ${s.slot}, ${memslotFlags(s.flags)}, gpa ${hex(s.gpa)}, ${bytesWords(s.size)}${g}, uaddr ${uaddr})`;
  },
  edgeWord: () => 'KVM_SET_USER_MEMORY_REGION2(GUEST_MEMFD)',
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
  cSelftest: {
    step: (s) => callIntoRet(setRegion2(s.vm, cRegion(s))),
    table: {
      members: 'int vm; struct kvm_userspace_memory_region2 region;',
      row: (s) => `${fd(s.vm)}, { ${cRegion(s)} }`,
      call: (r) => `ioctl(${r}.vm, KVM_SET_USER_MEMORY_REGION2, &${r}.region)`,
      successRows: true,
    },
  },
};

export const deleteMemslotSchema = opSchema('delete_memslot', [handleField('vm'), intField('slot')]);

export const deleteMemslotOp: OpModule<'delete_memslot'> = {
  ...deleteMemslotSchema,
  summary: 'KVM_SET_USER_MEMORY_REGION2 with memory_size 0: delete a slot',
  decide: deleteMemslot,
  checkList: { none: 'the VM-fd checks and a missing slot, decided by the rule (spec/rules/memslots.ts)' },
  createsHandle: false,
  pageAddress: { none: 'deletes a whole memslot' },
  footprint: { reads: ['names', 'fds', 'vms'], writes: ['vms', 'gmems'] },
  phrase: (_p, s) => `deleting memslot ${s.slot} of ${s.vm}`,
  edgeWord: () => 'memslot delete',
  wireEnums: {},
  // Move: delete each slot. Probe: a slot that does not exist (7).
  probes: {
    vmSlot: { rank: 30, values: ({ vm, slot }) => [{ op: 'delete_memslot', vm: vm.name, slot: slot.slot }] },
    vm: { rank: 40, values: ({ vm }) => [{ op: 'delete_memslot', vm: vm.name, slot: 7 }] },
  },
  cSelftest: { step: (s) => callIntoRet(setRegion2(s.vm, `.slot = ${cSlot(s.slot)}`)) },
};
