/** The shipped example traces parse, name their handles correctly, and the spec predicts what they expect. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { predictTrace } from '../spec/compare.ts';
import { checkHandles } from '../spec/handles.ts';
import type { Outcome, Step } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import type { StepResult } from '../spec/step.ts';
import { parseTrace } from '../spec/trace.ts';

const DIR = join('examples', 'traces');

function expectations(steps: readonly Step[], results: readonly StepResult[], at: string, out: Array<[string, Outcome, Outcome]>): void {
  steps.forEach((s, i) => {
    const r = results[i];
    if (!r) return;
    if (s.expected) out.push([`${at}${i + 1} ${s.op}`, s.expected, r.outcome]);
    if (s.op === 'fork' && r.nested) expectations(s.steps, r.nested, `${at}${i + 1}.`, out);
  });
}

describe.each(
  readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort(),
)('example %s', (file) => {
  const t = parseTrace(readFileSync(join(DIR, file), 'utf8'), file);
  it('names only handles earlier steps created, and says what it shows', () => {
    expect(() => checkHandles(t.steps, file)).not.toThrow();
    expect(t.description?.length ?? 0).toBeGreaterThan(40);
  });
  it('gets from the spec every outcome it expects', () => {
    const got: Array<[string, Outcome, Outcome]> = [];
    expectations(t.steps, predictTrace(getProfile(t.profile ?? 'linux-6.18'), t.steps), '', got);
    for (const [where, want, have] of got) expect(have, where).toEqual(want);
  });
});
