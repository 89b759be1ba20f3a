/**
 * Cheap, collision-free keys for steps and outcomes (the explorer interns every edge's step and outcome), and
 * a structural equality for system states. Faster than stringifying through the bigint-safe JSON writer: a
 * step or an outcome is a small flat object whose values are numbers, bigints, strings, booleans or short
 * lists. Integers compare by value (4096 and 4096n give the same key), as in outcomesEqual.
 */
import type { Outcome, Step } from '../ops.ts';
import type { GmemState, NameRef, PageState, SystemState, VmState } from '../state.ts';

/** The key of one field value, as stepKey writes it. */
export function valueKey(v: unknown): string {
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return String(v);
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'T' : 'F';
    case 'undefined':
      return 'u';
    case 'object':
      if (v === null) return 'n';
      if (Array.isArray(v)) return `[${v.map(valueKey).join(',')}]`;
      return objectKey(v as Record<string, unknown>);
    case 'function':
    case 'symbol':
      throw new TypeError(`internal: a step or an outcome holds a ${typeof v}, which is not data`);
  }
}

function objectKey(o: Record<string, unknown>): string {
  let k = '{';
  for (const f of Object.keys(o).sort()) {
    const v = o[f];
    if (v === undefined) continue;
    k += `${f}:${valueKey(v)};`;
  }
  return `${k}}`;
}

/** A key equal for two steps exactly when they are the same operation with the same fields (meta included). */
export function stepKey(s: Step): string {
  return objectKey(s as unknown as Record<string, unknown>);
}

/** A key equal for two outcomes exactly when outcomesEqual says they are equal. */
export function outcomeKey(o: Outcome): string {
  if ('errno' in o && o.error_offset === undefined) return o.errno;
  if ('ok' in o) {
    // A ret of 0 is plain ok (outcomesEqual).
    const zeroRet = o.ret === 0 || o.ret === 0n;
    if ((o.ret === undefined || zeroRet) && !o.fstat && !o.steps) return 'ok';
    if (zeroRet) return objectKey({ ...o, ret: undefined } as unknown as Record<string, unknown>);
  }
  return objectKey(o as unknown as Record<string, unknown>);
}

/** Structural equality of plain JSON-like data (objects compared by their defined fields, in any order). */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    if (typeof a === typeof b) return false;
    const int = (v: unknown) => typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
    return int(a) && int(b) && BigInt(a as number) === BigInt(b as number);
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    const v = x[k];
    if (v === undefined) continue;
    n++;
    if (!sameData(v, y[k])) return false;
  }
  for (const k in y) if (y[k] !== undefined) n--;
  return n === 0;
}

// Every comparison below holds for an object and itself (states are plain data without NaN), so an element
// shared between two states (World copies only what a step changes) is equal without looking inside.
function sameArray<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as T;
    const y = b[i] as T;
    if (x !== y && !eq(x, y)) return false;
  }
  return true;
}

const sameNum = (x: number, y: number) => x === y;
const sameRange = (x: readonly (number | string)[], y: readonly (number | string)[]) => sameArray(x, y, (p, q) => p === q);

function samePage(a: PageState, b: PageState): boolean {
  if (a === b) return true;
  return (
    a.attribute === b.attribute &&
    a.backing === b.backing &&
    a.content === b.content &&
    a.pins === b.pins &&
    a.trustedEntity === b.trustedEntity &&
    a.directMap === b.directMap &&
    a.stage2 === b.stage2 &&
    sameArray(a.hostMappers, b.hostMappers, sameNum) &&
    sameData(a.bytes, b.bytes) &&
    Object.keys(a).length === Object.keys(b).length
  );
}

function samePages(a: Record<string, PageState>, b: Record<string, PageState>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    const y = b[k];
    if (!y || !samePage(a[k] as PageState, y)) return false;
  }
  return true;
}

function sameVm(a: VmState, b: VmState): boolean {
  if (a === b) return true;
  return (
    a.type === b.type &&
    a.lifecycle === b.lifecycle &&
    a.fds === b.fds &&
    a.gmemRefs === b.gmemRefs &&
    a.proc === b.proc &&
    a.launch === b.launch &&
    sameArray(
      a.memslots,
      b.memslots,
      (x, y) =>
        x.slot === y.slot &&
        x.gfn === y.gfn &&
        x.npages === y.npages &&
        x.flags === y.flags &&
        x.gmem === y.gmem &&
        x.gmemStart === y.gmemStart &&
        Boolean(x.gmemGone) === Boolean(y.gmemGone),
    ) &&
    sameArray(a.privateRanges, b.privateRanges, sameRange) &&
    (a.pendingConversion === b.pendingConversion ||
      (a.pendingConversion !== undefined &&
        b.pendingConversion !== undefined &&
        sameArray(a.pendingConversion, b.pendingConversion, sameRange))) &&
    Object.keys(a).length === Object.keys(b).length
  );
}

function sameGmem(a: GmemState, b: GmemState): boolean {
  if (a === b) return true;
  return (
    a.vm === b.vm &&
    a.sizePages === b.sizePages &&
    a.flags === b.flags &&
    a.lifecycle === b.lifecycle &&
    a.fds === b.fds &&
    a.maps === b.maps &&
    sameArray(a.bindings, b.bindings, (x, y) => x.vm === y.vm && x.slot === y.slot && x.start === y.start && x.npages === y.npages) &&
    samePages(a.pages, b.pages) &&
    sameData(a.folios, b.folios) &&
    Object.keys(a).length === Object.keys(b).length
  );
}

function sameRef(a: NameRef, b: NameRef): boolean {
  if ('fd' in a) return 'fd' in b && a.fd === b.fd;
  if ('map' in a) return 'map' in b && a.map === b.map;
  return 'failed' in b && a.failed === b.failed;
}

/**
 * Whether two system states are equal, field by field (the explorer's self-loop test: a refused operation
 * returns a copy of the state it was given). Every field of spec/state.ts is compared; an object with a field
 * this function does not know about (more keys than it compares) is never equal.
 */
export function sameState(a: SystemState, b: SystemState): boolean {
  if (a === b) return true;
  if (a.proc !== b.proc) return false;
  if (
    !sameArray(
      a.fds,
      b.fds,
      (x, y) =>
        x.kind === y.kind && x.id === y.id && x.proc === y.proc && x.open === y.open && Object.keys(x).length === Object.keys(y).length,
    )
  )
    return false;
  if (
    !sameArray(
      a.maps,
      b.maps,
      (x, y) =>
        x.gmem === y.gmem &&
        x.start === y.start &&
        x.npages === y.npages &&
        x.prot === y.prot &&
        x.proc === y.proc &&
        x.live === y.live &&
        Boolean(x.dontfork) === Boolean(y.dontfork) &&
        sameArray(x.guards ?? [], y.guards ?? [], sameNum) &&
        sameArray(x.uffd ?? [], y.uffd ?? [], (r, t) => r.page === t.page && r.mode === t.mode),
    )
  )
    return false;
  if (
    !sameArray(
      a.pins,
      b.pins,
      (x, y) => x.map === y.map && x.offset === y.offset && x.len === y.len && x.live === y.live && sameArray(x.pages, y.pages, sameNum),
    )
  )
    return false;
  if (!sameArray(a.vms, b.vms, sameVm) || !sameArray(a.gmems, b.gmems, sameGmem)) return false;
  if (a.names !== b.names) {
    const na = Object.keys(a.names);
    if (na.length !== Object.keys(b.names).length) return false;
    for (const n of na) {
      const y = b.names[n];
      if (!y || !sameRef(a.names[n] as NameRef, y)) return false;
    }
  }
  return Object.keys(a).length === Object.keys(b).length;
}
