/**
 * The short paragraph that goes with a counterexample (`check`) or a diff witness (`diff`): which rule allowed
 * the step that shows it, what the baseline profile does at the same step, and the source of each rule and
 * invariant involved, quoting the document or seed line it rests on (quotes.ts). Plain text lines, so the CLI
 * prints them as they are and the report and review documents reuse them.
 */
import { predictTrace } from '../../../spec/compare.ts';
import type { Step } from '../../../spec/ops.ts';
import { formatOutcome } from '../../../spec/outcome.ts';
import type { Profile } from '../../../spec/profile.ts';
import type { RuleRef } from '../../../spec/rules/check.ts';
import type { StepResult } from '../../../spec/step.ts';
import { type Quote, quotesFor } from './quotes.ts';

export interface Explained {
  /** One paragraph, in sentences. */
  paragraph: string;
  /** Each rule and invariant named, with its citation and the quoted lines. */
  sources: Array<{ what: string; cite: string; quotes: Quote[] }>;
}

export interface ExplainInput {
  /** The profile under which the step is the bad (or different) one. */
  subject: Profile;
  /** What it is compared with: the base a flag was added to, a proposal's base, or the other side of a diff. */
  baseline?: Profile;
  steps: readonly Step[];
  /** The steps as the baseline runs them, when they differ (an equivalent VM type across platforms). */
  baselineSteps?: readonly Step[];
  /** How the baseline's steps differ, in words (`without HOST_MAP_PRIVATE`, `with VM type sw_protected instead of pkvm`). */
  baselineChanges?: readonly string[];
  /** Index of the step that shows it (the last one of a counterexample). */
  at: number;
  /** The invariant the step breaks, for a counterexample. */
  invariant?: { name: string; says: string; source: string };
}

/** Predictions of a trace under a profile, or why it cannot run there (a step names what the profile never created). */
function run(p: Profile, steps: readonly Step[]): StepResult[] | string {
  try {
    return predictTrace(p, steps);
  } catch (e) {
    return (e as Error).message;
  }
}

function said(r: RuleRef): string {
  return `${r.id} ("${r.says}")`;
}

/** The first creation that failed before `at`: the reason the rest of the trace means nothing on that side. */
function failedCreation(steps: readonly Step[], rs: readonly StepResult[], at: number): number {
  return rs.findIndex((r, i) => i < at && (steps[i]?.op === 'create_vm' || steps[i]?.op === 'create_gmem') && !('ok' in r.outcome));
}

export function explain(x: ExplainInput): Explained {
  const n = x.at + 1;
  const sources: Explained['sources'] = [];
  const cite = (what: string, r: { cite: string; says: string }) => {
    if (!sources.some((s) => s.what === what)) sources.push({ what, cite: r.cite, quotes: quotesFor(r.cite, r.says) });
  };
  const sentences: string[] = [];
  const mine = run(x.subject, x.steps);
  const stepOp = x.steps[x.at]?.op ?? '?';
  if (typeof mine === 'string' || !mine[x.at]) {
    sentences.push(`Under ${x.subject.name} the trace does not run to step ${n}${typeof mine === 'string' ? ` (${mine})` : ''}.`);
  } else {
    const k = failedCreation(x.steps, mine, x.at);
    const r = (k >= 0 ? mine[k] : mine[x.at]) as StepResult;
    sentences.push(
      k >= 0
        ? `Under ${x.subject.name} the trace stops earlier: step ${k + 1} (${x.steps[k]?.op}) → ${formatOutcome(r.outcome)}: rule ${said(r.rule)} decides it.`
        : `Under ${x.subject.name}, step ${n} (${stepOp}) → ${formatOutcome(r.outcome)}: rule ${said(r.rule)} decides it.`,
    );
    cite(r.rule.id, r.rule);
  }
  if (x.invariant) {
    sentences.push(`After it, ${x.invariant.name} no longer holds: ${x.invariant.says}.`);
    cite(x.invariant.name, { cite: x.invariant.source, says: x.invariant.says });
  }
  if (x.baseline) {
    const bsteps = x.baselineSteps ?? x.steps;
    const name = `${x.baseline.name}${x.baselineChanges?.length ? ` (the same trace ${x.baselineChanges.join(', ')})` : ''}`;
    const base = run(x.baseline, bsteps);
    if (typeof base === 'string') sentences.push(`The baseline ${name} cannot run this trace (${base}).`);
    else {
      const k = failedCreation(bsteps, base, x.at);
      const b = base[x.at];
      if (k >= 0) cite((base[k] as StepResult).rule.id, (base[k] as StepResult).rule);
      if (k >= 0)
        sentences.push(
          `The baseline ${name} stops earlier: step ${k + 1} (${bsteps[k]?.op}) → ${formatOutcome((base[k] as StepResult).outcome)} [${(base[k] as StepResult).rule.id}].`,
        );
      else if (b) {
        const same = typeof mine !== 'string' && mine[x.at]?.rule.id === b.rule.id;
        sentences.push(
          same
            ? `The baseline ${name} does the same at step ${n}, by the same rule.`
            : `The baseline ${name} at the same step → ${formatOutcome(b.outcome)}: rule ${said(b.rule)}.`,
        );
        if (!same) cite(b.rule.id, b.rule);
      }
    }
  }
  return { paragraph: sentences.join(' '), sources };
}

/** The paragraph wrapped at `width`, then `sources:` with one line per citation and one per quote. */
export function explainedLines(e: Explained, indent = '', width = 110): string[] {
  const out: string[] = [];
  let cur = '';
  for (const w of e.paragraph.split(' ')) {
    if (cur && cur.length + 1 + w.length > width) {
      out.push(`${indent}${cur}`);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) out.push(`${indent}${cur}`);
  if (e.sources.length) out.push(`${indent}sources:`);
  for (const s of e.sources) {
    out.push(`${indent}  ${s.what}: ${s.cite}`);
    for (const q of s.quotes) out.push(`${indent}    ${q.file}:${q.line}: "${q.text}"`);
  }
  return out;
}
