/**
 * Operations, outcomes and states in words, for generated test names, describe titles and assertion messages:
 * "fallocate(g0, PUNCH_HOLE|KEEP_SIZE, page 0)", "fails with EINVAL", "g0 (MMAP|INIT_SHARED, 1 page):
 * page 0 shared, written 1, host-mapped by m0". A kernel developer reads these; they name what the ABI sees.
 */
import type { Outcome, Step } from '../../spec/ops.ts';
import { phraseOf } from '../../spec/ops/index.ts';
import type { Profile } from '../../spec/profile.ts';
import type { PageState, SystemState } from '../../spec/state.ts';

import { flagWords, offsetWords } from '../../spec/ops/words.ts';

/** A step in words, e.g. `fallocate(g0, PUNCH_HOLE|KEEP_SIZE, page 0)`. */
export function stepPhrase(profile: Profile, s: Step): string {
  return phraseOf(profile, s);
}

/** What happened, as the rest of a sentence: "succeeds", "fails with EINVAL", "reads 0", "is SIGBUS". */
export function outcomePhrase(o: Outcome): string {
  if ('errno' in o) return `fails with ${o.errno}${o.error_offset !== undefined ? ` (error_offset ${o.error_offset})` : ''}`;
  if ('access' in o) {
    if (o.access !== 'ok') return `is ${o.access}`;
    if (o.match !== undefined) return o.match ? 'reads back the value' : 'reads back something else';
    return o.value !== undefined ? `reads ${o.value}` : 'succeeds';
  }
  if ('exit' in o)
    return o.exit === 'MEMORY_FAULT'
      ? `exits with KVM_EXIT_MEMORY_FAULT (${o.private ? 'private' : 'shared'})`
      : 'exits with KVM_EXIT_MMIO';
  if ('failed' in o) return `cannot run (${o.failed})`;
  if ('not_modelled' in o) return `is not modelled (${o.not_modelled})`;
  if (o.fstat) return `reports st_size ${o.fstat.st_size}`;
  if (o.ret !== undefined) return `returns ${o.ret}`;
  if (o.steps) return `runs (${o.steps.map(outcomePhrase).join('; ')})`;
  return 'succeeds';
}

function fdNames(s: SystemState): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of Object.keys(s.names).sort()) {
    const r = s.names[n];
    if (!r) continue;
    const key = 'fd' in r ? `fd${r.fd}` : 'map' in r ? `map${r.map}` : '';
    if (key && !out.has(key)) out.set(key, n);
  }
  return out;
}

function pageWords(p: PageState | undefined, initShared: boolean, mapName: (i: number) => string): string | undefined {
  if (!p) return undefined;
  const bits: string[] = [p.attribute];
  if (p.backing === 'allocated') bits.push('allocated');
  if (p.backing === 'initialised')
    bits.push(p.content || p.bytes ? `written ${p.content}${p.bytes ? ' (and other bytes)' : ''}` : 'zeroed');
  if (p.hostMappers.length) bits.push(`host-mapped by ${p.hostMappers.map(mapName).join(', ')}`);
  if (p.pins) bits.push(p.pins === 1 ? 'pinned' : `pinned ${p.pins} times`);
  if (p.trustedEntity !== 'unprepared') bits.push(p.trustedEntity);
  if (p.stage2 !== 'none') bits.push(`guest-mapped ${p.stage2}`);
  if (p.directMap === 'removed') bits.push('out of the direct map');
  if (bits.length === 1 && p.attribute === (initShared ? 'shared' : 'private')) return undefined;
  return bits.join(', ');
}

/** What a step should do, after "should": "fail with EINVAL", "succeed", "read 0", "be SIGBUS". */
export function expectPhrase(o: Outcome): string {
  if ('errno' in o) return `fail with ${o.errno}${o.error_offset !== undefined ? ` (error_offset ${o.error_offset})` : ''}`;
  if ('access' in o) {
    if (o.access !== 'ok') return `be ${o.access}`;
    if (o.match !== undefined) return o.match ? 'read back the value' : 'read back something else';
    return o.value !== undefined ? `read ${o.value}` : 'succeed';
  }
  if ('exit' in o)
    return o.exit === 'MEMORY_FAULT' ? `exit with KVM_EXIT_MEMORY_FAULT (${o.private ? 'private' : 'shared'})` : 'exit with KVM_EXIT_MMIO';
  if ('failed' in o) return `not run (${o.failed})`;
  if ('not_modelled' in o) return `do what the kernel does (not modelled: ${o.not_modelled})`;
  if (o.fstat) return `report st_size ${o.fstat.st_size}, st_blksize ${o.fstat.st_blksize}, type ${o.fstat.st_type}`;
  if (o.ret !== undefined) return `return ${o.ret}`;
  if (o.steps) return `run (${o.steps.map(outcomePhrase).join('; ')})`;
  return 'succeed';
}

/** A state in words: every VM, guest_memfd (with its non-fresh pages), mapping and pin. */
export function stateWords(profile: Profile, s: SystemState): string {
  if (!s.vms.length) return 'nothing created yet';
  const names = fdNames(s);
  const parts: string[] = [];
  s.vms.forEach((v, id) => {
    const fdIdx = s.fds.findIndex((f) => f.open && f.kind === 'vm' && f.id === id);
    const name = fdIdx >= 0 ? (names.get(`fd${fdIdx}`) ?? `VM #${id}`) : `VM #${id} (fd closed)`;
    const bits: string[] = [];
    if (v.lifecycle === 'destroyed') bits.push('destroyed');
    if (v.launch !== 'none') bits.push(`launch ${v.launch}`);
    for (const m of v.memslots)
      bits.push(`slot ${m.slot} → ${m.gmem >= 0 ? `guest_memfd #${m.gmem}${m.gmemGone ? ' (released)' : ''}` : 'user memory'}`);
    if (v.privateRanges.length)
      bits.push(`private GFNs ${v.privateRanges.map(([a, b]) => (b - a === 1 ? `${a}` : `${a}..${b - 1}`)).join(',')}`);
    if (v.pendingConversion?.length) bits.push(`pending conversion ${v.pendingConversion.map(([a, , t]) => `${a}→${t}`).join(',')}`);
    parts.push(`${name}${v.type !== 'default' ? ` (${v.type})` : ''}${bits.length ? ` [${bits.join('; ')}]` : ''}`);
  });
  const mapName = (i: number) => names.get(`map${i}`) ?? `mapping #${i}`;
  s.gmems.forEach((g, id) => {
    const fdIdx = s.fds.findIndex((f) => f.open && f.kind === 'gmem' && f.id === id);
    const name = fdIdx >= 0 ? (names.get(`fd${fdIdx}`) ?? `guest_memfd #${id}`) : `guest_memfd #${id}`;
    if (g.lifecycle === 'released') {
      parts.push(`${name} released`);
      return;
    }
    const initShared = profile.flags.some((f) => f.effects.initShared && (g.flags & (2 ** f.bit)) !== 0);
    const bits: string[] = [];
    if (fdIdx < 0) bits.push('fd closed, kept by its mapping');
    if (g.bindings.length) bits.push(`bound to ${g.bindings.map((b) => `slot ${b.slot}`).join(', ')}`);
    const pageBits: string[] = [];
    for (let i = 0; i < g.sizePages; i++) {
      const w = pageWords(g.pages[String(i)], initShared, mapName);
      if (w) pageBits.push(`page ${i} ${w}`);
    }
    bits.push(pageBits.length ? pageBits.join('; ') : `every page ${initShared ? 'shared' : 'private'} and fresh`);
    parts.push(`${name} (${flagWords(profile, g.flags)}, ${g.sizePages} page${g.sizePages === 1 ? '' : 's'}): ${bits.join('; ')}`);
  });
  s.maps.forEach((m, i) => {
    if (m.live) parts.push(`${mapName(i)} maps guest_memfd #${m.gmem}${m.prot !== 'rw' ? ` (${m.prot})` : ''}`);
  });
  const pins = s.pins.filter((p) => p.live);
  if (pins.length) {
    parts.push(
      pins.map((p) => (p.map >= 0 ? `a pin on ${mapName(p.map)} at ${offsetWords(p.offset)}` : 'a pin whose mapping is gone')).join(', '),
    );
  }
  return parts.join('; ');
}

/** Shorten a title to `max` characters at a word boundary. */
export function clip(s: string, max = 240): string {
  if (s.length <= max) return s;
  const cut = s.lastIndexOf(' ', max - 1);
  return `${s.slice(0, cut > max / 2 ? cut : max - 1)}…`;
}
