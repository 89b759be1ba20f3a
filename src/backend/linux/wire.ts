/**
 * The native helper's wire format (native/PROTOCOL.md): trace steps to request lines, answer lines to
 * outcomes. Fields are walked generically from OP_FIELDS; integers travel as exact u64 decimals.
 */
import { KVM_MEM, U64_MAX, isErrnoName } from '../../../spec/constants.ts';
import { normInt, readInt } from '../../../spec/json.ts';
import { type FieldKind, OP_FIELDS, isOpName } from '../../../spec/opSchema.ts';
import { CREATING_OPS, type OpName, type Outcome, type Step } from '../../../spec/ops.ts';
import { OPS } from '../../../spec/ops/index.ts';
import type { WireValue } from '../../../spec/ops/types.ts';

/** One request line of a trace, in pre-order (a fork's line comes before its body's lines). */
export interface PlanNode {
  seq: number;
  /** Where the step is in the trace: `steps[3]`, `steps[5].steps[0]`. */
  where: string;
  step: Step;
  /** The nested steps of a fork. */
  children?: PlanNode[];
}

export interface Plan {
  lines: string[];
  roots: PlanNode[];
}

class WireError extends Error {}

const HANDLE_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const PROT_RE = /^(none|r?w?x?)$/;
const WORD_RE = /^[A-Za-z0-9_]+$/;
const S64_MIN = -(1n << 63n);

/** An integer as the u64 bits the kernel sees: negative values (s64 fields) in two's complement. */
export function u64Wire(v: unknown): string {
  const b = readInt(v);
  if (b === undefined) throw new WireError(`expected an integer, got ${show(v)}`);
  if (b < S64_MIN || b > U64_MAX) throw new WireError(`${b} is outside the 64-bit range`);
  return BigInt.asUintN(64, b).toString();
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function handle(v: unknown): string {
  if (typeof v !== 'string' || !HANDLE_RE.test(v) || v.length > 63) throw new WireError(`bad handle name ${show(v)}`);
  return v;
}

/**
 * Named values that become numbers on the wire: each op's `wireEnums` (spec/ops/*.ts). A name an op has no
 * number for (populate.source: the helper does not execute populate) travels as the word itself.
 */
function enumValue(op: OpName, field: string, name: string): string {
  const values = (OPS[op].wireEnums as Readonly<Record<string, Readonly<Record<string, WireValue>>>>)[field];
  const v = values && Object.hasOwn(values, name) ? values[name] : undefined;
  if (typeof v === 'number') return String(v);
  if (v !== undefined) throw new WireError(v.unsendable);
  if (WORD_RE.test(name)) return name;
  throw new WireError(`unknown value ${show(name)}`);
}

const MEMSLOT_FLAG: Record<string, number> = {
  gmem: KVM_MEM.GUEST_MEMFD,
  log_dirty: KVM_MEM.LOG_DIRTY_PAGES,
  readonly: KVM_MEM.READONLY,
};

function fieldTokens(op: OpName, name: string, kind: FieldKind, v: unknown): string[] {
  switch (kind.kind) {
    case 'handle':
      return [`${name}=${handle(v)}`];
    case 'kvm-or-handle':
      return [`${name}=${handle(v)}`];
    case 'int':
      return [`${name}=${u64Wire(v)}`];
    case 'byte':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) throw new WireError(`expected a byte, got ${show(v)}`);
      return [`${name}=${v}`];
    case 'bool':
      if (typeof v !== 'boolean') throw new WireError(`expected true or false, got ${show(v)}`);
      return [`${name}=${v}`];
    case 'prot':
      if (typeof v !== 'string' || v === '' || !PROT_RE.test(v)) throw new WireError(`bad protection ${show(v)}`);
      return [`${name}=${v}`];
    case 'enum':
      if (typeof v !== 'string' || !kind.values.includes(v))
        throw new WireError(`expected one of ${kind.values.join(', ')}, got ${show(v)}`);
      return [`${name}=${enumValue(op, name, v)}`];
    case 'int-or-enum':
      if (typeof v === 'string' && kind.values.includes(v)) return [`${name}=${enumValue(op, name, v)}`];
      return [`${name}=${u64Wire(v)}`];
    case 'int-list':
      if (!Array.isArray(v)) throw new WireError(`expected a list of integers, got ${show(v)}`);
      if (v.length === 0) return [];
      return [`${name}=${v.map(u64Wire).join(',')}`];
    case 'memslot-flags': {
      if (!Array.isArray(v)) return [`${name}=${u64Wire(v)}`];
      let bits = 0;
      for (const f of v) {
        const bit = typeof f === 'string' ? MEMSLOT_FLAG[f] : undefined;
        if (bit === undefined) throw new WireError(`unknown memslot flag ${show(f)}`);
        bits |= bit;
      }
      return [`${name}=${bits}`];
    }
    case 'uaddr':
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const o = v as { map?: unknown; offset?: unknown };
        return [`${name}_map=${handle(o.map)}`, `${name}_offset=${u64Wire(o.offset ?? 0)}`];
      }
      return [`${name}=${u64Wire(v)}`];
    case 'steps':
      throw new WireError('nested steps are written by the plan, not as a field');
  }
}

/** The request line of a non-fork step. Throws WireError when the step cannot be expressed. */
function stepLine(step: Step): string {
  const raw = step as unknown as Record<string, unknown>;
  const op = raw.op;
  if (typeof op === 'string' && op.startsWith('__') && /^__[a-z_]+$/.test(op)) {
    // Test-only helper operations (native/PROTOCOL.md): scalar fields as key=value.
    const toks = [op];
    for (const [k, v] of Object.entries(raw)) {
      if (k === 'op') continue;
      if (!WORD_RE.test(k)) throw new WireError(`bad field name ${show(k)}`);
      toks.push(`${k}=${typeof v === 'number' || typeof v === 'bigint' ? u64Wire(v) : String(v)}`);
    }
    return toks.join(' ');
  }
  if (typeof op !== 'string' || !isOpName(op)) throw new WireError(`unknown operation ${show(op)}`);
  const toks: string[] = [op];
  for (const spec of OP_FIELDS[op]) {
    const v = raw[spec.name];
    if (v === undefined) {
      if (spec.optional) continue;
      throw new WireError(`${spec.name}: missing (required by ${op})`);
    }
    try {
      toks.push(...fieldTokens(op, spec.name, spec.type, v));
    } catch (e) {
      if (e instanceof WireError) throw new WireError(`${spec.name}: ${e.message}`);
      throw e;
    }
  }
  if (step.as !== undefined) {
    if (!CREATING_OPS.has(op)) throw new WireError(`as: ${op} creates nothing to name`);
    toks.push(`as=${handle(step.as)}`);
  }
  return toks.join(' ');
}

function rejectLine(reason: string): string {
  return `reject ${reason.replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ')}`;
}

/** Request lines for a trace's steps, with the tree that maps answers back to steps. */
export function planTrace(steps: readonly Step[]): Plan {
  const lines: string[] = [];
  const walk = (list: readonly Step[], where: string): PlanNode[] =>
    list.map((step, i) => {
      const seq = lines.length;
      const raw = step as unknown as Record<string, unknown>;
      if (raw.op === 'fork') {
        if (!Array.isArray(raw.steps)) {
          lines.push(rejectLine(`invalid step ${where}[${i}]: steps: expected a list of steps`));
          return { seq, where: `${where}[${i}]`, step };
        }
        lines.push(`fork n=${raw.steps.length}`);
        const children = walk(raw.steps as Step[], `${where}[${i}].steps`);
        return { seq, where: `${where}[${i}]`, step, children };
      }
      try {
        lines.push(stepLine(step));
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
        lines.push(rejectLine(`invalid step ${where}[${i}]: ${e.message}`));
      }
      return { seq, where: `${where}[${i}]`, step };
    });
  const roots = walk(steps, 'steps');
  return { lines, roots };
}

/** What one answer line body says: an outcome, or `undefined` when it is not valid protocol. */
export function parseAnswer(body: string): Outcome | undefined {
  if (body === 'ok') return { ok: true };
  let m = /^ok ret=(-?\d+)$/.exec(body);
  if (m) return { ok: true, ret: normInt(BigInt(m[1]!)) };
  m = /^fstat st_size=(-?\d+) st_blksize=(\d+) st_type=(\S+)$/.exec(body);
  if (m) return { ok: true, fstat: { st_size: normInt(BigInt(m[1]!)), st_blksize: Number(m[2]), st_type: m[3]! } };
  m = /^errno (\S+)(?: error_offset=(\d+))?$/.exec(body);
  if (m) {
    const name = m[1]!;
    if (!isErrnoName(name)) {
      return { failed: `the kernel returned errno ${name}, which the spec's errno vocabulary (spec/constants.ts ERRNO) has no name for` };
    }
    const out: Outcome = { errno: name };
    if (m[2] !== undefined) out.error_offset = normInt(BigInt(m[2]));
    return out;
  }
  m = /^access ok(?: value=(\d+))?(?: match=(true|false))?$/.exec(body);
  if (m) {
    const out: Outcome = { access: 'ok' };
    if (m[1] !== undefined) {
      const v = Number(m[1]);
      if (v > 255) return undefined;
      out.value = v;
    }
    if (m[2] !== undefined) out.match = m[2] === 'true';
    return out;
  }
  m = /^access (SIGBUS|SIGSEGV|MCE|UFFD_MINOR|UFFD_MISSING)$/.exec(body);
  if (m) return { access: m[1] as 'SIGBUS' | 'SIGSEGV' | 'MCE' | 'UFFD_MINOR' | 'UFFD_MISSING' };
  // The helper has already checked that the fault is at the accessed page; gpa, size and KVM_RUN's errno are
  // for people reading the protocol, not part of the outcome.
  m = /^exit MEMORY_FAULT private=(true|false) gpa=\d+ size=\d+ errno=(EFAULT|EHWPOISON)$/.exec(body);
  if (m) return { exit: 'MEMORY_FAULT', private: m[1] === 'true' };
  if (body === 'exit MMIO') return { exit: 'MMIO' };
  m = /^failed (.+)$/.exec(body);
  if (m) return { failed: m[1]! };
  m = /^error (.+)$/.exec(body);
  if (m) return { failed: `helper protocol error: ${m[1]!}` };
  return undefined;
}

/** A short label for a step in failure messages: `steps[3] (mmap)`. */
export function describeStep(node: PlanNode): string {
  return `${node.where} (${String((node.step as unknown as { op?: unknown }).op)})`;
}
