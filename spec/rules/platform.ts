/**
 * Platform operations the confidential-computing profiles need: populate (SNP LAUNCH_UPDATE, TDX
 * INIT_MEM_REGION, CCA RMI_POPULATE, §2.19) and a guest access through the VM's memslots (§2.17).
 * Modelled only: the kernel here has no VM type with private memory.
 */
import type { GuestAccessOp, PopulateOp, StepMeta } from '../ops.ts';
import type { Memslot } from '../state.ts';
import type { World } from '../world.ts';
import { hasEffect } from '../world.ts';
import { gfnIsPrivate } from './attributes.ts';
import { type Check, checkListCache, firstFailure } from './check.ts';
import { type Decision, PAGE, aligned, refused, success, u64 } from './decision.ts';
import { vmFdChecks } from './kvm.ts';

/** The content token a populate loads (the launch image). */
export const IMAGE_TOKEN = 0x1f;

function vmOf(w: World, vm: string): number {
  const f = w.fd(vm);
  if (f.kind !== 'open' || f.fd.kind !== 'vm') throw new Error('internal: VM fd checked first');
  return f.fd.id;
}

function slotFor(w: World, vm: number, gfn: number): Memslot | undefined {
  return w.peekVm(vm).memslots.find((m) => gfn >= m.gfn && gfn < m.gfn + m.npages && m.slot >>> 16 === 0);
}

/** "Private as tracked by KVM" for a GFN: per-VM attributes, or the guest_memfd page attribute in place. */
export function kvmPrivate(w: World, vm: number, gfn: number): boolean {
  const r = w.vmRules(vm);
  if (r.conversion === 'vm-attributes') return gfnIsPrivate(w, vm, gfn);
  if (r.conversion === 'in-place') {
    const m = slotFor(w, vm, gfn);
    if (!m || m.gmem < 0 || m.gmemGone) return false;
    const a = w.page(m.gmem, m.gmemStart + (gfn - m.gfn)).attribute;
    return a === 'private' || a === 'toShared';
  }
  return false;
}

export interface PopCtx { w: World; vm: string; gpa: bigint; size: bigint; op: PopulateOp }

export function populateChecks(): Check<PopCtx>[] {
  const pages = (c: PopCtx) => {
    const vm = vmOf(c.w, c.vm);
    const gfn = Number(c.gpa / PAGE);
    const out: Array<{ gfn: number; slot: Memslot | undefined }> = [];
    for (let g = gfn; g < gfn + Number(c.size / PAGE) && out.length < 4096; g++) out.push({ gfn: g, slot: slotFor(c.w, vm, g) });
    return { vm, out };
  };
  return [
    ...vmFdChecks<PopCtx>('populate'),
    { id: 'populate.no-populate-flow', errno: 'EINVAL', says: 'a VM type without a populate flow (not SNP/TDX/CCA) rejects it with EINVAL', cite: 'kernel-abi.md §2.19', fails: (c) => c.w.vmRules(vmOf(c.w, c.vm)).populate === 'none' },
    { id: 'populate.not-launching', errno: 'EINVAL', says: 'populate is allowed only after launch start and before launch finish', cite: 'kernel-abi.md §2.19, §5', fails: (c) => c.w.peekVm(vmOf(c.w, c.vm)).launch !== 'started' },
    { id: 'populate.range', errno: 'EINVAL', says: 'an empty or unaligned range fails with EINVAL', cite: 'kernel-abi.md §2.19', fails: (c) => c.size === 0n || !aligned(c.gpa) || !aligned(c.size) },
    {
      id: 'populate.in-place-source',
      errno: 'EINVAL',
      says: 'a NULL source (populate in place) needs in-place conversion; otherwise EINVAL (TDX: EOPNOTSUPP)',
      cite: 'kernel-abi.md §2.16 (populate in in-place mode)',
      fails: (c) => c.op.source === 'in_place' && c.w.vmRules(vmOf(c.w, c.vm)).conversion !== 'in-place',
    },
    { id: 'populate.no-gmem', errno: 'EINVAL', says: 'every destination GFN must be in a memslot bound to guest_memfd', cite: 'kernel-abi.md §2.19 step 3', fails: (c) => pages(c).out.some((p) => !p.slot || p.slot.gmem < 0) },
    { id: 'populate.gmem-gone', errno: 'EFAULT', says: 'a destination whose guest_memfd was released fails with EFAULT', cite: 'kernel-abi.md §2.19 step 3', fails: (c) => pages(c).out.some((p) => p.slot?.gmemGone === true) },
    {
      id: 'populate.not-private',
      errno: 'EINVAL',
      says: 'populate expects private destinations ("private as tracked by KVM" before the trusted entity takes them)',
      cite: 'kernel-abi.md §2.19 step 5; seed 001 (Roth/Tng: populate expects private)',
      fails: (c) => { const { vm, out } = pages(c); return out.some((p) => !kvmPrivate(c.w, vm, p.gfn)); },
    },
    {
      id: 'populate.already-prepared',
      errno: 'EEXIST',
      says: 'a destination the trusted entity already owns (populated or prepared) fails with EEXIST',
      cite: 'kernel-abi.md §2.19 (SNP RMP already assigned; 6.11-era uptodate check)',
      fails: (c) => pages(c).out.some((p) => p.slot && p.slot.gmem >= 0 && c.w.page(p.slot.gmem, p.slot.gmemStart + (p.gfn - p.slot.gfn)).trustedEntity !== 'unprepared'),
    },
  ];
}

/** populateChecks, with TDX's EOPNOTSUPP for a NULL source when `tdx`. */
const populateChecksFor = checkListCache((tdx: boolean) => populateChecks().map((k) =>
  k.id === 'populate.in-place-source' && tdx ? { ...k, errno: 'EOPNOTSUPP' as const } : k,
));

/** The context populate's checks read: step() and the failure generator both build it here. */
export function populateContext(w: World, op: PopulateOp): PopCtx {
  return { w, vm: op.vm, gpa: u64(op.gpa), size: u64(op.size), op };
}

export function populate(w: World, op: PopulateOp & StepMeta): Decision {
  const c = populateContext(w, op);
  const checks = populateChecksFor(w.fd(op.vm).kind === 'open' && w.vmRules(vmOf(w, op.vm)).populate === 'tdx-init-mem-region');
  const f = firstFailure(checks, c);
  if (f) return refused(f);
  const vm = vmOf(w, op.vm);
  const gfn = Number(c.gpa / PAGE);
  for (let g = gfn; g < gfn + Number(c.size / PAGE); g++) {
    const m = slotFor(w, vm, g) as Memslot;
    const i = m.gmemStart + (g - m.gfn);
    // In place, the image is what userspace wrote while the page was shared; otherwise it is copied in.
    const value = op.source === 'in_place' ? w.page(m.gmem, i).content : IMAGE_TOKEN;
    w.pageEvent(m.gmem, i, { type: 'POPULATE', value });
  }
  return success('populate.ok', 'the trusted entity loads and measures the pages; they are private as tracked by the trusted entity', 'kernel-abi.md §2.19');
}

interface AccessCtx { w: World; vm: string; op: GuestAccessOp }

const guestAccessChecks = checkListCache((): Check<AccessCtx>[] => [
  ...vmFdChecks<AccessCtx>('guest_access'),
  { id: 'guest_access.not-launched', errno: 'EINVAL', says: 'a confidential guest runs only after its launch is finished', cite: 'kernel-abi.md §5', fails: (x) => { const vm = vmOf(x.w, x.vm); return x.w.vmRules(vm).launch && x.w.peekVm(vm).launch !== 'finished'; } },
]);

export function guestAccess(w: World, op: GuestAccessOp & StepMeta): Decision {
  const f = firstFailure(guestAccessChecks(null), { w, vm: op.vm, op });
  if (f) return refused(f);
  const vm = vmOf(w, op.vm);
  const gfn = Number(u64(op.gpa) / PAGE);
  const slot = slotFor(w, vm, gfn);
  const rules = w.vmRules(vm);
  // Where KVM derives private-ness from its own attribute, the access cannot disagree with it.
  const wantPrivate = rules.hasPrivateMem && (rules.accessPrivacy === 'attribute' ? kvmPrivate(w, vm, gfn) : op.private);
  if (!slot) {
    if (wantPrivate) return { outcome: { exit: 'MEMORY_FAULT', private: true }, rule: { id: 'guest_access.no-slot-private', says: 'a private access to a GPA with no memslot exits with KVM_EXIT_MEMORY_FAULT (PRIVATE)', cite: 'kernel-abi.md §2.17 step 3' } };
    return { outcome: { exit: 'MMIO' }, rule: { id: 'guest_access.no-slot-shared', says: 'a shared access to a GPA with no memslot is MMIO', cite: 'kernel-abi.md §2.17 step 3' } };
  }
  if (rules.hasPrivateMem && wantPrivate !== kvmPrivate(w, vm, gfn)) {
    return { outcome: { exit: 'MEMORY_FAULT', private: wantPrivate }, rule: { id: 'guest_access.attribute-mismatch', says: 'an access whose private-ness differs from the KVM attribute exits with KVM_EXIT_MEMORY_FAULT so userspace can convert', cite: 'kernel-abi.md §2.17 step 1' } };
  }
  const gmemOnly = slot.gmem >= 0 && !slot.gmemGone && hasEffect(w.flagDefs(slot.gmem), (e) => e.enablesMmap);
  if (!wantPrivate && !gmemOnly) {
    if (slot.gmem >= 0 && slot.gmemGone && !gmemOnly) return { outcome: { access: 'ok' }, rule: { id: 'guest_access.shared-uaddr', says: 'a shared access is served from userspace_addr', cite: 'kernel-abi.md §2.13' } };
    return { outcome: { access: 'ok' }, rule: { id: 'guest_access.shared-uaddr', says: 'a shared access is served from userspace_addr, not guest_memfd', cite: 'kernel-abi.md §2.13 (GMEM_ONLY only with MMAP)' } };
  }
  if (slot.gmem < 0) return { outcome: { exit: 'MEMORY_FAULT', private: true }, rule: { id: 'guest_access.private-no-gmem', says: 'a private access to a slot without guest_memfd exits with KVM_EXIT_MEMORY_FAULT', cite: 'kernel-abi.md §2.17 step 2' } };
  if (slot.gmemGone) return { outcome: { errno: 'EFAULT' }, rule: { id: 'guest_access.gmem-gone', says: 'a guest_memfd fault after the file was released: KVM_RUN fails with EFAULT', cite: 'kernel-abi.md §2.12' } };
  const page = slot.gmemStart + (gfn - slot.gfn);
  w.pageEvent(slot.gmem, page, { type: 'GUEST_MAP', private: wantPrivate });
  const off = Number(u64(op.gpa) % PAGE);
  if (op.write !== undefined) {
    w.pageEvent(slot.gmem, page, { type: 'GUEST_WRITE', offset: off, value: op.write });
    return success('guest_access.write', 'the guest writes through its stage-2 mapping of the guest_memfd page', 'kernel-abi.md §2.17 step 4-5');
  }
  const p = w.page(slot.gmem, page);
  return { outcome: { access: 'ok', value: p.bytes?.[String(off)] ?? p.content }, rule: { id: 'guest_access.read', says: 'the guest reads the guest_memfd page (zeroed on first use)', cite: 'kernel-abi.md §2.17 step 5; test_guest_memfd_guest' } };
}
