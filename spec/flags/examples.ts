/**
 * Deliberately unsafe flags, shipped as worked examples for `gmem-spec check`: each breaks a promise that
 * guest_memfd exists to keep, and the model checker finds the shortest trace that shows it.
 */
import type { FlagDef } from '../profile.ts';

/** "Let host user space map private pages" — what guest_memfd was created to forbid (seed 004). */
export const HOST_MAP_PRIVATE: FlagDef = {
  name: 'HOST_MAP_PRIVATE',
  bit: 62,
  status: 'example',
  summary: 'UNSAFE example: host user space may fault private pages into its page tables.',
  source: 'seed 004 (Hildenbrand: "private memory: not mapped, not pinned")',
  acceptedBy: 'all',
  requires: ['MMAP'],
  effects: { hostMapPrivate: true },
  keeps: ['PrivateNeverHostMapped'],
};

/** Conversion to private that ignores elevated refcounts: exactly what EAGAIN + error_offset prevents. */
export const CONVERT_IGNORING_REFS: FlagDef = {
  name: 'CONVERT_IGNORING_REFS',
  bit: 61,
  status: 'example',
  summary: 'UNSAFE example: KVM_SET_MEMORY_ATTRIBUTES2(PRIVATE) succeeds even when a page is pinned.',
  source: 'kernel-abi.md §2.16 (EAGAIN on unexpected references); seed 004 (exclusive GUP thread)',
  acceptedBy: 'all',
  effects: { conversionIgnoresRefs: true },
  keeps: ['PrivateNeverPinned'],
};
