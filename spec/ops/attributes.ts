/** Conversion between shared and private: KVM_SET_MEMORY_ATTRIBUTES (per VM), ..._ATTRIBUTES2 (per file), guest requests. */
import {
  guestRequestConversion,
  setMemoryAttributes,
  setMemoryAttributes2,
  setMemoryAttributes2Checks,
  setMemoryAttributes2Context,
  setMemoryAttributesChecks,
  setMemoryAttributesContext,
} from '../rules/attributes.ts';
import { handleField, intField } from './fields.ts';
import { type OpModule, checkList } from './types.ts';
import { attrWords, bytesWords, hex, range } from './words.ts';

const flagsWords = (f: unknown): string => (f ? `, flags ${String(f)}` : '');

export const setMemoryAttributesOp: OpModule<'set_memory_attributes'> = {
  name: 'set_memory_attributes',
  summary: 'KVM_SET_MEMORY_ATTRIBUTES on a VM fd (per-VM attributes)',
  fields: [handleField('vm'), intField('address'), intField('size'), intField('attributes'), intField('flags', true)],
  decide: setMemoryAttributes,
  checkList: checkList({ checks: setMemoryAttributesChecks, context: setMemoryAttributesContext }),
  footprint: { reads: ['names', 'fds', 'vms', 'gmems'], writes: ['vms', 'gmems'] },
  phrase: (_p, s) =>
    `KVM_SET_MEMORY_ATTRIBUTES(${s.vm}, gpa ${hex(s.address)}, ${bytesWords(s.size)}, ${attrWords(s.attributes)}${flagsWords(s.flags)})`,
  wireEnums: {},
};

export const setMemoryAttributes2Op: OpModule<'set_memory_attributes2'> = {
  name: 'set_memory_attributes2',
  summary: 'KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd (in-place conversion)',
  fields: [handleField('gmem'), intField('offset'), intField('size'), intField('attributes'), intField('flags', true)],
  decide: setMemoryAttributes2,
  checkList: checkList({ checks: setMemoryAttributes2Checks, context: setMemoryAttributes2Context }),
  footprint: { reads: ['names', 'fds', 'gmems', 'pins'], writes: ['gmems', 'maps'] },
  phrase: (_p, s) => `KVM_SET_MEMORY_ATTRIBUTES2(${s.gmem}, ${range(s.offset, s.size)}, ${attrWords(s.attributes)}${flagsWords(s.flags)})`,
  wireEnums: {},
};

export const guestRequestConversionOp: OpModule<'guest_request_conversion'> = {
  name: 'guest_request_conversion',
  summary: 'a guest conversion request (KVM_HC_MAP_GPA_RANGE exit) that userspace then honours',
  fields: [handleField('vm'), intField('gpa'), intField('size'), { name: 'private', type: { kind: 'bool' } }],
  decide: guestRequestConversion,
  checkList: { none: 'VM-fd checks and range checks decided by the rule (spec/rules/attributes.ts)' },
  footprint: { reads: ['names', 'fds', 'vms', 'gmems'], writes: ['vms', 'gmems', 'maps'] },
  phrase: (_p, s) =>
    `a guest request (MAP_GPA_RANGE) to make gpa ${hex(s.gpa)}, ${bytesWords(s.size)} ${s.private ? 'private' : 'shared'} on ${s.vm}`,
  wireEnums: {},
};
