/**
 * Candidates packed for the trip to their owner partition (worker thread): one Int32Array per batch, moved
 * (transferred), not structured-cloned. A state travels as the ids of its parts (each VM, guest_memfd, fd,
 * mapping, pin, and the handle names), numbered per sender → receiver channel; a part the receiver has not seen
 * yet travels once, as JSON text beside the array. States share most of their parts (World copies only what a
 * step changes), so a batch is mostly small integers.
 *
 * Layout of one candidate: lo, hi, parent lo, parent hi, event, path length, path (one event index per int),
 * proc, then for vms, gmems, fds, maps and pins a count and that many part ids, then the names' part id.
 * A received state is rebuilt from shared part objects: sound because nothing changes a state's parts in place
 * (World copies a part before changing it).
 */
import type { SystemState } from '../../spec/state.ts';
import type { Candidate } from './partition.ts';

const LISTS = ['vms', 'gmems', 'fds', 'maps', 'pins'] as const;
const ENCODER_LIMIT = 1 << 18;

/** A batch on the wire: the packed candidates and the parts they introduce, in id order from `firstPart`. */
export interface PackedBatch {
  ints: Int32Array;
  count: number;
  firstPart: number;
  parts: string[];
}

/** The sending side of one channel: gives each part object an id, and says which ids are new. */
export class CandidateEncoder {
  private ids = new Map<object, number>();
  private next = 0;

  encode(cands: readonly Candidate[]): PackedBatch {
    const firstPart = this.next;
    const parts: string[] = [];
    // Forget parts now and then (ids keep growing, so the receiver's table stays right); the objects are freed.
    if (this.ids.size > ENCODER_LIMIT) this.ids = new Map();
    const id = (o: object): number => {
      let i = this.ids.get(o);
      if (i === undefined) {
        i = this.next++;
        this.ids.set(o, i);
        parts.push(JSON.stringify(o));
      }
      return i;
    };
    const out: number[] = [];
    for (const c of cands) {
      const s = c.node;
      out.push(c.id.lo, c.id.hi, c.parent?.lo ?? 0, c.parent?.hi ?? 0, c.parent ? c.event : -1, c.path.length);
      for (let k = 0; k < c.path.length; k++) out.push(c.path.charCodeAt(k));
      out.push(s.proc);
      for (const l of LISTS) {
        const xs = s[l] as readonly object[];
        out.push(xs.length);
        for (const x of xs) out.push(id(x));
      }
      out.push(id(s.names));
    }
    return { ints: Int32Array.from(out), count: cands.length, firstPart, parts };
  }
}

/** The receiving side of one channel: the parts by id, and candidates rebuilt from a batch. */
export class CandidateDecoder {
  private readonly parts: unknown[] = [];

  decode(b: PackedBatch): Candidate[] {
    b.parts.forEach((text, k) => {
      this.parts[b.firstPart + k] = JSON.parse(text);
    });
    const ints = b.ints;
    const out: Candidate[] = [];
    let i = 0;
    const part = (): unknown => {
      const p = this.parts[ints[i++] as number];
      if (p === undefined) throw new Error(`internal: candidate batch names part ${ints[i - 1]}, never sent`);
      return p;
    };
    const list = <T>(): T[] => {
      const n = ints[i++] as number;
      const xs: T[] = new Array(n);
      for (let k = 0; k < n; k++) xs[k] = part() as T;
      return xs;
    };
    for (let c = 0; c < b.count; c++) {
      const lo = ints[i++] as number;
      const hi = ints[i++] as number;
      const plo = ints[i++] as number;
      const phi = ints[i++] as number;
      const event = ints[i++] as number;
      const len = ints[i++] as number;
      let path = '';
      for (let k = 0; k < len; k++) path += String.fromCharCode(ints[i++] as number);
      const proc = ints[i++] as number;
      const node: SystemState = {
        proc,
        vms: list(),
        gmems: list(),
        fds: list(),
        maps: list(),
        pins: list(),
        names: part() as SystemState['names'],
      };
      out.push({ id: { lo, hi }, parent: event < 0 ? undefined : { lo: plo, hi: phi }, event, path, node });
    }
    return out;
  }
}
