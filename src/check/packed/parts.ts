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
import { valueKey } from '../../../spec/explore/keys.ts';
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

/**
 * The fields of each kind of part that a read may name on its own (spec/state.ts). A field missing here is still
 * read soundly: as a read of the whole part.
 */
const FIELD_NAMES: { readonly [K in Exclude<PartKind, 'names'>]: readonly (keyof PartValues[K] & string)[] } = {
  vm: ['type', 'lifecycle', 'fds', 'gmemRefs', 'proc', 'memslots', 'privateRanges', 'launch', 'pendingConversion', 'mmioGfns'],
  header: ['vm', 'sizePages', 'flags', 'lifecycle', 'fds', 'maps', 'bindings', 'folios'],
  page: ['attribute', 'backing', 'content', 'bytes', 'hostMappers', 'pins', 'trustedEntity', 'directMap', 'stage2'],
  fd: ['kind', 'id', 'proc', 'open'],
  map: ['gmem', 'start', 'npages', 'prot', 'proc', 'live', 'dontfork', 'guards', 'uffd'],
  pin: ['map', 'offset', 'len', 'pages', 'live'],
};

/** Every field, numbered: [kind, field name]. */
export const FIELD_LIST: ReadonlyArray<readonly [PartKind, string]> = Object.entries(FIELD_NAMES).flatMap(([k, fs]) =>
  fs.map((f) => [k as PartKind, f] as const),
);
const FIELDS_OF = Object.fromEntries(
  (Object.keys(PART_KIND) as PartKind[]).map((k) => [k, FIELD_LIST.flatMap(([kk], i) => (kk === k ? [i] : []))]),
) as Record<PartKind, number[]>;

/** Field number of `name` in parts of `kind`, by kind; undefined: not a field read on its own. */
export const FIELD_NUMBER: Record<PartKind, Map<string, number>> = Object.fromEntries(
  (Object.keys(PART_KIND) as PartKind[]).map((k) => [k, new Map((FIELDS_OF[k] ?? []).map((i) => [FIELD_LIST[i]?.[1] as string, i]))]),
) as Record<PartKind, Map<string, number>>;

/** Interned parts: id → object and hash; (kind, value) → id. */
export class PartTable {
  private readonly ids = new Map<string, number>();
  private readonly byObject = new Map<object, number>();
  readonly objects: object[] = [];
  readonly kinds: PartKind[] = [];
  /**
   * Per field (FIELDS, numbered in order), each part's code for that field's value: reading one field of a part
   * is a read of that code (packed.ts's A.field), so a step that asks a VM its type does not depend on its
   * memslots, nor one that looks up a pin's mapping on the pin's page list.
   */
  fieldCodes: Int32Array[] = FIELD_LIST.map(() => new Int32Array(1024));
  private readonly fieldValues: Array<Map<string, number>> = FIELD_LIST.map(() => new Map());
  /** Handle names seen in any names part, numbered; and per names part, each name's reference code (-1: none). */
  readonly nameIndex = new Map<string, number>();
  nameCodes: Int32Array[] = [];
  private readonly refCodes = new Map<string, number>();
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
        this.fieldCodes = this.fieldCodes.map(grow);
      }
      this.codeFields(kind, rep, id);
      const [a, b] = fingerprint(key);
      this.hashLo[id] = a;
      this.hashHi[id] = b;
    }
    return id;
  }

  private codeFields(kind: PartKind, rep: object, id: number): void {
    const o = rep as Record<string, unknown>;
    if (kind === 'names') {
      const codes: number[] = [];
      for (const [n, r] of Object.entries(o)) codes[this.nameNumber(n)] = this.code(this.refCodes, valueKey(r));
      this.nameCodes[id] = Int32Array.from({ length: codes.length }, (_, i) => codes[i] ?? -1);
      return;
    }
    for (const f of FIELDS_OF[kind]) {
      (this.fieldCodes[f] as Int32Array)[id] = this.code(
        this.fieldValues[f] as Map<string, number>,
        valueKey(o[FIELD_LIST[f]?.[1] as string]),
      );
    }
  }

  private code(m: Map<string, number>, k: string): number {
    let c = m.get(k);
    if (c === undefined) {
      c = m.size;
      m.set(k, c);
    }
    return c;
  }

  /** A handle name's number (names a step looks up but no state holds get one too: they read as absent). */
  nameNumber(n: string): number {
    let i = this.nameIndex.get(n);
    if (i === undefined) {
      i = this.nameIndex.size;
      this.nameIndex.set(n, i);
    }
    return i;
  }

  get<K extends PartKind>(_kind: K, id: number): PartValues[K] {
    return this.objects[id] as PartValues[K];
  }

  /** The key text of a part (for sending it to another thread, which interns it again). */
  value(id: number): { kind: PartKind; value: object } {
    return { kind: this.kinds[id] as PartKind, value: this.objects[id] as object };
  }
}
