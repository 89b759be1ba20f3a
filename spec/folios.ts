/**
 * Huge folios of a guest_memfd (GUEST_MEMFD_FLAG_HUGETLB, kernel-abi.md §4.4) on the spec's side: which pages
 * form a folio, the facts the folio machine's guards read (machines/folio.ts), and the machine's answers. The
 * state of each folio lives in GmemState.folios; World settles a folio after every page event on it
 * (allocation, split, merge, free follow from its pages), and the rules ask first where the kernel may refuse
 * (a conversion or a punch that would need an unsafe split, merge or free: EAGAIN).
 */
import { MachineBridge } from '../machines/bridge.ts';
import { type FolioEvent, type FolioRules, UPSTREAM_FOLIO_RULES, createFolioMachine } from '../machines/folio.ts';
import type { FolioState, GmemState, PageState } from './state.ts';

/** What the folio machine's guards read about a folio's pages. */
export interface FolioFacts {
  /** Pages of the run that have memory (not holes). */
  backed: number;
  /** No page of the run is shared or on its way to private: each is private or still private while converting to shared. */
  allPrivate: boolean;
  /** Long-term references (pins) held on the run's pages: references beyond the page cache's. */
  refs: number;
}

/** The folio machine's state names, with `none` for a run that has no folio. */
export type FolioValue = FolioState | 'none';

const bridges = new Map<string, MachineBridge<object, FolioEvent>>();

export function folioBridge(rules: FolioRules | undefined): MachineBridge<object, FolioEvent> {
  const r = rules ?? UPSTREAM_FOLIO_RULES;
  const key = JSON.stringify(r);
  let b = bridges.get(key);
  if (!b) {
    b = new MachineBridge<object, FolioEvent>(createFolioMachine(r));
    bridges.set(key, b);
  }
  return b;
}

export function folioValue(g: GmemState, folio: number): FolioValue {
  return g.folios?.[String(folio)] ?? 'none';
}

/** Store a folio's state canonically: no entry for `none`, no field when no folio exists. */
export function setFolioValue(g: GmemState, folio: number, v: FolioValue): void {
  const folios = { ...g.folios };
  if (v === 'none') delete folios[String(folio)];
  else folios[String(folio)] = v;
  if (Object.keys(folios).length) g.folios = folios;
  else delete g.folios;
}

/** The pages of folio `folio` (those inside the file). */
export function folioPageIndices(g: GmemState, folioPages: number, folio: number): number[] {
  const out: number[] = [];
  for (let i = folio * folioPages; i < Math.min((folio + 1) * folioPages, g.sizePages); i++) out.push(i);
  return out;
}

const privateSide = (p: PageState) => p.attribute === 'private' || p.attribute === 'toShared';

/** The facts of a folio's pages; `willBePrivate` says which pages a conversion under way will leave private. */
export function folioFacts(pages: readonly PageState[], willBePrivate?: (k: number) => boolean): FolioFacts {
  let backed = 0;
  let refs = 0;
  let allPrivate = true;
  pages.forEach((p, k) => {
    if (p.backing !== 'hole') backed++;
    refs += p.pins;
    if (!(willBePrivate?.(k) ?? privateSide(p))) allPrivate = false;
  });
  return { backed, allPrivate, refs };
}

/** The event that brings a folio in line with its pages, if any: allocate, free, split or merge. */
export function settlingEvent(v: FolioValue, f: FolioFacts): FolioEvent | undefined {
  if (v === 'none') return f.backed > 0 ? { type: 'ALLOCATE', allPrivate: f.allPrivate } : undefined;
  if (f.backed === 0) return { type: 'FREE', refs: f.refs };
  if (v === 'whole' && !f.allPrivate) return { type: 'SPLIT', refs: f.refs };
  if (v === 'split' && f.allPrivate) return { type: 'MERGE', allPrivate: true, refs: f.refs };
  return undefined;
}
