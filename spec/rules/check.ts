/**
 * Ordered failure conditions, after the Arm RMM specification's style: per operation, the list of checks in
 * the order the kernel evaluates them, each with the errno it returns. The first failing check decides the
 * outcome. The same lists drive the spec and the "failure priority" test generator.
 */
import type { ErrnoName } from '../constants.ts';
import type { Deviations } from '../profile.ts';
import type { FdState } from '../state.ts';
import type { World } from '../world.ts';

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

/** A check that fails unless the handle `fdOf(c)` is an open fd of `kind` (a VM for VM ioctls, a guest_memfd for mmap). */
export function fdKindCheck<C extends { w: World }>(
  kind: FdState['kind'],
  fdOf: (c: C) => string,
  rule: Omit<Check<C>, 'fails'>,
): Check<C> {
  return { ...rule, fails: (c) => c.w.openFdOf(fdOf(c), kind) === undefined };
}

/** The check list as a deviating backend (mutation harness) would evaluate it. */
function deviate<C>(checks: readonly Check<C>[], d: Deviations): readonly Check<C>[] {
  let list = checks.filter((k) => !d.skipChecks?.includes(k.id));
  for (const [a, b] of d.swapChecks ?? []) {
    const i = list.findIndex((k) => k.id === a);
    const j = list.findIndex((k) => k.id === b);
    if (i >= 0 && j >= 0) {
      list = [...list];
      [list[i], list[j]] = [list[j] as Check<C>, list[i] as Check<C>];
    }
  }
  return list;
}

export function firstFailure<C>(checks: readonly Check<C>[], c: C): Check<C> | undefined {
  const d = (c as { w?: { profile?: { deviations?: Deviations } } }).w?.profile?.deviations;
  for (const check of d ? deviate(checks, d) : checks) if (check.fails(c)) return check;
  return undefined;
}

/**
 * A check list built once per key and reused: the lists are data plus closures over the context they are given
 * (never over the call that built them), so the hot path (step) need not rebuild them per call.
 */
export function checkListCache<K, C>(build: (key: K) => readonly Check<C>[]): (key: K) => readonly Check<C>[] {
  const lists = new Map<K, readonly Check<C>[]>();
  return (key) => {
    let list = lists.get(key);
    if (list === undefined) {
      list = build(key);
      lists.set(key, list);
    }
    return list;
  };
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
