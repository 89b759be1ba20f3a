/**
 * userfaultfd on guest_memfd mappings (kernel-abi.md §4.3; seed 002). A process registers a range of a mapping
 * with its userfaultfd in MINOR or MISSING mode (UFFDIO_REGISTER); a later fault there is reported to the
 * userfaultfd instead of being resolved: MINOR when the page is already in the page cache but not mapped here,
 * MISSING when it is a hole. UFFDIO_CONTINUE maps the page-cache page and wakes the waiter.
 *
 * Which modes a guest_memfd VMA accepts is the profile's `uffd.registerModes`: none in Linux 7.3 (guest_memfd's
 * vm_ops have no vm_uffd_ops, so vma_can_userfault() refuses every mode with EINVAL; measured on the lab), MINOR
 * and MISSING in the proposal (uffd-minor). A profile without `uffd` does not model it (not_modelled).
 *
 * The blocked access: a fault that raises a userfault has the outcome `{access: 'UFFD_MINOR' | 'UFFD_MISSING'}`.
 * The native helper reads the userfaultfd's message (a PAGEFAULT at that address, with or without the MINOR
 * flag) and then abandons the access (native/PROTOCOL.md), so nothing of it happens; a trace resolves the fault
 * with uffd_continue (or a write to the file) and repeats the access. So the model keeps no pending accesses.
 */
import type { Outcome, StepMeta, UffdContinueOp, UffdMode, UffdRegisterOp } from '../ops.ts';
import type { MapState, UffdRegistration } from '../state.ts';
import type { World } from '../world.ts';
import { type Check, checkListCache, firstFailure } from './check.ts';
import { type Decision, PAGE, refused, s64, success, u64 } from './decision.ts';

/** A mapping's registration of one mapping-relative page, if any. */
export function registrationOf(map: MapState, page: number): UffdMode | undefined {
  return map.uffd?.find((r) => r.page === page)?.mode;
}

/** The mapping without its registrations: a fork's child (no UFFD_FEATURE_EVENT_FORK: dup_userfaultfd clears them). */
export function withoutUffd(map: MapState): MapState {
  const { uffd: _dropped, ...rest } = map;
  return rest;
}

export interface Userfault {
  outcome: Outcome;
  id: string;
  says: string;
  cite: string;
}

/**
 * Whether a fault on `page` (a file page) through mapping `mapIndex` at mapping-relative page `rel` raises a
 * userfault instead of being resolved. Asked by the host fault path (spec/rules/memAccess.ts faultIn) after the
 * SIGSEGV and EOF checks and before the private check: a page this mapping already maps takes no fault, and a
 * page the fault handler refuses (private) is refused before the page cache is looked at, so neither raises one.
 */
export function userfault(w: World, mapIndex: number, map: MapState, rel: number, page: number): Userfault | undefined {
  const mode = registrationOf(map, rel);
  if (!mode) return undefined;
  const p = w.page(map.gmem, page);
  if (p.hostMappers.includes(mapIndex)) return undefined;
  if (!w.pageCan(map.gmem, page, { type: 'HOST_FAULT', mapper: mapIndex })) return undefined;
  const inPageCache = p.backing !== 'hole';
  if (mode === 'minor' && inPageCache)
    return {
      outcome: { access: 'UFFD_MINOR' },
      id: 'access.uffd-minor',
      says: 'a fault on a MINOR-registered page that is in the page cache but not mapped here raises a minor userfault: the access waits for UFFDIO_CONTINUE',
      cite: 'kernel-abi.md §4.3; seed 002 (uffd minor on guest_memfd); userfaultfd(2) UFFDIO_REGISTER_MODE_MINOR',
    };
  if (mode === 'missing' && !inPageCache)
    return {
      outcome: { access: 'UFFD_MISSING' },
      id: 'access.uffd-missing',
      says: 'a fault on a MISSING-registered page that is a hole raises a missing userfault: the access waits for UFFDIO_COPY or a write to the file',
      cite: 'kernel-abi.md §4.3 (MISSING in the vm_uffd_ops design); userfaultfd(2) UFFDIO_REGISTER_MODE_MISSING',
    };
  return undefined;
}

/** Whether an access outcome is a userfault (the access blocks; callers that fault pages in pass it on). */
export function isUserfault(o: Outcome): boolean {
  return 'access' in o && (o.access === 'UFFD_MINOR' || o.access === 'UFFD_MISSING');
}

interface Range {
  map: { map: MapState; index: number } | undefined;
  start: bigint;
  len: bigint;
}

function rangeOf(w: World, op: { map: string; offset: UffdRegisterOp['offset']; length: UffdRegisterOp['length'] }): Range {
  return { map: w.map(op.map), start: s64(op.offset), len: u64(op.length) };
}

const misaligned = (r: Range): boolean => r.start % PAGE !== 0n || r.len % PAGE !== 0n || r.len === 0n;
const outside = (r: Range): boolean => !r.map || r.start < 0n || r.start + r.len > BigInt(r.map.map.npages) * PAGE;

/** Mapping-relative pages of a range that passed the checks above. */
function pagesOf(r: Range): number[] {
  const out: number[] = [];
  for (let at = r.start; at < r.start + r.len; at += PAGE) out.push(Number(at / PAGE));
  return out;
}

/** What the checks of a userfaultfd ioctl read: the operation and the range of the mapping it names. */
export interface UffdCtx<O> {
  w: World;
  op: O;
  range: Range;
}
export type UffdRegisterCtx = UffdCtx<UffdRegisterOp>;
export type UffdContinueCtx = UffdCtx<UffdContinueOp>;

/** The context a userfaultfd ioctl's checks read: step() and the failure generator both build it here. */
function uffdContext<O extends UffdRegisterOp | UffdContinueOp>(w: World, op: O): UffdCtx<O> {
  return { w, op, range: rangeOf(w, op) };
}

/** validate_range, the first check of both ioctls (`cite` names the kernel function that calls it). */
function rangeInvalidCheck<O>(op: string, ioctl: string, cite: string): Check<UffdCtx<O>> {
  return {
    id: `${op}.range-invalid`,
    errno: 'EINVAL',
    says: `${ioctl} of a range that is empty or not page-aligned fails with EINVAL`,
    cite,
    fails: ({ range }) => misaligned(range),
  };
}

export const uffdRegisterChecks = checkListCache<null, UffdRegisterCtx>(() => [
  rangeInvalidCheck('uffd_register', 'UFFDIO_REGISTER', 'mm/userfaultfd.c userfaultfd_register, validate_range (linux-source-7.3)'),
  {
    id: 'uffd_register.no-vma',
    errno: 'EINVAL',
    says: "UFFDIO_REGISTER of a range that is not inside the mapping (unmapped, or a failed mmap) fails with EINVAL: there is no VMA of this trace's to register",
    cite: 'mm/userfaultfd.c userfaultfd_register (vma_find; linux-source-7.3)',
    fails: ({ range }) => outside(range),
  },
  {
    id: 'uffd_register.vma-cannot-userfault',
    errno: 'EINVAL',
    says: "UFFDIO_REGISTER in a mode the guest_memfd VMA does not support fails with EINVAL (7.3: guest_memfd's vm_ops have no vm_uffd_ops, so no mode is supported)",
    cite: 'mm/userfaultfd.c vma_can_userfault (linux-source-7.3); measured on the lab (scripts/lab-probes/uffd-guest-memfd.c)',
    fails: ({ w, op }) => !(w.profile.uffd?.registerModes.includes(op.mode) ?? false),
  },
]);

export const uffdRegisterContext: (w: World, op: UffdRegisterOp) => UffdRegisterCtx = uffdContext;

function notModelled(w: World, op: string): Decision {
  return {
    outcome: { not_modelled: `${w.profile.name} does not say what userfaultfd does on guest_memfd` },
    rule: { id: `${op}.not-modelled`, says: 'this profile has no userfaultfd semantics', cite: 'spec/rules/uffd.ts' },
  };
}

export function uffdRegister(w: World, op: UffdRegisterOp & StepMeta): Decision {
  if (!w.profile.uffd) return notModelled(w, 'uffd_register');
  const c = uffdRegisterContext(w, op);
  const f = firstFailure(uffdRegisterChecks(null), c);
  if (f) return refused(f);
  const m = c.range.map as { map: MapState; index: number };
  const pages = pagesOf(c.range);
  const kept = (m.map.uffd ?? []).filter((r) => !pages.includes(r.page));
  const added: UffdRegistration[] = pages.map((page) => ({ page, mode: op.mode }));
  const own = w.ownMap(m.index) as MapState;
  own.uffd = [...kept, ...added].sort((a, b) => a.page - b.page);
  return success(
    'uffd_register.ok',
    `UFFDIO_REGISTER_MODE_${op.mode.toUpperCase()} on a guest_memfd mapping succeeds: its faults now go to the userfaultfd`,
    w.profile.uffd.source,
  );
}

export const uffdContinueChecks = checkListCache<null, UffdContinueCtx>(() => [
  rangeInvalidCheck('uffd_continue', 'UFFDIO_CONTINUE', 'mm/userfaultfd.c userfaultfd_continue, validate_range (linux-source-7.3)'),
  {
    id: 'uffd_continue.not-registered',
    errno: 'ENOENT',
    says: 'UFFDIO_CONTINUE of a range that is not inside one VMA registered with this userfaultfd fails with ENOENT',
    cite: 'mm/userfaultfd.c uffd_mfill_lock, validate_dst_vma (linux-source-7.3); measured on the lab',
    fails: ({ w, range }) => {
      if (outside(range)) return true;
      const map = (range.map as { map: MapState }).map;
      // A registration is the registering process's (its mm): another process's mapping is not this userfaultfd's.
      if (map.proc !== w.s.proc) return true;
      // Pages registered in different modes are different VMAs (registration splits the VMA).
      const modes = new Set(pagesOf(range).map((p) => registrationOf(map, p)));
      return modes.size !== 1 || modes.has(undefined);
    },
  },
]);

export const uffdContinueContext: (w: World, op: UffdContinueOp) => UffdContinueCtx = uffdContext;

/** Why UFFDIO_CONTINUE cannot map one page, or undefined when it can. */
function cannotContinue(
  w: World,
  mapIndex: number,
  map: MapState,
  page: number,
): { errno: 'EFAULT' | 'EEXIST'; id: string; says: string } | undefined {
  if (page >= w.peekGmem(map.gmem).sizePages || w.page(map.gmem, page).backing === 'hole')
    return {
      errno: 'EFAULT',
      id: 'uffd_continue.no-page',
      says: 'UFFDIO_CONTINUE where the page cache has no page (a hole, or past EOF) fails with EFAULT',
    };
  if (!w.pageCan(map.gmem, page, { type: 'HOST_FAULT', mapper: mapIndex }))
    return {
      errno: 'EFAULT',
      id: 'uffd_continue.private',
      says: 'UFFDIO_CONTINUE of a private page fails with EFAULT: only shared, host-faultable pages are involved (the proposal), so no folio is handed out',
    };
  if (w.page(map.gmem, page).hostMappers.includes(mapIndex))
    return { errno: 'EEXIST', id: 'uffd_continue.mapped', says: 'UFFDIO_CONTINUE where the page is already mapped fails with EEXIST' };
  return undefined;
}

export function uffdContinue(w: World, op: UffdContinueOp & StepMeta): Decision {
  if (!w.profile.uffd) return notModelled(w, 'uffd_continue');
  const c = uffdContinueContext(w, op);
  const f = firstFailure(uffdContinueChecks(null), c);
  if (f) return refused(f);
  const m = c.range.map as { map: MapState; index: number };
  const cite = 'kernel-abi.md §4.3; mm/userfaultfd.c mfill_atomic_pte_continue (linux-source-7.3)';
  let done = 0;
  for (const rel of pagesOf(c.range)) {
    const page = m.map.start + rel;
    const why = cannotContinue(w, m.index, m.map, page);
    if (why) {
      // Pages before the failing one stay mapped; the ioctl then reports the partial count with EAGAIN.
      if (done > 0)
        return {
          outcome: { errno: 'EAGAIN' },
          rule: {
            id: 'uffd_continue.partial',
            says: `UFFDIO_CONTINUE maps the pages before one it cannot (${why.says}) and fails with EAGAIN`,
            cite,
          },
        };
      return { outcome: { errno: why.errno }, rule: { id: why.id, says: why.says, cite } };
    }
    w.pageEvent(m.map.gmem, page, { type: 'HOST_FAULT', mapper: m.index });
    done++;
  }
  return success(
    'uffd_continue.ok',
    'UFFDIO_CONTINUE maps the page-cache pages into the registered range and wakes the waiting accesses',
    cite,
  );
}
