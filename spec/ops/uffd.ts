/** userfaultfd on a guest_memfd mapping: uffd_register (UFFDIO_API + UFFDIO_REGISTER) and uffd_continue (UFFDIO_CONTINUE). */
import {
  uffdContinue,
  uffdContinueChecks,
  uffdContinueContext,
  uffdRegister,
  uffdRegisterChecks,
  uffdRegisterContext,
} from '../rules/uffd.ts';
import { handleField, intField } from './fields.ts';
import { PAGE } from './probes.ts';
import { type OpModule, checkList } from './types.ts';
import { range } from './words.ts';

export const uffdRegisterOp: OpModule<'uffd_register'> = {
  name: 'uffd_register',
  summary: "userfaultfd(2) + UFFDIO_API for the process (once), then UFFDIO_REGISTER of a mapping's range in one mode",
  fields: [
    handleField('map'),
    intField('offset'),
    intField('length'),
    { name: 'mode', type: { kind: 'enum', values: ['minor', 'missing'] } },
  ],
  decide: uffdRegister,
  checkList: checkList({ checks: () => uffdRegisterChecks(null), context: uffdRegisterContext }),
  footprint: { reads: ['names', 'maps'], writes: ['maps'] },
  phrase: (_p, s) => `UFFDIO_REGISTER_MODE_${s.mode.toUpperCase()} of ${range(s.offset, s.length)} of ${s.map}`,
  // UFFDIO_REGISTER_MODE_MISSING = 1 << 0, UFFDIO_REGISTER_MODE_MINOR = 1 << 2 (include/uapi/linux/userfaultfd.h).
  wireEnums: { mode: { missing: 1, minor: 4 } },
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
};

export const uffdContinueOp: OpModule<'uffd_continue'> = {
  name: 'uffd_continue',
  summary: 'UFFDIO_CONTINUE of a range of a registered mapping: map the page-cache pages already there',
  fields: [handleField('map'), intField('offset'), intField('length')],
  decide: uffdContinue,
  checkList: checkList({ checks: () => uffdContinueChecks(null), context: uffdContinueContext }),
  footprint: { reads: ['names', 'maps', 'gmems'], writes: ['gmems'] },
  phrase: (_p, s) => `UFFDIO_CONTINUE of ${range(s.offset, s.length)} of ${s.map}`,
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
};
