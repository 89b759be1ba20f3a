/**
 * A state's 64-bit fingerprint computed from its parts, without building its key. The parts are the key's own
 * (spec/explore/stateKey.ts: each VM, guest_memfd, fd, mapping and pin, and the handle names), so the encoding
 * follows the state's serialisation and stays right when a field is added there. Each part's hash is computed
 * once per part object and remembered (World copies only what a step changes, and the page machine's memo hands
 * out the same page objects), so fingerprinting a successor costs a few lookups and one mixing round per part:
 * incremental where the step changes little.
 *
 * Two states get the same fingerprint when their part sequences are equal (barring a 64-bit collision), which is
 * when their keys are equal: the parts are joined in the same order, and each kind of part starts with its own
 * letter. Fingerprints depend only on the key text, never on the order parts were first seen, so every worker
 * thread computes the same fingerprint for a state (partitions are chosen by it).
 */
import { fdPart, gmemParts, mapPart, namesPart, pageKey, pinPart, vmParts } from '../../spec/explore/stateKey.ts';
import type { PageState, SystemState } from '../../spec/state.ts';
import { fingerprint } from './fingerprint.ts';

/** A part's key text and its two 32-bit hashes. */
export interface PartHash {
  key: string;
  lo: number;
  hi: number;
}

const CACHE_LIMIT = 1 << 18;

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

export class StateFingerprints {
  // As StateKeys does: parts enter the cache only through remember(), for the states the search keeps (their
  // successors share most of their parts), so the cache holds nothing the search drops. A Map, not a WeakMap:
  // ephemeron tables cost more than the hashing they save.
  private readonly parts = new Map<object, PartHash>();
  private readonly pages = new Map<PageState, string>();
  private pending: Array<[object, PartHash]> = [];
  private pendingPages: Array<[PageState, string]> = [];
  private readonly pageKeyOf = (p: PageState): string => {
    let k = this.pages.get(p);
    if (k === undefined) {
      k = pageKey(p);
      this.pendingPages.push([p, k]);
    }
    return k;
  };
  /** Part hashes computed (cache misses), for the benchmark. */
  computed = 0;

  /** The hash of one part of a state, remembered for the object. */
  part<T extends object>(o: T, keyOf: (o: T) => string): PartHash {
    let h = this.parts.get(o);
    if (h === undefined) {
      const key = keyOf(o);
      const [lo, hi] = fingerprint(key);
      h = { key, lo, hi };
      this.pending.push([o, h]);
      this.computed++;
    }
    return h;
  }

  private readonly gmemKey = (g: SystemState['gmems'][number]): string => gmemParts(g, this.pageKeyOf);

  /** The fingerprint of a state (never (0, 0): that marks an empty slot in the tables). */
  of(s: SystemState): [number, number] {
    this.pending = [];
    this.pendingPages = [];
    // No closures in here: the TypeScript loader wraps each one it creates, on every call.
    let a = mix(0x2545f491, s.proc);
    let b = mix(0x61c88647, s.proc);
    let h: PartHash;
    // Each list's length goes in too, so that the sequence of parts decides where one list ends.
    a = mix(a, s.vms.length);
    for (const v of s.vms) {
      h = this.part(v, vmParts);
      a = mix(a, h.lo);
      b = mix(b, h.hi);
    }
    a = mix(a, s.gmems.length);
    for (const g of s.gmems) {
      h = this.part(g, this.gmemKey);
      a = mix(a, h.lo);
      b = mix(b, h.hi);
    }
    // Small parts, and the names (which compaction rebuilds every time), are hashed directly: a cache lookup
    // costs about as much as hashing their few characters.
    let k: [number, number];
    a = mix(a, s.fds.length);
    for (const f of s.fds) {
      k = fingerprint(fdPart(f));
      a = mix(a, k[0]);
      b = mix(b, k[1]);
    }
    a = mix(a, s.maps.length);
    for (const m of s.maps) {
      k = fingerprint(mapPart(m));
      a = mix(a, k[0]);
      b = mix(b, k[1]);
    }
    a = mix(a, s.pins.length);
    for (const p of s.pins) {
      k = fingerprint(pinPart(p));
      a = mix(a, k[0]);
      b = mix(b, k[1]);
    }
    k = fingerprint(namesPart(s.names));
    a = fmix(mix(a, k[0]));
    b = fmix(mix(b, k[1]) ^ Math.imul(a, 0x9e3779b1));
    if (a === 0 && b === 0) b = 1;
    return [a | 0, b | 0];
  }

  /** Cache the parts of the state last fingerprinted (one the search keeps). */
  remember(): void {
    if (this.parts.size + this.pending.length > CACHE_LIMIT) this.parts.clear();
    if (this.pages.size + this.pendingPages.length > CACHE_LIMIT) this.pages.clear();
    for (const [o, h] of this.pending) this.parts.set(o, h);
    for (const [p, k] of this.pendingPages) this.pages.set(p, k);
    this.pending = [];
    this.pendingPages = [];
  }
}
