/**
 * The two kinds of committed suite a profile declares (Profile.suites; `gmem-spec generate --all` writes them and
 * `generate --check` compares).
 *
 * A profile a kernel here implements (the host's: linux-6.18; the lab's: linux-7.3, sw-protected) commits every
 * reachable edge at its bound (transition) plus the failure-order suite, in TypeScript and in C. The other
 * profiles are modelled only (they run against the reference backend): one shortest path to every reachable state
 * plus the failure-order suite, at a bound with a guest_memfd of one page, its mapping and its memslot, and no
 * pins (which multiply the states). Where that gives more than about a thousand leaf paths, a profile drops the
 * part of the system it is least about, and says so beside its `suites`.
 */
import type { Bound } from '../explore/bound.ts';
import type { CommittedSuites } from '../profile.ts';

/** One VM, one guest_memfd of one page, one mapping, one pin, one memslot. */
const UNIT: Bound = { vms: 1, gmems: 1, pages: 1, maps: 1, pins: 1, slots: 1 };

/** Checked against a kernel here: every edge, in TypeScript and in C. */
export function kernelSuites(bound: Partial<Bound> = {}): CommittedSuites {
  return { bound: { ...UNIT, ...bound }, coverage: ['transition', 'failures'], c: true };
}

/** Modelled only: a shortest path to every state, no pins unless the profile asks for them. */
export function modelledSuites(bound: Partial<Bound> = {}): CommittedSuites {
  return { bound: { ...UNIT, pins: 0, ...bound }, coverage: ['state', 'failures'], c: false };
}
