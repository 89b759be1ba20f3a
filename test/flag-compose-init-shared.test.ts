/**
 * Issue 14, "a user-written INIT_SHARED-style flag": built-in and user-written flags compose the same way. A
 * user-written copy of INIT_SHARED (examples/flags/init-shared-copy.json, at bit 4) must give the graph the
 * built-in flag gives, and `check` must not report the PunchKeepsAttributes violation that a bit-1 test of
 * "created shared" used to invent for it (punch keeps a shared page shared; only the invariant misread it).
 */
import { describe, expect, it } from 'vitest';
import { parseBound } from '../spec/explore/bound.ts';
import { type StateGraph, explore } from '../spec/explore/explorer.ts';
import type { FlagDef, Profile } from '../spec/profile.ts';
import { composeProfile } from '../spec/profileCompose.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { BUILTIN_FLAGS } from '../spec/flags/index.ts';
import { check } from '../src/check/engine.ts';
import { loadFlagArg } from '../src/check/flagFiles.ts';
import { graphDigest } from '../src/generate/graphDigest.ts';

const UNIT = parseBound('vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1');
const l618 = getProfile('linux-6.18');
/** linux-6.18 without its INIT_SHARED: the base both copies are added to. */
const base: Profile = { ...l618, name: 'linux-6.18-no-init-shared', flags: l618.flags.filter((f) => f.name !== 'INIT_SHARED') };

async function userCopy(bit?: number): Promise<FlagDef> {
  const [f] = await loadFlagArg('examples/flags/init-shared-copy.json');
  if (!f) throw new Error('examples/flags/init-shared-copy.json defines no flag');
  return bit === undefined ? f.def : { ...f.def, bit };
}

/** Every edge of a graph: its endpoints, deciding rule and outcome. */
function shape(g: StateGraph): string[] {
  const out: string[] = [];
  for (let e = 0; e < g.edgeCount; e++) {
    const rule = g.rules[g.edgeRule[e] as number]?.id ?? '?';
    out.push(`${g.edgeFrom[e]}>${g.edgeTo[e]} ${rule} ${JSON.stringify(g.outcomes[g.edgeOutcome[e] as number])}`);
  }
  return out;
}

describe('a user-written copy of INIT_SHARED composes as the built-in flag does', () => {
  it('at the built-in bit: the same graph digest as linux-6.18 and as the built-in flag added to the same base', async () => {
    const builtin = composeProfile(base, [BUILTIN_FLAGS.INIT_SHARED as FlagDef]).profile;
    const user = composeProfile(base, [await userCopy(1)]).profile;
    const want = graphDigest(explore(l618, UNIT));
    expect(graphDigest(explore(builtin, UNIT))).toBe(want);
    expect(graphDigest(explore(user, UNIT))).toBe(want);
  });

  it('at another bit (4): the same states, edges, rules and outcomes as the built-in, edge for edge', async () => {
    const builtin = composeProfile(base, [{ ...(BUILTIN_FLAGS.INIT_SHARED as FlagDef), bit: 4 }]).profile;
    const user = composeProfile(base, [await userCopy()]).profile;
    const a = explore(builtin, UNIT);
    const b = explore(user, UNIT);
    expect(b.states.length).toBe(a.states.length);
    expect(shape(b)).toEqual(shape(a));
  });

  it('check finds no PunchKeepsAttributes violation for the user-written flag (punch keeps shared pages shared)', async () => {
    const user = composeProfile(l618, [await userCopy()]);
    expect(user.warnings.filter((w) => w.where.includes('initShared'))).toEqual([]);
    const r = await check({ profile: user.profile, bound: UNIT, invariants: ['PunchKeepsAttributes'] });
    expect(r.complete).toBe(true);
    expect(r.violations.map((v) => `${v.invariant}: ${v.detail}`)).toEqual([]);
  });
});
