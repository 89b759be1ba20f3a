/**
 * docs/review/<seed>.md: one per seed debate (docs/seeds/000-004), each with its question in one line and the
 * commands that answer it with their output; deterministic (no paths of this machine, no timings), and what
 * `gmem-spec review` writes now (which `generate --check` also checks).
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { REVIEW_DIR, renderReviews, runInProcess } from '../src/cli/review/render.ts';
import { SEED_REVIEWS } from '../src/cli/review/seeds.ts';

describe('review documents', () => {
  it('cover the five seeds, each with a one-line question and its commands', () => {
    expect(SEED_REVIEWS.map((r) => r.seed)).toEqual(['000', '001', '002', '003', '004']);
    for (const r of SEED_REVIEWS) {
      expect(r.question, r.seed).not.toContain('\n');
      expect(r.question.endsWith('?'), r.seed).toBe(true);
      expect(r.commands.length, r.seed).toBeGreaterThan(0);
    }
  });

  it('are deterministic and what `gmem-spec review` writes now, with every command answering', async () => {
    const first = await renderReviews(runInProcess);
    const second = await renderReviews(runInProcess);
    expect([...first.keys()]).toEqual(SEED_REVIEWS.map((r) => `${REVIEW_DIR}/${r.seed}.md`));
    for (const [file, text] of first) {
      expect(second.get(file), file).toBe(text);
      expect(text, file).not.toContain(process.cwd());
      expect(text, file).not.toContain(tmpdir());
      expect(text, file).not.toMatch(/^time {6}|peak RSS|\d+\.\d s\b/m);
      // Each command's output is there, and no command was refused as bad input.
      const blocks = text.match(/```text\n\$ gmem-spec [^\n]+\n[\s\S]*?```/g) ?? [];
      expect(blocks.length, file).toBe(SEED_REVIEWS.find((r) => file.endsWith(`${r.seed}.md`))?.commands.length);
      for (const b of blocks) expect(b, file).not.toContain('(exit status 2)');
      expect(readFileSync(file, 'utf8'), `${file} is stale: run npx gmem-spec review`).toBe(text);
    }
  }, 120_000);
});
