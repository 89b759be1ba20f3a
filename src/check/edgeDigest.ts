/**
 * An order-independent digest of a state graph's edges, each named by its source and target fingerprints
 * (stateFingerprint.ts), its step, outcome and deciding rule: the checker (one partition) and the explorer
 * (spec/explore/explorer.ts) build the same graph exactly when they give the same digest, the same number of
 * states and the same number of edges. The checker numbers nothing, so edges are summed, not listed in order.
 */
import { outcomeKey, stepKey } from '../../spec/explore/keys.ts';
import type { StateGraph } from '../../spec/explore/explorer.ts';
import type { Outcome, Step } from '../../spec/ops.ts';
import { StateFingerprints } from './stateFingerprint.ts';
import { fingerprint, fpString } from './fingerprint.ts';

export class EdgeDigest {
  private a = 0;
  private b = 0;
  count = 0;

  add(from: readonly [number, number], step: Step, outcome: Outcome, rule: string, to: readonly [number, number]): void {
    const [x, y] = fingerprint(`${from[0]},${from[1]}|${stepKey(step)}|${outcomeKey(outcome)}|${rule}|${to[0]},${to[1]}`);
    this.a = (this.a + x) | 0;
    this.b = (this.b + y) | 0;
    this.count++;
  }

  get text(): string {
    return fpString(this.a, this.b);
  }
}

/** The digest of an explored graph's edges, computed the way the checker computes its own. */
export function graphEdgeDigest(g: StateGraph): EdgeDigest {
  const fps = new StateFingerprints();
  const stateFp = g.states.map((s) => fps.of(s));
  const d = new EdgeDigest();
  for (let e = 0; e < g.edgeCount; e++) {
    d.add(
      stateFp[g.edgeFrom[e] as number] as [number, number],
      g.steps[g.edgeStep[e] as number] as Step,
      g.outcomes[g.edgeOutcome[e] as number] as Outcome,
      (g.rules[g.edgeRule[e] as number] as { id: string }).id,
      stateFp[g.edgeTo[e] as number] as [number, number],
    );
  }
  return d;
}
