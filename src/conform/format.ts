/** Conformance results as text for people, JSON, JUnit XML and TAP (kernel CI systems read the last two). */
import { stringifyJson } from '../../spec/json.ts';
import { formatOutcome } from '../../spec/outcome.ts';
import { describeStep } from '../cli/commands/predict.ts';
import type { TraceResult } from './runner.ts';

export type ResultFormat = 'human' | 'json' | 'junit' | 'tap';
export const RESULT_FORMATS: readonly ResultFormat[] = ['human', 'json', 'junit', 'tap'];

export interface RunHeader {
  backend: string;
  profile: string;
  detectedFrom: string;
}

/** `step 3: KVM_CHECK_EXTENSION(...) observed ok, ret 1 (not modelled: ...)`, one per step the spec leaves open. */
function notModelledLines(r: TraceResult): string[] {
  return r.notModelled.map(
    (n) =>
      `not modelled, not compared: step ${n.path.map((p) => p + 1).join('.')}: ${describeStep(n.step)} observed ${formatOutcome(n.observed)} (${n.reason})`,
  );
}

/** The total of steps not compared, for the summary lines. */
function notModelledTotal(results: readonly TraceResult[]): number {
  return results.reduce((n, r) => n + r.notModelled.length, 0);
}

function failureLines(r: TraceResult, reproduce?: string): string[] {
  const d = r.divergence;
  if (!d) return [];
  const lines = [
    `step ${d.path.map((p) => p + 1).join('.')}: ${describeStep(d.step)}`,
    `expected: ${formatOutcome(d.expected)}  [${d.rule.id}: ${d.rule.says} — ${d.rule.cite}]`,
    `observed: ${formatOutcome(d.observed)}`,
  ];
  if (reproduce) lines.push(`reproduce: gmem-spec check-trace ${reproduce}`);
  return lines;
}

export function formatHuman(h: RunHeader, results: readonly TraceResult[], reproduce: Map<string, string>): string {
  const out = [`backend ${h.backend} (${h.detectedFrom}), profile ${h.profile}`];
  for (const r of results) {
    out.push(`${r.passed ? 'PASS' : 'FAIL'} ${r.name}`);
    for (const l of failureLines(r, reproduce.get(r.name))) out.push(`     ${l}`);
    for (const l of notModelledLines(r)) out.push(`     ${l}`);
  }
  const failed = results.filter((r) => !r.passed).length;
  const steps = results.reduce((n, r) => n + r.steps, 0);
  const open = notModelledTotal(results);
  out.push(`${results.length - failed} passed, ${failed} failed (${steps} steps${open ? `; ${open} not modelled, not compared` : ''})`);
  return out.join('\n');
}

export function formatJson(h: RunHeader, results: readonly TraceResult[]): string {
  return stringifyJson(
    {
      ...h,
      passed: results.filter((r) => r.passed).length,
      failed: results.filter((r) => !r.passed).length,
      notModelled: notModelledTotal(results),
      results: results.map((r) => ({
        name: r.name,
        passed: r.passed,
        steps: r.steps,
        millis: Math.round(r.millis * 10) / 10,
        ...(r.notModelled.length
          ? {
              notModelled: r.notModelled.map((n) => ({
                step: n.path.map((p) => p + 1).join('.'),
                op: n.step,
                observed: n.observed,
                reason: n.reason,
              })),
            }
          : {}),
        ...(r.divergence
          ? {
              divergence: {
                step: r.divergence.path.map((p) => p + 1).join('.'),
                op: r.divergence.step,
                expected: r.divergence.expected,
                rule: r.divergence.rule,
                observed: r.divergence.observed,
              },
            }
          : {}),
      })),
    },
    2,
  );
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function formatJunit(h: RunHeader, results: readonly TraceResult[], reproduce: Map<string, string>): string {
  const failed = results.filter((r) => !r.passed).length;
  const time = results.reduce((n, r) => n + r.millis, 0) / 1000;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gmem-spec conform" tests="${results.length}" failures="${failed}" time="${time.toFixed(3)}">`,
    `  <testsuite name="${xml(`${h.profile} on ${h.backend}`)}" tests="${results.length}" failures="${failed}" time="${time.toFixed(3)}">`,
  ];
  for (const r of results) {
    const open = `    <testcase classname="${xml(h.profile)}" name="${xml(r.name)}" time="${(r.millis / 1000).toFixed(3)}"`;
    const notes = notModelledLines(r);
    if (r.passed && !notes.length) out.push(`${open}/>`);
    else {
      out.push(`${open}>`);
      const d = r.divergence;
      const msg = d
        ? `step ${d.path.map((p) => p + 1).join('.')}: expected ${formatOutcome(d.expected)}, observed ${formatOutcome(d.observed)}`
        : 'failed';
      if (!r.passed) out.push(`      <failure message="${xml(msg)}">${xml(failureLines(r, reproduce.get(r.name)).join('\n'))}</failure>`);
      if (notes.length) out.push(`      <system-out>${xml(notes.join('\n'))}</system-out>`);
      out.push('    </testcase>');
    }
  }
  out.push('  </testsuite>', '</testsuites>');
  return out.join('\n');
}

export function formatTap(h: RunHeader, results: readonly TraceResult[], reproduce: Map<string, string>): string {
  const out = ['TAP version 13', `# backend ${h.backend}, profile ${h.profile}`, `1..${results.length}`];
  results.forEach((r, i) => {
    out.push(`${r.passed ? 'ok' : 'not ok'} ${i + 1} - ${r.name}`);
    if (!r.passed) {
      out.push('  ---');
      for (const l of failureLines(r, reproduce.get(r.name))) {
        const [k, ...v] = l.split(': ');
        out.push(`  ${k}: ${JSON.stringify(v.join(': '))}`);
      }
      out.push('  ...');
    }
    for (const l of notModelledLines(r)) out.push(`# ${l}`);
  });
  const failed = results.filter((r) => !r.passed).length;
  const open = notModelledTotal(results);
  out.push(`# ${results.length - failed} passed, ${failed} failed${open ? `, ${open} step(s) not modelled, not compared` : ''}`);
  return out.join('\n');
}
