/**
 * The vocabulary of field shapes an operation's schema is written in: used to validate traces, and by anything
 * that walks an op's fields generically (the native helper's wire format, the failure generator's mutations).
 */
import type { OpName, Step } from '../ops.ts';

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

/** A step of one operation (an intersection, not Extract: LaunchOp carries two op names). */
export type StepOf<N extends OpName> = Step & { op: N };

/** The field names an operation's type has (its `op` tag and trace metadata aside): a schema may name only these. */
export type FieldName<N extends OpName> = Exclude<keyof StepOf<N>, 'op' | 'as' | 'observed' | 'expected' | 'note'> & string;

export const handleField = <Name extends string>(name: Name): FieldSpec<Name> => ({ name, type: { kind: 'handle' } });
export const intField = <Name extends string>(name: Name, optional = false): FieldSpec<Name> => ({ name, type: { kind: 'int' }, optional });
