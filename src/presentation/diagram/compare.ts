/**
 * Two profiles' page states side by side (`diagram --compare A B`, and the report): the reachable page graph of
 * a VM type of each (the same one, or equivalent ones: comparedVmTypes), collapsed by region. Each of the page's regions (attribute, backing, host
 * mapping, pins, trusted entity, stage-2, direct map) gets its own small graph: the values that region takes and
 * the operations that change it. A value or a change only one profile has is coloured (red: only the first,
 * green: only the second), so the two columns fit a 1,500 px page where the full product graphs do not.
 */
import type { VmTypeName } from '../../../spec/constants.ts';
import type { Profile } from '../../../spec/profile.ts';
import { vmTypeMapping } from '../diff/profileDiff.ts';
import { renderDot } from './render/dot.ts';
import { type PageProjection, exploreCached, parseProjectionKey, selectSlices } from './reachable.ts';
import { flagsText, primaryVmType } from './static.ts';
import { dotToSvg, inlineSvg } from './svg.ts';
import { reachableGraph } from './system.ts';
import { type DEdge, type DNode, type Diagram, type Status, safeId } from './types.ts';

export const REGIONS = ['attribute', 'backing', 'mapped', 'pinned', 'trustedEntity', 'stage2', 'directMap', 'folio'] as const;
export type Region = (typeof REGIONS)[number];

const REGION_WORDS: Record<Region, string> = {
  attribute: 'attribute',
  backing: 'backing',
  mapped: 'host mapping',
  pinned: 'pins',
  trustedEntity: 'trusted entity',
  stage2: 'stage-2',
  directMap: 'direct map',
  folio: 'huge folio',
};

function valueWords(r: Region, p: PageProjection): string {
  switch (r) {
    case 'mapped':
      return p.mapped ? 'host-mapped' : 'unmapped';
    case 'pinned':
      return p.pinned ? 'pinned' : 'unpinned';
    case 'folio':
      return p.folio ?? 'no huge folio';
    case 'attribute':
    case 'backing':
    case 'trustedEntity':
    case 'stage2':
    case 'directMap':
      return String(p[r]);
  }
}

/** One region of one profile: the values it takes and the operations between them. */
export interface RegionGraph {
  values: string[];
  initial: string[];
  /** `from → to` with the operations (in words) that make that change. */
  changes: Array<{ from: string; to: string; ops: string[] }>;
}

export interface Side {
  profile: Profile;
  vmType: VmTypeName;
  flags: string[];
  regions: Record<Region, RegionGraph>;
}

export interface Comparison {
  a: Side;
  b: Side;
  maxDepth?: number;
}

function side(profile: Profile, maxDepth: number | undefined, vmType?: VmTypeName): Side {
  const t = vmType ?? primaryVmType(profile);
  const x = exploreCached(profile, maxDepth !== undefined ? { maxDepth } : {});
  const slices = selectSlices(x, t).filter((s) => s.create.outcome === 'ok');
  const g = reachableGraph(slices);
  const regions = {} as Record<Region, RegionGraph>;
  for (const r of REGIONS) {
    const values = [...new Set(g.states.map((k) => valueWords(r, parseProjectionKey(k))))];
    const initial = [...new Set(g.initial.map((k) => valueWords(r, parseProjectionKey(k))))];
    const changes = new Map<string, { from: string; to: string; ops: string[] }>();
    for (const e of g.edges) {
      if (e.failed) continue;
      const from = valueWords(r, parseProjectionKey(e.from));
      const to = valueWords(r, parseProjectionKey(e.to));
      if (from === to) continue;
      const k = `${from}|${to}`;
      const c = changes.get(k) ?? { from, to, ops: [] };
      if (!c.ops.includes(e.op)) c.ops.push(e.op);
      changes.set(k, c);
    }
    regions[r] = {
      values,
      initial,
      changes: [...changes.values()]
        .map((c) => ({ ...c, ops: c.ops.sort() }))
        .sort((p, q) => (`${p.from}|${p.to}` < `${q.from}|${q.to}` ? -1 : 1)),
    };
  }
  return { profile, vmType: t, flags: slices.map((s) => flagsText(profile, s.flags)), regions };
}

/**
 * The VM types to compare: a private-memory type both profiles have (the second profile's primary one if it is
 * shared), else the second profile's primary type and its equivalent under the first (diff's pairing).
 */
export function comparedVmTypes(a: Profile, b: Profile): [VmTypeName, VmTypeName] {
  const both = (Object.keys(b.vmTypes) as VmTypeName[]).filter((t) => a.vmTypes[t]?.hasPrivateMem && b.vmTypes[t]?.hasPrivateMem);
  const pb = primaryVmType(b);
  if (both.length) return both.includes(pb) ? [pb, pb] : [both[0] as VmTypeName, both[0] as VmTypeName];
  return [vmTypeMapping(b, a)[pb] ?? (a.vmTypes[pb] ? pb : primaryVmType(a)), pb];
}

export function compareProfiles(a: Profile, b: Profile, o: { maxDepth?: number; vmTypes?: [VmTypeName, VmTypeName] } = {}): Comparison {
  const [ta, tb] = o.vmTypes ?? comparedVmTypes(a, b);
  return {
    a: side(a, o.maxDepth, ta),
    b: side(b, o.maxDepth, tb),
    ...(o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {}),
  };
}

const MAX_OPS = 3;

function opsLabel(ops: readonly string[]): string {
  return ops.length <= MAX_OPS ? ops.join(' / ') : `${ops.slice(0, MAX_OPS).join(' / ')} / +${ops.length - MAX_OPS} more`;
}

/** The regions worth drawing: the huge-folio region only when a side has huge folios (hugetlb). */
export function shownRegions(c: Comparison): Region[] {
  const trivial = (g: RegionGraph) => g.values.length === 1 && g.values[0] === 'no huge folio';
  return REGIONS.filter((r) => r !== 'folio' || !(trivial(c.a.regions.folio) && trivial(c.b.regions.folio)));
}

/** One side as a diagram: a cluster per region, values coloured where the other side lacks them. */
export function sideDiagram(c: Comparison, which: 'a' | 'b'): Diagram {
  const me = c[which];
  const other = which === 'a' ? c.b : c.a;
  const only: Status = which === 'a' ? 'removed' : 'added';
  const nodes: DNode[] = [];
  const edges: DEdge[] = [];
  for (const r of shownRegions(c)) {
    const g = me.regions[r];
    const og = other.regions[r];
    const id = (v: string) => safeId(`${r}_${v}`);
    const start = `start_${r}`;
    nodes.push({ id: start, label: '', kind: 'initial', status: 'normal', group: r });
    for (const v of g.values) nodes.push({ id: id(v), label: v, kind: 'state', status: og.values.includes(v) ? 'normal' : only, group: r });
    for (const v of g.initial)
      edges.push({ id: `${start}>${v}`, from: start, to: id(v), op: '', kind: 'always', status: og.initial.includes(v) ? 'normal' : only });
    for (const ch of g.changes) {
      const theirs = og.changes.find((x) => x.from === ch.from && x.to === ch.to);
      edges.push({
        id: `${r}:${ch.from}>${ch.to}`,
        from: id(ch.from),
        to: id(ch.to),
        op: opsLabel(ch.ops),
        kind: 'transition',
        status: theirs ? 'normal' : only,
        ...(ch.ops.length > MAX_OPS ? { note: ch.ops.join(' / ') } : {}),
      });
    }
  }
  return {
    machine: 'compare',
    title: `${me.profile.name}: page states by region`,
    subtitle: [me.profile.title, `VM type ${me.vmType}; guest_memfd flags ${me.flags.join(', ') || 'none accepted'}`],
    groups: shownRegions(c).map((r) => ({ id: r, label: REGION_WORDS[r] })),
    nodes,
    edges,
    notes: [`${which === 'a' ? 'red' : 'green'}: only under ${me.profile.name} (not under ${other.profile.name})`],
  };
}

/** Width and height of a Graphviz SVG, in its own units (pt). */
function svgSize(svg: string): { w: number; h: number } {
  const m = /<svg[^>]*\bwidth="([\d.]+)pt"[^>]*\bheight="([\d.]+)pt"/.exec(svg);
  return { w: Number(m?.[1] ?? 800), h: Number(m?.[2] ?? 600) };
}

export const PAGE_WIDTH = 1500;

/** Both sides as one SVG: two Graphviz drawings next to each other, scaled to at most PAGE_WIDTH pixels wide. */
export async function compareSvg(c: Comparison): Promise<string> {
  const [sa, sb] = await Promise.all([dotToSvg(renderDot(sideDiagram(c, 'a'))), dotToSvg(renderDot(sideDiagram(c, 'b')))]);
  const a = svgSize(sa);
  const b = svgSize(sb);
  const gap = 24;
  const w = a.w + gap + b.w;
  const h = Math.max(a.h, b.h);
  const shown = Math.min(PAGE_WIDTH, w);
  const nest = (svg: string, x: number, s: { w: number; h: number }) =>
    inlineSvg(svg).replace(
      /^<svg\b([^>]*)>/,
      (_m, attrs: string) => `<svg${attrs.replace(/\s(width|height|x|y)="[^"]*"/g, '')} x="${x}" y="0" width="${s.w}" height="${s.h}">`,
    );
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${shown.toFixed(0)}" height="${((h * shown) / w).toFixed(0)}" viewBox="0 0 ${w} ${h}">
<title>${c.a.profile.name} and ${c.b.profile.name}: page states by region</title>
${nest(sa, 0, a)}
${nest(sb, a.w + gap, b)}
</svg>
`;
}

/** Mermaid: one flowchart, a subgraph per profile and inside it one per region. */
export function compareMermaid(c: Comparison): string {
  const q = (s: string) => `"${s.replace(/"/g, '#quot;')}"`;
  const out = ['flowchart LR'];
  for (const which of ['a', 'b'] as const) {
    const d = sideDiagram(c, which);
    const p = which.toUpperCase();
    out.push(`  subgraph ${p}[${q(`${c[which].profile.name} · VM type ${c[which].vmType}`)}]`, '    direction TB');
    for (const r of shownRegions(c)) {
      out.push(`    subgraph ${p}_${r}[${q(REGION_WORDS[r])}]`, '      direction LR');
      for (const n of d.nodes.filter((x) => x.group === r))
        out.push(n.kind === 'initial' ? `      ${p}_${n.id}(( ))` : `      ${p}_${n.id}[${q(n.label)}]:::${n.status}`);
      for (const e of d.edges.filter((x) => x.from.startsWith(`start_${r}`) || x.id.startsWith(`${r}:`)))
        out.push(e.op ? `      ${p}_${e.from} -->|${q(e.op)}| ${p}_${e.to}` : `      ${p}_${e.from} --> ${p}_${e.to}`);
      out.push('    end');
    }
    out.push('  end');
  }
  out.push(
    '  classDef normal fill:#ffffff,stroke:#455a64',
    '  classDef added fill:#e6f4ea,stroke:#2e7d32',
    '  classDef removed fill:#fde2e2,stroke:#c62828',
  );
  return `${out.join('\n')}\n`;
}

/** Plain text: per region, each profile's values and changes, with `*` on what only that profile has. */
export function compareText(c: Comparison): string {
  const out: string[] = [
    `page states by region: ${c.a.profile.name} (VM type ${c.a.vmType}) | ${c.b.profile.name} (VM type ${c.b.vmType})`,
    '* only under that profile',
  ];
  for (const r of shownRegions(c)) {
    out.push('', `${REGION_WORDS[r]}:`);
    for (const which of ['a', 'b'] as const) {
      const g = c[which].regions[r];
      const og = c[which === 'a' ? 'b' : 'a'].regions[r];
      const mark = (has: boolean) => (has ? '' : '*');
      out.push(`  ${c[which].profile.name}: ${g.values.map((v) => `${v}${mark(og.values.includes(v))}`).join(', ')}`);
      for (const ch of g.changes)
        out.push(`    ${ch.from} → ${ch.to}${mark(og.changes.some((x) => x.from === ch.from && x.to === ch.to))}: ${ch.ops.join(' / ')}`);
    }
  }
  return `${out.join('\n')}\n`;
}
