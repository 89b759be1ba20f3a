/**
 * Invariants: named predicates over the system state (and, for transition invariants, over a step), each
 * citing the promise it checks. A predicate returns null when it holds, or a sentence saying where it breaks.
 */
import { conversionGranularityBreak, wholeFolioBreak } from './granularity.ts';
import type { Step } from './ops.ts';
import type { Profile } from './profile.ts';
import type { GmemState, PageState, SystemState } from './state.ts';
import { flagDefsOf, hasEffect } from './world.ts';

export interface StateInvariant {
  kind: 'state';
  name: string;
  says: string;
  source: string;
  /** Checked in every profile, whatever the profile promises: a promise of the ABI itself, not of one design. */
  everywhere?: true;
  check: (s: SystemState, profile: Profile) => string | null;
}

export interface TransitionInvariant {
  kind: 'transition';
  name: string;
  says: string;
  source: string;
  everywhere?: true;
  check: (before: SystemState, step: Step, after: SystemState, profile: Profile) => string | null;
}

export type Invariant = StateInvariant | TransitionInvariant;

function forEachPage(s: SystemState, f: (g: GmemState, gi: number, p: PageState, i: number) => string | null): string | null {
  for (let gi = 0; gi < s.gmems.length; gi++) {
    const g = s.gmems[gi] as GmemState;
    for (const [k, p] of Object.entries(g.pages)) {
      const r = f(g, gi, p, Number(k));
      if (r) return r;
    }
  }
  return null;
}

export const INVARIANTS: readonly Invariant[] = [
  {
    kind: 'state',
    name: 'HostMappedIsShared',
    says: 'a page mapped into host user space is shared',
    source:
      'api.rst KVM_CREATE_GUEST_MEMFD ("shared memory can be faulted into host userspace page tables. Private memory cannot."); seed 003',
    check: (s) =>
      forEachPage(s, (_g, gi, p, i) =>
        p.hostMappers.length > 0 && p.attribute !== 'shared'
          ? `guest_memfd ${gi} page ${i} is ${p.attribute} but mapped by host mapping(s) ${p.hostMappers.join(',')}`
          : null,
      ),
  },
  {
    kind: 'state',
    name: 'PrivateNeverPinned',
    says: 'private memory is never pinned by the host',
    source: 'seed 004 (Hildenbrand: "private memory: not mapped, not pinned"); kernel-abi.md §2.16 (EAGAIN on elevated refcount)',
    check: (s) =>
      forEachPage(s, (_g, gi, p, i) =>
        (p.attribute === 'private' || p.attribute === 'toShared') && p.pins > 0
          ? `guest_memfd ${gi} page ${i} is private with ${p.pins} host pin(s)`
          : null,
      ),
  },
  {
    kind: 'state',
    name: 'PreparedIsPrivate',
    says: 'a page prepared or populated by the trusted entity is private',
    source: 'seed 001 (private as tracked by KVM vs private as tracked by the trusted entity); kernel-abi.md §2.19-2.20',
    check: (s) =>
      forEachPage(s, (_g, gi, p, i) =>
        p.trustedEntity !== 'unprepared' && p.attribute !== 'private' && p.attribute !== 'toShared'
          ? `guest_memfd ${gi} page ${i} is ${p.trustedEntity} by the trusted entity but ${p.attribute}`
          : null,
      ),
  },
  {
    kind: 'state',
    name: 'GuestPrivateNotHostMapped',
    says: 'a page the guest maps private is not mapped by the host',
    source: 'kernel-abi.md §2.21 ("a page with a private SPTE is never host-mapped")',
    check: (s) =>
      forEachPage(s, (_g, gi, p, i) =>
        p.stage2 === 'private' && p.hostMappers.length > 0
          ? `guest_memfd ${gi} page ${i} is mapped private by the guest and by host mapping(s)`
          : null,
      ),
  },
  {
    kind: 'state',
    name: 'BindingsDisjoint',
    says: 'no two memslot bindings overlap in a guest_memfd, and each lies inside the file',
    source: 'api.rst KVM_SET_USER_MEMORY_REGION2 ("the bound ranges must not overlap"); kernel-abi.md §2.13',
    check: (s) => {
      for (let gi = 0; gi < s.gmems.length; gi++) {
        const g = s.gmems[gi] as GmemState;
        const bs = [...g.bindings].sort((a, b) => a.start - b.start);
        for (let k = 0; k < bs.length; k++) {
          const b = bs[k];
          if (!b) continue;
          if (b.start + b.npages > g.sizePages) return `guest_memfd ${gi}: binding of slot ${b.slot} ends past the file`;
          const next = bs[k + 1];
          if (next && next.start < b.start + b.npages) return `guest_memfd ${gi}: slots ${b.slot} and ${next.slot} overlap`;
        }
      }
      return null;
    },
  },
  {
    kind: 'state',
    name: 'UnwrittenReadsZero',
    says: 'a never-written or punched page reads zero',
    source: 'kernel-abi.md §2.5 step 5, §2.7; test_mmap_supported',
    check: (s) =>
      forEachPage(s, (_g, gi, p, i) =>
        p.backing !== 'initialised' && (p.content !== 0 || p.bytes)
          ? `guest_memfd ${gi} page ${i} is a ${p.backing} page with non-zero content`
          : null,
      ),
  },
  {
    kind: 'state',
    name: 'NoDirectMapPrivateAbsent',
    says: 'with NO_DIRECT_MAP, an allocated private page is absent from the kernel direct map',
    source: 'kernel-abi.md §4.2 (NDM-v12)',
    check: (s, profile) =>
      forEachPage(s, (g, gi, p, i) => {
        const ndm = hasEffect(flagDefsOf(profile, g.flags), (e) => e.directMap);
        return ndm && p.backing !== 'hole' && p.attribute === 'private' && p.directMap !== 'removed'
          ? `guest_memfd ${gi} page ${i} is private and allocated but still in the direct map`
          : null;
      }),
  },
  {
    kind: 'transition',
    name: 'SizeNeverChanges',
    says: 'the size of a guest_memfd never changes',
    source: 'kernel-abi.md §2.1 ("i_size is set to size and never changes afterwards"), §2.8',
    check: (before, _step, after) => {
      for (let gi = 0; gi < before.gmems.length; gi++) {
        const a = before.gmems[gi];
        const b = after.gmems[gi];
        if (a && b && a !== b && a.sizePages !== b.sizePages)
          return `guest_memfd ${gi} changed size from ${a.sizePages} to ${b.sizePages} pages`;
      }
      return null;
    },
  },
  {
    kind: 'transition',
    name: 'PunchKeepsAttributes',
    says: 'punching a hole never changes attributes',
    source: 'kernel-abi.md §2.7, §2.16 (INPLACE-v8: punching does not change the per-page attributes); truncate selftest',
    check: (before, step, after, profile) => {
      const punch =
        (step.op === 'fallocate' && (step.mode === 'punch_hole' || (typeof step.mode !== 'string' && (Number(step.mode) & 2) !== 0))) ||
        (step.op === 'madvise' && step.advice === 'remove');
      if (!punch) return null;
      for (let gi = 0; gi < before.gmems.length; gi++) {
        const a = before.gmems[gi];
        const b = after.gmems[gi];
        if (!a || !b || a === b || b.lifecycle === 'released') continue;
        const keys = new Set([...Object.keys(a.pages), ...Object.keys(b.pages)]);
        for (const k of keys) {
          if (a.pages[k] === b.pages[k]) continue;
          const fresh = (g: GmemState) => (initSharedFile(profile, g) ? 'shared' : 'private');
          const x = a.pages[k]?.attribute ?? fresh(a);
          const y = b.pages[k]?.attribute ?? fresh(b);
          if (x !== y) return `punch changed guest_memfd ${gi} page ${k} from ${x} to ${y}`;
        }
      }
      return null;
    },
  },
  {
    kind: 'state',
    name: 'FolioWholeOnlyWhenPrivate',
    says: 'a huge folio stays whole only while all of it is private: the host maps and pins single pages of split folios, never a huge folio',
    source:
      'kernel-abi.md §4.4 ("a freshly allocated huge folio is split to 4 KiB unless its whole range is private"; split/merge of folios on conversion); seed 004 (Hildenbrand: "huge/gigantic page support ... converting individual subpages"; "private memory: not mapped, not pinned")',
    check: (s, profile) => wholeFolioBreak(s, profile),
  },
  {
    kind: 'transition',
    name: 'ConversionGranularity',
    says: "conversion and mapping work on single pages: a step converts only the pages of the range it names (never the rest of their huge folio), and a host access maps only the page it touches, allocating at most that page's folio",
    source:
      'seed 004 (Hildenbrand: "granularity of conversion: single pages"); kernel-abi.md §2.16 (page-aligned ranges; nothing changes outside the range), §4.4 (fallocate on whole huge folios; sub-folio conversion splits the folio)',
    everywhere: true,
    check: (before, step, after, profile) => conversionGranularityBreak(before, step, after, profile),
  },
  {
    kind: 'transition',
    name: 'PrivateNotHostAccessed',
    says: 'host user space never reads or writes a private page',
    source:
      'seed 004 (Hildenbrand: the common requirement is that "private" pages are not mapped/pinned/accessible; Perret: pKVM SEGVs user space that touches protected memory); kernel-abi.md §2.5 step 2, §4.5',
    check: (_before, step, after) => hostAccessToPrivate(step, after),
  },
];

/**
 * Whether a guest_memfd's pages start shared: from its flags' declared effects, as World decides it, so that a
 * user-written INIT_SHARED-style flag (any bit) and the built-in one are read the same way.
 */
function initSharedFile(profile: Profile, g: GmemState): boolean {
  return hasEffect(flagDefsOf(profile, g.flags), (e) => e.initShared);
}

const PAGE = 4096n;

/**
 * A host access (read_mem, write_mem, fill_mem, check_mem) that went through a page table entry of a private
 * page: the page is private after the step and the accessing mapping maps it (a refused fault maps nothing).
 */
function hostAccessToPrivate(step: Step, after: SystemState): string | null {
  if (step.op !== 'read_mem' && step.op !== 'write_mem' && step.op !== 'fill_mem' && step.op !== 'check_mem') return null;
  const ref = after.names[step.map];
  if (!ref || !('map' in ref)) return null;
  const m = after.maps[ref.map];
  const g = m && after.gmems[m.gmem];
  if (!m?.live || !g || g.lifecycle === 'released' || m.prot === 'none') return null;
  if (step.op !== 'read_mem' && step.op !== 'check_mem' && !m.prot.includes('w')) return null;
  const start = BigInt(step.offset);
  const end = step.op === 'fill_mem' || step.op === 'check_mem' ? start + BigInt(step.length) : start + 1n;
  if (start < 0n || end <= start) return null;
  for (let at = (start / PAGE) * PAGE; at < end && at < BigInt(m.npages) * PAGE; at += PAGE) {
    const rel = Number(at / PAGE);
    if (m.guards?.includes(rel)) return null;
    const i = m.start + rel;
    const p = g.pages[String(i)];
    if (p && (p.attribute === 'private' || p.attribute === 'toShared') && p.hostMappers.includes(ref.map))
      return `host mapping ${ref.map} ${step.op === 'read_mem' || step.op === 'check_mem' ? 'read' : 'wrote'} guest_memfd ${m.gmem} page ${i}, which is ${p.attribute}`;
  }
  return null;
}

export function invariantsFor(profile: Profile, names?: readonly string[]): Invariant[] {
  const wanted = names ?? profile.promises;
  if (!wanted) return [...INVARIANTS];
  const unknown = wanted.filter((n) => !INVARIANTS.some((i) => i.name === n));
  if (unknown.length) throw new Error(`unknown invariant(s) ${unknown.join(', ')}; known: ${INVARIANTS.map((i) => i.name).join(', ')}`);
  // A profile's promises narrow the design's invariants, never the ABI's own (`everywhere`); names asked for are exact.
  return INVARIANTS.filter((i) => wanted.includes(i.name) || (names === undefined && i.everywhere));
}

export interface Violation {
  invariant: string;
  says: string;
  detail: string;
}

/** Check the state invariants in `after`, and the transition invariants over (before, step, after). */
export function violations(
  profile: Profile,
  invariants: readonly Invariant[],
  before: SystemState | undefined,
  step: Step | undefined,
  after: SystemState,
): Violation[] {
  const out: Violation[] = [];
  for (const inv of invariants) {
    const detail = inv.kind === 'state' ? inv.check(after, profile) : before && step ? inv.check(before, step, after, profile) : null;
    if (detail) out.push({ invariant: inv.name, says: inv.says, detail });
  }
  return out;
}
