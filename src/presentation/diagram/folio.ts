/**
 * The huge-folio region of a page diagram (hugetlb): the folio machine (machines/folio.ts) drawn beside the page
 * machine's regions for a flag set whose folios span more than one page, with its transitions in ABI words,
 * marked unreachable where the bounded search never took them, and its refusals (EAGAIN, EINVAL) as error edges.
 */
import type { AnyStateMachine } from 'xstate';
import { type FolioEventType, UPSTREAM_FOLIO_RULES, createFolioMachine } from '../../../machines/folio.ts';
import type { PageRules } from '../../../machines/page.ts';
import type { VmTypeName } from '../../../spec/constants.ts';
import type { Profile, VmTypeRules } from '../../../spec/profile.ts';
import { type Exploration, type Slice, selectSlices } from './reachable.ts';
import { type DEdge, type DGroup, type DNode, safeId } from './types.ts';
import { GUARD_WORDS, type Words, conversionName, eventWords } from './words.ts';

export const FOLIO_GROUP = 'folio';

/** Pages per folio for a flag set (1: no huge folios), from the flags' effects. */
export function folioPagesFor(profile: Profile, flags: number): number {
  return profile.flags.filter((d) => flags & (1 << d.bit)).reduce((n, d) => Math.max(n, d.effects.folioPages ?? 1), 1);
}

export function folioMachineFor(rules: PageRules): AnyStateMachine {
  return createFolioMachine(rules.folio ?? UPSTREAM_FOLIO_RULES) as unknown as AnyStateMachine;
}

const FOLIO_EVENT_WORDS: Words<FolioEventType, [profile: Profile, r: VmTypeRules | undefined]> = {
  ALLOCATE: () => 'first page gets memory (fallocate, host or guest fault, populate)',
  SPLIT: (profile, r) => `${conversionName(profile, r, 'shared')} of a page in it`,
  MERGE: (profile, r) => `${conversionName(profile, r, 'private')} leaves all of it private`,
  FREE: () => 'fallocate(PUNCH_HOLE) of the whole folio',
};

/** A folio-machine event in ABI words. */
export function folioEventWords(profile: Profile, vmType: VmTypeName, event: string): string {
  return eventWords(FOLIO_EVENT_WORDS, event, profile, profile.vmTypes[vmType]);
}

/** The folio-machine transitions the bounded search took for a VM type (and flag set). */
export function folioTaken(x: Exploration, vmType: VmTypeName, flags: number | undefined): Set<string> {
  const out = new Set<string>();
  for (const s of selectSlices(x, vmType, flags)) for (const e of s.taken.get('folio') ?? []) out.add(e);
  return out;
}

const ruleSeen = (slices: readonly Slice[], rule: string) => slices.some((s) => [...s.rules.values()].some((m) => m.has(rule)));

/**
 * Put the walked folio machine into its own group, and add its refusals: a split, merge or free that unsafe
 * references block (EAGAIN), and a range that is not folio-aligned (EINVAL).
 */
export function addFolioRegion(
  part: { nodes: DNode[]; edges: DEdge[] },
  folioPages: number,
  neverSplit: boolean,
  profile: Profile,
  vmType: VmTypeName,
  slices: readonly Slice[],
  into: { groups: DGroup[]; nodes: DNode[]; edges: DEdge[] },
): void {
  into.groups.push({
    id: FOLIO_GROUP,
    label: `folio (huge folio of ${folioPages} pages)`,
    description: 'whole only while every page of it is private; split to 4 KiB when a page is shared (kernel-abi.md §4.4)',
  });
  for (const n of part.nodes) into.nodes.push({ ...n, group: FOLIO_GROUP });
  for (const e of part.edges) {
    // The unsafe design's branch (FolioRules.neverSplit) is a constant of the profile, like a page rule.
    const disabled = !neverSplit && e.guard === GUARD_WORDS.neverSplit;
    into.edges.push(disabled ? { ...e, status: 'unreachable', note: "disabled by the profile's rules: huge folios are split" } : e);
  }
  const r = profile.vmTypes[vmType];
  const errorNode = (errno: string): string => {
    const id = `err_${safeId(errno)}`;
    if (!into.nodes.some((n) => n.id === id)) into.nodes.push({ id, label: errno, kind: 'error', status: 'normal' });
    return id;
  };
  const refusals = [
    {
      from: 'folio.whole',
      op: `${conversionName(profile, r, 'shared')} of a page`,
      errno: 'EAGAIN (error_offset)',
      rule: 'set_memory_attributes2.folio-busy',
    },
    {
      from: 'folio.split',
      op: `${conversionName(profile, r, 'private')} of the last shared page`,
      errno: 'EAGAIN (error_offset)',
      rule: 'set_memory_attributes2.folio-busy',
    },
    { from: 'folio.split', op: 'fallocate(PUNCH_HOLE) of the folio', errno: 'EAGAIN', rule: 'fallocate.folio-busy' },
  ];
  for (const x of refusals) {
    const seen = ruleSeen(slices, x.rule);
    into.edges.push({
      id: `${x.from}:error:${x.rule}:${x.op}`,
      from: safeId(x.from),
      to: errorNode(x.errno),
      op: x.op,
      guard: 'a page of the folio has extra references',
      errno: x.errno,
      kind: 'error',
      status: seen ? 'normal' : 'unreachable',
      source: x.rule,
      note: `the folio cannot be ${x.rule.startsWith('fallocate') ? 'merged back and freed' : 'split or merged'} while referenced${seen ? '' : '; never seen in the bounded search of this profile'}`,
    });
  }
  into.edges.push({
    id: 'folio.none:error:fallocate.unaligned',
    from: safeId('folio.none'),
    to: errorNode('EINVAL'),
    op: 'fallocate / KVM_CREATE_GUEST_MEMFD',
    guard: `offset, length or size not a multiple of ${folioPages} pages`,
    errno: 'EINVAL',
    kind: 'error',
    status: 'normal',
    source: 'fallocate.unaligned',
    note: 'huge folios are allocated and punched whole (kernel-abi.md §4.4)',
  });
}
