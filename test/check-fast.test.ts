/**
 * The checker's fast path agrees with the explorer: on every profile at the unit bound, `check` (fingerprints
 * computed from the state's parts, src/check/stateFingerprint.ts) finds the same states and the same edges as
 * explore() (exact string keys), with the same edge digest — every edge's source, step, outcome, rule and
 * target (src/check/edgeDigest.ts). With symmetry reduction it agrees with explore()'s symmetric graph, and its
 * counterexamples stay shortest and replay, through `predict` and `check-trace`, to the same violation.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Bound, parseBound } from '../spec/explore/bound.ts';
import { explore } from '../spec/explore/explorer.ts';
import { symmetryApplies } from '../spec/explore/symmetry.ts';
import { INVARIANTS } from '../spec/invariants.ts';
import type { Profile } from '../spec/profile.ts';
import { resolveProfileName } from '../spec/profileCompose.ts';
import { PROFILES, getProfile } from '../spec/profiles/index.ts';
import { stateKey } from '../spec/explore/stateKey.ts';
import { graphEdgeDigest } from '../src/check/edgeDigest.ts';
import { check } from '../src/check/engine.ts';
import { StateFingerprints } from '../src/check/stateFingerprint.ts';
import { main } from '../src/cli/main.ts';

const UNIT = 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1';
const unit = (extra = ''): Bound => parseBound(extra, parseBound(UNIT));

async function agreement(profile: Profile, bound: Bound, symmetry: boolean) {
  const g = explore(profile, bound, { symmetry });
  const r = await check({ profile, bound, invariants: [], edgeDigest: true, symmetry });
  const d = graphEdgeDigest(g);
  return { g, r, d };
}

describe('check agrees with explore() on every profile at the unit bound', () => {
  // inplace-conversion's 20,096 states are explored twice: minutes on a loaded machine.
  it.each(PROFILES.map((p) => [p.name, p] as const))(
    '%s: same states, same edges, same edge digest',
    async (_name, profile) => {
      const { g, r, d } = await agreement(profile, unit(), false);
      expect(r.complete).toBe(true);
      expect(r.states).toBe(g.states.length);
      expect(r.edgeDigest?.edges).toBe(g.edgeCount);
      expect(r.edgeDigest?.text).toBe(d.text);
    },
    300_000,
  );
});

describe('check agrees with explore() beyond the unit bound (the step cache shares answers between states there)', () => {
  it.each([
    ['linux-6.18', 'pages=2,maps=1,pins=1'],
    ['sev-snp', 'pages=2,maps=1,pins=0'],
  ] as const)(
    '%s %s: same states, same edges, same edge digest',
    async (name, b) => {
      const { g, r, d } = await agreement(getProfile(name), unit(b), false);
      expect(r.states).toBe(g.states.length);
      expect(r.edgeDigest?.edges).toBe(g.edgeCount);
      expect(r.edgeDigest?.text).toBe(d.text);
      // Most edges were answered by the cache, not by step(): the agreement is about the cache.
      expect(r.cache.hits).toBeGreaterThan(r.cache.misses * 4);
    },
    120_000,
  );
});

describe("fingerprints from the state's parts", () => {
  it('equal exactly when the keys are equal, over every state of a graph', () => {
    const g = explore(getProfile('sev-snp'), unit());
    const fps = new StateFingerprints();
    const byFp = new Map<string, string>();
    for (const s of g.states) {
      const [lo, hi] = fps.of(s);
      const k = stateKey(s);
      const seen = byFp.get(`${lo},${hi}`);
      expect(seen === undefined || seen === k, k).toBe(true);
      byFp.set(`${lo},${hi}`, k);
    }
    // Distinct keys, distinct fingerprints (no collision among these states).
    expect(byFp.size).toBe(g.states.length);
  });

  it('do not depend on the order a thread first saw the parts (every worker computes the same fingerprints)', () => {
    const g = explore(getProfile('linux-6.18'), unit());
    const forward = new StateFingerprints();
    const backward = new StateFingerprints();
    const there = g.states.map((s) => forward.of(s));
    const back = [...g.states]
      .reverse()
      .map((s) => backward.of(s))
      .reverse();
    expect(back).toEqual(there);
  });

  it('tell apart states whose only difference is a page entry (a fresh page written out vs none)', () => {
    const g = explore(getProfile('linux-6.18'), unit());
    const fps = new StateFingerprints();
    const s = g.states.find((x) => x.gmems.length === 1 && Object.keys(x.gmems[0]?.pages ?? {}).length > 0);
    expect(s).toBeDefined();
    const st = s as (typeof g.states)[number];
    const changed = { ...st, gmems: st.gmems.map((x) => ({ ...x, pages: {} })) };
    expect(fps.of(changed)).not.toEqual(fps.of(st));
  });
});

describe('symmetry reduction in the checker', () => {
  it('linux-6.18 pages=2: the same canonical graph as explore() with symmetry, smaller than the plain one', async () => {
    const profile = getProfile('linux-6.18');
    expect(symmetryApplies(profile)).toBe(true);
    const bound = unit('pages=2,maps=1,pins=1');
    const { g, r, d } = await agreement(profile, bound, true);
    expect(g.symmetry).toBe(true);
    expect(r.states).toBe(g.states.length);
    expect(r.edgeDigest?.edges).toBe(g.edgeCount);
    expect(r.edgeDigest?.text).toBe(d.text);
    const plain = await check({ profile, bound, invariants: [] });
    expect(r.states).toBeLessThan(plain.states);
  });

  it('is ignored where the profile has private memory (page positions matter there)', async () => {
    const profile = getProfile('tdx');
    const a = await check({ profile, bound: unit('maps=0,pins=0'), invariants: [], symmetry: true });
    const b = await check({ profile, bound: unit('maps=0,pins=0'), invariants: [] });
    expect(a.states).toBe(b.states);
  });

  it('counterexamples stay shortest and replay with predict and check-trace (HOST_MAP_PRIVATE, 2 pages)', async () => {
    const { profile } = resolveProfileName('linux-6.18+HOST_MAP_PRIVATE');
    const bound = unit('pages=2');
    const names = INVARIANTS.map((i) => i.name);
    const sym = await check({ profile, bound, invariants: names, symmetry: true });
    const plain = await check({ profile, bound, invariants: names });
    const lengths = (r: typeof sym) => Object.fromEntries(r.violations.map((v) => [v.invariant, v.path.length]));
    expect(sym.violations.length).toBeGreaterThan(0);
    expect(lengths(sym)).toEqual(lengths(plain));

    const dir = mkdtempSync(join(tmpdir(), 'gmem-check-sym-'));
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
    const code = await main(['check', '--profile', 'linux-6.18+HOST_MAP_PRIVATE', '--bound', 'pages=2', '--symmetry', '--out', dir], io);
    expect(code).toBe(1);
    expect(out.join('\n')).toContain('symmetry  on');
    for (const v of sym.violations) {
      const file = join(dir, `${v.invariant}.json`);
      const text = readFileSync(file, 'utf8');
      expect(JSON.parse(text).steps.length).toBe(v.path.length);
      const p: string[] = [];
      const pio = { out: (s: string) => p.push(s), err: (s: string) => p.push(s) };
      // predict shows the violation at the last step; check-trace fails on it (exit 1).
      await main(['predict', file], pio);
      expect(p.join('\n')).toContain(`invariant ${v.invariant} breaks after step ${v.path.length}: ${v.detail}`);
      const c: string[] = [];
      expect(await main(['check-trace', file], { out: (s) => c.push(s), err: (s) => c.push(s) })).toBe(1);
      expect(c.join('\n')).toContain(v.invariant);
    }
  });
});
