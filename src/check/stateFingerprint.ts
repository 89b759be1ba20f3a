/**
 * The fingerprint of a plain system state: the one the checker gives it (src/check/packed/packed.ts), computed by
 * packing the state. For code that meets states outside a search: replaying a counterexample, and digesting an
 * explored graph to compare it with the checker's (edgeDigest.ts).
 */
import type { SystemState } from '../../spec/state.ts';
import { fingerprintOf, pack } from './packed/packed.ts';
import { PartTable } from './packed/parts.ts';

export class StateFingerprints {
  private readonly table = new PartTable();
  private readonly out = new Int32Array(2);

  /** The fingerprint of a state (never (0, 0): that marks an empty slot in the tables). */
  of(s: SystemState): [number, number] {
    fingerprintOf(pack(s, this.table), this.table, this.out);
    return [this.out[0] as number, this.out[1] as number];
  }
}
