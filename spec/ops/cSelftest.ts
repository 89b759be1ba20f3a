/**
 * An operation's C selftest text (the `cSelftest` facet), and the C formatting its modules share. Each module
 * writes its step as C statements plus the assertions on its outcome; src/generate/emitC.ts lays them out in a
 * kselftest TEST() and writes each assertion with the step's rule as its message. Pure string building.
 */
import type { Handle, Int, OpName, Outcome, Step } from '../ops.ts';
import type { Profile } from '../profile.ts';
import type { StepOf } from './fields.ts';
import { big } from './words.ts';

/** A local the test body declares once some step uses it (`ret` and the handles are always declared). */
export type CLocal = 'scratch_map' | 'val' | 'match' | 'st' | 'pid' | 'attr2';

/**
 * One line of a step's C: a statement, or an assertion the emitter writes with the step's rule as its message
 * (`TH_LOG`), or the nested steps of a forked child, one indent deeper.
 */
export type CLine =
  | string
  /** The step's expected outcome, for a syscall-style result (-1 and errno on failure) held in this variable. */
  | { assertResult: string }
  /** The step's expected outcome, for a guarded access whose result (0 or the signal) is in `ret`. */
  | { assertAccess: true }
  | { assertOk: string }
  | { assertEq: readonly [expected: string, seen: string] }
  | { child: readonly Step[] };

export interface CStep {
  locals?: readonly CLocal[];
  lines: readonly CLine[];
}

/**
 * A table of refusals (the kernel selftests' invalid-input tables): consecutive steps of the op, none creating
 * anything, become rows of a C struct array looped over with one assertion.
 */
export interface CTable<N extends OpName> {
  /** The struct's members before `err` and `rule`. */
  members: string;
  /** A row's values for those members. */
  row: (s: StepOf<N>, profile: Profile) => string;
  /** The call on one row (`row` is the C expression of the row, e.g. `fallocate_cases_1[i]`). */
  call: (row: string) => string;
  /** Whether a step that succeeds (without a return value) may be a row, and which steps may be rows at all. */
  successRows: boolean;
  accepts?: (s: StepOf<N>) => boolean;
}

export interface CSelftest<N extends OpName> {
  /** The step's C, or why this step has none (the trace is then left out of the C suite, with that reason). */
  step: (s: StepOf<N>, expected: Outcome, profile: Profile) => CStep | { unsupported: string };
  table?: CTable<N>;
}

/** Why the platform operations have no C: a plain process cannot issue them (`cSelftest: { none }`). */
export const NEEDS_A_VCPU = 'needs a confidential-computing platform or a vCPU';

/** Names the C test body declares itself: a handle with one of these names gets an `h_` prefix. */
const RESERVED = new Set(['ret', 'val', 'match', 'st', 'pid', 'status', 'kvm_fd', 'main', 'errno']);

/** A handle as a C identifier. */
export function ident(h: Handle): string {
  const id = h.replace(/[^A-Za-z0-9_]/g, '_');
  return RESERVED.has(id) || /^\d/.test(id) ? `h_${id}` : id;
}

/** The C expression of an fd handle (`kvm` is /dev/kvm's fd). */
export function fd(h: Handle): string {
  return h === 'kvm' ? 'kvm_fd' : ident(h);
}

/** The variable that receives a call's result: the handle the step creates, else `ret`. */
export function target(as: Handle | undefined): string {
  return as ? ident(as) : 'ret';
}

/** An unsigned 64-bit literal. */
export function u64(v: Int): string {
  const b = BigInt.asUintN(64, big(v));
  return b < 4096n ? `${b}` : `0x${b.toString(16)}ULL`;
}

/** A signed 64-bit literal (off_t, loff_t). */
export function s64(v: Int): string {
  const b = BigInt.asIntN(64, big(v));
  if (b === -(1n << 63n)) return '(-0x7fffffffffffffffLL - 1)';
  if (b < 0n) return `-${(-b) < 4096n ? `${-b}` : `0x${(-b).toString(16)}`}LL`;
  return b < 4096n ? `${b}` : `0x${b.toString(16)}LL`;
}

/** An address inside a mapping the test made. */
export function addr(map: Handle, off: Int): string {
  const o = big(off);
  return o === 0n ? `${ident(map)}.addr` : `${ident(map)}.addr + ${s64(o)}`;
}

/** A step whose C is one call into `ret` and the assertion on its result. */
export const callIntoRet = (call: string): CStep => ({ lines: [`ret = ${call};`, { assertResult: 'ret' }] });

/** A step whose C is one guarded access into `ret` and the assertion on the access. */
export const accessIntoRet = (call: string, locals: readonly CLocal[] = []): CStep => ({
  locals,
  lines: [`ret = ${call};`, { assertAccess: true }],
});
