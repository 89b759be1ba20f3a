/** What a rule returns: the outcome and the rule that decided it. */
import type { Int, Outcome } from '../ops.ts';
import { type Check, type RuleRef, ruleOf } from './check.ts';

export interface Decision {
  outcome: Outcome;
  rule: RuleRef;
}

export function success(id: string, says: string, cite: string, extra: Partial<{ ret: Int }> = {}): Decision {
  return { outcome: { ok: true, ...extra }, rule: { id, says, cite } };
}

export function refused<C>(check: Check<C>): Decision {
  return { outcome: { errno: check.errno }, rule: ruleOf(check) };
}

export function big(v: Int): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

/** The u64 bits of a value read as the kernel's signed loff_t / s64. */
export function s64(v: Int): bigint {
  const b = BigInt.asUintN(64, big(v));
  return BigInt.asIntN(64, b);
}

export function u64(v: Int): bigint {
  return BigInt.asUintN(64, big(v));
}

export const PAGE = 4096n;
export function aligned(v: bigint): boolean {
  return v % PAGE === 0n;
}
export function pagesOf(v: bigint): number {
  return Number(v / PAGE);
}
