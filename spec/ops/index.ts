/**
 * The operation registry: one record per operation, each from its module in this folder, collected from the
 * modules' exports: every `…Schema` export is an operation's schema (its TypeScript type is computed from it,
 * spec/ops.ts), every `…Op` export is its record. An operation added to a module listed in MODULES needs no
 * line here; a new module needs its import and its entry in MODULES. The registry's type is a mapped type over
 * OpName, so an operation without a record (or a record without a facet) does not compile;
 * test/ops-registry.test.ts walks it at run time too. step(), the trace schema, the failure generator, the
 * generated tests' words, the C selftests and the wire format read operations from here, not from switches.
 */
import type { OpName, Step } from '../ops.ts';
import type { Profile } from '../profile.ts';
import type { Decision } from '../rules/decision.ts';
import type { World } from '../world.ts';
import * as attributes from './attributes.ts';
import * as fallocate from './fallocate.ts';
import type { FieldSpec, OpFromFields, OpSchema } from './fields.ts';
import * as fork from './fork.ts';
import * as gmemFile from './gmemFile.ts';
import * as kvm from './kvm.ts';
import * as memAccess from './memAccess.ts';
import * as memslots from './memslots.ts';
import * as mmap from './mmap.ts';
import * as platform from './platform.ts';
import type { OpModule, StepOf } from './types.ts';
import * as uffd from './uffd.ts';

/** The modules that hold operations. */
const MODULES = [kvm, gmemFile, mmap, memAccess, fallocate, memslots, attributes, fork, platform, uffd] as const;

type Module = (typeof MODULES)[number];
/** A module's exports whose names end in the suffix (by name only: the compiler need not resolve the others). */
type ExportsEndingIn<M, Suffix extends string> = M extends unknown ? M[Extract<keyof M, `${string}${Suffix}`>] : never;
type Schemas = Extract<ExportsEndingIn<Module, 'Schema'>, OpSchema>;
type Records = ExportsEndingIn<Module, 'Op'>;

/** Every operation's TypeScript type by name, computed from its schema (spec/ops.ts names them `Op`, `OpOf<N>`). */
export type OpTypes = { [S in Schemas as S['name']]: OpFromFields<S['name'], S['fields']> };

export type OpRegistry = { readonly [N in OpName]: OpModule<N> };

/**
 * The exported records keyed by their own names. The constraint is the compile-time check: every operation has
 * a record, and each record is a whole `OpModule` of its own name.
 */
type RecordsByName<R extends OpRegistry> = R;
export type ExportedRecords = RecordsByName<{ [R in Records as R extends { name: infer N extends string } ? N : never]: R }>;

function recordsOf(m: Module): Array<OpModule<OpName>> {
  return Object.entries(m)
    .filter(([name]) => name.endsWith('Op'))
    .map(([, record]) => record as OpModule<OpName>);
}

/** Alphabetical by name: OP_NAMES and everything listing operations follows this order. */
export const OPS: OpRegistry = Object.fromEntries(
  MODULES.flatMap(recordsOf)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((r) => [r.name, r]),
) as unknown as OpRegistry;

/** The record of a step's operation, typed for that step (the one place the op-to-record link is asserted). */
export function opOf<N extends OpName>(step: StepOf<N>): OpModule<N> {
  return OPS[step.op as N] as unknown as OpModule<N>;
}

/** The rule that decides a (non-fork) step. */
export function decideStep(w: World, step: Step): Decision {
  const m = opOf(step);
  if (m.decide === 'nested-steps') throw new Error(`internal: ${step.op} is handled by step()`);
  return m.decide(w, step);
}

/** A step in words: `fallocate(g0, PUNCH_HOLE|KEEP_SIZE, page 0)`. */
export function phraseOf(profile: Profile, step: Step): string {
  return opOf(step).phrase(profile, step, (s) => phraseOf(profile, s));
}

export const OP_FIELDS: Readonly<Record<OpName, readonly FieldSpec[]>> = Object.fromEntries(
  Object.entries(OPS).map(([name, m]) => [name, m.fields]),
) as Record<OpName, readonly FieldSpec[]>;
