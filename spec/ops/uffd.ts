/** userfaultfd on a guest_memfd mapping: uffd_register (UFFDIO_API + UFFDIO_REGISTER) and uffd_continue (UFFDIO_CONTINUE). */
import {
  uffdContinue,
  uffdContinueChecks,
  uffdContinueContext,
  uffdRegister,
  uffdRegisterChecks,
  uffdRegisterContext,
} from '../rules/uffd.ts';
import { addr, callIntoRet, u64 } from './cSelftest.ts';
import { handleField, intField, opSchema } from './fields.ts';
import { PAGE } from './probes.ts';
import { type OpModule, checkList } from './types.ts';
import { range } from './words.ts';

/**
 * userfaultfd(2) for the process (UFFDIO_API, once), then UFFDIO_REGISTER of [offset, offset+length) of a mapping
 * in one mode (kernel-abi.md §4.3). Faults there are then reported to the userfaultfd instead of being resolved.
 */
export const uffdRegisterSchema = opSchema('uffd_register', [
  handleField('map'),
  intField('offset'),
  intField('length'),
  { name: 'mode', type: { kind: 'enum', values: ['minor', 'missing'] } },
]);

/** UFFDIO_REGISTER_MODE_MISSING = 1 << 0, UFFDIO_REGISTER_MODE_MINOR = 1 << 2 (include/uapi/linux/userfaultfd.h). */
const REGISTER_MODE = { missing: 1, minor: 4 } as const;

export const uffdRegisterOp: OpModule<'uffd_register'> = {
  ...uffdRegisterSchema,
  summary: "userfaultfd(2) + UFFDIO_API for the process (once), then UFFDIO_REGISTER of a mapping's range in one mode",
  decide: uffdRegister,
  checkList: checkList({ checks: () => uffdRegisterChecks(null), context: uffdRegisterContext }),
  createsHandle: false,
  pageAddress: { none: 'registers a whole mapping as the explorer offers it' },
  footprint: { reads: ['names', 'maps'], writes: ['maps'] },
  phrase: (_p, s) => `UFFDIO_REGISTER_MODE_${s.mode.toUpperCase()} of ${range(s.offset, s.length)} of ${s.map}`,
  edgeWord: (_p, s) => `UFFDIO_REGISTER(${s.mode.toUpperCase()})`,
  wireEnums: { mode: REGISTER_MODE },
  // Where the profile says what userfaultfd does, after each mapping's munmap probe: register the file's pages in
  // each mode (linux-7.3: each refused); where registration works (uffd-minor), an unaligned range and a range
  // past the mapping, after the continues.
  probes: {
    map: [
      {
        rank: 60,
        values: ({ profile, m, size }) =>
          profile.uffd
            ? (['minor', 'missing'] as const).map((mode) => ({ op: 'uffd_register' as const, map: m.name, offset: 0, length: size, mode }))
            : [],
      },
      {
        rank: 62,
        values: ({ profile, m, size }) =>
          profile.uffd?.registerModes.length
            ? [
                { op: 'uffd_register', map: m.name, offset: 1, length: size, mode: 'minor' },
                { op: 'uffd_register', map: m.name, offset: size + PAGE, length: PAGE, mode: 'minor' },
              ]
            : [],
      },
    ],
  },
  cSelftest: {
    step: (s) => callIntoRet(`gmem_uffd_register(${addr(s.map, s.offset)}, ${u64(s.length)}, ${REGISTER_MODE[s.mode]})`),
  },
};

export const uffdContinueSchema = opSchema('uffd_continue', [handleField('map'), intField('offset'), intField('length')]);

export const uffdContinueOp: OpModule<'uffd_continue'> = {
  ...uffdContinueSchema,
  summary: 'UFFDIO_CONTINUE of a range of a registered mapping: map the page-cache pages already there',
  decide: uffdContinue,
  checkList: checkList({ checks: () => uffdContinueChecks(null), context: uffdContinueContext }),
  createsHandle: false,
  pageAddress: { via: 'mapping', map: 'map', offset: 'offset', extent: { withinPage: 'length' } },
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['gmems'] },
  phrase: (_p, s) => `UFFDIO_CONTINUE of ${range(s.offset, s.length)} of ${s.map}`,
  edgeWord: () => 'UFFDIO_CONTINUE',
  wireEnums: {},
  // Continue each page, after the registers; where registration works, an unaligned continue last.
  probes: {
    map: [
      {
        rank: 61,
        values: ({ profile, m, bound }) =>
          profile.uffd
            ? Array.from({ length: bound.pages }, (_, i) => ({ op: 'uffd_continue' as const, map: m.name, offset: i * PAGE, length: PAGE }))
            : [],
      },
      {
        rank: 63,
        values: ({ profile, m }) =>
          profile.uffd?.registerModes.length ? [{ op: 'uffd_continue', map: m.name, offset: 1, length: PAGE }] : [],
      },
    ],
  },
  cSelftest: { step: (s) => callIntoRet(`gmem_uffd_continue(${addr(s.map, s.offset)}, ${u64(s.length)})`) },
};
