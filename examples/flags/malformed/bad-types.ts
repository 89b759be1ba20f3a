/** Malformed on purpose (tests): does not type-check as a FlagDef. */
import type { FlagDef } from '../../../spec/profile.ts';

export const BAD_TYPES: FlagDef = {
  name: 'BAD_TYPES',
  bit: '7',
  status: 'example',
  summary: 'Malformed on purpose: the bit is a string and folioPages is not a number.',
  source: 'examples/flags/malformed (tests)',
  acceptedBy: 'all',
  effects: { folioPages: 'two' },
};
