/**
 * fallocate(2) on a guest_memfd: the VFS checks, then kvm_gmem_fallocate (kernel-abi.md §2.6-2.7). The order
 * below is the one measured on the kernel here (docs/kernel-observations.md): EBADF, EINVAL (offset < 0 or
 * len <= 0), the VFS mode checks (EOPNOTSUPP), EFBIG (end past 2^63-1), then guest_memfd's own checks.
 */
import { FALLOC_FL, FALLOC_VFS_KNOWN } from '../constants.ts';
import type { FallocateOp, StepMeta } from '../ops.ts';
import type { PinState } from '../state.ts';
import type { World } from '../world.ts';
import { type Check, checkListCache, firstFailure } from './check.ts';
import { type Decision, PAGE, refused, s64, success } from './decision.ts';

export interface FallocCtx {
  w: World;
  gmem: string;
  mode: number;
  offset: bigint;
  len: bigint;
}

/** Largest allocation the state records page by page. */
const MAX_TRACKED_ALLOCATION = 1 << 16;

export function modeBits(mode: FallocateOp['mode']): number {
  if (mode === 'allocate') return FALLOC_FL.KEEP_SIZE;
  if (mode === 'punch_hole') return FALLOC_FL.PUNCH_HOLE | FALLOC_FL.KEEP_SIZE;
  return Number(BigInt.asUintN(32, BigInt(mode)));
}

const MODE_MASK =
  FALLOC_FL.PUNCH_HOLE |
  FALLOC_FL.COLLAPSE_RANGE |
  FALLOC_FL.ZERO_RANGE |
  FALLOC_FL.INSERT_RANGE |
  FALLOC_FL.UNSHARE_RANGE |
  FALLOC_FL.WRITE_ZEROES;

/** vfs_fallocate's mode validation: unknown bits, and KEEP_SIZE combinations each mode forbids or needs. */
function vfsModeInvalid(mode: number): boolean {
  if (mode & ~FALLOC_VFS_KNOWN) return true;
  const m = mode & MODE_MASK;
  const keep = (mode & FALLOC_FL.KEEP_SIZE) !== 0;
  if (m === 0 || m === FALLOC_FL.UNSHARE_RANGE || m === FALLOC_FL.ZERO_RANGE) return false;
  if (m === FALLOC_FL.PUNCH_HOLE) return !keep;
  if (m === FALLOC_FL.COLLAPSE_RANGE || m === FALLOC_FL.INSERT_RANGE || m === FALLOC_FL.WRITE_ZEROES) return keep;
  return true;
}

function sizeOf(c: FallocCtx): bigint {
  const g = c.w.openFdOf(c.gmem, 'gmem');
  return g === undefined ? 0n : BigInt(c.w.peekGmem(g).sizePages) * PAGE;
}

function folioBytes(c: FallocCtx): bigint {
  const g = c.w.openFdOf(c.gmem, 'gmem');
  return g === undefined ? PAGE : BigInt(c.w.folioPages(g)) * PAGE;
}

export function fallocateChecks(): Check<FallocCtx>[] {
  return [
    {
      id: 'fallocate.fd-closed',
      errno: 'EBADF',
      says: 'fallocate on a closed fd fails with EBADF',
      cite: 'ksys_fallocate',
      fails: (c) => c.w.fd(c.gmem).kind !== 'open',
    },
    {
      id: 'fallocate.range-invalid',
      errno: 'EINVAL',
      says: 'a negative offset or a length <= 0 fails with EINVAL',
      cite: 'vfs_fallocate; kernel here',
      fails: (c) => c.offset < 0n || c.len <= 0n,
    },
    {
      id: 'fallocate.vfs-mode',
      errno: 'EOPNOTSUPP',
      says: 'an unknown mode bit, PUNCH_HOLE without KEEP_SIZE, or a KEEP_SIZE combination the mode forbids fails with EOPNOTSUPP',
      cite: 'vfs_fallocate; kernel here',
      fails: (c) => vfsModeInvalid(c.mode),
    },
    {
      id: 'fallocate.not-gmem',
      errno: 'ENODEV',
      says: 'fallocate on a VM fd (an anonymous inode that is not a regular file) fails with ENODEV, before the size limit is looked at',
      cite: 'vfs_fallocate',
      fails: (c) => {
        const f = c.w.fd(c.gmem);
        return f.kind === 'open' && f.fd.kind !== 'gmem';
      },
    },
    {
      id: 'fallocate.end-too-large',
      errno: 'EFBIG',
      says: 'a range ending past the largest file offset (2^63-1) fails with EFBIG',
      cite: 'vfs_fallocate s_maxbytes; kernel here',
      fails: (c) => c.offset + c.len > (1n << 63n) - 1n,
    },
    {
      id: 'fallocate.no-keep-size',
      errno: 'EOPNOTSUPP',
      says: 'guest_memfd requires FALLOC_FL_KEEP_SIZE: plain fallocate(fd, 0, ...) fails with EOPNOTSUPP',
      cite: 'kernel-abi.md §2.6 step 1',
      fails: (c) => (c.mode & FALLOC_FL.KEEP_SIZE) === 0,
    },
    {
      id: 'fallocate.gmem-mode',
      errno: 'EOPNOTSUPP',
      says: 'any mode other than KEEP_SIZE or PUNCH_HOLE|KEEP_SIZE fails with EOPNOTSUPP',
      cite: 'kernel-abi.md §2.6 step 2',
      fails: (c) => (c.mode & ~(FALLOC_FL.KEEP_SIZE | FALLOC_FL.PUNCH_HOLE)) !== 0,
    },
    {
      id: 'fallocate.unaligned',
      errno: 'EINVAL',
      says: 'an offset or length that is not page-aligned (folio-aligned for huge folios) fails with EINVAL',
      cite: 'kernel-abi.md §2.6 step 3; test_invalid_punch_hole',
      fails: (c) => c.offset % folioBytes(c) !== 0n || c.len % folioBytes(c) !== 0n,
    },
    {
      id: 'fallocate.allocate-past-eof',
      errno: 'EINVAL',
      says: 'allocating at or beyond EOF fails with EINVAL: allocation cannot grow the file',
      cite: 'kernel-abi.md §2.6 step 4; test_fallocate',
      fails: (c) => (c.mode & FALLOC_FL.PUNCH_HOLE) === 0 && c.offset + c.len > sizeOf(c),
    },
  ];
}

const cachedFallocateChecks = checkListCache(fallocateChecks);

/** Punch [start, start+npages) out of the file: pages become holes, lose host and guest mappings and pins. */
export function punchRange(w: World, gmemId: number, start: number, npages: number): void {
  if (w.profile.deviations?.punchKeepsData) return;
  const folioPages = w.folioPages(gmemId);
  if (folioPages > 1) {
    // Huge folios go whole or not at all: only the folios inside the range (as hugetlbfs rounds a punch inward;
    // fallocate refuses an unaligned range before this), and only those the folio machine lets go.
    for (let f = Math.ceil(start / folioPages); (f + 1) * folioPages <= start + npages; f++)
      if (!w.folioRefuses(gmemId, f, { punched: true })) punchPages(w, gmemId, f * folioPages, folioPages);
    return;
  }
  punchPages(w, gmemId, start, npages);
}

/**
 * The first huge folio in [start, start+npages) that a punch cannot free: split, with a page still referenced
 * (it must be merged back before it returns to the hugetlb pool, kernel-abi.md §4.4). undefined: none.
 */
export function firstBusyFolio(w: World, gmemId: number, start: number, npages: number): number | undefined {
  const folioPages = w.folioPages(gmemId);
  if (folioPages <= 1 || w.profile.deviations?.punchKeepsData) return undefined;
  for (let f = Math.ceil(start / folioPages); (f + 1) * folioPages <= start + npages; f++)
    if (w.folioRefuses(gmemId, f, { punched: true })) return f;
  return undefined;
}

function punchPages(w: World, gmemId: number, start: number, npages: number): void {
  for (const i of w.touchedPages(gmemId, start, npages)) {
    w.pageEvent(gmemId, i, { type: 'PUNCH' });
    for (let j = 0; j < w.s.pins.length; j++) {
      const p = w.s.pins[j] as PinState;
      // Only a pin that lists the page changes (World copies it first: the caller's state stays as it was).
      if (p.live && w.s.maps[p.map]?.gmem === gmemId && p.pages.includes(i)) {
        const own = w.pin(j) as PinState;
        own.pages = own.pages.filter((x) => x !== i);
      }
    }
  }
}

/** The context fallocate's checks read: step() and the failure generator both build it here. */
export function fallocateContext(w: World, op: FallocateOp): FallocCtx {
  return { w, gmem: op.gmem, mode: modeBits(op.mode), offset: s64(op.offset), len: s64(op.len) };
}

export function fallocate(w: World, op: FallocateOp & StepMeta): Decision {
  const c = fallocateContext(w, op);
  const f = firstFailure(cachedFallocateChecks(null), c);
  if (f) return refused(f);
  const fd = w.fd(op.gmem);
  if (fd.kind !== 'open') throw new Error('internal: checked above');
  const id = fd.fd.id;
  const size = w.peekGmem(id).sizePages;
  const first = Number(c.offset / PAGE);
  if (c.mode & FALLOC_FL.PUNCH_HOLE) {
    // No EOF check: a punch at or past EOF succeeds and touches nothing.
    const count = first >= size ? 0 : Math.min(size - first, Number(c.len / PAGE));
    const busy = firstBusyFolio(w, id, first, count);
    if (busy !== undefined) {
      // In order, as conversion: the folios before the busy one are punched, nothing from it on changes.
      punchRange(w, id, first, busy * w.folioPages(id) - first);
      return {
        outcome: { errno: 'EAGAIN' },
        rule: {
          id: 'fallocate.folio-busy',
          says: 'punching a split huge folio whose pages are still referenced (e.g. a long-term pin on a shared page) fails with EAGAIN: the folio cannot be merged back and freed',
          cite: 'kernel-abi.md §4.4 ("must re-merge folios; unsafe refcounts → EAGAIN")',
        },
      };
    }
    punchRange(w, id, first, count);
    return success(
      'fallocate.punch',
      'PUNCH_HOLE|KEEP_SIZE drops the folios: the next access reads zeroes; attributes are unchanged',
      'kernel-abi.md §2.7; test_mmap_supported',
    );
  }
  const count = Number(c.len / PAGE);
  // Allocation is not observable through the ABI (reads see zeroes either way, st_blocks stays 0 here), so a
  // huge range is not expanded page by page.
  if (count <= MAX_TRACKED_ALLOCATION) for (let i = first; i < first + count; i++) w.pageEvent(id, i, { type: 'ALLOCATE' });
  return success(
    'fallocate.allocate',
    'KEEP_SIZE allocates folios without zeroing them; zeroing happens on first use',
    'kernel-abi.md §2.6',
  );
}
