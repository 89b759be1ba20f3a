/**
 * The vocabulary of field shapes an operation's schema is written in, and the TypeScript type each shape stands
 * for. An operation's schema (`opSchema`, in its module) is the one place its fields are written: traces are
 * validated against it, the native helper's wire format and the failure generator's mutations walk it, and the
 * op's TypeScript type is computed from it (`OpFromFields`), so the two cannot disagree.
 */
import type { Handle, Int, MemslotFlag, OpName, Prot, Step } from '../ops.ts';

export type FieldKind =
  | { kind: 'handle' }
  /** `kvm` or a handle. */
  | { kind: 'kvm-or-handle' }
  | { kind: 'int' }
  | { kind: 'byte' }
  | { kind: 'bool' }
  | { kind: 'prot' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'int-or-enum'; values: readonly string[] }
  | { kind: 'int-list' }
  | { kind: 'memslot-flags' }
  | { kind: 'uaddr' }
  | { kind: 'steps' };

export interface FieldSpec<Name extends string = string> {
  name: Name;
  type: FieldKind;
  optional?: boolean;
}

/** The value type of each field kind without named values (an interface: `steps` refers back to Step). */
interface KindValues {
  handle: Handle;
  'kvm-or-handle': 'kvm' | Handle;
  int: Int;
  byte: number;
  bool: boolean;
  prot: Prot;
  'int-list': Int[];
  /** Named flags, or a raw u32 for flag bits the vocabulary has no name for. */
  'memslot-flags': MemslotFlag[] | Int;
  /** A raw user address, or an address inside a mapping this trace made. */
  uaddr: Int | { map: Handle; offset: Int };
  steps: Step[];
}

/** The TypeScript type a field of this kind holds: an enum's named values are its literal names. */
export type FieldValue<K extends FieldKind> = K extends { kind: 'enum'; values: readonly (infer V)[] }
  ? V
  : K extends { kind: 'int-or-enum'; values: readonly (infer V)[] }
    ? V | Int
    : KindValues[Exclude<K['kind'], 'enum' | 'int-or-enum'>];

/** An operation's schema: its name and its fields, with their literal types kept (`opSchema`). */
export interface OpSchema<N extends string = string, F extends readonly FieldSpec[] = readonly FieldSpec[]> {
  readonly name: N;
  readonly fields: F;
}

/**
 * An operation's schema. The literal types of the name and fields are kept, so the op's TypeScript type is
 * computed from them (spec/ops/index.ts collects every module's `…Schema` exports into the vocabulary).
 */
export function opSchema<const N extends string, const F extends readonly FieldSpec[]>(name: N, fields: F): OpSchema<N, F> {
  return { name, fields };
}

/** One flat object type (for readable hovers and messages) from an intersection. */
type Flat<T> = { [K in keyof T]: T[K] } & {};

/** The TypeScript type of an operation from its name and fields: `{ op: N }`, each field, optional ones with `?`. */
export type OpFromFields<N extends string, F extends readonly FieldSpec[]> = Flat<
  { op: N } & { [S in F[number] as S extends { optional: true } ? never : S['name']]: FieldValue<S['type']> } & {
    [S in F[number] as S extends { optional: true } ? S['name'] : never]?: FieldValue<S['type']>;
  }
>;

/** A step of one operation (an intersection, so that a union of names gives the union of their steps). */
export type StepOf<N extends OpName> = Step & { op: N };

/** The field names an operation's type has (its `op` tag and trace metadata aside). */
export type FieldName<N extends OpName> = Exclude<keyof StepOf<N>, 'op' | 'as' | 'observed' | 'expected' | 'note'> & string;

export const handleField = <const Name extends string>(name: Name) => ({ name, type: { kind: 'handle' as const } });
export const intField = <const Name extends string, const Optional extends boolean = false>(name: Name, optional = false as Optional) => ({
  name,
  type: { kind: 'int' as const },
  optional,
});
