/** Comparing and printing outcomes. Integers compare by value whether they arrived as number or bigint. */
import { stringifyJson } from './json.ts';
import type { Outcome } from './ops.ts';

function norm(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = norm(x);
    }
    return out;
  }
  return v;
}

export function outcomesEqual(a: Outcome, b: Outcome): boolean {
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
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
  const parts = ['ok'];
  if (o.ret !== undefined) parts.push(`ret ${o.ret}`);
  if (o.fstat) parts.push(`st_size ${o.fstat.st_size}, st_blksize ${o.fstat.st_blksize}, ${o.fstat.st_type}`);
  if (o.steps) parts.push(`[${o.steps.map(formatOutcome).join('; ')}]`);
  return parts.join(', ');
}

export function outcomeJson(o: Outcome): string {
  return stringifyJson(o);
}
