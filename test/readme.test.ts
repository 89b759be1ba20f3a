/** The README promises: the two commands first, the feature table, and diagrams that match docs/diagrams. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../spec/profiles/index.ts';
import { factsUsed, readmeFacts } from '../src/generate/readmeFacts.ts';

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

  // Numbers about the repository are computed (src/generate/readmeFacts.ts; `gmem-spec generate --all` rewrites
  // them), never typed: the corpus once grew to 236 traces while the README said 233 in one place and 234 in another.
  it('states the corpus and main-job counts as computed facts, each one current', () => {
    const facts = readmeFacts();
    const used = factsUsed(readme);
    expect(new Set(used)).toEqual(new Set(['corpus-traces', 'corpus-steps', 'run-traces', 'run-steps']));
    for (const m of readme.matchAll(/<!-- fact:([a-z-]+) -->([^<]*)<!-- \/fact:\1 -->/g))
      expect(m[2], m[1]).toBe(facts[m[1] as keyof typeof facts]);
    // No trace or step count outside a marker (command transcripts in code blocks aside, and the coverage
    // table's "tests / steps" columns, which generate --all writes).
    const prose = readme.replace(/```[\s\S]*?```/g, '').replace(/<!-- fact:([a-z-]+) -->[^<]*<!-- \/fact:\1 -->/g, 'N');
    expect(prose.match(/\b\d[\d,]*[- ](?:trace|step)s?\b(?! \/)/g) ?? []).toEqual([]);
  });

  it('says what is measured where, without claiming the host has guest_memfd', () => {
    expect(readme).not.toMatch(/machine this project runs on has Linux 6\.18/);
    expect(readme).toMatch(
      /`linux-6\.18` was measured on a Linux 6\.18 host that has guest_memfd[\s\S]{0,200}docs\/kernel-observations\.md/,
    );
  });

  it('embeds the current diagrams (node scripts/embed-diagrams.mjs refreshes them)', () => {
    for (const name of ['linux-6.18-page', 'diff-linux-6.18-inplace-conversion']) {
      const body = readFileSync(`docs/diagrams/${name}.mmd`, 'utf8').trimEnd();
      expect(readme.includes(`<!-- diagram:${name} -->\n\`\`\`mermaid\n${body}\n\`\`\``), name).toBe(true);
    }
  });
});
