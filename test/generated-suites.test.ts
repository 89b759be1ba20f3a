/**
 * The committed linux-6.18 suite: it is what the generator makes today (CI's "regenerate and compare"), every
 * trace agrees with this machine's kernel step by step, and the C selftests build with -Wall -Werror and pass
 * against /dev/kvm. Without /dev/kvm the kernel checks print one SKIP line and are skipped (never passed).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Outcome, Step } from '../spec/ops.ts';
import { formatOutcome, outcomesEqual } from '../spec/outcome.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { LinuxBackend, detectHost } from '../src/backend/linux.ts';
import { loadSuite } from '../src/conform/suite.ts';
import { committedFor } from '../src/generate/config.ts';
import { stepPhrase } from '../src/generate/words.ts';
import { checkProfile } from './support/generated.ts';

const kvm = detectHost();
if (!kvm.ok) console.log(kvm.skip);
const DIR = 'generated-tests/linux-6.18';
const profile = getProfile('linux-6.18');

describe('the committed linux-6.18 suite', () => {
  it('is what `gmem-spec generate` makes today, byte for byte (regenerate with `npx gmem-spec generate --all`)', () => {
    const c = committedFor('linux-6.18');
    expect(c).toBeDefined();
    expect(checkProfile('linux-6.18')).toEqual({ missing: [], extra: [], changed: [] });
  });
});

describe.skipIf(!kvm.ok)("the linux-6.18 suite on this machine's kernel", () => {
  const backend = new LinuxBackend();
  afterAll(() => backend.close());

  it('every generated trace agrees with the kernel, step by step (the linux backend)', async () => {
    const suite = loadSuite(DIR);
    expect(suite.length).toBeGreaterThan(500);
    const divergences: string[] = [];
    for (const t of suite) {
      const { outcomes } = await backend.run(t.trace);
      const i = t.trace.steps.findIndex((s, k) => !outcomesEqual(s.expected as Outcome, outcomes[k] ?? { failed: 'no outcome' }));
      if (i < 0) continue;
      const s = t.trace.steps[i] as Step;
      divergences.push(
        `${t.name} step ${i + 1}: ${stepPhrase(profile, s)}: the spec expects ${formatOutcome(s.expected as Outcome)} (${s.note}), the kernel answered ${formatOutcome(outcomes[i] ?? { failed: 'no outcome' })}`,
      );
    }
    expect(divergences, divergences.join('\n')).toEqual([]);
  }, 120_000);
});

describe('the generated C selftests', () => {
  const gcc = spawnSync('gcc', ['--version']).status === 0;
  const files = readdirSync(join(DIR, 'c'))
    .filter((f) => f.endsWith('.c'))
    .sort();
  const out = mkdtempSync(join(tmpdir(), 'gmem-c-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const bin = (file: string) => join(out, file.replace(/\.c$/, ''));

  it.skipIf(!gcc).each(files)(
    '%s builds with gcc -Wall -Werror',
    (file) => {
      execFileSync('gcc', ['-Wall', '-Werror', '-O0', '-o', bin(file), join(DIR, 'c', file)], { stdio: 'pipe' });
    },
    120_000,
  );

  it.skipIf(!gcc || !kvm.ok).each(files)(
    '%s passes against /dev/kvm (TAP)',
    (file) => {
      const r = spawnSync(bin(file), [], { encoding: 'utf8', timeout: 120_000 });
      const lines = r.stdout.split('\n');
      expect(lines[0]).toBe('TAP version 13');
      const failed = lines.filter((l) => l.startsWith('not ok'));
      expect(
        failed,
        `${failed.join('\n')}\n${r.stderr
          .split('\n')
          .filter((l) => l.startsWith('#'))
          .slice(0, 40)
          .join('\n')}`,
      ).toEqual([]);
      expect(r.status).toBe(0);
      expect(lines.some((l) => /^# Totals: pass:\d+ fail:0/.test(l))).toBe(true);
    },
    120_000,
  );

  // Without /dev/kvm the selftest must skip the kselftest way (a TAP SKIP plan, exit 4), not fail nor pass.
  it.skipIf(!gcc || kvm.kind !== 'no-kvm').each(files)(
    'without /dev/kvm, %s reports a TAP SKIP and exits KSFT_SKIP (4)',
    (file) => {
      const r = spawnSync(bin(file), [], { encoding: 'utf8', timeout: 120_000 });
      expect(r.stdout.split('\n').slice(0, 2)).toEqual(['TAP version 13', expect.stringMatching(/^1\.\.0 # SKIP no \/dev\/kvm/)]);
      expect(r.status).toBe(4);
    },
    120_000,
  );
});
