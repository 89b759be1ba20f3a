/**
 * Static check of a trace's handles: every handle a step uses must be created by an earlier step (in the same
 * process or an ancestor, for steps nested in fork). Reports the step and field, like the parser.
 */
import { OP_FIELDS } from './opSchema.ts';
import type { Step } from './ops.ts';
import { TraceError } from './trace.ts';

function walk(steps: readonly Step[], defined: Set<string>, where: string): void {
  steps.forEach((s, i) => {
    const at = `${where}[${i}]`;
    const rec = s as unknown as Record<string, unknown>;
    for (const f of OP_FIELDS[s.op]) {
      const v = rec[f.name];
      if (v === undefined) continue;
      const need = (name: unknown, field: string) => {
        if (typeof name === 'string' && !defined.has(name)) {
          throw new TraceError(`${at}.${field}`, `unknown handle ${JSON.stringify(name)}: no earlier step creates it (use "as")`);
        }
      };
      if (f.type.kind === 'handle') need(v, f.name);
      if (f.type.kind === 'kvm-or-handle' && v !== 'kvm') need(v, f.name);
      if (f.type.kind === 'uaddr' && typeof v === 'object' && v !== null) need((v as { map: unknown }).map, `${f.name}.map`);
    }
    if (s.op === 'fork') walk(s.steps, new Set(defined), `${at}.steps`);
    if (s.as !== undefined) defined.add(s.as);
  });
}

export function checkHandles(steps: readonly Step[], source = 'trace'): void {
  walk(steps, new Set(), `${source}: steps`);
}
