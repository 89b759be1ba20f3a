/**
 * One page (one 4 KiB index) of a guest_memfd, as the ABI documentation describes it. Parallel regions:
 *
 *   attribute      shared | private | toPrivate | toShared    (in-transition while a conversion is under way)
 *   backing        hole | allocated | initialised            (content: an abstract token, 0 = zeroes)
 *   hostMapping    unmapped | mapped                         (context.hostMappers: which host mappings have a PTE)
 *   pins           unpinned | pinned                         (context.pins: long-term GUP references)
 *   trustedEntity  unprepared | prepared | populated         ("private as tracked by the trusted entity")
 *   directMap      present | removed                         (GUEST_MEMFD_FLAG_NO_DIRECT_MAP proposal)
 *   stage2         none | shared | private                   (the guest's mapping of the page)
 *
 * The machine is built from a PageRules object (what the profile, the VM type and the file's flags say), so a
 * new flag changes guards and effects, never this file. Events name kernel operations; a guard that fails
 * means the kernel refuses the page-level part of the operation, and the rule layer (spec/rules) turns that
 * into the errno or signal the profile prescribes.
 */
import { and, assign, not, or, setup, stateIn } from 'xstate';
import type { FolioRules } from './folio.ts';

export interface PageRules {
  /** Unsafe-proposal switch: host user space may fault private pages in. Upstream: false. */
  hostMayMapPrivate: boolean;
  /** In-place conversion to private refuses pages with unexpected references (EAGAIN). Upstream proposal: true. */
  conversionChecksRefs: boolean;
  /**
   * What the other side sees of a page's bytes once the trusted entity takes the page (`toPrivate`: the guest's
   * first private fault reads what the host wrote while shared) or gives it back (`toShared`: the host reads what
   * the guest had). guest_memfd itself never copies nor zeroes on conversion: a page the trusted entity never
   * took keeps its bytes, and populate in place takes the page with them.
   */
  conversionContent: { toPrivate: ContentEffect; toShared: ContentEffect };
  /** NO_DIRECT_MAP: a private (or every) allocated folio is removed from the kernel direct map. */
  directMap: 'keep' | 'remove-all' | 'remove-private';
  /** Private guest faults run the platform's prepare hook (SNP RMP make-private, TDX PAGE.AUG, CCA delegate). */
  trustedEntityPrepares: boolean;
  /**
   * Conversion to private leaves host user mappings in place (the rejected FOLL_EXCLUSIVE design: donated memory
   * stays in the VMM's page tables under its exclusive pin). Absent or false: the conversion zaps them (§2.16).
   */
  keepsHostMappings?: boolean;
  /** Huge folios (machines/folio.ts) of a file whose flags give them; absent: UPSTREAM_FOLIO_RULES. */
  folio?: FolioRules;
}

/** preserve: the bytes survive; zero: the other side reads zeroes; scramble: it reads other-key garbage (SCRAMBLED). */
export type ContentEffect = 'preserve' | 'zero' | 'scramble';

export const UPSTREAM_PAGE_RULES: PageRules = {
  hostMayMapPrivate: false,
  conversionChecksRefs: true,
  conversionContent: { toPrivate: 'preserve', toShared: 'preserve' },
  directMap: 'keep',
  trustedEntityPrepares: false,
};

export interface PageContext {
  /** The attribute a page is created with: shared under INIT_SHARED, else private. */
  initShared: boolean;
  /** Fill byte of the whole page (0: reads zero). */
  content: number;
  /** Bytes that differ from `content`, by offset within the page. */
  bytes: Record<string, number>;
  /** Ids of the host mappings that currently have this page in their page tables, ascending. */
  hostMappers: number[];
  pins: number;
}

/** A content token written by the platform when a conversion scrambles data (SNP/TDX: other key). */
export const SCRAMBLED = 0xee;

export type PageEvent =
  /** A host user-space access through mapping `mapper` faults the page in (kvm_gmem_fault_user_mapping). */
  | { type: 'HOST_FAULT'; mapper: number }
  /** munmap / MADV_DONTNEED / conversion zap: mapping `mapper` loses its PTE. */
  | { type: 'HOST_UNMAP'; mapper: number }
  /** A store through a host mapping (the page is already faulted in). */
  | { type: 'HOST_WRITE'; offset: number; value: number }
  /** A store of `value` over the whole page. */
  | { type: 'HOST_FILL'; value: number }
  /** fallocate(KEEP_SIZE): a folio exists but is not zeroed yet. */
  | { type: 'ALLOCATE' }
  /** fallocate(PUNCH_HOLE): the folio leaves the file; the next access gets a fresh zeroed page. */
  | { type: 'PUNCH' }
  | { type: 'PIN' }
  | { type: 'UNPIN' }
  /** KVM_SET_MEMORY_ATTRIBUTES2 (in place) or a guest's conversion request: the page starts converting. */
  | { type: 'CONVERT_BEGIN'; to: 'private' | 'shared' }
  | { type: 'CONVERT_COMMIT' }
  | { type: 'CONVERT_ABORT' }
  /** A guest fault maps the page into stage-2, shared or private. */
  | { type: 'GUEST_MAP'; private: boolean }
  | { type: 'GUEST_WRITE'; offset: number; value: number }
  /** KVM zaps its stage-2 mappings of the page (memslot deletion, punch, attribute change). */
  | { type: 'STAGE2_ZAP' }
  /**
   * Platform populate (LAUNCH_UPDATE / INIT_MEM_REGION / RMI_POPULATE) loads and measures `value` from a source
   * buffer, or, without `value` (a NULL source, in place), the bytes the page already holds.
   */
  | { type: 'POPULATE'; value?: number };

export type PageEventType = PageEvent['type'];

/** A page's bytes as the other side sees them under `effect`. */
function crossed(effect: ContentEffect, c: PageContext): Pick<PageContext, 'content' | 'bytes'> {
  if (effect === 'preserve') return { content: c.content, bytes: c.bytes };
  return { content: effect === 'zero' ? 0 : SCRAMBLED, bytes: {} };
}

export function createPageMachine(rules: PageRules) {
  const removesOnAllocate = rules.directMap === 'remove-all';
  const removesWhenPrivate = rules.directMap === 'remove-private';
  return setup({
    types: {
      context: {} as PageContext,
      events: {} as PageEvent,
      input: {} as { initShared: boolean },
    },
    guards: {
      createdShared: ({ context }) => context.initShared,
      privateHostMappable: () => rules.hostMayMapPrivate,
      noExtraReferences: ({ context }) => !rules.conversionChecksRefs || context.pins === 0,
      isLastMapper: ({ context, event }) =>
        event.type === 'HOST_UNMAP' && context.hostMappers.length === 1 && context.hostMappers[0] === event.mapper,
      hasMapper: ({ context, event }) => event.type === 'HOST_UNMAP' && context.hostMappers.includes(event.mapper),
      toPrivate: ({ event }) => event.type === 'CONVERT_BEGIN' && event.to === 'private',
      toShared: ({ event }) => event.type === 'CONVERT_BEGIN' && event.to === 'shared',
      /** The page is in the stable state a conversion starts from: shared to convert to private, private to shared. */
      startsConversion: or([and(['toPrivate', stateIn({ attribute: 'shared' })]), and(['toShared', stateIn({ attribute: 'private' })])]),
      lastPin: ({ context }) => context.pins === 1,
      guestPrivate: ({ event }) => event.type === 'GUEST_MAP' && event.private,
      guestShared: ({ event }) => event.type === 'GUEST_MAP' && !event.private,
      trustedEntityPrepares: () => rules.trustedEntityPrepares,
      /** The trusted entity holds the page (prepared or populated): giving it back changes what the host sees. */
      trustedEntityHolds: or([stateIn({ trustedEntity: 'prepared' }), stateIn({ trustedEntity: 'populated' })]),
      /** Populate loads a page the trusted entity does not hold yet; one it holds is refused (EEXIST, §2.19). */
      populatable: not('trustedEntityHolds'),
      conversionZapsHost: () => rules.keepsHostMappings !== true,
      removesOnAllocate: () => removesOnAllocate,
      removesWhenPrivate: () => removesWhenPrivate,
      /** The host may touch the page: it is shared, or the profile lets host user space map private pages. */
      hostMayAccess: or([stateIn({ attribute: 'shared' }), 'privateHostMappable']),
    },
    actions: {
      addMapper: assign({
        hostMappers: ({ context, event }) =>
          event.type === 'HOST_FAULT' && !context.hostMappers.includes(event.mapper)
            ? [...context.hostMappers, event.mapper].sort((a, b) => a - b)
            : context.hostMappers,
      }),
      removeMapper: assign({
        hostMappers: ({ context, event }) =>
          event.type === 'HOST_UNMAP' ? context.hostMappers.filter((m) => m !== event.mapper) : context.hostMappers,
      }),
      unmapAllHost: assign({ hostMappers: () => [] }),
      zeroContent: assign({ content: () => 0, bytes: () => ({}) }),
      writeByte: assign({
        bytes: ({ context, event }) => {
          if (event.type !== 'HOST_WRITE' && event.type !== 'GUEST_WRITE') return context.bytes;
          const bytes = { ...context.bytes };
          if (event.value === context.content) delete bytes[String(event.offset)];
          else bytes[String(event.offset)] = event.value;
          return bytes;
        },
      }),
      fill: assign({
        content: ({ context, event }) => (event.type === 'HOST_FILL' ? event.value : context.content),
        bytes: ({ context, event }) => (event.type === 'HOST_FILL' ? {} : context.bytes),
      }),
      loadImage: assign({
        content: ({ context, event }) => (event.type === 'POPULATE' && event.value !== undefined ? event.value : context.content),
        bytes: ({ context, event }) => (event.type === 'POPULATE' && event.value === undefined ? context.bytes : {}),
      }),
      contentToPrivate: assign(({ context }) => crossed(rules.conversionContent.toPrivate, context)),
      contentToShared: assign(({ context }) => crossed(rules.conversionContent.toShared, context)),
      addPin: assign({ pins: ({ context }) => context.pins + 1 }),
      dropPin: assign({ pins: ({ context }) => Math.max(0, context.pins - 1) }),
      dropAllPins: assign({ pins: () => 0 }),
    },
  }).createMachine({
    id: 'page',
    type: 'parallel',
    context: ({ input }) => ({ initShared: input.initShared, content: 0, bytes: {}, hostMappers: [], pins: 0 }),
    states: {
      attribute: {
        initial: 'created',
        states: {
          created: {
            description: 'At creation the page takes the file-wide initial attribute (GUEST_MEMFD_FLAG_INIT_SHARED).',
            always: [{ guard: 'createdShared', target: 'shared' }, { target: 'private' }],
          },
          shared: {
            description: 'Host user space may fault the page in and pin it; the guest maps it shared.',
            on: { CONVERT_BEGIN: { guard: 'toPrivate', target: 'toPrivate' } },
          },
          toPrivate: {
            description: 'Host mappings are being zapped and references checked (in-place conversion, or a guest request pending).',
            on: {
              CONVERT_COMMIT: { guard: 'noExtraReferences', target: 'private' },
              CONVERT_ABORT: { target: 'shared' },
            },
          },
          private: {
            description: 'Not mapped nor pinned by the host; only the guest (and the trusted entity) may access it.',
            on: { CONVERT_BEGIN: { guard: 'toShared', target: 'toShared' } },
          },
          toShared: {
            description: 'Stage-2 private mappings are being zapped; the trusted entity returns the page to the host.',
            // No abort: a conversion to shared checks no references, so its commit cannot be refused.
            on: { CONVERT_COMMIT: { target: 'shared' } },
          },
        },
      },
      backing: {
        initial: 'hole',
        states: {
          hole: {
            description: 'No folio in the page cache: reads see zeroes.',
            on: {
              ALLOCATE: { target: 'allocated' },
              HOST_FAULT: { guard: 'hostMayAccess', target: 'initialised', actions: 'zeroContent' },
              GUEST_MAP: { target: 'initialised', actions: 'zeroContent' },
              POPULATE: { guard: 'populatable', target: 'initialised', actions: 'loadImage' },
            },
          },
          allocated: {
            description: 'fallocate() put a folio in place; it is zeroed on first use, not before.',
            on: {
              HOST_FAULT: { guard: 'hostMayAccess', target: 'initialised', actions: 'zeroContent' },
              GUEST_MAP: { target: 'initialised', actions: 'zeroContent' },
              POPULATE: { guard: 'populatable', target: 'initialised', actions: 'loadImage' },
              PUNCH: { target: 'hole' },
            },
          },
          initialised: {
            description: 'Zeroed or written (uptodate); content is the abstract token.',
            on: {
              // Only existing data can survive, be zeroed or be scrambled; a hole stays a hole. The platform acts
              // when its trusted entity takes the page (a private fault) or gives it back (conversion to shared).
              GUEST_MAP: {
                guard: and(['guestPrivate', 'trustedEntityPrepares', stateIn({ trustedEntity: 'unprepared' })]),
                actions: 'contentToPrivate',
              },
              CONVERT_COMMIT: { guard: and([stateIn({ attribute: 'toShared' }), 'trustedEntityHolds']), actions: 'contentToShared' },
              HOST_WRITE: { actions: 'writeByte' },
              HOST_FILL: { actions: 'fill' },
              GUEST_WRITE: { actions: 'writeByte' },
              POPULATE: { guard: 'populatable', actions: 'loadImage' },
              PUNCH: { target: 'hole', actions: 'zeroContent' },
            },
          },
        },
      },
      hostMapping: {
        initial: 'unmapped',
        states: {
          unmapped: {
            on: { HOST_FAULT: { guard: 'hostMayAccess', target: 'mapped', actions: 'addMapper' } },
          },
          mapped: {
            description: 'Present in the page tables of one or more host mappings (context.hostMappers).',
            on: {
              HOST_FAULT: { actions: 'addMapper' },
              HOST_UNMAP: [
                { guard: 'isLastMapper', target: 'unmapped', actions: 'removeMapper' },
                { guard: 'hasMapper', actions: 'removeMapper' },
              ],
              PUNCH: { target: 'unmapped', actions: 'unmapAllHost' },
              CONVERT_BEGIN: {
                guard: and(['startsConversion', 'toPrivate', 'conversionZapsHost']),
                target: 'unmapped',
                actions: 'unmapAllHost',
              },
            },
          },
        },
      },
      pins: {
        initial: 'unpinned',
        states: {
          unpinned: { on: { PIN: { guard: 'hostMayAccess', target: 'pinned', actions: 'addPin' } } },
          pinned: {
            description: 'Long-term GUP references hold the folio (context.pins); they block conversion to private.',
            on: {
              PIN: { guard: 'hostMayAccess', actions: 'addPin' },
              UNPIN: [{ guard: 'lastPin', target: 'unpinned', actions: 'dropPin' }, { actions: 'dropPin' }],
              // The pinned folio leaves the file; the pin holder keeps it, the file gets a fresh page.
              PUNCH: { target: 'unpinned', actions: 'dropAllPins' },
            },
          },
        },
      },
      trustedEntity: {
        initial: 'unprepared',
        states: {
          unprepared: {
            on: {
              GUEST_MAP: { guard: and(['guestPrivate', 'trustedEntityPrepares']), target: 'prepared' },
              POPULATE: { target: 'populated' },
            },
          },
          prepared: {
            description: 'The trusted entity owns the page (RMP-assigned, added to the TD, delegated to the Realm, donated at EL2).',
            on: {
              PUNCH: { target: 'unprepared' },
              CONVERT_COMMIT: { guard: stateIn({ attribute: 'toShared' }), target: 'unprepared' },
            },
          },
          populated: {
            description: 'Loaded and measured into the launch digest by the trusted entity.',
            on: {
              PUNCH: { target: 'unprepared' },
              CONVERT_COMMIT: { guard: stateIn({ attribute: 'toShared' }), target: 'unprepared' },
            },
          },
        },
      },
      directMap: {
        initial: 'present',
        states: {
          present: {
            on: {
              ALLOCATE: { guard: 'removesOnAllocate', target: 'removed' },
              HOST_FAULT: { guard: and(['removesOnAllocate', 'hostMayAccess']), target: 'removed' },
              GUEST_MAP: [
                { guard: 'removesOnAllocate', target: 'removed' },
                { guard: and(['removesWhenPrivate', 'guestPrivate']), target: 'removed' },
              ],
              POPULATE: { guard: and(['populatable', or(['removesOnAllocate', 'removesWhenPrivate'])]), target: 'removed' },
              CONVERT_COMMIT: {
                guard: and(['removesWhenPrivate', stateIn({ attribute: 'toPrivate' }), 'noExtraReferences']),
                target: 'removed',
              },
            },
          },
          removed: {
            description: 'Absent from the kernel direct map; restored before the folio is freed.',
            on: {
              PUNCH: { target: 'present' },
              CONVERT_COMMIT: { guard: and(['removesWhenPrivate', stateIn({ attribute: 'toShared' })]), target: 'present' },
            },
          },
        },
      },
      stage2: {
        initial: 'none',
        states: {
          none: {
            on: {
              GUEST_MAP: [
                { guard: 'guestPrivate', target: 'private' },
                { guard: 'guestShared', target: 'shared' },
              ],
            },
          },
          // Any conversion step invalidates the guest's mapping: a page the guest mapped while it waited in
          // transition must not keep a stage-2 mapping of the old kind after the commit. A CONVERT_BEGIN that starts
          // no conversion (the page is already on its way, or already there) is refused, here as in `attribute`.
          shared: {
            on: {
              STAGE2_ZAP: { target: 'none' },
              PUNCH: { target: 'none' },
              CONVERT_BEGIN: { guard: 'startsConversion', target: 'none' },
              CONVERT_COMMIT: { target: 'none' },
            },
          },
          private: {
            on: {
              STAGE2_ZAP: { target: 'none' },
              PUNCH: { target: 'none' },
              CONVERT_BEGIN: { guard: 'startsConversion', target: 'none' },
              CONVERT_COMMIT: { target: 'none' },
            },
          },
        },
      },
    },
  });
}

export type PageMachine = ReturnType<typeof createPageMachine>;
