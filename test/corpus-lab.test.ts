/**
 * The corpora recorded on the lab kernel (examples/corpus/lab.ts): linux-7.3 (the linux-6.18 scenarios on the
 * default VM type) and sw-protected (guest accesses through a vCPU, attributes, pre-faults, conversions). The
 * spec must agree with every recorded outcome; where the lab can boot, the traces are run live again and must
 * agree again.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAB_CORPORA, LINUX_7_3_LEFT_OUT } from '../examples/corpus/lab.ts';
import { SCENARIOS } from '../examples/corpus/scenarios.ts';
import { compareTrace } from '../spec/compare.ts';
import type { Outcome, Step } from '../spec/ops.ts';
import { formatOutcome } from '../spec/outcome.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { parseTrace } from '../spec/trace.ts';
import { openLabBackend } from '../src/backend/lab.ts';
import { labReady } from '../src/lab/index.ts';

function why(profile: string, name: string, steps: readonly Step[], observed: readonly (Outcome | undefined)[]): string | undefined {
  const d = compareTrace(getProfile(profile), steps, observed).divergence;
  return (
    d &&
    `${profile}/${name}: step ${d.path.map((p) => p + 1).join('.')} expected ${formatOutcome(d.expected)} (${d.rule.id}: ${d.rule.says}), kernel said ${formatOutcome(d.observed)}`
  );
}

const corpora = LAB_CORPORA.map((c) => {
  const files = readdirSync(c.dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return { ...c, files, traces: files.map((f) => parseTrace(readFileSync(join(c.dir, f), 'utf8'), join(c.dir, f))) };
});

describe.each(corpora.map((c) => [c.profile, c] as const))('%s corpus recorded on the lab kernel', (profile, c) => {
  it('holds one trace per scenario, each with every step observed', () => {
    expect(c.files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(c.scenarios.map((s) => s.name).sort());
    for (const t of c.traces)
      expect(
        t.steps.every((s) => s.observed !== undefined),
        t.name,
      ).toBe(true);
  });

  it('was recorded on Linux 7.3 by the lab: every trace agrees with the spec', () => {
    const problems = c.traces
      .map((t) =>
        why(
          profile,
          t.name ?? '?',
          t.steps,
          t.steps.map((s) => s.observed),
        ),
      )
      .filter((p) => p !== undefined);
    expect(problems).toEqual([]);
  });
});

describe('what the lab corpora cover', () => {
  it('linux-7.3 leaves out of the linux-6.18 scenarios only the ones it says why', () => {
    const names = new Set(corpora.find((c) => c.profile === 'linux-7.3')!.scenarios.map((s) => s.name));
    expect(SCENARIOS.filter((s) => !names.has(s.name)).map((s) => s.name)).toEqual(Object.keys(LINUX_7_3_LEFT_OUT));
  });

  it('sw-protected observes private and shared guest faults, memory-fault exits, MMIO, pre-faults and guest conversion requests', () => {
    const sw = corpora.find((c) => c.profile === 'sw-protected')!;
    const seen = new Set<string>();
    for (const t of sw.traces) {
      for (const s of t.steps) {
        const o = s.observed as Outcome;
        if (s.op === 'guest_access')
          seen.add(
            'exit' in o
              ? `guest ${o.exit}${o.exit === 'MEMORY_FAULT' ? (o.private ? ' private' : ' shared') : ''}`
              : 'errno' in o
                ? `guest ${o.errno}`
                : 'value' in o
                  ? 'guest read'
                  : 'guest write',
          );
        if (s.op === 'pre_fault') seen.add('ok' in o ? 'pre_fault ok' : `pre_fault ${'errno' in o ? o.errno : '?'}`);
        if (s.op === 'guest_request_conversion') seen.add('ok' in o ? 'request exits' : 'request refused');
      }
    }
    for (const k of [
      'guest read',
      'guest write',
      'guest MEMORY_FAULT private',
      'guest MEMORY_FAULT shared',
      'guest MMIO',
      'guest EFAULT',
      'guest EBADF',
      'pre_fault ok',
      'pre_fault EFAULT',
      'pre_fault ENOENT',
      'pre_fault EINVAL',
      'request exits',
      'request refused',
    ]) {
      expect(seen, k).toContain(k);
    }
  });
});

const lab = labReady();
if (!lab.ok) console.log(`SKIP: lab corpora, live: ${lab.reason}`);

describe.skipIf(!lab.ok)('lab corpora, live on the lab kernel', () => {
  const backend = openLabBackend();
  afterAll(() => backend.close());
  it('every trace agrees with the spec when run now', async () => {
    const problems: string[] = [];
    for (const c of corpora) {
      for (const t of c.traces) {
        const run = await backend.run(t);
        const p = why(c.profile, t.name ?? '?', t.steps, run.outcomes);
        if (p) problems.push(p);
      }
    }
    expect(problems).toEqual([]);
  }, 600_000);
});
