/**
 * The kernel half of the generated suites: every committed suite of a profile that a kernel here implements
 * runs on that kernel, the host's if it serves guest_memfd, else the lab VM's when a lab kernel is cached
 * (a test run never builds one), and every step must agree with the spec. One SKIP line per profile when no
 * kernel here implements it. (linux-6.18 on the host is test/generated-suites.test.ts.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatOutcome } from '../spec/outcome.ts';
import { PROFILES, getProfile } from '../spec/profiles/index.ts';
import { type KernelChoice, chooseKernel, labProfiles } from '../src/backend/choose.ts';
import { openLabBackend } from '../src/backend/lab.ts';
import { LinuxBackend } from '../src/backend/linux.ts';
import type { Backend } from '../src/backend/types.ts';
import { runSuite } from '../src/conform/runner.ts';
import { loadSuite } from '../src/conform/suite.ts';

/** The profiles some kernel here may implement, besides linux-6.18 on the host. */
const CANDIDATES = [...new Set([...labProfiles(), 'linux-7.3', 'sw-protected'])].filter(
  (p) => p !== 'linux-6.18' && PROFILES.some((x) => x.name === p),
);

const backends = new Map<string, Backend>();
const backendFor = (c: Extract<KernelChoice, { ok: true }>): Backend => {
  let b = backends.get(c.backend);
  if (!b) {
    b = c.backend === 'lab' ? openLabBackend() : new LinuxBackend();
    backends.set(c.backend, b);
  }
  return b;
};
afterAll(async () => {
  for (const b of backends.values()) await b.close();
});

for (const name of CANDIDATES) {
  const dir = join('generated-tests', name);
  const choice = chooseKernel(name, 'kernel', { allowBuild: false });
  if (!choice.ok) console.log(`${choice.skip} (the ${name} suite is not run on a kernel)`);
  describe.skipIf(!choice.ok || !existsSync(dir))(`the ${name} suite on a kernel`, () => {
    it(`every trace of ${dir} agrees with the kernel, step by step (${choice.ok ? choice.why : ''})`, async () => {
      const backend = backendFor(choice as Extract<KernelChoice, { ok: true }>);
      const results = await runSuite(backend, getProfile(name), loadSuite(dir));
      const caps = await backend.capabilities();
      const off = results
        .filter((r) => !r.passed)
        .map((r) => {
          const d = r.divergence;
          return d
            ? `${r.name} step ${d.path.map((p) => p + 1).join('.')} (${d.step.op}): the spec expects ${formatOutcome(d.expected)} (${d.rule.id}), Linux ${caps.kernel} answered ${formatOutcome(d.observed)}`
            : `${r.name}: failed`;
        });
      expect(results.length).toBeGreaterThan(0);
      expect(off, off.join('\n')).toEqual([]);
    }, 600_000);
  });
}
