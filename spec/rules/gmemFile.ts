/**
 * KVM_CREATE_GUEST_MEMFD and the guest_memfd file operations: close, dup, fstat, ftruncate, read, write,
 * pread, pwrite (kernel-abi.md §2.1-2.3, §2.8-2.9).
 */
import { PAGE_SIZE } from '../constants.ts';
import type { CloseOp, CreateGmemOp, DupOp, FstatOp, FtruncateOp, PreadOp, PwriteOp, ReadOp, StepMeta, WriteOp } from '../ops.ts';
import type { World } from '../world.ts';
import { type Check, checkListCache, fdKindCheck, firstFailure } from './check.ts';
import { normInt } from '../json.ts';
import { type Decision, aligned, pagesOf, refused, s64, success, u64 } from './decision.ts';
import { acceptedFlagDefs, flagMask, vmFdChecks } from './kvm.ts';

export interface CreateCtx {
  w: World;
  vm: string;
  size: bigint;
  flags: bigint;
  reserved: bigint[];
}

function vmTypeOf(c: CreateCtx) {
  const vm = c.w.openFdOf(c.vm, 'vm');
  return vm === undefined ? undefined : c.w.peekVm(vm).type;
}

function flagNames(c: CreateCtx): Set<string> {
  return new Set(c.w.profile.flags.filter((d) => (c.flags >> BigInt(d.bit)) & 1n).map((d) => d.name));
}

export function createGmemChecks(): Check<CreateCtx>[] {
  return [
    ...vmFdChecks<CreateCtx>('create_gmem'),
    fdKindCheck<CreateCtx>('vm', (c) => c.vm, {
      id: 'create_gmem.not-vm-fd',
      errno: 'ENOTTY',
      says: 'KVM_CREATE_GUEST_MEMFD on an fd that is not a VM fails with ENOTTY',
      cite: 'vfs_ioctl',
    }),
    {
      id: 'create_gmem.flags-unsupported',
      errno: 'EINVAL',
      says: "a flag outside the VM type's supported set (KVM_CAP_GUEST_MEMFD_FLAGS) fails with EINVAL",
      cite: 'kernel-abi.md §2.1 step 2; test_guest_memfd_flags',
      fails: (c) => {
        const t = vmTypeOf(c);
        return t !== undefined && (c.flags & ~flagMask(acceptedFlagDefs(c.w.profile, t))) !== 0n;
      },
    },
    {
      id: 'create_gmem.flags-combination',
      errno: 'EINVAL',
      says: 'a flag whose required flag is missing, or with a conflicting flag, fails with EINVAL',
      cite: 'spec/flags (requires / conflictsWith)',
      fails: (c) => {
        const names = flagNames(c);
        return c.w.profile.flags.some(
          (d) => names.has(d.name) && ((d.requires ?? []).some((r) => !names.has(r)) || (d.conflictsWith ?? []).some((r) => names.has(r))),
        );
      },
    },
    {
      id: 'create_gmem.size-not-positive',
      errno: 'EINVAL',
      says: 'a size <= 0 (as a signed loff_t) fails with EINVAL',
      cite: 'kernel-abi.md §2.1 step 3',
      fails: (c) => BigInt.asIntN(64, c.size) <= 0n,
    },
    {
      id: 'create_gmem.size-unaligned',
      errno: 'EINVAL',
      says: 'a size that is not a multiple of the page size fails with EINVAL',
      cite: 'kernel-abi.md §2.1 step 3; test_create_guest_memfd_invalid_sizes',
      fails: (c) => !aligned(c.size),
    },
    {
      id: 'create_gmem.size-not-folio-multiple',
      errno: 'EINVAL',
      says: 'with a huge folio size, the size must be a multiple of the folio size',
      cite: 'kernel-abi.md §4.4',
      fails: (c) => {
        const folio = c.w.profile.flags
          .filter((d) => (c.flags >> BigInt(d.bit)) & 1n)
          .reduce((n, d) => Math.max(n, d.effects.folioPages ?? 1), 1);
        return (c.size / BigInt(PAGE_SIZE)) % BigInt(folio) !== 0n;
      },
    },
    {
      id: 'create_gmem.reserved-nonzero',
      errno: 'EINVAL',
      says: 'non-zero reserved words fail with EINVAL (only where the profile checks them)',
      cite: 'kernel-abi.md §1.2, §6 item 11',
      fails: (c) => c.w.profile.choices.createReservedChecked && c.reserved.some((r) => r !== 0n),
    },
  ];
}

const cachedCreateGmemChecks = checkListCache(createGmemChecks);

/** The context create_gmem's checks read: step() and the failure generator both build it here. */
export function createGmemContext(w: World, op: CreateGmemOp): CreateCtx {
  return { w, vm: op.vm, size: u64(op.size), flags: u64(op.flags), reserved: (op.reserved ?? []).map(u64) };
}

export function createGmem(w: World, op: CreateGmemOp & StepMeta): Decision {
  const c = createGmemContext(w, op);
  const f = firstFailure(cachedCreateGmemChecks(null), c);
  if (f) {
    w.name(op.as, { failed: 'fd' });
    return refused(f);
  }
  const vmFd = w.fd(op.vm);
  if (vmFd.kind !== 'open') throw new Error('internal: checked above');
  const vmId = vmFd.fd.id;
  const id = w.newGmem({
    vm: vmId,
    sizePages: pagesOf(c.size),
    flags: Number(c.flags),
    lifecycle: 'open',
    fds: 1,
    maps: 0,
    bindings: [],
    pages: {},
  });
  w.vmEvent(vmId, { type: 'GMEM_CREATED' });
  w.name(op.as, { fd: w.newFd({ kind: 'gmem', id, proc: w.s.proc, open: true }) });
  return success('create_gmem.ok', 'KVM_CREATE_GUEST_MEMFD returns a new fd; the file pins the VM', 'kernel-abi.md §2.1');
}

const badFd = (op: string): Decision => ({
  outcome: { errno: 'EBADF' },
  rule: { id: `${op}.fd-closed`, says: `${op} on a closed fd fails with EBADF`, cite: 'fdget' },
});

export function close(w: World, op: CloseOp & StepMeta): Decision {
  const fd = w.fd(op.h);
  if (fd.kind !== 'open') return badFd('close');
  w.closeFd(fd.index);
  return success('close.ok', 'close() drops the fd; the file lives on while mappings hold it', 'kernel-abi.md §2.12');
}

export function dup(w: World, op: DupOp & StepMeta): Decision {
  const fd = w.fd(op.h);
  if (fd.kind !== 'open') {
    w.name(op.as, { failed: 'fd' });
    return badFd('dup');
  }
  const index = w.newFd({ kind: fd.fd.kind, id: fd.fd.id, proc: w.s.proc, open: true });
  if (fd.fd.kind === 'vm') w.vmEvent(fd.fd.id, { type: 'FD_OPENED' });
  else w.gmemEvent(fd.fd.id, { type: 'FD_OPENED' });
  w.name(op.as, { fd: index });
  return success('dup.ok', 'dup() returns another fd for the same file', 'dup(2)');
}

export function fstat(w: World, op: FstatOp & StepMeta): Decision {
  const fd = w.fd(op.h);
  if (fd.kind !== 'open') return badFd('fstat');
  if (fd.fd.kind === 'vm') {
    return {
      outcome: { ok: true, fstat: { st_size: 0, st_blksize: PAGE_SIZE, st_type: 'unknown' } },
      rule: { id: 'fstat.vm', says: 'a VM fd is an anonymous inode of size 0 whose mode has no file-type bits', cite: 'anon_inode_getfd' },
    };
  }
  const g = w.peekGmem(fd.fd.id);
  return {
    outcome: { ok: true, fstat: { st_size: normInt(BigInt(g.sizePages) * BigInt(PAGE_SIZE)), st_blksize: PAGE_SIZE, st_type: 'reg' } },
    rule: {
      id: 'fstat.gmem',
      says: 'st_size is the creation size, st_blksize the page size, and the file is regular',
      cite: 'kernel-abi.md §2.9; test_file_size',
    },
  };
}

export function ftruncate(w: World, op: FtruncateOp & StepMeta): Decision {
  const fd = w.fd(op.h);
  if (fd.kind !== 'open') return badFd('ftruncate');
  return {
    outcome: { errno: w.profile.choices.ftruncateErrno },
    rule: { id: 'ftruncate.size-fixed', says: 'the size of a guest_memfd never changes: ftruncate fails', cite: 'kernel-abi.md §2.8' },
  };
}

export function readWrite(w: World, op: (ReadOp | WriteOp | PreadOp | PwriteOp) & StepMeta): Decision {
  const positional = op.op === 'pread' || op.op === 'pwrite';
  if (positional && s64((op as PreadOp).offset) < 0n) {
    return {
      outcome: { errno: 'EINVAL' },
      rule: {
        id: `${op.op}.negative-offset`,
        says: `${op.op} at a negative offset fails with EINVAL before the fd is looked at`,
        cite: 'ksys_pread64',
      },
    };
  }
  const fd = w.fd(op.h);
  if (fd.kind !== 'open') return badFd(op.op);
  const c = w.profile.choices;
  const errno = op.op === 'read' ? c.readErrno : op.op === 'write' ? c.writeErrno : op.op === 'pread' ? c.preadErrno : c.pwriteErrno;
  return {
    outcome: { errno },
    rule: {
      id: `${op.op}.no-file-op`,
      says: `guest_memfd has no ${op.op === 'read' || op.op === 'pread' ? 'read' : 'write'} method: ${op.op}() fails with ${errno}`,
      cite: 'kernel-abi.md §2.2-2.3; test_file_read_write',
    },
  };
}
