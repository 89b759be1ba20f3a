/**
 * Child process for test/explore-xstate.test.ts: builds one profile's graph with both engines and prints, as one
 * JSON line, each graph's size, digest (states in order, edges, steps, outcomes, rules) and a hash of its BFS
 * tree, and where they differ, the first state or edge on which they do. A child, because xstate/graph's traversal is synchronous and long enough (tens
 * of seconds for the largest profile) to starve the test runner's own messages.
 *
 *   node --import tsx test/support/engineGraphs.ts PROFILE BOUND
 */
import { createHash } from 'node:crypto';
import { parseBound } from '../../spec/explore/bound.ts';
import { type StateGraph, explore } from '../../spec/explore/explorer.ts';
import { outcomeKey, stepKey } from '../../spec/explore/keys.ts';
import { stateKey } from '../../spec/explore/stateKey.ts';
import { exploreWithXState } from '../../spec/explore/xstateExplorer.ts';
import { getProfile } from '../../spec/profiles/index.ts';
import { graphDigest } from '../../src/generate/graphDigest.ts';

/** The graph as lines: every state's key in order, then every edge with its tree parent marked. */
function lines(g: StateGraph): string[] {
  const out = g.states.map((s, i) => `state ${i} ${stateKey(s)} parent ${g.parentEdge[i]} depth ${g.depth[i]}`);
  for (let e = 0; e < g.edgeCount; e++) {
    const step = g.steps[g.edgeStep[e] as number];
    const outcome = g.outcomes[g.edgeOutcome[e] as number];
    const said = `${step ? stepKey(step) : '?'} ${outcome ? outcomeKey(outcome) : '?'} ${g.rules[g.edgeRule[e] as number]?.id}`;
    out.push(`edge ${e} ${g.edgeFrom[e]}>${g.edgeTo[e]} ${said}`);
  }
  return out;
}

function summary(g: StateGraph) {
  const tree = createHash('sha256').update(g.parentEdge).update(g.depth).digest('hex').slice(0, 16);
  return { states: g.states.length, edges: g.edgeCount, complete: g.complete, digest: graphDigest(g), tree };
}

const [name = '', bound = ''] = process.argv.slice(2);
const profile = getProfile(name);
const ours = explore(profile, parseBound(bound));
const theirs = exploreWithXState(profile, parseBound(bound));
const a = summary(ours);
const b = summary(theirs);
let firstDifference: { explorer: string; xstate: string } | null = null;
if (JSON.stringify(a) !== JSON.stringify(b)) {
  const la = lines(ours);
  const lb = lines(theirs);
  let at = 0;
  while (at < la.length && la[at] === lb[at]) at++;
  firstDifference = { explorer: la[at] ?? '(nothing)', xstate: lb[at] ?? '(nothing)' };
}
console.log(JSON.stringify({ explorer: a, xstate: b, firstDifference }));
