/**
 * An operation's probe values for exploration: the steps of that op the explorer (spec/explore/events.ts) offers
 * in a state, drawn from documented equivalence classes so that every failure condition of its check list is
 * the decision of some edge. "Moves" change the state; "probes" exercise one failure condition and leave it.
 *
 * An op offers values in one or more scopes: once per state (`kvm`), or once per object of a kind. The scopes
 * under a VM (`vmGmem`, `vmSlot`, `vmPage`) run inside that VM's turn. `rank` orders the ops of one group of
 * scopes (kvm; vm and its sub-scopes; gmem; map; pin): the order numbers the graph's states and edges, so it is
 * part of every graph digest. Consecutive entries of one sub-scope run together per object (for each memslot:
 * delete it, then bind over it).
 */
import type { VmTypeName } from '../constants.ts';
import type { Bound } from '../explore/bound.ts';
import type { OpName, Step } from '../ops.ts';
import type { Profile, VmTypeRules } from '../profile.ts';
import { acceptedFlagDefs } from '../rules/kvm.ts';
import type { Memslot, PinState, SystemState, VmState } from '../state.ts';
import type { StepOf } from './fields.ts';

export const PAGE = 4096;

/** An object the step names: its handle and its index in the state. */
export interface Named {
  name: string;
  id: number;
}

/** What every scope sees: the profile, the bound, the state. */
export interface ProbeBase {
  profile: Profile;
  /** The bound the search stays within. */
  bound: Bound;
  s: SystemState;
  /** bound.pages pages, in bytes: the size of every guest_memfd the explorer creates. */
  size: number;
  /** Some VM type of the profile has private memory (a confidential platform). */
  platform: boolean;
}

export interface VmScope extends ProbeBase {
  vm: Named;
  v: VmState;
  rules: VmTypeRules | undefined;
  /** The open guest_memfds created on this VM, by name. */
  gmems: readonly Named[];
  /** The lowest slot number this VM does not use. */
  nextSlot: number;
}

export interface ProbeScopes {
  kvm: ProbeBase;
  vm: VmScope;
  vmGmem: VmScope & { g: Named };
  vmSlot: VmScope & { slot: Memslot };
  vmPage: VmScope & { gpa: number };
  /** Each open guest_memfd fd; `maps` are the live named mappings (for the name and count of a new one). */
  gmem: ProbeBase & { g: Named; maps: readonly Named[] };
  map: ProbeBase & { m: Named; livePins: readonly PinState[] };
  /** Each live pin, with the name of its mapping (none when the mapping has no name left). */
  pin: ProbeBase & { p: PinState; map: string | undefined };
}
export type ProbeScope = keyof ProbeScopes;

export interface Probe<N extends OpName, S extends ProbeScope> {
  rank: number;
  values: (c: ProbeScopes[S]) => StepOf<N>[];
}

/**
 * An op's probe values by scope, or why the explorer never offers it. A scope may hold several entries at
 * different ranks, where an op's values interleave with another op's (uffd: registers, continues, then the
 * probes of both).
 */
export type Probes<N extends OpName> = { readonly [S in ProbeScope]?: Probe<N, S> | readonly Probe<N, S>[] } | { none: string };

/** A probe with its op erased, as the explorer's schedule holds them. */
export type AnyProbe<S extends ProbeScope> = { rank: number; values: (c: ProbeScopes[S]) => Step[] };

function subsets<T>(xs: readonly T[]): T[][] {
  let out: T[][] = [[]];
  for (const x of xs) out = [...out, ...out.map((s) => [...s, x])];
  return out;
}

/** Flag values a VM type accepts, every combination, ascending. */
export function flagCombinations(profile: Profile, type: VmTypeName): number[] {
  return subsets(acceptedFlagDefs(profile, type).filter((f) => f.bit < 31))
    .map((s) => s.reduce((m, f) => m | (1 << f.bit), 0))
    .sort((a, b) => a - b);
}

/**
 * The lowest `m<k>` that names no live mapping. Not `m<number of mappings>`: compaction renumbers mappings, so
 * after mmap m0, mmap m1, munmap m0 that name would be m1's again, the old m1 would lose its name while staying
 * mapped, the mapping count would escape the bound and the search would never close (maps >= 2).
 */
export function freeMapName(live: ReadonlyArray<{ name: string }>): string {
  let k = 0;
  while (live.some((m) => m.name === `m${k}`)) k++;
  return `m${k}`;
}
