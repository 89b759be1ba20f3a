import type { FlagDef } from '../profile.ts';

/**
 * GUEST_MEMFD_FLAG_INIT_SHARED (DEFAULT_SHARED in earlier revisions, seed 003): every index starts shared.
 * Orthogonal to MMAP: INIT_SHARED without MMAP is accepted (test_guest_memfd_flags creates each bit alone).
 */
export const INIT_SHARED: FlagDef = {
  name: 'INIT_SHARED',
  bit: 1,
  status: 'mainline',
  summary: 'All memory is shared at creation (versus private). Not accepted for VMs with private memory until in-place conversion.',
  source: 'kernel-abi.md §1.3, §2.1 step 2; seed 003 (DEFAULT_SHARED → INIT_SHARED); Linux 6.18',
  acceptedBy: 'no-private-mem',
  acceptedInPlaceBy: 'all',
  effects: { initShared: true },
  keeps: ['HostMappedIsShared'],
};
