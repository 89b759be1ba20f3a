/** Conversion between shared and private: KVM_SET_MEMORY_ATTRIBUTES (per VM), ..._ATTRIBUTES2 (per file), guest requests. */
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../constants.ts';
import type { Int } from '../ops.ts';
import {
  guestRequestConversion,
  setMemoryAttributes,
  setMemoryAttributes2,
  setMemoryAttributes2Checks,
  setMemoryAttributes2Context,
  setMemoryAttributesChecks,
  setMemoryAttributesContext,
} from '../rules/attributes.ts';
import { NEEDS_A_VCPU, callIntoRet, fd, u64 } from './cSelftest.ts';
import { handleField, intField, opSchema } from './fields.ts';
import type { StepOf } from './fields.ts';
import { PAGE } from './probes.ts';
import { type OpModule, checkList } from './types.ts';
import { attrWords, bytesWords, hex, range } from './words.ts';

const flagsWords = (f: unknown): string => (f ? `, flags ${String(f)}` : '');
const privateOrShared = (attributes: Int): string => ((BigInt(attributes) & KVM_MEMORY_ATTRIBUTE_PRIVATE) !== 0n ? 'PRIVATE' : 'SHARED');

/** The fields both attribute ioctls have after the start of the range (struct kvm_memory_attributes{,2}). */
const ATTRIBUTE_FIELDS = [intField('size'), intField('attributes'), intField('flags', true)] as const;

export const setMemoryAttributesSchema = opSchema('set_memory_attributes', [handleField('vm'), intField('address'), ...ATTRIBUTE_FIELDS]);

export const setMemoryAttributesOp: OpModule<'set_memory_attributes'> = {
  ...setMemoryAttributesSchema,
  summary: 'KVM_SET_MEMORY_ATTRIBUTES on a VM fd (per-VM attributes)',
  decide: setMemoryAttributes,
  checkList: checkList({ checks: setMemoryAttributesChecks, context: setMemoryAttributesContext }),
  createsHandle: false,
  pageAddress: { via: 'gpa', vm: 'vm', gpa: 'address', size: 'size' },
  footprint: { reads: ['names', 'fds', 'vms', 'gmems'], writes: ['vms', 'gmems'] },
  phrase: (_p, s) =>
    `KVM_SET_MEMORY_ATTRIBUTES(${s.vm}, gpa ${hex(s.address)}, ${bytesWords(s.size)}, ${attrWords(s.attributes)}${flagsWords(s.flags)})`,
  edgeWord: (_p, s) => `KVM_SET_MEMORY_ATTRIBUTES(${privateOrShared(s.attributes)})`,
  wireEnums: {},
  // Moves: each bound page to private and to shared, where the VM converts by per-VM attributes. Probe: one page
  // at 0x100000, also where the ioctl is missing, unless a move is that step already.
  probes: {
    vm: {
      rank: 50,
      values: ({ profile, vm, v, rules }) => {
        if (rules?.conversion !== 'vm-attributes' && !profile.choices.setMemoryAttributesMissing) return [];
        const ev: StepOf<'set_memory_attributes'>[] = [];
        if (rules?.conversion === 'vm-attributes')
          for (const m of v.memslots)
            for (let gfn = m.gfn; gfn < m.gfn + m.npages; gfn++)
              for (const attributes of [8, 0])
                ev.push({ op: 'set_memory_attributes', vm: vm.name, address: gfn * PAGE, size: PAGE, attributes });
        // Not where a move above is this very step (slot 0's first page is at 0x100000): a second edge of the
        // same step from the same state would only repeat the first.
        if (!ev.some((e) => e.address === 0x100000 && e.attributes === 8))
          ev.push({ op: 'set_memory_attributes', vm: vm.name, address: 0x100000, size: PAGE, attributes: 8 });
        return ev;
      },
    },
  },
  cSelftest: {
    step: (s) => {
      const attrs = `.address = ${u64(s.address)}, .size = ${u64(s.size)}, .attributes = ${u64(s.attributes)}, .flags = ${u64(s.flags ?? 0)}`;
      return callIntoRet(`ioctl(${fd(s.vm)}, KVM_SET_MEMORY_ATTRIBUTES, &(struct kvm_memory_attributes){ ${attrs} })`);
    },
  },
};

export const setMemoryAttributes2Schema = opSchema('set_memory_attributes2', [
  handleField('gmem'),
  intField('offset'),
  ...ATTRIBUTE_FIELDS,
]);

export const setMemoryAttributes2Op: OpModule<'set_memory_attributes2'> = {
  ...setMemoryAttributes2Schema,
  summary: 'KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd (in-place conversion)',
  decide: setMemoryAttributes2,
  checkList: checkList({ checks: setMemoryAttributes2Checks, context: setMemoryAttributes2Context }),
  createsHandle: false,
  pageAddress: { via: 'file', file: 'gmem', offset: 'offset', length: 'size' },
  footprint: { reads: ['names', 'fds', 'gmems', 'pins'], writes: ['gmems', 'maps'] },
  phrase: (_p, s) => `KVM_SET_MEMORY_ATTRIBUTES2(${s.gmem}, ${range(s.offset, s.size)}, ${attrWords(s.attributes)}${flagsWords(s.flags)})`,
  edgeWord: (_p, s) => `KVM_SET_MEMORY_ATTRIBUTES2(${privateOrShared(s.attributes)})`,
  wireEnums: {},
  // Moves: each page to private and to shared, where the file converts in place; the whole file to private.
  // Probes: a range past EOF; where the profile has no per-file attributes, the ioctl itself.
  probes: {
    gmem: {
      rank: 30,
      values: ({ profile, s, g, bound, size }) => {
        if (!profile.gmemAttributes) return [{ op: 'set_memory_attributes2', gmem: g.name, offset: 0, size: PAGE, attributes: 8 }];
        const ev: StepOf<'set_memory_attributes2'>[] = [];
        const rules = profile.vmTypes[s.vms[s.gmems[g.id]?.vm ?? 0]?.type ?? 'default'];
        if (rules?.conversion === 'in-place' && rules.hasPrivateMem) {
          for (let i = 0; i < bound.pages; i++)
            for (const attributes of [8, 0])
              ev.push({ op: 'set_memory_attributes2', gmem: g.name, offset: i * PAGE, size: PAGE, attributes });
          ev.push({ op: 'set_memory_attributes2', gmem: g.name, offset: 0, size, attributes: 8 });
        }
        ev.push({ op: 'set_memory_attributes2', gmem: g.name, offset: size, size: PAGE, attributes: 8 });
        return ev;
      },
    },
  },
  // The struct is a local (attr2), so that the offset the kernel writes back on a refusal can be checked.
  cSelftest: {
    step: (s, o) => {
      const attrs = `.offset = ${u64(s.offset)}, .size = ${u64(s.size)}, .attributes = ${u64(s.attributes)}, .flags = ${u64(s.flags ?? 0)}`;
      return {
        locals: ['attr2'],
        lines: [
          `attr2 = (struct kvm_memory_attributes2){ ${attrs} };`,
          `ret = ioctl(${fd(s.gmem)}, KVM_SET_MEMORY_ATTRIBUTES2, &attr2);`,
          { assertResult: 'ret' },
          ...('errno' in o && o.error_offset !== undefined ? [{ assertEq: [u64(o.error_offset), 'attr2.error_offset'] as const }] : []),
        ],
      };
    },
  },
};

export const guestRequestConversionSchema = opSchema('guest_request_conversion', [
  handleField('vm'),
  intField('gpa'),
  intField('size'),
  { name: 'private', type: { kind: 'bool' } },
]);

export const guestRequestConversionOp: OpModule<'guest_request_conversion'> = {
  ...guestRequestConversionSchema,
  summary: 'a guest conversion request (KVM_HC_MAP_GPA_RANGE exit) that userspace then honours',
  decide: guestRequestConversion,
  checkList: { none: 'VM-fd checks and range checks decided by the rule (spec/rules/attributes.ts)' },
  createsHandle: false,
  pageAddress: { via: 'gpa', vm: 'vm', gpa: 'gpa', size: 'size' },
  footprint: { reads: ['names', 'fds', 'vms', 'gmems'], writes: ['vms', 'gmems', 'maps'] },
  phrase: (_p, s) =>
    `a guest request (MAP_GPA_RANGE) to make gpa ${hex(s.gpa)}, ${bytesWords(s.size)} ${s.private ? 'private' : 'shared'} on ${s.vm}`,
  edgeWord: (_p, s) => `guest MAP_GPA_RANGE(${s.private ? 'private' : 'shared'})`,
  wireEnums: {},
  // Each bound page to private, where the platform converts in place.
  probes: {
    vmPage: {
      rank: 72,
      values: ({ platform, rules, vm, gpa }) =>
        platform && rules?.hasPrivateMem && rules.conversion === 'in-place'
          ? [{ op: 'guest_request_conversion', vm: vm.name, gpa, size: PAGE, private: true }]
          : [],
    },
  },
  cSelftest: { none: NEEDS_A_VCPU },
};
