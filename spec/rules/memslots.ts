/**
 * KVM_SET_USER_MEMORY_REGION2 with and without KVM_MEM_GUEST_MEMFD, and memslot deletion (kernel-abi.md
 * §2.13-2.14). The order is the kernel's as measured here: argument EINVALs, then a GPA overlap (EEXIST), then
 * the guest_memfd fd lookup (EBADF), then the binding EINVALs, then the architecture's GPA limit.
 */
import { type ErrnoName, KVM_MEM, KVM_MEM_MAX_NR_PAGES, TASK_SIZE_MAX } from '../constants.ts';
import type { DeleteMemslotOp, SetMemoryRegion2Op, StepMeta } from '../ops.ts';
import type { Memslot } from '../state.ts';
import type { World } from '../world.ts';
import { type Check, checkListCache, firstFailure } from './check.ts';
import { type Decision, PAGE, aligned, refused, success, u64 } from './decision.ts';
import { vmFdChecks } from './kvm.ts';

const U64 = 1n << 64n;

export function memslotFlagBits(flags: SetMemoryRegion2Op['flags']): number {
  if (Array.isArray(flags)) {
    return flags.reduce(
      (m, f) => m | (f === 'gmem' ? KVM_MEM.GUEST_MEMFD : f === 'log_dirty' ? KVM_MEM.LOG_DIRTY_PAGES : KVM_MEM.READONLY),
      0,
    );
  }
  return Number(BigInt.asUintN(32, BigInt(flags)));
}

export interface RegionCtx {
  w: World;
  vm: string;
  op: SetMemoryRegion2Op;
  slot: number;
  flags: number;
  gpa: bigint;
  size: bigint;
  uaddr: bigint;
  offset: bigint;
}

function vmId(c: RegionCtx): number {
  const f = c.w.fd(c.vm);
  if (f.kind !== 'open' || f.fd.kind !== 'vm') throw new Error('internal: VM fd checked first');
  return f.fd.id;
}

const gmemFlag = (c: RegionCtx) => (c.flags & KVM_MEM.GUEST_MEMFD) !== 0;
const existing = (c: RegionCtx): Memslot | undefined => c.w.vm(vmId(c)).memslots.find((m) => m.slot === c.slot);

function gmemTarget(c: RegionCtx): { kind: 'badf' } | { kind: 'other' } | { kind: 'gmem'; id: number } {
  // No guest_memfd named: the ioctl carries guest_memfd = 0, an fd that is not a guest_memfd (a trace's stdin).
  if (c.op.gmem === undefined) return { kind: 'other' };
  const f = c.w.fd(c.op.gmem);
  if (f.kind !== 'open') return { kind: 'badf' };
  return f.fd.kind === 'gmem' ? { kind: 'gmem', id: f.fd.id } : { kind: 'other' };
}

function slotIdChecks<C extends { w: World; slot: number }>(op: string): Check<C>[] {
  return [
    {
      id: `${op}.slot-id`,
      errno: 'EINVAL',
      says: 'a slot id at or above KVM_USER_MEM_SLOTS fails with EINVAL',
      cite: 'kernel-abi.md §2.13 step 2; kernel here (32764 slots)',
      fails: (c) => (c.slot & 0xffff) >= c.w.profile.choices.userMemSlots,
    },
  ];
}

function addressSpaceCheck<C extends { w: World; slot: number }>(op: string): Check<C> {
  return {
    id: `${op}.address-space`,
    errno: 'EINVAL',
    says: 'an address-space id at or above KVM_ADDRESS_SPACE_NUM fails with EINVAL',
    cite: 'kernel-abi.md §2.13 step 4; kernel here (no SMM address space)',
    fails: (c) => c.slot >>> 16 >= c.w.profile.choices.addressSpaces,
  };
}

/** The checks in order; `rangeBoundErrno` is the profile's errno for an overlapping guest_memfd binding. */
export function memoryRegionChecks(rangeBoundErrno: ErrnoName = 'EINVAL'): Check<RegionCtx>[] {
  return [
    ...vmFdChecks<RegionCtx>('set_memory_region2'),
    ...slotIdChecks<RegionCtx>('set_memory_region2'),
    {
      id: 'set_memory_region2.flags',
      errno: 'EINVAL',
      says: 'an unknown memslot flag, or LOG_DIRTY_PAGES / READONLY together with GUEST_MEMFD, fails with EINVAL',
      cite: 'kernel-abi.md §2.13 step 3 (check_memory_region_flags)',
      fails: (c) => {
        let valid = KVM_MEM.LOG_DIRTY_PAGES | KVM_MEM.GUEST_MEMFD | (c.w.profile.choices.readonlyMemslots ? KVM_MEM.READONLY : 0);
        if (gmemFlag(c)) valid &= ~(KVM_MEM.LOG_DIRTY_PAGES | KVM_MEM.READONLY);
        return (c.flags & ~valid) !== 0;
      },
    },
    addressSpaceCheck<RegionCtx>('set_memory_region2'),
    {
      id: 'set_memory_region2.size-unaligned',
      errno: 'EINVAL',
      says: 'a memory_size that is not page-aligned fails with EINVAL',
      cite: 'kernel-abi.md §2.13 step 5',
      fails: (c) => !aligned(c.size),
    },
    {
      id: 'set_memory_region2.gpa-unaligned',
      errno: 'EINVAL',
      says: 'a guest_phys_addr that is not page-aligned fails with EINVAL',
      cite: 'kernel-abi.md §2.13 step 5',
      fails: (c) => !aligned(c.gpa),
    },
    {
      id: 'set_memory_region2.uaddr',
      errno: 'EINVAL',
      says: 'userspace_addr must be page-aligned and the range a valid user range, even when guest_memfd backs the slot',
      cite: 'kernel-abi.md §2.13 step 6; kernel here (0 is accepted)',
      fails: (c) => !aligned(c.uaddr) || c.uaddr + c.size > TASK_SIZE_MAX,
    },
    {
      id: 'set_memory_region2.gmem-offset',
      errno: 'EINVAL',
      says: 'a guest_memfd_offset that is not page-aligned, or whose range wraps, fails with EINVAL',
      cite: 'kernel-abi.md §2.13 step 7',
      fails: (c) => gmemFlag(c) && (!aligned(c.offset) || c.offset + c.size >= U64),
    },
    {
      id: 'set_memory_region2.gpa-range',
      errno: 'EINVAL',
      says: 'a GPA range that wraps, or more than KVM_MEM_MAX_NR_PAGES pages, fails with EINVAL',
      cite: 'kernel-abi.md §2.13 step 8',
      fails: (c) => c.gpa + c.size >= U64 || c.size / PAGE > BigInt(KVM_MEM_MAX_NR_PAGES),
    },
    {
      id: 'set_memory_region2.delete-missing',
      errno: 'EINVAL',
      says: 'deleting (memory_size 0) a slot that does not exist fails with EINVAL',
      cite: 'kernel-abi.md §2.14',
      fails: (c) => c.size === 0n && !existing(c),
    },
    {
      id: 'set_memory_region2.gmem-slot-immutable',
      errno: 'EINVAL',
      says: 'a guest_memfd memslot cannot be modified, not even by re-issuing the same call; a slot cannot gain guest_memfd',
      cite: 'kernel-abi.md §2.13 step 11; kernel here',
      fails: (c) => {
        const old = existing(c);
        return c.size !== 0n && old !== undefined && ((old.flags & KVM_MEM.GUEST_MEMFD) !== 0 || gmemFlag(c));
      },
    },
    {
      id: 'set_memory_region2.modify',
      errno: 'EINVAL',
      says: 'modifying a slot may change only its GPA or LOG_DIRTY_PAGES, not its size or READONLY',
      cite: 'kernel-abi.md §2.13 step 11',
      fails: (c) => {
        const old = existing(c);
        return (
          c.size !== 0n && old !== undefined && (BigInt(old.npages) * PAGE !== c.size || ((old.flags ^ c.flags) & KVM_MEM.READONLY) !== 0)
        );
      },
    },
    {
      id: 'set_memory_region2.gpa-overlap',
      errno: 'EEXIST',
      says: 'a new slot whose GPA range overlaps another slot of the address space fails with EEXIST',
      cite: 'kernel-abi.md §2.13 step 10; kernel here (before the fd lookup)',
      fails: (c) => {
        if (c.size === 0n) return false;
        const gfn = c.gpa / PAGE;
        const n = c.size / PAGE;
        return c.w
          .peekVm(vmId(c))
          .memslots.some(
            (m) => m.slot !== c.slot && m.slot >>> 16 === c.slot >>> 16 && BigInt(m.gfn) < gfn + n && gfn < BigInt(m.gfn + m.npages),
          );
      },
    },
    {
      id: 'set_memory_region2.gmem-fd-bad',
      errno: 'EBADF',
      says: 'binding a closed fd fails with EBADF',
      cite: 'kvm_gmem_bind fget; kernel here',
      fails: (c) => c.size !== 0n && gmemFlag(c) && gmemTarget(c).kind === 'badf',
    },
    {
      id: 'set_memory_region2.gmem-fd-not-gmem',
      errno: 'EINVAL',
      says: 'binding an fd that is not a guest_memfd fails with EINVAL',
      cite: 'kernel-abi.md §2.13 step 13',
      fails: (c) => c.size !== 0n && gmemFlag(c) && gmemTarget(c).kind === 'other',
    },
    {
      id: 'set_memory_region2.gmem-other-vm',
      errno: 'EINVAL',
      says: 'binding a guest_memfd created by another VM fails with EINVAL',
      cite: 'kernel-abi.md §2.13 step 13',
      fails: (c) => {
        const t = gmemTarget(c);
        return c.size !== 0n && gmemFlag(c) && t.kind === 'gmem' && c.w.peekGmem(t.id).vm !== vmId(c);
      },
    },
    {
      id: 'set_memory_region2.gmem-past-eof',
      errno: 'EINVAL',
      says: 'binding a range that ends past the guest_memfd size fails with EINVAL',
      cite: 'kernel-abi.md §2.13 step 13; kernel here',
      fails: (c) => {
        const t = gmemTarget(c);
        return (
          c.size !== 0n &&
          gmemFlag(c) &&
          t.kind === 'gmem' &&
          (BigInt.asIntN(64, c.offset) < 0n || c.offset + c.size > BigInt(c.w.peekGmem(t.id).sizePages) * PAGE)
        );
      },
    },
    {
      id: 'set_memory_region2.gmem-range-bound',
      errno: rangeBoundErrno,
      says: `binding guest_memfd pages already bound to another memslot fails with ${rangeBoundErrno}: bindings never overlap`,
      cite: 'kernel-abi.md §2.13 step 13; api.rst; kvm_gmem_commit_memory_region (EEXIST since 7.3; measured on the lab)',
      fails: (c) => {
        const t = gmemTarget(c);
        if (c.size === 0n || !gmemFlag(c) || t.kind !== 'gmem') return false;
        // The guestMemfd machine's rangeUnbound guard is the authority on overlapping bindings: ask it.
        // Only the range matters to the guard; the VM is not resolved here (its own checks may be failing too).
        const binding = { vm: -1, slot: c.slot, start: Number(c.offset / PAGE), npages: Number(c.size / PAGE) };
        return !c.w.gmemAccepts(t.id, { type: 'BIND', binding });
      },
    },
    {
      id: 'set_memory_region2.gpa-limit',
      errno: 'EINVAL',
      says: 'a slot ending beyond the largest guest physical address fails with EINVAL',
      cite: 'kernel-abi.md §2.13 step 12; kernel here (52 bits)',
      fails: (c) => c.size !== 0n && c.gpa + c.size > 1n << BigInt(c.w.profile.choices.maxGpaBits),
    },
  ];
}

function uaddrOf(w: World, u: SetMemoryRegion2Op['uaddr']): bigint {
  if (typeof u === 'object') {
    const r = w.ref(u.map);
    // Every mapping handle, even a failed or unmapped one, names a page-aligned user address (a C program
    // would pass the address it has); only the offset can make it unaligned.
    const index = 'map' in r ? r.map : 0;
    return 0x7f0000000000n + BigInt(index) * 0x1000000000n + u64(u.offset);
  }
  return u64(u);
}

function deleteSlot(w: World, vm: number, old: Memslot): void {
  const v = w.vm(vm);
  v.memslots = v.memslots.filter((m) => m !== old);
  const unbind = { type: 'UNBIND', vm, slot: old.slot } as const;
  // The guestMemfd machine refuses UNBIND once the file is released (it cut the bindings and freed the pages).
  if (old.gmem >= 0 && w.gmemAccepts(old.gmem, unbind)) {
    for (const i of w.touchedPages(old.gmem, old.gmemStart, old.npages)) w.pageEvent(old.gmem, i, { type: 'STAGE2_ZAP' });
    w.gmemEvent(old.gmem, unbind);
  }
}

const cachedMemoryRegionChecks = checkListCache(memoryRegionChecks);

/** The context the memory-region checks read: step() and the failure generator both build it here. */
export function memoryRegionContext(w: World, op: SetMemoryRegion2Op): RegionCtx {
  return {
    w,
    vm: op.vm,
    op,
    slot: Number(BigInt.asUintN(32, BigInt(op.slot))),
    flags: memslotFlagBits(op.flags),
    gpa: u64(op.gpa),
    size: u64(op.size),
    uaddr: uaddrOf(w, op.uaddr),
    offset: u64(op.gmem_offset ?? 0),
  };
}

export function setMemoryRegion2(w: World, op: SetMemoryRegion2Op & StepMeta): Decision {
  const c = memoryRegionContext(w, op);
  const f = firstFailure(cachedMemoryRegionChecks(w.profile.choices.gmemBindingOverlapErrno), c);
  if (f) return refused(f);
  const vm = vmId(c);
  const old = existing(c);
  if (c.size === 0n && old) {
    deleteSlot(w, vm, old);
    return success(
      'set_memory_region2.delete',
      'memory_size 0 deletes the slot; guest_memfd contents stay and the range can be bound again',
      'kernel-abi.md §2.14',
    );
  }
  if (old) {
    old.gfn = Number(c.gpa / PAGE);
    old.flags = c.flags;
    return success(
      'set_memory_region2.modify',
      'a slot without guest_memfd may move or toggle dirty logging',
      'kernel-abi.md §2.13 step 11',
    );
  }
  const t = gmemTarget(c);
  const slot: Memslot = { slot: c.slot, gfn: Number(c.gpa / PAGE), npages: Number(c.size / PAGE), flags: c.flags, gmem: -1, gmemStart: 0 };
  if (typeof op.uaddr === 'object') {
    const r = w.ref(op.uaddr.map);
    const offset = u64(op.uaddr.offset);
    // A failed mmap's name points where nothing is mapped: like a raw address, no user memory.
    if ('map' in r && offset < BigInt(Number.MAX_SAFE_INTEGER)) slot.userMemory = { map: r.map, offset: Number(offset) };
  }
  if (gmemFlag(c) && t.kind === 'gmem') {
    slot.gmem = t.id;
    slot.gmemStart = Number(c.offset / PAGE);
    // The gmem-range-bound check asked the machine already, so a refusal here means that check was skipped on
    // purpose: a mutant (src/mutation) modelling a kernel that lets overlapping bindings through. Such a kernel
    // creates the slot anyway; the machine keeps only the bindings it accepts.
    w.gmemEvent(t.id, { type: 'BIND', binding: { vm, slot: c.slot, start: slot.gmemStart, npages: slot.npages } });
  }
  const v = w.vm(vm);
  v.memslots = [...v.memslots, slot].sort((a, b) => a.slot - b.slot);
  return success(
    gmemFlag(c) ? 'set_memory_region2.bind' : 'set_memory_region2.create',
    gmemFlag(c)
      ? 'the slot is created and bound to the guest_memfd range (GMEM_ONLY when the file has MMAP)'
      : 'the slot is created, backed by userspace_addr',
    'kernel-abi.md §2.13',
  );
}

interface DeleteCtx {
  w: World;
  vm: string;
  slot: number;
}

const deleteMemslotChecks = checkListCache((): Check<DeleteCtx>[] => [
  ...vmFdChecks<DeleteCtx>('delete_memslot'),
  ...slotIdChecks<DeleteCtx>('delete_memslot'),
  addressSpaceCheck<DeleteCtx>('delete_memslot'),
  {
    id: 'delete_memslot.missing',
    errno: 'EINVAL',
    says: 'deleting a slot that does not exist fails with EINVAL',
    cite: 'kernel-abi.md §2.14',
    fails: (x) => {
      const f = x.w.fd(x.vm);
      return f.kind === 'open' && !x.w.peekVm(f.fd.id).memslots.some((m) => m.slot === x.slot);
    },
  },
]);

export function deleteMemslot(w: World, op: DeleteMemslotOp & StepMeta): Decision {
  const c: DeleteCtx = { w, vm: op.vm, slot: Number(BigInt.asUintN(32, BigInt(op.slot))) };
  const f = firstFailure(deleteMemslotChecks(null), c);
  if (f) return refused(f);
  const fd = w.fd(op.vm);
  if (fd.kind !== 'open') throw new Error('internal');
  const old = w.vm(fd.fd.id).memslots.find((m) => m.slot === c.slot);
  if (old) deleteSlot(w, fd.fd.id, old);
  return success(
    'delete_memslot.ok',
    'the slot is deleted; guest_memfd contents stay and the range can be bound again',
    'kernel-abi.md §2.14',
  );
}
