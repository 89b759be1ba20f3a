/**
 * State fingerprints, as TLC keeps them: the checker remembers a 64-bit hash of each state's canonical key
 * instead of the key (a few hundred bytes) or the state. Two different states with the same fingerprint would
 * make the second look visited (a missed state, never a false violation: every counterexample is replayed
 * with step() before it is reported). The probability of any collision among n states is about n²/2^65; the
 * checker prints it.
 */

/** Two independent 32-bit hashes of a string: FNV-1a and a murmur3-style mix with another seed. */
export function fingerprint(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35);
  b ^= b >>> 16;
  b ^= key.length;
  // (0, 0) marks an empty slot in FingerprintTable.
  if (a === 0 && b === 0) b = 1;
  return [a | 0, b | 0];
}

export function fpString(lo: number, hi: number): string {
  return `${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`;
}

/** The probability that two of n states share a fingerprint (birthday bound, 64 bits). */
export function collisionProbability(n: number): number {
  return (n * n) / 2 ** 65;
}

/** Linear probing: the slot holding (lo, hi), or the empty slot where it would go. */
function slotOf(los: Int32Array, his: Int32Array, mask: number, lo: number, hi: number): number {
  let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
  for (;;) {
    const l = los[i] as number;
    const h = his[i] as number;
    if ((l === 0 && h === 0) || (l === lo && h === hi)) return i;
    i = (i + 1) & mask;
  }
}

/** Table capacity for `capacity` entries at a load factor of at most 1/2 (a power of two, at least 16). */
function capacityFor(capacity: number): number {
  let cap = 1 << 4;
  while (cap < capacity * 2) cap <<= 1;
  return cap;
}

/**
 * An open-addressing hash table from fingerprints to the BFS tree: each entry keeps its parent's
 * fingerprint, the index of the event (in eventsFor's list for the parent) that reached it, and its depth.
 * About 18 bytes per state at the 0.5 load factor it grows at... times two for the slack.
 */
export class FingerprintTable {
  private lo: Int32Array;
  private hi: Int32Array;
  private plo: Int32Array;
  private phi: Int32Array;
  private ev: Uint16Array;
  private dep: Uint16Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1 << 12) {
    const cap = capacityFor(capacity);
    this.lo = new Int32Array(cap);
    this.hi = new Int32Array(cap);
    this.plo = new Int32Array(cap);
    this.phi = new Int32Array(cap);
    this.ev = new Uint16Array(cap);
    this.dep = new Uint16Array(cap);
    this.mask = cap - 1;
  }

  get bytes(): number {
    return (this.mask + 1) * 20;
  }

  private slot(lo: number, hi: number): number {
    return slotOf(this.lo, this.hi, this.mask, lo, hi);
  }

  has(lo: number, hi: number): boolean {
    const i = this.slot(lo, hi);
    return this.lo[i] === lo && this.hi[i] === hi && !(lo === 0 && hi === 0);
  }

  /** Insert; false when already present (nothing changes). */
  add(lo: number, hi: number, plo: number, phi: number, ev: number, depth: number): boolean {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const i = this.slot(lo, hi);
    if (this.lo[i] === lo && this.hi[i] === hi) return false;
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.plo[i] = plo;
    this.phi[i] = phi;
    this.ev[i] = ev;
    this.dep[i] = depth;
    this.size++;
    return true;
  }

  /** The parent link of a fingerprint, or undefined when absent. */
  parent(lo: number, hi: number): { plo: number; phi: number; ev: number; depth: number } | undefined {
    const i = this.slot(lo, hi);
    if (this.lo[i] !== lo || this.hi[i] !== hi) return undefined;
    return { plo: this.plo[i] as number, phi: this.phi[i] as number, ev: this.ev[i] as number, depth: this.dep[i] as number };
  }

  private grow(): void {
    const old = { lo: this.lo, hi: this.hi, plo: this.plo, phi: this.phi, ev: this.ev, dep: this.dep };
    const cap = (this.mask + 1) * 2;
    this.lo = new Int32Array(cap);
    this.hi = new Int32Array(cap);
    this.plo = new Int32Array(cap);
    this.phi = new Int32Array(cap);
    this.ev = new Uint16Array(cap);
    this.dep = new Uint16Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < old.lo.length; j++) {
      const l = old.lo[j] as number;
      const h = old.hi[j] as number;
      if (l === 0 && h === 0) continue;
      const i = this.slot(l, h);
      this.lo[i] = l;
      this.hi[i] = h;
      this.plo[i] = old.plo[j] as number;
      this.phi[i] = old.phi[j] as number;
      this.ev[i] = old.ev[j] as number;
      this.dep[i] = old.dep[j] as number;
    }
  }
}

/** A set of fingerprints (the same table without the tree). */
export class FingerprintSet {
  private lo: Int32Array;
  private hi: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1 << 12) {
    const cap = capacityFor(capacity);
    this.lo = new Int32Array(cap);
    this.hi = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get bytes(): number {
    return (this.mask + 1) * 8;
  }

  private slot(lo: number, hi: number): number {
    return slotOf(this.lo, this.hi, this.mask, lo, hi);
  }

  has(lo: number, hi: number): boolean {
    const i = this.slot(lo, hi);
    return this.lo[i] === lo && this.hi[i] === hi;
  }

  add(lo: number, hi: number): boolean {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const i = this.slot(lo, hi);
    if (this.lo[i] === lo && this.hi[i] === hi) return false;
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.size++;
    return true;
  }

  private grow(): void {
    const ol = this.lo;
    const oh = this.hi;
    const cap = (this.mask + 1) * 2;
    this.lo = new Int32Array(cap);
    this.hi = new Int32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < ol.length; j++) {
      const l = ol[j] as number;
      const h = oh[j] as number;
      if (l === 0 && h === 0) continue;
      const i = this.slot(l, h);
      this.lo[i] = l;
      this.hi[i] = h;
    }
  }
}
