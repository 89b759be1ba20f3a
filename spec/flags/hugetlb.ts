import type { FlagDef } from '../profile.ts';

/**
 * GUEST_MEMFD_FLAG_HUGETLB (2026 WIP branch; bit value unconfirmed, fact sheet §6 item 6 — bit 3 is this
 * spec's choice). The model uses a 2-page folio so that sub-folio conversion and alignment errors stay
 * reachable at small bounds; the ABI's folio is 2 MiB or 1 GiB.
 */
export const HUGETLB: FlagDef = {
  name: 'HUGETLB',
  bit: 3,
  status: 'proposed',
  summary: 'Backed by hugetlb folios; size and fallocate ranges must be folio-aligned; not combinable with INIT_SHARED.',
  source: 'kernel-abi.md §4.4 (guest_memfd_hugetlb.c WIP; 1G RFC v2)',
  acceptedBy: 'all',
  conflictsWith: ['INIT_SHARED'],
  effects: { folioPages: 2 },
};
