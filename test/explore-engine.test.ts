/**
 * The exploration engine (spec/explore/engine.ts) on a model small enough to know by heart: water jugs, as in
 * Die Hard with a Vengeance (and xstate/graph's own dieHard test). The engine finds the shortest way to 4
 * gallons; split into partitions that exchange their successors it keeps the very states, parents and depths a
 * single search keeps, whatever the order the partitions hear from each other; its limits stop it cleanly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExactStore, type ExplorationModel, type Move, Search, type StateStore, lessPath, lessPathThen } from '../spec/explore/engine.ts';

type Jugs = readonly number[];
type JugEvent = { op: 'fill' | 'empty'; jug: number } | { op: 'pour'; from: number; to: number };

function jugModel(sizes: readonly number[]): ExplorationModel<Jugs, JugEvent, Move<Jugs>> {
  const events: JugEvent[] = [];
  sizes.forEach((_, i) => events.push({ op: 'fill', jug: i }, { op: 'empty', jug: i }));
  sizes.forEach((_, i) =>
    sizes.forEach((__, j) => {
      if (i !== j) events.push({ op: 'pour', from: i, to: j });
    }),
  );
  return {
    initial: () => sizes.map(() => 0),
    events: () => events,
    transition: (s, e) => {
      const next = [...s];
      if (e.op === 'pour') {
        const moved = Math.min(s[e.from] as number, (sizes[e.to] as number) - (s[e.to] as number));
        next[e.from] = (s[e.from] as number) - moved;
        next[e.to] = (s[e.to] as number) + moved;
      } else next[e.jug] = e.op === 'fill' ? (sizes[e.jug] as number) : 0;
      return { next: next.every((v, i) => v === s[i]) ? s : next };
    },
    key: (s) => s.join('/'),
  };
}

/** A store that keeps keys with their parent link and owner by a string hash, for partitioned searches. */
class JugStore implements StateStore<string, string> {
  readonly links = new Map<string, { parent: string | undefined; event: number; depth: number }>();
  private readonly sent = new Set<string>();
  get size(): number {
    return this.links.size;
  }
  identify(key: string): string {
    return key;
  }
  find(key: string): string | undefined {
    return this.links.has(key) ? key : undefined;
  }
  add(key: string, parent: string | undefined, event: number, depth: number): string {
    this.links.set(key, { parent, event, depth });
    return key;
  }
  same(a: string, b: string): boolean {
    return a === b;
  }
  owner(key: string, parts: number): number {
    let h = 7;
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
    return h % parts;
  }
  text(key: string): string {
    return key;
  }
  sentBefore(key: string): boolean {
    return this.sent.has(key);
  }
  markSent(key: string): void {
    this.sent.add(key);
  }
}

/** Run `parts` partitions level by level in this thread; `reverse` delivers each level's mail in reverse order. */
function partitioned(
  sizes: readonly number[],
  parts: number,
  reverse: boolean,
): Map<string, { parent: string | undefined; event: number; depth: number }> {
  const stores = Array.from({ length: parts }, () => new JugStore());
  const searches = stores.map((st, index) => new Search(jugModel(sizes), st, {}, { partition: { index, parts } }));
  for (const s of searches) s.start();
  while (searches.some((s) => s.frontierSize > 0)) {
    for (const s of searches) expect(s.expand()).toBe(true);
    const order = searches.map((_, i) => i);
    if (reverse) order.reverse();
    const at = (i: number) => searches[i] as (typeof searches)[number];
    for (const from of order) for (const to of order) if (from !== to) at(to).receive(at(from).takeOutbox(to));
    for (const s of searches) s.commit();
  }
  const all = new Map<string, { parent: string | undefined; event: number; depth: number }>();
  for (const st of stores) for (const [k, v] of st.links) all.set(k, v);
  return all;
}

describe('the exploration engine, on water jugs', () => {
  it('Die Hard: 5 and 3 gallon jugs reach 4 gallons in 6 steps at the least, and the BFS tree says which', () => {
    const store = new JugStore();
    const search = new Search(jugModel([5, 3]), store, {}).run();
    expect(search.complete).toBe(true);
    const four = [...store.links.keys()].find((k) => k.startsWith('4/'));
    expect(four).toBeDefined();
    const path: string[] = [];
    for (let k: string | undefined = four; k !== undefined; k = store.links.get(k)?.parent) path.unshift(k);
    expect(path).toEqual(['0/0', '5/0', '2/3', '2/0', '0/2', '5/2', '4/3']);
    expect(store.links.get(four as string)?.depth).toBe(6);
  });

  it('three partitions keep the states, parents and depths one search keeps, whatever order the mail comes in', () => {
    const sizes = [7, 11, 13];
    const one = new JugStore();
    new Search(jugModel(sizes), one, {}).run();
    expect(one.size).toBeGreaterThan(100);
    const three = partitioned(sizes, 3, false);
    const reversed = partitioned(sizes, 3, true);
    const sorted = (m: Map<string, unknown>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    expect(sorted(three)).toEqual(sorted(one.links));
    expect(sorted(reversed)).toEqual(sorted(one.links));
  });

  it('every edge is heard once, with its fate; a self-loop is one that leaves the jugs as they were', () => {
    const fates = new Map<string, number>();
    let selfLoops = 0;
    const search = new Search(jugModel([5, 3]), new ExactStore(), {
      edge: (from, _e, _i, t, fate, to) => {
        fates.set(fate, (fates.get(fate) ?? 0) + 1);
        if (fate === 'self') {
          selfLoops++;
          expect(to).toBe(from.handle);
          expect(t.next).toBe(from.node);
        }
      },
    }).run();
    const states = fates.get('new') ?? 0;
    expect(states + 1).toBe(16);
    expect([...fates.values()].reduce((a, b) => a + b, 0)).toBe(16 * 6);
    expect(search.edges).toBe(16 * 6);
    expect(search.selfLoops).toBe(selfLoops);
  });

  it('a state limit keeps the search going without new states (incomplete); a depth limit expands nothing deeper', () => {
    let dropped = 0;
    const countDropped = {
      edge: (_f: unknown, _e: unknown, _i: number, _t: unknown, fate: string) => {
        if (fate === 'dropped') dropped++;
      },
    };
    const limited = new Search(jugModel([5, 3]), new ExactStore(), countDropped, { maxStates: 5 }).run();
    expect(limited.complete).toBe(false);
    expect(limited.stoppedBecause).toBe('state limit 5 reached');
    expect(dropped).toBeGreaterThan(0);
    const depths: number[] = [];
    new Search(
      jugModel([5, 3]),
      new ExactStore(),
      {
        expanded: (k) => {
          depths.push(k.depth);
        },
      },
      { maxDepth: 2 },
    ).run();
    expect(Math.max(...depths)).toBe(1);
  });

  it('progress that answers false interrupts the search between two states', () => {
    let calls = 0;
    const s = new Search(jugModel([7, 11, 13]), new ExactStore(), {}, { progress: { every: 10, report: () => ++calls < 3 } }).run();
    expect(calls).toBe(3);
    expect(s.complete).toBe(false);
    expect(s.stoppedBecause).toBe('interrupted');
    expect(s.expandedStates).toBe(21);
  });
});

describe('path order', () => {
  it('lessPathThen(prefix, event, b) is lessPath(prefix + the event char, b), without building the string', () => {
    const path = fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 6 }).map((xs) => String.fromCharCode(...xs));
    fc.assert(
      fc.property(path, fc.integer({ min: 0, max: 40 }), path, (prefix, event, b) => {
        expect(lessPathThen(prefix, event, b)).toBe(lessPath(prefix + String.fromCharCode(event), b));
      }),
      { numRuns: 2000, seed: 7 },
    );
    // The same path is not less than itself.
    expect(lessPathThen('ab', 99, 'abc')).toBe(false);
  });
});
