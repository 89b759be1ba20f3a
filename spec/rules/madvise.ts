/**
 * madvise on a guest_memfd mapping (a MAP_SHARED file mapping; kernel-abi.md §2.11, mm/madvise.c). What each
 * advice does to such a mapping:
 *
 *   zap            dontneed and dontneed_locked (where the profile says dontneed zaps): the PTEs go, the page cache
 *                  keeps the data
 *   punch          remove: fallocate(PUNCH_HOLE) of the range
 *   populate       populate_read / populate_write: fault every page in, as a read or a write access would; a page
 *                  that cannot be faulted (private, past EOF, guarded, against the protection) stops it with
 *                  EFAULT, keeping the pages faulted before it
 *   guard          guard_install zaps the range and leaves guard markers: later accesses are SIGSEGV and GUP
 *                  (pins, populate) fails; guard_remove takes them away
 *   fork flags     dontfork / dofork: whether the mapping exists in a forked child; wipeonfork is for private
 *                  anonymous memory only (EINVAL on a file mapping); keeponfork clears a flag that is never set
 *   VMA hints      normal, random, sequential, willneed, hugepage, nohugepage, dontdump, dodump, mergeable,
 *                  unmergeable (KSM never merges shared file pages), cold, pageout (guest_memfd folios are
 *                  unevictable): succeed and change nothing the model tracks
 *
 * A profile's `choices.madvise` overrides any of these with a measured outcome (linux-6.18: collapse and free
 * are EINVAL). A range that runs past the mapping is applied to the mapped part, then fails with ENOMEM.
 */
import type { MadviseName } from '../constants.ts';
import type { MadviseOp, StepMeta } from '../ops.ts';
import type { MapState } from '../state.ts';
import type { World } from '../world.ts';
import { type Decision, PAGE, aligned, pagesOf, s64, success, u64 } from './decision.ts';
import { punchRange } from './fallocate.ts';
import { faultIn } from './memAccess.ts';
import { isUserfault } from './uffd.ts';

/** The pages of [first, first+count) that lie in the mapping (mapping-relative), and whether any did not. */
function inMapping(map: MapState, first: number, count: number): { pages: number[]; beyond: boolean } {
  const pages: number[] = [];
  for (let p = first; p < first + count; p++) if (p < map.npages) pages.push(p);
  return { pages, beyond: pages.length < count };
}

const unmappedTail = (advice: MadviseName): Decision => ({
  outcome: { errno: 'ENOMEM' },
  rule: {
    id: 'madvise.range-unmapped',
    says: `madvise(MADV_${advice.toUpperCase()}) over a range that is not all mapped applies to the mapped part, then fails with ENOMEM`,
    cite: 'madvise(2); mm/madvise.c (madvise_walk_vmas)',
  },
});

/** MADV_POPULATE_READ/WRITE: fault each page in, in order; the first that cannot be faulted ends it with EFAULT. */
function populate(w: World, op: MadviseOp, index: number, pages: readonly number[]): Decision | undefined {
  const access = op.advice === 'populate_write' ? 'write' : 'read';
  for (const p of pages) {
    const map = w.s.maps[index] as MapState;
    const r = faultIn(w, index, map, BigInt(p) * PAGE, access);
    if ('outcome' in r) {
      // A userfault blocks the populating thread as it blocks an access (spec/rules/uffd.ts).
      if (isUserfault(r.outcome)) return { outcome: r.outcome, rule: { id: `madvise.${op.advice}.${r.id}`, says: r.says, cite: r.cite } };
      return {
        outcome: { errno: 'EFAULT' },
        rule: {
          id: `madvise.${op.advice}.fault`,
          says: `MADV_${op.advice.toUpperCase()} stops with EFAULT at a page a ${access} fault cannot map (here: ${r.says}); the pages before it stay faulted in`,
          cite: 'mm/madvise.c (madvise_populate); mm/gup.c faultin_page_range',
        },
      };
    }
  }
  return undefined;
}

export function madvise(w: World, op: MadviseOp & StepMeta): Decision {
  w.ref(op.map);
  if (!aligned(u64(op.offset)) || s64(op.length) < 0n) {
    return {
      outcome: { errno: 'EINVAL' },
      rule: {
        id: 'madvise.unaligned',
        says: 'madvise at an unaligned address or with a negative length fails with EINVAL',
        cite: 'madvise(2)',
      },
    };
  }
  const m = w.map(op.map);
  if (!m)
    return {
      outcome: { errno: 'ENOMEM' },
      rule: {
        id: 'madvise.unmapped',
        says: 'madvise where nothing is mapped (unmapped, or a failed mmap) fails with ENOMEM',
        cite: 'madvise(2)',
      },
    };
  // MADV_DONTNEED_LOCKED is MADV_DONTNEED that also applies to locked VMAs: it does what DONTNEED does here.
  const choices = w.profile.choices.madvise;
  const how = choices[op.advice] ?? (op.advice === 'dontneed_locked' ? choices.dontneed : undefined);
  const first = pagesOf(u64(op.offset));
  const count = pagesOf(u64(op.length) + PAGE - 1n);
  const { pages, beyond } = inMapping(m.map, first, count);
  const done = (d: Decision): Decision => (beyond && !('errno' in d.outcome) ? unmappedTail(op.advice) : d);
  if (how === 'zap') {
    for (const i of w.touchedPages(m.map.gmem, m.map.start + first, pages.length)) {
      w.pageEvent(m.map.gmem, i, { type: 'HOST_UNMAP', mapper: m.index });
    }
    return done(
      success(
        `madvise.${op.advice}.zap`,
        `MADV_${op.advice.toUpperCase()} zaps the PTEs; the page cache keeps the data, so a refault reads it back`,
        'kernel-abi.md §2.11; test_collapse',
      ),
    );
  }
  if (how === 'punch') {
    punchRange(
      w,
      m.map.gmem,
      m.map.start + first,
      Math.min(pages.length, Math.max(0, w.peekGmem(m.map.gmem).sizePages - m.map.start - first)),
    );
    return done(
      success(
        `madvise.${op.advice}.punch`,
        `MADV_${op.advice.toUpperCase()} punches the range out of the file`,
        'madvise(2) MADV_REMOVE → fallocate(PUNCH_HOLE)',
      ),
    );
  }
  if (how) {
    return {
      outcome: { errno: how },
      rule: {
        id: `madvise.${op.advice}.refused`,
        says: `MADV_${op.advice.toUpperCase()} on a guest_memfd mapping fails with ${how}`,
        cite: 'kernel-abi.md §2.11',
      },
    };
  }
  switch (op.advice) {
    case 'wipeonfork':
      return {
        outcome: { errno: 'EINVAL' },
        rule: {
          id: 'madvise.wipeonfork.file-mapping',
          says: 'MADV_WIPEONFORK is for private anonymous memory: on a file mapping it fails with EINVAL',
          cite: 'mm/madvise.c (madvise_vma_behavior)',
        },
      };
    case 'populate_read':
    case 'populate_write':
      return (
        populate(w, op, m.index, pages) ??
        done(
          success(
            `madvise.${op.advice}.ok`,
            `MADV_${op.advice.toUpperCase()} faults every page of the range in, as a ${op.advice === 'populate_write' ? 'write' : 'read'} would (allocating and zeroing on first use)`,
            'mm/madvise.c (madvise_populate)',
          ),
        )
      );
    case 'guard_install': {
      for (const i of w.touchedPages(m.map.gmem, m.map.start + first, pages.length))
        w.pageEvent(m.map.gmem, i, { type: 'HOST_UNMAP', mapper: m.index });
      const own = w.ownMap(m.index) as MapState;
      own.guards = [...new Set([...(own.guards ?? []), ...pages])].sort((a, b) => a - b);
      return done(
        success(
          'madvise.guard_install.ok',
          'MADV_GUARD_INSTALL zaps the range and installs guard markers: accesses there are SIGSEGV and GUP fails until MADV_GUARD_REMOVE; the file keeps its data',
          'mm/madvise.c (madvise_guard_install; file-backed mappings since 6.15)',
        ),
      );
    }
    case 'guard_remove': {
      const own = w.ownMap(m.index) as MapState;
      const left = (own.guards ?? []).filter((p) => !pages.includes(p));
      if (left.length) own.guards = left;
      else delete own.guards;
      return done(
        success(
          'madvise.guard_remove.ok',
          'MADV_GUARD_REMOVE takes the guard markers of the range away; nothing is faulted in',
          'mm/madvise.c (madvise_guard_remove)',
        ),
      );
    }
    case 'dontfork':
    case 'dofork':
      (w.ownMap(m.index) as MapState).dontfork = op.advice === 'dontfork';
      return done(success(`madvise.${op.advice}.ok`, `MADV_${op.advice.toUpperCase()} succeeds`, 'madvise(2)'));
    case 'mergeable':
    case 'unmergeable':
      return done(
        success(
          `madvise.${op.advice}.ok`,
          `MADV_${op.advice.toUpperCase()} succeeds (with CONFIG_KSM; without it the advice is EINVAL) and changes nothing: KSM never merges shared file pages`,
          'madvise(2); mm/madvise.c',
        ),
      );
    case 'normal':
    case 'random':
    case 'sequential':
    case 'willneed':
    case 'dontneed':
    case 'dontneed_locked':
    case 'free':
    case 'remove':
    case 'hugepage':
    case 'nohugepage':
    case 'dontdump':
    case 'dodump':
    case 'keeponfork':
    case 'cold':
    case 'pageout':
    case 'collapse':
      return done(
        success(
          `madvise.${op.advice}.ok`,
          `MADV_${op.advice.toUpperCase()} succeeds and changes nothing the model tracks on a guest_memfd mapping`,
          'madvise(2); mm/madvise.c',
        ),
      );
  }
}
