/**
 * The shape of every operation's fields: used to validate traces, and by anything that needs to walk an op's
 * fields generically (the native helper's wire format, the test generator's pretty-printer). Each operation's
 * schema lives in its module under spec/ops/; this file is the view of them by name.
 */
import type { OpName } from './ops.ts';
import { OP_FIELDS } from './ops/index.ts';

export type { FieldKind, FieldSpec } from './ops/fields.ts';
export { OP_FIELDS };

export const OP_NAMES = Object.keys(OP_FIELDS) as OpName[];
export function isOpName(s: string): s is OpName {
  return Object.hasOwn(OP_FIELDS, s);
}
