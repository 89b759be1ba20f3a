/**
 * The diagram data every renderer (Mermaid, DOT, SVG, JSON, text) draws from. Pure data: a diagram is built
 * once from the model (a machine definition, a reachable-state graph, or a diff) and rendered many ways.
 */

/** How a node or an edge is drawn: `unreachable` = the profile can never take it (dashed, grey). */
export type Status = 'normal' | 'unreachable' | 'added' | 'removed' | 'changed';

export type NodeKind = 'state' | 'initial' | 'transient' | 'final' | 'error';

export interface DNode {
  /** Identifier safe for Mermaid and DOT: [A-Za-z0-9_]. */
  id: string;
  label: string;
  kind: NodeKind;
  /** The group (a parallel region, a cluster) the node belongs to. */
  group?: string;
  /** One sentence shown as a note / tooltip. */
  description?: string;
  status: Status;
  /** Free-form facts for JSON consumers (the state path, the projected page value...). */
  data?: Record<string, unknown>;
}

export type EdgeKind = 'transition' | 'self' | 'error' | 'always';

export interface DEdge {
  id: string;
  from: string;
  to: string;
  /** The operation in ABI words, e.g. `fallocate(PUNCH_HOLE)`. */
  op: string;
  /** The guard in words, e.g. `page is shared`. */
  guard?: string;
  /** For error edges: what the caller sees (an errno, a signal, an exit). */
  errno?: string;
  kind: EdgeKind;
  status: Status;
  /** The machine transition or rule this edge stands for (e.g. `page.attribute.shared:CONVERT_BEGIN:0`). */
  source?: string;
  /** A short note (why it is unreachable, what changed). */
  note?: string;
  /** Part of the full relation but not drawn (text and JSON list it; Mermaid, DOT and SVG leave it out). */
  detail?: boolean;
}

export interface DGroup {
  id: string;
  label: string;
  description?: string;
}

export interface Diagram {
  /** `page`, `guestMemfd`, `vm`, `system` or `diff`. */
  machine: string;
  title: string;
  /** Lines under the title: profile, VM type, flags, bound. */
  subtitle: string[];
  groups: DGroup[];
  nodes: DNode[];
  edges: DEdge[];
  /** Lines for the legend / footnotes. */
  notes: string[];
  /** XState-compatible machine configuration (for the JSON format / Stately), when the diagram has one. */
  xstate?: Record<string, unknown>;
}

export function edgeLabel(e: DEdge): string {
  let s = e.op;
  if (e.guard) s += ` [${e.guard}]`;
  if (e.errno) s += ` → ${e.errno}`;
  return s;
}

/** A safe identifier from any string. */
export function safeId(s: string): string {
  const id = s.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(id) ? id : `n_${id}`;
}
