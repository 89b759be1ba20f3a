/** /dev/kvm and VM-scoped ioctls: KVM_CHECK_EXTENSION, KVM_CREATE_VM, the platform launch flow. */
import { VM_TYPE, type VmTypeName } from '../constants.ts';
import type { CheckExtensionOp, CreateVmOp, LaunchOp, StepMeta } from '../ops.ts';
import type { Profile } from '../profile.ts';
import type { World } from '../world.ts';
import { type Check, checkListCache, firstFailure } from './check.ts';
import { capAnswer } from './caps.ts';
import { type Decision, big, refused, success } from './decision.ts';

export { acceptedFlagDefs, flagMask } from './flagAcceptance.ts';

/** VM ioctls: a closed fd is EBADF, another process's VM is EIO (kvm_vm_ioctl: kvm->mm != current->mm). */
export function vmFdChecks<C extends { w: World; vm: string }>(op: string): Check<C>[] {
  return [
    {
      id: `${op}.vm-fd-closed`,
      errno: 'EBADF',
      says: 'a VM ioctl on a closed fd fails with EBADF',
      cite: 'fdget',
      fails: ({ w, vm }) => w.fd(vm).kind !== 'open',
    },
    {
      id: `${op}.vm-other-mm`,
      errno: 'EIO',
      says: 'a VM ioctl from a process other than the one that created the VM fails with EIO',
      cite: 'kernel-abi.md §2.0',
      fails: ({ w, vm }) => {
        const f = w.fd(vm);
        return f.kind === 'open' && f.fd.kind === 'vm' && w.peekVm(f.fd.id).proc !== w.s.proc;
      },
    },
  ];
}

/**
 * A VM ioctl on an open fd that is not a VM (a guest_memfd): the file has no ioctl method, so ENOTTY. For the
 * ops whose later checks need a VM; it goes right after vmFdChecks.
 */
export function notVmFdCheck<C extends { w: World; vm: string }>(op: string): Check<C> {
  return {
    id: `${op}.not-vm-fd`,
    errno: 'ENOTTY',
    says: 'a VM ioctl on an fd that is not a VM (a guest_memfd has no ioctls) fails with ENOTTY',
    cite: 'vfs_ioctl; measured on the lab (7.3) and the host (6.18)',
    fails: ({ w, vm }) => {
      const f = w.fd(vm);
      return f.kind === 'open' && f.fd.kind !== 'vm';
    },
  };
}

/**
 * The checks every ioctl that runs on a vCPU of the VM starts with (a guest access, a pre-fault, a guest's
 * conversion request): the VM fd's own, then that it is a VM.
 */
export function vcpuFdChecks<C extends { w: World; vm: string }>(op: string): Check<C>[] {
  return [...vmFdChecks<C>(op), notVmFdCheck<C>(op)];
}

/** What the checks of an ioctl over a guest-physical range of the VM read. */
export interface GpaRangeCtx {
  w: World;
  vm: string;
  gpa: bigint;
  size: bigint;
}

export function vmTypeByValue(profile: Profile, value: bigint): VmTypeName | undefined {
  return (Object.keys(profile.vmTypes) as VmTypeName[]).find((t) => BigInt(VM_TYPE[t]) === value);
}

interface CapCtx {
  w: World;
  vm: string;
}

const checkExtensionChecks = checkListCache(() => vmFdChecks<CapCtx>('check_extension'));

export function checkExtension(w: World, op: CheckExtensionOp & StepMeta): Decision {
  if (op.on !== 'kvm') {
    const f = firstFailure(checkExtensionChecks(null), { w, vm: op.on });
    if (f) return refused(f);
    const fd = w.fd(op.on);
    if (fd.kind === 'open' && fd.fd.kind === 'vm') {
      const a = capAnswer(w.profile, big(op.cap), w.peekVm(fd.fd.id).type);
      if ('notModelled' in a) return notModelled(a.notModelled);
      return success('check_extension.vm', 'KVM_CHECK_EXTENSION on a VM answers for that VM', 'kernel-abi.md §1.4', {
        ret: Number(a.value),
      });
    }
    return {
      outcome: { errno: 'ENOTTY' },
      rule: { id: 'check_extension.not-kvm-fd', says: 'KVM ioctls on a non-KVM fd fail with ENOTTY', cite: 'vfs_ioctl' },
    };
  }
  const a = capAnswer(w.profile, big(op.cap), undefined);
  if ('notModelled' in a) return notModelled(a.notModelled);
  return success('check_extension.kvm', 'KVM_CHECK_EXTENSION on /dev/kvm answers for a default VM / the host', 'kernel-abi.md §1.4', {
    ret: Number(a.value),
  });
}

/** A capability the spec has no answer for: no prediction, so no comparison (spec/rules/caps.ts). */
function notModelled(why: string): Decision {
  return {
    outcome: { not_modelled: why },
    rule: {
      id: 'check_extension.not-modelled',
      says: "the spec does not model this capability's value, so it predicts nothing and comparisons leave the step out",
      cite: 'kernel-abi.md §1.4',
    },
  };
}

export function createVm(w: World, op: CreateVmOp & StepMeta): Decision {
  const value = typeof op.type === 'string' ? BigInt(VM_TYPE[op.type]) : big(op.type);
  const type = vmTypeByValue(w.profile, value);
  if (!type) {
    w.name(op.as, { failed: 'fd' });
    return {
      outcome: { errno: 'EINVAL' },
      rule: {
        id: 'create_vm.type-unsupported',
        says: 'KVM_CREATE_VM with a VM type the kernel does not support fails with EINVAL',
        cite: 'kernel-abi.md §1.5 (KVM_CAP_VM_TYPES)',
      },
    };
  }
  const vmId = w.newVm({ type, lifecycle: 'alive', fds: 1, gmemRefs: 0, proc: w.s.proc, memslots: [], privateRanges: [], launch: 'none' });
  const fd = w.newFd({ kind: 'vm', id: vmId, proc: w.s.proc, open: true });
  w.name(op.as, { fd });
  return success('create_vm.ok', `KVM_CREATE_VM(${type}) returns a VM fd`, 'kernel-abi.md §1.5');
}

interface LaunchCtx {
  w: World;
  vm: string;
}

/** The VM machine's event for each launch command. */
const LAUNCH_EVENT = { launch_start: { type: 'LAUNCH_START' }, launch_finish: { type: 'LAUNCH_FINISH' } } as const;

/** The launch command's checks, by command (their messages and the phase check depend on it). */
const launchChecks = checkListCache((command: LaunchOp['op']): Check<LaunchCtx>[] => {
  const op = { op: command };
  return [
    ...vmFdChecks<LaunchCtx>(op.op),
    {
      id: `${op.op}.no-launch-flow`,
      errno: 'EINVAL',
      says: 'a VM type without a launch flow (not SNP/TDX/CCA) rejects launch commands with EINVAL',
      cite: 'kernel-abi.md §2.19',
      fails: ({ w: ww, vm }) => {
        const f = ww.fd(vm);
        return f.kind === 'open' && (f.fd.kind !== 'vm' || !ww.vmRules(f.fd.id).launch);
      },
    },
    {
      id: `${op.op}.wrong-phase`,
      errno: 'EINVAL',
      says: op.op === 'launch_start' ? 'LAUNCH_START only once, before anything else' : 'LAUNCH_FINISH only after LAUNCH_START, once',
      cite: 'kernel-abi.md §2.19, §5 (launch flows)',
      // The VM machine's launch region decides which launch command may come next.
      fails: ({ w: ww, vm }) => {
        const f = ww.fd(vm);
        return f.kind === 'open' && f.fd.kind === 'vm' && !ww.vmAccepts(f.fd.id, LAUNCH_EVENT[command]);
      },
    },
  ];
});

export function launch(w: World, op: LaunchOp & StepMeta): Decision {
  const f = firstFailure(launchChecks(op.op), { w, vm: op.vm });
  if (f) return refused(f);
  const fd = w.fd(op.vm);
  if (fd.kind === 'open') w.vmEvent(fd.fd.id, LAUNCH_EVENT[op.op]);
  return success(
    `${op.op}.ok`,
    op.op === 'launch_start' ? 'the launch starts: populate is allowed' : 'the launch measurement is sealed; the guest may run',
    'kernel-abi.md §5',
  );
}
