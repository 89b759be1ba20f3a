/**
 * The predicates behind two invariants (spec/invariants.ts) about the unit conversion and mapping work on:
 * single pages, inside huge folios that stay whole only while all of their pages are private.
 *
 *   wholeFolioBreak             FolioWholeOnlyWhenPrivate: no page of a whole huge folio is shared, host-mapped or pinned
 *   conversionGranularityBreak  ConversionGranularity: a step converts only the pages it names, and a host access
 *                               maps only the page it touches and allocates at most that page's folio
 *
 * Each returns null when the promise holds, or a sentence saying where it breaks.
 */
import type { Step } from './ops.ts';
import type { Profile } from './profile.ts';
import { type GmemState, type PageState, type SystemState, freshPage } from './state.ts';
import { flagDefsOf, hasEffect } from './world.ts';

const PAGE = 4096n;

/** Pages per folio of a guest_memfd (1 without huge folios), from its flags' effects as World reads them. */
export function folioPagesOf(profile: Profile, g: GmemState): number {
  return flagDefsOf(profile, g.flags).reduce((n, d) => Math.max(n, d.effects.folioPages ?? 1), 1);
}

function pageOf(profile: Profile, g: GmemState, i: number): PageState {
  return g.pages[String(i)] ?? freshPage(hasEffect(flagDefsOf(profile, g.flags), (e) => e.initShared));
}

export function wholeFolioBreak(s: SystemState, profile: Profile): string | null {
  for (let gi = 0; gi < s.gmems.length; gi++) {
    const g = s.gmems[gi] as GmemState;
    if (!g.folios) continue;
    const n = folioPagesOf(profile, g);
    for (const [f, v] of Object.entries(g.folios)) {
      if (v !== 'whole') continue;
      for (let i = Number(f) * n; i < Math.min((Number(f) + 1) * n, g.sizePages); i++) {
        const p = pageOf(profile, g, i);
        const where = `guest_memfd ${gi} folio ${f} is whole but its page ${i}`;
        if (p.attribute === 'shared' || p.attribute === 'toPrivate') return `${where} is ${p.attribute}`;
        if (p.hostMappers.length) return `${where} is mapped by host mapping(s) ${p.hostMappers.join(',')}`;
        if (p.pins) return `${where} is pinned`;
      }
    }
  }
  return null;
}

/** A page range [start, end) of one guest_memfd. */
interface PageRange {
  gmem: number;
  start: number;
  end: number;
}

function gmemNamed(s: SystemState, name: string): number | undefined {
  const r = s.names[name];
  if (!r || !('fd' in r)) return undefined;
  const fd = s.fds[r.fd];
  return fd?.open && fd.kind === 'gmem' ? fd.id : undefined;
}

function vmNamed(s: SystemState, name: string): number | undefined {
  const r = s.names[name];
  if (!r || !('fd' in r)) return undefined;
  const fd = s.fds[r.fd];
  return fd?.open && fd.kind === 'vm' ? fd.id : undefined;
}

const pagesFrom = (bytes: bigint): number => Number(bytes / PAGE > 1n << 40n ? 1n << 40n : bytes / PAGE);

/** The guest_memfd pages a conversion step names: its file range, or the file pages behind its GPA range. */
export function namedConversionRanges(s: SystemState, step: Step): PageRange[] {
  if (step.op === 'set_memory_attributes2') {
    const gmem = gmemNamed(s, step.gmem);
    if (gmem === undefined) return [];
    const start = BigInt(step.offset);
    if (start < 0n) return [];
    return [{ gmem, start: pagesFrom(start), end: pagesFrom(start + BigInt(step.size) + PAGE - 1n) }];
  }
  if (step.op === 'guest_request_conversion') {
    const vm = vmNamed(s, step.vm);
    if (vm === undefined) return [];
    const gfn = pagesFrom(BigInt(step.gpa));
    const end = pagesFrom(BigInt(step.gpa) + BigInt(step.size) + PAGE - 1n);
    const out: PageRange[] = [];
    for (const m of s.vms[vm]?.memslots ?? []) {
      const a = Math.max(gfn, m.gfn);
      const b = Math.min(end, m.gfn + m.npages);
      if (m.gmem >= 0 && a < b) out.push({ gmem: m.gmem, start: m.gmemStart + (a - m.gfn), end: m.gmemStart + (b - m.gfn) });
    }
    return out;
  }
  return [];
}

/** The guest_memfd page a host access step touches through its mapping, if it touches one. */
function accessedPage(s: SystemState, step: Step): { gmem: number; page: number } | undefined {
  if (step.op !== 'read_mem' && step.op !== 'write_mem') return undefined;
  const r = s.names[step.map];
  if (!r || !('map' in r)) return undefined;
  const m = s.maps[r.map];
  const offset = BigInt(step.offset);
  if (!m?.live || offset < 0n) return undefined;
  return { gmem: m.gmem, page: m.start + pagesFrom(offset) };
}

export function conversionGranularityBreak(before: SystemState, step: Step, after: SystemState, profile: Profile): string | null {
  const named = namedConversionRanges(before, step);
  const touched = accessedPage(before, step);
  for (let gi = 0; gi < before.gmems.length; gi++) {
    const a = before.gmems[gi];
    const b = after.gmems[gi];
    // A file the step left alone changed nothing (and is not looked into: the checker's cache keys on what is read).
    if (!a || !b || a === b) continue;
    // A released file's pages are gone, not converted.
    if (b.lifecycle === 'released') continue;
    const folio = folioPagesOf(profile, a);
    for (const k of new Set([...Object.keys(a.pages), ...Object.keys(b.pages)])) {
      if (a.pages[k] === b.pages[k]) continue;
      const i = Number(k);
      const x = pageOf(profile, a, i);
      const y = pageOf(profile, b, i);
      if (x.attribute !== y.attribute && !named.some((r) => r.gmem === gi && i >= r.start && i < r.end))
        return `${step.op} changed guest_memfd ${gi} page ${i} from ${x.attribute} to ${y.attribute}, outside the range it names`;
      if (!touched) continue;
      const here = touched.gmem === gi && touched.page === i;
      if (!here && y.hostMappers.some((m) => !x.hostMappers.includes(m)))
        return `${step.op} of guest_memfd ${touched.gmem} page ${touched.page} also mapped guest_memfd ${gi} page ${i} into the host`;
      const sameFolio = touched.gmem === gi && Math.floor(touched.page / folio) === Math.floor(i / folio);
      if (!sameFolio && x.backing === 'hole' && y.backing !== 'hole')
        return `${step.op} of guest_memfd ${touched.gmem} page ${touched.page} also allocated guest_memfd ${gi} page ${i}, outside its folio`;
    }
  }
  return null;
}
