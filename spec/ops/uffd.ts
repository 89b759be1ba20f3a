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
};
