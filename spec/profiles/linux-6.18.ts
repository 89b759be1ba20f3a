/**
 * linux-6.18: upstream guest_memfd as released in Linux 6.18 and as the kernel on this project's machines
 * behaves (docs/kernel-observations.md): the default VM type only, flags MMAP and INIT_SHARED, no per-VM memory
 * attributes, no in-place conversion. Every choice below was measured on that kernel.
 */
import { INIT_SHARED, MMAP } from '../flags/index.ts';
import type { Choices, Profile } from '../profile.ts';
import { kernelSuites } from './suites.ts';
import { DEFAULT_VM } from './vmTypes.ts';

export const LINUX_6_18_CHOICES: Choices = {
  readErrno: 'EINVAL',
  writeErrno: 'EINVAL',
  preadErrno: 'ESPIPE',
  pwriteErrno: 'ESPIPE',
  ftruncateErrno: 'EINVAL',
  protExecErrno: 'EPERM',
  mprotectExecErrno: 'EACCES',
  createReservedChecked: false,
  setMemoryAttributesMissing: 'ENOTTY',
  madvise: { collapse: 'EINVAL', free: 'EINVAL', dontneed: 'zap', remove: 'punch' },
  pinRefused: null,
  maxGpaBits: 52,
  userMemSlots: 32764,
  addressSpaces: 1,
  readonlyMemslots: true,
  gmemBindingOverlapErrno: 'EINVAL',
};

export const LINUX_6_18: Profile = {
  name: 'linux-6.18',
  title: 'Linux 6.18 upstream (default VM)',
  kind: 'upstream',
  summary:
    'guest_memfd as released in 6.18: mmap() with GUEST_MEMFD_FLAG_MMAP, all memory shared with INIT_SHARED and private (unfaultable) without it; no conversion. Checked step by step against the kernel on this machine.',
  sources: [
    'kernel-abi.md §2.1-2.14, §3 (6.18-ERA and MAINLINE)',
    'seeds 000 and 003 (MMAP, INIT_SHARED)',
    'docs/kernel-observations.md (probe of the kernel here)',
  ],
  checkedAgainstKernel: true,
  arch: 'x86_64',
  vmTypes: { default: DEFAULT_VM },
  flags: [MMAP, INIT_SHARED],
  choices: LINUX_6_18_CHOICES,
  // Measured here, beyond what spec/rules/caps.ts derives: EXIT_HYPERCALL's mask, and no PRE_FAULT_MEMORY (the
  // PVM host has no TDP). The rest of the caps the kernel here reported (10, 31, 118, 231-235, 244) are derived.
  extraCaps: { 201: { kvm: 4096 }, 236: { kvm: 0 } },
  suites: kernelSuites(),
};
