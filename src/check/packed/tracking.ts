/**
 * A packed state seen through proxies that record what a function reads of it, and the function's resulting
 * state written back as a template over the input: the two halves of the successor cache (successors.ts).
 *
 * Reads are recorded per part, in the order they first happen, as (address, value) pairs (packed.ts): a VM,
 * fd, mapping, pin, page or guest_memfd header is read when any of its fields is; a list's length when any of
 * its elements is looked up; a guest_memfd's page set when a page entry is looked up or listed. Handing a part
 * on without looking inside (World copies a list, or the page table, sharing the elements) reads nothing: the
 * result then names the input part by address, whatever it holds. So a cached result is right for every state
 * that agrees on the recorded reads, whatever else it holds.
 *
 * The input is never changed: the proxies refuse writes (World copies before it changes anything).
 */
import type { SystemState } from '../../../spec/state.ts';
import { A, MAX_GMEMS, type Offsets, type Packed, address, gmemSpan, headerOf, listSpan, valueAt } from './packed.ts';
import { FIELD_NUMBER, type PartKind, type PartTable } from './parts.ts';

/** Template opcodes: how to write the result vector from the input vector. */
export const OP = {
  /** Push the next template int as it is (a count, a part id, -1 for a missing page). */
  value: 1,
  /** Push the value at the address in the next template int. */
  copy: 2,
  /** Copy a whole list of the input (its count and items); the next int is its count address (A.vmCount, ...). */
  copyList: 3,
  /** Copy guest_memfd g of the input whole (header, page count, pages); next int: g. */
  copyGmem: 4,
  /** Copy guest_memfd g's page count and pages; next int: g. */
  copyPages: 5,
} as const;

function refuse(): never {
  throw new Error('internal: a step changed its input state in place (World must copy before it changes a part)');
}

interface Origin {
  /** The address of the part this proxy stands for, or of the list (count address) for a list proxy. */
  addr: number;
  what: 'part' | 'list' | 'gmem' | 'pages' | 'names';
  /** For gmem and pages proxies: the guest_memfd index. */
  g: number;
}

// Proxy handlers are class instances, not closures: a tracked run makes a few dozen of them, and the TypeScript
// loader wraps every closure it creates in a naming call.

/**
 * A read-only view of something in the state at `addr`: listing its keys reads it whole, looking up one key
 * reads `lookupAddr(k)` (the whole, unless a subclass narrows it), and any write is refused.
 */
class ReadHandler implements ProxyHandler<object> {
  constructor(
    protected readonly tr: Tracker,
    protected readonly addr: number,
  ) {}
  /** The address a lookup of `k` reads, or -1 for none. */
  protected lookupAddr(_k: string | symbol): number {
    return this.addr;
  }
  get(t: object, k: string | symbol, r: unknown): unknown {
    const a = this.lookupAddr(k);
    if (a !== -1) this.tr.read(a);
    return Reflect.get(t, k, r);
  }
  has(t: object, k: string | symbol): boolean {
    const a = this.lookupAddr(k);
    if (a !== -1) this.tr.read(a);
    return Reflect.has(t, k);
  }
  ownKeys(t: object): ArrayLike<string | symbol> {
    this.tr.read(this.addr);
    return Reflect.ownKeys(t);
  }
  getOwnPropertyDescriptor(t: object, k: string | symbol): PropertyDescriptor | undefined {
    this.tr.read(this.addr);
    return Reflect.getOwnPropertyDescriptor(t, k);
  }
  set(): boolean {
    return refuse();
  }
  defineProperty(): boolean {
    return refuse();
  }
  deleteProperty(): boolean {
    return refuse();
  }
}

/**
 * A part (VM, guest_memfd header, page, fd, mapping, pin): looking up one of its fields (parts.ts FIELD_NAMES)
 * reads that field's code; anything else reads the whole part.
 */
class PartHandler extends ReadHandler {
  /** The field addresses of this part without the field number. */
  private readonly fieldBase: number;
  constructor(
    tr: Tracker,
    addr: number,
    private readonly fields: Map<string, number>,
    a: number,
    b: number,
  ) {
    super(tr, addr);
    this.fieldBase = address(A.field, a, b);
  }
  protected override lookupAddr(k: string | symbol): number {
    const f = typeof k === 'string' ? this.fields.get(k) : undefined;
    return f === undefined ? this.addr : this.fieldBase | (f << 21);
  }
}

/** The handle names: looking one up reads that name's reference; listing them reads them all. */
class NamesHandler extends ReadHandler {
  protected override lookupAddr(k: string | symbol): number {
    return typeof k === 'string' ? address(A.name, this.tr.table.nameNumber(k)) : this.addr;
  }
}

const isIndex = (k: string | symbol): boolean => typeof k === 'string' && (k === 'length' || (k.length > 0 && k.charCodeAt(0) <= 57));

/** A list of parts: looking up an element or the length reads the count (methods read nothing). */
class ListHandler extends ReadHandler {
  protected override lookupAddr(k: string | symbol): number {
    return isIndex(k) ? this.addr : -1;
  }
}

/** The page table of a guest_memfd: looking up any page reads which pages it has (the page set). */
class PagesHandler extends ReadHandler {
  protected override lookupAddr(k: string | symbol): number {
    return typeof k === 'string' ? this.addr : -1;
  }
}

/** A guest_memfd: its page table is handed out without a read; its fields read as a header's. */
class GmemHandler extends PartHandler {
  protected override lookupAddr(k: string | symbol): number {
    return k === 'pages' ? -1 : super.lookupAddr(k);
  }
}

/** The state: `proc` is a part of its own; the names and the lists are handed out without a read. */
class TopHandler extends ReadHandler {
  protected override lookupAddr(k: string | symbol): number {
    return k === 'proc' ? this.addr : -1;
  }
}

const PROC = address(A.proc);
const FIELDS_BY_ADDRESS_KIND: Record<number, Map<string, number>> = {
  [A.vm]: FIELD_NUMBER.vm,
  // A page is read whole: the page machine's memo key (World.pageEvent) reads every field of a page it touches,
  // so reading its fields one by one would only make the decision trees deeper.
  [A.page]: new Map<string, number>(),
  [A.fd]: FIELD_NUMBER.fd,
  [A.map]: FIELD_NUMBER.map,
  [A.pin]: FIELD_NUMBER.pin,
};
const NAMES = address(A.names);

/** One tracked run: the reads so far, and the proxies it handed out. */
export class Tracker {
  /** (address, value) pairs in the order first read. */
  readonly reads: number[] = [];
  readonly origins = new Map<object, Origin>();
  readonly state: SystemState;

  constructor(
    readonly v: Packed,
    readonly o: Offsets,
    readonly table: PartTable,
  ) {
    this.state = this.top();
  }

  /** The addresses in `reads`: a step looks at the same few parts hundreds of times. */
  private readonly seen = new Set<number>();

  read(addr: number): void {
    if (this.seen.has(addr)) return;
    this.seen.add(addr);
    this.reads.push(addr, valueAt(this.v, this.o, addr, this.table));
  }

  private part(kind: number, a: number, b: number, id: number): object {
    const addr = address(kind, a, b);
    const p = new Proxy(
      this.table.objects[id] as object,
      new PartHandler(this, addr, FIELDS_BY_ADDRESS_KIND[kind] as Map<string, number>, a, b),
    );
    this.origins.set(p, { addr, what: 'part', g: -1 });
    return p;
  }

  private list(countKind: number, itemKind: number): object[] {
    const [start] = listSpan(this.v, this.o, countKind);
    const n = this.v[start] as number;
    const items: object[] = [];
    for (let i = 0; i < n; i++) items.push(this.part(itemKind, i, 0, this.v[start + 1 + i] as number));
    return this.listProxy(items, address(countKind));
  }

  private listProxy<T extends object>(items: T[], countAddr: number): T[] {
    const p = new Proxy(items, new ListHandler(this, countAddr) as ProxyHandler<T[]>);
    this.origins.set(p, { addr: countAddr, what: 'list', g: -1 });
    return p;
  }

  private gmem(g: number): object {
    const [at] = gmemSpan(this.v, this.o, g);
    const header = this.table.objects[this.v[at] as number] as object;
    const n = this.v[at + 1] as number;
    const pageTarget: Record<string, object> = {};
    for (let k = 0; k < n; k++) {
      const id = this.v[at + 2 + k] as number;
      if (id >= 0) pageTarget[String(k)] = this.part(A.page, g, k, id);
    }
    const setAddr = address(A.pageSet, g);
    const pages = new Proxy(pageTarget, new PagesHandler(this, setAddr));
    this.origins.set(pages, { addr: setAddr, what: 'pages', g });
    const headAddr = address(A.header, g);
    const p = new Proxy({ ...header, pages }, new GmemHandler(this, headAddr, FIELD_NUMBER.header, g, 0));
    this.origins.set(p, { addr: headAddr, what: 'gmem', g });
    return p;
  }

  private names(): object {
    const p = new Proxy(this.table.objects[this.v[1] as number] as object, new NamesHandler(this, NAMES));
    this.origins.set(p, { addr: NAMES, what: 'names', g: -1 });
    return p;
  }

  private top(): SystemState {
    const v = this.v;
    const [gs] = listSpan(v, this.o, A.gmemCount);
    const gmems: object[] = [];
    for (let g = 0; g < (v[gs] as number); g++) gmems.push(this.gmem(g));
    const target = {
      proc: v[0] as number,
      names: this.names(),
      vms: this.list(A.vmCount, A.vm),
      gmems: this.listProxy(gmems, address(A.gmemCount)),
      fds: this.list(A.fdCount, A.fd),
      maps: this.list(A.mapCount, A.map),
      pins: this.list(A.pinCount, A.pin),
    } as unknown as SystemState;
    return new Proxy(target, new TopHandler(this, PROC) as ProxyHandler<SystemState>);
  }

  /**
   * The template that writes `out` (the function's result state) from any input that agrees on the reads: each
   * part the result shares with the input by reference is copied by address, every other part is interned.
   */
  template(out: SystemState): number[] {
    const t: number[] = [];
    const table = this.table;
    const origin = (x: unknown) => (typeof x === 'object' && x !== null ? this.origins.get(x) : undefined);
    t.push(OP.value, out.proc);
    if (origin(out.names)?.what === 'names') t.push(OP.copy, NAMES);
    else t.push(OP.value, table.id('names', out.names));
    const simple = <K extends PartKind>(list: readonly object[], countKind: number, kind: K) => {
      const lo = origin(list);
      if (lo?.what === 'list') {
        if (lo.addr !== address(countKind)) throw new Error('internal: a list moved to another place in the state');
        t.push(OP.copyList, countKind);
        return;
      }
      t.push(OP.value, list.length);
      for (const x of list) {
        const xo = origin(x);
        if (xo) {
          if (xo.what !== 'part') throw new Error('internal: a state part moved to another kind of place');
          t.push(OP.copy, xo.addr);
        } else t.push(OP.value, table.id(kind, x as never));
      }
    };
    simple(out.vms, A.vmCount, 'vm');
    const go = origin(out.gmems);
    if (go?.what === 'list') t.push(OP.copyList, A.gmemCount);
    else {
      t.push(OP.value, out.gmems.length);
      if (out.gmems.length > MAX_GMEMS) throw new Error(`internal: more than ${MAX_GMEMS} guest_memfds in one state`);
      for (const g of out.gmems) {
        const o = origin(g);
        if (o?.what === 'gmem') {
          t.push(OP.copyGmem, o.g);
          continue;
        }
        if (o) throw new Error('internal: a state part moved to another kind of place');
        t.push(OP.value, table.id('header', headerOf(g)));
        const po = origin(g.pages);
        if (po?.what === 'pages') {
          const [at] = gmemSpan(this.v, this.o, po.g);
          if ((this.v[at + 1] as number) !== g.sizePages) throw new Error('internal: a page table moved to a file of another size');
          t.push(OP.copyPages, po.g);
          continue;
        }
        t.push(OP.value, g.sizePages);
        const keys = Object.keys(g.pages);
        for (const k of keys) {
          const i = Number(k);
          if (!(Number.isInteger(i) && i >= 0 && i < g.sizePages))
            throw new Error(`internal: page entry ${k} outside a ${g.sizePages}-page file`);
        }
        for (let k = 0; k < g.sizePages; k++) {
          const p = g.pages[String(k)];
          if (p === undefined) t.push(OP.value, -1);
          else {
            const pp = origin(p);
            if (pp) t.push(OP.copy, pp.addr);
            else t.push(OP.value, table.id('page', p));
          }
        }
      }
    }
    simple(out.fds, A.fdCount, 'fd');
    simple(out.maps, A.mapCount, 'map');
    simple(out.pins, A.pinCount, 'pin');
    return t;
  }
}

/** Write the vector a template makes from input `v` into `out` (large enough); returns its length. */
export function applyTemplate(t: Int32Array, v: Packed, o: Offsets, out: Int32Array, table: PartTable): number {
  let n = 0;
  let i = 0;
  while (i < t.length) {
    const op = t[i++] as number;
    const x = t[i++] as number;
    if (op === OP.value) out[n++] = x;
    else if (op === OP.copy) out[n++] = valueAt(v, o, x, table);
    else {
      const [from, to] = op === OP.copyList ? listSpan(v, o, x) : gmemSpan(v, o, x);
      const start = op === OP.copyPages ? from + 1 : from;
      for (let j = start; j < to; j++) out[n++] = v[j] as number;
    }
  }
  return n;
}
