/**
 * The invariants along a trace: the spec runs the trace and every invariant `check` knows is checked in every
 * state it reaches (transition invariants on every step), so a counterexample `check` wrote replays to the same
 * violation under predict and check-trace. Top-level steps only (a fork's child steps run in the child).
 */
import { INVARIANTS, violations } from '../../spec/invariants.ts';
import type { Step } from '../../spec/ops.ts';
import type { Profile } from '../../spec/profile.ts';
import { emptySystem } from '../../spec/state.ts';
import type { StepResult } from '../../spec/step.ts';

export interface BrokenInvariant {
  invariant: string;
  says: string;
  detail: string;
  /** The step after which (for a transition invariant: by which) it first breaks, 0-based. */
  step: number;
  /** Whether the profile promises it (check's --promised set). */
  promised: boolean;
}

/** The first break of each invariant along the trace, in step order. `results` are predictTrace's. */
export function brokenInvariants(profile: Profile, steps: readonly Step[], results: readonly StepResult[]): BrokenInvariant[] {
  const seen = new Set<string>();
  const out: BrokenInvariant[] = [];
  let before = emptySystem();
  results.forEach((r, i) => {
    for (const v of violations(profile, INVARIANTS, before, steps[i], r.state)) {
      if (seen.has(v.invariant)) continue;
      seen.add(v.invariant);
      out.push({
        invariant: v.invariant,
        says: v.says,
        detail: v.detail,
        step: i,
        promised: !profile.promises || profile.promises.includes(v.invariant),
      });
    }
    before = r.state;
  });
  return out;
}

export function describeBroken(b: BrokenInvariant, profile: Profile): string {
  return `invariant ${b.invariant} breaks after step ${b.step + 1}: ${b.detail} (${b.says}; ${b.promised ? 'promised' : 'not promised'} by ${profile.name})`;
}
