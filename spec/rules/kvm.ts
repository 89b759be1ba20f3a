/** /dev/kvm and VM-scoped ioctls: KVM_CHECK_EXTENSION, KVM_CREATE_VM, the platform launch flow. */
import { KVM_CAP, KVM_MEMORY_ATTRIBUTE_PRIVATE, VM_TYPE, type VmTypeName } from '../constants.ts';
import type { CheckExtensionOp, CreateVmOp, LaunchOp, StepMeta } from '../ops.ts';
import type { FlagDef, Profile, VmTypeRules } from '../profile.ts';
import type { World } from '../world.ts';
import { type Check, checkListCache, firstFailure } from './check.ts';
import { type Decision, big, refused, success } from './decision.ts';

function accepts(acceptance: FlagDef['acceptedBy'] | undefined, type: VmTypeName, rules: VmTypeRules): boolean {
  if (acceptance === undefined) return false;
  if (acceptance === 'all') return true;
  if (acceptance === 'no-private-mem') return !rules.hasPrivateMem;
  if (acceptance === 'private-mem') return rules.hasPrivateMem;
  return acceptance.includes(type);
}

/** The GUEST_MEMFD_FLAG_* set KVM_CREATE_GUEST_MEMFD accepts for a VM of this type (the value of cap 244). */
export function acceptedFlagDefs(profile: Profile, type: VmTypeName): FlagDef[] {
  const rules = profile.vmTypes[type];
  if (!rules) return [];
  return profile.flags.filter(
    (f) => accepts(f.acceptedBy, type, rules) || (rules.conversion === 'in-place' && accepts(f.acceptedInPlaceBy, type, rules)),
  );
}

export function flagMask(defs: FlagDef[]): bigint {
  return defs.reduce((m, f) => m | (1n << BigInt(f.bit)), 0n);
}

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

export function vmTypeByValue(profile: Profile, value: bigint): VmTypeName | undefined {
  return (Object.keys(profile.vmTypes) as VmTypeName[]).find((t) => BigInt(VM_TYPE[t]) === value);
}

function capValue(w: World, cap: bigint, vmType: VmTypeName | undefined): bigint {
  const p = w.profile;
  const extra = p.extraCaps[Number(cap)];
  if (extra) return BigInt(vmType === undefined ? extra.kvm : extra.vm ?? extra.kvm);
  const types = Object.keys(p.vmTypes) as VmTypeName[];
  const anyPrivate = types.some((t) => p.vmTypes[t]?.hasPrivateMem);
  switch (Number(cap)) {
    case KVM_CAP.GUEST_MEMFD:
      return 1n;
    case KVM_CAP.VM_TYPES:
      return types.reduce((m, t) => (VM_TYPE[t] < 32 ? m | (1n << BigInt(VM_TYPE[t])) : m), 0n);
    case KVM_CAP.GUEST_MEMFD_FLAGS: {
      if (vmType !== undefined) return flagMask(acceptedFlagDefs(p, vmType));
      // No VM context: the answer for a default VM (kvm_arch_supports_gmem_init_shared(NULL) is true).
      return flagMask(acceptedFlagDefs(p, 'default'));
    }
    case KVM_CAP.MEMORY_ATTRIBUTES: {
      if (p.choices.setMemoryAttributesMissing) return 0n;
      const usesVmAttrs = (t: VmTypeName) => p.vmTypes[t]?.hasPrivateMem && p.vmTypes[t]?.conversion === 'vm-attributes';
      if (vmType === undefined) return types.some(usesVmAttrs) && anyPrivate ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n;
      return usesVmAttrs(vmType) ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n;
    }
    default:
      if (p.gmemAttributes && Number(cap) === p.gmemAttributes.cap) {
        const r = vmType === undefined ? undefined : p.vmTypes[vmType];
        return r && r.hasPrivateMem && r.conversion === 'in-place' ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n;
      }
      return 0n;
  }
}

interface CapCtx { w: World; vm: string }

const checkExtensionChecks = checkListCache(() => vmFdChecks<CapCtx>('check_extension'));

export function checkExtension(w: World, op: CheckExtensionOp & StepMeta): Decision {
  if (op.on !== 'kvm') {
    const f = firstFailure(checkExtensionChecks(null), { w, vm: op.on });
    if (f) return refused(f);
    const fd = w.fd(op.on);
    if (fd.kind === 'open' && fd.fd.kind === 'vm') {
      const ret = capValue(w, big(op.cap), w.peekVm(fd.fd.id).type);
      return success('check_extension.vm', 'KVM_CHECK_EXTENSION on a VM answers for that VM', 'kernel-abi.md §1.4', { ret: Number(ret) });
    }
    return { outcome: { errno: 'ENOTTY' }, rule: { id: 'check_extension.not-kvm-fd', says: 'KVM ioctls on a non-KVM fd fail with ENOTTY', cite: 'vfs_ioctl' } };
  }
  const ret = capValue(w, big(op.cap), undefined);
  return success('check_extension.kvm', 'KVM_CHECK_EXTENSION on /dev/kvm answers for a default VM / the host', 'kernel-abi.md §1.4', { ret: Number(ret) });
}

export function createVm(w: World, op: CreateVmOp & StepMeta): Decision {
  const value = typeof op.type === 'string' ? BigInt(VM_TYPE[op.type]) : big(op.type);
  const type = vmTypeByValue(w.profile, value);
  if (!type) {
    w.name(op.as, { failed: 'fd' });
    return { outcome: { errno: 'EINVAL' }, rule: { id: 'create_vm.type-unsupported', says: 'KVM_CREATE_VM with a VM type the kernel does not support fails with EINVAL', cite: 'kernel-abi.md §1.5 (KVM_CAP_VM_TYPES)' } };
  }
  const vmId = w.newVm({ type, lifecycle: 'alive', fds: 1, gmemRefs: 0, proc: w.s.proc, memslots: [], privateRanges: [], launch: 'none' });
  const fd = w.newFd({ kind: 'vm', id: vmId, proc: w.s.proc, open: true });
  w.name(op.as, { fd });
  return success('create_vm.ok', `KVM_CREATE_VM(${type}) returns a VM fd`, 'kernel-abi.md §1.5');
}

interface LaunchCtx { w: World; vm: string }

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
      fails: ({ w: ww, vm }) => {
        const f = ww.fd(vm);
        if (f.kind !== 'open') return false;
        const v = ww.peekVm(f.fd.id);
        return op.op === 'launch_start' ? v.launch !== 'none' : v.launch !== 'started';
      },
    },
  ];
});

export function launch(w: World, op: LaunchOp & StepMeta): Decision {
  const f = firstFailure(launchChecks(op.op), { w, vm: op.vm });
  if (f) return refused(f);
  const fd = w.fd(op.vm);
  if (fd.kind === 'open') w.vmEvent(fd.fd.id, { type: op.op === 'launch_start' ? 'LAUNCH_START' : 'LAUNCH_FINISH' });
  return success(`${op.op}.ok`, op.op === 'launch_start' ? 'the launch starts: populate is allowed' : 'the launch measurement is sealed; the guest may run', 'kernel-abi.md §5');
}
