/**
 * The linux-6.18 corpus (examples/corpus): 200+ traces whose observed outcomes were recorded from a real
 * Linux 6.18 kernel. The spec must agree with every recorded outcome; where /dev/kvm exists the traces are
 * also run live on the linux backend and must agree again.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../examples/corpus/scenarios.ts';
import { compareTrace } from '../spec/compare.ts';
import { formatOutcome } from '../spec/outcome.ts';
import { LINUX_6_18 } from '../spec/profiles/index.ts';
import { parseTrace } from '../spec/trace.ts';
import { LinuxBackend, detectHost } from '../src/backend/linux.ts';

const DIR = join('examples', 'corpus', 'linux-6.18');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const traces = files.map((f) => parseTrace(readFileSync(join(DIR, f), 'utf8'), join(DIR, f)));

function why(name: string, steps: Parameters<typeof compareTrace>[1], observed: Parameters<typeof compareTrace>[2]): string | undefined {
  const d = compareTrace(LINUX_6_18, steps, observed).divergence;
  return (
    d &&
    `${name}: step ${d.path.map((p) => p + 1).join('.')} expected ${formatOutcome(d.expected)} (${d.rule.id}: ${d.rule.says}), kernel said ${formatOutcome(d.observed)}`
  );
}

describe('linux-6.18 corpus recorded from the kernel', () => {
  it('holds one trace per scenario, at least 100, each with every step observed', () => {
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(SCENARIOS.map((s) => s.name).sort());
    expect(traces.length).toBeGreaterThanOrEqual(100);
    for (const t of traces)
      expect(
        t.steps.every((s) => s.observed !== undefined),
        t.name,
      ).toBe(true);
  });

  it('covers every area the conformance issue lists', () => {
    const areas = new Set(SCENARIOS.map((s) => s.area));
    for (const a of ['create', 'mmap', 'fault', 'persist', 'punch', 'fallocate', 'memslot', 'close', 'fork', 'file', 'madvise', 'pin'])
      expect(areas).toContain(a);
  });

  it.each(traces.map((t) => [t.name ?? '?', t] as const))('spec agrees with the recorded kernel: %s', (name, t) => {
    expect(
      why(
        name,
        t.steps,
        t.steps.map((s) => s.observed),
      ),
    ).toBeUndefined();
  });
});

const kvm = detectHost();
if (!kvm.ok) console.log(kvm.skip);

describe.skipIf(!kvm.ok)('linux-6.18 corpus, live on this kernel', () => {
  const backend = new LinuxBackend();
  afterAll(() => backend.close());
  it('every trace agrees with the spec when run now', async () => {
    const problems: string[] = [];
    for (const t of traces) {
      const run = await backend.run(t);
      const p = why(t.name ?? '?', t.steps, run.outcomes);
      if (p) problems.push(p);
    }
    expect(problems).toEqual([]);
  });
});
