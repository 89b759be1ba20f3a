/**
 * Every source that a rule, an invariant, a profile, a flag or the HTML report cites resolves to a file of this
 * repository (issue 12, item 9): `kernel-abi.md §2.7` to a section of docs/kernel-abi.md (and `step N` / `item
 * N` to a numbered entry in it), `docs/…md` to that file, and every other name (the kernel here, seeds, kernel
 * functions, man pages, selftests) to an entry of docs/sources.md's index.
 *
 * Citations are gathered two ways: at run time from every check list, every rule the committed graphs reach,
 * the invariants, profiles and flags; and statically from every `cite:` / `source:` / `sources:` literal in
 * spec/ and src/ (rules decided outside a check list, and the report's tables).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CitationPart, docPath, parseCitation, withoutAsides } from '../spec/citations.ts';
import { parseBound } from '../spec/explore/bound.ts';
import { explore } from '../spec/explore/explorer.ts';
import { BUILTIN_FLAGS } from '../spec/flags/index.ts';
import { INVARIANTS } from '../spec/invariants.ts';
import { PROFILES, getProfile } from '../spec/profiles/index.ts';
import { COMMITTED } from '../src/generate/config.ts';
import { ADAPTERS } from '../src/generate/failures.ts';
import { quotesFor } from '../src/presentation/explain/quotes.ts';

/** Citation text → where it was found (for the failure message). */
function gather(): Map<string, string> {
  const out = new Map<string, string>();
  const add = (cite: string | undefined, where: string) => {
    if (cite && !out.has(cite)) out.set(cite, where);
  };
  for (const [op, a] of Object.entries(ADAPTERS)) for (const c of a?.checks() ?? []) add(c.cite, `check ${c.id} (${op})`);
  for (const c of COMMITTED) {
    const g = explore(getProfile(c.profile), parseBound(c.bound));
    for (const r of g.rules) add(r.cite, `rule ${r.id} (${c.profile} graph)`);
  }
  for (const i of INVARIANTS) add(i.source, `invariant ${i.name}`);
  for (const p of PROFILES) for (const s of p.sources) add(s, `profile ${p.name}`);
  // Content semantics per VM type, which `diff` prints with their source.
  for (const p of PROFILES)
    for (const [t, r] of Object.entries(p.vmTypes)) {
      const c: unknown = r?.conversionContent;
      if (c && typeof c === 'object' && 'source' in c && typeof c.source === 'string')
        add(c.source, `profile ${p.name} VM type ${t} content`);
    }
  for (const f of Object.values(BUILTIN_FLAGS)) add(f.source, `flag ${f.name}`);
  // `cite:` literals in the sources (rules decided outside a check list, the report's tables); a template
  // literal would hide its text, so citations are plain strings (checked below).
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
    );
  for (const file of [...files('spec'), ...files('src')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bcite:\s*(['`])((?:(?!\1)[^\\]|\\.)*)\1/g)) add(m[2]?.replace(/\\'/g, "'"), file);
    // success(id, says, cite): the third argument.
    const lit = String.raw`(['\`])(?:(?!\N)[^\\]|\\.)*\N`;
    const re = new RegExp(
      String.raw`\bsuccess\(\s*${lit.replace(/N/g, '1')}\s*,\s*${lit.replace(/N/g, '2')}\s*,\s*(['\`])((?:(?!\3)[^\\]|\\.)*)\3`,
      'g',
    );
    for (const m of text.matchAll(re)) add(m[4]?.replace(/\\'/g, "'"), file);
  }
  return out;
}

/** A Markdown file's sections by number (`2.13`, `5`): the text from the heading to the next heading of any level. */
function sections(path: string): Map<string, string> {
  const out = new Map<string, string>();
  let cur: string | undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const h = /^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s/.exec(line);
    if (h) {
      cur = h[1] as string;
      out.set(cur, '');
      continue;
    }
    if (/^#{1,6}\s/.test(line)) cur = undefined;
    else if (cur !== undefined) out.set(cur, `${out.get(cur)}${line}\n`);
  }
  return out;
}

/** The names docs/sources.md indexes: the first column of its tables, in backticks. */
function indexedNames(): string[] {
  return [...readFileSync('docs/sources.md', 'utf8').matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map((m) => m[1] as string);
}

/** Why a part does not resolve, or undefined. */
function unresolved(part: CitationPart, names: readonly string[], docs: Map<string, Map<string, string>>): string | undefined {
  if (part.kind === 'named') {
    const text = withoutAsides(part.text);
    if (/^(spec|src|docs|examples|native|test)\//.test(text) && existsSync(text.split(' ')[0] as string)) return undefined;
    // An indexed name, followed by the end or a separator (so `mm` does not vouch for `mmap`).
    const hit = names.some((n) => text === n || (text.startsWith(n) && /^[\s,:(]/.test(text.slice(n.length))));
    return hit ? undefined : `"${text}" is not indexed in docs/sources.md`;
  }
  const path = docPath(part.doc);
  if (!existsSync(path)) return `${path} does not exist`;
  if (!docs.has(path)) docs.set(path, sections(path));
  const secs = docs.get(path) as Map<string, string>;
  for (const s of part.sections) {
    for (const n of [s.section, ...(s.to ? [s.to] : [])]) if (!secs.has(n)) return `${path} has no section ${n}`;
    if (s.step !== undefined && !new RegExp(`^\\s*${s.step}\\.\\s`, 'm').test(secs.get(s.section) ?? ''))
      return `${path} §${s.section} has no numbered entry ${s.step}`;
  }
  return undefined;
}

describe('every cited source is in the repository', () => {
  const cites = gather();
  const names = indexedNames();
  const docs = new Map<string, Map<string, string>>();

  it('finds the citations (rules, invariants, profiles, flags, report tables), all of them plain text', () => {
    expect(cites.size).toBeGreaterThan(150);
    expect([...cites.keys()].some((c) => c.includes('kernel-abi.md §2.7'))).toBe(true);
    expect([...cites].filter(([c]) => c.includes('${')).map(([c, where]) => `${where}: ${c}`)).toEqual([]);
  });

  it('each part of each citation resolves to a file, a section and a numbered entry, or an indexed name', () => {
    const problems: string[] = [];
    for (const [cite, where] of cites) {
      for (const part of parseCitation(cite)) {
        const why = unresolved(part, names, docs);
        if (why) problems.push(`${where}: ${why} (in "${cite}")`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every quote the CLI and the report print for a citation is text of the file and line it names', () => {
    const flat = (t: string) => t.replace(/^[\s>]*/gm, '').replace(/\s+/g, ' ');
    const problems: string[] = [];
    let quoted = 0;
    for (const [cite, where] of cites) {
      for (const q of quotesFor(cite)) {
        quoted++;
        const text = flat(q.text.replace(/^… /, '').replace(/ …$/, ''));
        const lines = readFileSync(q.file, 'utf8').split('\n');
        if (!flat(lines.join('\n')).includes(text)) problems.push(`${where}: "${q.text}" is not in ${q.file}`);
        else if (!flat(lines.slice(q.line - 1).join('\n')).includes(text))
          problems.push(`${where}: "${q.text}" is not at or after ${q.file}:${q.line}`);
      }
    }
    expect(problems).toEqual([]);
    // Nearly every citation has a quote (a path into the code has none).
    expect(quoted).toBeGreaterThan(cites.size * 0.8);
  });

  it('docs/sources.md indexes nothing twice, and each entry says where it is', () => {
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    expect(dup).toEqual([]);
    for (const row of readFileSync('docs/sources.md', 'utf8').matchAll(/^\|\s*`[^`]+`\s*\|([^|]*)\|([^|]*)\|/gm))
      expect((row[2] ?? '').trim()).not.toBe('');
  });
});

describe('the citation reader', () => {
  it('splits on ; outside parentheses and reads sections, ranges and steps', () => {
    expect(parseCitation('kernel-abi.md §2.5 step 2, §5 (pKVM column); seed 004 (a; b); kernel-abi.md §2.19-2.20')).toEqual([
      {
        kind: 'doc',
        text: 'kernel-abi.md §2.5 step 2, §5 (pKVM column)',
        doc: 'kernel-abi.md',
        sections: [{ section: '2.5', step: 2 }, { section: '5' }],
      },
      { kind: 'named', text: 'seed 004 (a; b)' },
      { kind: 'doc', text: 'kernel-abi.md §2.19-2.20', doc: 'kernel-abi.md', sections: [{ section: '2.19', to: '2.20' }] },
    ]);
  });

  it('a section or an entry that does not exist is reported', () => {
    const docs = new Map<string, Map<string, string>>();
    expect(unresolved(parseCitation('kernel-abi.md §2.99')[0] as CitationPart, [], docs)).toBe('docs/kernel-abi.md has no section 2.99');
    expect(unresolved(parseCitation('kernel-abi.md §2.7 step 40')[0] as CitationPart, [], docs)).toBe(
      'docs/kernel-abi.md §2.7 has no numbered entry 40',
    );
    expect(unresolved(parseCitation('nowhere.md §1')[0] as CitationPart, [], docs)).toBe('docs/nowhere.md does not exist');
    expect(unresolved(parseCitation('mmap_region')[0] as CitationPart, ['mm'], docs)).toBe(
      '"mmap_region" is not indexed in docs/sources.md',
    );
  });
});
