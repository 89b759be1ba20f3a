/**
 * A system state packed into one Int32Array of small integers: the model checker's state encoding.
 *
 *   proc, names, nVms, vm…, nGmems, (header, nPages, page…)…, nFds, fd…, nMaps, map…, nPins, pin…
 *
 * Every element is an interned part id (parts.ts) or a count; a page slot holds -1 where the guest_memfd has no
 * page entry (a fresh page). Two states pack to the same vector exactly when they hold equal parts, so the
 * vector is the state's identity, and its fingerprint (a mix of the part hashes in order) is the same in every
 * thread. `Address` names one element (or a derived value, such as which pages are present) so that the
 * successor cache can say which parts a step read.
 */
import type { GmemState, PageState, SystemState } from '../../../spec/state.ts';
import { FIELD_LIST, type GmemHeader, type PartTable } from './parts.ts';

export type Packed = Int32Array;

/** Where each list starts: vms, gmems, fds, maps, pins, then each guest_memfd's header slot. */
export type Offsets = Int32Array;

export const MAX_GMEMS = 64;
const OFF_V = 0;
const OFF_G = 1;
const OFF_F = 2;
const OFF_M = 3;
const OFF_P = 4;
const OFF_GMEM = 5;

/** Address kinds: an address is kind << 24 | a << 12 | b. */
export const A = {
  proc: 1,
  names: 2,
  vmCount: 3,
  vm: 4,
  gmemCount: 5,
  header: 6,
  /** Bitmask of the page indices a guest_memfd has an entry for. */
  pageSet: 7,
  page: 8,
  fdCount: 9,
  fd: 10,
  mapCount: 11,
  map: 12,
  pinCount: 13,
  pin: 14,
  /** One field of a part (parts.ts FIELD_LIST number f, the part at a, b): the part's code for that field. */
  field: 15,
  /** One handle name (its number a, PartTable.nameIndex): the code of what it refers to, -1 when absent. */
  name: 16,
} as const;

/** An address: kind (5 bits), field number (6), a (10), b (11). */
export const address = (kind: number, a = 0, b = 0, f = 0): number => {
  if (a > 1023 || b > 2047 || f > 63) throw new Error(`internal: address out of range (${kind}, ${a}, ${b}, ${f})`);
  return (kind << 27) | (f << 21) | (a << 11) | b;
};

/** For a field number: the address kind of the part it belongs to. */
const FIELD_PART: Int8Array = Int8Array.from(
  FIELD_LIST.map(([k]) => ({ vm: A.vm, header: A.header, page: A.page, fd: A.fd, map: A.map, pin: A.pin, names: A.names })[k]),
);

export function newOffsets(): Offsets {
  return new Int32Array(OFF_GMEM + MAX_GMEMS);
}

/** Fill `o` with where each list of `v` starts. */
export function offsetsOf(v: Packed, o: Offsets): Offsets {
  let i = 2;
  o[OFF_V] = i;
  i += 1 + (v[i] as number);
  o[OFF_G] = i;
  const ng = v[i] as number;
  i++;
  for (let g = 0; g < ng; g++) {
    o[OFF_GMEM + g] = i;
    i += 2 + (v[i + 1] as number);
  }
  o[OFF_F] = i;
  i += 1 + (v[i] as number);
  o[OFF_M] = i;
  i += 1 + (v[i] as number);
  o[OFF_P] = i;
  return o;
}

function listItem(v: Packed, start: number, i: number): number {
  return i < (v[start] as number) ? (v[start + 1 + i] as number) : -1;
}

/** The value at an address: a part id, a count, a bitmask, or -1 where the object does not exist. */
export function valueAt(v: Packed, o: Offsets, addr: number, t: PartTable): number {
  const a = (addr >>> 11) & 1023;
  const b = addr & 2047;
  const kind = addr >>> 27;
  if (kind === A.field) {
    const f = (addr >>> 21) & 63;
    const id = partAt(v, o, FIELD_PART[f] as number, a, b);
    return id < 0 ? -1 : ((t.fieldCodes[f] as Int32Array)[id] as number);
  }
  if (kind === A.name) {
    const codes = t.nameCodes[v[1] as number] as Int32Array;
    return a < codes.length ? (codes[a] as number) : -1;
  }
  return partAt(v, o, kind, a, b);
}

/** The value of a plain address: a part id, a count, or a page set's bitmask; -1 where nothing is. */
function partAt(v: Packed, o: Offsets, kind: number, a: number, b: number): number {
  switch (kind) {
    case A.proc:
      return v[0] as number;
    case A.names:
      return v[1] as number;
    case A.vmCount:
    case A.fdCount:
    case A.mapCount:
    case A.pinCount:
      return v[o[LIST_OFFSET[kind] as number] as number] as number;
    case A.vm:
    case A.fd:
    case A.map:
    case A.pin:
      return listItem(v, o[LIST_OFFSET[kind] as number] as number, a);
    case A.gmemCount:
      return v[o[OFF_G] as number] as number;
    case A.header:
      return a < (v[o[OFF_G] as number] as number) ? (v[o[OFF_GMEM + a] as number] as number) : -1;
    case A.pageSet: {
      if (a >= (v[o[OFF_G] as number] as number)) return -1;
      const at = o[OFF_GMEM + a] as number;
      const n = v[at + 1] as number;
      let mask = 0;
      for (let k = 0; k < n; k++) if ((v[at + 2 + k] as number) >= 0) mask |= 1 << k;
      return mask;
    }
    case A.page: {
      if (a >= (v[o[OFF_G] as number] as number)) return -1;
      const at = o[OFF_GMEM + a] as number;
      return b < (v[at + 1] as number) ? (v[at + 2 + b] as number) : -1;
    }
  }
  throw new Error(`internal: no such address kind ${kind}`);
}

/** Where list `kind` (A.vmCount, A.gmemCount, ...) starts and ends (exclusive) in `v`. */
export function listSpan(v: Packed, o: Offsets, kind: number): [number, number] {
  const at = o[LIST_OFFSET[kind] as number] as number;
  if (kind !== A.gmemCount) return [at, at + 1 + (v[at] as number)];
  return [at, o[OFF_F] as number];
}

/** Where each list starts in Offsets, by its count's address kind and its items'. */
const LIST_OFFSET: Record<number, number> = {
  [A.vmCount]: OFF_V,
  [A.vm]: OFF_V,
  [A.gmemCount]: OFF_G,
  [A.fdCount]: OFF_F,
  [A.fd]: OFF_F,
  [A.mapCount]: OFF_M,
  [A.map]: OFF_M,
  [A.pinCount]: OFF_P,
  [A.pin]: OFF_P,
};

/** The start and end (exclusive) of guest_memfd g's header, page count and pages. */
export function gmemSpan(v: Packed, o: Offsets, g: number): [number, number] {
  const at = o[OFF_GMEM + g] as number;
  return [at, at + 2 + (v[at + 1] as number)];
}

export function headerOf(g: GmemState): GmemHeader {
  const { pages: _pages, ...h } = g;
  return h;
}

/** Pack a state (interning its parts). Throws for a page entry past the end of its file (never made by step()). */
export function pack(s: SystemState, t: PartTable): Packed {
  const out: number[] = [s.proc, t.id('names', s.names), s.vms.length];
  for (const x of s.vms) out.push(t.id('vm', x));
  out.push(s.gmems.length);
  if (s.gmems.length > MAX_GMEMS) throw new Error(`internal: more than ${MAX_GMEMS} guest_memfds in one state`);
  for (const g of s.gmems) pushGmem(out, g, t);
  out.push(s.fds.length);
  for (const x of s.fds) out.push(t.id('fd', x));
  out.push(s.maps.length);
  for (const x of s.maps) out.push(t.id('map', x));
  out.push(s.pins.length);
  for (const x of s.pins) out.push(t.id('pin', x));
  return Int32Array.from(out);
}

/** The state a vector stands for, as plain (frozen, shared) parts: for replay, coverage and reports. */
export function unpack(v: Packed, t: PartTable): SystemState {
  return unpackIndexed(v, t).state;
}

/** unpack, with the index of each guest_memfd object it made (packFrom copies those from the vector). */
export function unpackIndexed(v: Packed, t: PartTable): { state: SystemState; gmemAt: Map<object, number> } {
  const o = offsetsOf(v, SCRATCH_OFFSETS);
  const gmems: GmemState[] = [];
  const gmemAt = new Map<object, number>();
  const ng = v[o[OFF_G] as number] as number;
  for (let g = 0; g < ng; g++) {
    const at = o[OFF_GMEM + g] as number;
    const pages: Record<string, PageState> = {};
    for (let k = 0; k < (v[at + 1] as number); k++) {
      const id = v[at + 2 + k] as number;
      if (id >= 0) pages[String(k)] = t.objects[id] as PageState;
    }
    const gmem = { ...(t.objects[v[at] as number] as GmemHeader), pages };
    gmemAt.set(gmem, gmems.length);
    gmems.push(gmem);
  }
  const state: SystemState = {
    proc: v[0] as number,
    names: t.objects[v[1] as number] as SystemState['names'],
    vms: listOf(v, t, o[OFF_V] as number),
    gmems,
    fds: listOf(v, t, o[OFF_F] as number),
    maps: listOf(v, t, o[OFF_M] as number),
    pins: listOf(v, t, o[OFF_P] as number),
  };
  return { state, gmemAt };
}

function listOf<T>(v: Packed, t: PartTable, start: number): T[] {
  const n = v[start] as number;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(t.objects[v[start + 1 + i] as number] as T);
  return out;
}

const SCRATCH_OFFSETS = newOffsets();

/**
 * Pack a state made by a step from `from` (unpacked by unpackIndexed, with `gmemAt`): parts passed on
 * unchanged are known by identity, a guest_memfd passed on unchanged is copied from the vector.
 */
export function packFrom(s: SystemState, t: PartTable, from: Packed, gmemAt: Map<object, number>): Packed {
  const o = offsetsOf(from, SCRATCH_OFFSETS);
  const out: number[] = [s.proc, t.id('names', s.names), s.vms.length];
  for (const x of s.vms) out.push(t.id('vm', x));
  out.push(s.gmems.length);
  if (s.gmems.length > MAX_GMEMS) throw new Error(`internal: more than ${MAX_GMEMS} guest_memfds in one state`);
  for (const g of s.gmems) {
    const same = gmemAt.get(g);
    if (same !== undefined) {
      const [a, b] = gmemSpan(from, o, same);
      for (let i = a; i < b; i++) out.push(from[i] as number);
      continue;
    }
    pushGmem(out, g, t);
  }
  out.push(s.fds.length);
  for (const x of s.fds) out.push(t.id('fd', x));
  out.push(s.maps.length);
  for (const x of s.maps) out.push(t.id('map', x));
  out.push(s.pins.length);
  for (const x of s.pins) out.push(t.id('pin', x));
  return Int32Array.from(out);
}

function pushGmem(out: number[], g: GmemState, t: PartTable): void {
  out.push(t.id('header', headerOf(g)), g.sizePages);
  const first = out.length;
  for (let k = 0; k < g.sizePages; k++) out.push(-1);
  for (const k of Object.keys(g.pages)) {
    const i = Number(k);
    if (!(i >= 0 && i < g.sizePages && Number.isInteger(i)))
      throw new Error(`internal: page entry ${k} outside a ${g.sizePages}-page file`);
    out[first + i] = t.id('page', g.pages[k] as PageState);
  }
}

function mix(h: number, k: number): number {
  let x = Math.imul(k, 0xcc9e2d51);
  x = (x << 15) | (x >>> 17);
  x = Math.imul(x, 0x1b873593);
  const y = h ^ x;
  return (Math.imul((y << 13) | (y >>> 19), 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/**
 * The 64-bit fingerprint of a packed state, into out[0] (lo) and out[1] (hi): counts mixed in as numbers, parts
 * as their hashes, in order. Never (0, 0), which marks an empty slot in the fingerprint tables.
 */
export function fingerprintOf(v: Packed, t: PartTable, out: Int32Array): Int32Array {
  // No closures in here (the TypeScript loader wraps each one it creates, on every call).
  const lo = t.hashLo;
  const hi = t.hashHi;
  let a = mix(0x2545f491, v[0] as number);
  let b = mix(0x61c88647, v[0] as number);
  const names = v[1] as number;
  a = mix(a, lo[names] as number);
  b = mix(b, hi[names] as number);
  let i = 2;
  // vms, then gmems (header, page count, pages), then fds, maps, pins: each list's count goes in first.
  for (let list = 0; list < 5; list++) {
    const n = v[i++] as number;
    a = mix(a, n);
    b = mix(b, n);
    for (let j = 0; j < n; j++) {
      let parts = 1;
      if (list === 1) {
        const h = v[i++] as number;
        a = mix(a, lo[h] as number);
        b = mix(b, hi[h] as number);
        parts = v[i++] as number;
        a = mix(a, parts);
        b = mix(b, parts);
      }
      for (let k = 0; k < parts; k++) {
        const x = v[i++] as number;
        if (x < 0) {
          a = mix(a, 0x5bd1e995);
          b = mix(b, 0x27d4eb2f);
        } else {
          a = mix(a, lo[x] as number);
          b = mix(b, hi[x] as number);
        }
      }
    }
  }
  a = fmix(a);
  b = fmix(b ^ Math.imul(a, 0x9e3779b1));
  if (a === 0 && b === 0) b = 1;
  out[0] = a;
  out[1] = b;
  return out;
}
