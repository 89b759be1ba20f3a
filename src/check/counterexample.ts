/**
 * Counterexamples as trace files (gmem-trace/1): the steps of a shortest path, each with the outcome the spec
 * expects (`expected`, as `predict --json` writes it), a note on guest_memfd creations naming the flags, and a
 * note on the last step saying what broke. The profile is the composed name (`base+FLAG`), and the added flags'
 * definitions travel in the top-level `flags` list, so the trace replays to the same profile anywhere
 * (src/check/traceProfile.ts).
 */
import { formatBound, type Bound } from '../../spec/explore/bound.ts';
import { stringifyJson } from '../../spec/json.ts';
import type { Step } from '../../spec/ops.ts';
import type { FlagDef, Profile } from '../../spec/profile.ts';
import type { FoundViolation, PathStep } from './engine.ts';

export interface TraceContext {
  profile: Profile;
  /** Flags added to the base profile, as declared (the trace carries their definitions). */
  added: readonly FlagDef[];
  bound: Bound;
  /** The command line that reproduces the search. */
  command?: string;
}

/** `MMAP|INIT_SHARED|CONVERT_IGNORING_REFS` for a create_gmem flags value, by the profile's flag bits. */
export function flagNames(profile: Profile, flags: number | bigint): string {
  const v = BigInt(flags);
  if (v === 0n) return '0';
  const names = profile.flags.filter((f) => (v >> BigInt(f.bit)) & 1n).map((f) => f.name);
  const known = profile.flags.reduce((m, f) => m | (1n << BigInt(f.bit)), 0n);
  const rest = v & ~known;
  return [...names, ...(rest ? [`0x${rest.toString(16)}`] : [])].join('|');
}

function annotated(ctx: TraceContext, path: readonly PathStep[], lastNote: string): Step[] {
  return path.map((p, i) => {
    const s: Step = { ...p.step, expected: p.outcome };
    const notes: string[] = [];
    if (p.step.op === 'create_gmem') notes.push(`flags = ${flagNames(ctx.profile, p.step.flags)}`);
    if (i === path.length - 1) notes.push(lastNote);
    if (notes.length) s.note = notes.join('; ');
    return s;
  });
}

function traceDoc(ctx: TraceContext, name: string, description: string, steps: Step[]): Record<string, unknown> {
  const doc: Record<string, unknown> = { format: 'gmem-trace/1', profile: ctx.profile.name, name, description };
  if (ctx.added.length) doc.flags = ctx.added;
  doc.steps = steps;
  return doc;
}

export function violationTrace(ctx: TraceContext, v: FoundViolation): string {
  const last =
    v.kind === 'transition'
      ? `this step breaks ${v.invariant} (${v.says}): ${v.detail}`
      : `after this step ${v.invariant} no longer holds (${v.says}): ${v.detail}`;
  const description = `Shortest counterexample (${v.path.length} steps) to ${v.invariant}: ${v.says}. Found by gmem-spec check on profile ${ctx.profile.name} within ${formatBound(ctx.bound)}${ctx.command ? `; reproduce: ${ctx.command}` : ''}.`;
  return `${stringifyJson(traceDoc(ctx, v.invariant, description, annotated(ctx, v.path, last)), 2)}\n`;
}

export function deadlockTrace(ctx: TraceContext, path: readonly PathStep[]): string {
  const description = `A shortest path to a state that still holds open fds, mappings or pins but from which no operation the explorer tries changes anything (a deadlock). Found by gmem-spec check on profile ${ctx.profile.name} within ${formatBound(ctx.bound)}.`;
  return `${stringifyJson(traceDoc(ctx, 'deadlock', description, annotated(ctx, path, 'deadlock: from here no explored operation changes the state, yet objects are still open, mapped or pinned')), 2)}\n`;
}

/** A file name for an invariant's counterexample. */
export function traceFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}.json`;
}
