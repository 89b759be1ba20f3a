/**
 * The paragraph for a counterexample that `check` wrote: the rule that allowed its last step, what the baseline
 * profile (the base the flags were added to, or the proposal's own base) does at that step, and the sources of
 * both rules and of the broken invariant, quoted. It reads the trace file `check` wrote (the file a reviewer
 * replays), so it needs nothing from the checker's internals.
 */
import { readFileSync } from 'node:fs';
import type { VmTypeName } from '../../../spec/constants.ts';
import { INVARIANTS } from '../../../spec/invariants.ts';
import type { Step } from '../../../spec/ops.ts';
import type { Profile } from '../../../spec/profile.ts';
import { getProfile } from '../../../spec/profiles/index.ts';
import { parseTrace } from '../../../spec/trace.ts';
import { vmTypeMapping } from '../diff/profileDiff.ts';
import { explain, explainedLines } from './paragraph.ts';

/**
 * The trace as the baseline can run it: guest_memfd creations without the flags only the profile has, and each
 * VM type the baseline lacks replaced by its equivalent one (diff's pairing). Also what was changed, in words.
 */
export function forBaseline(steps: readonly Step[], profile: Profile, baseline: Profile): { steps: Step[]; changes: string[] } {
  const extra = profile.flags.filter((f) => !baseline.flags.some((g) => g.name === f.name));
  const mask = extra.reduce((m, f) => m | (1n << BigInt(f.bit)), 0n);
  const map = vmTypeMapping(profile, baseline);
  const changes = new Set<string>();
  const out = steps.map((s): Step => {
    if (s.op === 'create_gmem' && (BigInt(s.flags) & mask) !== 0n) {
      for (const f of extra) if ((BigInt(s.flags) >> BigInt(f.bit)) & 1n) changes.add(`without ${f.name}`);
      return { ...s, flags: Number(BigInt(s.flags) & ~mask) };
    }
    const t = s.op === 'create_vm' ? map[s.type as VmTypeName] : undefined;
    if (s.op === 'create_vm' && t) {
      changes.add(`with VM type ${t} instead of ${String(s.type)}`);
      return { ...s, type: t };
    }
    return s;
  });
  return { steps: out, changes: [...changes] };
}

/** The profile a counterexample is compared with: the built-in profile the flags were added to, else the profile's base. */
export function baselineOf(profile: Profile, builtIn: string, flagsAdded: boolean): Profile | undefined {
  try {
    if (flagsAdded) return getProfile(builtIn);
    return profile.base ? getProfile(profile.base) : undefined;
  } catch {
    return undefined;
  }
}

/** `why:` and the paragraph for the counterexample trace in `file` (its `name` is the invariant it breaks). */
export function counterexampleLines(file: string, profile: Profile, baseline: Profile | undefined, indent = '    '): string[] {
  const trace = parseTrace(readFileSync(file, 'utf8'), file);
  const inv = INVARIANTS.find((i) => i.name === trace.name);
  const b = baseline ? forBaseline(trace.steps, profile, baseline) : undefined;
  const e = explain({
    subject: profile,
    ...(baseline && b ? { baseline, baselineSteps: b.steps, ...(b.changes.length ? { baselineChanges: b.changes } : {}) } : {}),
    steps: trace.steps,
    at: trace.steps.length - 1,
    ...(inv ? { invariant: { name: inv.name, says: inv.says, source: inv.source } } : {}),
  });
  return [`${indent}why (${trace.name ?? file}):`, ...explainedLines(e, `${indent}  `)];
}
