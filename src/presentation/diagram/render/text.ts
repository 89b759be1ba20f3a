/**
 * A plain-text rendering for a fixed-width email: one line per transition, grouped by region, with the arrow
 * showing the kind — `-->` taken, `..>` never taken by this profile, `-x>` refusal — and the label in ABI words.
 */
import { type DEdge, type DNode, type Diagram, edgeLabel } from '../types.ts';

const ARROW: Record<DEdge['status'], string> = { normal: '-->', unreachable: '..>', added: '++>', removed: '-->', changed: '~~>' };
const MARK: Record<DEdge['status'], string> = { normal: ' ', unreachable: ' ', added: '+', removed: '-', changed: '~' };

function arrow(e: DEdge): string {
  if (e.kind === 'error') return e.status === 'unreachable' ? '.x>' : '-x>';
  return ARROW[e.status];
}

function baseName(n: DNode | undefined, id: string): string {
  if (!n) return id.replace(/^page_|^guestMemfd_|^vm_/, '');
  if (n.kind === 'initial') return '(start)';
  return n.label;
}

/** Wrap a list of items into lines of at most `width` characters, each line starting with `indent`. */
function wrapList(items: string[], width: number, indent: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const it of items) {
    if (cur && indent.length + cur.length + 2 + it.length > width) {
      out.push(`${indent}${cur},`);
      cur = it;
    } else cur = cur ? `${cur}, ${it}` : it;
  }
  if (cur) out.push(`${indent}${cur}`);
  return out;
}

export function renderText(d: Diagram, width = 100): string {
  const out: string[] = [d.title, '='.repeat(Math.min(width, d.title.length)), ...d.subtitle, ''];
  out.push('legend: --> taken   ..> never taken under this profile   -x> refused (errno / signal)   .x> refusal never seen');
  if (d.edges.some((e) => e.status === 'added' || e.status === 'removed' || e.status === 'changed'))
    out.push('        + added (second profile only)   - removed (first profile only)   ~ changed');
  out.push('');
  const byId = new Map(d.nodes.map((n) => [n.id, n]));
  // Long state names (the reachable page states) get short aliases S1, S2... listed first.
  const alias = new Map<string, string>();
  if (d.nodes.some((n) => n.kind === 'state' && n.label.length > 24)) {
    let k = 0;
    for (const n of d.nodes) if (n.kind === 'state') alias.set(n.id, `S${++k}`);
    out.push('states:');
    for (const n of d.nodes) {
      const a = alias.get(n.id);
      if (a) out.push(`  ${`${MARK[n.status === 'unreachable' ? 'normal' : n.status] ?? ' '}${a}`.padEnd(5)} ${n.label}`);
    }
    out.push('');
  }
  const name = (n: DNode | undefined, id: string) => alias.get(id) ?? baseName(n, id);
  const groups = d.groups.length
    ? d.groups.map((g) => ({ id: g.id as string | undefined, label: g.label, description: g.description }))
    : [{ id: undefined, label: '', description: undefined }];
  const section = (gid: string | undefined): DEdge[] =>
    d.edges.filter((e) => {
      const g = byId.get(e.from)?.group ?? (d.groups.some((x) => x.id === e.from) ? e.from : undefined);
      return g === gid;
    });
  const rendered = new Set<DEdge>();
  const emit = (title: string, description: string | undefined, edges: DEdge[], states: DNode[]) => {
    if (title) out.push(`[${title}]${description ? `  ${description}` : ''}`);
    const shown = states.filter((n) => n.kind !== 'initial' && n.kind !== 'error' && !alias.has(n.id));
    if (shown.length)
      out.push(
        ...wrapList(
          shown.map((n) => (n.status === 'unreachable' ? `(${n.label})` : n.status === 'normal' ? n.label : `${MARK[n.status]}${n.label}`)),
          width,
          '  states: ',
        ).map((l, i) => (i ? `          ${l.slice(10)}` : l)),
      );
    const rows = edges.map((e) => {
      rendered.add(e);
      const from = byId.has(e.from) ? name(byId.get(e.from), e.from) : `(any ${d.groups.find((g) => g.id === e.from)?.label ?? e.from})`;
      const to = e.kind === 'self' ? '(same)' : name(byId.get(e.to), e.to);
      return {
        mark: MARK[e.status],
        from,
        arrow: arrow(e),
        to,
        label:
          edgeLabel({ ...e, errno: e.kind === 'error' ? undefined : e.errno }) + (e.note && e.status !== 'normal' ? `   (${e.note})` : ''),
      };
    });
    const wf = Math.min(28, Math.max(0, ...rows.map((r) => r.from.length)));
    const wt = Math.min(28, Math.max(0, ...rows.map((r) => r.to.length)));
    for (const r of rows) out.push(`${r.mark} ${r.from.padEnd(wf)} ${r.arrow} ${r.to.padEnd(wt)}  ${r.label}`);
    out.push('');
  };
  for (const g of groups) {
    emit(
      g.label,
      g.description,
      section(g.id),
      d.nodes.filter((n) => n.group === g.id || (g.id === undefined && !n.group)),
    );
  }
  const rest = d.edges.filter((e) => !rendered.has(e));
  if (rest.length) emit('other', undefined, rest, []);
  if (d.notes.length) {
    out.push('notes:');
    for (const n of d.notes) out.push(`  - ${n}`);
  }
  return `${out.join('\n')}\n`;
}
