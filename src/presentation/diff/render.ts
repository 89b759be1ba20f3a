/**
 * Renderings of a profile diff: a plain-text table for email, a coloured diagram of the reachable page states
 * (added green, removed red, changed orange) in any diagram format, and JSON with every witness trace.
 */
import { type PageEdge, type Slice, parseProjectionKey, projectionLabel } from '../diagram/reachable.ts';
import { ATTRIBUTE_GROUPS, PAGE_LEVEL_RULES, projectionNodeId, reachableGraph } from '../diagram/system.ts';
import { type DEdge, type DNode, type Diagram, type Status, safeId } from '../diagram/types.ts';
import { stepWords } from '../diagram/words.ts';
import type { Step } from '../../../spec/ops.ts';
import type { Profile } from '../../../spec/profile.ts';
import { explainedLines } from '../explain/paragraph.ts';
import type { ProfileDiff } from './profileDiff.ts';
import { exploreForDiff } from './universe.ts';

// ---------------------------------------------------------------------------------------------------------
// Text

function wrapCell(s: string, width: number): string[] {
  if (s.length <= width) return [s];
  const out: string[] = [];
  let cur = '';
  for (const w of s.split(' ')) {
    if (cur && cur.length + 1 + w.length > width) {
      out.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
    while (cur.length > width) {
      out.push(cur.slice(0, width));
      cur = cur.slice(width);
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** A fixed-width table; cells wrap within their column's maximum width. */
export function table(headers: string[], rows: string[][], maxWidths: number[]): string[] {
  const widths = headers.map((h, i) => Math.min(maxWidths[i] ?? 40, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (cells: string[]) => {
    const wrapped = cells.map((c, i) => wrapCell(c, widths[i] as number));
    const height = Math.max(...wrapped.map((w) => w.length));
    const out: string[] = [];
    for (let k = 0; k < height; k++)
      out.push(
        wrapped
          .map((w, i) => (w[k] ?? '').padEnd(widths[i] as number))
          .join('  ')
          .trimEnd(),
      );
    return out;
  };
  return [...line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.flatMap(line)];
}

const MARK = { added: '+', removed: '-', changed: '~' } as const;

export function traceLine(steps: readonly Step[], profile: Profile): string {
  const t = (steps.find((s) => s.op === 'create_vm') as { type?: string } | undefined)?.type;
  return steps.map((s) => stepWords(s, profile, t as never)).join(' → ');
}

export function renderDiffText(d: ProfileDiff): string {
  const A = d.a.name;
  const B = d.b.name;
  const out: string[] = [];
  out.push(`gmem-spec diff ${A} → ${B}`);
  out.push(`${A}: ${d.a.title}`);
  out.push(`${B}: ${d.b.title}`);
  out.push(
    `bound: ${d.bound.maxDepth} operations deep; ${d.bound.statesA} / ${d.bound.statesB} system states; ${d.bound.pairs} state pairs searched for witnesses${d.bound.truncated ? ' (truncated)' : ''}`,
  );
  out.push('legend: + only in the second profile   - only in the first   ~ changed');
  out.push('');
  out.push(`DECLARATIONS (${d.declarations.length})`);
  out.push(
    ...table(
      ['', 'section', 'name', A, B],
      d.declarations.map((r) => [MARK[r.change], r.section, r.name, r.a, r.b]),
      [1, 16, 26, 48, 48],
    ),
  );
  out.push('');
  const pairs = Object.entries(d.vmTypeMap);
  if (pairs.length)
    out.push(
      `EQUIVALENT VM TYPES: ${pairs.map(([x, y]) => `${A} ${x} ↔ ${B} ${y}`).join(', ')} (each witness on such a type runs on both sides, each with its own KVM_CREATE_VM)`,
      '',
    );
  if (d.conversions.length) {
    out.push('CONVERSION SEMANTICS per VM type with private memory (as each profile declares it)');
    out.push(
      ...table(
        ['', `VM type (${A} / ${B})`, 'conversion', 'host bytes the guest reads', 'guest bytes the host reads', 'host fault on private'],
        d.conversions.map((r) => {
          const both = (x: string, y: string) => (x === y ? x : `${x} → ${y}`);
          return [
            r.differs ? '~' : '',
            r.vmTypeA === r.vmTypeB ? r.vmTypeA : `${r.vmTypeA} / ${r.vmTypeB}`,
            both(r.a.kind, r.b.kind),
            both(r.a.content.toPrivate, r.b.content.toPrivate),
            both(r.a.content.toShared, r.b.content.toShared),
            both(r.a.hostFault, r.b.hostFault),
          ];
        }),
        [1, 24, 26, 22, 22, 22],
      ),
    );
    for (const r of d.conversions)
      for (const [who, t, c] of [
        [A, r.vmTypeA, r.a],
        [B, r.vmTypeB, r.b],
      ] as const)
        if (c.contentSource) out.push(`  ${who} ${t} content: ${c.contentSource}`);
    out.push('');
  }
  out.push(
    `BEHAVIOURAL DIFFERENCES (${d.behaviours.length}), each with a witness trace: gmem-spec predict --profile ${A} / --profile ${B} shows it`,
  );
  d.behaviours.forEach((bh, i) => {
    const w = bh.witness;
    out.push(`${String(i + 1).padStart(3)}. [${w.kind}] ${w.title}`);
    out.push(`     step ${w.at + 1} ${w.op}:  ${A} → ${w.aSays}`);
    out.push(`     ${' '.repeat(`step ${w.at + 1} ${w.op}:`.length)}  ${B} → ${w.bSays}`);
    if (bh.reference) out.push(`     upstream reference (${bh.reference.profile}): ${bh.reference.says}`);
    if (w.vmTypes) out.push(`     VM types: ${A} runs it as ${w.vmTypes.a}, ${B} as ${w.vmTypes.b}`);
    out.push(`     trace: ${traceLine(w.steps, d.b)}`);
    out.push(...explainedLines(bh.explained, '     '));
  });
  for (const m of d.missingVmTypes)
    out.push(
      `  (not listed: ${m.ops.length} difference(s) that only say KVM_CREATE_VM(${m.vmType}) fails under ${m.missingIn}, which has no such VM type: ${m.ops.join('; ')})`,
    );
  out.push('');
  out.push(`OPERATIONS: outcomes reached under one profile only (${d.rules.length})`);
  out.push(
    ...table(
      ['', 'operation', 'deciding rule', 'outcome', 'VM types'],
      d.rules.map((r) => [MARK[r.change], r.op, r.rule, r.outcome, r.vmTypes.join(', ')]),
      [1, 24, 44, 32, 30],
    ),
  );
  out.push('');
  out.push(`MACHINE TRANSITIONS taken under one profile only (${d.transitions.length})`);
  out.push(
    ...table(
      ['', 'machine', 'transition (state : event : index)'],
      d.transitions.map((t) => [MARK[t.change], t.machine, t.edge]),
      [1, 10, 80],
    ),
  );
  out.push('');
  out.push(
    `REACHABLE PAGE STATES: ${d.pageStates.common.length} in both, ${d.pageStates.added.length} added, ${d.pageStates.removed.length} removed`,
  );
  for (const k of d.pageStates.added) out.push(`  + ${projectionLabel(parseProjectionKey(k))}`);
  for (const k of d.pageStates.removed) out.push(`  - ${projectionLabel(parseProjectionKey(k))}`);
  out.push('');
  out.push('INVARIANTS (checked on every transition of the bounded search)');
  out.push(
    ...table(
      ['invariant', A, B, 'promised', 'says'],
      d.invariants.map((r) => [r.name, r.a, r.b, `${r.promisedA ? 'A' : '-'}${r.promisedB ? 'B' : '-'}`, r.says]),
      [28, Math.max(6, A.length), Math.max(6, B.length), 8, 60],
    ),
  );
  for (const r of d.invariants)
    if (r.witness && r.a !== r.b)
      out.push(
        `  ${r.name} breaks under ${r.witness.profile}: ${r.witness.detail}\n    trace: ${traceLine(r.witness.trace.steps, r.witness.profile === B ? d.b : d.a)}`,
      );
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// JSON

export function diffJson(d: ProfileDiff): Record<string, unknown> {
  return {
    format: 'gmem-diff/1',
    a: d.a.name,
    b: d.b.name,
    bound: d.bound,
    declarations: d.declarations,
    behaviours: d.behaviours.map((b) => ({
      key: b.witness.key,
      kind: b.witness.kind,
      title: b.witness.title,
      step: b.witness.at + 1,
      op: b.witness.op,
      [d.a.name]: b.witness.aSays,
      [d.b.name]: b.witness.bSays,
      ...(b.reference ? { reference: b.reference } : {}),
      ...(b.witness.vmTypes ? { vmTypes: b.witness.vmTypes } : {}),
      explanation: b.explained.paragraph,
      sources: b.explained.sources,
      trace: b.trace,
      ...(b.traceB ? { traceB: b.traceB } : {}),
    })),
    vmTypeMap: d.vmTypeMap,
    missingVmTypes: d.missingVmTypes,
    conversions: d.conversions,
    rules: d.rules,
    transitions: d.transitions,
    pageStates: d.pageStates,
    invariants: d.invariants,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Diagram

interface Tuple {
  e: PageEdge;
  inA: boolean;
  inB: boolean;
}

function worth(e: PageEdge): boolean {
  return e.failed ? PAGE_LEVEL_RULES.has(e.rule) || e.from !== e.to : e.from !== e.to;
}

/** First-reach (shortest-path) parent edge of every state, over the given edges, from the initial states. */
function firstReach(initial: readonly string[], edges: readonly DEdge[]): Map<string, DEdge> {
  const parent = new Map<string, DEdge>();
  const reached = new Set(initial);
  let frontier = [...initial];
  while (frontier.length) {
    const next: string[] = [];
    for (const f of frontier) {
      for (const e of edges) {
        if (e.from !== f || reached.has(e.to) || e.to.startsWith('err_')) continue;
        parent.set(e.to, e);
        reached.add(e.to);
        next.push(e.to);
      }
    }
    frontier = next;
  }
  return parent;
}

export function diffDiagram(d: ProfileDiff, o: { maxDepth?: number } = {}): Diagram {
  const opts = o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {};
  const okSlices = (p: Profile): Slice[] => [...exploreForDiff(p, d.a, d.b, opts).slices.values()].filter((s) => s.create.outcome === 'ok');
  const ga = reachableGraph(okSlices(d.a));
  const gb = reachableGraph(okSlices(d.b));
  const inA = new Set(ga.states);
  const inB = new Set(gb.states);
  const nodes: DNode[] = [{ id: 'start', label: '', kind: 'initial', status: 'normal' }];
  const status = (k: string): Status => (inA.has(k) && inB.has(k) ? 'normal' : inB.has(k) ? 'added' : 'removed');
  for (const k of [...new Set([...ga.states, ...gb.states])]) {
    const page = parseProjectionKey(k);
    nodes.push({
      id: projectionNodeId(k),
      label: projectionLabel(page),
      kind: 'state',
      status: status(k),
      group: `attr_${page.attribute}`,
      data: { page },
    });
  }
  const edges: DEdge[] = [];
  for (const k of [...new Set([...ga.initial, ...gb.initial])]) {
    const s: Status = ga.initial.includes(k) && gb.initial.includes(k) ? 'normal' : gb.initial.includes(k) ? 'added' : 'removed';
    edges.push({ id: `create:${k}`, from: 'start', to: projectionNodeId(k), op: 'KVM_CREATE_GUEST_MEMFD', kind: 'always', status: s });
  }
  const tuples = new Map<string, Tuple>();
  const keysA = new Map<string, string[]>();
  const keysB = new Map<string, string[]>();
  const add = (e: PageEdge, side: 'a' | 'b') => {
    const k = `${e.from}|${e.op}|${e.outcome}|${e.to}`;
    const t = tuples.get(k) ?? { e, inA: false, inB: false };
    if (side === 'a') t.inA = true;
    else t.inB = true;
    tuples.set(k, t);
    const fk = `${e.from}|${e.op}`;
    const m = side === 'a' ? keysA : keysB;
    m.set(fk, [...(m.get(fk) ?? []), e.to === e.from ? e.outcome : `${e.outcome} → ${projectionLabel(parseProjectionKey(e.to))}`]);
  };
  for (const e of ga.edges) add(e, 'a');
  for (const e of gb.edges) add(e, 'b');
  // Every tuple as an edge (merged by ends, outcome and status); all `detail` until chosen for drawing.
  const merged = new Map<string, { e: PageEdge; ops: string[]; status: Status; sides: string; note?: string }>();
  for (const t of tuples.values()) {
    if (!worth(t.e)) continue;
    const fk = `${t.e.from}|${t.e.op}`;
    let s: Status;
    let note: string | undefined;
    if (t.inA && t.inB) s = 'normal';
    else if (t.inB) {
      s = keysA.has(fk) ? 'changed' : 'added';
      if (s === 'changed') note = `${d.a.name}: ${[...new Set(keysA.get(fk))].join('; ')}`;
    } else {
      if (keysB.has(fk)) continue;
      s = 'removed';
    }
    const to = t.e.failed && t.e.from === t.e.to ? `err:${t.e.outcome}` : t.e.to;
    const mk = `${t.e.from}|${to}|${t.e.failed ? t.e.outcome : ''}|${s}`;
    const m = merged.get(mk);
    if (m) {
      if (!m.ops.includes(t.e.op)) m.ops.push(t.e.op);
      if (note && !m.note?.includes(note)) m.note = m.note ? `${m.note}; ${note}` : note;
    } else
      merged.set(mk, { e: t.e, ops: [t.e.op], status: s, sides: t.inA && t.inB ? 'ab' : t.inB ? 'b' : 'a', ...(note ? { note } : {}) });
  }
  const grouped = new Map<string, DEdge>();
  const all: DEdge[] = [];
  for (const [key, m] of merged) {
    const op = m.ops.sort().join(' / ');
    const base = {
      op,
      ...(m.e.failed ? { errno: m.e.outcome } : {}),
      status: m.status,
      source: m.e.rule,
      ...(m.note ? { note: `was — ${m.note}` } : {}),
    };
    if (m.e.failed && m.e.from === m.e.to) {
      const to = `err_${safeId(m.e.outcome)}`;
      if (!nodes.some((n) => n.id === to)) nodes.push({ id: to, label: m.e.outcome, kind: 'error', status: 'normal' });
      all.push({ id: key, from: projectionNodeId(m.e.from), to, kind: 'error', detail: true, ...base });
      if (m.status === 'normal') continue;
      const attr = parseProjectionKey(m.e.from).attribute;
      const gk = `attr_${attr}|${to}|${m.status}`;
      const prev = grouped.get(gk);
      if (prev) {
        for (const x of m.ops) if (!prev.op.split(' / ').includes(x)) prev.op = [...prev.op.split(' / '), x].sort().join(' / ');
      } else grouped.set(gk, { id: `group:${gk}`, from: `attr_${attr}`, to, kind: 'error', ...base, op });
      continue;
    }
    all.push({
      id: key,
      from: projectionNodeId(m.e.from),
      to: projectionNodeId(m.e.to),
      kind: m.e.failed ? 'error' : 'transition',
      detail: true,
      ...base,
      ...({ sides: m.sides } as object),
    });
  }
  // Drawn: how each added state is first reached under the second profile, each removed one under the first,
  // and every changed transition; the rest stays in the text and JSON forms.
  const sideOf = (e: DEdge) => (e as DEdge & { sides?: string }).sides ?? '';
  const parentB = firstReach(
    gb.initial.map(projectionNodeId),
    all.filter((e) => sideOf(e).includes('b')),
  );
  const parentA = firstReach(
    ga.initial.map(projectionNodeId),
    all.filter((e) => sideOf(e).includes('a')),
  );
  for (const n of nodes) {
    if (n.status === 'added') {
      const e = parentB.get(n.id);
      if (e) e.detail = false;
    }
    if (n.status === 'removed') {
      const e = parentA.get(n.id);
      if (e) e.detail = false;
    }
  }
  for (const e of all) {
    if (e.status === 'changed') e.detail = false;
    delete (e as DEdge & { sides?: string }).sides;
  }
  edges.push(...all, ...grouped.values());
  // States no drawn edge touches, and unchanged ones, are left out.
  const touched = new Set(edges.filter((e) => !e.detail).flatMap((e) => [e.from, e.to]));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i] as DNode;
    if (n.kind !== 'initial' && !touched.has(n.id) && !(n.group && touched.has(n.group))) nodes.splice(i, 1);
  }
  const kept = new Set(nodes.map((n) => n.id));
  for (let i = edges.length - 1; i >= 0; i--) {
    const e = edges[i] as DEdge;
    if ((!kept.has(e.from) && !e.from.startsWith('attr_')) || !kept.has(e.to)) edges.splice(i, 1);
  }
  for (const n of nodes) {
    if (n.kind !== 'error') continue;
    const into = edges.filter((e) => e.to === n.id && !e.detail);
    if (into.length && into.every((e) => e.status === 'added')) n.status = 'added';
    else if (into.length && into.every((e) => e.status === 'removed')) n.status = 'removed';
  }
  return {
    machine: 'diff',
    title: `diff ${d.a.name} → ${d.b.name}: reachable page states`,
    subtitle: [
      `${d.a.name}: ${d.a.title}`,
      `${d.b.name}: ${d.b.title}`,
      `every VM type and flag combination of each profile; bounded search ${d.bound.maxDepth} operations deep`,
    ],
    groups: ATTRIBUTE_GROUPS.filter((g) => nodes.some((n) => n.group === g.id)),
    nodes,
    edges,
    notes: [
      `green: only under ${d.b.name}; red: only under ${d.a.name}; orange: the same operation from the same state now ends differently (tooltip: what ${d.a.name} did)`,
      'drawn: the operation that first reaches each new state, and every changed transition; unchanged transitions and the full relation are in the text and JSON forms',
      `${d.behaviours.length} behavioural differences with witness traces: gmem-spec diff ${d.a.name} ${d.b.name} --format text`,
    ],
  };
}
