/**
 * sw-protected: x86 KVM_X86_SW_PROTECTED_VM, the one upstream VM type with private memory that runs without
 * confidential-computing hardware. Checked step by step against the lab kernel (Linux 7.3.4 built with
 * KVM_SW_PROTECTED_VM, nested under QEMU TCG): attributes, private and shared guest faults through a real vCPU,
 * binding rules, pre-faults, guest conversion requests, conversions with mappings and pins present
 * (docs/kernel-observations.md, "SW_PROTECTED VMs on the lab").
 */
import { INIT_SHARED, MMAP } from '../flags/index.ts';
import type { Profile } from '../profile.ts';
import { kernelSuites } from './suites.ts';
import { LINUX_7_3_CHOICES } from './linux-7.3.ts';
import { DEFAULT_VM, SW_PROTECTED_VM } from './vmTypes.ts';

export const SW_PROTECTED: Profile = {
  name: 'sw-protected',
  title: 'x86 KVM_X86_SW_PROTECTED_VM (Linux 7.3, as the lab builds it)',
  kind: 'platform',
  summary:
    "Private memory from guest_memfd, shared memory from userspace_addr (or from guest_memfd when the file has MMAP), switched per GFN with KVM_SET_MEMORY_ATTRIBUTES. No trusted entity: KVM only emulates the split, taking an access's private-ness from the attribute. INIT_SHARED is refused. Checked against the lab kernel through a real vCPU.",
  sources: [
    'kernel-abi.md §2.15, §2.17, §5',
    'private_mem_conversions_test, private_mem_kvm_exits_test',
    'arch/x86/kvm/mmu/mmu.c (linux-source-7.3 7.3.4-1~bpo13+1)',
    'examples/corpus/sw-protected (recorded on the lab)',
  ],
  checkedAgainstKernel: true,
  arch: 'x86_64',
  base: 'linux-7.3',
  vmTypes: { default: DEFAULT_VM, sw_protected: SW_PROTECTED_VM },
  flags: [MMAP, INIT_SHARED],
  choices: LINUX_7_3_CHOICES,
  // Measured on the lab: EXIT_HYPERCALL's mask is MAP_GPA_RANGE. The other caps follow from the rules.
  extraCaps: { 201: { kvm: 4096 } },
  // The lab kernel implements it (src/lab); without pins, which multiply the states.
  suites: kernelSuites({ pins: 0 }),
};
