/**
 * A digest of a whole state graph: the states in their order by their keys, every edge's endpoints, step,
 * outcome and rule, and the interned steps, outcomes and rules. Two explorations that give the same digest
 * built the same graph, numbered the same way; the figure bench/step.bench.ts prints is this one.
 */
import { createHash } from 'node:crypto';
import type { StateGraph } from '../../spec/explore/explorer.ts';
import { outcomeKey, stepKey } from '../../spec/explore/keys.ts';
import { stateKey } from '../../spec/explore/stateKey.ts';

export function graphDigest(g: StateGraph): string {
  const h = createHash('sha256');
  for (const s of g.states) h.update(`${stateKey(s)}\n`);
  for (let e = 0; e < g.edgeCount; e++) h.update(`${g.edgeFrom[e]} ${g.edgeTo[e]} ${g.edgeStep[e]} ${g.edgeOutcome[e]} ${g.edgeRule[e]}\n`);
  for (const st of g.steps) h.update(`${stepKey(st)}\n`);
  for (const o of g.outcomes) h.update(`${outcomeKey(o)}\n`);
  for (const r of g.rules) h.update(`${r.id}\n`);
  return h.digest('hex').slice(0, 16);
}
