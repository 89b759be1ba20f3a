/** mmap / munmap / mprotect / madvise on a guest_memfd (kernel-abi.md §2.4, §2.11). */
import type { MmapOp, MprotectOp, MunmapOp, StepMeta } from '../ops.ts';
import type { Profile } from '../profile.ts';
import type { MapState } from '../state.ts';
import type { World } from '../world.ts';
import { hasEffect } from '../world.ts';
import { type Check, checkListCache, fdKindCheck, firstFailure } from './check.ts';
import { type Decision, PAGE, aligned, pagesOf, refused, success, u64 } from './decision.ts';

export interface MmapCtx {
  w: World;
  op: MmapOp;
}

const gmemOf = (c: MmapCtx): number | undefined => c.w.openFdOf(c.op.gmem, 'gmem');

export function mmapChecks(): Check<MmapCtx>[] {
  return [
    {
      id: 'mmap.offset-unaligned',
      errno: 'EINVAL',
      says: 'an mmap offset that is not page-aligned fails with EINVAL (checked before the fd)',
      cite: 'arch/x86 sys_mmap',
      fails: ({ op }) => !aligned(u64(op.offset)),
    },
    {
      id: 'mmap.fd-closed',
      errno: 'EBADF',
      says: 'mmap of a closed fd fails with EBADF',
      cite: 'ksys_mmap_pgoff',
      fails: ({ w, op }) => w.fd(op.gmem).kind !== 'open',
    },
    {
      id: 'mmap.length-zero',
      errno: 'EINVAL',
      says: 'an mmap of length 0 fails with EINVAL',
      cite: 'do_mmap',
      fails: ({ op }) => u64(op.length) === 0n,
    },
    {
      id: 'mmap.offset-overflow',
      errno: 'EOVERFLOW',
      says: 'a mapping of a regular file (guest_memfd) whose end lies past the largest file offset (2^63-1) fails with EOVERFLOW',
      cite: 'do_mmap file_mmap_ok (other files, e.g. a VM fd, have no such limit); kernel here',
      fails: (c) => gmemOf(c) !== undefined && u64(c.op.offset) + u64(c.op.length) > (1n << 63n) - 1n,
    },
    {
      id: 'mmap.exec-noexec-mount',
      errno: 'EPERM',
      says: 'PROT_EXEC on a guest_memfd (a noexec mount) is refused',
      cite: 'kernel-abi.md §2.4 step 3; do_mmap path_noexec',
      fails: ({ w, op }) => w.profile.choices.protExecErrno !== null && op.prot.includes('x'),
    },
    fdKindCheck<MmapCtx>('gmem', (c) => c.op.gmem, {
      id: 'mmap.no-mmap-method',
      errno: 'ENODEV',
      says: 'mmap of an fd whose file has no mmap method (a VM fd) fails with ENODEV',
      cite: 'do_mmap; kernel here',
    }),
    {
      id: 'mmap.not-mmap-capable',
      errno: 'ENODEV',
      says: 'mmap of a guest_memfd created without GUEST_MEMFD_FLAG_MMAP fails with ENODEV',
      cite: 'kernel-abi.md §2.4 step 1; test_mmap_not_supported',
      fails: (c) => {
        const g = gmemOf(c);
        return g !== undefined && !hasEffect(c.w.flagDefs(g), (e) => e.enablesMmap);
      },
    },
    {
      id: 'mmap.map-private',
      errno: 'EINVAL',
      says: 'MAP_PRIVATE (copy-on-write) of a guest_memfd fails with EINVAL: only MAP_SHARED',
      cite: 'kernel-abi.md §2.4 step 2; test_mmap_cow',
      fails: ({ op }) => !op.shared,
    },
  ];
}

/** mmapChecks with the profile's errno for PROT_EXEC on the noexec mount, by that errno. */
const mmapChecksFor = checkListCache((protExecErrno: Profile['choices']['protExecErrno']) =>
  mmapChecks().map((c) => (c.id === 'mmap.exec-noexec-mount' ? { ...c, errno: protExecErrno ?? c.errno } : c)),
);

/** The context mmap's checks read: step() and the failure generator both build it here. */
export function mmapContext(w: World, op: MmapOp): MmapCtx {
  return { w, op };
}

export function mmap(w: World, op: MmapOp & StepMeta): Decision {
  const checks = mmapChecksFor(w.profile.choices.protExecErrno);
  const f = firstFailure(checks, mmapContext(w, op));
  if (f) {
    w.name(op.as, { failed: 'map' });
    return refused(f);
  }
  const fd = w.fd(op.gmem);
  if (fd.kind !== 'open') throw new Error('internal: checked above');
  const length = u64(op.length);
  const index = w.newMap({
    gmem: fd.fd.id,
    start: pagesOf(u64(op.offset)),
    npages: pagesOf(length + PAGE - 1n),
    prot: op.prot,
    proc: w.s.proc,
    live: true,
  });
  w.gmemEvent(fd.fd.id, { type: 'MAPPED' });
  w.name(op.as, { map: index });
  return success(
    'mmap.ok',
    'mmap(MAP_SHARED) of an MMAP guest_memfd succeeds; nothing is faulted in yet, and the mapping may extend past EOF',
    'kernel-abi.md §2.4',
  );
}

export function munmap(w: World, op: MunmapOp & StepMeta): Decision {
  w.ref(op.map);
  const m = w.map(op.map);
  if (m) w.unmap(m.index);
  return success(
    'munmap.ok',
    'munmap zaps the PTEs and drops the file reference; unmapping where nothing is mapped (after munmap, or a failed mmap) also succeeds',
    'kernel-abi.md §2.12; munmap(2)',
  );
}

export function mprotect(w: World, op: MprotectOp & StepMeta): Decision {
  w.ref(op.map);
  const m = w.map(op.map);
  // A failed mmap's handle names an address where nothing is mapped, like an unmapped one.
  if (!m)
    return {
      outcome: { errno: 'ENOMEM' },
      rule: {
        id: 'mprotect.unmapped',
        says: 'mprotect where nothing is mapped (unmapped, or a failed mmap) fails with ENOMEM',
        cite: 'mprotect(2)',
      },
    };
  const exec = w.profile.choices.mprotectExecErrno;
  if (exec && op.prot.includes('x')) {
    return {
      outcome: { errno: exec },
      rule: {
        id: 'mprotect.exec-noexec-mount',
        says: 'adding PROT_EXEC to a noexec file mapping is refused (VM_MAYEXEC is clear)',
        cite: 'do_mmap path_noexec; mprotect_fixup',
      },
    };
  }
  (w.ownMap(m.index) as MapState).prot = op.prot;
  return success('mprotect.ok', "mprotect changes the mapping's protection", 'mprotect(2)');
}

export { madvise } from './madvise.ts';
