/**
 * Guest faults on a guest_memfd-only memslot (the file has MMAP, so KVM serves even shared faults from it)
 * after the file was released (kernel-abi.md §2.12: "the next guest fault that needs guest_memfd (a private
 * fault, or any fault on a GMEM_ONLY slot) gets -EFAULT from the gmem lookup"). Issue 14: the model once served
 * such a fault from userspace_addr. Recorded on the lab kernel for linux-7.3 (default VM, MMAP|INIT_SHARED) and
 * sw-protected (MMAP), by scripts/build-lab-corpus.ts.
 */
import type { Step } from '../../spec/ops.ts';
import type { Scenario } from './scenarios.ts';

const PAGE = 4096;
const GPA = 0x100000;

function released(vmType: 'default' | 'sw_protected', flags: number): Scenario[] {
  const vm: Step = { op: 'create_vm', type: vmType, as: 'vm0' };
  const gmem: Step = { op: 'create_gmem', vm: 'vm0', size: 2 * PAGE, flags, as: 'g0' };
  const bind = (uaddr: number | { map: string; offset: number }): Step =>
    ({ op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: GPA, size: 2 * PAGE, gmem: 'g0', gmem_offset: 0, uaddr }) as Step;
  const read: Step = { op: 'guest_access', vm: 'vm0', gpa: GPA + 3, private: false };
  const write: Step = { op: 'guest_access', vm: 'vm0', gpa: GPA + PAGE + 3, private: false, write: 9 };
  const preFault: Step = { op: 'pre_fault', vm: 'vm0', gpa: GPA, size: PAGE };
  const close: Step = { op: 'close', h: 'g0' };
  return [
    {
      area: 'released',
      name: 'released--gmem-only-closed',
      description: 'a GMEM_ONLY slot whose guest_memfd fd is closed (no mapping holds the file): the next shared guest fault and a pre-fault',
      steps: [vm, gmem, bind(0), write, read, close, read, write, preFault],
    },
    {
      area: 'released',
      name: 'released--gmem-only-mapped-then-unmapped',
      description:
        'a GMEM_ONLY slot whose userspace_addr is the file\'s own mapping: closing the fd leaves the file alive (the mapping holds it), munmap releases it; a shared guest fault after each',
      steps: [
        vm,
        gmem,
        { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'm0' },
        { op: 'write_mem', map: 'm0', offset: 3, value: 7 },
        bind({ map: 'm0', offset: 0 }),
        read,
        close,
        read,
        { op: 'munmap', map: 'm0' },
        read,
        preFault,
      ],
    },
  ];
}

/** linux-7.3 (the default VM): the guest_memfd is MMAP|INIT_SHARED, as a default VM binds it since 6.18. */
export const RELEASED_LINUX_7_3: readonly Scenario[] = released('default', 3);
/** sw-protected: MMAP alone (INIT_SHARED is refused on a VM with private memory); shared faults are GMEM_ONLY. */
export const RELEASED_SW_PROTECTED: readonly Scenario[] = released('sw_protected', 1);
