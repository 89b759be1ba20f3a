/**
 * The parts a packed state is made of (packed.ts), interned: each VM, guest_memfd header (a guest_memfd without
 * its pages), page, fd, mapping, pin, and the handle names, as the state holds them. A part's id is its index
 * here; its 64-bit hash is computed once from its full value, so fingerprints never depend on the order in which
 * a thread first saw its parts (every worker computes the same fingerprint for a state).
 *
 * Parts are interned by their full value (every field, in a fixed order), not by the state key's shorter text:
 * two parts with one id behave the same in every rule, which is what lets the successor cache (successors.ts)
 * hand one part's result to another. The representative objects are deep-frozen: the spec never changes a
 * state in place (World copies first), and a rule that tried would throw here instead of corrupting every
 * state that shares the part.
 */
import { fdPart, mapPart, namesPart, pageKey, pinPart, vmParts } from '../../../spec/explore/stateKey.ts';
import type { FdState, GmemState, MapState, NameRef, PageState, PinState, VmState } from '../../../spec/state.ts';
import { fingerprint } from '../fingerprint.ts';

/** The kinds of part, each with its own key prefix (so two kinds never share an id). */
export const PART_KIND = { vm: 'V', header: 'G', page: 'P', fd: 'F', map: 'M', pin: 'N', names: 'A' } as const;
export type PartKind = keyof typeof PART_KIND;

/** A guest_memfd without its pages: what the state holds beside them. */
export type GmemHeader = Omit<GmemState, 'pages'>;

export interface PartValues {
  vm: VmState;
  header: GmemHeader;
  page: PageState;
  fd: FdState;
  map: MapState;
  pin: PinState;
  names: Record<string, NameRef>;
}

// The state key's part texts, completed with the fields the key leaves out (a VM's MMIO SPTEs, a memslot's
// userspace memory): the key merges states those fields do not tell apart, a part id must not.
function vmKey(v: VmState): string {
  let k = vmParts(v);
  if (v.mmioGfns) k += `|o${v.mmioGfns.join('.')}`;
  for (const m of v.memslots) if (m.userMemory) k += `|u${m.slot}.${m.userMemory.map}.${m.userMemory.offset}`;
  return k;
}

function headerKey(g: GmemHeader): string {
  let k = `G${g.vm}.${g.sizePages}.${g.flags}${g.lifecycle[0]}${g.fds}.${g.maps}`;
  for (const b of g.bindings) k += `|b${b.vm}.${b.slot}.${b.start}.${b.npages}`;
  if (g.folios) for (const f of Object.keys(g.folios)) k += `|f${f}${g.folios[f] === 'whole' ? 'W' : 'X'}`;
  return k;
}

const KEY_OF: { readonly [K in PartKind]: (v: PartValues[K]) => string } = {
  vm: vmKey,
  header: headerKey,
  page: pageKey,
  fd: fdPart,
  map: mapPart,
  pin: pinPart,
  names: namesPart,
};

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Interned parts: id → object and hash; (kind, value) → id. */
export class PartTable {
  private readonly ids = new Map<string, number>();
  private readonly byObject = new Map<object, number>();
  readonly objects: object[] = [];
  readonly kinds: PartKind[] = [];
  /**
   * Per part, a code for its fields that never change: a VM's type and creating process, a guest_memfd's VM,
   * flags and size (packed.ts's A.vmStatic, A.gmemStatic). Reading only those is a read of the code, so a step
   * that asks a VM its type does not depend on its memslots.
   */
  aux = new Int32Array(1024);
  private readonly staticCodes = new Map<string, number>();
  /** The two 32-bit halves of each part's hash. */
  hashLo = new Int32Array(1024);
  hashHi = new Int32Array(1024);

  get size(): number {
    return this.objects.length;
  }

  /** The id of a part (interned on first sight; the object kept is a frozen copy, never the caller's). */
  id<K extends PartKind>(kind: K, value: PartValues[K]): number {
    // A representative handed out earlier (a step passed it on unchanged) is known by identity.
    const known = this.byObject.get(value);
    if (known !== undefined) return known;
    const key = PART_KIND[kind] + KEY_OF[kind](value);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.objects.length;
      this.ids.set(key, id);
      const rep = deepFreeze(structuredClone(value));
      this.objects.push(rep);
      this.byObject.set(rep, id);
      this.kinds.push(kind);
      if (id >= this.hashLo.length) {
        const grow = (a: Int32Array) => {
          const b = new Int32Array(a.length * 2);
          b.set(a);
          return b;
        };
        this.hashLo = grow(this.hashLo);
        this.hashHi = grow(this.hashHi);
        this.aux = grow(this.aux);
      }
      this.aux[id] = this.staticCode(kind, value);
      const [a, b] = fingerprint(key);
      this.hashLo[id] = a;
      this.hashHi[id] = b;
    }
    return id;
  }

  private staticCode(kind: PartKind, value: object): number {
    let k: string;
    if (kind === 'vm') k = `${(value as VmState).type}|${(value as VmState).proc}`;
    else if (kind === 'header') k = `${(value as GmemHeader).vm}|${(value as GmemHeader).flags}|${(value as GmemHeader).sizePages}`;
    else return 0;
    let c = this.staticCodes.get(k);
    if (c === undefined) {
      c = this.staticCodes.size;
      this.staticCodes.set(k, c);
    }
    return c;
  }

  get<K extends PartKind>(_kind: K, id: number): PartValues[K] {
    return this.objects[id] as PartValues[K];
  }

  /** The key text of a part (for sending it to another thread, which interns it again). */
  value(id: number): { kind: PartKind; value: object } {
    return { kind: this.kinds[id] as PartKind, value: this.objects[id] as object };
  }
}
