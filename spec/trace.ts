/**
 * Parsing and validating trace files (`gmem-trace/1`). A malformed trace is rejected with a message that names
 * the step and the field, e.g. `steps[3].offset: expected an integer (number, decimal or 0x string), got true`.
 */
import { ERRNO_NAMES, isErrnoName } from './constants.ts';
import { type JsonValue, normInt, parseJson, readInt, stringifyJson } from './json.ts';
import { type FieldKind, OP_FIELDS, isOpName } from './opSchema.ts';
import { CREATING_OPS, type Outcome, type Step, TRACE_FORMAT, type Trace } from './ops.ts';

export class TraceError extends Error {
  constructor(readonly where: string, readonly problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'TraceError';
  }
}

const META_FIELDS = new Set(['op', 'as', 'observed', 'expected', 'note']);
const PROT_RE = /^(none|r?w?x?)$/;
const HANDLE_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function isObject(v: JsonValue | undefined): v is { [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: JsonValue | undefined): string {
  return v === undefined ? 'nothing' : stringifyJson(v);
}

function field(where: string, kind: FieldKind, v: JsonValue | undefined): unknown {
  const bad = (what: string): never => { throw new TraceError(where, `expected ${what}, got ${show(v)}`); };
  switch (kind.kind) {
    case 'handle':
      return typeof v === 'string' && HANDLE_RE.test(v) ? v : bad('a handle name (e.g. "g0")');
    case 'kvm-or-handle':
      return typeof v === 'string' && HANDLE_RE.test(v) ? v : bad('"kvm" or a handle name');
    case 'int': {
      const b = readInt(v);
      return b === undefined ? bad('an integer (number, decimal or 0x string)') : normInt(b);
    }
    case 'byte':
      return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255 ? v : bad('a byte value 0..255');
    case 'bool':
      return typeof v === 'boolean' ? v : bad('true or false');
    case 'prot':
      return typeof v === 'string' && v !== '' && PROT_RE.test(v) ? v : bad('a protection such as "r", "rw", "rwx" or "none"');
    case 'enum':
      return typeof v === 'string' && kind.values.includes(v) ? v : bad(`one of ${kind.values.join(', ')}`);
    case 'int-or-enum': {
      if (typeof v === 'string' && kind.values.includes(v)) return v;
      const b = readInt(v);
      return b === undefined ? bad(`an integer or one of ${kind.values.join(', ')}`) : normInt(b);
    }
    case 'int-list':
      if (!Array.isArray(v)) return bad('a list of integers');
      return v.map((x, i) => field(`${where}[${i}]`, { kind: 'int' }, x));
    case 'memslot-flags': {
      if (Array.isArray(v)) {
        return v.map((x, i) => field(`${where}[${i}]`, { kind: 'enum', values: ['gmem', 'log_dirty', 'readonly'] }, x));
      }
      const b = readInt(v);
      return b === undefined ? bad('a list of "gmem", "log_dirty", "readonly" or a raw integer') : normInt(b);
    }
    case 'uaddr': {
      if (isObject(v)) {
        const keys = Object.keys(v).filter((k) => k !== 'map' && k !== 'offset');
        if (keys.length) throw new TraceError(`${where}.${keys[0]}`, 'unknown field');
        return { map: field(`${where}.map`, { kind: 'handle' }, v.map), offset: field(`${where}.offset`, { kind: 'int' }, v.offset ?? 0) };
      }
      const b = readInt(v);
      return b === undefined ? bad('an integer address or {"map": handle, "offset": n}') : normInt(b);
    }
    case 'steps':
      if (!Array.isArray(v)) return bad('a list of steps');
      return v.map((s, i) => parseStep(`${where}[${i}]`, s));
  }
}

export function parseOutcome(where: string, v: JsonValue | undefined): Outcome {
  if (!isObject(v)) throw new TraceError(where, `expected an outcome object, got ${show(v)}`);
  if ('errno' in v) {
    if (typeof v.errno !== 'string' || !isErrnoName(v.errno)) {
      throw new TraceError(`${where}.errno`, `expected one of ${ERRNO_NAMES.join(', ')}, got ${show(v.errno)}`);
    }
    const out: Outcome = { errno: v.errno };
    if (v.error_offset !== undefined) {
      const b = readInt(v.error_offset);
      if (b === undefined) throw new TraceError(`${where}.error_offset`, `expected an integer, got ${show(v.error_offset)}`);
      out.error_offset = normInt(b);
    }
    return out;
  }
  if ('access' in v) {
    if (v.access === 'ok') {
      const out: Outcome = { access: 'ok' };
      if (v.value !== undefined) out.value = field(`${where}.value`, { kind: 'byte' }, v.value) as number;
      if (v.match !== undefined) out.match = field(`${where}.match`, { kind: 'bool' }, v.match) as boolean;
      return out;
    }
    if (v.access === 'SIGBUS' || v.access === 'SIGSEGV' || v.access === 'MCE') return { access: v.access };
    throw new TraceError(`${where}.access`, `expected "ok", "SIGBUS", "SIGSEGV" or "MCE", got ${show(v.access)}`);
  }
  if ('exit' in v) {
    if (v.exit === 'MMIO') return { exit: 'MMIO' };
    if (v.exit === 'MEMORY_FAULT') return { exit: 'MEMORY_FAULT', private: field(`${where}.private`, { kind: 'bool' }, v.private) as boolean };
    throw new TraceError(`${where}.exit`, `expected "MEMORY_FAULT" or "MMIO", got ${show(v.exit)}`);
  }
  if ('failed' in v) return { failed: String(v.failed) };
  if (v.ok === true) {
    const out: Outcome = { ok: true };
    if (v.ret !== undefined) out.ret = field(`${where}.ret`, { kind: 'int' }, v.ret) as number;
    if (v.fstat !== undefined) {
      const f = v.fstat;
      if (!isObject(f)) throw new TraceError(`${where}.fstat`, `expected an object, got ${show(f)}`);
      out.fstat = {
        st_size: field(`${where}.fstat.st_size`, { kind: 'int' }, f.st_size) as number,
        st_blksize: field(`${where}.fstat.st_blksize`, { kind: 'int' }, f.st_blksize) as number,
        st_type: typeof f.st_type === 'string' ? f.st_type : 'reg',
      };
    }
    if (v.steps !== undefined) {
      if (!Array.isArray(v.steps)) throw new TraceError(`${where}.steps`, 'expected a list of outcomes');
      out.steps = v.steps.map((s, i) => parseOutcome(`${where}.steps[${i}]`, s));
    }
    return out;
  }
  throw new TraceError(where, `expected {"ok": true}, {"errno": ...}, {"access": ...} or {"exit": ...}, got ${show(v)}`);
}

export function parseStep(where: string, v: JsonValue | undefined): Step {
  if (!isObject(v)) throw new TraceError(where, `expected a step object, got ${show(v)}`);
  const name = v.op;
  if (typeof name !== 'string' || !isOpName(name)) {
    throw new TraceError(`${where}.op`, `unknown operation ${show(name)}`);
  }
  const specs = OP_FIELDS[name];
  const out: Record<string, unknown> = { op: name };
  for (const spec of specs) {
    const raw = v[spec.name];
    if (raw === undefined) {
      if (spec.optional) continue;
      throw new TraceError(`${where}.${spec.name}`, `missing (required by ${name})`);
    }
    out[spec.name] = field(`${where}.${spec.name}`, spec.type, raw);
  }
  const known = new Set(specs.map((s) => s.name));
  for (const k of Object.keys(v)) {
    if (!known.has(k) && !META_FIELDS.has(k)) throw new TraceError(`${where}.${k}`, `unknown field for ${name}`);
  }
  if (v.as !== undefined) {
    if (!CREATING_OPS.has(name)) throw new TraceError(`${where}.as`, `${name} creates nothing to name`);
    out.as = field(`${where}.as`, { kind: 'handle' }, v.as);
  }
  if (v.observed !== undefined) out.observed = parseOutcome(`${where}.observed`, v.observed);
  if (v.expected !== undefined) out.expected = parseOutcome(`${where}.expected`, v.expected);
  if (typeof v.note === 'string') out.note = v.note;
  return out as unknown as Step;
}

/** Parse trace text. `source` names the file in error messages. */
export function parseTrace(text: string, source = 'trace'): Trace {
  let doc: JsonValue;
  try {
    doc = parseJson(text);
  } catch (e) {
    throw new TraceError(source, `not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new TraceError(source, 'expected a trace object');
  if (doc.format !== TRACE_FORMAT) {
    throw new TraceError(`${source}: format`, `expected "${TRACE_FORMAT}", got ${show(doc.format)}`);
  }
  if (!Array.isArray(doc.steps)) throw new TraceError(`${source}: steps`, 'expected a list of steps');
  const steps = doc.steps.map((s, i) => parseStep(`${source}: steps[${i}]`, s));
  const trace: Trace = { format: TRACE_FORMAT, steps };
  if (doc.profile !== undefined) {
    if (typeof doc.profile !== 'string') throw new TraceError(`${source}: profile`, 'expected a profile name');
    trace.profile = doc.profile;
  }
  if (typeof doc.name === 'string') trace.name = doc.name;
  if (typeof doc.description === 'string') trace.description = doc.description;
  return trace;
}

/** Trace text, stable: the same trace always serialises to the same bytes. */
export function formatTrace(trace: Trace): string {
  return `${stringifyJson(trace, 2)}\n`;
}
