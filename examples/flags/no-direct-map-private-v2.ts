/**
 * Second draft of the worked example (docs/adding-a-flag.md): NO_DIRECT_MAP_PRIVATE now requires INIT_SHARED, so
 * that every folio starts shared and becomes private only through a conversion (which removes it from the
 * direct map). Passes on linux-6.18; `gmem-spec check` on inplace-conversion still finds a way in.
 */
import type { FlagDef } from '../../spec/profile.ts';

export default {
  name: 'NO_DIRECT_MAP_PRIVATE',
  bit: 4,
  status: 'example',
  summary: 'Private folios are removed from the kernel direct map; shared ones stay in it. Memory starts shared (requires INIT_SHARED).',
  source: 'docs/adding-a-flag.md (worked example, second draft)',
  acceptedBy: ['default', 'sw_protected', 'pkvm'],
  requires: ['INIT_SHARED'],
  conflictsWith: ['NO_DIRECT_MAP'],
  effects: { directMap: 'remove-private' },
  adds: ['NoDirectMapPrivateAbsent'],
} satisfies FlagDef;
