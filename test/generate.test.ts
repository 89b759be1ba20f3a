/**
 * The test generator: which tests each coverage criterion selects, what the failure-order suite asserts, how
 * tests are named, and random conformance with shrinking.
 */
import { describe, expect, it } from 'vitest';
import { parseBound } from '../spec/explore/bound.ts';
import { compact } from '../spec/explore/compact.ts';
import { explore, pathTo } from '../spec/explore/explorer.ts';
import { stepKey } from '../spec/explore/keys.ts';
import { randomWalks } from '../spec/explore/random.ts';
import { stateKey } from '../spec/explore/stateKey.ts';
import { outcomesEqual } from '../spec/outcome.ts';
import { invariantsFor } from '../spec/invariants.ts';
import type { Outcome, Step, Trace } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { ReferenceBackend } from '../src/backend/reference.ts';
import type { Backend, TraceRun } from '../src/backend/types.ts';
import { main } from '../src/cli/main.ts';
import { ADAPTERS, failuresSuite } from '../src/generate/failures.ts';
import { generateProfile } from '../src/generate/generate.ts';
import { randomConformance } from '../src/generate/random.ts';
import { countPaths, onePathPerEdgeSteps, selectPaths, selectStates, selectTransitions } from '../src/generate/select.ts';
import { expectPhrase, outcomePhrase, stateWords, stepPhrase } from '../src/generate/words.ts';

const linux = getProfile('linux-6.18');
const g = explore(linux, parseBound('pages=1'));

describe('selecting tests from the graph of linux-6.18 with one page', () => {
  it('state: one shortest path to every reachable state, as the BFS-tree paths to the leaves', () => {
    const walks = selectStates(g);
    const reached = new Set<number>([0]);
    for (const w of walks) for (const e of w.edges) reached.add(g.edgeTo[e] as number);
    expect(reached.size).toBe(g.states.length);
    // Every state's own shortest path is a prefix of some test.
    const paths = walks.map((w) => w.edges.join(','));
    for (let s = 1; s < g.states.length; s += 11) {
      const mine: number[] = [];
      for (let x = s; x > 0; x = g.edgeFrom[g.parentEdge[x] as number] as number) mine.unshift(g.parentEdge[x] as number);
      expect(paths.some((p) => `${p},`.startsWith(`${mine.join(',')},`))).toBe(true);
    }
  });

  it('transition: every edge, self-loops and errors included, in far fewer and shorter tests than one path per edge', () => {
    const walks = selectTransitions(g);
    const covered = new Set<number>();
    for (const w of walks) {
      expect(g.edgeFrom[w.edges[0] as number]).toBe(0);
      w.edges.forEach((e, i) => {
        if (i) expect(g.edgeFrom[e]).toBe(g.edgeTo[w.edges[i - 1] as number]);
        covered.add(e);
      });
    }
    expect(covered.size).toBe(g.edgeCount);
    const steps = walks.reduce((n, w) => n + w.edges.length, 0);
    expect(walks.length * 10).toBeLessThan(g.edgeCount);
    expect(steps * 3).toBeLessThan(onePathPerEdgeSteps(g));
  });

  it("transition: a state's refusals are taken in the walk that first reaches the state, right after it arrives", () => {
    const [w] = selectTransitions(g);
    // The first walk starts at the initial state: its first steps are the initial state's self-loops.
    const selfLoopsOfRoot = Array.from({ length: g.edgeCount }, (_, e) => e).filter((e) => g.edgeFrom[e] === 0 && g.edgeTo[e] === 0);
    expect(w?.edges.slice(0, selfLoopsOfRoot.length)).toEqual(selfLoopsOfRoot);
  });

  it('path:L: every path of exactly L operations, and a clear refusal when there are too many', () => {
    expect(selectPaths(g, 2).length).toBe(countPaths(g, 2));
    expect(() => selectPaths(g, 6)).toThrow(/path:6 would generate .* tests .* the limit is 2000/);
  });
});

describe('the failure-order suite of linux-6.18', () => {
  const r = failuresSuite(linux, g, invariantsFor(linux));

  it("asserts every condition of fallocate's check list alone, in the kernel's order", () => {
    const singles = r.tests.filter((t) => t.failure?.op === 'fallocate' && t.failure.kind === 'single');
    expect(singles.map((t) => t.failure?.holding[0])).toEqual((ADAPTERS.fallocate?.checks() ?? []).map((c) => c.id));
    for (const t of singles)
      expect(t.steps.at(-1)?.expected).toEqual({
        errno: (ADAPTERS.fallocate?.checks() ?? []).find((c) => c.id === t.failure?.holding[0])?.errno,
      });
  });

  it("for a pair that holds at once, the earlier check's errno wins (an unaligned PUNCH_HOLE without KEEP_SIZE is EOPNOTSUPP)", () => {
    const t = r.tests.find(
      (x) =>
        x.failure?.kind === 'pair' && x.failure.holding[0] === 'fallocate.vfs-mode' && x.failure.holding.includes('fallocate.unaligned'),
    );
    expect(t?.steps.at(-1)?.expected).toEqual({ errno: 'EOPNOTSUPP' });
    expect(t?.title).toMatch(/EOPNOTSUPP wins over EINVAL/);
  });

  it('builds the contexts a condition needs: the fd closed first, the call from a forked child, a second VM', () => {
    const last = (id: string) => r.tests.find((x) => x.failure?.holding.length === 1 && x.failure.holding[0] === id)?.steps;
    expect(last('fallocate.fd-closed')?.some((s) => s.op === 'close')).toBe(true);
    expect(last('create_gmem.vm-other-mm')?.at(-1)?.op).toBe('fork');
    expect(
      r.tests.some(
        (x) => x.failure?.holding[0] === 'set_memory_region2.gmem-other-vm' && x.steps.some((s) => s.op === 'create_vm' && s.as === 'vmX'),
      ),
    ).toBe(true);
  });

  it('says which conditions cannot be reached in this profile and why', () => {
    const missing = r.conditions.filter((c) => !c.found);
    expect(missing.find((c) => c.check === 'create_gmem.reserved-nonzero')?.why).toMatch(/no candidate/);
    expect(missing.find((c) => c.check === 'set_memory_attributes.flags')?.why).toMatch(/behind an earlier check/);
  });

  it('has a success case for every operation that can succeed', () => {
    const ok = new Set(r.tests.filter((t) => t.failure?.kind === 'success').map((t) => t.failure?.op));
    for (const op of ['create_vm', 'create_gmem', 'mmap', 'fallocate', 'set_memory_region2', 'pin', 'read_mem', 'write_mem'])
      expect(ok.has(op)).toBe(true);
  });
});

describe('names a kernel developer can read', () => {
  it('says operations and outcomes in ABI words', () => {
    expect(stepPhrase(linux, { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: 4096 })).toBe(
      'fallocate(g0, PUNCH_HOLE|KEEP_SIZE, page 0)',
    );
    expect(stepPhrase(linux, { op: 'create_gmem', vm: 'vm0', size: 8192, flags: 3, as: 'g0' })).toBe(
      'KVM_CREATE_GUEST_MEMFD(vm0, 2 pages, MMAP|INIT_SHARED) as g0',
    );
    expect(stepPhrase(linux, { op: 'write_mem', map: 'm0', offset: 4096, value: 1 })).toBe('a host write of 1 to page 1 through m0');
    expect(outcomePhrase({ access: 'ok', value: 0 })).toBe('reads 0');
    expect(expectPhrase({ errno: 'EINVAL' })).toBe('fail with EINVAL');
    expect(outcomePhrase({ access: 'SIGBUS' })).toBe('is SIGBUS');
  });

  it('describes a state by what a caller can see of it', () => {
    const s = g.states.find(
      (x) => x.maps.length && Object.keys(x.gmems[0]?.pages ?? {}).length && x.gmems[0]?.pages['0']?.backing === 'initialised',
    );
    expect(s && stateWords(linux, s)).toBe(
      'vm0; g0 (MMAP|INIT_SHARED, 1 page): page 0 shared, zeroed, host-mapped by m0; m0 maps guest_memfd #0',
    );
  });

  it('the transition suite names each group: the refusals of a state, each move with the state it gives', () => {
    const out = generateProfile({ profile: linux, bound: parseBound('pages=1,pins=0'), coverage: ['transition'], command: 'test' });
    const vitest = out.files.get('transition.test.ts') ?? '';
    expect(vitest).toMatch(/operation\(s\) leave the state as it is: KVM_CREATE_GUEST_MEMFD ×3 \(EINVAL ×3\), memslot delete \(EINVAL\)/);
    expect(vitest).toMatch(/steps\(\d+, \d+, "fallocate\(g0, PUNCH_HOLE\|KEEP_SIZE, page 0\) succeeds, giving/);
    expect(out.coverage.suites).toMatchObject({ transition: { edgesCovered: out.graph.edgeCount } });
  });
});

/** A backend that gets one thing wrong: read() on a guest_memfd fails with ESPIPE instead of EINVAL. */
class ReadErrno implements Backend {
  readonly name = 'read-errno';
  private readonly ref = new ReferenceBackend(linux);
  async capabilities() {
    return this.ref.capabilities();
  }
  async run(trace: Trace): Promise<TraceRun> {
    const { outcomes } = await this.ref.run(trace);
    return {
      outcomes: trace.steps.map((s: Step, i) =>
        s.op === 'read' && 'errno' in (outcomes[i] as Outcome) ? { errno: 'ESPIPE' } : (outcomes[i] as Outcome),
      ),
    };
  }
  async close() {}
}

describe('random conformance', () => {
  // The random walker and the explorer are two readings of one model (eventsFor, step, compact): every random
  // walk is a path of the explored graph, step by step, with the graph's outcome. A state the key does not tell
  // apart (SEV vs SNP VMs once shared one) or an event the explorer does not try makes a walk leave the graph.
  it.each([
    ['linux-6.18', 'pages=2'],
    ['sev-snp', 'pages=1,pins=0'],
    ['inplace-conversion', 'pages=1,pins=0,slots=0'],
  ])('%s (%s): every random walk is a path of the explored graph', (name, boundText) => {
    const profile = getProfile(name);
    const bound = parseBound(boundText);
    const graph = explore(profile, bound);
    const ids = new Map(graph.states.map((s, i) => [stateKey(s), i]));
    const out = new Map<string, number>();
    for (let e = 0; e < graph.edgeCount; e++)
      out.set(`${graph.edgeFrom[e]}|${stepKey(graph.steps[graph.edgeStep[e] as number] as Step)}`, e);
    let steps = 0;
    const off = randomWalks(profile, bound, { seed: 11, runs: 150, maxLength: 40 }, (walk) => {
      let at = 0;
      for (const [i, st] of walk.steps.entries()) {
        steps++;
        const e = out.get(`${at}|${stepKey(st)}`);
        if (e === undefined) return `step ${i + 1} (${stepKey(st)}) is not an edge of state ${at}`;
        const r = walk.results[i] as (typeof walk.results)[number];
        if (!outcomesEqual(r.outcome, graph.outcomes[graph.edgeOutcome[e] as number] as Outcome))
          return `step ${i + 1}: the walk says ${JSON.stringify(r.outcome)}, the graph ${JSON.stringify(graph.outcomes[graph.edgeOutcome[e] as number])}`;
        const next = ids.get(stateKey(compact(r.state)));
        if (next !== graph.edgeTo[e]) return `step ${i + 1} reaches state ${next}, the graph's edge goes to ${graph.edgeTo[e]}`;
        at = graph.edgeTo[e] as number;
      }
      return undefined;
    });
    expect(off?.problem).toBeUndefined();
    expect(steps).toBeGreaterThan(500);
  });

  it('a backend with a wrong errno is caught, and the walk shrinks to the shortest trace that shows it, with the seed in the message', async () => {
    const r = await randomConformance(linux, parseBound('pages=2'), new ReadErrno(), { seed: 42, runs: 100, maxLength: 40 });
    expect(r.failure?.message).toMatch(
      /^seed 42: step 3 of 3 \(read\(g0, 1 page\)\): the spec expects EINVAL \(read.no-file-op: .*\), the backend observed ESPIPE$/,
    );
    expect(r.failure?.trace.steps.map((s) => s.op)).toEqual(['create_vm', 'create_gmem', 'read']);
    expect(r.failure?.trace.steps.at(-1)).toMatchObject({ expected: { errno: 'EINVAL' }, observed: { errno: 'ESPIPE' } });
  });
});

describe('gmem-spec generate', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
  };

  it('refuses path coverage that would not finish, saying how many tests it would take', async () => {
    const x = io();
    expect(
      await main(
        ['generate', '--profile', 'linux-6.18', '--bound', 'pages=1', '--coverage', 'path:9', '--out', '/tmp/gmem-gen-test'],
        x.io,
      ),
    ).toBe(2);
    expect(x.err.join('\n')).toMatch(/path:9 would generate .* tests/);
  });

  // Random conformance is reproducible from its seed: the same walks (same step count) every run, and the count
  // is the library's for that seed.
  it('random walks are reproducible from the seed', async () => {
    const run = async () => {
      const x = io();
      expect(await main(['generate', '--profile', 'linux-6.18', '--seed', '3', '--random', '5', '--bound', 'pages=1'], x.io)).toBe(0);
      return x.out.join('\n');
    };
    const first = await run();
    expect(await run()).toBe(first);
    const lib = await randomConformance(linux, parseBound('pages=1'), new ReferenceBackend(linux), { seed: 3, runs: 5, maxLength: 40 });
    expect(first).toContain(`(seed 3): ${lib.steps} steps`);
  });
});

void pathTo;
