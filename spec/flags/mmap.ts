import type { FlagDef } from '../profile.ts';

/** GUEST_MEMFD_FLAG_MMAP: the file supports mmap() (seed 000: "we support the mmap() operation"). */
export const MMAP: FlagDef = {
  name: 'MMAP',
  bit: 0,
  status: 'mainline',
  summary: 'mmap() of the guest_memfd is allowed (MAP_SHARED only); faults still need the page to be shared.',
  source: 'kernel-abi.md §1.3, §2.4; seed 000 (Hildenbrand/Christopherson naming thread); Linux 6.18',
  acceptedBy: 'all',
  effects: { enablesMmap: true },
  keeps: ['HostMappedIsShared', 'PrivateNeverHostMapped'],
};
