/**
 * The checker's reference for tests: a plain breadth-first search over raw states (their JSON text as the key;
 * no compaction, no fingerprints, no symmetry), independent of the exploration engine it checks.
 */
import type { Bound } from '../../spec/explore/bound.ts';
import { eventsFor } from '../../spec/explore/events.ts';
import { INVARIANTS, violations } from '../../spec/invariants.ts';
import { stringifyJson } from '../../spec/json.ts';
import type { Profile } from '../../spec/profile.ts';
import { type SystemState, emptySystem } from '../../spec/state.ts';
import { step } from '../../spec/step.ts';

/** The depth (steps) of the first violation of `invariant` within `maxDepth` levels, or undefined. */
export function bruteForceDepth(profile: Profile, bound: Bound, invariant: string, maxDepth: number): number | undefined {
  const inv = INVARIANTS.filter((i) => i.name === invariant);
  let level: SystemState[] = [emptySystem()];
  const seen = new Set<string>([stringifyJson(level[0])]);
  for (let depth = 1; depth <= maxDepth; depth++) {
    const next: SystemState[] = [];
    for (const s of level) {
      for (const ev of eventsFor(profile, bound, s)) {
        const after = step(profile, s, ev).state;
        if (violations(profile, inv, s, ev, after).length) return depth;
        const k = stringifyJson(after);
        if (seen.has(k)) continue;
        seen.add(k);
        next.push(after);
      }
    }
    level = next;
  }
  return undefined;
}
