/** The README promises: the two commands first, the feature table, and diagrams that match docs/diagrams. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../spec/profiles/index.ts';

const readme = readFileSync('README.md', 'utf8');

describe('README', () => {
  it('starts with what the project is, then the install-and-run and the test commands', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toMatch(/^npm ci && npm start\b/m);
    expect(firstBlock).toMatch(/^npm test\b/m);
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/npm ci\nnpm test\n/);
  });

  it('has a feature-table row for every profile, saying whether a real kernel checks it', () => {
    for (const p of PROFILES) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${p.name}\` |`));
      expect(row, p.name).toBeDefined();
      expect(row?.includes('checked against a real kernel'), p.name).toBe(p.checkedAgainstKernel);
    }
  });

  it('embeds the current diagrams (node scripts/embed-diagrams.mjs refreshes them)', () => {
    for (const name of ['linux-6.18-page', 'diff-linux-6.18-inplace-conversion']) {
      const body = readFileSync(`docs/diagrams/${name}.mmd`, 'utf8').trimEnd();
      expect(readme.includes(`<!-- diagram:${name} -->\n\`\`\`mermaid\n${body}\n\`\`\``), name).toBe(true);
    }
  });
});
