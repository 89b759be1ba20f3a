/**
 * Reading the citations that rules, invariants, profiles and flags carry (`cite`, `source`, `sources`), so that
 * a test can check each one resolves to a file of this repository. A citation is a list of parts separated by
 * `;` (outside parentheses). A part is either
 *
 *   a document reference  `kernel-abi.md §2.13 step 5, §5 (pKVM column)`: a Markdown file under docs/ (or a repo
 *                         path ending in .md), with sections `§N[.M…]`, ranges `§2.19-2.20`, and numbered
 *                         `step N` / `item N` within a section;
 *   a named source        `kernel here (no SMM)`, `seed 004 (…)`, `madvise(2)`, `mm/gup.c faultin_page_range`:
 *                         resolved by docs/sources.md, whose index lists each name and where it is upstream or
 *                         in the repository.
 *
 * Pure text processing: the checks that read files live in test/citations.test.ts.
 */

export interface SectionRef {
  /** `2.13`, `5`. */
  section: string;
  /** The end of a range `§2.19-2.20`. */
  to?: string;
  /** A numbered step or item inside the section. */
  step?: number;
}

export type CitationPart = { kind: 'doc'; text: string; doc: string; sections: SectionRef[] } | { kind: 'named'; text: string };

/** Split on `sep` where not inside parentheses or double quotes. */
function splitTop(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') depth = Math.max(0, depth - 1);
    if (ch === sep && depth === 0 && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

/**
 * The text with its parenthesised asides removed (they explain, they do not cite). A man-page section right
 * after a name (`madvise(2)`) is part of the name, not an aside.
 */
export function withoutAsides(text: string): string {
  let depth = 0;
  let quoted = false;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const manSection = /^\(\d\)/.test(text.slice(i)) && /\w/.test(text[i - 1] ?? '');
    if (manSection) {
      out += text.slice(i, i + 3);
      i += 2;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (depth === 0) out += ch;
    if (!quoted && ch === ')') depth = Math.max(0, depth - 1);
  }
  return out.replace(/\s+/g, ' ').trim();
}

const DOC_RE = /^((?:[\w.-]+\/)*[\w.-]+\.md)\b/;
const SECTION_RE = /§(\d+(?:\.\d+)*)(?:-(\d+(?:\.\d+)*))?(?:\s+(?:step|item)\s+(\d+))?/g;

export function parseCitation(cite: string): CitationPart[] {
  return splitTop(cite, ';').map((text): CitationPart => {
    const m = DOC_RE.exec(text);
    if (!m) return { kind: 'named', text };
    const sections: SectionRef[] = [];
    for (const s of withoutAsides(text).matchAll(SECTION_RE)) {
      const ref: SectionRef = { section: s[1] as string };
      if (s[2] !== undefined) ref.to = s[2];
      if (s[3] !== undefined) ref.step = Number(s[3]);
      sections.push(ref);
    }
    return { kind: 'doc', text, doc: m[1] as string, sections };
  });
}

/** Where a cited document lives in the repository: `kernel-abi.md` is docs/kernel-abi.md. */
export function docPath(doc: string): string {
  return doc.includes('/') ? doc : `docs/${doc}`;
}
