/**
 * A compact canonical key for a system state: the same state always gives the same key, and the key is far
 * shorter than JSON.stringify of the state (which the graph utilities' default serialisation uses).
 */
import type { PageState, SystemState } from '../state.ts';

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

export function stateKey(s: SystemState): string {
  const parts: string[] = [String(s.proc)];
  for (const v of s.vms) {
    parts.push(`V${v.type[0]}${v.type.length}${v.lifecycle[0]}${v.fds}.${v.gmemRefs}${v.launch[0]}`);
    for (const m of v.memslots) parts.push(`s${m.slot}.${m.gfn}.${m.npages}.${m.flags}.${m.gmem}.${m.gmemStart}${m.gmemGone ? 'x' : ''}`);
    if (v.privateRanges.length) parts.push(`r${v.privateRanges.map((r) => r.join('-')).join('.')}`);
    if (v.pendingConversion) parts.push(`q${v.pendingConversion.map((r) => r.join('-')).join('.')}`);
  }
  for (const g of s.gmems) {
    parts.push(`G${g.vm}.${g.sizePages}.${g.flags}${g.lifecycle[0]}${g.fds}.${g.maps}`);
    for (const b of g.bindings) parts.push(`b${b.vm}.${b.slot}.${b.start}.${b.npages}`);
    for (const i of Object.keys(g.pages)) parts.push(`${i}:${pageKey(g.pages[i] as PageState)}`);
  }
  for (const f of s.fds) parts.push(`F${f.kind[0]}${f.id}.${f.proc}${f.open ? '' : 'x'}`);
  for (const m of s.maps) parts.push(`M${m.gmem}.${m.start}.${m.npages}${m.prot}${m.live ? '' : 'x'}${m.dontfork ? 'd' : ''}`);
  for (const p of s.pins) parts.push(`N${p.map}.${p.offset}.${p.len}.${p.pages.join('.')}${p.live ? '' : 'x'}`);
  for (const n of Object.keys(s.names).sort()) {
    const r = s.names[n];
    if (!r) continue;
    parts.push(`${n}=${'fd' in r ? `f${r.fd}` : 'map' in r ? `m${r.map}` : `x${r.failed}`}`);
  }
  return parts.join('|');
}
