/**
 * Symmetry reduction moves steps between pages (spec/explore/symmetry.ts, pageParam): a path through the reduced
 * graph is turned back into concrete steps by permuting each step that names one page. A step that names a page
 * but is left unpermuted replays on the wrong page: uffd_continue did, until every operation had to say how it
 * addresses a page (its module's `pageAddress` facet, which pageParam reads).
 */
import { describe, expect, it } from 'vitest';
import { parseBound } from '../spec/explore/bound.ts';
import { compact } from '../spec/explore/compact.ts';
import { explore, pathThrough } from '../spec/explore/explorer.ts';
import { stateKey } from '../spec/explore/stateKey.ts';
import { canonicalise, symmetryApplies } from '../spec/explore/symmetry.ts';
import { outcomesEqual } from '../spec/outcome.ts';
import { PROFILES } from '../spec/profiles/index.ts';
import { type SystemState, emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';

const SYMMETRIC = PROFILES.filter(symmetryApplies).map((p) => [p.name, p] as const);

describe('paths through a symmetry-reduced graph replay concretely', () => {
  it('covers the profiles with userfaultfd, whose continue names one page', () => {
    expect(SYMMETRIC.map(([n]) => n)).toContain('uffd-minor');
  });

  it.each(SYMMETRIC)('%s, two pages: every edge, reached by its concrete path, has the outcome and target the graph says', (_name, p) => {
    const g = explore(p, parseBound('pages=2,pins=0,slots=0'), { symmetry: true });
    expect(g.symmetry).toBe(true);
    const wrong: string[] = [];
    for (let e = 0; e < g.edgeCount; e++) {
      const steps = pathThrough(g, e);
      let s: SystemState = emptySystem();
      let last: ReturnType<typeof step> | undefined;
      for (const st of steps) {
        last = step(p, s, st);
        s = last.state;
      }
      const outcome = outcomesEqual(last?.outcome ?? { ok: true }, g.outcomes[g.edgeOutcome[e] as number] as never);
      const target = stateKey(canonicalise(p, compact(s)).state) === stateKey(g.states[g.edgeTo[e] as number] as SystemState);
      if (!outcome || !target) wrong.push(JSON.stringify(steps.at(-1)));
    }
    expect(wrong.slice(0, 5), `${wrong.length} edges replay elsewhere`).toEqual([]);
  });
});
