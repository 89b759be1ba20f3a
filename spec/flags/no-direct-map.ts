import type { FlagDef } from '../profile.ts';

/** GUEST_MEMFD_FLAG_NO_DIRECT_MAP (NDM-v12, Kalyazin/Roy): folios leave the kernel direct map while allocated. */
export const NO_DIRECT_MAP: FlagDef = {
  name: 'NO_DIRECT_MAP',
  bit: 2,
  status: 'proposed',
  summary: 'Folios are removed from the kernel direct map when allocated and restored before they are freed. Refused on SNP and TDX.',
  source: 'kernel-abi.md §4.2 (NDM-v12, 2026-04-10)',
  acceptedBy: ['default', 'sw_protected', 'sev', 'sev_es', 'pkvm'],
  effects: { directMap: 'remove-all' },
  adds: ['NoDirectMapPrivateAbsent'],
};
