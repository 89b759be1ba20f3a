/** The flags this spec knows, by name. A profile picks the ones its kernel or proposal has. */
import type { FlagDef } from '../profile.ts';
import { CONVERT_IGNORING_REFS, HOST_MAP_PRIVATE } from './examples.ts';
import { HUGETLB } from './hugetlb.ts';
import { INIT_SHARED } from './init-shared.ts';
import { MMAP } from './mmap.ts';
import { NO_DIRECT_MAP } from './no-direct-map.ts';

export const BUILTIN_FLAGS: Readonly<Record<string, FlagDef>> = {
  MMAP,
  INIT_SHARED,
  NO_DIRECT_MAP,
  HUGETLB,
  HOST_MAP_PRIVATE,
  CONVERT_IGNORING_REFS,
};

export { CONVERT_IGNORING_REFS, HOST_MAP_PRIVATE, HUGETLB, INIT_SHARED, MMAP, NO_DIRECT_MAP };
