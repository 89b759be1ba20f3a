/**
 * Random mode, for bounds beyond exhaustive reach: fast-check random walks over the explorer's own event sets
 * (walkFromChoices, spec/explore/random.ts), every invariant checked after every step (transition invariants on
 * every step), a failing walk shrunk to a minimal one. Walks are drawn at full length (`maxLength` choices; the
 * explorer's randomWalks draws fast-check's default small arrays, ~6 steps, too short to reach a pin followed
 * by a conversion in the larger profiles). Reproducible: runs go in chunks of CHUNK, chunk k with seed + k, and
 * a failure names the seed of its chunk, which reproduces it with `--random CHUNK --seed that`. The shrunk
 * walk is then minimised step by step (minimise).
 */
import { compact } from '../../spec/explore/compact.ts';
import fc from 'fast-check';
import { type Walk, walkFromChoices } from '../../spec/explore/random.ts';
import type { Bound } from '../../spec/explore/bound.ts';
import { type Invariant, violations } from '../../spec/invariants.ts';
import type { Profile } from '../../spec/profile.ts';
import { type SystemState, emptySystem } from '../../spec/state.ts';
import type { Step } from '../../spec/ops.ts';
import { step } from '../../spec/step.ts';
import type { FoundViolation, PathStep } from './engine.ts';

export const CHUNK = 500;

export interface RandomCheckOptions {
  profile: Profile;
  bound: Bound;
  invariants: readonly Invariant[];
  runs: number;
  seed: number;
  /** Steps per walk. */
  maxLength: number;
  shouldStop?: () => boolean;
  onChunk?: (runsDone: number) => void;
}

export interface RandomCheckResult {
  runs: number;
  seed: number;
  /** Seed of the chunk that failed (reproduces alone with --random CHUNK). */
  failingSeed?: number;
  violation?: FoundViolation;
  interrupted: boolean;
  millis: number;
  steps: number;
}

interface Problem {
  index: number;
  invariant: string;
  says: string;
  detail: string;
  kind: 'state' | 'transition';
}

function firstViolation(profile: Profile, invariants: readonly Invariant[], w: Walk): Problem | undefined {
  let before: SystemState = emptySystem();
  for (let i = 0; i < w.steps.length; i++) {
    const r = w.results[i];
    const st = w.steps[i];
    if (!r || !st) break;
    const after = compact(r.state);
    const vs = violations(profile, invariants, before, st, after);
    const v = vs[0];
    if (v) {
      const inv = invariants.find((x) => x.name === v.invariant);
      return { index: i, ...v, kind: inv?.kind ?? 'state' };
    }
    before = after;
  }
  return undefined;
}

/** fast-check over full-length choice lists; the shrunk failing walk and its problem, or undefined. */
function walks(
  o: RandomCheckOptions,
  seed: number,
  runs: number,
  problem: (w: Walk) => Problem | undefined,
): { walk: Walk; problem: Problem; runs: number } | undefined {
  const arb = fc.array(fc.nat({ max: 1 << 20 }), { minLength: 1, maxLength: o.maxLength, size: 'max' });
  const out = fc.check(
    fc.property(arb, (choices) => problem(walkFromChoices(o.profile, o.bound, choices)) === undefined),
    { seed, numRuns: runs },
  );
  if (!out.failed || !out.counterexample) return undefined;
  const walk = walkFromChoices(o.profile, o.bound, out.counterexample[0]);
  const p = problem(walk);
  return p ? { walk, problem: p, runs: out.numRuns } : undefined;
}

/** Replay concrete steps; the path if the last step (and only it) breaks one of `invariants`, else undefined. */
function breaksAtEnd(profile: Profile, invariants: readonly Invariant[], steps: readonly Step[]): PathStep[] | undefined {
  let s: SystemState = emptySystem();
  const path: PathStep[] = [];
  try {
    for (let i = 0; i < steps.length; i++) {
      const st = steps[i] as Step;
      const r = step(profile, s, st);
      const after = compact(r.state);
      const broken = violations(profile, invariants, s, st, after).length > 0;
      path.push({ step: st, outcome: r.outcome, rule: r.rule });
      if (broken !== (i === steps.length - 1)) return undefined;
      s = after;
    }
  } catch {
    return undefined; // a step names a handle a removed step created
  }
  return path;
}

/**
 * fast-check shrinks the choice list, where dropping one choice changes what the later ones pick; this then
 * drops single steps of the concrete trace while the last step still breaks the invariant (1-minimal).
 */
export function minimise(profile: Profile, invariants: readonly Invariant[], steps: readonly Step[]): PathStep[] {
  let best = breaksAtEnd(profile, invariants, steps);
  if (!best) throw new Error('internal: the shrunk walk does not break the invariant when replayed');
  let cur = [...steps];
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = cur.length - 2; i >= 0; i--) {
      const cand = [...cur.slice(0, i), ...cur.slice(i + 1)];
      const p = breaksAtEnd(profile, invariants, cand);
      if (p) {
        cur = cand;
        best = p;
        changed = true;
      }
    }
  }
  return best;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

export async function randomCheck(o: RandomCheckOptions): Promise<RandomCheckResult> {
  const t0 = performance.now();
  let done = 0;
  let steps = 0;
  for (let k = 0; done < o.runs; k++) {
    if (o.shouldStop?.()) return { runs: done, seed: o.seed, interrupted: true, millis: performance.now() - t0, steps };
    const runs = Math.min(CHUNK, o.runs - done);
    const seed = o.seed + k;
    const failure = walks(o, seed, runs, (w) => {
      steps += w.steps.length;
      return firstViolation(o.profile, o.invariants, w);
    });
    if (failure) {
      const p = failure.problem;
      const path = minimise(
        o.profile,
        o.invariants.filter((x) => x.name === p.invariant),
        failure.walk.steps.slice(0, p.index + 1),
      );
      return {
        runs: done + failure.runs,
        seed: o.seed,
        failingSeed: seed,
        violation: { invariant: p.invariant, says: p.says, detail: p.detail, kind: p.kind, path },
        interrupted: false,
        millis: performance.now() - t0,
        steps,
      };
    }
    done += runs;
    o.onChunk?.(done);
    await tick();
  }
  return { runs: done, seed: o.seed, interrupted: false, millis: performance.now() - t0, steps };
}
