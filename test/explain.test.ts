/**
 * The paragraphs that go with counterexamples and diff witnesses: the rule that allowed the step, what the
 * baseline does at the same step, and each source quoted from a file of this repository (the quote is that
 * file's text, whatever its line breaks and Markdown quote markers).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { quotesFor } from '../src/presentation/explain/quotes.ts';

const flat = (s: string) => s.replace(/^[\s>]*/gm, '').replace(/\s+/g, ' ');

/** Every `file:line: "quote"` line of an output is text of that file, starting on that line. */
function checkQuotes(out: string): number {
  let n = 0;
  for (const m of out.matchAll(/^\s+((?:docs)\/[\w./-]+):(\d+): "(.*)"$/gm)) {
    const [, file, line, q] = m as unknown as [string, string, string, string];
    const text = q.replace(/^… /, '').replace(/ …$/, '');
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(flat(lines.join('\n')), `${file}:${line}`).toContain(flat(text));
    // The quote starts on the line it names (its first words are there).
    expect(
      flat(lines.slice(Number(line) - 1).join('\n')).startsWith(flat(text).slice(0, 12)) ||
        flat(lines[Number(line) - 1] ?? '').includes(flat(text).slice(0, 12)),
      `${file}:${line}`,
    ).toBe(true);
    n++;
  }
  return n;
}

describe('quoting a citation', () => {
  it('a numbered entry of a fact-sheet section quotes that entry', () => {
    const [q] = quotesFor('kernel-abi.md §2.16 step 2');
    expect(q).toMatchObject({ file: 'docs/kernel-abi.md', text: 'flags != 0 → EINVAL.' });
  });

  it("a seed cited with a quoted phrase quotes the seed's sentence that holds it, from docs/seeds", () => {
    const [q] = quotesFor('seed 004 (Hildenbrand: "private memory: not mapped, not pinned")');
    expect(q?.file).toBe('docs/seeds/004.md');
    expect(q?.text).toContain('private memory: not mapped, not pinned');
  });

  it('a name with no document quotes its row of docs/sources.md; a file path has no quote', () => {
    expect(quotesFor('madvise(2)')).toEqual([expect.objectContaining({ file: 'docs/sources.md', text: 'madvise and its advice values' })]);
    expect(quotesFor('spec/world.ts')).toEqual([]);
  });
});

describe('check prints why each counterexample is allowed', () => {
  it('an unsafe flag: the rule that allowed the step, the base profile without the flag at the same step, quoted sources', async () => {
    const out: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'gmem-explain-'));
    const code = await main(
      ['check', '--profile', 'linux-6.18', '--flag', 'HOST_MAP_PRIVATE', '--invariant', 'HostMappedIsShared', '--out', dir],
      {
        out: (s) => out.push(s),
        err: () => {},
      },
    );
    expect(code).toBe(1);
    const text = out.join('\n');
    const why = text.slice(text.indexOf('why each counterexample is allowed, against linux-6.18:'));
    expect(flat(why)).toContain('Under linux-6.18+HOST_MAP_PRIVATE, step 4 (read_mem) → access ok, reads 0: rule access.read');
    expect(flat(why)).toContain(
      'The baseline linux-6.18 (the same trace without HOST_MAP_PRIVATE) at the same step → SIGBUS: rule access.private',
    );
    expect(why).toMatch(/^ {6}HostMappedIsShared: /m);
    expect(checkQuotes(why)).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('diff prints each witness with its paragraph and quoted sources', async () => {
    const out: string[] = [];
    expect(await main(['diff', 'linux-6.18', 'linux-7.3', '--quiet'], { out: (s) => out.push(s), err: () => {} })).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/Under linux-7\.3, step \d+ \(set_memory_region2\) → EEXIST: rule/);
    expect(checkQuotes(text)).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
