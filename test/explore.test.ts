/**
 * The explorer: shortest paths that replay, compaction that does not change behaviour, and symmetry reduction
 * that explores the same model (every concrete state is a permutation of a canonical one, every canonical path
 * replays as a concrete trace, and the quotient of the plain graph is the reduced graph).
 */
import { describe, expect, it } from 'vitest';
import { parseBound } from '../spec/explore/bound.ts';
import { compact } from '../spec/explore/compact.ts';
import { eventsFor } from '../spec/explore/events.ts';
import { type StateGraph, explore, pathThrough, pathTo } from '../spec/explore/explorer.ts';
import { outcomeKey, sameState, stepKey } from '../spec/explore/keys.ts';
import { walkFromChoices } from '../spec/explore/random.ts';
import { stateKey } from '../spec/explore/stateKey.ts';
import { canonicalise, orbitSize, symmetryApplies } from '../spec/explore/symmetry.ts';
import { INVARIANTS } from '../spec/invariants.ts';
import type { Step } from '../spec/ops.ts';
import type { Profile } from '../spec/profile.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { type SystemState, emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { outcomesEqual } from '../spec/outcome.ts';

const linux = getProfile('linux-6.18');

function replay(profile: Profile, steps: readonly Step[]): { state: SystemState; last: ReturnType<typeof step> | undefined } {
  let s = emptySystem();
  let last: ReturnType<typeof step> | undefined;
  for (const st of steps) {
    last = step(profile, s, st);
    s = last.state;
  }
  return { state: s, last };
}

const canonKey = (p: Profile, s: SystemState) => stateKey(canonicalise(p, compact(s)).state);

describe('exploring linux-6.18 with one page', () => {
  const g = explore(linux, parseBound('pages=1'), { invariants: INVARIANTS });

  it('reaches every state by a shortest path that replays, from the empty state, into that state', () => {
    expect(g.complete).toBe(true);
    for (let s = 0; s < g.states.length; s++) {
      const path = pathTo(g, s);
      expect(path.length).toBe(g.depth[s]);
      expect(stateKey(compact(replay(linux, path).state))).toBe(stateKey(g.states[s] as SystemState));
    }
  });

  it('an edge is a self-loop exactly when the step leaves the compacted state as it was; sameState never says so wrongly', () => {
    for (let e = 0; e < g.edgeCount; e++) {
      const from = g.states[g.edgeFrom[e] as number] as SystemState;
      const r = step(linux, from, g.steps[g.edgeStep[e] as number] as Step);
      const same = stateKey(compact(r.state)) === stateKey(from);
      if (sameState(r.state, from)) expect(same).toBe(true);
      expect(g.edgeFrom[e] === g.edgeTo[e]).toBe(same);
    }
  });

  it('every promised invariant holds in every reachable state', () => {
    expect(g.violations).toEqual([]);
  });

  it('keys compare integers by value and steps by their fields, not their order', () => {
    expect(stepKey({ op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 4096, len: 4096 })).toBe(
      stepKey({ len: 4096n, offset: 4096n, mode: 'allocate', gmem: 'g0', op: 'fallocate' } as unknown as Step),
    );
    expect(outcomeKey({ errno: 'EINVAL' })).not.toBe(outcomeKey({ errno: 'EINVAL', error_offset: 0 }));
    expect(outcomeKey({ ok: true, ret: 3 })).toBe(outcomeKey({ ok: true, ret: 3n }));
  });
});

describe('dead history: compaction keeps only what can still matter', () => {
  it('a random walk, replayed concretely, compacts into the states the walk went through', () => {
    // Two mappings and two pins: munmap of the first renumbers the second, its pins and its pages' mappers.
    const bound = parseBound('pages=2,maps=2,pins=2');
    for (let seed = 1; seed <= 40; seed++) {
      const choices = Array.from({ length: 30 }, (_, i) => (seed * 7919 + i * 104729) % 1000);
      const w = walkFromChoices(linux, bound, choices);
      let s = emptySystem();
      let c = emptySystem();
      w.steps.forEach((st, i) => {
        const concrete = step(linux, s, st);
        const onCompact = step(linux, c, st);
        expect(outcomesEqual(concrete.outcome, onCompact.outcome)).toBe(true);
        expect(outcomesEqual(concrete.outcome, (w.results[i] as ReturnType<typeof step>).outcome)).toBe(true);
        s = concrete.state;
        const before = c;
        c = compact(onCompact.state);
        expect(stateKey(compact(s))).toBe(stateKey(c));
        // Told the compact state the step started from, compact() skips what the step left alone: same result.
        expect(compact(onCompact.state, before)).toEqual(c);
      });
    }
  });

  it('a pin on a mapping that is gone stays as an orphan with no position (its page list is dead data)', () => {
    const { state } = replay(linux, [
      { op: 'create_vm', type: 'default', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: 8192, flags: 3, as: 'g0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: 8192, prot: 'rw', shared: true, as: 'm0' },
      { op: 'pin', map: 'm0', offset: 4096, len: 4096 },
      { op: 'munmap', map: 'm0' },
    ]);
    expect(compact(state).pins).toEqual([{ map: -1, offset: 0, len: 4096, pages: [], live: true }]);
    expect(compact(state).gmems[0]?.pages['1']?.pins).toBe(1);
  });

  it("munmap of the first mapping renumbers the second: its name, its pins and its pages' mappers", () => {
    const steps: Step[] = [
      { op: 'create_vm', type: 'default', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: 8192, flags: 3, as: 'g0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: 8192, prot: 'rw', shared: true, as: 'm0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: 8192, prot: 'rw', shared: true, as: 'm1' },
      { op: 'write_mem', map: 'm0', offset: 0, value: 1 },
      { op: 'write_mem', map: 'm1', offset: 4096, value: 2 },
      { op: 'pin', map: 'm0', offset: 0, len: 4096 },
      { op: 'pin', map: 'm1', offset: 4096, len: 4096 },
    ];
    let before = emptySystem();
    for (const st of steps) before = compact(step(linux, before, st).state);
    const next = step(linux, before, { op: 'munmap', map: 'm0' }).state;
    const after = compact(next);
    expect(after.maps).toHaveLength(1);
    expect(after.names.m1).toEqual({ map: 0 });
    expect(after.names.m0).toBeUndefined();
    expect(after.pins.map((p) => [p.map, p.offset])).toEqual([
      [-1, 0],
      [0, 4096],
    ]);
    expect(after.gmems[0]?.pages['0']?.hostMappers).toEqual([]);
    expect(after.gmems[0]?.pages['1']?.hostMappers).toEqual([0]);
    // Told the state the step started from, compact() gives the same (it skips only what it may).
    expect(compact(next, before)).toEqual(after);
    // munmap of the second mapping renumbers nothing: the first mapping's pin and mappers stay as they are.
    const next2 = step(linux, before, { op: 'munmap', map: 'm1' }).state;
    const after2 = compact(next2, before);
    expect(after2.pins[0]).toBe(before.pins[0]);
    expect(after2.gmems[0]?.pages['0']?.hostMappers).toEqual([0]);
    expect(after2).toEqual(compact(next2));
  });
});

/** Everything the symmetry-reduced graph says, checked against the plain graph of the same bound. */
function checkSymmetry(profile: Profile, bound: string): { plain: StateGraph; sym: StateGraph } {
  const b = parseBound(bound);
  const plain = explore(profile, b);
  const sym = explore(profile, b, { symmetry: true });
  // The canonical forms of the plain states are exactly the reduced graph's states...
  const symKeys = new Set(sym.states.map(stateKey));
  const canon = new Set(plain.states.map((s) => stateKey(canonicalise(profile, s).state)));
  expect([...canon].sort()).toEqual([...symKeys].sort());
  // ...and their orbits add up to the plain graph's states.
  expect(sym.states.reduce((n, s) => n + orbitSize(profile, s), 0)).toBe(plain.states.length);
  // The quotient of the plain graph's edges is the reduced graph's edges (by source, target, outcome, rule).
  const quotient = (g: StateGraph, key: (s: SystemState) => string) => {
    const out = new Set<string>();
    for (let e = 0; e < g.edgeCount; e++) {
      out.add(
        [
          key(g.states[g.edgeFrom[e] as number] as SystemState),
          key(g.states[g.edgeTo[e] as number] as SystemState),
          outcomeKey(g.outcomes[g.edgeOutcome[e] as number] as never),
          g.rules[g.edgeRule[e] as number]?.id,
        ].join(' '),
      );
    }
    return out;
  };
  const a = quotient(plain, (s) => stateKey(canonicalise(profile, s).state));
  const c = quotient(sym, stateKey);
  expect([...a].sort()).toEqual([...c].sort());
  return { plain, sym };
}

describe('symmetry reduction: interchangeable pages are explored once', () => {
  it('linux-6.18, two pages and a pin: the same model in fewer states, and paths through its edges (every third) replay concretely', () => {
    const { plain, sym } = checkSymmetry(linux, 'pages=2,pins=1');
    expect(sym.states.length).toBeLessThan(plain.states.length);
    for (let e = 0; e < sym.edgeCount; e += 3) {
      const steps = pathThrough(sym, e);
      const { state, last } = replay(linux, steps);
      expect(outcomesEqual(last?.outcome ?? { ok: true }, sym.outcomes[sym.edgeOutcome[e] as number] as never)).toBe(true);
      expect(canonKey(linux, state)).toBe(stateKey(sym.states[sym.edgeTo[e] as number] as SystemState));
    }
  });

  it('linux-6.18, three pages: derived edges (page 2 done as page 1 was) save step() calls', () => {
    const sym = explore(linux, parseBound('pages=3,pins=0'), { symmetry: true });
    expect(sym.stepCalls).toBeLessThan(sym.edgeCount);
    const plain = explore(linux, parseBound('pages=3,pins=0'));
    expect(sym.states.reduce((n, s) => n + orbitSize(linux, s), 0)).toBe(plain.states.length);
  });

  it('linux-6.18, two guest_memfds of two pages (no mapping): the reduced graph is the quotient of the plain one', () => {
    checkSymmetry(linux, 'gmems=2,pages=2,maps=0,pins=0');
  });

  it.each(['sw-protected', 'sev-snp', 'tdx', 'pkvm', 'arm-cca', 'inplace-conversion', 'no-direct-map', 'hugetlb', 'exclusive-gup'])(
    'is not used for %s: per-GFN attributes outlive bindings and tie pages to positions',
    (name) => {
      const p = getProfile(name);
      expect(symmetryApplies(p)).toBe(false);
      expect(explore(p, parseBound('pages=2,pins=0,maps=0,slots=0'), { symmetry: true, maxStates: 200 }).symmetry).toBe(false);
    },
  );

  it('the event set of a canonical state is closed under its page permutations (every per-page operation on every page)', () => {
    const s = explore(linux, parseBound('pages=3'), { symmetry: true, maxStates: 50 }).states[49] as SystemState;
    const ops = eventsFor(linux, parseBound('pages=3'), s).filter((x) => x.op === 'fallocate' && x.mode === 'punch_hole');
    expect(ops.map((x) => (x as { offset: number }).offset)).toEqual([0, 4096, 8192]);
  });
});

describe('the mapping bound holds when mappings come and go', () => {
  // mmap m0, mmap m1, munmap m0: compaction renumbers the survivor, and a new mapping named after the count would
  // take the survivor's name, orphan it while still mapped, and let the search grow without end.
  it('with maps=2 the graph closes and no reachable state has more than 2 live mappings, each with its own name', () => {
    const g = explore(linux, parseBound('vms=1,gmems=1,pages=1,maps=2,pins=0,slots=0'), { maxStates: 200_000 });
    expect(g.complete).toBe(true);
    let sawTwo = false;
    for (const s of g.states) {
      const live = s.maps.filter((m) => m.live).length;
      expect(live).toBeLessThanOrEqual(2);
      const named = new Set(Object.values(s.names).flatMap((r) => (r && 'map' in r && s.maps[r.map]?.live ? [r.map] : [])));
      expect(named.size).toBe(live);
      if (live === 2) sawTwo = true;
    }
    expect(sawTwo).toBe(true);
  });
});
