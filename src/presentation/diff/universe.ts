/**
 * The operations a diff drives both profiles with, and the two explorations it reads. The base is the diagrams'
 * universe (every shipped profile's VM types and flags, so that two explorations line up operation by operation);
 * a diff widens it by the operation families either of its two profiles models beyond that set: userfaultfd on
 * the mapping where either declares `uffd` (linux-7.3 refuses every registration, uffd-minor accepts MINOR and
 * MISSING). Without this, two profiles that differ only there look the same. Only the diff widens: the
 * diagrams, and the explorer behind the generated suites, keep their own operation sets.
 */
import type { Profile } from '../../../spec/profile.ts';
import { PROFILES } from '../../../spec/profiles/index.ts';
import { DEFAULT_MAX_DEPTH, type Exploration, type OpUniverse, exploreCached, globalUniverse, universeOf } from '../diagram/reachable.ts';

/** Operation families a profile can model that the diagrams' universe leaves out, and who models each. */
export const WIDENED_FAMILIES = {
  uffd: (p: Profile) => p.uffd !== undefined,
} as const satisfies Partial<Record<keyof OpUniverse, (p: Profile) => boolean>>;

/** The universe a diff of `a` and `b` explores both with: the union of what either models. */
export function diffUniverse(a: Profile, b: Profile): OpUniverse {
  return pairOf(a, b).u;
}

interface Pair {
  a: Profile;
  b: Profile;
  u: OpUniverse;
}
const pairs = new Map<string, Pair>();

/** The pair's universe, built once: both sides' explorations must offer the very same operations. */
function pairOf(a: Profile, b: Profile): Pair {
  const key = `${a.name}|${b.name}`;
  const hit = pairs.get(key);
  if (hit && hit.a === a && hit.b === b) return hit;
  const shipped = PROFILES.includes(a) && PROFILES.includes(b);
  const base = shipped ? globalUniverse() : universeOf([...PROFILES, a, b]);
  const wide = Object.entries(WIDENED_FAMILIES).filter(([, models]) => models(a) || models(b));
  const u = wide.length ? { ...base, ...Object.fromEntries(wide.map(([family]) => [family, true])) } : base;
  const pair: Pair = { a, b, u };
  pairs.set(key, pair);
  return pair;
}

/**
 * One side of a diff explored with the diff's universe (reachable.ts's cache, keyed by universe: when that is the
 * diagrams' own universe, the diagrams' exploration is the same search and is reused).
 */
export function exploreForDiff(side: Profile, a: Profile, b: Profile, options: { maxDepth?: number } = {}): Exploration {
  const u = pairOf(a, b).u;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  return u === globalUniverse() ? exploreCached(side, { maxDepth }) : exploreCached(side, { maxDepth, universe: u });
}
