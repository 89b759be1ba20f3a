/**
 * The profile a trace file names, composed profiles included: `"profile": "base+FLAG+FLAG"`, with the
 * definitions of flags that are not built in (or that must not change under the trace) carried in the trace's
 * top-level `"flags"` list. This is what makes a counterexample written by `gmem-spec check` replay to the same
 * verdict with `predict` and `check-trace`.
 *
 * Integration (src/cli/traceInput.ts): `getProfile(name)` → `profileForTrace(path, name)`.
 */
import { readFileSync } from 'node:fs';
import { type JsonValue, parseJson } from '../../spec/json.ts';
import type { FlagDef, Profile } from '../../spec/profile.ts';
import { getProfile } from '../../spec/profiles/index.ts';
import { ComposeError, resolveProfileName, splitProfileName } from '../../spec/profileCompose.ts';
import { FlagValidationError } from '../../spec/flagValidation.ts';
import { TraceError } from '../../spec/trace.ts';

/** The flag definitions a trace file carries (`"flags": [...]`), by name. */
export function traceFlagDefinitions(path: string): Record<string, FlagDef> {
  let doc: JsonValue;
  try {
    doc = parseJson(readFileSync(path, 'utf8'));
  } catch {
    return {}; // the trace parser reports unreadable or malformed files
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return {};
  const flags = (doc as Record<string, JsonValue>).flags;
  if (flags === undefined) return {};
  if (!Array.isArray(flags)) throw new TraceError(`${path}: flags`, 'expected a list of flag definitions');
  const out: Record<string, FlagDef> = {};
  flags.forEach((f, i) => {
    if (typeof f !== 'object' || f === null || Array.isArray(f) || typeof (f as Record<string, JsonValue>).name !== 'string') {
      throw new TraceError(`${path}: flags[${i}]`, 'expected a flag definition with a name');
    }
    out[(f as Record<string, JsonValue>).name as string] = JSON.parse(
      JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)),
    ) as FlagDef;
  });
  return out;
}

/** The profile `name` stands for in the trace at `path` (a plain name, or `base+FLAG...`). */
export function profileForTrace(path: string, name: string): Profile {
  if (splitProfileName(name).flags.length === 0) return getProfile(name);
  try {
    return resolveProfileName(name, traceFlagDefinitions(path)).profile;
  } catch (e) {
    if (e instanceof ComposeError || e instanceof FlagValidationError) throw new TraceError(`${path}: profile`, e.message);
    throw e;
  }
}
