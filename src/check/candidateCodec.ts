/**
 * Candidates packed for the trip to their owner partition (worker thread): one Int32Array per batch, moved
 * (transferred), not structured-cloned. A candidate's state is already packed (src/check/packed/): its part ids
 * are the sender's, so each is renumbered per sender → receiver channel, and a part the receiver has not seen
 * yet travels once, as JSON text beside the array. The receiver interns it in its own part table.
 *
 * Layout of one candidate: lo, hi, parent lo, parent hi, event, path length, path (one event index per int),
 * the packed state's length, then the packed state with channel part ids.
 */
import type { Candidate } from './partition.ts';
import type { Packed } from './packed/packed.ts';
import type { PartKind, PartTable, PartValues } from './packed/parts.ts';

/** A batch on the wire: the packed candidates and the parts they introduce, in id order from `firstPart`. */
export interface PackedBatch {
  ints: Int32Array;
  count: number;
  firstPart: number;
  parts: string[];
}

/**
 * Visit every part id of a packed state (not the counts): `f` gets the index of each id slot. Page slots that
 * hold -1 (no page entry) are skipped.
 */
function forEachPartSlot(v: Packed, f: (i: number) => void): void {
  f(1);
  let i = 2;
  for (let list = 0; list < 5; list++) {
    const n = v[i++] as number;
    for (let j = 0; j < n; j++) {
      if (list === 1) {
        f(i++);
        const np = v[i++] as number;
        for (let k = 0; k < np; k++, i++) if ((v[i] as number) >= 0) f(i);
      } else f(i++);
    }
  }
}

/** The sending side of one channel: the channel id of each of the sender's part ids, and which are new. */
export class CandidateEncoder {
  private ids = new Map<number, number>();
  private next = 0;

  constructor(private readonly table: PartTable) {}

  encode(cands: readonly Candidate[]): PackedBatch {
    const firstPart = this.next;
    const parts: string[] = [];
    const out: number[] = [];
    for (const c of cands) {
      out.push(c.id.lo, c.id.hi, c.parent?.lo ?? 0, c.parent?.hi ?? 0, c.parent ? c.event : -1, c.path.length);
      for (let k = 0; k < c.path.length; k++) out.push(c.path.charCodeAt(k));
      const v = c.node;
      out.push(v.length);
      const at = out.length;
      for (let k = 0; k < v.length; k++) out.push(v[k] as number);
      forEachPartSlot(v, (i) => {
        const mine = v[i] as number;
        let ch = this.ids.get(mine);
        if (ch === undefined) {
          ch = this.next++;
          this.ids.set(mine, ch);
          parts.push(JSON.stringify(this.table.value(mine)));
        }
        out[at + i] = ch;
      });
    }
    return { ints: Int32Array.from(out), count: cands.length, firstPart, parts };
  }
}

/** The receiving side of one channel: each channel id's part id in the receiver's table. */
export class CandidateDecoder {
  private readonly ids: number[] = [];

  constructor(private readonly table: PartTable) {}

  decode(b: PackedBatch): Candidate[] {
    b.parts.forEach((text, k) => {
      const p = JSON.parse(text) as { kind: PartKind; value: PartValues[PartKind] };
      this.ids[b.firstPart + k] = this.table.id(p.kind, p.value as never);
    });
    const ints = b.ints;
    const out: Candidate[] = [];
    let i = 0;
    for (let c = 0; c < b.count; c++) {
      const lo = ints[i++] as number;
      const hi = ints[i++] as number;
      const plo = ints[i++] as number;
      const phi = ints[i++] as number;
      const event = ints[i++] as number;
      const len = ints[i++] as number;
      let path = '';
      for (let k = 0; k < len; k++) path += String.fromCharCode(ints[i++] as number);
      const n = ints[i++] as number;
      const node = ints.slice(i, i + n);
      i += n;
      forEachPartSlot(node, (j) => {
        const id = this.ids[node[j] as number];
        if (id === undefined) throw new Error(`internal: candidate batch names part ${node[j]}, never sent`);
        node[j] = id;
      });
      out.push({ id: { lo, hi }, parent: event < 0 ? undefined : { lo: plo, hi: phi }, event, path, node });
    }
    return out;
  }
}
