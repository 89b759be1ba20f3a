/**
 * The step cache's decision trees in flat arrays (src/check/packed/forest.ts): a function filed under what it
 * read answers every state that agrees on those reads, through table growth and leaf replacement, and a
 * function that reads in another order for the same values is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Forest } from '../src/check/packed/forest.ts';
import { A, type Packed, address, newOffsets, offsetsOf, valueAt } from '../src/check/packed/packed.ts';
import { PartTable } from '../src/check/packed/parts.ts';

const table = new PartTable();
/** A packed state holding only a VM list with these ids (the other lists empty). */
const stateOf = (vms: readonly number[]): Packed => Int32Array.from([0, 0, vms.length, ...vms, 0, 0, 0, 0]);
const vm = (i: number) => address(A.vm, i);

/** A function of the state that reads VM 0, then VM 1 or VM 2 depending on it: its reads and its result. */
function f(v: Packed): { reads: number[]; result: number } {
  const o = offsetsOf(v, newOffsets());
  const reads: number[] = [];
  const read = (a: number) => {
    const x = valueAt(v, o, a, table);
    reads.push(a, x);
    return x;
  };
  const first = read(vm(0));
  const second = read(first % 2 === 0 ? vm(1) : vm(2));
  return { reads, result: first * 1000 + second };
}

describe('decision trees in flat arrays', () => {
  it('answer what the function answers, for every state that agrees on its reads (thousands of nodes)', () => {
    const forest = new Forest<number>();
    const root = forest.root();
    let hits = 0;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 3, maxLength: 3 }), (vms) => {
        const v = stateOf(vms);
        const o = offsetsOf(v, newOffsets());
        const want = f(v);
        const got = forest.lookup(root, v, o, table);
        if (got === undefined) forest.insert(root, want.reads, want.result);
        else {
          hits++;
          expect(got).toBe(want.result);
        }
        expect(forest.lookup(root, v, o, table)).toBe(want.result);
      }),
      { numRuns: 20_000, seed: 3 },
    );
    // Past the initial 4,096 nodes and 8,192 branch slots: the tables grew and kept every branch.
    expect(forest.size).toBeGreaterThan(10_000);
    expect(hits).toBeGreaterThan(1000);
  });

  it('keeps separate trees apart, replaces a leaf filed again, and refuses reads in another order', () => {
    const forest = new Forest<string>();
    const [a, b] = [forest.root(), forest.root()];
    const v = stateOf([4, 5, 6]);
    const o = offsetsOf(v, newOffsets());
    forest.insert(a, [vm(0), 4], 'a');
    expect(forest.lookup(a, v, o, table)).toBe('a');
    expect(forest.lookup(b, v, o, table)).toBeUndefined();
    forest.insert(a, [vm(0), 4], 'a again');
    expect(forest.lookup(a, v, o, table)).toBe('a again');
    expect(() => forest.insert(a, [vm(1), 5], 'other order')).toThrow(/not deterministic/);
    // A leaf where the tree reads on is a contradiction too.
    expect(() => forest.insert(a, [], 'no reads')).toThrow(/not deterministic/);
  });
});
