/**
 * One huge folio of a hugetlb-backed guest_memfd (GUEST_MEMFD_FLAG_HUGETLB, kernel-abi.md §4.4): a naturally
 * aligned run of pages that the page cache holds either as one huge folio or split into 4 KiB folios.
 *
 *   none   no folio: every page of the run is a hole
 *   whole  one huge folio; every page of it is private, so KVM may map it at huge size and the host maps none of it
 *   split  4 KiB folios: a page of the run is (or was) shared, so the host may fault in and pin single pages
 *
 * "A freshly allocated huge folio is split to 4 KiB unless its whole range is private" (§4.4); converting a page
 * to shared splits a whole folio, and a conversion that leaves the whole run private merges it back (seed 001:
 * conversion to private includes "huge page merging"). A split or merge with unsafe references, and a punch
 * that must re-merge a split folio that is still referenced, are refused (EAGAIN, §4.4). A shared run stays
 * split: the sources merge only on conversion to private.
 *
 * The machine knows nothing of pages: each event carries the facts about the run that its guards read (whether
 * every page is private, how many long-term references its pages hold), computed by the spec (spec/folios.ts).
 */
import { and, setup } from 'xstate';

export interface FolioRules {
  /**
   * Unsafe-design switch: huge folios are never split (allocated whole whatever the attributes, kept whole when
   * a page converts to shared), so host user space faults in pages of a huge folio that also holds private
   * memory. Upstream proposal: false.
   */
  neverSplit: boolean;
}

export const UPSTREAM_FOLIO_RULES: FolioRules = { neverSplit: false };

export type FolioEvent =
  /** The first page of the run gets memory (fallocate, a host or guest fault, populate): a folio is allocated. */
  | { type: 'ALLOCATE'; allPrivate: boolean }
  /** A page of a whole folio is converting to shared (KVM_SET_MEMORY_ATTRIBUTES2). */
  | { type: 'SPLIT'; refs: number }
  /** A conversion to private left every page of a split folio private. */
  | { type: 'MERGE'; allPrivate: boolean; refs: number }
  /** fallocate(PUNCH_HOLE) of the whole run: the folio goes back to the hugetlb pool. */
  | { type: 'FREE'; refs: number };

export type FolioEventType = FolioEvent['type'];

export function createFolioMachine(rules: FolioRules) {
  return setup({
    types: { events: {} as FolioEvent },
    guards: {
      /** Every page of the run is private (or the unsafe design keeps huge folios whole regardless). */
      staysWhole: ({ event }) => rules.neverSplit || (event.type === 'ALLOCATE' && event.allPrivate),
      neverSplit: () => rules.neverSplit,
      allPrivate: ({ event }) => event.type === 'MERGE' && event.allPrivate,
      /** No page of the run holds a reference beyond the page cache's (a long-term pin, in the model). */
      noExtraReferences: ({ event }) => (event.type === 'SPLIT' || event.type === 'MERGE' || event.type === 'FREE') && event.refs === 0,
    },
  }).createMachine({
    id: 'folio',
    initial: 'none',
    states: {
      none: {
        description: 'No folio in the page cache: every page of the run is a hole.',
        on: {
          ALLOCATE: [{ guard: 'staysWhole', target: 'whole' }, { target: 'split' }],
        },
      },
      whole: {
        description: 'One huge folio, all of it private: KVM may map it at huge size; host user space maps none of it.',
        on: {
          SPLIT: [
            { guard: 'neverSplit', target: 'whole' },
            { guard: 'noExtraReferences', target: 'split' },
          ],
          FREE: { target: 'none' },
        },
      },
      split: {
        description: '4 KiB folios: shared pages of the run may be host-mapped and pinned one by one.',
        on: {
          MERGE: { guard: and(['allPrivate', 'noExtraReferences']), target: 'whole' },
          // The punched folio must be merged back before it returns to the hugetlb pool: a referenced page blocks it.
          FREE: { guard: 'noExtraReferences', target: 'none' },
        },
      },
    },
  });
}

export type FolioMachine = ReturnType<typeof createFolioMachine>;
