/** Diagrams: build one for a profile and machine, render it in any format. */
import type { Profile } from '../../../spec/profile.ts';
import { renderDot } from './render/dot.ts';
import { renderJson } from './render/json.ts';
import { renderMermaid } from './render/mermaid.ts';
import { renderText } from './render/text.ts';
import { type DiagramOptions, type MachineName, lifecycleDiagram, pageDiagram } from './static.ts';
import { dotToSvg } from './svg.ts';
import { systemDiagram } from './system.ts';
import type { Diagram } from './types.ts';

export type Format = 'mermaid' | 'dot' | 'svg' | 'json' | 'text';
export const FORMATS: readonly Format[] = ['mermaid', 'dot', 'svg', 'json', 'text'];

export function buildDiagram(profile: Profile, machine: MachineName, o: DiagramOptions = {}): Diagram {
  switch (machine) {
    case 'page': {
      const d = pageDiagram(profile, o);
      markUnreachableStates(d);
      return d;
    }
    case 'guestMemfd':
      return lifecycleDiagram(profile, 'guestMemfd', o);
    case 'vm':
      return lifecycleDiagram(profile, 'vm', o);
    case 'system':
      return systemDiagram(profile, o);
  }
}

/** A state no taken transition enters is itself unreachable (dashed). */
export function markUnreachableStates(d: Diagram): void {
  for (const n of d.nodes) {
    if (n.kind !== 'state' && n.kind !== 'transient') continue;
    const incoming = d.edges.filter((e) => e.to === n.id && e.from !== n.id && e.kind !== 'error');
    if (incoming.length && incoming.every((e) => e.status === 'unreachable')) n.status = 'unreachable';
  }
  const dead = new Set(d.nodes.filter((n) => n.status === 'unreachable').map((n) => n.id));
  for (const e of d.edges) {
    if (dead.has(e.from) && e.status === 'normal') {
      e.status = 'unreachable';
      e.note = e.note ? `${e.note}; its state is never reached` : 'its state is never reached';
    }
  }
}

/** Layout direction per machine: the page's seven regions read best stacked top to bottom. */
export function directionFor(d: Diagram): 'LR' | 'TB' {
  return d.machine === 'system' || d.machine === 'diff' ? 'TB' : 'LR';
}

export function renderSync(d: Diagram, format: Exclude<Format, 'svg'>): string {
  switch (format) {
    case 'mermaid':
      return renderMermaid(d);
    case 'dot':
      return renderDot(d, { rankdir: directionFor(d) });
    case 'json':
      return renderJson(d);
    case 'text':
      return renderText(d);
  }
}

export async function render(d: Diagram, format: Format): Promise<string> {
  if (format === 'svg') return dotToSvg(renderDot(d, { rankdir: directionFor(d) }));
  return renderSync(d, format);
}

export type { Diagram, DiagramOptions, MachineName };
