/**
 * Symmetry reduction: the pages of one guest_memfd are interchangeable when nothing in the state tells them
 * apart by position — every memslot binding and every mapping covers the whole file, every pin holds a single
 * page, and the per-GFN attributes of a bound slot are permuted along with the pages. Two states that differ
 * only by such a permutation behave the same up to the permutation (the event set is closed under it), so the
 * explorer keeps one canonical representative: the pages of each interchangeable guest_memfd sorted by a
 * signature of everything that is attached to a page index.
 *
 * The canonical form is a complete invariant of the orbit: a page's signature names its page state, the pins
 * that hold it (by pin index, so pinned pages never tie) and the attributes of its GFN in every slot bound to
 * it. Pages with equal signatures are identical in every respect, so the order among them does not matter.
 *
 * A permutation maps old page indices to new ones, per guest_memfd (`Perm`: guest_memfd id → array, missing
 * ids are the identity). The explorer records, for every edge, the permutation that took the step's result to
 * the canonical target; pathTo composes them to turn a path through canonical states back into a concrete,
 * replayable trace.
 *
 * Where symmetry does not hold, it is not used: profiles with private memory (per-GFN attributes outlive
 * bindings; whole-range in-place conversion is order-dependent: symmetryApplies), guest_memfds with huge folios,
 * partial bindings or mappings, and released guest_memfds. The GFN handling below (attributes of a bound slot
 * permuted with its pages) is kept for the bound case, and the tests check the reduction against the plain
 * graph wherever it applies.
 */
import type { OpName, Step } from '../ops.ts';
import { opOf } from '../ops/index.ts';
import type { PageAddress } from '../ops/types.ts';
import type { Profile } from '../profile.ts';
import type { GmemState, SystemState, VmState } from '../state.ts';
import { flagDefsOf } from '../world.ts';
import { pageKey } from './stateKey.ts';

const PAGE = 4096;

/** Old page index → new page index, per guest_memfd id. Missing guest_memfds are not permuted. */
export type Perm = ReadonlyMap<number, readonly number[]>;
export const IDENTITY: Perm = new Map();

/**
 * Whether page permutations are symmetries of the profile's model. Not where a VM type has private memory: there
 * per-GFN data (KVM_SET_MEMORY_ATTRIBUTES ranges, pending guest conversion requests) can exist without a binding
 * (set before the memslot, or left when it is deleted) and ties a page to its position for a later binding;
 * and in-place conversion of a whole range stops at the first page that refuses and reports its offset.
 */
export function symmetryApplies(profile: Profile): boolean {
  return !Object.values(profile.vmTypes).some((r) => r?.hasPrivateMem);
}

function folioPages(profile: Profile, g: GmemState): number {
  return flagDefsOf(profile, g.flags).reduce((n, d) => Math.max(n, d.effects.folioPages ?? 1), 1);
}

interface SlotRef {
  vm: number;
  slotIndex: number;
  gfn: number;
}

function slotsOf(s: SystemState, gmem: number): SlotRef[] {
  const out: SlotRef[] = [];
  s.vms.forEach((v, vm) =>
    v.memslots.forEach((m, slotIndex) => {
      if (m.gmem === gmem) out.push({ vm, slotIndex, gfn: m.gfn });
    }),
  );
  return out;
}

/** Whether the pages of guest_memfd `id` are interchangeable in `s`. */
export function eligible(profile: Profile, s: SystemState, id: number): boolean {
  const g = s.gmems[id];
  if (!g || g.lifecycle === 'released' || g.sizePages < 2) return false;
  if (folioPages(profile, g) !== 1) return false;
  if (!g.bindings.every((b) => b.start === 0 && b.npages === g.sizePages)) return false;
  for (const v of s.vms) {
    for (const m of v.memslots) {
      if (m.gmem !== id) continue;
      if (m.gmemStart !== 0 || m.npages !== g.sizePages) return false;
      for (const [a, b] of v.pendingConversion ?? []) {
        const inside = a < m.gfn + m.npages && m.gfn < b;
        if (inside && (b - a !== 1 || a < m.gfn)) return false;
      }
    }
  }
  for (const m of s.maps) if (m.live && m.gmem === id && (m.start !== 0 || m.npages < g.sizePages)) return false;
  for (const p of s.pins) {
    if (!p.live || p.map < 0) continue;
    const m = s.maps[p.map];
    if (!m || m.gmem !== id) continue;
    const page = m.start + p.offset / PAGE;
    if (p.len !== PAGE || p.offset % PAGE !== 0 || page >= g.sizePages || p.pages.some((x) => x !== page)) return false;
  }
  return true;
}

function isPrivate(v: VmState, gfn: number): boolean {
  return v.privateRanges.some(([a, b]) => gfn >= a && gfn < b);
}

/** The signature of every page of an eligible guest_memfd: equal signatures mean interchangeable pages. */
export function pageSignatures(s: SystemState, id: number): string[] {
  const g = s.gmems[id] as GmemState;
  const sig: string[] = [];
  for (let i = 0; i < g.sizePages; i++) {
    const p = g.pages[String(i)];
    sig.push(p ? pageKey(p) : '');
  }
  s.pins.forEach((p, k) => {
    if (!p.live || p.map < 0) return;
    const m = s.maps[p.map];
    if (!m || m.gmem !== id) return;
    const page = m.start + p.offset / PAGE;
    sig[page] += `|n${k}${p.pages.includes(page) ? 'h' : ''}`;
  });
  for (const ref of slotsOf(s, id)) {
    const v = s.vms[ref.vm] as VmState;
    for (let i = 0; i < g.sizePages; i++) {
      const gfn = ref.gfn + i;
      const priv = isPrivate(v, gfn);
      const pend = (v.pendingConversion ?? []).find(([a, b]) => gfn >= a && gfn < b);
      if (priv || pend) sig[i] += `|v${ref.vm}.${ref.slotIndex}${priv ? 'p' : ''}${pend ? pend[2][0] : ''}`;
    }
  }
  return sig;
}

/** Ranges [a, b) in the normal form of the attribute code: sorted, adjacent and overlapping ranges merged. */
function normalRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last[1] >= r[0]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Apply `perm` (old → new page index) to a state; the result shares nothing mutable with `s` it changes. */
export function applyPerm(s: SystemState, perm: Perm): SystemState {
  if (perm.size === 0) return s;
  const gmems = s.gmems.map((g, id) => {
    const p = perm.get(id);
    if (!p) return g;
    const pages: GmemState['pages'] = {};
    for (const [k, page] of Object.entries(g.pages)) pages[String(p[Number(k)])] = page;
    return { ...g, pages };
  });
  const pins = s.pins.map((pin) => {
    const m = pin.map >= 0 ? s.maps[pin.map] : undefined;
    const p = m ? perm.get(m.gmem) : undefined;
    if (!m || !p) return pin;
    const page = m.start + pin.offset / PAGE;
    const to = p[page];
    if (to === undefined) return pin;
    return { ...pin, offset: (to - m.start) * PAGE, pages: pin.pages.map((x) => p[x] ?? x) };
  });
  const vms = s.vms.map((v) => {
    const slots = v.memslots.filter((m) => m.gmem >= 0 && perm.has(m.gmem));
    if (!slots.length) return v;
    const mapGfn = (gfn: number): number => {
      for (const m of slots) {
        if (gfn >= m.gfn && gfn < m.gfn + m.npages) {
          const p = perm.get(m.gmem) as readonly number[];
          const i = m.gmemStart + gfn - m.gfn;
          return m.gfn + ((p[i] ?? i) - m.gmemStart);
        }
      }
      return gfn;
    };
    const inSlot = (gfn: number) => slots.some((m) => gfn >= m.gfn && gfn < m.gfn + m.npages);
    const spans = slots.map((m) => [m.gfn, m.gfn + m.npages] as [number, number]).sort((x, y) => x[0] - y[0]);
    const ranges: Array<[number, number]> = [];
    for (const [a, b] of v.privateRanges) {
      let at = a;
      for (const [s0, s1] of spans) {
        if (s1 <= at || s0 >= b) continue;
        if (s0 > at) ranges.push([at, s0]);
        for (let x = Math.max(at, s0); x < Math.min(b, s1); x++) {
          const y = mapGfn(x);
          ranges.push([y, y + 1]);
        }
        at = Math.min(b, s1);
      }
      if (at < b) ranges.push([at, b]);
    }
    const out: VmState = { ...v, privateRanges: normalRanges(ranges) };
    if (v.pendingConversion) {
      out.pendingConversion = v.pendingConversion
        .map(
          ([a, b, t]) => (b - a === 1 && inSlot(a) ? [mapGfn(a), mapGfn(a) + 1, t] : [a, b, t]) as [number, number, 'private' | 'shared'],
        )
        .sort((x, y) => x[0] - y[0]);
    }
    return out;
  });
  return { ...s, vms, gmems, pins };
}

/**
 * A pin on a mapping that is gone (compact() numbers its mapping -1) can never be named again, so where it was
 * and which folios it still lists are dead data: only its existence counts (it holds the page's pin count,
 * which lives in the page, and it takes one of the bound's pins). Normalised to offset 0, no pages.
 */
function dropDeadPinPages(s: SystemState): SystemState {
  if (!s.pins.some((p) => p.map < 0 && (p.pages.length || p.offset !== 0))) return s;
  return { ...s, pins: s.pins.map((p) => (p.map < 0 && (p.pages.length || p.offset !== 0) ? { ...p, offset: 0, pages: [] } : p)) };
}

export interface Canonical {
  state: SystemState;
  /** The permutation that took the given state to `state` (old → new), or IDENTITY. */
  perm: Perm;
}

/** The canonical representative of a (compacted) state's orbit, and the permutation that reaches it. */
export function canonicalise(profile: Profile, s0: SystemState): Canonical {
  const s = dropDeadPinPages(s0);
  let perm: Map<number, number[]> | undefined;
  for (let id = 0; id < s.gmems.length; id++) {
    if (!eligible(profile, s, id)) continue;
    const sig = pageSignatures(s, id);
    const order = sig
      .map((_, i) => i)
      .sort((a, b) => ((sig[a] as string) < (sig[b] as string) ? -1 : (sig[a] as string) > (sig[b] as string) ? 1 : a - b));
    if (order.every((x, k) => x === k)) continue;
    const newIdx = new Array<number>(order.length);
    order.forEach((old, k) => {
      newIdx[old] = k;
    });
    (perm ??= new Map()).set(id, newIdx);
  }
  return perm ? { state: applyPerm(s, perm), perm } : { state: s, perm: IDENTITY };
}

/** For a canonical state: for every interchangeable guest_memfd, each page's class representative (lowest index). */
export function pageClasses(profile: Profile, s: SystemState): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let id = 0; id < s.gmems.length; id++) {
    if (!eligible(profile, s, id)) continue;
    const sig = pageSignatures(s, id);
    const first = new Map<string, number>();
    const rep = sig.map((x, i) => {
      const f = first.get(x);
      if (f !== undefined) return f;
      first.set(x, i);
      return i;
    });
    if (rep.some((r, i) => r !== i)) out.set(id, rep);
  }
  return out;
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/** How many distinct states the canonical state stands for (the size of its orbit). */
export function orbitSize(profile: Profile, s: SystemState): number {
  let size = 1;
  for (let id = 0; id < s.gmems.length; id++) {
    if (!eligible(profile, s, id)) continue;
    const counts = new Map<string, number>();
    for (const x of pageSignatures(s, id)) counts.set(x, (counts.get(x) ?? 0) + 1);
    let orbit = factorial((s.gmems[id] as GmemState).sizePages);
    for (const c of counts.values()) orbit /= factorial(c);
    size *= orbit;
  }
  return size;
}

// ---------------------------------------------------------------------------------------------------------
// Steps under a permutation

/** The one page a step addresses, and how to rebuild the step for another page. */
export interface PageParam {
  gmem: number;
  page: number;
  with(page: number): Step;
}

function gmemOfHandle(s: SystemState, h: string): number | undefined {
  const r = s.names[h];
  if (!r || !('fd' in r)) return undefined;
  const fd = s.fds[r.fd];
  return fd && fd.kind === 'gmem' ? fd.id : undefined;
}

function mapOfHandle(s: SystemState, h: string): { gmem: number; start: number; npages: number } | undefined {
  const r = s.names[h];
  if (!r || !('map' in r)) return undefined;
  return s.maps[r.map];
}

function vmOfHandle(s: SystemState, h: string): VmState | undefined {
  const r = s.names[h];
  if (!r || !('fd' in r)) return undefined;
  const fd = s.fds[r.fd];
  return fd && fd.kind === 'vm' ? s.vms[fd.id] : undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);

/** A step's field by a name its op's record gives (the record's type says the name is one of the op's fields). */
const fieldOf = (st: Step, name: string): unknown => (st as unknown as Record<string, unknown>)[name];
const field = (st: Step, name: string): number | undefined => num(fieldOf(st, name));
const handle = (st: Step, name: string): string => String(fieldOf(st, name));
/** The step with that field set to `value`. */
const withField = (st: Step, name: string, value: number): Step => ({ ...st, [name]: value }) as Step;

/**
 * The page a step addresses, when it addresses exactly one page of a guest_memfd (a single-page fallocate,
 * an access, a pin, a single-page conversion, continue or guest access), by its op's `pageAddress` facet
 * (spec/ops/types.ts). Undefined for steps that address no page or a whole file (which every page permutation
 * leaves as they are).
 */
export function pageParam(s: SystemState, st: Step): PageParam | undefined {
  const pa: PageAddress<OpName> = opOf(st).pageAddress;
  if ('none' in pa) return undefined;
  switch (pa.via) {
    case 'file':
      return viaFile(s, st, pa);
    case 'mapping':
      return viaMapping(s, st, pa);
    case 'gpa':
      return viaGpa(s, st, pa);
  }
}

/** One whole, aligned page of the file, by its offset. */
function viaFile(s: SystemState, st: Step, pa: Extract<PageAddress<OpName>, { via: 'file' }>): PageParam | undefined {
  const gmem = gmemOfHandle(s, handle(st, pa.file));
  const off = field(st, pa.offset);
  const len = field(st, pa.length);
  const g = gmem === undefined ? undefined : s.gmems[gmem];
  if (!g || off === undefined || len !== PAGE || off % PAGE !== 0 || off / PAGE >= g.sizePages) return undefined;
  return { gmem: gmem as number, page: off / PAGE, with: (p) => withField(st, pa.offset, p * PAGE) };
}

/** The page under an offset into a mapping, when the step's extent stays in it. */
function viaMapping(s: SystemState, st: Step, pa: Extract<PageAddress<OpName>, { via: 'mapping' }>): PageParam | undefined {
  const m = mapOfHandle(s, handle(st, pa.map));
  const off = field(st, pa.offset);
  if (!m || off === undefined || off < 0) return undefined;
  const g = s.gmems[m.gmem];
  const page = m.start + Math.floor(off / PAGE);
  if (!g || page >= g.sizePages || off / PAGE >= m.npages) return undefined;
  const within = off % PAGE;
  if ('alignedPage' in pa.extent && (field(st, pa.extent.alignedPage) !== PAGE || within !== 0)) return undefined;
  if ('withinPage' in pa.extent) {
    const len = field(st, pa.extent.withinPage);
    if (len === undefined || within + len > PAGE) return undefined;
  }
  return { gmem: m.gmem, page, with: (p) => withField(st, pa.offset, (p - m.start) * PAGE + within) };
}

/** The guest_memfd page behind a guest physical address, through the VM's memslots. */
function viaGpa(s: SystemState, st: Step, pa: Extract<PageAddress<OpName>, { via: 'gpa' }>): PageParam | undefined {
  const v = vmOfHandle(s, handle(st, pa.vm));
  const gpa = field(st, pa.gpa);
  if (!v || gpa === undefined) return undefined;
  if (typeof pa.size === 'string' && (field(st, pa.size) !== PAGE || gpa % PAGE !== 0)) return undefined;
  const gfn = Math.floor(gpa / PAGE);
  const m = v.memslots.find((x) => x.gmem >= 0 && gfn >= x.gfn && gfn < x.gfn + x.npages);
  if (!m) return undefined;
  const within = gpa % PAGE;
  return { gmem: m.gmem, page: m.gmemStart + gfn - m.gfn, with: (p) => withField(st, pa.gpa, (m.gfn + p - m.gmemStart) * PAGE + within) };
}

/** The step under a permutation (the page it addresses moved as `perm` moves it). */
export function permuteStep(s: SystemState, st: Step, perm: Perm): Step {
  if (perm.size === 0) return st;
  const pp = pageParam(s, st);
  if (!pp) return st;
  const p = perm.get(pp.gmem);
  const to = p?.[pp.page];
  return to === undefined || to === pp.page ? st : pp.with(to);
}

/** `b` after `a` (apply a, then b). */
export function composePerm(a: Perm, b: Perm): Perm {
  if (a.size === 0) return b;
  if (b.size === 0) return a;
  const out = new Map<number, number[]>();
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    const pa = a.get(id);
    const pb = b.get(id);
    const n = Math.max(pa?.length ?? 0, pb?.length ?? 0);
    const r: number[] = [];
    for (let i = 0; i < n; i++) {
      const x = pa ? (pa[i] ?? i) : i;
      r.push(pb ? (pb[x] ?? x) : x);
    }
    if (r.some((x, i) => x !== i)) out.set(id, r);
  }
  return out;
}

export function invertPerm(a: Perm): Perm {
  if (a.size === 0) return a;
  const out = new Map<number, number[]>();
  for (const [id, p] of a) {
    const r = new Array<number>(p.length);
    p.forEach((to, from) => {
      r[to] = from;
    });
    out.set(id, r);
  }
  return out;
}

/** The transposition of two pages of one guest_memfd. */
export function swapPerm(gmem: number, size: number, a: number, b: number): Perm {
  const p = Array.from({ length: size }, (_, i) => (i === a ? b : i === b ? a : i));
  return new Map([[gmem, p]]);
}

export function permKey(p: Perm): string {
  return [...p.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([id, a]) => `${id}:${a.join(',')}`)
    .join(';');
}
