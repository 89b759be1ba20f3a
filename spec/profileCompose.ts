/**
 * A profile is a base profile plus a list of flags: `compose(base, flags)` is the profile whose
 * KVM_CREATE_GUEST_MEMFD also knows the flags, and whose rules follow from their declared effects (World reads
 * every rule change from the flags' data, so nothing else changes). Pure.
 *
 * Composed profiles have names `base+FLAG+FLAG` (`inplace-conversion+CONVERT_IGNORING_REFS`), which
 * `resolveProfileName` turns back into the profile, given where the flags' definitions can be found: the
 * built-in flags (spec/flags) by name, and others from a table (a trace file carries the definitions of the
 * flags it names, so that replaying it rebuilds the same profile).
 *
 * Model bits. The explorer creates guest_memfds only with flag bits 0..30 (spec/explore/events.ts
 * flagCombinations builds masks with `1 << bit`) and World finds a file's flags with 32-bit arithmetic
 * (spec/world.ts flagDefsOf), so a flag declared at a higher bit (the unsafe examples use 61 and 62) would be
 * accepted but never created nor obeyed. Such a flag is modelled at a free bit the model can represent (its
 * declared bit mod 32 when free, else the highest free bit ≤ 30); the composition says so in its notes and
 * summary. The test is made on the model itself, so the relocation disappears once the model handles all 64 bits.
 */
import { flagCombinations } from './explore/events.ts';
import { assertValidFlag, type FlagProblem } from './flagValidation.ts';
import { BUILTIN_FLAGS } from './flags/index.ts';
import type { FlagDef, Profile } from './profile.ts';
import { DEFAULT_VM } from './profiles/vmTypes.ts';
import { getProfile } from './profiles/index.ts';
import { flagDefsOf } from './world.ts';

export interface Composition {
  profile: Profile;
  /** Warnings from validation, and model-bit relocations, in words. */
  notes: string[];
  warnings: FlagProblem[];
  /** Flags modelled at another bit than declared: name → { declared, model }. */
  relocated: Record<string, { declared: number; model: number }>;
}

export class ComposeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ComposeError';
  }
}

/** Whether the explorer can create a guest_memfd with this bit and World then sees the flag. */
export function modelRepresentsBit(bit: number): boolean {
  const probe: FlagDef = {
    name: 'PROBE',
    bit,
    status: 'example',
    summary: 'probe',
    source: 'probe',
    acceptedBy: 'all',
    effects: { enablesMmap: true },
  };
  const profile = { flags: [probe], vmTypes: { default: DEFAULT_VM } } as unknown as Profile;
  const masks = flagCombinations(profile, 'default').filter((m) => m !== 0);
  return masks.length === 1 && flagDefsOf(profile, masks[0] as number).length === 1;
}

function sameDef(a: FlagDef, b: FlagDef): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function modelBit(declared: number, taken: ReadonlySet<number>): number | undefined {
  const preferred = declared % 32;
  if (preferred <= 30 && !taken.has(preferred) && modelRepresentsBit(preferred)) return preferred;
  for (let b = 30; b >= 0; b--) if (!taken.has(b) && modelRepresentsBit(b)) return b;
  return undefined;
}

/** The profile `base` with `flags` added (validated against it and each other). Throws on an invalid flag. */
export function composeProfile(base: Profile, flags: readonly FlagDef[], options: { sources?: readonly string[] } = {}): Composition {
  const notes: string[] = [];
  const warnings: FlagProblem[] = [];
  const relocated: Composition['relocated'] = {};
  const added: FlagDef[] = [];
  const isBuiltin = (f: FlagDef) =>
    typeof f?.name === 'string' && BUILTIN_FLAGS[f.name] !== undefined && sameDef(BUILTIN_FLAGS[f.name] as FlagDef, f);
  flags.forEach((f, i) => {
    const source = options.sources?.[i] ?? (typeof f?.name === 'string' ? f.name : `flag ${i + 1}`);
    const existing = base.flags.find((x) => x.name === f?.name);
    if (existing) {
      if (sameDef(existing, f)) {
        notes.push(`${f.name} is already a flag of ${base.name}: nothing to add`);
        return;
      }
      throw new ComposeError(
        `${source}: profile ${base.name} already has a different flag named ${f.name} (bit ${existing.bit}); give the new flag another name`,
      );
    }
    if (added.some((x) => x.name === f?.name)) throw new ComposeError(`${source}: flag ${f.name} is given twice`);
    warnings.push(...assertValidFlag(f, base, source, { others: flags.filter((x) => x !== f), builtin: isBuiltin(f) }));
    added.push(f);
  });
  if (!added.length) return { profile: base, notes, warnings, relocated };

  const taken = new Set([...base.flags, ...added].map((f) => f.bit));
  const modelled = added.map((f) => {
    if (modelRepresentsBit(f.bit)) return f;
    const b = modelBit(f.bit, taken);
    if (b === undefined)
      throw new ComposeError(`${f.name}: bit ${f.bit} is beyond the bits the model can explore (0..30) and no bit ≤ 30 is free`);
    taken.add(b);
    relocated[f.name] = { declared: f.bit, model: b };
    notes.push(
      `${f.name} declares bit ${f.bit}, beyond the bits the explorer creates (0..30); it is modelled at bit ${b} (create_gmem flags 0x${(2 ** b).toString(16)})`,
    );
    return { ...f, bit: b };
  });

  const names = added.map((f) => f.name);
  const profile: Profile = {
    ...base,
    name: `${base.name}+${names.join('+')}`,
    title: `${base.title} + ${names.join(' + ')}`,
    kind: 'proposal',
    summary: `${base.summary} Composed with ${added.map((f) => `${f.name} (bit ${f.bit}${relocated[f.name] ? `, modelled at bit ${relocated[f.name]?.model}` : ''}): ${f.summary}`).join(' ')}`,
    sources: [...base.sources, ...added.map((f) => `${f.name}: ${f.source}`)],
    checkedAgainstKernel: false,
    base: base.name,
    flags: [...base.flags, ...modelled],
  };
  if (base.promises) profile.promises = [...new Set([...base.promises, ...added.flatMap((f) => f.adds ?? [])])];
  return { profile, notes, warnings, relocated };
}

/** compose(profile, flags) → Profile. */
export function compose(base: Profile, flags: readonly FlagDef[]): Profile {
  return composeProfile(base, flags).profile;
}

/** Split `base+FLAG+FLAG` into the base profile name and flag names. */
export function splitProfileName(name: string): { base: string; flags: string[] } {
  const [base = '', ...flags] = name.split('+').map((s) => s.trim());
  return { base, flags };
}

/**
 * The profile a (possibly composed) name stands for. Flags are looked up in `definitions` first, then among the
 * built-in flags; an unknown name is an error that lists both.
 */
export function resolveProfileName(name: string, definitions: Readonly<Record<string, FlagDef>> = {}): Composition {
  const { base, flags } = splitProfileName(name);
  const profile = getProfile(base);
  const defs = flags.map((n) => {
    if (n === '') throw new ComposeError(`profile ${JSON.stringify(name)}: empty flag name between "+" signs`);
    const d = definitions[n] ?? BUILTIN_FLAGS[n];
    if (!d)
      throw new ComposeError(
        `profile ${JSON.stringify(name)}: unknown flag ${JSON.stringify(n)}; built-in flags: ${Object.keys(BUILTIN_FLAGS).join(', ')}${Object.keys(definitions).length ? `; defined here: ${Object.keys(definitions).join(', ')}` : ''}`,
      );
    return d;
  });
  return composeProfile(profile, defs);
}
