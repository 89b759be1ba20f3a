/**
 * The checker's step cache (src/check/packed/) says what step() says. On random walks at bounds past the unit
 * bound (two pages, two mappings, pins), every move the cache answers — a hit filed by another state, a miss
 * it files, or an event it has switched to stepping directly — has the outcome, rule, transition-invariant
 * verdicts and successor that step() gives on the plain state, packed. And the tracked view it runs steps on
 * refuses writes, and records reads narrowly enough that a state differing only where a step did not look
 * shares its answer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Bound, parseBound } from '../spec/explore/bound.ts';
import { compact } from '../spec/explore/compact.ts';
import { sameState, stepKey } from '../spec/explore/keys.ts';
import { invariantsFor, violations } from '../spec/invariants.ts';
import { getProfile } from '../spec/profiles/index.ts';
import type { SystemState } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { newOffsets, offsetsOf, pack, unpack } from '../src/check/packed/packed.ts';
import { SuccessorCache } from '../src/check/packed/successors.ts';
import { Tracker } from '../src/check/packed/tracking.ts';

const UNIT = 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1';
const bound = (extra: string): Bound => parseBound(extra, parseBound(UNIT));

function cacheFor(name: string, b: Bound): SuccessorCache {
  const profile = getProfile(name);
  const invs = invariantsFor(profile);
  return new SuccessorCache(
    profile,
    b,
    invs.filter((i) => i.kind === 'state'),
    invs.filter((i) => i.kind === 'transition'),
  );
}

describe('the step cache answers as step() does', () => {
  for (const [name, b] of [
    ['linux-6.18', 'pages=2,maps=2,pins=2'],
    ['sev-snp', 'pages=2,maps=1,pins=0'],
    ['hugetlb', 'pages=2,maps=1,pins=1'],
  ] as const) {
    it(`${name} ${b}: outcome, rule, broken invariants and successor on random walks`, () => {
      const c = cacheFor(name, bound(b));
      const profile = c.profile;
      const transitionInvs = invariantsFor(profile).filter((i) => i.kind === 'transition');
      let checked = 0;
      fc.assert(
        fc.property(fc.array(fc.nat({ max: 1 << 16 }), { minLength: 10, maxLength: 80 }), (choices) => {
          let v = c.initial();
          for (const k of choices) {
            const evs = c.events(v);
            if (!evs.length) break;
            const ev = evs[k % evs.length] as number;
            const leaf = c.move(v, ev, undefined);
            // The same step on the plain state, as the explorer takes it.
            const s: SystemState = unpack(v, c.table);
            const e = c.steps.items[ev];
            if (!e) throw new Error('no such step');
            const r = step(profile, s, e);
            const same = sameState(r.state, s);
            const raw = same ? s : compact(r.state, s);
            expect(leaf.outcome, stepKey(e)).toEqual(r.outcome);
            expect(leaf.rule.id).toBe(r.rule.id);
            expect(leaf.broken.map((x) => x.invariant)).toEqual(violations(profile, transitionInvs, s, e, raw).map((x) => x.invariant));
            const next = leaf.next ?? (leaf.template ? c.successor(v, leaf) : v);
            expect([...next], stepKey(e)).toEqual([...(same ? v : pack(raw, c.table))]);
            checked++;
            v = next;
          }
        }),
        { numRuns: 150, seed: 15 },
      );
      // The walks went through hits, not only misses (the point of the cache).
      console.log(name, 'checked', checked, 'hits', c.hits, 'misses', c.misses, 'direct', c.directMoves);
      expect(c.hits).toBeGreaterThan(checked / 4);
    }, 120_000);
  }
});

describe('the tracked view of a state', () => {
  it('refuses a change in place (World must copy first)', () => {
    const c = cacheFor('linux-6.18', bound(''));
    let v = c.initial();
    // Create a VM so that the state has a part to change.
    for (const ev of c.events(v)) {
      const leaf = c.move(v, ev, undefined);
      if (leaf.template || leaf.next) {
        v = leaf.next ?? c.successor(v, leaf);
        break;
      }
    }
    const tr = new Tracker(v, offsetsOf(v, newOffsets()), c.table);
    const vm = tr.state.vms[0];
    expect(vm).toBeDefined();
    expect(() => {
      (vm as { fds: number }).fds = 7;
    }).toThrow(/changed its input state in place/);
    expect(() => {
      tr.state.vms.push(vm as never);
    }).toThrow(/changed its input state in place/);
  });

  it("records one field of a part, not the part: a VM's type does not depend on its memslots", () => {
    const c = cacheFor('linux-6.18', bound(''));
    const v = c.initial();
    let s = v;
    for (let depth = 0; depth < 6; depth++) {
      const evs = c.events(s);
      const ev = [...evs].find((e) => {
        const leaf = c.move(s, e, undefined);
        return leaf.template !== undefined || leaf.next !== undefined;
      });
      if (ev === undefined) break;
      const leaf = c.move(s, ev, undefined);
      s = leaf.next ?? c.successor(s, leaf);
    }
    const tr = new Tracker(s, offsetsOf(s, newOffsets()), c.table);
    const vm = tr.state.vms[0];
    expect(vm?.type).toBe('default');
    // One read: the type's field code (besides the VM count the lookup of vms[0] reads).
    expect(tr.reads.length).toBe(4);
    expect(vm?.memslots.length).toBeGreaterThanOrEqual(0);
    expect(tr.reads.length).toBe(6);
  });
});
