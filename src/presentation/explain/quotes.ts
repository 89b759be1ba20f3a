/**
 * The line a citation rests on, quoted from a file of this repository: `kernel-abi.md §2.16 step 2` quotes that
 * numbered entry, `kernel-abi.md §2.7` the section's first sentence, `seed 004 (Hildenbrand: "private memory:
 * not mapped, not pinned")` the seed's sentence with the quoted words (docs/seeds/ holds verbatim copies of the
 * seeds), `kernel here (…)` the sentence of docs/kernel-observations.md that best matches the aside, and any other
 * indexed name its row of docs/sources.md. Every quote is text of the named file (test/explain.test.ts checks).
 */
import { readFileSync } from 'node:fs';
import { docPath, parseCitation, withoutAsides } from '../../../spec/citations.ts';
import { packagePath } from '../../installation.ts';

export interface Quote {
  /** The citation part it answers, e.g. `kernel-abi.md §2.16 step 2` or `seed 004 (…)`. */
  source: string;
  /** Repository-relative file and 1-based line the quote starts on. */
  file: string;
  line: number;
  /** The quoted words (a sentence, cut at about 240 characters with `…`). */
  text: string;
}

const files = new Map<string, string[]>();

function lines(file: string): string[] {
  let l = files.get(file);
  if (!l) {
    l = readFileSync(packagePath(file), 'utf8').split('\n');
    files.set(file, l);
  }
  return l;
}

/** A line without Markdown quote markers, list bullets or heading hashes. */
function clean(line: string): string {
  return line
    .replace(/^[\s>]*/, '')
    .replace(/^#{1,6}\s+/, '')
    .replace(/^[*-]\s+/, '')
    .trim();
}

interface Sentence {
  text: string;
  line: number;
}

/** Sentences of a line range: paragraphs are runs of non-blank lines, joined with single spaces. */
function sentences(file: string, from = 0, to?: number): Sentence[] {
  const all = lines(file);
  const out: Sentence[] = [];
  let para: Array<{ text: string; line: number }> = [];
  const flush = () => {
    if (!para.length) return;
    const text = para.map((p) => p.text).join(' ');
    let at = 0;
    for (const s of text.split(/(?<!\b(?:e\.g|i\.e|etc|vs)\.)(?<=[.!?])\s+(?=["(A-Z*`])/)) {
      const start = text.indexOf(s, at);
      at = start + s.length;
      // The line the sentence starts on: count the joined lengths.
      let acc = 0;
      let line = (para[0] as { line: number }).line;
      for (const p of para) {
        if (acc + p.text.length >= start) {
          line = p.line;
          break;
        }
        acc += p.text.length + 1;
      }
      if (s.replace(/[^A-Za-z]/g, '').length >= 12) out.push({ text: s.trim(), line: line + 1 });
    }
    para = [];
  };
  for (let i = from; i < (to ?? all.length); i++) {
    const raw = all[i] as string;
    if (/^\s*(```|<!--|\|)/.test(raw)) {
      flush();
      continue;
    }
    const c = clean(raw);
    if (!c || /^#{1,6}\s/.test(raw.trim())) {
      flush();
      continue;
    }
    // A numbered or bulleted item starts its own paragraph.
    if (/^\s*(\d+\.|[*-])\s/.test(raw)) flush();
    para.push({ text: c, line: i });
  }
  flush();
  return out;
}

const MAX = 240;

/** At most MAX characters, cut at words; around `focus` (a phrase the citation quotes) when it lies past the cut. */
function cut(text: string, focus?: string): string {
  if (text.length <= MAX) return text;
  const at = focus ? text.toLowerCase().indexOf(focus.toLowerCase()) : -1;
  if (at + (focus?.length ?? 0) <= MAX - 2) {
    const head = text.slice(0, MAX);
    return `${head.slice(0, head.lastIndexOf(' '))} …`;
  }
  const from = text.lastIndexOf(' ', Math.max(0, at - 40)) + 1;
  const window = text.slice(from, from + MAX);
  const end = from + MAX >= text.length ? window : window.slice(0, window.lastIndexOf(' '));
  return `… ${end}${from + MAX >= text.length ? '' : ' …'}`;
}

/** The line range of section `n` (`2.16`) of a Markdown file: its heading to the next heading of any level. */
function sectionRange(file: string, n: string): [number, number] | undefined {
  const all = lines(file);
  const start = all.findIndex((l) => new RegExp(`^#{1,6}\\s+${n.replace(/\./g, '\\.')}\\.?\\s`).test(l));
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < all.length && !/^#{1,6}\s/.test(all[end] as string)) end++;
  return [start + 1, end];
}

/** Numbered entry `step` of a section: its first line and the indented lines that continue it. */
function numberedEntry(file: string, range: [number, number], step: number): Sentence | undefined {
  const all = lines(file);
  for (let i = range[0]; i < range[1]; i++) {
    const m = new RegExp(`^(\\s*)${step}\\.\\s+(.*)$`).exec(all[i] as string);
    if (!m) continue;
    const parts = [(m[2] as string).trim()];
    const indent = (m[1] as string).length;
    for (let k = i + 1; k < range[1]; k++) {
      const l = all[k] as string;
      if (!l.trim() || /^\s*(\d+\.|[*-])\s/.test(l) || l.length - l.trimStart().length <= indent) break;
      parts.push(l.trim());
    }
    return { text: parts.join(' '), line: i + 1 };
  }
  return undefined;
}

const STOP = new Set(
  'that this with from have when what which their there these those into then than only does each every other also were been being more most such they them over under after before while where about'.split(
    ' ',
  ),
);

/** Lower-case words of four letters or more, a plural `s` dropped (`SEGVs` finds `SEGV`). */
function keywords(text: string): string[] {
  const words = (text.toLowerCase().match(/[a-z_][a-z0-9_]{3,}/g) ?? []).filter((w) => !STOP.has(w));
  return [...new Set(words.map((w) => (w.length > 4 && w.endsWith('s') ? w.slice(0, -1) : w)))];
}

const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ');

/** Phrases a citation's aside quotes (`"private memory: not mapped, not pinned"`), split at ellipses. */
function phrasesOf(hint: string): string[] {
  // A quoted phrase of a few words (a single quoted word, `"private"`, says too little to find a sentence by).
  return [...hint.matchAll(/"([^"]+)"/g)]
    .flatMap((m) => (m[1] as string).split(/\s*\.\.\.\s*|\s*…\s*/))
    .filter((p) => p.length >= 12 && p.includes(' '));
}

/**
 * The sentence that holds a phrase the aside quotes; else the one with the most of the aside's words, then of
 * the rule's words; the first of the best.
 */
function bestSentence(cands: readonly Sentence[], asideText: string, context = ''): (Sentence & { focus?: string }) | undefined {
  for (const p of phrasesOf(asideText)) {
    const hit = cands.find((c) => norm(c.text).includes(norm(p)));
    if (hit) return { ...hit, focus: p };
  }
  const strong = keywords(asideText);
  const weak = keywords(context).filter((w) => !strong.includes(w));
  let best: Sentence | undefined;
  let score = 0;
  for (const c of cands) {
    const t = norm(c.text);
    const s = 10 * strong.filter((w) => t.includes(w)).length + weak.filter((w) => t.includes(w)).length;
    if (s > score) {
      best = c;
      score = s;
    }
  }
  return best;
}

function quote(source: string, file: string, s: (Sentence & { focus?: string }) | undefined): Quote | undefined {
  return s ? { source, file, line: s.line, text: cut(s.text, s.focus) } : undefined;
}

/** The aside of a citation part: what is in its parentheses. */
function aside(text: string): string {
  const i = text.indexOf('(');
  return i < 0 ? '' : text.slice(i + 1, text.lastIndexOf(')') > i ? text.lastIndexOf(')') : undefined);
}

/** The docs/sources.md row of an indexed name: its "what" column. */
function indexRow(source: string, name: string): Quote | undefined {
  const file = 'docs/sources.md';
  const all = lines(file);
  let best: { i: number; len: number } | undefined;
  all.forEach((l, i) => {
    const m = /^\|\s*`([^`]+)`\s*\|/.exec(l);
    const n = m?.[1];
    if (n && (name === n || (name.startsWith(n) && /^[\s,:(]/.test(name.slice(n.length)))) && (!best || n.length > best.len))
      best = { i, len: n.length };
  });
  if (!best) return undefined;
  const what = ((all[best.i] as string).split('|')[2] ?? '').trim();
  return { source, file, line: best.i + 1, text: cut(what) };
}

/**
 * A quote for each part of a citation that has one. `context` (the rule's own words) picks among sentences
 * when the citation's aside says too little.
 */
export function quotesFor(cite: string, context = ''): Quote[] {
  const out: Quote[] = [];
  for (const part of parseCitation(cite)) {
    try {
      const q = quotePart(part.text, part.kind === 'doc' ? part : undefined, context);
      if (q && !out.some((x) => x.file === q.file && x.line === q.line)) out.push(q);
    } catch {
      // A file a citation names and this installation lacks: the citation test catches it in the checkout.
    }
  }
  return out;
}

function quotePart(
  text: string,
  doc: Extract<ReturnType<typeof parseCitation>[number], { kind: 'doc' }> | undefined,
  context: string,
): Quote | undefined {
  const said = aside(text);
  if (doc) {
    const file = docPath(doc.doc);
    const ref = doc.sections[0];
    if (!ref) return quote(text, file, bestSentence(sentences(file), said, context));
    const range = sectionRange(file, ref.section);
    if (!range) return undefined;
    if (ref.step !== undefined) return quote(text, file, numberedEntry(file, range, ref.step));
    // An aside naming a numbered entry of a list inside the section: `(to PRIVATE step 2)`.
    const inList = /^(.*?)\s*\bstep (\d+)\b/.exec(said);
    const anchor = inList?.[1]?.replace(/^.*[;,:]\s*/, '').trim();
    if (inList && anchor) {
      const at = lines(file).findIndex((l, i) => i >= range[0] && i < range[1] && l.toLowerCase().includes(anchor.toLowerCase()));
      const entry = at >= 0 ? numberedEntry(file, [at, range[1]], Number(inList[2])) : undefined;
      if (entry) return quote(text, file, entry);
    }
    // The section's sentence closest to the rule, else its first.
    const cands = sentences(file, range[0], range[1]);
    return quote(text, file, bestSentence(cands, said, context) ?? cands[0]);
  }
  const name = withoutAsides(text);
  const seed = /^seeds? (\d{3})\b/.exec(name);
  if (seed) {
    const file = `docs/seeds/${seed[1]}.md`;
    // Not the post's headers and attributions (`On 18.06.25, X wrote:`), only what people said.
    const cands = sentences(file).filter((s) => !/^(Source:|Copied verbatim|Re: \[)|\[<prev\]|Message-ID:|\b(wrote|writes):/.test(s.text));
    return quote(text, file, bestSentence(cands, said, context) ?? cands[0]);
  }
  if (/^(kernel here|Linux 6\.18|measured on the lab)\b/.test(name) && said) {
    const file = 'docs/kernel-observations.md';
    const q = quote(text, file, bestSentence(sentences(file), said));
    if (q) return q;
  }
  if (/^(spec|src|docs|examples|native)\//.test(name)) return undefined;
  return indexRow(text, name);
}
