/**
 * The static HTML report: an index of every profile, and per profile its diagrams (SVG laid out in-process by
 * the WebAssembly Graphviz, inlined: no script, no CDN, works from file://), its invariants with sources, the
 * ordered failure checks of each operation, coverage of the generated suites, the diff against its base profile
 * with a sequence diagram for every witness, and every counterexample the bounded search found.
 *
 * The site is written to a temporary directory beside the target and renamed into place, so a reader never sees
 * a half-written report.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Outcome } from '../../../spec/ops.ts';
import type { Profile } from '../../../spec/profile.ts';
import { PROFILES, getProfile } from '../../../spec/profiles/index.ts';
import { predictTrace } from '../../../spec/compare.ts';
import { INVARIANTS, invariantsFor } from '../../../spec/invariants.ts';
import { type Comparison, compareMermaid, compareProfiles, compareSvg, compareText, sideDiagram } from '../diagram/compare.ts';
import { buildDiagram, directionFor, renderSync } from '../diagram/index.ts';
import { dotNodeCount, renderDot } from '../diagram/render/dot.ts';
import { renderMermaid } from '../diagram/render/mermaid.ts';
import { DEFAULT_MAX_DEPTH, exploreCached, pathTo } from '../diagram/reachable.ts';
import { comparedSequence, renderSequenceMermaid, renderSequenceSvg, traceSequence } from '../diagram/sequence.ts';
import type { MachineName } from '../diagram/static.ts';
import { dotToSvg, graphvizVersion, inlineSvg } from '../diagram/svg.ts';
import type { Diagram } from '../diagram/types.ts';
import { diffProfiles, type ProfileDiff } from '../diff/profileDiff.ts';
import { diffDiagram, renderDiffText, traceLine } from '../diff/render.ts';
import { forBaseline } from '../explain/counterexample.ts';
import { type Explained, explain } from '../explain/paragraph.ts';
import { formatTrace } from '../../../spec/trace.ts';
import { failureTables } from './tables.ts';

export interface ReportOptions {
  out: string;
  /** Profiles by name, or resolved (composed profiles); default: every built-in profile. */
  profiles?: ReadonlyArray<string | Profile>;
  /** Told each phase (a profile's page, writing), for a progress display. */
  onProgress?: (phase: string) => void;
  /** Aborted (Ctrl-C): the report stops at the next profile and throws ReportInterrupted; nothing is written. */
  signal?: AbortSignal;
  maxDepth?: number;
  /** Where generated suites live (`<dir>/<profile>/coverage.json`). */
  generatedDir?: string;
}

export interface ReportSummary {
  out: string;
  pages: number;
  diagrams: number;
  sequences: number;
  bytes: number;
  millis: number;
}

// Everything fits a 1,500 px window (test/report.browser.test.ts): boxes include their padding, drawings scale
// down to the page's width, and long words in tables and code wrap instead of widening the page.
const CSS = `
*,*::before,*::after{box-sizing:border-box}
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#263238;background:#fafafa}
header{background:#263238;color:#eceff1;padding:14px 24px}header a{color:#b3e5fc}
main{padding:12px 24px 48px;max-width:1500px}
h1{font-size:22px;margin:0}h2{font-size:18px;border-bottom:1px solid #cfd8dc;padding-bottom:4px;margin-top:32px}h3{font-size:15px;margin-top:22px}
table{border-collapse:collapse;font-size:12.5px;margin:8px 0;max-width:100%}th,td{border:1px solid #cfd8dc;padding:3px 7px;vertical-align:top;text-align:left;overflow-wrap:anywhere}th{background:#eceff1}
td.added,span.added{color:#1b5e20;background:#e6f4ea}td.removed,span.removed{color:#b71c1c;background:#fde2e2}td.changed,span.changed{color:#e65100;background:#fff3e0}
td.breaks{color:#b71c1c;font-weight:bold}td.holds{color:#1b5e20}
figure.diagram{background:#fff;border:1px solid #cfd8dc;margin:10px 0;padding:8px;overflow:hidden}figure.diagram svg{max-width:100%;height:auto;display:block}
figcaption{font-size:12px;color:#546e7a;margin-bottom:6px}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}pre{background:#fff;border:1px solid #cfd8dc;padding:8px;white-space:pre-wrap;overflow-wrap:anywhere}p,li,summary,figcaption{overflow-wrap:anywhere}
blockquote{margin:4px 0 4px 16px;padding-left:8px;border-left:3px solid #cfd8dc;color:#455a64;font-size:12.5px}
.muted{color:#78909c}.tag{display:inline-block;border-radius:3px;padding:0 5px;font-size:11px;background:#eceff1;margin-right:4px}
nav.toc a{margin-right:14px}details{margin:6px 0}summary{cursor:pointer}
`;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function page(title: string, body: string, up?: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><header><h1>${esc(title)}</h1>${up ? `<div><a href="${up}">← all profiles</a></div>` : ''}</header><main>
${body}
</main></body></html>
`;
}

interface Files {
  put(path: string, content: string): void;
}

interface Counter {
  diagrams: number;
  sequences: number;
}

async function figure(files: Files, dir: string, name: string, d: Diagram, caption: string, count: Counter): Promise<string> {
  const dot = renderDot(d, { rankdir: directionFor(d) });
  const svg = inlineSvg(await dotToSvg(dot));
  files.put(`${dir}/${name}.mmd`, renderMermaid(d));
  files.put(`${dir}/${name}.dot`, dot);
  files.put(`${dir}/${name}.json`, renderSync(d, 'json'));
  files.put(`${dir}/${name}.txt`, renderSync(d, 'text'));
  count.diagrams++;
  const base = basename(dir);
  return `<figure class="diagram" data-diagram="${esc(name)}" data-expected-nodes="${dotNodeCount(d)}">
<figcaption>${esc(caption)} — ${d.nodes.length} nodes, ${d.edges.length} edges · download: <a href="${base}/${name}.mmd">Mermaid</a> · <a href="${base}/${name}.dot">DOT</a> · <a href="${base}/${name}.json">XState JSON</a> · <a href="${base}/${name}.txt">text</a></figcaption>
${svg}
</figure>`;
}

/** Two profiles' page states by region, side by side in one drawing that fits the page. */
async function compareFigure(files: Files, dir: string, name: string, c: Comparison, count: Counter): Promise<string> {
  const svg = await compareSvg(c);
  files.put(`${dir}/${name}.svg`, svg);
  files.put(`${dir}/${name}.mmd`, compareMermaid(c));
  files.put(`${dir}/${name}.txt`, compareText(c));
  count.diagrams++;
  const base = basename(dir);
  const nodes = dotNodeCount(sideDiagram(c, 'a')) + dotNodeCount(sideDiagram(c, 'b'));
  return `<figure class="diagram compare" data-diagram="${esc(name)}" data-expected-nodes="${nodes}">
<figcaption>Page states by region: ${esc(c.a.profile.name)} (VM type ${esc(c.a.vmType)}, left; red: only there) and ${esc(c.b.profile.name)} (VM type ${esc(c.b.vmType)}, right; green: only there) · full size: <a href="${base}/${name}.svg">SVG</a> · <a href="${base}/${name}.mmd">Mermaid</a> · <a href="${base}/${name}.txt">text</a></figcaption>
${svg}
</figure>`;
}

/** A witness's or counterexample's paragraph and its quoted sources. */
export function explainedHtml(e: Explained): string {
  const sources = e.sources
    .map(
      (s) =>
        `<li><code>${esc(s.what)}</code>: <span class="muted">${esc(s.cite)}</span>${s.quotes.map((q) => `<blockquote>“${esc(q.text)}” <span class="muted">(${esc(q.file)}:${q.line})</span></blockquote>`).join('')}</li>`,
    )
    .join('');
  return `<p>${esc(e.paragraph)}</p>${sources ? `<ul class="sources">${sources}</ul>` : ''}`;
}

function sequenceFigure(svg: string, name: string, participants: number): string {
  return `<figure class="diagram sequence" data-diagram="${esc(name)}" data-expected-nodes="${participants}">${svg}</figure>`;
}

function coverageHtml(profile: Profile, generatedDir: string): string {
  const file = join(generatedDir, profile.name, 'coverage.json');
  if (!existsSync(file)) return `<p class="muted">not generated yet (no <code>${esc(file)}</code>)</p>`;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return `<p class="muted">unreadable coverage file <code>${esc(file)}</code>: ${esc((e as Error).message)}</p>`;
  }
  const rows: string[] = [];
  const walk = (v: unknown, path: string, depth: number) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 2) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, path ? `${path}.${k}` : k, depth + 1);
    } else {
      const text = Array.isArray(v)
        ? `${v.length} item(s)`
        : typeof v === 'object' && v !== null
          ? `${Object.keys(v).length} entries`
          : String(v);
      rows.push(`<tr><td><code>${esc(path)}</code></td><td>${esc(text)}</td></tr>`);
    }
  };
  walk(data, '', 0);
  return `<p>from <code>${esc(file)}</code></p><table><tr><th>measure</th><th>value</th></tr>${rows.slice(0, 200).join('')}</table>`;
}

function invariantsHtml(profile: Profile, o: ReportOptions, files: Files, count: Counter): string {
  const x = exploreCached(profile, o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {});
  const promised = new Set(invariantsFor(profile).map((i) => i.name));
  const rows = INVARIANTS.map((inv) => {
    const v = x.violations.get(inv.name);
    return `<tr><td><code>${esc(inv.name)}</code>${promised.has(inv.name) ? '' : ' <span class="tag">not promised</span>'}</td><td>${esc(inv.kind)}</td><td>${esc(inv.says)}</td><td class="muted">${esc(inv.source)}</td><td class="${v ? 'breaks' : 'holds'}">${v ? `breaks — <a href="#cx-${esc(inv.name)}">counterexample</a>` : 'holds (bounded search)'}</td></tr>`;
  }).join('\n');
  const cx: string[] = [];
  const inv = (name: string) => INVARIANTS.find((i) => i.name === name) ?? { name, says: '', source: '' };
  for (const v of x.violations.values()) {
    const steps = [...pathTo(x, v.before), v.step];
    const results = predictTrace(profile, steps);
    const seq = traceSequence(
      `${v.invariant} breaks under ${profile.name}`,
      steps,
      results.map((r) => r.outcome),
      profile,
      [v.detail],
    );
    const trace = {
      format: 'gmem-trace/1' as const,
      profile: profile.name,
      name: `counterexample-${v.invariant}`,
      description: `${v.invariant} breaks: ${v.detail}`,
      steps,
    };
    files.put(`profiles/${profile.name}/counterexample-${v.invariant}.json`, formatTrace(trace));
    files.put(`profiles/${profile.name}/counterexample-${v.invariant}.mmd`, renderSequenceMermaid(seq));
    count.sequences++;
    // Why it is allowed: the deciding rule, what the profile's base does there, the quoted sources.
    const base = profile.base ? getProfile(profile.base) : undefined;
    const b = base ? forBaseline(steps, profile, base) : undefined;
    const why = explain({
      subject: profile,
      ...(base && b ? { baseline: base, baselineSteps: b.steps, ...(b.changes.length ? { baselineChanges: b.changes } : {}) } : {}),
      steps,
      at: steps.length - 1,
      invariant: { name: inv(v.invariant).name, says: inv(v.invariant).says, source: inv(v.invariant).source },
    });
    cx.push(
      `<h3 id="cx-${esc(v.invariant)}">Counterexample: ${esc(v.invariant)}</h3><p>${esc(v.detail)} · trace: <a href="${profile.name}/counterexample-${v.invariant}.json">${esc(trace.name)}.json</a></p>${explainedHtml(why)}${sequenceFigure(renderSequenceSvg(seq), `counterexample-${v.invariant}`, seq.participants.length)}`,
    );
  }
  return `<table><tr><th>invariant</th><th>kind</th><th>says</th><th>source</th><th>bounded search (${x.maxDepth} ops, ${x.states.length} states)</th></tr>${rows}</table>${cx.join('\n')}`;
}

function declRows(d: ProfileDiff): string {
  return d.declarations
    .map(
      (r) =>
        `<tr><td class="${r.change}">${r.change}</td><td>${esc(r.section)}</td><td><code>${esc(r.name)}</code></td><td>${esc(r.a)}</td><td>${esc(r.b)}</td></tr>`,
    )
    .join('');
}

async function diffHtml(d: ProfileDiff, o: ReportOptions, files: Files, count: Counter): Promise<string> {
  const dir = `profiles/${d.b.name}`;
  const parts: string[] = [];
  parts.push(
    `<p>Against <a href="${esc(d.a.name)}.html">${esc(d.a.name)}</a>: ${d.behaviours.length} behavioural differences, ${d.rules.length} outcomes reached under one profile only, ${d.transitions.length} machine transitions taken under one only, page states ${d.pageStates.added.length} added / ${d.pageStates.removed.length} removed. Plain text: <a href="${esc(d.b.name)}/diff-${esc(d.a.name)}.txt">diff-${esc(d.a.name)}.txt</a>.</p>`,
  );
  files.put(`${dir}/diff-${d.a.name}.txt`, renderDiffText(d));
  parts.push(
    `<h3>Declarations</h3><table><tr><th></th><th>section</th><th>name</th><th>${esc(d.a.name)}</th><th>${esc(d.b.name)}</th></tr>${declRows(d)}</table>`,
  );
  if (d.conversions.length)
    parts.push(
      `<h3>Conversion semantics</h3><table><tr><th>VM type (${esc(d.a.name)} / ${esc(d.b.name)})</th><th>conversion</th><th>host bytes the guest reads</th><th>guest bytes the host reads</th><th>host fault on private</th></tr>${d.conversions
        .map((r) => {
          const cell = (x: string, y: string) => (x === y ? `<td>${esc(x)}</td>` : `<td class="changed">${esc(x)} → ${esc(y)}</td>`);
          return `<tr><td>${esc(r.vmTypeA === r.vmTypeB ? r.vmTypeA : `${r.vmTypeA} / ${r.vmTypeB}`)}</td>${cell(r.a.kind, r.b.kind)}${cell(r.a.content.toPrivate, r.b.content.toPrivate)}${cell(r.a.content.toShared, r.b.content.toShared)}${cell(r.a.hostFault, r.b.hostFault)}</tr>`;
        })
        .join('')}</table>`,
    );
  parts.push(
    await compareFigure(
      files,
      dir,
      `compare-${d.a.name}`,
      compareProfiles(d.a, d.b, o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {}),
      count,
    ),
  );
  const dd = diffDiagram(d, o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {});
  parts.push(
    await figure(
      files,
      `${dir}`,
      `diff-${d.a.name}`,
      dd,
      `Reachable page states, ${d.a.name} → ${d.b.name} (green added, red removed, orange changed)`,
      count,
    ),
  );
  parts.push(
    `<h3>Behavioural differences, with witness traces</h3><p class="muted">Each trace behaves differently under <code>gmem-spec predict --profile ${esc(d.a.name)}</code> and <code>--profile ${esc(d.b.name)}</code>; replies in red differ.</p>`,
  );
  d.behaviours.forEach((b, i) => {
    const w = b.witness;
    const name = `witness-${String(i + 1).padStart(2, '0')}`;
    files.put(`${dir}/diff-${d.a.name}/${name}.json`, formatTrace(b.trace));
    const seq = comparedSequence(
      `${i + 1}. ${w.title}`,
      w.steps,
      { profile: d.a, outcomes: w.a.map((x) => (x.aborted ? undefined : x.outcome)) as Array<Outcome | undefined> },
      { profile: d.b, outcomes: w.b.map((x) => (x.aborted ? undefined : x.outcome)) as Array<Outcome | undefined> },
      [
        `step ${w.at + 1}: ${d.a.name} → ${w.aSays}`,
        `${' '.repeat(8)}${d.b.name} → ${w.bSays}`,
        ...(b.reference ? [`upstream reference (${b.reference.profile}): ${b.reference.says}`] : []),
      ],
    );
    files.put(`${dir}/diff-${d.a.name}/${name}.mmd`, renderSequenceMermaid(seq));
    count.sequences++;
    parts.push(`<details${w.kind === 'scenario' ? ' open' : ''}><summary><span class="tag">${esc(w.kind)}</span>${esc(w.title)} — <a href="${esc(d.b.name)}/diff-${esc(d.a.name)}/${name}.json">${name}.json</a></summary>
<p class="muted">${esc(traceLine(w.steps, d.b))}</p>${explainedHtml(b.explained)}${sequenceFigure(renderSequenceSvg(seq), `${d.a.name}-${name}`, seq.participants.length)}</details>`);
  });
  for (const m of d.missingVmTypes)
    parts.push(
      `<p class="muted">Not listed: ${m.ops.length} difference(s) that only say KVM_CREATE_VM(${esc(m.vmType)}) fails under ${esc(m.missingIn)}, which has no such VM type (${esc(m.ops.join('; '))}).</p>`,
    );
  if (d.rules.length) {
    parts.push(
      `<h3>Operations: outcomes reached under one profile only</h3><table><tr><th></th><th>operation</th><th>deciding rule</th><th>outcome</th><th>VM types</th></tr>${d.rules.map((r) => `<tr><td class="${r.change}">${r.change}</td><td><code>${esc(r.op)}</code></td><td><code>${esc(r.rule)}</code></td><td>${esc(r.outcome)}</td><td>${esc(r.vmTypes.join(', '))}</td></tr>`).join('')}</table>`,
    );
  }
  parts.push(
    `<h3>Invariants</h3><table><tr><th>invariant</th><th>${esc(d.a.name)}</th><th>${esc(d.b.name)}</th></tr>${d.invariants.map((r) => `<tr><td><code>${esc(r.name)}</code></td><td class="${r.a}">${r.a}</td><td class="${r.b}">${r.b}</td></tr>`).join('')}</table>`,
  );
  return parts.join('\n');
}

const diffSummaries = new Map<string, { behaviours: number; added: number; removed: number }>();

async function profilePage(profile: Profile, o: ReportOptions, files: Files, count: Counter): Promise<string> {
  const dir = `profiles/${profile.name}`;
  const opts = o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {};
  const parts: string[] = [];
  parts.push(
    `<nav class="toc"><a href="#diagrams">diagrams</a><a href="#invariants">invariants</a><a href="#failures">failure order</a><a href="#coverage">coverage</a>${profile.base ? '<a href="#diff">diff against base</a>' : ''}</nav>`,
  );
  parts.push(
    `<p>${esc(profile.summary)}</p><p><span class="tag">${esc(profile.kind)}</span>${profile.checkedAgainstKernel ? '<span class="tag">checked against the kernel</span>' : '<span class="tag">modelled</span>'}${profile.base ? ` base: <a href="${esc(profile.base)}.html">${esc(profile.base)}</a>` : ''}</p>`,
  );
  parts.push(`<p class="muted">Sources: ${profile.sources.map(esc).join(' · ')}</p>`);
  parts.push('<h2 id="diagrams">Diagrams</h2>');
  const machines: Array<[MachineName, string]> = [
    ['page', "Page machine (machines/page.ts) built for this profile's page rules"],
    ['system', 'Reachable page states (bounded search)'],
    ['guestMemfd', 'guest_memfd file lifecycle (machines/guestMemfd.ts)'],
    ['vm', 'VM lifecycle and launch (machines/vm.ts)'],
  ];
  for (const [m, caption] of machines) {
    const d = buildDiagram(profile, m, opts);
    parts.push(`<h3>${esc(d.title)}</h3><p class="muted">${d.subtitle.map(esc).join('<br>')}</p>`);
    parts.push(await figure(files, dir, m, d, caption, count));
  }
  parts.push('<h2 id="invariants">Invariants</h2>');
  parts.push(invariantsHtml(profile, o, files, count));
  parts.push('<h2 id="failures">Failure order: each operation\'s checks, in the order the kernel makes them</h2>');
  parts.push(
    failureTables(profile)
      .map(
        (t) =>
          `<h3><code>${esc(t.op)}</code></h3>${t.note ? `<p class="muted">${esc(t.note)}</p>` : ''}<table><tr><th>#</th><th>check</th><th>errno</th><th>says</th><th>source</th></tr>${t.rows.map((r, i) => `<tr><td>${i + 1}</td><td><code>${esc(r.id)}</code></td><td><code>${esc(r.errno)}</code></td><td>${esc(r.says)}</td><td class="muted">${esc(r.cite)}</td></tr>`).join('')}</table>`,
      )
      .join('\n'),
  );
  parts.push('<h2 id="coverage">Coverage of the generated suite</h2>');
  parts.push(coverageHtml(profile, o.generatedDir ?? 'generated-tests'));
  if (profile.base) {
    parts.push(`<h2 id="diff">Diff against ${esc(profile.base)}</h2>`);
    const d = diffProfiles(getProfile(profile.base), profile, opts);
    diffSummaries.set(profile.name, {
      behaviours: d.behaviours.length,
      added: d.pageStates.added.length,
      removed: d.pageStates.removed.length,
    });
    parts.push(await diffHtml(d, o, files, count));
  }
  return page(`${profile.name} — ${profile.title}`, parts.join('\n'), '../index.html');
}

function indexPage(
  profiles: readonly Profile[],
  o: ReportOptions,
  gv: string,
  millis: number,
  diffs: Map<string, { behaviours: number; added: number; removed: number }>,
): string {
  const opts = o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {};
  const rows = profiles
    .map((p) => {
      const x = exploreCached(p, opts);
      const states = new Set<string>();
      for (const s of x.slices.values()) for (const k of s.pageStates.keys()) states.add(k);
      const broken = [...x.violations.keys()];
      const diff = p.base ? diffs.get(p.name) : undefined;
      return `<tr><td><a href="profiles/${esc(p.name)}.html"><code>${esc(p.name)}</code></a></td><td>${esc(p.title)}</td><td>${esc(p.kind)}</td><td>${p.base ? `<a href="profiles/${esc(p.base)}.html">${esc(p.base)}</a>` : '—'}</td><td>${diff ? `<a href="profiles/${esc(p.name)}.html#diff">${diff.behaviours} behaviours, +${diff.added}/−${diff.removed} page states</a>` : '—'}</td><td>${esc(Object.keys(p.vmTypes).join(', '))}</td><td>${esc(p.flags.map((f) => f.name).join(', '))}</td><td>${x.states.length}</td><td>${states.size}</td><td class="${broken.length ? 'breaks' : 'holds'}">${broken.length ? broken.map((b) => `<a href="profiles/${esc(p.name)}.html#cx-${esc(b)}">${esc(b)}</a>`).join(', ') : 'none'}</td><td>${p.checkedAgainstKernel ? 'yes' : 'modelled'}</td></tr>`;
    })
    .join('\n');
  return page(
    'gmem-spec report: guest_memfd profiles',
    `
<p>Every profile of the executable guest_memfd specification: its machines drawn from the XState definitions, the page states its rules actually reach, the order of each operation's failure checks, its invariants, and what it changes against its base profile — each behavioural difference with a witness trace.</p>
<table><tr><th>profile</th><th>title</th><th>kind</th><th>base</th><th>diff against base</th><th>VM types</th><th>flags</th><th>system states</th><th>page states</th><th>invariants broken (bounded search)</th><th>checked</th></tr>
${rows}</table>
<p class="muted">Generated by <code>gmem-spec report</code> in ${Math.round(millis)} ms · Graphviz ${esc(gv)} (WebAssembly, in-process) · bounded search ${o.maxDepth ?? DEFAULT_MAX_DEPTH} operations deep · no scripts, no network: open from disk.</p>
`,
  );
}

export class ReportInterrupted extends Error {
  constructor(
    readonly built: number,
    readonly total: number,
  ) {
    super(`interrupted after ${built} of ${total} profile page(s); nothing written`);
    this.name = 'ReportInterrupted';
  }
}

/** Let a pending signal handler run (the work here only awaits resolved promises), then stop if aborted. */
async function checkpoint(o: ReportOptions, built: number, total: number): Promise<void> {
  if (!o.signal) return;
  await new Promise((resolve) => setImmediate(resolve));
  if (o.signal.aborted) throw new ReportInterrupted(built, total);
}

/** Build the whole site in memory, write it to a temporary directory, then rename it into place. */
export async function writeReport(o: ReportOptions): Promise<ReportSummary> {
  const t0 = performance.now();
  const profiles = (o.profiles ?? PROFILES.map((p) => p.name)).map((p) => (typeof p === 'string' ? getProfile(p) : p));
  const content = new Map<string, string>();
  const files: Files = { put: (p, c) => void content.set(p, c) };
  const count: Counter = { diagrams: 0, sequences: 0 };
  for (const [i, p] of profiles.entries()) {
    await checkpoint(o, i, profiles.length);
    o.onProgress?.(`profile ${p.name} (${i + 1}/${profiles.length})`);
    files.put(`profiles/${p.name}.html`, await profilePage(p, o, files, count));
  }
  await checkpoint(o, profiles.length, profiles.length);
  o.onProgress?.(`writing ${content.size + 1} files`);
  const gv = await graphvizVersion();
  files.put('index.html', indexPage(profiles, o, gv, performance.now() - t0, diffSummaries));
  const out = resolve(o.out);
  const parent = dirname(out);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(out)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  let bytes = 0;
  for (const [p, c] of content) {
    const f = join(tmp, p);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, c);
    bytes += Buffer.byteLength(c);
  }
  const old = join(parent, `.${basename(out)}.old-${process.pid}`);
  if (existsSync(out)) renameSync(out, old);
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
  return {
    out,
    pages: [...content.keys()].filter((k) => k.endsWith('.html')).length,
    diagrams: count.diagrams,
    sequences: count.sequences,
    bytes,
    millis: performance.now() - t0,
  };
}
