/**
 * The reachable page-state graph of a profile (`--machine system`): every combination of attribute / backing /
 * host mapping / pins / trusted entity / stage-2 / direct map that page 0 of the guest_memfd actually reaches in
 * the bounded search, and the operations that move between them. Refusals that depend on the page's state
 * (a host fault on a private page, EAGAIN on a pinned page, populate of a shared page...) are drawn as error
 * edges; argument-validation refusals are left to the failure-order tables.
 */
import type { VmTypeName } from '../../../spec/constants.ts';
import type { Profile } from '../../../spec/profile.ts';
import {
  type Exploration,
  type PageEdge,
  type Slice,
  exploreCached,
  parseProjectionKey,
  projectionLabel,
  selectSlices,
} from './reachable.ts';
import { type DiagramOptions, flagsText, primaryVmType } from './static.ts';
import { type DEdge, type DGroup, type DNode, type Diagram, safeId } from './types.ts';

/** Rules whose refusal depends on the page's state: drawn on the reachable graph. */
export const PAGE_LEVEL_RULES: ReadonlySet<string> = new Set([
  'access.private',
  'pin.private',
  'set_memory_attributes2.elevated-refcount',
  // hugetlb: a huge folio with a referenced page cannot be split, merged or freed.
  'set_memory_attributes2.folio-busy',
  'fallocate.folio-busy',
  'populate.not-private',
  'populate.already-prepared',
  'guest_access.attribute-mismatch',
]);

export function projectionNodeId(key: string): string {
  return `p_${safeId(key.replace(/ /g, '_'))}`;
}

export interface ReachableGraph {
  /** Projection keys, in first-reached order. */
  states: string[];
  initial: string[];
  /** (from, op, outcome, to) edges, merged. */
  edges: PageEdge[];
}

/** The union of the slices' page graphs. */
export function reachableGraph(slices: readonly Slice[]): ReachableGraph {
  const order = new Map<string, number>();
  for (const s of slices) for (const [k, id] of s.pageStates) order.set(k, Math.min(order.get(k) ?? Number.MAX_SAFE_INTEGER, id));
  const states = [...order.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
  const initial = [...new Set(slices.map((s) => s.initialPage).filter((k): k is string => k !== undefined))].sort();
  const edges = new Map<string, PageEdge>();
  for (const s of slices) for (const [k, e] of s.pageEdges) if (!edges.has(k)) edges.set(k, e);
  return { states, initial, edges: [...edges.values()] };
}

export const ATTRIBUTE_GROUPS: DGroup[] = ['shared', 'toPrivate', 'private', 'toShared'].map((a) => ({
  id: `attr_${a}`,
  label: `attribute ${a}`,
}));

/**
 * The projected graph as diagram edges: parallel edges merged (`host read / host write`), each state's first-reach
 * edge drawn (a shortest-path tree from creation), the rest kept as `detail`; page-level refusals from the same
 * attribute to the same outcome become one edge from the attribute's group.
 */
export function pageGraphEdges(g: ReachableGraph, nodes: DNode[], status: DEdge['status']): DEdge[] {
  const merged = new Map<string, { e: PageEdge; ops: string[] }>();
  for (const e of drawnEdges(g)) {
    const to = e.failed && e.from === e.to ? `err:${e.outcome}` : e.to;
    const key = `${e.from}|${to}|${e.failed ? e.outcome : ''}`;
    const m = merged.get(key);
    if (m) {
      if (!m.ops.includes(e.op)) m.ops.push(e.op);
    } else merged.set(key, { e, ops: [e.op] });
  }
  const edges: DEdge[] = [];
  const grouped = new Map<string, DEdge>();
  for (const [key, { e, ops }] of merged) {
    const op = ops.sort().join(' / ');
    if (e.failed && e.from === e.to) {
      const to = `err_${safeId(e.outcome)}`;
      if (!nodes.some((n) => n.id === to)) nodes.push({ id: to, label: e.outcome, kind: 'error', status: 'normal' });
      edges.push({
        id: key,
        from: projectionNodeId(e.from),
        to,
        op,
        errno: e.outcome,
        kind: 'error',
        status,
        source: e.rule,
        detail: true,
      });
      const attr = parseProjectionKey(e.from).attribute;
      const gk = `attr_${attr}|${to}`;
      const prev = grouped.get(gk);
      if (prev) {
        for (const o of ops) if (!prev.op.split(' / ').includes(o)) prev.op = [...prev.op.split(' / '), o].sort().join(' / ');
      } else grouped.set(gk, { id: `group:${gk}`, from: `attr_${attr}`, to, op, errno: e.outcome, kind: 'error', status, source: e.rule });
      continue;
    }
    edges.push({
      id: key,
      from: projectionNodeId(e.from),
      to: projectionNodeId(e.to),
      op,
      ...(e.failed ? { errno: e.outcome } : {}),
      kind: e.failed ? 'error' : 'transition',
      status,
      source: e.rule,
      detail: true,
    });
  }
  // Shortest-path tree from the initial states: the edge that first reaches each state is drawn.
  const reached = new Set(g.initial.map(projectionNodeId));
  let frontier = [...reached];
  while (frontier.length) {
    const next: string[] = [];
    for (const f of frontier) {
      for (const e of edges) {
        if (e.from !== f || reached.has(e.to) || e.to.startsWith('err_')) continue;
        e.detail = false;
        reached.add(e.to);
        next.push(e.to);
      }
    }
    frontier = next;
  }
  return [...edges, ...grouped.values()];
}

/** Put state nodes in their attribute's group. */
export function groupByAttribute(nodes: DNode[], _edges: DEdge[]): void {
  for (const n of nodes) {
    const page = n.data?.page as { attribute?: string } | undefined;
    if (n.kind === 'state' && page?.attribute) n.group = `attr_${page.attribute}`;
  }
}

/** Edges worth drawing: state-changing ones, and page-level refusals. */
export function drawnEdges(g: ReachableGraph): PageEdge[] {
  return g.edges.filter((e) => (e.failed ? PAGE_LEVEL_RULES.has(e.rule) || e.from !== e.to : e.from !== e.to));
}

export function systemDiagram(profile: Profile, o: DiagramOptions = {}): Diagram {
  const x: Exploration = exploreCached(profile, o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {});
  const vmType: VmTypeName = o.vmType ?? primaryVmType(profile);
  const slices = selectSlices(x, vmType, o.flags).filter((s) => s.create.outcome === 'ok');
  const g = reachableGraph(slices);
  const nodes: DNode[] = [{ id: 'start', label: '', kind: 'initial', status: 'normal' }];
  for (const k of g.states) {
    nodes.push({
      id: projectionNodeId(k),
      label: projectionLabel(parseProjectionKey(k)),
      kind: 'state',
      status: 'normal',
      data: { page: parseProjectionKey(k) },
    });
  }
  const edges: DEdge[] = [];
  const created = slices.map((s) => ({ to: s.initialPage, flags: flagsText(profile, s.flags) }));
  for (const init of g.initial) {
    const flags = created.filter((c) => c.to === init).map((c) => c.flags);
    edges.push({
      id: `create:${init}`,
      from: 'start',
      to: projectionNodeId(init),
      op: `KVM_CREATE_GUEST_MEMFD(${flags.join(' / ')})`,
      kind: 'always',
      status: 'normal',
    });
  }
  edges.push(...pageGraphEdges(g, nodes, 'normal'));
  groupByAttribute(nodes, edges);
  const order = new Map(nodes.map((n, i) => [n.id, i]));
  const rank = (id: string) => order.get(id) ?? nodes.length;
  edges.sort((a, b) => rank(a.from) - rank(b.from) || rank(a.to) - rank(b.to) || (a.op < b.op ? -1 : a.op > b.op ? 1 : 0));
  // Refusals of flag sets the profile does not know at all are not its business.
  const known = profile.flags.reduce((m, f) => m | (1 << f.bit), 0);
  const createRefused = selectSlices(x, vmType, o.flags).filter((s) => s.create.outcome !== 'ok' && (s.flags & ~known) === 0);
  return {
    machine: 'system',
    title: `reachable page states — ${profile.name}`,
    subtitle: [
      `profile ${profile.name}: ${profile.title}`,
      `VM type ${vmType}; guest_memfd flags ${o.flags === undefined ? `each accepted combination (${slices.map((s) => flagsText(profile, s.flags)).join(', ') || 'none'})` : flagsText(profile, o.flags)}`,
      `bounded search: 1 VM, 1 guest_memfd of one page (a folio for huge pages), 1 mapping, 1 pin; ${x.maxDepth} operations deep; ${x.states.length} system states${x.truncated ? ' (truncated)' : ''}; page 0 projected to ${g.states.length} states`,
    ],
    groups: ATTRIBUTE_GROUPS.filter((gr) => nodes.some((n) => n.group === gr.id)),
    nodes,
    edges,
    notes: [
      'drawn: how each state is first reached (shortest path), and refusals grouped by attribute; the full relation is in the text and JSON forms',
      'each box is a combination of attribute · backing · host mapping · pins · trusted entity (TE) · stage-2 · direct map that page 0 reaches',
      'red edges: refusals that depend on the page state (host fault on a private page, EAGAIN on a pinned page, populate of a shared page...)',
      ...(createRefused.length
        ? [
            `KVM_CREATE_GUEST_MEMFD refused on ${vmType}: ${createRefused.map((s) => `${flagsText(profile, s.flags)} → ${s.create.outcome}`).join('; ')}`,
          ]
        : []),
    ],
    xstate: reachableXstate(profile, vmType, nodes, edges),
  };
}

/** The reachable graph as a flat XState config: one state per projection, events named by operation. */
function reachableXstate(profile: Profile, vmType: VmTypeName, nodes: readonly DNode[], edges: readonly DEdge[]): Record<string, unknown> {
  const states: Record<string, unknown> = {};
  const keyOf = (id: string) => nodes.find((n) => n.id === id)?.label || id;
  for (const n of nodes) {
    if (n.kind === 'initial') continue;
    const on: Record<string, unknown[]> = {};
    for (const e of edges.filter((x) => x.from === n.id)) {
      (on[e.op] ??= []).push({ target: keyOf(e.to), meta: { kind: e.kind, ...(e.errno ? { errno: e.errno } : {}), rule: e.source } });
    }
    states[n.label] = {
      ...(n.kind === 'error' ? { type: 'final', meta: { error: true } } : {}),
      ...(Object.keys(on).length ? { on } : {}),
    };
  }
  const initial = edges.find((e) => e.from === 'start');
  return {
    id: `reachable-${profile.name}-${vmType}`,
    initial: initial ? keyOf(initial.to) : undefined,
    states,
    meta: { profile: profile.name, vmType },
  };
}
