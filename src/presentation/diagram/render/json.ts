/**
 * JSON: the XState machine configuration (importable in Stately: guards by name, states and transitions as in
 * machines/*.ts), with the diagram's ABI words, reachability and error edges under `meta`.
 */
import type { Diagram } from '../types.ts';

export function diagramJson(d: Diagram): Record<string, unknown> {
  const cfg = d.xstate ?? { id: d.machine, states: {} };
  const meta = (cfg.meta as Record<string, unknown> | undefined) ?? {};
  return {
    ...cfg,
    meta: {
      ...meta,
      format: 'gmem-diagram/1',
      machine: d.machine,
      title: d.title,
      subtitle: d.subtitle,
      notes: d.notes,
      groups: d.groups,
      nodes: d.nodes,
      edges: d.edges,
    },
  };
}

export function renderJson(d: Diagram): string {
  return `${JSON.stringify(diagramJson(d), null, 2)}\n`;
}
