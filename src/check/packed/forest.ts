/**
 * Decision trees in flat arrays: the successor cache's memory (successors.ts). A node either reads one address
 * of the packed state and branches on its value, or is a leaf holding a result. Nodes are numbers; every
 * branch of every tree is one entry of a single open-addressing table keyed by (node, value). So a lookup
 * touches a few typed-array slots per read instead of an object and a Map per node: the trees of a long run
 * hold millions of nodes, and walking them is most of a cache hit's cost.
 */
import { type Offsets, type Packed, valueAt } from './packed.ts';
import type { PartTable } from './parts.ts';

const UNSET = -2;
const LEAF = -1;
const EMPTY = -1;

export class Forest<R> {
  /** Per node: the address it reads, LEAF, or UNSET (a node created by a branch, not yet told what it reads). */
  private addr = new Int32Array(1 << 12);
  /** Per node: the leaf's result. */
  private results: Array<R | undefined> = [];
  private count = 0;
  /** Branches: (node, value) → child, open addressing, at most half full. */
  private eNode = new Int32Array(1 << 13).fill(EMPTY);
  private eVal = new Int32Array(1 << 13);
  private eChild = new Int32Array(1 << 13);
  private mask = (1 << 13) - 1;
  private branches = 0;

  /** Nodes held (every tree). */
  get size(): number {
    return this.count;
  }

  /** A new empty tree: its root node. */
  root(): number {
    return this.newNode();
  }

  /** The result for state v (its offsets o), or undefined if the tree has none yet. */
  lookup(root: number, v: Packed, o: Offsets, t: PartTable): R | undefined {
    const addr = this.addr;
    let n = root;
    for (;;) {
      const a = addr[n] as number;
      if (a === LEAF) return this.results[n];
      if (a === UNSET) return undefined;
      n = this.child(n, valueAt(v, o, a, t));
      if (n < 0) return undefined;
    }
  }

  /**
   * File `result` under `reads` ((address, value) pairs in the order read) from `root`; replaces the result of a
   * leaf already there. Throws if the reads contradict the tree (the function read in another order for the same
   * values: it is not deterministic).
   */
  insert(root: number, reads: readonly number[], result: R): void {
    let n = root;
    for (let i = 0; ; i += 2) {
      const a = this.addr[n] as number;
      if (a === UNSET) {
        if (i >= reads.length) {
          this.addr[n] = LEAF;
          this.results[n] = result;
          return;
        }
        this.addr[n] = reads[i] as number;
      } else if (a === LEAF && i >= reads.length) {
        this.results[n] = result;
        return;
      }
      if (this.addr[n] === LEAF || i >= reads.length || reads[i] !== this.addr[n])
        throw new Error('internal: a memoised function read the state in another order for the same values (it is not deterministic)');
      const val = reads[i + 1] as number;
      let c = this.child(n, val);
      if (c < 0) {
        c = this.newNode();
        this.addBranch(n, val, c);
      }
      n = c;
    }
  }

  private child(n: number, val: number): number {
    const eNode = this.eNode;
    let i = hash(n, val) & this.mask;
    for (;;) {
      const k = eNode[i] as number;
      if (k === EMPTY) return -1;
      if (k === n && this.eVal[i] === val) return this.eChild[i] as number;
      i = (i + 1) & this.mask;
    }
  }

  private newNode(): number {
    if (this.count === this.addr.length) {
      const a = new Int32Array(this.addr.length * 2);
      a.set(this.addr);
      this.addr = a;
    }
    this.addr[this.count] = UNSET;
    return this.count++;
  }

  private addBranch(n: number, val: number, c: number): void {
    if ((this.branches + 1) * 2 > this.eNode.length) this.growBranches();
    let i = hash(n, val) & this.mask;
    while (this.eNode[i] !== EMPTY) i = (i + 1) & this.mask;
    this.eNode[i] = n;
    this.eVal[i] = val;
    this.eChild[i] = c;
    this.branches++;
  }

  private growBranches(): void {
    const [nodes, vals, children] = [this.eNode, this.eVal, this.eChild];
    const cap = nodes.length * 2;
    this.eNode = new Int32Array(cap).fill(EMPTY);
    this.eVal = new Int32Array(cap);
    this.eChild = new Int32Array(cap);
    this.mask = cap - 1;
    this.branches = 0;
    for (let i = 0; i < nodes.length; i++)
      if (nodes[i] !== EMPTY) this.addBranch(nodes[i] as number, vals[i] as number, children[i] as number);
  }
}

function hash(n: number, val: number): number {
  const h = Math.imul(n, 0x9e3779b1) ^ Math.imul(val, 0x85ebca6b);
  return h ^ (h >>> 15);
}
