/**
 * Graphviz DOT: regions as clusters, error edges red with a tee head, edges the profile never takes dashed grey,
 * diff colours green (added) / red (removed) / orange (changed). Every diagram node becomes exactly one `node`
 * in Graphviz's output, which the report's browser test counts.
 */
import { type DEdge, type DNode, type Diagram, edgeLabel } from '../types.ts';

export function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A multi-line label whose lines are left-justified (`\l` line ends). */
export function dotLeft(lines: readonly string[]): string {
  return `"${lines.map((l) => `${l.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}\\l`).join('')}"`;
}

const STATUS_COLOUR: Record<DEdge['status'], string> = {
  normal: '#37474f',
  unreachable: '#b0b0b0',
  added: '#2e7d32',
  removed: '#c62828',
  changed: '#ef6c00',
};

const NODE_FILL: Record<DNode['status'], string> = {
  normal: '#ffffff',
  unreachable: '#f3f3f3',
  added: '#e6f4ea',
  removed: '#fde2e2',
  changed: '#fff3e0',
};

/** Wrap a label at about `width` characters on spaces. */
export function wrap(s: string, width = 34): string {
  const words = s.split(' ');
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.join('\n');
}

function nodeAttrs(n: DNode): string {
  const a: string[] = [];
  if (n.kind === 'initial') return 'shape=point, width=0.12, label=""';
  a.push(`label=${dotString(wrap(n.label || ' ', 28))}`);
  if (n.description) a.push(`tooltip=${dotString(n.description)}`);
  if (n.kind === 'error') {
    a.push(
      'shape=box',
      'style="filled"',
      `fillcolor="${n.status === 'normal' ? '#fde2e2' : NODE_FILL[n.status]}"`,
      `color="${n.status === 'normal' ? '#c62828' : STATUS_COLOUR[n.status]}"`,
      'fontcolor="#8e0000"',
    );
  } else {
    const style = n.status === 'unreachable' ? '"rounded,filled,dashed"' : '"rounded,filled"';
    a.push('shape=box', `style=${style}`, `fillcolor="${NODE_FILL[n.status]}"`);
    a.push(`color="${n.status === 'normal' ? (n.kind === 'transient' ? '#7986cb' : '#455a64') : STATUS_COLOUR[n.status]}"`);
    if (n.status === 'unreachable') a.push('fontcolor="#9e9e9e"');
    if (n.kind === 'final') a.push('peripheries=2');
  }
  return a.join(', ');
}

function edgeAttrs(e: DEdge): string[] {
  const a: string[] = [];
  const label = edgeLabel(e);
  if (label && e.kind !== 'always') a.push(`label=${dotString(wrap(label))}`);
  else if (label) a.push(`label=${dotString(wrap(label))}`);
  const tip = e.note ? `${label} — ${e.note}` : label;
  if (tip) a.push(`tooltip=${dotString(tip)}`);
  let colour = STATUS_COLOUR[e.status];
  if (e.kind === 'error' && e.status === 'normal') colour = '#c62828';
  if (e.kind === 'error' && e.status === 'unreachable') colour = '#e0a0a0';
  a.push(`color="${colour}"`, `fontcolor="${colour}"`);
  if (e.status === 'unreachable') a.push('style=dashed');
  else if (e.kind === 'error') a.push('style=bold', 'arrowhead=tee');
  else if (e.status === 'added' || e.status === 'removed' || e.status === 'changed') a.push('penwidth=2');
  if (e.kind === 'always') a.push('arrowhead=vee');
  return a;
}

export function renderDot(d: Diagram, options: { rankdir?: 'LR' | 'TB' } = {}): string {
  const out: string[] = [];
  const title = [d.title, ...d.subtitle];
  out.push(`digraph ${dotString(d.machine)} {`);
  out.push(
    `  graph [rankdir=${options.rankdir ?? 'LR'}, compound=true, fontname="Helvetica", fontsize=11, labelloc=t, labeljust=l, label=${dotLeft(title)}, nodesep=0.3, ranksep=0.45, mclimit=0.3, nslimit=2, nslimit1=2, searchsize=20];`,
  );
  out.push('  node [fontname="Helvetica", fontsize=10, margin="0.08,0.04"];');
  out.push('  edge [fontname="Helvetica", fontsize=8, arrowsize=0.7];');
  const groupFirst = new Map<string, string>();
  // With rankdir=LR Graphviz stacks clusters bottom-up: emit them reversed so the first region is on top.
  const groups = options.rankdir === 'TB' ? d.groups : [...d.groups].reverse();
  for (const g of groups) {
    out.push(`  subgraph ${dotString(`cluster_${g.id}`)} {`);
    out.push(
      `    label=${dotString(g.label)}; style="rounded"; color="#90a4ae"; fontcolor="#37474f";${g.description ? ` tooltip=${dotString(g.description)};` : ''}`,
    );
    for (const n of d.nodes.filter((x) => x.group === g.id)) {
      out.push(`    ${n.id} [${nodeAttrs(n)}];`);
      if (!groupFirst.has(g.id) && n.kind !== 'initial') groupFirst.set(g.id, n.id);
    }
    out.push('  }');
  }
  for (const n of d.nodes.filter((x) => !x.group)) out.push(`  ${n.id} [${nodeAttrs(n)}];`);
  for (const e of d.edges) {
    if (e.detail) continue;
    const a = edgeAttrs(e);
    let from = e.from;
    let to = e.to;
    const gFrom = groupFirst.get(e.from);
    if (gFrom) {
      from = gFrom;
      a.push(`ltail=${dotString(`cluster_${e.from}`)}`);
    }
    const gTo = groupFirst.get(e.to);
    if (gTo) {
      to = gTo;
      a.push(`lhead=${dotString(`cluster_${e.to}`)}`);
    }
    out.push(`  ${from} -> ${to} [${a.join(', ')}];`);
  }
  if (d.notes.length) {
    out.push(
      `  legend [shape=note, fontsize=9, color="#b0bec5", fontcolor="#546e7a", label=${dotLeft(d.notes.flatMap((x) => wrap(x, 70).split('\n')))}];`,
    );
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

/** Nodes Graphviz will draw for this diagram (the diagram's nodes plus the legend). */
export function dotNodeCount(d: Diagram): number {
  return d.nodes.length + (d.notes.length ? 1 : 0);
}
