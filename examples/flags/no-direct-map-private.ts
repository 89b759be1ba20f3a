/**
 * A user-written flag, the worked example of docs/adding-a-flag.md: like NO_DIRECT_MAP, but folios leave the
 * kernel direct map only while they are private (the direct map keeps shared memory, which the host touches
 * anyway). Claims the invariant NoDirectMapPrivateAbsent. `gmem-spec check` finds that it does not keep it.
 */
import type { FlagDef } from '../../spec/profile.ts';

export default {
  name: 'NO_DIRECT_MAP_PRIVATE',
  bit: 4,
  status: 'example',
  summary: 'Private folios are removed from the kernel direct map; shared ones stay in it.',
  source: 'docs/adding-a-flag.md (worked example, modelled on kernel-abi.md §4.2 NO_DIRECT_MAP)',
  acceptedBy: ['default', 'sw_protected', 'pkvm'],
  conflictsWith: ['NO_DIRECT_MAP'],
  effects: { directMap: 'remove-private' },
  adds: ['NoDirectMapPrivateAbsent'],
} satisfies FlagDef;
