/** Words for the parts of a state a step touches: what a reviewer needs to see why the spec decided so. */
import { SCRAMBLED } from '../machines/page.ts';
import { PAGE_SIZE } from './constants.ts';
import { OP_FIELDS } from './opSchema.ts';
import type { Step } from './ops.ts';
import { OPS } from './ops/index.ts';
import type { Profile } from './profile.ts';
import { type PageState, type SystemState, freshPage } from './state.ts';
import { flagDefsOf, hasEffect } from './world.ts';

function describeGmem(s: SystemState, profile: Profile, id: number): string[] {
  const g = s.gmems[id];
  if (!g) return [];
  const flags =
    flagDefsOf(profile, g.flags)
      .map((f) => f.name)
      .join('|') || '0';
  const lines = [
    `guest_memfd #${id} of VM #${g.vm}: ${g.sizePages} page(s), flags ${flags}, ${g.lifecycle} (${g.fds} fd, ${g.maps} mapping)`,
  ];
  for (const b of g.bindings) lines.push(`  bound: pages ${b.start}..${b.start + b.npages - 1} to slot ${b.slot} of VM #${b.vm}`);
  for (const [k, p] of Object.entries(g.pages)) {
    const bits = [p.attribute, p.backing, `content ${p.content}${p.bytes ? ` (+${Object.keys(p.bytes).length} bytes)` : ''}`];
    if (p.hostMappers.length) bits.push(`host-mapped by #${p.hostMappers.join(',#')}`);
    if (p.pins) bits.push(`${p.pins} pin(s)`);
    if (p.trustedEntity !== 'unprepared') bits.push(p.trustedEntity);
    if (p.stage2 !== 'none') bits.push(`stage-2 ${p.stage2}`);
    if (p.directMap !== 'present') bits.push('not in direct map');
    lines.push(`  page ${k}: ${bits.join(', ')}`);
  }
  const listed = Object.keys(g.pages).length;
  if (listed === 0) lines.push('  every page is fresh (a hole, reads zero)');
  else if (listed < g.sizePages) lines.push('  every other page is fresh (a hole, reads zero)');
  return lines;
}

export function describeForStep(s: SystemState, profile: Profile, st: Step): string[] {
  const lines: string[] = [];
  const rec = st as unknown as Record<string, unknown>;
  for (const f of OP_FIELDS[st.op]) {
    const v = rec[f.name];
    const name = typeof v === 'string' ? v : f.type.kind === 'uaddr' && typeof v === 'object' && v ? (v as { map: string }).map : undefined;
    if (!name || name === 'kvm') continue;
    const ref = s.names[name];
    if (!ref) continue;
    if ('failed' in ref) lines.push(`${name}: its creating step failed`);
    else if ('fd' in ref) {
      const fd = s.fds[ref.fd];
      if (!fd) continue;
      if (!fd.open) lines.push(`${name}: closed fd`);
      else if (fd.kind === 'vm') {
        const v2 = s.vms[fd.id];
        if (v2)
          lines.push(
            `${name}: VM #${fd.id} (${v2.type}), ${v2.lifecycle}, launch ${v2.launch}, ${v2.memslots.length} memslot(s)${v2.privateRanges.length ? `, private GFNs ${v2.privateRanges.map(([a, b]) => `${a}..${b - 1}`).join(',')}` : ''}`,
          );
      } else lines.push(`${name}:`, ...describeGmem(s, profile, fd.id));
    } else {
      const m = s.maps[ref.map];
      if (!m) continue;
      lines.push(
        `${name}: mapping #${ref.map} of guest_memfd #${m.gmem} pages ${m.start}..${m.start + m.npages - 1} prot ${m.prot}${m.live ? '' : ' (unmapped)'}`,
      );
      if (m.live) lines.push(...describeGmem(s, profile, m.gmem));
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------------
// Page tuples: the state of each page a step touched (predict --states)

/** One guest_memfd page's state, every region of the page machine plus what KVM's per-VM attributes say. */
export interface PageTuple {
  gmem: number;
  page: number;
  attribute: PageState['attribute'];
  backing: PageState['backing'];
  /** The content in words: `zeroes`, `0x5a`, `scrambled (0xee)`, with `+N bytes` written on top. */
  content: string;
  /** Mappings (indices into the system's maps) the page is faulted into. */
  mappings: number[];
  pins: number;
  trustedEntity: PageState['trustedEntity'];
  directMap: PageState['directMap'];
  stage2: PageState['stage2'];
  /** Where the page is bound into a VM whose attributes are per VM: what KVM_SET_MEMORY_ATTRIBUTES says of its GFN. */
  vmAttribute?: 'private' | 'shared';
}

function contentWords(p: PageState): string {
  const base =
    p.backing === 'hole'
      ? 'zeroes (a hole)'
      : p.content === 0
        ? 'zeroes'
        : p.content === SCRAMBLED
          ? `scrambled (0x${SCRAMBLED.toString(16)})`
          : `0x${p.content.toString(16)}`;
  // Single bytes written on top of the page's token (a host write_mem): the first few by offset.
  const bytes = Object.entries(p.bytes ?? {}).sort(([a], [b]) => Number(a) - Number(b));
  if (!bytes.length) return base;
  const shown = bytes.slice(0, 3).map(([o, v]) => `byte ${o} = 0x${v.toString(16)}`);
  return `${base}, ${shown.join(', ')}${bytes.length > 3 ? `, +${bytes.length - 3} more` : ''}`;
}

function pageOf(s: SystemState, profile: Profile, gmem: number, page: number): PageState | undefined {
  const g = s.gmems[gmem];
  if (!g || page < 0 || page >= g.sizePages) return undefined;
  return g.pages[String(page)] ?? freshPage(hasEffect(flagDefsOf(profile, g.flags), (e) => e.initShared));
}

/** The per-VM attribute of a bound page, for VM types whose conversion is KVM_SET_MEMORY_ATTRIBUTES. */
function vmAttributeOf(s: SystemState, profile: Profile, gmem: number, page: number): PageTuple['vmAttribute'] {
  for (const vm of s.vms) {
    if (profile.vmTypes[vm.type]?.conversion !== 'vm-attributes') continue;
    for (const slot of vm.memslots) {
      if (slot.gmem !== gmem || page < slot.gmemStart || page >= slot.gmemStart + slot.npages) continue;
      const gfn = slot.gfn + (page - slot.gmemStart);
      return vm.privateRanges.some(([a, b]) => gfn >= a && gfn < b) ? 'private' : 'shared';
    }
  }
  return undefined;
}

export function pageTuple(s: SystemState, profile: Profile, gmem: number, page: number): PageTuple | undefined {
  const p = pageOf(s, profile, gmem, page);
  if (!p) return undefined;
  const vmAttribute = vmAttributeOf(s, profile, gmem, page);
  return {
    gmem,
    page,
    attribute: p.attribute,
    backing: p.backing,
    content: contentWords(p),
    mappings: [...p.hostMappers],
    pins: p.pins,
    trustedEntity: p.trustedEntity,
    directMap: p.directMap,
    stage2: p.stage2,
    ...(vmAttribute ? { vmAttribute } : {}),
  };
}

/** `attribute private · backing initialised · content 0x5a · mappings none · pins 0 · TE prepared · direct map present · stage-2 private`. */
export function pageTupleWords(t: PageTuple): string {
  return [
    `attribute ${t.attribute}${t.vmAttribute ? ` (VM attribute ${t.vmAttribute})` : ''}`,
    `backing ${t.backing}`,
    `content ${t.content}`,
    `mappings ${t.mappings.length ? t.mappings.map((m) => `#${m}`).join(',') : 'none'}`,
    `pins ${t.pins}`,
    `trusted entity ${t.trustedEntity}`,
    `direct map ${t.directMap}`,
    `stage-2 ${t.stage2}`,
  ].join(' · ');
}

const num = (v: unknown): number | undefined =>
  typeof v === 'number'
    ? v
    : typeof v === 'bigint'
      ? Number(v)
      : typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v)
        ? Number(v)
        : undefined;

/** The byte range a step names (`offset` + `len` / `length` / `size`), as pages; one page when it names only an offset. */
function byteRangePages(rec: Record<string, unknown>, startField: string): [number, number] | undefined {
  const start = num(rec[startField]);
  if (start === undefined) return undefined;
  const len = num(rec.len) ?? num(rec.length) ?? num(rec.size) ?? 1;
  const first = Math.floor(start / PAGE_SIZE);
  const last = Math.floor((start + Math.max(1, len) - 1) / PAGE_SIZE);
  return last - first > 4096 ? undefined : [first, last];
}

/** Pages a step names through its handles (a guest_memfd, a mapping of one, a VM's GFNs bound to one). */
function addressedPages(s: SystemState, st: Step): Array<[number, number]> {
  const rec = st as unknown as Record<string, unknown>;
  const out: Array<[number, number]> = [];
  for (const f of OP_FIELDS[st.op]) {
    if (f.type.kind !== 'handle' && f.type.kind !== 'kvm-or-handle') continue;
    const ref = typeof rec[f.name] === 'string' ? s.names[rec[f.name] as string] : undefined;
    if (!ref || 'failed' in ref) continue;
    if ('map' in ref) {
      const m = s.maps[ref.map];
      const r = byteRangePages(rec, 'offset');
      if (m && r) for (let p = r[0]; p <= r[1] && p < m.npages; p++) out.push([m.gmem, m.start + p]);
      continue;
    }
    const fd = s.fds[ref.fd];
    if (!fd) continue;
    if (fd.kind === 'gmem') {
      const r = byteRangePages(rec, 'offset');
      if (r) for (let p = r[0]; p <= r[1]; p++) out.push([fd.id, p]);
      continue;
    }
    const vm = s.vms[fd.id];
    const r = byteRangePages(rec, 'gpa') ?? byteRangePages(rec, 'address');
    if (!vm || !r) continue;
    for (let gfn = r[0]; gfn <= r[1]; gfn++)
      for (const slot of vm.memslots)
        if (slot.gmem >= 0 && gfn >= slot.gfn && gfn < slot.gfn + slot.npages) out.push([slot.gmem, slot.gmemStart + gfn - slot.gfn]);
  }
  return out;
}

/**
 * The pages a step touched: those whose state changed, and those it names when its footprint (spec/ops) says it
 * reads or writes guest_memfd pages. Each with its state after the step, ordered by guest_memfd and page.
 */
export function touchedPages(profile: Profile, before: SystemState, after: SystemState, st: Step): PageTuple[] {
  const keys = new Set<string>();
  const gmems = Math.max(before.gmems.length, after.gmems.length);
  for (let g = 0; g < gmems; g++) {
    const a = before.gmems[g]?.pages ?? {};
    const b = after.gmems[g]?.pages ?? {};
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) keys.add(`${g}:${k}`);
  }
  const fp = OPS[st.op].footprint;
  if (fp.reads.includes('gmems') || fp.writes.includes('gmems'))
    for (const [g, p] of [...addressedPages(before, st), ...addressedPages(after, st)]) keys.add(`${g}:${p}`);
  return [...keys]
    .map((k) => k.split(':').map(Number) as [number, number])
    .sort((x, y) => x[0] - y[0] || x[1] - y[1])
    .map(([g, p]) => pageTuple(after, profile, g, p))
    .filter((t): t is PageTuple => t !== undefined);
}
