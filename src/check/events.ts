/**
 * The checker's event sets: the explorer's (spec/explore/events.ts), with one repair.
 *
 * eventsFor names a new mapping `m<number of mappings>`. After compaction (which drops unmapped mappings and
 * renumbers the rest) that name can belong to a live mapping: with maps=2, mmap m0, mmap m1, munmap m0, and
 * the next mmap is named m1 again. The old m1 loses its name but stays mapped; the explorer counts mappings by
 * name, so it lets another mmap through, and the number of live mappings — and the state space — is unbounded
 * (the search never completes for maps ≥ 2). Here such an mmap is named with the lowest free `m<k>` instead.
 * When the explorer picks a free name itself, this changes nothing.
 */
import type { Bound } from '../../spec/explore/bound.ts';
import { eventsFor } from '../../spec/explore/events.ts';
import type { Step } from '../../spec/ops.ts';
import type { Profile } from '../../spec/profile.ts';
import type { SystemState } from '../../spec/state.ts';

function liveName(s: SystemState, name: string): boolean {
  const r = s.names[name];
  if (!r) return false;
  if ('map' in r) return s.maps[r.map]?.live === true;
  if ('fd' in r) return s.fds[r.fd]?.open === true;
  return false;
}

export function checkerEvents(profile: Profile, bound: Bound, s: SystemState): Step[] {
  const evs = eventsFor(profile, bound, s);
  for (let i = 0; i < evs.length; i++) {
    const ev = evs[i] as Step;
    if (ev.op !== 'mmap' || ev.as === undefined || !liveName(s, ev.as)) continue;
    let k = 0;
    while (liveName(s, `m${k}`)) k++;
    evs[i] = { ...ev, as: `m${k}` };
  }
  return evs;
}
