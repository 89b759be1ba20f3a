/**
 * Ordered failure conditions, after the Arm RMM specification's style: per operation, the list of checks in
 * the order the kernel evaluates them, each with the errno it returns. The first failing check decides the
 * outcome. The same lists drive the spec and the "failure priority" test generator.
 */
import type { ErrnoName } from '../constants.ts';

export interface Check<C> {
  /** Stable id, `<op>.<condition>`, used in reports and generated test names. */
  id: string;
  errno: ErrnoName;
  /** The rule in words, as an assertion message would say it. */
  says: string;
  /** Where it comes from: fact sheet section, api.rst, selftest, or "kernel here" when measured. */
  cite: string;
  fails: (c: C) => boolean;
}

export function firstFailure<C>(checks: readonly Check<C>[], c: C): Check<C> | undefined {
  for (const check of checks) if (check.fails(c)) return check;
  return undefined;
}

/** The rule that decided a step's outcome, reported next to every prediction. */
export interface RuleRef {
  id: string;
  says: string;
  cite: string;
}

export function ruleOf<C>(c: Check<C>): RuleRef {
  return { id: c.id, says: c.says, cite: c.cite };
}
