/**
 * The shape of every operation's fields: used to validate traces, and by anything that needs to walk an op's
 * fields generically (the native helper's wire format, the test generator's pretty-printer).
 */
import { MADV, VM_TYPE } from './constants.ts';
import type { OpName } from './ops.ts';

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

export interface FieldSpec {
  name: string;
  type: FieldKind;
  optional?: boolean;
}

const h = (name: string): FieldSpec => ({ name, type: { kind: 'handle' } });
const int = (name: string, optional = false): FieldSpec => ({ name, type: { kind: 'int' }, optional });

export const OP_FIELDS: Readonly<Record<OpName, readonly FieldSpec[]>> = {
  check_extension: [{ name: 'on', type: { kind: 'kvm-or-handle' } }, int('cap')],
  create_vm: [{ name: 'type', type: { kind: 'int-or-enum', values: Object.keys(VM_TYPE) } }],
  create_gmem: [h('vm'), int('size'), int('flags'), { name: 'reserved', type: { kind: 'int-list' }, optional: true }],
  close: [h('h')],
  dup: [h('h')],
  mmap: [h('gmem'), int('offset'), int('length'), { name: 'prot', type: { kind: 'prot' } }, { name: 'shared', type: { kind: 'bool' } }],
  munmap: [h('map')],
  mprotect: [h('map'), { name: 'prot', type: { kind: 'prot' } }],
  madvise: [h('map'), int('offset'), int('length'), { name: 'advice', type: { kind: 'enum', values: Object.keys(MADV) } }],
  read_mem: [h('map'), int('offset')],
  write_mem: [h('map'), int('offset'), { name: 'value', type: { kind: 'byte' } }],
  fill_mem: [h('map'), int('offset'), int('length'), { name: 'value', type: { kind: 'byte' } }],
  check_mem: [h('map'), int('offset'), int('length'), { name: 'value', type: { kind: 'byte' } }],
  fallocate: [h('gmem'), { name: 'mode', type: { kind: 'int-or-enum', values: ['allocate', 'punch_hole'] } }, int('offset'), int('len')],
  fstat: [h('h')],
  ftruncate: [h('h'), int('length')],
  read: [h('h'), int('len')],
  write: [h('h'), int('len')],
  pread: [h('h'), int('offset'), int('len')],
  pwrite: [h('h'), int('offset'), int('len')],
  set_memory_region2: [
    h('vm'), int('slot'), { name: 'flags', type: { kind: 'memslot-flags' } }, int('gpa'), int('size'),
    { name: 'gmem', type: { kind: 'handle' }, optional: true }, int('gmem_offset', true), { name: 'uaddr', type: { kind: 'uaddr' } },
  ],
  delete_memslot: [h('vm'), int('slot')],
  set_memory_attributes: [h('vm'), int('address'), int('size'), int('attributes'), int('flags', true)],
  set_memory_attributes2: [h('gmem'), int('offset'), int('size'), int('attributes'), int('flags', true)],
  pin: [h('map'), int('offset'), int('len')],
  unpin: [h('map'), int('offset'), int('len')],
  fork: [{ name: 'steps', type: { kind: 'steps' } }],
  launch_start: [h('vm')],
  launch_finish: [h('vm')],
  populate: [h('vm'), int('gpa'), int('size'), { name: 'source', type: { kind: 'enum', values: ['buffer', 'in_place'] } }],
  guest_access: [h('vm'), int('gpa'), { name: 'private', type: { kind: 'bool' } }, { name: 'write', type: { kind: 'byte' }, optional: true }],
  guest_request_conversion: [h('vm'), int('gpa'), int('size'), { name: 'private', type: { kind: 'bool' } }],
};

export const OP_NAMES = Object.keys(OP_FIELDS) as OpName[];
export function isOpName(s: string): s is OpName {
  return Object.prototype.hasOwnProperty.call(OP_FIELDS, s);
}
