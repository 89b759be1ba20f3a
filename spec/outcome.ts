/**
 * Comparing and printing outcomes. Integers compare by value whether they arrived as number or bigint, and a
 * success's `ret` of 0 is the same outcome as no `ret` at all (docs/trace-format.md: `{"ok": true}` is a call
 * that returned 0, so a recorder that writes the return value does not diverge from a prediction that omits it).
 */
import type { Outcome } from './ops.ts';

function norm(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    const o = v as Record<string, unknown>;
    const zeroRet = 'ok' in o && (o.ret === 0 || o.ret === 0n);
    for (const k of Object.keys(v).sort()) {
      const x = o[k];
      if (x !== undefined && !(zeroRet && k === 'ret')) out[k] = norm(x);
    }
    return out;
  }
  return v;
}

export function outcomesEqual(a: Outcome, b: Outcome): boolean {
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/** Whether the spec leaves this outcome open: the step is not compared (counted as not modelled). */
/** Whether an outcome is a failure (errno, signal, exit to userspace, backend failure). */
export function isFailure(o: Outcome): boolean {
  if ('ok' in o) return false;
  if ('access' in o) return o.access !== 'ok';
  return true;
}

export function isNotModelled(o: Outcome): o is { not_modelled: string } {
  return 'not_modelled' in o;
}

/** Whether an observation agrees with a prediction; a step the spec does not model agrees with anything (not compared). */
export function observationAgrees(expected: Outcome, observed: Outcome): boolean {
  return isNotModelled(expected) || outcomesEqual(expected, observed);
}

export function formatOutcome(o: Outcome): string {
  if ('errno' in o) return o.error_offset !== undefined ? `${o.errno} (error_offset ${o.error_offset})` : o.errno;
  if ('access' in o) {
    if (o.access !== 'ok') return o.access;
    if (o.match !== undefined) return `access ok, ${o.match ? 'matches' : 'does not match'}`;
    return o.value !== undefined ? `access ok, reads ${o.value}` : 'access ok';
  }
  if ('exit' in o) return o.exit === 'MEMORY_FAULT' ? `KVM_EXIT_MEMORY_FAULT (${o.private ? 'private' : 'shared'})` : 'KVM_EXIT_MMIO';
  if ('failed' in o) return `backend failed: ${o.failed}`;
  if ('not_modelled' in o) return `not modelled (${o.not_modelled})`;
  const parts = ['ok'];
  if (o.ret !== undefined) parts.push(`ret ${o.ret}`);
  if (o.fstat) parts.push(`st_size ${o.fstat.st_size}, st_blksize ${o.fstat.st_blksize}, ${o.fstat.st_type}`);
  if (o.steps) parts.push(`[${o.steps.map(formatOutcome).join('; ')}]`);
  return parts.join(', ');
}
