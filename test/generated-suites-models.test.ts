/**
 * The committed suites of the modelled profiles are what the generator makes today, byte for byte (CI's
 * "regenerate and compare"; regenerate with `npx gmem-spec generate --all`). They run on the reference
 * backend through their own vitest files under generated-tests/.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMITTED } from '../src/generate/config.ts';
import { renderOverview, withCoverageTable } from '../src/generate/overview.ts';
import { checkProfile } from './support/generated.ts';

describe('the committed suites of the modelled profiles', () => {
  it.each(COMMITTED.filter((c) => c.profile !== 'linux-6.18').map((c) => c.profile))(
    '%s: regenerates byte for byte',
    (name) => {
      expect(checkProfile(name)).toEqual({ missing: [], extra: [], changed: [] });
    },
    60_000,
  );

  it('generated-tests/README.md is the table of their coverage files', () => {
    expect(readFileSync('generated-tests/README.md', 'utf8')).toBe(renderOverview('generated-tests', COMMITTED));
  });

  it("the top-level README's coverage table is the current one, with a row per committed suite", () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toBe(withCoverageTable(readme, 'generated-tests', COMMITTED));
    for (const c of COMMITTED) expect(readme).toContain(`| [${c.profile}](generated-tests/${c.profile}/COVERAGE.md) |`);
  });
});
