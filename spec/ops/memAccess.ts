/** Host accesses through a mapping, and long-term pins: read_mem, write_mem, fill_mem, check_mem, pin, unpin. */
import { checkMem, fillMem, pin, readMem, unpin, writeMem } from '../rules/memAccess.ts';
import { accessIntoRet, addr, callIntoRet, u64 } from './cSelftest.ts';
import { handleField, intField, opSchema } from './fields.ts';
import { PAGE } from './probes.ts';
import type { OpModule } from './types.ts';
import { offsetWords, range } from './words.ts';

const FAULT = 'a fault decides (SIGBUS / SIGSEGV by the page state, spec/rules/memAccess.ts faultIn)';

export const readMemSchema = opSchema('read_mem', [handleField('map'), intField('offset')]);

export const readMemOp: OpModule<'read_mem'> = {
  ...readMemSchema,
  summary: 'a host load of one byte through a mapping',
  decide: readMem,
  checkList: { none: FAULT },
  createsHandle: false,
  pageAddress: { via: 'mapping', map: 'map', offset: 'offset', extent: { none: 'one byte at the offset' } },
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['gmems'] },
  phrase: (_p, s) => `a host read of ${offsetWords(s.offset)} through ${s.map}`,
  edgeWord: () => 'host read',
  wireEnums: {},
  // Each page, and the page past EOF.
  probes: {
    map: {
      rank: 10,
      values: ({ m, bound }) =>
        Array.from({ length: bound.pages + 1 }, (_, i) => ({ op: 'read_mem' as const, map: m.name, offset: i * PAGE })),
    },
  },
  cSelftest: { step: (s) => accessIntoRet(`read_byte(${addr(s.map, s.offset)}, &val)`, ['val']) },
};

export const writeMemSchema = opSchema('write_mem', [handleField('map'), intField('offset'), { name: 'value', type: { kind: 'byte' } }]);

export const writeMemOp: OpModule<'write_mem'> = {
  ...writeMemSchema,
  summary: 'a host store of one byte through a mapping',
  decide: writeMem,
  checkList: { none: FAULT },
  createsHandle: false,
  pageAddress: { via: 'mapping', map: 'map', offset: 'offset', extent: { none: 'one byte at the offset' } },
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['gmems'] },
  phrase: (_p, s) => `a host write of ${s.value} to ${offsetWords(s.offset)} through ${s.map}`,
  edgeWord: () => 'host write',
  wireEnums: {},
  probes: {
    map: {
      rank: 20,
      values: ({ m, bound }) =>
        Array.from({ length: bound.pages }, (_, i) => ({ op: 'write_mem' as const, map: m.name, offset: i * PAGE, value: 1 })),
    },
  },
  cSelftest: { step: (s) => accessIntoRet(`write_byte(${addr(s.map, s.offset)}, ${s.value})`) },
};

/** A range of a mapping and a byte: what a fill writes, what a read-back expects. */
const RANGE_AND_BYTE = [handleField('map'), intField('offset'), intField('length'), { name: 'value', type: { kind: 'byte' } }] as const;

export const fillMemSchema = opSchema('fill_mem', RANGE_AND_BYTE);

export const fillMemOp: OpModule<'fill_mem'> = {
  ...fillMemSchema,
  summary: 'a host memset of a range through a mapping',
  decide: fillMem,
  checkList: { none: FAULT },
  createsHandle: false,
  pageAddress: { via: 'mapping', map: 'map', offset: 'offset', extent: { withinPage: 'length' } },
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['gmems'] },
  phrase: (_p, s) => `a host fill of ${range(s.offset, s.length)} with ${s.value} through ${s.map}`,
  edgeWord: () => 'host fill',
  wireEnums: {},
  probes: { none: 'a range of write_mem (the same fault rule), which the explorer probes page by page' },
  cSelftest: { step: (s) => accessIntoRet(`fill_bytes(${addr(s.map, s.offset)}, ${u64(s.length)}, ${s.value})`) },
};

export const checkMemSchema = opSchema('check_mem', RANGE_AND_BYTE);

export const checkMemOp: OpModule<'check_mem'> = {
  ...checkMemSchema,
  summary: 'a host read-back of a range through a mapping, compared with a byte',
  decide: checkMem,
  checkList: { none: FAULT },
  createsHandle: false,
  pageAddress: { via: 'mapping', map: 'map', offset: 'offset', extent: { withinPage: 'length' } },
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['gmems'] },
  phrase: (_p, s) => `a host read-back of ${range(s.offset, s.length)} through ${s.map} expecting ${s.value}`,
  edgeWord: () => 'host read back',
  wireEnums: {},
  probes: { none: 'a range of read_mem (the same fault rule), which the explorer probes page by page' },
  cSelftest: { step: (s) => accessIntoRet(`check_bytes(${addr(s.map, s.offset)}, ${u64(s.length)}, ${s.value}, &match)`, ['match']) },
};

export const pinSchema = opSchema('pin', [handleField('map'), intField('offset'), intField('len')]);

export const pinOp: OpModule<'pin'> = {
  ...pinSchema,
  summary: 'a long-term GUP pin (FOLL_LONGTERM) of a range through a mapping',
  decide: pin,
  checkList: { none: FAULT },
  createsHandle: false,
  pageAddress: { via: 'mapping', map: 'map', offset: 'offset', extent: { alignedPage: 'len' } },
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['gmems', 'pins'] },
  phrase: (_p, s) => `a long-term pin of ${range(s.offset, s.len)} through ${s.map}`,
  edgeWord: () => 'long-term GUP pin',
  wireEnums: {},
  // Each page, up to bound.pins live pins.
  probes: {
    map: {
      rank: 30,
      values: ({ m, bound, livePins }) =>
        livePins.length < bound.pins
          ? Array.from({ length: bound.pages }, (_, i) => ({ op: 'pin' as const, map: m.name, offset: i * PAGE, len: PAGE }))
          : [],
    },
  },
  // An io_uring fixed buffer (gmem_test.h): the long-term pin a process can take without a device.
  cSelftest: { step: (s) => callIntoRet(`gmem_pin(${addr(s.map, s.offset)}, ${u64(s.len)})`) },
};

export const unpinSchema = opSchema('unpin', [handleField('map'), intField('offset'), intField('len')]);

export const unpinOp: OpModule<'unpin'> = {
  ...unpinSchema,
  summary: 'releasing a long-term pin',
  decide: unpin,
  checkList: { none: 'one condition: no live pin of that range' },
  createsHandle: false,
  pageAddress: { via: 'mapping', map: 'map', offset: 'offset', extent: { alignedPage: 'len' } },
  footprint: { reads: ['names', 'pins'], writes: ['gmems', 'pins'] },
  phrase: (_p, s) => `unpinning ${range(s.offset, s.len)} of ${s.map}`,
  edgeWord: () => 'unpin',
  wireEnums: {},
  probes: { pin: { rank: 10, values: ({ p, map }) => (map ? [{ op: 'unpin', map, offset: p.offset, len: p.len }] : []) } },
  cSelftest: { step: (s) => callIntoRet(`gmem_unpin(${addr(s.map, s.offset)}, ${u64(s.len)})`) },
};
