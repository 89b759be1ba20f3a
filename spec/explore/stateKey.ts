/**
 * A compact canonical key for a system state: the same state always gives the same key, and the key is far
 * shorter than JSON.stringify of the state (which the graph utilities' default serialisation uses).
 */
import type { VmTypeName } from '../constants.ts';
import type { FdState, GmemState, MapState, PageState, PinState, SystemState, VmState } from '../state.ts';

const ATTR: Record<PageState['attribute'], string> = { shared: 's', private: 'p', toPrivate: 'P', toShared: 'S' };
const BACK: Record<PageState['backing'], string> = { hole: 'h', allocated: 'a', initialised: 'i' };
const TE: Record<PageState['trustedEntity'], string> = { unprepared: '', prepared: 'R', populated: 'M' };
const S2: Record<PageState['stage2'], string> = { none: '', shared: 'g', private: 'G' };

export function pageKey(p: PageState): string {
  let k = ATTR[p.attribute] + BACK[p.backing];
  if (p.content) k += `c${p.content}`;
  if (p.bytes) k += `b${JSON.stringify(p.bytes)}`;
  if (p.hostMappers.length) k += `m${p.hostMappers.join('.')}`;
  if (p.pins) k += `n${p.pins}`;
  k += TE[p.trustedEntity] + S2[p.stage2];
  if (p.directMap === 'removed') k += 'D';
  return k;
}

/**
 * One code per VM type, none a prefix of another. Most are the type's first letter and length (the codes keys
 * had before this table, so graphs without a SEV VM keep their keys); `sev` has its own, because `s3` is also
 * `snp`'s: the two shared a key, so the explorer merged a SEV VM's states with an SNP VM's and a replay of the
 * graph's walks diverged (issue 12, item 3).
 */
export const VM_TYPE_KEY: Readonly<Record<VmTypeName, string>> = {
  default: 'd7',
  sw_protected: 's12',
  sev: 'sev',
  sev_es: 's6',
  snp: 's3',
  tdx: 't3',
  pkvm: 'p4',
  cca: 'c3',
};

// The key's parts, one function per element of the state (stateKey joins them with '|' in keyOf's order). The
// checker fingerprints a state from these parts (src/check/stateFingerprint.ts), so each is exported.

/** A VM's part of the key (its sub-parts joined with '|'). */
export function vmParts(v: VmState): string {
  // The creating process only when it is not the first (between steps it always is: a fork's child exits).
  const parts = [`V${VM_TYPE_KEY[v.type]}${v.lifecycle[0]}${v.fds}.${v.gmemRefs}${v.launch[0]}${v.proc ? `@${v.proc}` : ''}`];
  for (const m of v.memslots) parts.push(`s${m.slot}.${m.gfn}.${m.npages}.${m.flags}.${m.gmem}.${m.gmemStart}${m.gmemGone ? 'x' : ''}`);
  if (v.privateRanges.length) parts.push(`r${v.privateRanges.map((r) => r.join('-')).join('.')}`);
  if (v.pendingConversion) parts.push(`q${v.pendingConversion.map((r) => r.join('-')).join('.')}`);
  return parts.join('|');
}

/** A guest_memfd's part of the key, its pages keyed by `pageKeyOf`. */
export function gmemParts(g: GmemState, pageKeyOf: (p: PageState) => string): string {
  const parts = [`G${g.vm}.${g.sizePages}.${g.flags}${g.lifecycle[0]}${g.fds}.${g.maps}`];
  for (const b of g.bindings) parts.push(`b${b.vm}.${b.slot}.${b.start}.${b.npages}`);
  for (const i of Object.keys(g.pages)) parts.push(`${i}:${pageKeyOf(g.pages[i] as PageState)}`);
  // Huge folios (hugetlb): W whole, X split, by folio index; absent for every file without them.
  if (g.folios) for (const f of Object.keys(g.folios)) parts.push(`f${f}${g.folios[f] === 'whole' ? 'W' : 'X'}`);
  return parts.join('|');
}

export function fdPart(f: FdState): string {
  return `F${f.kind[0]}${f.id}.${f.proc}${f.open ? '' : 'x'}`;
}

// A dead mapping is marked '!', not 'x', which a prot of "rwx" ends with.
export function mapPart(m: MapState): string {
  return `M${m.gmem}.${m.start}.${m.npages}${m.prot}${m.proc ? `@${m.proc}` : ''}${m.live ? '' : '!'}${m.dontfork ? 'd' : ''}${m.guards ? `g${m.guards.join('.')}` : ''}${m.uffd ? `u${m.uffd.map((r) => `${r.page}${r.mode === 'minor' ? 'n' : 's'}`).join('.')}` : ''}`;
}

export function pinPart(p: PinState): string {
  return `N${p.map}.${p.offset}.${p.len}.${p.pages.join('.')}${p.live ? '' : 'x'}`;
}

/** The handle names, sorted, each `name=ref`, joined with '|' (empty when there are none). */
export function namesPart(names: SystemState['names']): string {
  const parts: string[] = [];
  for (const n of Object.keys(names).sort()) {
    const r = names[n];
    if (!r) continue;
    parts.push(`${n}=${'fd' in r ? `f${r.fd}` : 'map' in r ? `m${r.map}` : `x${r.failed}`}`);
  }
  return parts.join('|');
}

function keyOf(s: SystemState, vmKey: (v: VmState) => string, gmemKey: (g: GmemState) => string): string {
  const parts: string[] = [String(s.proc)];
  for (const v of s.vms) parts.push(vmKey(v));
  for (const g of s.gmems) parts.push(gmemKey(g));
  for (const f of s.fds) parts.push(fdPart(f));
  for (const m of s.maps) parts.push(mapPart(m));
  for (const p of s.pins) parts.push(pinPart(p));
  const names = namesPart(s.names);
  if (names) parts.push(names);
  return parts.join('|');
}

const pageKeyOf = (p: PageState) => pageKey(p);
const gmemKeyOf = (g: GmemState) => gmemParts(g, pageKeyOf);

export function stateKey(s: SystemState): string {
  return keyOf(s, vmParts, gmemKeyOf);
}

const PART_CACHE_LIMIT = 200_000;

/**
 * stateKey with the parts of VMs, guest_memfds and pages cached by object, for one caller that keys many states
 * sharing them (the explorer: World copies only what a step changes, and the page machine's memo hands out the
 * same page objects). Gives exactly stateKey's string. Only for states that nobody changes once keyed.
 * Parts enter the cache only through remember(), for the states the caller keeps, so the cache holds nothing
 * alive that the caller would drop.
 */
export class StateKeys {
  private readonly parts = new Map<object, string>();
  /** Parts computed by the last key() that were not in the cache. */
  private pending: Array<[object, string]> = [];
  private readonly pageKeyOf = (p: PageState): string => this.cached(p, pageKey);
  private readonly vmKeyOf = (v: VmState): string => this.cached(v, vmParts);
  private readonly gmemKeyOf = (g: GmemState): string => this.cached(g, (x) => gmemParts(x, this.pageKeyOf));

  private cached<T extends object>(o: T, make: (o: T) => string): string {
    let k = this.parts.get(o);
    if (k === undefined) {
      k = make(o);
      this.pending.push([o, k]);
    }
    return k;
  }

  key(s: SystemState): string {
    this.pending = [];
    return keyOf(s, this.vmKeyOf, this.gmemKeyOf);
  }

  /** Cache the parts of the state last given to key() (one the caller keeps). */
  remember(): void {
    if (this.parts.size + this.pending.length > PART_CACHE_LIMIT) this.parts.clear();
    for (const [o, k] of this.pending) this.parts.set(o, k);
    this.pending = [];
  }
}
