/**
 * The mailing-list debates the project started from (docs/seeds/), each as the question it argues and the
 * gmem-spec commands whose output answers it. docs/review/<seed>.md is written from this list (render.ts).
 */

export interface ReviewCommand {
  /** The command line after `gmem-spec`. */
  argv: string[];
  /** What to look at in its output, in one sentence. */
  look: string;
}

export interface SeedReview {
  /** `000`: docs/seeds/000.md, cited as `seed 000`. */
  seed: string;
  /** The thread's subject. */
  subject: string;
  /** The question under debate, in one line. */
  question: string;
  commands: ReviewCommand[];
}

const T = 'docs/review/traces';

export const SEED_REVIEWS: readonly SeedReview[] = [
  {
    seed: '000',
    subject: 'Re: [PATCH v12 08/18] KVM: guest_memfd: Allow host to map guest_memfd pages',
    question:
      'Is "the file supports mmap()" (GUEST_MEMFD_FLAG_MMAP) one property and "its memory is shared, not private" another, or does one imply the other?',
    commands: [
      {
        argv: ['predict', '--profile', 'linux-6.18', '--states', `${T}/000-mappable-vs-shared.json`],
        look: 'MMAP alone maps the file but its page is private (a host read is SIGBUS); INIT_SHARED alone makes the page shared but mmap() is ENODEV; only both give a host-readable mapping.',
      },
      {
        argv: ['predict', '--profile', 'inplace-conversion', '--states', `${T}/000-mappable-private-page.json`],
        look: 'With in-place conversion one mappable file holds a shared and a private page at once: the attribute is per page, mmap() support is per file.',
      },
    ],
  },
  {
    seed: '001',
    subject: 'Re: [PATCH RFC v4 10/44] KVM: guest_memfd: Add support for KVM_SET_MEMORY_ATTRIBUTES2',
    question:
      'Should populate (SNP LAUNCH_UPDATE, TDX INIT_MEM_REGION) require destinations already private as tracked by KVM, with userspace converting in place first, instead of converting inside populate?',
    commands: [
      {
        argv: ['predict', '--profile', 'inplace-conversion', '--states', `${T}/001-inplace-populate.json`],
        look: 'Populate of a page still shared is refused (populate.not-private); after an in-place conversion, populate with no source hands the page to the trusted entity (populated) and the guest reads what userspace wrote while it was shared.',
      },
      {
        argv: ['diagram', '--compare', 'sev-snp', 'inplace-conversion', '--format', 'text'],
        look: "The same VM type (snp) under both: on sev-snp the file's page stays private (conversion is per-VM attributes, shared memory lives elsewhere) and is populated from a source buffer; in place, the page itself moves between shared and private, and reaches 'populated' after it.",
      },
    ],
  },
  {
    seed: '002',
    subject: 'Re: [PATCH v3 0/6] KVM: guest_memfd: support for uffd minor',
    question:
      "Should guest_memfd mappings support userfaultfd MINOR faults (register, fault, UFFDIO_CONTINUE), so that userspace can serve faults, including those of KVM's own accesses through the mapping?",
    commands: [
      {
        argv: ['predict', '--profile', 'linux-7.3', `${T}/002-uffd-minor.json`],
        look: 'Linux 7.3 (measured on the lab) refuses the registration, so UFFDIO_CONTINUE finds nothing registered.',
      },
      {
        argv: ['predict', '--profile', 'uffd-minor', `${T}/002-uffd-minor.json`],
        look: 'The proposal accepts MODE_MINOR on the guest_memfd mapping and UFFDIO_CONTINUE maps the page-cache page.',
      },
    ],
  },
  {
    seed: '003',
    subject: 'Re: [PATCH 1/6] KVM: guest_memfd: Add DEFAULT_SHARED flag, reject user page faults if not set',
    question:
      'Should the initial shared/private state be its own creation flag (DEFAULT_SHARED, merged as INIT_SHARED), orthogonal to MMAP and meaning "shared at creation" rather than "shared whenever a folio is allocated"?',
    commands: [
      {
        argv: ['predict', '--profile', 'sev-snp', `${T}/003-init-shared-on-coco.json`],
        look: 'Without in-place conversion a confidential VM type refuses INIT_SHARED (its memory is private by default), so nothing after creation runs.',
      },
      {
        argv: ['predict', '--profile', 'inplace-conversion', '--states', `${T}/003-init-shared-on-coco.json`],
        look: 'With in-place conversion INIT_SHARED is accepted on SNP; a page converted to private and then punched stays private (INIT_SHARED is the state at creation, not a default re-applied on allocation).',
      },
    ],
  },
  {
    seed: '004',
    subject: 'Re: [PATCH RFC 0/5] mm/gup: Introduce exclusive GUP pinning',
    question:
      'May private guest memory be pinned or mapped by the host (FOLL_EXCLUSIVE), or must private memory be "not mapped, not pinned", converted in single pages?',
    commands: [
      {
        argv: ['predict', '--profile', 'pkvm', `${T}/004-pinned-conversion.json`],
        look: 'pKVM on the adopted in-place design refuses to convert a pinned page: EAGAIN with error_offset, and the page stays shared.',
      },
      {
        argv: ['predict', '--profile', 'exclusive-gup', '--states', `${T}/004-pinned-conversion.json`],
        look: 'The rejected FOLL_EXCLUSIVE design, the same trace: what happens to the pinned page and its host mapping when it becomes private.',
      },
      {
        argv: [
          'check',
          '--profile',
          'exclusive-gup',
          '--bound',
          'slots=0',
          '--invariant',
          'PrivateNeverPinned',
          '--invariant',
          'HostMappedIsShared',
          '--no-dead-rules',
          '--workers',
          '1',
          '--out',
          'OUT',
        ],
        look: 'The model checker finds the shortest counterexamples to "private memory: not mapped, not pinned" in the rejected design, and says which rule allows them and what the adopted design does instead.',
      },
    ],
  },
];
