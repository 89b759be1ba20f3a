/**
 * `gmem-spec generate` succeeds for every profile with every coverage kind (state, transition, path:2, path:3,
 * failures) at the profile's committed bound, and each suite covers what its kind promises. The kinds a profile
 * commits (config.ts) are generated in full by the committed-suite tests (generated-suites*.test.ts); this loop
 * generates the others: about 15 s on the 2-core machine (the transition suites of pkvm, arm-cca, hugetlb and
 * exclusive-gup take 1-2 s each).
 */
import { describe, expect, it } from 'vitest';
import { parseBound } from '../spec/explore/bound.ts';
import { explore } from '../spec/explore/explorer.ts';
import { invariantsFor } from '../spec/invariants.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { COMMITTED } from '../src/generate/config.ts';
import { type Coverage, generateProfile, parseCoverage } from '../src/generate/generate.ts';
import { ReplayMismatchError, materialiseWalk } from '../src/generate/materialise.ts';
import { SelectionError, countPaths, selectTransitions } from '../src/generate/select.ts';

const KINDS: Coverage[] = ['state', 'transition', 'path:2', 'path:3', 'failures'];

describe.each(COMMITTED.map((c) => [c.profile, c.bound, c.coverage] as const))(
  'generate --profile %s (bound %s)',
  (name, bound, committed) => {
    it.each(KINDS.filter((k) => !committed.includes(k)))('--coverage %s', (kind) => {
      const g = generateProfile({ profile: getProfile(name), bound: parseBound(bound), coverage: [kind], command: 'test' });
      const suite = kind.startsWith('path:') ? 'path' : kind;
      const stats = g.suites[suite as keyof typeof g.suites];
      expect(stats?.tests).toBeGreaterThan(0);
      if (kind === 'state') expect(stats?.statesReached).toBe(g.graph.states.length);
      if (kind === 'transition') expect(stats?.edgesCovered).toBe(g.graph.edgeCount);
      if (kind.startsWith('path:')) expect(stats?.tests).toBe(countPaths(g.graph, Number(kind.slice(5))));
      expect(g.files.has(`${suite}.test.ts`)).toBe(true);
    });
  },
);

describe('generate errors', () => {
  it('refuses two path lengths in one run (both would write traces/path/)', () => {
    expect(() => parseCoverage('path:2,path:3')).toThrow(SelectionError);
    expect(() => parseCoverage('path:2,path:3')).toThrow(/one path length per run/);
    expect(parseCoverage('state,path:2,state')).toEqual(['state', 'path:2']);
  });

  it('a replay that disagrees with the graph is one line naming the profile, the trace and the step', () => {
    const profile = getProfile('linux-6.18');
    const g = explore(profile, parseBound('pages=1,pins=0'));
    const [walk] = selectTransitions(g);
    // Corrupt the graph: the walk's third edge now claims the outcome of an edge with another outcome.
    const e = walk!.edges[2]!;
    const other = g.edgeOutcome.findIndex((o) => o !== g.edgeOutcome[e]);
    g.edgeOutcome[e] = g.edgeOutcome[other]!;
    let err: unknown;
    try {
      materialiseWalk(
        profile,
        g,
        walk!,
        invariantsFor(profile),
        { suite: 'transition', file: 'traces/transition/w0001.json', name: 'w' },
        'transition',
      );
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(ReplayMismatchError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^generating linux-6.18: traces\/transition\/w0001.json step 3: .* replays as .*, the graph says .*$/);
    expect(msg).not.toContain('\n');
  });
});
