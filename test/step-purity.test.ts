/**
 * step() never changes the state it is given. World is copy-on-write (spec/world.ts): it shares the caller's
 * arrays and elements until it first changes them, so a rule that wrote through a shared element would change
 * a state the explorer or the checker has already stored, and every graph built after it would be wrong
 * without any test of outcomes noticing. Here every input is deep-frozen first; ESM modules are strict, so any
 * write to it throws.
 */
import { describe, expect, it } from 'vitest';
import { parseBound } from '../spec/explore/bound.ts';
import { eventsFor } from '../spec/explore/events.ts';
import { explore } from '../spec/explore/explorer.ts';
import { PROFILES, getProfile } from '../spec/profiles/index.ts';
import { emptySystem, type SystemState } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { loadSuite } from '../src/conform/suite.ts';

function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

const BOUND = parseBound('vms=1,gmems=1,pages=2,maps=1,pins=1,slots=1');
const SAMPLE = 120;

describe('step() leaves its input state unchanged', () => {
  it('the freezing is real: a write to a frozen state throws', () => {
    const s = deepFreeze(emptySystem());
    expect(() => {
      (s as { proc: number }).proc = 7;
    }).toThrow(TypeError);
  });

  it.each(PROFILES.map((p) => p.name))('%s: every explored operation from a sample of reachable states', (name) => {
    const profile = getProfile(name);
    const g = explore(profile, BOUND, { maxStates: 4_000 });
    const every = Math.max(1, Math.floor(g.states.length / SAMPLE));
    let steps = 0;
    for (let i = 0; i < g.states.length; i += every) {
      const state = deepFreeze(structuredClone(g.states[i] as SystemState));
      for (const op of eventsFor(profile, BOUND, state)) {
        step(profile, state, op);
        steps++;
      }
    }
    expect(steps).toBeGreaterThan(SAMPLE);
  });

  it('every step of the kernel corpus (fork, dup and mprotect included, which the explorer does not try)', () => {
    const profile = getProfile('linux-6.18');
    const suite = loadSuite('examples/corpus/linux-6.18');
    expect(suite.length).toBeGreaterThan(200);
    const ops = new Set<string>();
    for (const t of suite) {
      let state: SystemState = emptySystem();
      for (const s of t.trace.steps) {
        deepFreeze(state);
        state = step(profile, state, s).state;
        ops.add(s.op);
      }
    }
    expect([...ops]).toEqual(expect.arrayContaining(['fork', 'dup', 'mprotect', 'pin', 'unpin', 'munmap', 'close']));
  });
});
