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

function name(n: DNode | undefined, id: string): string {
  if (!n) return id.replace(/^page_|^guestMemfd_|^vm_/, '');
  if (n.kind === 'initial') return '(start)';
  return n.label;
}

export function renderText(d: Diagram, width = 100): string {
  const out: string[] = [d.title, '='.repeat(Math.min(width, d.title.length)), ...d.subtitle, ''];
  out.push('legend: --> taken   ..> never taken under this profile   -x> refused (errno / signal)   .x> refusal never seen');
  if (d.edges.some((e) => e.status === 'added' || e.status === 'removed' || e.status === 'changed')) out.push('        + added (second profile only)   - removed (first profile only)   ~ changed');
  out.push('');
  const byId = new Map(d.nodes.map((n) => [n.id, n]));
  const groups = d.groups.length ? d.groups.map((g) => ({ id: g.id as string | undefined, label: g.label, description: g.description })) : [{ id: undefined, label: '', description: undefined }];
  const section = (gid: string | undefined): DEdge[] =>
    d.edges.filter((e) => {
      const g = byId.get(e.from)?.group ?? (d.groups.some((x) => x.id === e.from) ? e.from : undefined);
      return g === gid;
    });
  const rendered = new Set<DEdge>();
  const emit = (title: string, description: string | undefined, edges: DEdge[], states: DNode[]) => {
    if (title) out.push(`[${title}]${description ? `  ${description}` : ''}`);
    const shown = states.filter((n) => n.kind !== 'initial' && n.kind !== 'error');
    if (shown.length) out.push(`  states: ${shown.map((n) => (n.status === 'unreachable' ? `(${n.label})` : n.status === 'normal' ? n.label : `${MARK[n.status]}${n.label}`)).join(', ')}`);
    const rows = edges.map((e) => {
      rendered.add(e);
      const from = byId.has(e.from) ? name(byId.get(e.from), e.from) : `(any ${d.groups.find((g) => g.id === e.from)?.label ?? e.from})`;
      const to = e.kind === 'self' ? '(same)' : name(byId.get(e.to), e.to);
      return { mark: MARK[e.status], from, arrow: arrow(e), to, label: edgeLabel({ ...e, errno: e.kind === 'error' ? undefined : e.errno }) + (e.note && e.status !== 'normal' ? `   (${e.note})` : '') };
    });
    const wf = Math.min(28, Math.max(0, ...rows.map((r) => r.from.length)));
    const wt = Math.min(28, Math.max(0, ...rows.map((r) => r.to.length)));
    for (const r of rows) out.push(`${r.mark} ${r.from.padEnd(wf)} ${r.arrow} ${r.to.padEnd(wt)}  ${r.label}`);
    out.push('');
  };
  for (const g of groups) {
    emit(g.label, g.description, section(g.id), d.nodes.filter((n) => n.group === g.id || (g.id === undefined && !n.group)));
  }
  const rest = d.edges.filter((e) => !rendered.has(e));
  if (rest.length) emit('other', undefined, rest, []);
  if (d.notes.length) {
    out.push('notes:');
    for (const n of d.notes) out.push(`  - ${n}`);
  }
  return `${out.join('\n')}\n`;
}
