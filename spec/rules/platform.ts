/**
 * Operations that need a platform or a vCPU: populate (SNP LAUNCH_UPDATE, TDX INIT_MEM_REGION, CCA
 * RMI_POPULATE, §2.19), a guest access through the VM's memslots (§2.17) and KVM_PRE_FAULT_MEMORY. Guest
 * accesses and pre-faults on the default and SW_PROTECTED VM types are checked on the lab kernel (7.3).
 */
import { type ErrnoName, KVM_CAP } from '../constants.ts';
import type { GuestAccessOp, Outcome, PopulateOp, PreFaultOp, StepMeta } from '../ops.ts';
import type { PageEvent } from '../../machines/page.ts';
import type { VmEvent } from '../../machines/vm.ts';
import type { Memslot } from '../state.ts';
import type { World } from '../world.ts';
import { hasEffect } from '../world.ts';
import { capAnswer } from './caps.ts';
import { type Access, faultIn } from './memAccess.ts';
import { isUserfault } from './uffd.ts';
import { gfnIsPrivate } from './attributes.ts';
import { type Check, type RuleRef, checkListCache, firstFailure } from './check.ts';
import { type Decision, PAGE, aligned, refused, success, u64 } from './decision.ts';
import { type GpaRangeCtx, vcpuFdChecks, vmFdChecks } from './kvm.ts';

/**
 * The content token a buffer-sourced populate loads: the launch image. A trace names no source buffer (the op
 * has `source: "buffer"`, not an address), so the model stands for its bytes with this one token, 0x1f; a guest
 * that reads a populated page reads it. Populate in place loads no token: the page keeps what userspace wrote.
 */
export const IMAGE_TOKEN = 0x1f;

function vmOf(w: World, vm: string): number {
  const f = w.fd(vm);
  if (f.kind !== 'open' || f.fd.kind !== 'vm') throw new Error('internal: VM fd checked first');
  return f.fd.id;
}

/** The VM machine's event for a vCPU that runs the guest (guest access, pre-fault): it decides whether it may. */
function runEvent(w: World, vm: number): VmEvent {
  return { type: 'RUN', launchFlow: w.vmRules(vm).launch };
}

/** The page machine's event for populate: the image token from a source buffer, or in place the page's own bytes. */
function populateEvent(op: PopulateOp): PageEvent {
  return op.source === 'in_place' ? { type: 'POPULATE' } : { type: 'POPULATE', value: IMAGE_TOKEN };
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

export interface PopCtx {
  w: World;
  vm: string;
  gpa: bigint;
  size: bigint;
  op: PopulateOp;
}

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
    {
      id: 'populate.no-populate-flow',
      errno: 'EINVAL',
      says: 'a VM type without a populate flow (not SNP/TDX/CCA) rejects it with EINVAL',
      cite: 'kernel-abi.md §2.19',
      fails: (c) => c.w.vmRules(vmOf(c.w, c.vm)).populate === 'none',
    },
    {
      id: 'populate.not-launching',
      errno: 'EINVAL',
      says: 'populate is allowed only after launch start and before launch finish',
      cite: 'kernel-abi.md §2.19, §5',
      // The VM machine's launch region allows POPULATE only while the launch is under way.
      fails: (c) => !c.w.vmAccepts(vmOf(c.w, c.vm), { type: 'POPULATE' }),
    },
    {
      id: 'populate.range',
      errno: 'EINVAL',
      says: 'an empty or unaligned range fails with EINVAL',
      cite: 'kernel-abi.md §2.19',
      fails: (c) => c.size === 0n || !aligned(c.gpa) || !aligned(c.size),
    },
    {
      id: 'populate.in-place-source',
      errno: 'EINVAL',
      says: 'a NULL source (populate in place) needs in-place conversion; otherwise EINVAL (TDX: EOPNOTSUPP)',
      cite: 'kernel-abi.md §2.16 (populate in in-place mode)',
      fails: (c) => c.op.source === 'in_place' && c.w.vmRules(vmOf(c.w, c.vm)).conversion !== 'in-place',
    },
    {
      id: 'populate.no-gmem',
      errno: 'EINVAL',
      says: 'every destination GFN must be in a memslot bound to guest_memfd',
      cite: 'kernel-abi.md §2.19 step 3',
      fails: (c) => pages(c).out.some((p) => !p.slot || p.slot.gmem < 0),
    },
    {
      id: 'populate.gmem-gone',
      errno: 'EFAULT',
      says: 'a destination whose guest_memfd was released fails with EFAULT',
      cite: 'kernel-abi.md §2.19 step 3',
      fails: (c) => pages(c).out.some((p) => p.slot?.gmemGone === true),
    },
    {
      id: 'populate.not-private',
      errno: 'EINVAL',
      says: 'populate expects private destinations ("private as tracked by KVM" before the trusted entity takes them)',
      cite: 'kernel-abi.md §2.19 step 5; seed 001 (Roth/Tng: populate expects private)',
      fails: (c) => {
        const { vm, out } = pages(c);
        return out.some((p) => !kvmPrivate(c.w, vm, p.gfn));
      },
    },
    {
      id: 'populate.already-prepared',
      errno: 'EEXIST',
      says: 'a destination the trusted entity already owns (populated or prepared) fails with EEXIST',
      cite: 'kernel-abi.md §2.19 (SNP RMP already assigned; 6.11-era uptodate check)',
      // The page machine refuses POPULATE of a page its trusted entity holds.
      fails: (c) =>
        pages(c).out.some(
          (p) => p.slot && p.slot.gmem >= 0 && !c.w.pageCan(p.slot.gmem, p.slot.gmemStart + (p.gfn - p.slot.gfn), populateEvent(c.op)),
        ),
    },
  ];
}

/** populateChecks, with TDX's EOPNOTSUPP for a NULL source when `tdx`. */
const populateChecksFor = checkListCache((tdx: boolean) =>
  populateChecks().map((k) => (k.id === 'populate.in-place-source' && tdx ? { ...k, errno: 'EOPNOTSUPP' as const } : k)),
);

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
  w.vmEvent(vm, { type: 'POPULATE' });
  const gfn = Number(c.gpa / PAGE);
  for (let g = gfn; g < gfn + Number(c.size / PAGE); g++) {
    const m = slotFor(w, vm, g) as Memslot;
    // In place, the image is what userspace wrote while the page was shared (every byte of it); otherwise the
    // source buffer's bytes, the image token, are copied in.
    w.pageEvent(m.gmem, m.gmemStart + (g - m.gfn), populateEvent(op));
  }
  if (op.source === 'in_place')
    return success(
      'populate.in-place',
      'the trusted entity encrypts (SNP) or adds (TDX) each page in place from the bytes userspace wrote while it was shared; the guest reads them',
      'kernel-abi.md §2.16 (populate in in-place mode: uaddr NULL / source_addr 0), §2.19; seed 001',
    );
  return success(
    'populate.ok',
    'the trusted entity copies the source buffer into the pages and measures them (the trace names no buffer: the model loads the image token 0x1f, which the guest then reads)',
    'kernel-abi.md §2.19 (KVM copies the source, except for ZERO; TDH.MEM.PAGE.ADD copies from the source)',
  );
}

interface AccessCtx {
  w: World;
  vm: string;
  op: GuestAccessOp;
}

const guestAccessChecks = checkListCache((): Check<AccessCtx>[] => [
  ...vcpuFdChecks<AccessCtx>('guest_access'),
  {
    id: 'guest_access.not-launched',
    errno: 'EINVAL',
    says: 'a confidential guest runs only after its launch is finished',
    cite: 'kernel-abi.md §5',
    // The VM machine decides when a vCPU may run (RUN): at any time without a launch flow, else once it finished.
    fails: (x) => {
      const vm = vmOf(x.w, x.vm);
      return !x.w.vmAccepts(vm, runEvent(x.w, vm));
    },
  },
]);

/** What serves a guest fault on a GFN (x86 kvm_mmu_faultin_pfn), or the outcome that stops it. */
type GuestFault =
  | { kind: 'gmem'; slot: Memslot; page: number; private: boolean }
  /** Served from the trace's mapping (`at`: its guest_memfd page), or from memory the model does not track. */
  | { kind: 'user-memory'; at?: { gmem: number; page: number } }
  | { kind: 'stop'; outcome: Outcome; rule: RuleRef };

function stop(outcome: Outcome, id: string, says: string, cite: string): GuestFault {
  return { kind: 'stop', outcome, rule: { id, says, cite } };
}

function hasMmioSpte(w: World, vm: number, gfn: number): boolean {
  return w.peekVm(vm).mmioGfns?.includes(gfn) === true;
}

/** KVM installed an MMIO SPTE for `gfn` (present: true) or replaced it with a mapping (false). */
function setMmioSpte(w: World, vm: number, gfn: number, present: boolean): void {
  if (hasMmioSpte(w, vm, gfn) === present) return;
  const v = w.vm(vm);
  const rest = (v.mmioGfns ?? []).filter((g) => g !== gfn);
  if (present) v.mmioGfns = [...rest, gfn].sort((a, b) => a - b);
  else if (rest.length) v.mmioGfns = rest;
  else delete v.mmioGfns;
}

/** The mutation harness's deviating backends skip fault-path rules by id, as they skip checks. */
function skipped(w: World, id: string): boolean {
  return w.profile.deviations?.skipChecks?.includes(id) === true;
}

/**
 * The fault path of a guest access (`guest_access`) or a pre-fault (`pre_fault`) to `gfn`, in the order of x86
 * kvm_mmu_faultin_pfn. `accessPrivate` is the access's own private-ness where the hardware carries it; where KVM
 * takes it from the attribute (SW_PROTECTED, default VM) it is ignored. Rule ids start with `op`. A rule a
 * deviating profile skips lets the fault fall through to the next one.
 */
function guestFault(
  w: World,
  vm: number,
  gfn: number,
  accessPrivate: boolean,
  op: 'guest_access' | 'pre_fault',
  access: Access,
): GuestFault {
  const slot = slotFor(w, vm, gfn);
  const rules = w.vmRules(vm);
  const attrPrivate = rules.hasPrivateMem && kvmPrivate(w, vm, gfn);
  // A vCPU access to a GFN with an MMIO SPTE is a reserved-bit fault, which kvm_mmu_page_fault never marks
  // private; a pre-fault takes the private-ness from the attribute directly.
  const mmioSpte = op === 'guest_access' && rules.accessPrivacy === 'attribute' && hasMmioSpte(w, vm, gfn);
  // Where KVM derives private-ness from its own attribute, the access cannot disagree with it (but see above).
  const wantPrivate = rules.hasPrivateMem && !mmioSpte && (rules.accessPrivacy === 'attribute' ? attrPrivate : accessPrivate);
  if (wantPrivate !== attrPrivate && rules.hasPrivateMem) {
    if (mmioSpte && !skipped(w, `${op}.stale-mmio-spte`)) {
      return stop(
        { exit: 'MEMORY_FAULT', private: false },
        `${op}.stale-mmio-spte`,
        "a GFN that took an MMIO fault and was then made private: the access hits KVM's MMIO SPTE, a reserved-bit fault never marked private, so KVM_EXIT_MEMORY_FAULT says shared",
        'x86 kvm_mmu_page_fault (7.3); measured on the lab',
      );
    }
    if (!mmioSpte && !skipped(w, `${op}.attribute-mismatch`)) {
      return stop(
        { exit: 'MEMORY_FAULT', private: wantPrivate },
        `${op}.attribute-mismatch`,
        'an access whose private-ness differs from the KVM attribute exits with KVM_EXIT_MEMORY_FAULT so userspace can convert',
        'kernel-abi.md §2.17 step 1; kvm_mmu_faultin_pfn',
      );
    }
  }
  const isPrivate = mmioSpte ? attrPrivate : wantPrivate;
  if (!slot) {
    if (isPrivate && !skipped(w, `${op}.no-slot-private`))
      return stop(
        { exit: 'MEMORY_FAULT', private: true },
        `${op}.no-slot-private`,
        'a private access to a GPA with no memslot exits with KVM_EXIT_MEMORY_FAULT (PRIVATE)',
        'kernel-abi.md §2.17 step 3',
      );
    // Only a VM whose private-ness KVM takes from the attribute can ever see the SPTE's effect (stale-mmio-spte).
    if (rules.hasPrivateMem && rules.accessPrivacy === 'attribute') setMmioSpte(w, vm, gfn, true);
    return stop(
      { exit: 'MMIO' },
      `${op}.no-slot-shared`,
      'a shared access to a GPA with no memslot is MMIO (KVM caches an MMIO SPTE for the GFN)',
      'kernel-abi.md §2.17 step 3',
    );
  }
  // A slot bound to an MMAP guest_memfd is GMEM_ONLY for good: the flag stays after the file is released.
  const gmemOnly = slot.gmem >= 0 && hasEffect(w.flagDefs(slot.gmem), (e) => e.enablesMmap);
  if (!isPrivate && !gmemOnly) return userMemory(w, vm, slot, gfn, op, access);
  if (slot.gmem < 0) {
    if (skipped(w, `${op}.private-no-gmem`)) return userMemory(w, vm, slot, gfn, op, access);
    return stop(
      { exit: 'MEMORY_FAULT', private: true },
      `${op}.private-no-gmem`,
      'a private access to a slot without guest_memfd exits with KVM_EXIT_MEMORY_FAULT',
      'kernel-abi.md §2.17 step 2',
    );
  }
  if (slot.gmemGone && !skipped(w, `${op}.gmem-gone`)) {
    return stop(
      { exit: 'MEMORY_FAULT', private: isPrivate },
      `${op}.gmem-gone`,
      'a guest_memfd fault after the file was released: kvm_gmem_get_pfn fails (EFAULT) and KVM_RUN exits with KVM_EXIT_MEMORY_FAULT',
      'kvm_mmu_faultin_pfn_gmem (7.3); measured on the lab',
    );
  }
  setMmioSpte(w, vm, gfn, false);
  return { kind: 'gmem', slot, page: slot.gmemStart + (gfn - slot.gfn), private: isPrivate };
}

/** A shared fault served from the slot's userspace_addr: KVM faults the page in through the VM's mm. */
function userMemory(w: World, vm: number, slot: Memslot, gfn: number, op: string, access: Access): GuestFault {
  const cite = 'virt/kvm/kvm_main.c hva_to_pfn, x86 kvm_handle_error_pfn (7.3); measured on the lab';
  const u = slot.userMemory;
  const map = u === undefined ? undefined : w.s.maps[u.map];
  if ((!u || !map) && skipped(w, `${op}.shared-no-user-memory`)) return { kind: 'user-memory' };
  if (!u || !map)
    return stop(
      { errno: 'EFAULT' },
      `${op}.shared-no-user-memory`,
      'a shared access is served from userspace_addr; nothing the trace mapped is there, so KVM cannot fault the page in: EFAULT (no memory-fault exit)',
      cite,
    );
  if (!map.live || map.proc !== w.peekVm(vm).proc) {
    return stop(
      { errno: 'EFAULT' },
      `${op}.user-memory-unmapped`,
      "a shared access is served from userspace_addr, whose mapping is gone (or is another process's): EFAULT",
      cite,
    );
  }
  const offset = BigInt(u.offset) + BigInt(gfn - slot.gfn) * PAGE;
  const r = faultIn(w, u.map, map, offset, access);
  // KVM faults the page in through the user page tables, so a uffd-registered page blocks the vCPU on a
  // userfault as it would block a host thread (seed 002: KVM's own accesses go through userspace_addr).
  if ('outcome' in r && isUserfault(r.outcome))
    return stop(
      r.outcome,
      `${op}.user-memory-${r.id.replace('access.', '')}`,
      `KVM's fault through userspace_addr: ${r.says}`,
      `${r.cite}; seed 002`,
    );
  if ('outcome' in r) {
    return stop(
      { errno: 'EFAULT' },
      `${op}.user-memory-fault`,
      `a shared access is served from userspace_addr, where the host fault fails (${r.id}): KVM cannot get the page, EFAULT`,
      cite,
    );
  }
  setMmioSpte(w, vm, gfn, false);
  return { kind: 'user-memory', at: { gmem: map.gmem, page: r.page } };
}

export function guestAccess(w: World, op: GuestAccessOp & StepMeta): Decision {
  const f = firstFailure(guestAccessChecks(null), { w, vm: op.vm, op });
  if (f) return refused(f);
  const vm = vmOf(w, op.vm);
  w.vmEvent(vm, runEvent(w, vm));
  const gpa = u64(op.gpa);
  const fault = guestFault(w, vm, Number(gpa / PAGE), op.private, 'guest_access', op.write === undefined ? 'read' : 'write');
  const off = Number(gpa % PAGE);
  switch (fault.kind) {
    case 'stop':
      return { outcome: fault.outcome, rule: fault.rule };
    case 'user-memory': {
      const rule = {
        id: 'guest_access.shared-uaddr',
        says: "a shared access is served from userspace_addr (the trace's mapping), not guest_memfd: host and guest see the same bytes",
        cite: 'kernel-abi.md §2.13 (GMEM_ONLY only with MMAP); measured on the lab',
      };
      const at = fault.at;
      if (op.write !== undefined) {
        if (at) w.pageEvent(at.gmem, at.page, { type: 'HOST_WRITE', offset: off, value: op.write });
        return { outcome: { access: 'ok' }, rule };
      }
      const p = at ? w.page(at.gmem, at.page) : undefined;
      return { outcome: { access: 'ok', value: p ? (p.bytes?.[String(off)] ?? p.content) : 0 }, rule };
    }
    case 'gmem':
      break;
  }
  const { slot, page } = fault;
  const before = w.page(slot.gmem, page);
  const rules = w.vmRules(vm);
  w.pageEvent(slot.gmem, page, { type: 'GUEST_MAP', private: fault.private });
  if (op.write !== undefined) {
    w.pageEvent(slot.gmem, page, { type: 'GUEST_WRITE', offset: off, value: op.write });
    return {
      outcome: { access: 'ok' },
      rule: {
        id: 'guest_access.write',
        says: 'the guest writes through its stage-2 mapping of the guest_memfd page',
        cite: 'kernel-abi.md §2.17 step 4-5',
      },
    };
  }
  const p = w.page(slot.gmem, page);
  // The page machine says whether the trusted entity took the page at this fault (its prepare hook, a private
  // fault): when the page held bytes, the platform decides what of them the guest reads (spec/rules/content.ts).
  const taken = before.backing === 'initialised' && p.trustedEntity !== before.trustedEntity;
  if (taken) {
    const effect = rules.conversionContent.toPrivate;
    return {
      outcome: { access: 'ok', value: p.bytes?.[String(off)] ?? p.content },
      rule: {
        id: 'guest_access.read-taken',
        says: `the trusted entity takes the page at this first private fault: the guest reads the bytes written before as the platform leaves them (${effect === 'preserve' ? 'preserved' : effect === 'zero' ? 'zeroes' : 'scrambled: another key'})`,
        cite: rules.conversionContent.source,
      },
    };
  }
  return {
    outcome: { access: 'ok', value: p.bytes?.[String(off)] ?? p.content },
    rule: {
      id: 'guest_access.read',
      says: 'the guest reads the guest_memfd page (zeroed on first use)',
      cite: 'kernel-abi.md §2.17 step 5; test_guest_memfd_guest',
    },
  };
}

interface PreFaultCtx extends GpaRangeCtx {
  flags: bigint;
}

const preFaultChecks = checkListCache((): Check<PreFaultCtx>[] => [
  ...vcpuFdChecks<PreFaultCtx>('pre_fault'),
  {
    id: 'pre_fault.flags',
    errno: 'EINVAL',
    says: 'non-zero flags fail with EINVAL',
    cite: 'kvm_vcpu_pre_fault_memory (7.3)',
    fails: (c) => c.flags !== 0n,
  },
  {
    id: 'pre_fault.range',
    errno: 'EINVAL',
    says: 'a gpa or size that is not page-aligned, size 0, or a range that wraps fails with EINVAL',
    cite: 'kvm_vcpu_pre_fault_memory (7.3)',
    fails: (c) => !aligned(c.gpa) || !aligned(c.size) || c.gpa + c.size <= c.gpa || c.gpa + c.size >= 1n << 64n,
  },
  {
    id: 'pre_fault.not-allowed',
    errno: 'EOPNOTSUPP',
    says: 'a confidential VM can be pre-faulted only after its launch is finished (pre_fault_allowed)',
    cite: 'arch/x86/kvm/mmu/mmu.c kvm_arch_vcpu_pre_fault_memory (7.3)',
    fails: (c) => {
      const vm = vmOf(c.w, c.vm);
      return !c.w.vmAccepts(vm, runEvent(c.w, vm));
    },
  },
  {
    id: 'pre_fault.no-tdp',
    errno: 'EOPNOTSUPP',
    says: 'without two-dimensional paging (KVM_CAP_PRE_FAULT_MEMORY = 0) the MMU is not indexed by GPA: EOPNOTSUPP',
    cite: 'kvm_tdp_page_prefault (7.3); cap 236 = tdp_enabled',
    fails: (c) => {
      const a = capAnswer(c.w.profile, BigInt(KVM_CAP.PRE_FAULT_MEMORY), undefined);
      return 'value' in a && a.value === 0n;
    },
  },
]);

/** The pre-fault errno for a fault that stops (kvm_tdp_page_prefault: an MMIO fault is ENOENT, the rest their errno). */
function preFaultErrno(o: Outcome): ErrnoName {
  if ('exit' in o) return o.exit === 'MMIO' ? 'ENOENT' : 'EFAULT';
  if ('errno' in o) return o.errno;
  throw new Error('internal: a stopping guest fault is an exit or an errno');
}

/** Pre-fault pages at most this many in the model (a range can be up to 2^64 bytes). */
const MAX_PREFAULT_PAGES = 1 << 16;

export function preFault(w: World, op: PreFaultOp & StepMeta): Decision {
  const c: PreFaultCtx = { w, vm: op.vm, gpa: u64(op.gpa), size: u64(op.size), flags: u64(op.flags ?? 0) };
  const f = firstFailure(preFaultChecks(null), c);
  if (f) return refused(f);
  const vm = vmOf(w, op.vm);
  w.vmEvent(vm, runEvent(w, vm));
  const first = Number(c.gpa / PAGE);
  const n = Math.min(Number(c.size / PAGE), MAX_PREFAULT_PAGES);
  for (let k = 0; k < n; k++) {
    const fault = guestFault(w, vm, first + k, false, 'pre_fault', 'read');
    if (fault.kind === 'stop') {
      // The first page's failure is the ioctl's; after progress the ioctl succeeds with the rest left over.
      if (isUserfault(fault.outcome)) return { outcome: fault.outcome, rule: fault.rule }; // the vCPU waits on it
      if (k === 0) return { outcome: { errno: preFaultErrno(fault.outcome) }, rule: fault.rule };
      return success(
        'pre_fault.partial',
        'pre-faulting stops at the first page it cannot map; the ioctl succeeds and leaves the rest in size',
        'kvm_vcpu_pre_fault_memory (7.3)',
        { ret: c.size - BigInt(k) * PAGE },
      );
    }
    if (fault.kind === 'gmem') w.pageEvent(fault.slot.gmem, fault.page, { type: 'GUEST_MAP', private: fault.private });
  }
  return success(
    'pre_fault.ok',
    "every page of the range is mapped into the guest's stage-2 (guest_memfd pages are allocated, zeroed)",
    'kernel-abi.md §1.1 (KVM_PRE_FAULT_MEMORY); pre_fault_memory_test',
    { ret: 0 },
  );
}
