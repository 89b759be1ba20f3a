/**
 * Mermaid `stateDiagram-v2`, kept to the subset GitHub renders: composite states for regions, `[*]` for
 * initial/final, classDef for node colours. Mermaid cannot style individual transitions, so an edge's kind and
 * status are spelt out in its label: `✗` error, `(never)` not taken by the profile, `+`/`−`/`~` for a diff.
 */
import { type DEdge, type DNode, type Diagram, edgeLabel } from '../types.ts';

const CLASSDEFS = [
  'classDef error fill:#fde2e2,stroke:#c62828,color:#8e0000',
  'classDef unreachable fill:#f3f3f3,stroke:#9e9e9e,color:#9e9e9e,stroke-dasharray:4 3',
  'classDef transient fill:#f7f7ff,stroke:#7986cb',
  'classDef added fill:#e6f4ea,stroke:#2e7d32,color:#1b5e20',
  'classDef removed fill:#fde2e2,stroke:#c62828,color:#b71c1c',
  'classDef changed fill:#fff3e0,stroke:#ef6c00,color:#e65100',
];

/** Text Mermaid's state-diagram lexer accepts in a label (no `;`, `#`, braces, angle brackets or colons in states). */
export function mermaidText(s: string): string {
  return s
    .replace(/[;]/g, ',')
    .replace(/#/g, 'no.')
    .replace(/[{}]/g, (c) => (c === '{' ? '(' : ')'))
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/"/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

function stateLabel(s: string): string {
  // State descriptions may not contain a colon either.
  return mermaidText(s).replace(/:/g, ' -');
}

const MARK: Record<DEdge['status'], string> = { normal: '', unreachable: '(never) ', added: '+ ', removed: '− ', changed: '~ ' };

export function mermaidEdgeLabel(e: DEdge): string {
  return mermaidText(`${MARK[e.status]}${e.kind === 'error' ? '✗ ' : ''}${edgeLabel(e)}`);
}

function nodeClass(n: DNode): string | undefined {
  if (n.status !== 'normal') return n.status;
  if (n.kind === 'error') return 'error';
  if (n.kind === 'transient') return 'transient';
  return undefined;
}

export function renderMermaid(d: Diagram, options: { direction?: 'LR' | 'TB' } = {}): string {
  const lines: string[] = ['---', `title: ${stateLabel(d.title)}`, '---', 'stateDiagram-v2'];
  for (const s of d.subtitle) lines.push(`  %% ${s.replace(/\n/g, ' ')}`);
  if (options.direction) lines.push(`  direction ${options.direction}`);
  for (const c of CLASSDEFS) lines.push(`  ${c}`);
  const byId = new Map(d.nodes.map((n) => [n.id, n]));
  const groupOf = (id: string) => byId.get(id)?.group;
  const groupIds = new Set(d.groups.map((g) => g.id));
  const endpoint = (id: string): string => {
    const n = byId.get(id);
    if (n?.kind === 'initial') return '[*]';
    return id;
  };
  const declare = (n: DNode, indent: string) => {
    if (n.kind === 'initial') return;
    if (n.kind === 'final') {
      lines.push(`${indent}state "${stateLabel(n.label)}" as ${n.id}`);
      return;
    }
    lines.push(`${indent}state "${stateLabel(n.label || ' ')}" as ${n.id}`);
  };
  const edgeLine = (e: DEdge, indent: string) => {
    const label = mermaidEdgeLabel(e);
    lines.push(`${indent}${endpoint(e.from)} --> ${endpoint(e.to)}${label ? ` : ${label}` : ''}`);
  };
  const finals = d.nodes.filter((n) => n.kind === 'final');
  for (const g of d.groups) {
    lines.push(`  state "${stateLabel(g.label)}" as ${g.id} {`);
    for (const n of d.nodes.filter((x) => x.group === g.id)) declare(n, '    ');
    for (const e of d.edges) if (!e.detail && groupOf(e.from) === g.id && groupOf(e.to) === g.id) edgeLine(e, '    ');
    for (const f of finals.filter((x) => x.group === g.id)) lines.push(`    ${f.id} --> [*]`);
    lines.push('  }');
  }
  for (const n of d.nodes.filter((x) => !x.group)) declare(n, '  ');
  for (const e of d.edges) {
    if (e.detail) continue;
    const inside = groupOf(e.from) !== undefined && groupOf(e.from) === groupOf(e.to);
    if (inside) continue;
    if (groupIds.has(e.from) || groupIds.has(e.to) || byId.has(e.from) || byId.has(e.to)) edgeLine(e, '  ');
  }
  for (const f of finals.filter((x) => !x.group)) lines.push(`  ${f.id} --> [*]`);
  for (const n of d.nodes) {
    const c = nodeClass(n);
    if (c && n.kind !== 'initial') lines.push(`  class ${n.id} ${c}`);
  }
  return `${lines.join('\n')}\n`;
}
