/**
 * Content semantics of a conversion, by VM type: what each side reads of bytes the other side wrote, for the
 * platform (the VM type's declared ConversionContent, spec/profiles/vmTypes.ts) and the conversion kind. The page
 * machine applies the platform's effects; this is the same declaration said per conversion kind, for the
 * diagrams, diffs and reports to show (one place: they read it here, never restate it).
 *
 *   in place       the same page changes side: the trusted entity decides what survives when it takes the page
 *                  (the guest's first private fault) and when it gives it back (conversion to shared); populate
 *                  with a NULL source takes the page with the bytes userspace wrote (kernel-abi.md §2.16, seed 001)
 *   vm-attributes  private and shared are different memory (guest_memfd vs userspace_addr): no byte crosses; a
 *                  guest_memfd page keeps its bytes across a round trip through shared (measured on sw-protected)
 *   none           nothing converts
 */
import type { ContentEffect, VmTypeRules } from '../profile.ts';

/** What one side reads of bytes the other side wrote, after a conversion. */
export type CrossingContent = ContentEffect | 'other-memory' | 'no-conversion';

export interface ContentSemantics {
  conversion: VmTypeRules['conversion'];
  /** Bytes the host wrote while shared, as the guest reads them once the page is private. */
  sharedToPrivate: CrossingContent;
  /** Bytes the guest had while private, as the host reads them once the page is shared again. */
  privateToShared: CrossingContent;
  /** populate with a NULL source (in place) loads the bytes userspace wrote; only in place. */
  populateInPlace: 'preserve' | 'not-in-place';
  /** The declaration's source. */
  source: string;
}

export function contentSemantics(r: VmTypeRules): ContentSemantics {
  const source = r.conversionContent.source;
  switch (r.conversion) {
    case 'in-place':
      return {
        conversion: r.conversion,
        // A platform whose trusted entity never takes pages (SW_PROTECTED) leaves the bytes alone.
        sharedToPrivate: r.trustedEntityPrepares ? r.conversionContent.toPrivate : 'preserve',
        privateToShared: r.trustedEntityPrepares || r.populate !== 'none' ? r.conversionContent.toShared : 'preserve',
        populateInPlace: 'preserve',
        source,
      };
    case 'vm-attributes':
      return {
        conversion: r.conversion,
        sharedToPrivate: 'other-memory',
        privateToShared: 'other-memory',
        populateInPlace: 'not-in-place',
        source,
      };
    case 'none':
      return {
        conversion: r.conversion,
        sharedToPrivate: 'no-conversion',
        privateToShared: 'no-conversion',
        populateInPlace: 'not-in-place',
        source,
      };
  }
}
