/**
 * Parsing and validating trace files (`gmem-trace/1`). A malformed trace is rejected with a message that names
 * the step and the field, e.g. `steps[3].offset: expected an integer (number, decimal or 0x string), got true`.
 */
import { ERRNO_NAMES, isErrnoName } from './constants.ts';
import { type JsonValue, normInt, parseJson, readInt, stringifyJson } from './json.ts';
import { type FieldKind, OP_FIELDS, isOpName } from './opSchema.ts';
import { CREATING_OPS, type OpName, type Outcome, RETURNS_FD_OR_ADDRESS, type Step, TRACE_FORMAT, type Trace } from './ops.ts';
import { formatOutcome, outcomesEqual } from './outcome.ts';

export class TraceError extends Error {
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
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
  const bad = (what: string): never => {
    throw new TraceError(where, `expected ${what}, got ${show(v)}`);
  };
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

/** Which outcome a field belongs to, for the message that rejects it elsewhere. */
const OUTCOME_FORMS =
  '{"ok": true, "ret"?, "fstat"?, "steps"?}, {"errno", "error_offset"?}, {"access", "value"?, "match"?}, {"exit", "private"?}, {"failed"} or {"not_modelled"}';

/** Reject any field of `v` outside `allowed`, naming it and the form it was found in. */
function onlyFields(where: string, v: { [k: string]: JsonValue }, form: string, allowed: readonly string[]): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new TraceError(`${where}.${k}`, `unknown field in ${form} (allowed: ${allowed.join(', ')})`);
  }
}

/**
 * An outcome, read strictly: every field must belong to the outcome's form (docs/trace-format.md). `role`
 * says whether the outcome was observed (a backend's answer) or expected (the spec's): only an expectation may
 * say the spec does not model the step.
 */
export function parseOutcome(where: string, v: JsonValue | undefined, role: 'observed' | 'expected' = 'expected'): Outcome {
  if (!isObject(v)) throw new TraceError(where, `expected an outcome object, got ${show(v)}`);
  if ('errno' in v) {
    onlyFields(where, v, 'an errno outcome', ['errno', 'error_offset']);
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
      onlyFields(where, v, 'an access outcome', ['access', 'value', 'match']);
      const out: Outcome = { access: 'ok' };
      if (v.value !== undefined) out.value = field(`${where}.value`, { kind: 'byte' }, v.value) as number;
      if (v.match !== undefined) out.match = field(`${where}.match`, { kind: 'bool' }, v.match) as boolean;
      return out;
    }
    if (v.access === 'SIGBUS' || v.access === 'SIGSEGV' || v.access === 'MCE' || v.access === 'UFFD_MINOR' || v.access === 'UFFD_MISSING') {
      onlyFields(where, v, `a ${v.access} outcome`, ['access']);
      return { access: v.access };
    }
    throw new TraceError(
      `${where}.access`,
      `expected "ok", "SIGBUS", "SIGSEGV", "MCE", "UFFD_MINOR" or "UFFD_MISSING", got ${show(v.access)}`,
    );
  }
  if ('exit' in v) {
    if (v.exit === 'MMIO') {
      onlyFields(where, v, 'an MMIO exit outcome', ['exit']);
      return { exit: 'MMIO' };
    }
    if (v.exit === 'MEMORY_FAULT') {
      onlyFields(where, v, 'a memory-fault exit outcome', ['exit', 'private']);
      return { exit: 'MEMORY_FAULT', private: field(`${where}.private`, { kind: 'bool' }, v.private) as boolean };
    }
    throw new TraceError(`${where}.exit`, `expected "MEMORY_FAULT" or "MMIO", got ${show(v.exit)}`);
  }
  if ('failed' in v) {
    onlyFields(where, v, 'a failed outcome', ['failed']);
    if (typeof v.failed !== 'string') throw new TraceError(`${where}.failed`, `expected the reason as a string, got ${show(v.failed)}`);
    return { failed: v.failed };
  }
  if ('not_modelled' in v) {
    if (role === 'observed')
      throw new TraceError(
        `${where}.not_modelled`,
        'only an expected outcome can say the spec does not model a step; a backend observes what the kernel did',
      );
    onlyFields(where, v, 'a not-modelled outcome', ['not_modelled']);
    if (typeof v.not_modelled !== 'string')
      throw new TraceError(`${where}.not_modelled`, `expected the reason as a string, got ${show(v.not_modelled)}`);
    return { not_modelled: v.not_modelled };
  }
  if ('ok' in v) {
    onlyFields(where, v, 'an ok outcome', ['ok', 'ret', 'fstat', 'steps']);
    if (v.ok !== true) throw new TraceError(`${where}.ok`, `expected true (a failure is {"errno": ...}), got ${show(v.ok)}`);
    const out: Outcome = { ok: true };
    if (v.ret !== undefined) out.ret = field(`${where}.ret`, { kind: 'int' }, v.ret) as number;
    if (v.fstat !== undefined) {
      const f = v.fstat;
      if (!isObject(f)) throw new TraceError(`${where}.fstat`, `expected an object, got ${show(f)}`);
      onlyFields(`${where}.fstat`, f, 'fstat', ['st_size', 'st_blksize', 'st_type']);
      if (f.st_type !== undefined && typeof f.st_type !== 'string')
        throw new TraceError(`${where}.fstat.st_type`, `expected a file type such as "reg", got ${show(f.st_type)}`);
      out.fstat = {
        st_size: field(`${where}.fstat.st_size`, { kind: 'int' }, f.st_size) as number,
        st_blksize: field(`${where}.fstat.st_blksize`, { kind: 'int' }, f.st_blksize) as number,
        st_type: typeof f.st_type === 'string' ? f.st_type : 'reg',
      };
    }
    if (v.steps !== undefined) {
      if (!Array.isArray(v.steps)) throw new TraceError(`${where}.steps`, 'expected a list of outcomes');
      out.steps = v.steps.map((s, i) => parseOutcome(`${where}.steps[${i}]`, s, role));
    }
    return out;
  }
  throw new TraceError(where, `expected one of ${OUTCOME_FORMS}, got ${show(v)}`);
}

/**
 * A fork's child outcomes may be given on the fork (`observed.steps[k]`) or on each child step (its own
 * `observed`), or both where they agree (generated traces carry `expected` both ways). Checks the two agree and
 * that the fork lists no more outcomes than it has steps.
 */
function checkForkOutcomes(where: string, fork: Step & { op: 'fork' }, key: 'observed' | 'expected'): void {
  const o = fork[key];
  const list = o && 'ok' in o ? o.steps : undefined;
  if (!list) return;
  if (list.length > fork.steps.length)
    throw new TraceError(`${where}.${key}.steps`, `${list.length} outcomes for a fork of ${fork.steps.length} step(s)`);
  fork.steps.forEach((child, k) => {
    const own = child[key];
    const given = list[k];
    if (own !== undefined && given !== undefined && !outcomesEqual(own, given)) {
      throw new TraceError(
        `${where}.steps[${k}].${key}`,
        `${formatOutcome(own)} disagrees with the fork's ${key}.steps[${k}] (${formatOutcome(given)}); give a child's outcome once, or the same in both places`,
      );
    }
  });
}

/** The fd or address an fd- or address-returning op's `ret` holds is never part of an outcome: it is dropped. */
function withoutFdRet(op: OpName, o: Outcome): Outcome {
  if (!RETURNS_FD_OR_ADDRESS.has(op) || !('ok' in o) || o.ret === undefined) return o;
  const { ret: _fd, ...rest } = o;
  return rest;
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
  if (v.observed !== undefined) out.observed = withoutFdRet(name, parseOutcome(`${where}.observed`, v.observed, 'observed'));
  if (v.expected !== undefined) out.expected = withoutFdRet(name, parseOutcome(`${where}.expected`, v.expected, 'expected'));
  if (v.note !== undefined) {
    if (typeof v.note !== 'string') throw new TraceError(`${where}.note`, `expected text, got ${show(v.note)}`);
    out.note = v.note;
  }
  const st = out as unknown as Step;
  if (st.op === 'fork') {
    checkForkOutcomes(where, st, 'observed');
    checkForkOutcomes(where, st, 'expected');
  }
  return st;
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
