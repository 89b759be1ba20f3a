/**
 * What the project knows about one operation, in one record: its schema, how step() decides it, its ordered
 * check list with the one context builder step() and the failure generator share, the parts of the state it
 * reads and writes, its words, how its named values travel to the native helper, its probe values for
 * exploration and its C selftest text. spec/ops/index.ts collects one record per operation; a test walks them
 * and fails when a facet is missing.
 */
import type { OpName, Step } from '../ops.ts';
import type { Profile, VmTypeRules } from '../profile.ts';
import type { Check } from '../rules/check.ts';
import type { Decision } from '../rules/decision.ts';
import type { SystemState } from '../state.ts';
import type { World } from '../world.ts';
import type { CSelftest } from './cSelftest.ts';
import type { FieldName, FieldSpec, StepOf } from './fields.ts';
import type { Probes } from './probes.ts';

export type { StepOf } from './fields.ts';

/** A top-level part of SystemState (spec/state.ts) an operation may read or write. */
export type StatePart = Exclude<keyof SystemState, 'proc'>;

export interface Footprint {
  reads: readonly StatePart[];
  /** Every part a step of this op may change; test/ops-registry.test.ts checks it on explored edges. */
  writes: readonly StatePart[];
}

/**
 * A published ordered check list: `checks` as the failure generator enumerates it (the default list; step()
 * may pick a profile's variant), and `context`, the one builder of the context both evaluate it on.
 */
export interface CheckList<N extends OpName, C> {
  checks: () => readonly Check<C>[];
  context: (w: World, step: StepOf<N>) => C;
}

/** A check list with its context type erased: the registry holds lists of every context type side by side. */
export interface AnyCheckList<N extends OpName> {
  checks: () => readonly Check<unknown>[];
  context: (w: World, step: StepOf<N>) => unknown;
}

/** Erases the context type; sound because the list is only ever evaluated on its own builder's contexts. */
export function checkList<N extends OpName, C>(list: CheckList<N, C>): AnyCheckList<N> {
  return list as unknown as AnyCheckList<N>;
}

/**
 * Which single guest_memfd page a step addresses, so that symmetry reduction (spec/explore/symmetry.ts) can move
 * the step with the page: through an offset into a file, an offset into a mapping, or a guest physical address
 * (found through the VM's memslots). A step that names a range addresses one page only when the range is that
 * page, which each form says of its own fields. `none` says why the op addresses no single page.
 */
export type PageAddress<N extends OpName> =
  /** `offset` into the guest_memfd `file`; only a page-aligned `length` of exactly one page. */
  | { via: 'file'; file: FieldName<N>; offset: FieldName<N>; length: FieldName<N> }
  /**
   * `offset` into the mapping `map`; the extent the step covers from there: `{ alignedPage }` (that field is one
   * page and the offset is page-aligned), `{ withinPage }` (the range from the offset, that long, ends inside the
   * page), or none (one byte).
   */
  | {
      via: 'mapping';
      map: FieldName<N>;
      offset: FieldName<N>;
      extent: { alignedPage: FieldName<N> } | { withinPage: FieldName<N> } | { none: string };
    }
  /** `gpa` in the VM `vm`; `size` is one page and the gpa page-aligned, or none (any byte of the page names it). */
  | { via: 'gpa'; vm: FieldName<N>; gpa: FieldName<N>; size: FieldName<N> | { none: string } }
  | { none: string };

/** A named value's number on the wire, or why it is never sent to a kernel. */
export type WireValue = number | { unsendable: string };

export interface OpModule<N extends OpName> {
  name: N;
  /** One line: the syscall or ioctl it stands for. */
  summary: string;
  /** Its schema's fields (`opSchema` in its module): the op's TypeScript type is computed from them. */
  fields: readonly FieldSpec<FieldName<N>>[];
  /** The rule: outcome and rule id; mutates the world. fork is decided by step() itself (it nests steps). */
  decide: ((w: World, step: StepOf<N>) => Decision) | 'nested-steps';
  /** Its ordered check list, or why it has none (the failures suite then covers the rules it shows). */
  checkList: AnyCheckList<N> | { none: string };
  footprint: Footprint;
  /** Whether a step creates an object a handle names, and so may carry `as` (spec/ops.ts CREATING_OPS). */
  createsHandle: boolean;
  /** The single guest_memfd page a step addresses, or why none (symmetry reduction moves the step with it). */
  pageAddress: PageAddress<N>;
  /** The step in words for generated test names and messages, e.g. `fallocate(g0, PUNCH_HOLE|KEEP_SIZE, page 0)`. */
  phrase: (profile: Profile, step: StepOf<N>, phraseOf: (s: Step) => string) => string;
  /** The step in a few ABI words for a diagram edge (`fallocate(PUNCH_HOLE)`), for the VM type's rules where known. */
  edgeWord: (profile: Profile, step: StepOf<N>, rules: VmTypeRules | undefined) => string;
  /** Named values of enum fields as the numbers the helper sends (native/PROTOCOL.md); words travel as words. */
  wireEnums: Readonly<Partial<Record<FieldName<N>, Readonly<Record<string, WireValue>>>>>;
  /** The values the explorer tries in a state (spec/ops/probes.ts), or why it never offers this op. */
  probes: Probes<N>;
  /**
   * The step as C for the generated selftests (spec/ops/cSelftest.ts), or why a process cannot issue it on its
   * own, said of the op (`needs a vCPU`): its traces are then left out of the C suite.
   */
  cSelftest: CSelftest<N> | { none: string };
}
