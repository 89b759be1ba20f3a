/**
 * Property tests (fast-check): random operation sequences, drawn from the explorer's equivalence classes,
 * never break an invariant a profile promises; and a deliberately broken rule is caught with a shrunk
 * counterexample. Failures print the seed (fast-check's report) so they replay.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBound } from '../spec/explore/bound.ts';
import { compact } from '../spec/explore/compact.ts';
import { eventsFor } from '../spec/explore/events.ts';
import { invariantsFor, violations } from '../spec/invariants.ts';
import type { Step } from '../spec/ops.ts';
import type { Profile } from '../spec/profile.ts';
import { LINUX_6_18, PROFILES } from '../spec/profiles/index.ts';
import { type SystemState, emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';

const bound = parseBound('vms=1,gmems=2,pages=2,maps=2,pins=1,slots=2');

/** Walk from `start` choosing event (choice mod count) each time; return the first broken promise. */
function firstBroken(profile: Profile, start: SystemState, choices: readonly number[]): { steps: Step[]; broken?: string } {
  const invariants = invariantsFor(profile);
  let s = start;
  const steps: Step[] = [];
  for (const c of choices) {
    const evs = eventsFor(profile, bound, s);
    // Everything closed and every bound used up: nothing left to do.
    if (!evs.length) break;
    const ev = evs[c % evs.length] as Step;
    steps.push(ev);
    const r = step(profile, s, ev);
    const next = compact(r.state);
    const v = violations(profile, invariants, s, ev, next);
    if (v.length) return { steps, broken: `${v[0]?.invariant}: ${v[0]?.detail}` };
    s = next;
  }
  return { steps };
}

function stateAfter(profile: Profile, steps: Step[]): SystemState {
  let s = emptySystem();
  for (const st of steps) s = compact(step(profile, s, st).state);
  return s;
}

describe('random operation sequences keep every promised invariant', () => {
  it.each(PROFILES.map((p) => [p.name, p] as const))('%s', (_name, profile) => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1 << 16 }), { minLength: 1, maxLength: 60 }), (choices) => {
        const r = firstBroken(profile, emptySystem(), choices);
        expect(r.broken, r.steps.map((s) => s.op).join(' → ')).toBeUndefined();
      }),
      { seed: 20261122, numRuns: 60 },
    );
  });
});

describe('a deliberately broken rule is caught with a shrunk counterexample', () => {
  // Broken: host user space may fault private pages in (guest_memfd exists to forbid this).
  const broken: Profile = { ...LINUX_6_18, name: 'linux-6.18-broken', pageRuleOverrides: { hostMayMapPrivate: true } };
  const prefix: Step[] = [
    { op: 'create_vm', type: 'default', as: 'vm0' },
    { op: 'create_gmem', vm: 'vm0', size: 2 * 4096, flags: 1, as: 'g0' },
    { op: 'mmap', gmem: 'g0', offset: 0, length: 3 * 4096, prot: 'rw', shared: true, as: 'm0' },
  ];

  it('finds a host mapping of a private page and shrinks the walk to the one access that makes it', () => {
    const start = stateAfter(broken, prefix);
    const out = fc.check(
      fc.property(
        fc.array(fc.nat({ max: 1 << 16 }), { minLength: 1, maxLength: 40 }),
        (choices) => firstBroken(broken, start, choices).broken === undefined,
      ),
      { seed: 7, numRuns: 500 },
    );
    expect(out.failed).toBe(true);
    const walk = firstBroken(broken, start, out.counterexample?.[0] ?? []);
    expect(walk.broken).toMatch(/^HostMappedIsShared: guest_memfd 0 page \d is private but mapped by host mapping/);
    expect(walk.steps).toHaveLength(1);
    expect(['read_mem', 'write_mem', 'pin']).toContain(walk.steps[0]?.op);
  });

  it('the same walks keep the invariant under the real linux-6.18 rules', () => {
    const start = stateAfter(LINUX_6_18, prefix);
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 1 << 16 }), { minLength: 1, maxLength: 40 }),
        (choices) => firstBroken(LINUX_6_18, start, choices).broken === undefined,
      ),
      { seed: 7, numRuns: 200 },
    );
  });
});
