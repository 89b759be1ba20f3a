/**
 * Changing shared/private: KVM_SET_MEMORY_ATTRIBUTES on the VM (per-VM attributes, §2.15), the proposed
 * KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd (in-place conversion, §2.16), and a guest's conversion
 * request (KVM_HC_MAP_GPA_RANGE exit, §2.17) that leaves pages in transition until userspace acts.
 */
import { type ErrnoName, KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../constants.ts';
import type { GuestRequestConversionOp, SetMemoryAttributes2Op, SetMemoryAttributesOp, StepMeta } from '../ops.ts';
import type { World } from '../world.ts';
import { type Check, checkListCache, firstFailure } from './check.ts';
import { type Decision, PAGE, aligned, refused, success, u64 } from './decision.ts';
import { type GpaRangeCtx, notVmFdCheck, vcpuFdChecks, vmFdChecks } from './kvm.ts';

const U64 = 1n << 64n;
/** Largest range a conversion expands page by page in the model. */
const MAX_CONVERT_PAGES = 1 << 16;

export interface AttrCtx {
  w: World;
  vm: string;
  address: bigint;
  size: bigint;
  attributes: bigint;
  flags: bigint;
}

function vmOf(c: { w: World; vm: string }): number {
  const f = c.w.fd(c.vm);
  if (f.kind !== 'open' || f.fd.kind !== 'vm') throw new Error('internal: VM fd checked first');
  return f.fd.id;
}

export function setMemoryAttributesChecks(): Check<AttrCtx>[] {
  return [
    ...vmFdChecks<AttrCtx>('set_memory_attributes'),
    {
      id: 'set_memory_attributes.missing',
      errno: 'ENOTTY',
      says: 'KVM_SET_MEMORY_ATTRIBUTES is not built into this kernel (no CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES): ENOTTY',
      cite: 'kernel-abi.md §2.15; kernel here',
      fails: (c) => c.w.profile.choices.setMemoryAttributesMissing !== null,
    },
    notVmFdCheck<AttrCtx>('set_memory_attributes'),
    {
      id: 'set_memory_attributes.in-place-mode',
      errno: 'EINVAL',
      says: 'with in-place conversion the per-VM attribute ioctl is rejected: attributes live in guest_memfd (errno unconfirmed, a profile choice)',
      cite: 'kernel-abi.md §2.15 (INPLACE-v8), §6 item 4',
      fails: (c) => c.w.vmRules(vmOf(c)).conversion === 'in-place',
    },
    {
      id: 'set_memory_attributes.flags',
      errno: 'EINVAL',
      says: 'non-zero flags fail with EINVAL',
      cite: 'kernel-abi.md §2.15 step 2',
      fails: (c) => c.flags !== 0n,
    },
    {
      id: 'set_memory_attributes.unsupported',
      errno: 'EINVAL',
      says: 'an attribute the VM does not support (PRIVATE on a VM without private memory, or with in-place attributes) fails with EINVAL',
      cite: 'kernel-abi.md §2.15 step 3, §2.16',
      fails: (c) => {
        const r = c.w.vmRules(vmOf(c));
        const mask = r.hasPrivateMem && r.conversion === 'vm-attributes' ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n;
        return (c.attributes & ~mask) !== 0n;
      },
    },
    {
      id: 'set_memory_attributes.range',
      errno: 'EINVAL',
      says: 'size 0, or a range that wraps, fails with EINVAL',
      cite: 'kernel-abi.md §2.15 step 4',
      fails: (c) => c.size === 0n || c.address + c.size >= U64,
    },
    {
      id: 'set_memory_attributes.unaligned',
      errno: 'EINVAL',
      says: 'an address or size that is not page-aligned fails with EINVAL',
      cite: 'kernel-abi.md §2.15 step 5',
      fails: (c) => !aligned(c.address) || !aligned(c.size),
    },
  ];
}

function setRange(ranges: Array<[number, number]>, start: number, end: number, priv: boolean): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of ranges) {
    if (b <= start || a >= end) out.push([a, b]);
    else {
      if (a < start) out.push([a, start]);
      if (b > end) out.push([end, b]);
    }
  }
  if (priv) out.push([start, end]);
  out.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last && last[1] >= r[0]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

export function gfnIsPrivate(w: World, vm: number, gfn: number): boolean {
  return w.peekVm(vm).privateRanges.some(([a, b]) => gfn >= a && gfn < b);
}

/** Zap the guest's (stage-2) mappings of every bound guest_memfd page whose GPA lies in [gfn, gfn+n). */
function zapGpaRange(w: World, vm: number, gfn: number, n: number): void {
  for (const m of w.peekVm(vm).memslots) {
    if (m.gmem < 0 || m.gmemGone) continue;
    const a = Math.max(gfn, m.gfn);
    const b = Math.min(gfn + n, m.gfn + m.npages);
    if (a >= b) continue;
    for (const i of w.touchedPages(m.gmem, m.gmemStart + (a - m.gfn), b - a)) w.pageEvent(m.gmem, i, { type: 'STAGE2_ZAP' });
  }
}

/** setMemoryAttributesChecks with the profile's errno for the per-VM ioctl in in-place mode, by that errno. */
const setMemoryAttributesChecksFor = checkListCache((inPlaceErrno: ErrnoName) =>
  setMemoryAttributesChecks().map((k) => (k.id === 'set_memory_attributes.in-place-mode' ? { ...k, errno: inPlaceErrno } : k)),
);

/** The context KVM_SET_MEMORY_ATTRIBUTES' checks read: step() and the failure generator both build it here. */
export function setMemoryAttributesContext(w: World, op: SetMemoryAttributesOp): AttrCtx {
  return { w, vm: op.vm, address: u64(op.address), size: u64(op.size), attributes: u64(op.attributes), flags: u64(op.flags ?? 0) };
}

export function setMemoryAttributes(w: World, op: SetMemoryAttributesOp & StepMeta): Decision {
  const c = setMemoryAttributesContext(w, op);
  const checks = setMemoryAttributesChecksFor(w.profile.choices.vmAttributesInPlaceErrno ?? 'EINVAL');
  const f = firstFailure(checks, c);
  if (f) return refused(f);
  const vm = vmOf(c);
  const gfn = Number(c.address / PAGE);
  const n = Number(c.size / PAGE);
  const priv = (c.attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE) !== 0n;
  const v = w.vm(vm);
  v.privateRanges = setRange(v.privateRanges, gfn, gfn + n, priv);
  if (v.pendingConversion) {
    v.pendingConversion = v.pendingConversion.filter(([a, b]) => b <= gfn || a >= gfn + n);
    if (!v.pendingConversion.length) delete v.pendingConversion;
  }
  zapGpaRange(w, vm, gfn, n);
  return success(
    'set_memory_attributes.ok',
    'the GFN range takes the attributes; KVM mappings are zapped; guest_memfd contents are not touched',
    'kernel-abi.md §2.15',
  );
}

export interface Attr2Ctx {
  w: World;
  gmem: string;
  offset: bigint;
  size: bigint;
  attributes: bigint;
  flags: bigint;
}

const gmemOf = (c: Attr2Ctx): number | undefined => c.w.openFdOf(c.gmem, 'gmem');

export function setMemoryAttributes2Checks(): Check<Attr2Ctx>[] {
  // The gate is global (module parameter gmem_in_place_conversion), not per VM: with it on, every
  // guest_memfd has the ioctl and a VM without private memory is refused further down with EINVAL.
  const inPlace = (c: Attr2Ctx) => c.w.profile.gmemAttributes !== undefined;
  return [
    {
      id: 'set_memory_attributes2.fd-closed',
      errno: 'EBADF',
      says: 'an ioctl on a closed fd fails with EBADF',
      cite: 'fdget',
      fails: (c) => c.w.fd(c.gmem).kind !== 'open',
    },
    {
      id: 'set_memory_attributes2.no-in-place',
      errno: 'ENOTTY',
      says: 'without in-place conversion (gmem_in_place_conversion=0, or a kernel without it) the guest_memfd has no ioctls: ENOTTY',
      cite: 'kernel-abi.md §2.3, §2.16 (gate); kernel here',
      fails: (c) => !inPlace(c),
    },
    {
      id: 'set_memory_attributes2.flags',
      errno: 'EINVAL',
      says: 'non-zero flags fail with EINVAL (the RFC content modes were dropped)',
      cite: 'kernel-abi.md §2.16 step 2',
      fails: (c) => c.flags !== 0n,
    },
    {
      id: 'set_memory_attributes2.no-private-mem',
      errno: 'EINVAL',
      says: 'a guest_memfd of a VM without private memory (e.g. the default VM), or not an fd of a guest_memfd, cannot convert: EINVAL',
      cite: 'kernel-abi.md §2.16 step 4',
      fails: (c) => {
        const g = gmemOf(c);
        if (g === undefined) return true;
        const r = c.w.vmRules(c.w.peekGmem(g).vm);
        return !r.hasPrivateMem || r.conversion !== 'in-place';
      },
    },
    {
      id: 'set_memory_attributes2.attributes',
      errno: 'EINVAL',
      says: 'attributes other than PRIVATE fail with EINVAL',
      cite: 'kernel-abi.md §2.16 step 5',
      fails: (c) => (c.attributes & ~KVM_MEMORY_ATTRIBUTE_PRIVATE) !== 0n,
    },
    {
      id: 'set_memory_attributes2.range',
      errno: 'EINVAL',
      says: 'size 0, or a range that wraps, fails with EINVAL',
      cite: 'kernel-abi.md §2.16 step 6',
      fails: (c) => c.size === 0n || c.offset + c.size >= U64,
    },
    {
      id: 'set_memory_attributes2.unaligned',
      errno: 'EINVAL',
      says: 'an offset or size that is not page-aligned fails with EINVAL',
      cite: 'kernel-abi.md §2.16 step 7',
      fails: (c) => !aligned(c.offset) || !aligned(c.size),
    },
    {
      id: 'set_memory_attributes2.past-eof',
      errno: 'EINVAL',
      says: 'a range that starts at or ends past EOF fails with EINVAL',
      cite: 'kernel-abi.md §2.16 step 8',
      fails: (c) => {
        const g = gmemOf(c);
        const size = g === undefined ? 0n : BigInt(c.w.peekGmem(g).sizePages) * PAGE;
        return c.offset >= size || c.offset + c.size > size;
      },
    },
  ];
}

/** Where an in-place conversion stopped: the page, and whether its huge folio (not the page) refused. */
export interface ConversionStop {
  page: number;
  folio: boolean;
}

/**
 * Whether committing page `i` would leave its huge folio needing a split or merge that the folio machine refuses
 * (unsafe references): asked before the page changes, as the kernel checks before it stores the attribute.
 */
function folioBlocksCommit(w: World, gmem: number, i: number, inRange: (j: number) => boolean, to: 'private' | 'shared'): boolean {
  const folioPages = w.folioPages(gmem);
  if (folioPages <= 1) return false;
  const inTransition = to === 'private' ? 'toPrivate' : 'toShared';
  const willBePrivate = (j: number) => {
    const a = w.page(gmem, j).attribute;
    return inRange(j) && a === inTransition ? to === 'private' : a === 'private' || a === 'toShared';
  };
  return w.folioRefuses(gmem, Math.floor(i / folioPages), { willBePrivate });
}

/** Convert pages [start, start+n) of a guest_memfd in place; returns the first page that refused, if any. */
export function convertInPlace(w: World, gmem: number, start: number, n: number, to: 'private' | 'shared'): number | undefined {
  return convertInPlaceStop(w, gmem, start, n, to)?.page;
}

/** convertInPlace, saying also whether a page's references or its huge folio stopped the conversion. */
export function convertInPlaceStop(w: World, gmem: number, start: number, n: number, to: 'private' | 'shared'): ConversionStop | undefined {
  const pages: number[] = [];
  for (let i = start; i < start + Math.min(n, MAX_CONVERT_PAGES); i++) pages.push(i);
  const inTransition = to === 'private' ? 'toPrivate' : 'toShared';
  // Phase 1 (whole range): zap host mappings in every process (to private) and stage-2 mappings. The page machine
  // refuses CONVERT_BEGIN to a page that is not in the state the conversion starts from.
  for (const i of pages) w.pageEvent(gmem, i, { type: 'CONVERT_BEGIN', to });
  // Phase 2 (in order): check references and commit; the first refusal stops, and nothing after it changes.
  const inRange = (j: number) => j >= start && j < start + pages.length;
  for (let k = 0; k < pages.length; k++) {
    const i = pages[k] as number;
    // Which pages this conversion commits (its own direction), not a refusal: CONVERT_COMMIT carries no direction,
    // so the machine would also commit a page a pending guest request is converting the other way.
    if (w.page(gmem, i).attribute !== inTransition) continue;
    // The page's own references are checked first (elevated-refcount); then its folio's split or merge.
    const folio = w.pageCan(gmem, i, { type: 'CONVERT_COMMIT' }) && folioBlocksCommit(w, gmem, i, inRange, to);
    if (folio || !w.pageEvent(gmem, i, { type: 'CONVERT_COMMIT' })) {
      for (const j of pages.slice(k)) if (w.page(gmem, j).attribute === inTransition) w.pageEvent(gmem, j, { type: 'CONVERT_ABORT' });
      return { page: i, folio };
    }
  }
  return undefined;
}

const cachedSetMemoryAttributes2Checks = checkListCache(setMemoryAttributes2Checks);

/** The context KVM_SET_MEMORY_ATTRIBUTES2's checks read: step() and the failure generator both build it here. */
export function setMemoryAttributes2Context(w: World, op: SetMemoryAttributes2Op): Attr2Ctx {
  return { w, gmem: op.gmem, offset: u64(op.offset), size: u64(op.size), attributes: u64(op.attributes), flags: u64(op.flags ?? 0) };
}

export function setMemoryAttributes2(w: World, op: SetMemoryAttributes2Op & StepMeta): Decision {
  const c = setMemoryAttributes2Context(w, op);
  const f = firstFailure(cachedSetMemoryAttributes2Checks(null), c);
  if (f) return refused(f);
  const g = gmemOf(c) as number;
  const to = (c.attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE) !== 0n ? 'private' : 'shared';
  const start = Number(c.offset / PAGE);
  const stop = convertInPlaceStop(w, g, start, Number(c.size / PAGE), to);
  if (stop !== undefined) {
    const outcome = w.profile.gmemAttributes?.errorOffset
      ? { errno: 'EAGAIN' as const, error_offset: stop.page * 4096 }
      : { errno: 'EAGAIN' as const };
    if (stop.folio)
      return {
        outcome,
        rule: {
          id: 'set_memory_attributes2.folio-busy',
          says: 'a huge folio whose pages hold unexpected references cannot be split (to shared) or merged (to private): EAGAIN, error_offset = its first page in the range, nothing changed from there on',
          cite: 'kernel-abi.md §4.4 (split/merge of folios on conversion; unsafe refcounts → EAGAIN), §2.16 (error_offset)',
        },
      };
    return {
      outcome,
      rule: {
        id: 'set_memory_attributes2.elevated-refcount',
        says: 'a folio with unexpected references (e.g. a long-term pin) stops conversion to private: EAGAIN, error_offset = that page, nothing changed from there on',
        cite: 'kernel-abi.md §2.16 (to PRIVATE step 2); elevated_refcount selftest',
      },
    };
  }
  // The signal a later host fault gets is the platform's (pKVM: SIGSEGV), the one access.private raises.
  const signal = c.w.vmRules(c.w.peekGmem(g).vm).privateHostAccess;
  return success(
    `set_memory_attributes2.${to}`,
    to === 'private'
      ? `the range becomes private: host mappings zapped in every process, later host faults ${signal}`
      : 'the range becomes shared: private mappings zapped, the trusted entity releases the pages, host faults succeed',
    to === 'private' ? 'kernel-abi.md §2.16 (to PRIVATE step 4), §5 (host touches private memory)' : 'kernel-abi.md §2.16',
  );
}

type RequestCtx = GpaRangeCtx;

const guestRequestConversionChecks = checkListCache((): Check<RequestCtx>[] => [
  ...vcpuFdChecks<RequestCtx>('guest_request_conversion'),
  {
    id: 'guest_request_conversion.no-private-mem',
    errno: 'EINVAL',
    says: 'an arm64 VM without private memory has no conversions to request (on x86, KVM_HC_MAP_GPA_RANGE reaches userspace from any VM once KVM_CAP_EXIT_HYPERCALL enables it: measured on the lab)',
    cite: 'kernel-abi.md §2.17 (KVM_HC_MAP_GPA_RANGE); arch/x86/kvm/x86.c kvm_emulate_hypercall (7.3)',
    fails: (c) => c.w.profile.arch === 'arm64' && !c.w.vmRules(vmOf(c)).hasPrivateMem,
  },
  {
    id: 'guest_request_conversion.range',
    errno: 'EINVAL',
    says: 'an empty or unaligned range is refused',
    cite: 'KVM_HC_MAP_GPA_RANGE',
    fails: (c) => c.size === 0n || !aligned(c.gpa) || !aligned(c.size),
  },
]);

export function guestRequestConversion(w: World, op: GuestRequestConversionOp & StepMeta): Decision {
  const c: RequestCtx = { w, vm: op.vm, gpa: u64(op.gpa), size: u64(op.size) };
  const f = firstFailure(guestRequestConversionChecks(null), c);
  if (f) return refused(f);
  const vm = vmOf(c);
  const gfn = Number(c.gpa / PAGE);
  const n = Number(c.size / PAGE);
  const to = op.private ? 'private' : 'shared';
  const v = w.vm(vm);
  // A new request for a range replaces any pending one for the same range.
  const others = (v.pendingConversion ?? []).filter(([a, b]) => b <= gfn || a >= gfn + n);
  v.pendingConversion = [...others, [gfn, gfn + n, to] as [number, number, 'private' | 'shared']].sort((x, y) => x[0] - y[0]);
  // In place, the pages enter their in-transition state: the guest asked, userspace has not answered yet.
  if (w.vmRules(vm).conversion === 'in-place') {
    for (const m of v.memslots) {
      if (m.gmem < 0 || m.gmemGone) continue;
      const a = Math.max(gfn, m.gfn);
      const b = Math.min(gfn + n, m.gfn + m.npages);
      // The page machine refuses CONVERT_BEGIN to a page already converting or already `to`.
      for (let g = a; g < b; g++) w.pageEvent(m.gmem, m.gmemStart + (g - m.gfn), { type: 'CONVERT_BEGIN', to });
    }
  }
  return success(
    'guest_request_conversion.exit',
    "the guest's request reaches userspace as KVM_EXIT_HYPERCALL(MAP_GPA_RANGE); pages wait in transition",
    'kernel-abi.md §2.17',
  );
}
