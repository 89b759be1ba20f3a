/**
 * The one profile resolver every command uses. A profile is named on the command line by `--profile` (a
 * built-in name, or a composed `base+FLAG+FLAG`) plus `--flag` (a built-in flag name or a flag file, .ts, .mts or
 * .json), and by a trace's own `profile` field (composed names resolved with the definitions the trace carries in
 * its `flags` list). A trace's profile is honoured: when the command line asks for another one, the command is
 * refused with one line naming both, never silently run under the other.
 *
 * Files a command writes from a trace of a composed profile carry the flags' definitions (`traceDocument`), so
 * they replay to the same profile anywhere.
 */
import { stringifyJson } from '../../spec/json.ts';
import type { Trace } from '../../spec/ops.ts';
import type { FlagProblem } from '../../spec/flagValidation.ts';
import { BUILTIN_FLAGS } from '../../spec/flags/index.ts';
import type { FlagDef, Profile } from '../../spec/profile.ts';
import { ComposeError, composeProfile, splitProfileName } from '../../spec/profileCompose.ts';
import { DEFAULT_PROFILE, PROFILES, getProfile } from '../../spec/profiles/index.ts';
import { TraceError } from '../../spec/trace.ts';
import { loadFlagArg } from '../check/flagFiles.ts';
import { traceFlagDefinitions } from '../check/traceProfile.ts';
import type { MultipleOption, StringOption } from './args.ts';

/** A trace's profile and the command line's disagree. */
export class ProfileConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileConflictError';
  }
}

export interface ResolvedProfile {
  profile: Profile;
  /** The built-in profile it starts from (the profile itself when nothing is added). */
  builtIn: string;
  /** Flags added to the base profile (as declared, before any model-bit relocation), with where each came from. */
  added: Array<{ def: FlagDef; source: string }>;
  notes: string[];
  warnings: FlagProblem[];
  /** Command-line arguments that name this profile again (`--profile base+FLAG --flag FILE`), for hints. */
  args: string[];
}

export interface ProfileRequest {
  profile?: string | undefined;
  flag?: readonly string[] | undefined;
}

const FLAG_NAMES = Object.keys(BUILTIN_FLAGS).join(', ');
const PROFILE_NAMES = PROFILES.map((p) => p.name).join(', ');

/** `--profile`, with what its absence means for the command. */
export function profileOption(defaultText: string): StringOption & { short: 'p' } {
  return {
    type: 'string',
    short: 'p',
    value: 'P',
    description: `the profile: ${PROFILE_NAMES}, or one plus flags (base+FLAG, e.g. linux-6.18+NO_DIRECT_MAP)`,
    defaultText,
  };
}

/** `--flag` on a command about one profile: the flag is added to it. */
export const FLAG_OPTION: MultipleOption = {
  type: 'string',
  multiple: true,
  value: 'NAME|FILE',
  description: `add a flag to the profile: a built-in flag (${FLAG_NAMES}) or a flag file (.ts, .mts, .json; docs/adding-a-flag.md)`,
};

/** `--flag` on a command about several profiles: a definition for a flag their names use (`base+NAME`). */
export const FLAG_DEFINITION_OPTION: MultipleOption = {
  type: 'string',
  multiple: true,
  value: 'FILE',
  description: 'a flag file (.ts, .mts, .json) defining a flag that a profile name uses (base+NAME)',
};

/** Stable text of a flag definition, to tell two definitions of one name apart. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );
}

function sameDef(a: FlagDef, b: FlagDef): boolean {
  return a === b || canonical(a) === canonical(b);
}

/** Quote an argument for a shell, only when it needs it. */
export function shellWord(s: string): string {
  return /^[\w./=,:+@%-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

interface Loaded {
  def: FlagDef;
  source: string;
  arg: string;
  builtin: boolean;
}

async function loadFlagArgs(args: readonly string[]): Promise<Loaded[]> {
  const out: Loaded[] = [];
  for (const arg of args) for (const l of await loadFlagArg(arg)) out.push({ def: l.def, source: l.source, arg, builtin: l.builtin });
  return out;
}

function addDefinition(table: Record<string, FlagDef>, def: FlagDef, where: string): void {
  const name = typeof def?.name === 'string' ? def.name : '';
  const had = table[name];
  if (had && !sameDef(had, def)) throw new ComposeError(`${where}: flag ${name} is defined twice, differently`);
  table[name] = def;
}

function compose(name: string, extra: readonly Loaded[], definitions: Readonly<Record<string, FlagDef>>, args: string[]): ResolvedProfile {
  const { base, flags: named } = splitProfileName(name);
  const baseProfile = getProfile(base);
  const all: Array<{ def: FlagDef; source: string }> = named.map((n) => {
    if (n === '') throw new ComposeError(`profile ${JSON.stringify(name)}: empty flag name between "+" signs`);
    const def = definitions[n] ?? BUILTIN_FLAGS[n];
    if (!def) {
      const defined = Object.keys(definitions);
      throw new ComposeError(
        `profile ${JSON.stringify(name)}: unknown flag ${JSON.stringify(n)}; built-in flags: ${FLAG_NAMES}${defined.length ? `; defined here: ${defined.join(', ')}` : ''}; a flag file defines others (--flag FILE)`,
      );
    }
    return { def, source: definitions[n] ? 'definition' : 'built-in' };
  });
  for (const l of extra) {
    const same = all.find((a) => a.def.name === l.def.name);
    if (same && sameDef(same.def, l.def)) continue;
    all.push({ def: l.def, source: l.builtin ? 'built-in' : l.source });
  }
  const c = composeProfile(
    baseProfile,
    all.map((a) => a.def),
    {
      sources: all.map((a) =>
        a.source === 'built-in' || a.source === 'definition'
          ? a.def.name
          : `${a.source} (${typeof a.def?.name === 'string' ? a.def.name : 'flag'})`,
      ),
    },
  );
  const added = all.filter((a) => !baseProfile.flags.some((f) => f.name === a.def.name));
  return { profile: c.profile, builtIn: baseProfile.name, added, notes: c.notes, warnings: c.warnings, args };
}

/**
 * The profile a command line names: `--profile` (or `fallback`) plus each `--flag`. `definitions` are flag
 * definitions from elsewhere (a trace's `flags`) for names used in `base+NAME`.
 */
export async function resolveProfile(
  req: ProfileRequest,
  fallback = DEFAULT_PROFILE,
  definitions: Readonly<Record<string, FlagDef>> = {},
): Promise<ResolvedProfile> {
  const loaded = await loadFlagArgs(req.flag ?? []);
  const table: Record<string, FlagDef> = { ...definitions };
  for (const l of loaded) if (!l.builtin) addDefinition(table, l.def, l.source);
  const name = req.profile ?? fallback;
  const args = ['--profile', name, ...(req.flag ?? []).flatMap((f) => ['--flag', f])];
  return compose(name, loaded, table, args);
}

/**
 * Several profiles by name (diff, report): each a built-in or `base+NAME`, with `--flag FILE` giving definitions
 * of flags the names use. A definition no name uses is an error (it would silently change nothing).
 */
export async function resolveProfiles(names: readonly string[], flagFiles: readonly string[]): Promise<ResolvedProfile[]> {
  const loaded = await loadFlagArgs(flagFiles);
  const table: Record<string, FlagDef> = {};
  for (const l of loaded) addDefinition(table, l.def, l.source);
  const used = new Set(names.flatMap((n) => splitProfileName(n).flags));
  for (const l of loaded) {
    if (!used.has(l.def.name))
      throw new ComposeError(
        `--flag ${l.arg}: flag ${l.def.name} is not named by any profile given (${names.join(', ')}); name it as base+${l.def.name}`,
      );
  }
  const fileArgs = flagFiles.flatMap((f) => ['--flag', f]);
  return names.map((n) => compose(n, [], table, [n, ...fileArgs]));
}

function sameProfile(a: ResolvedProfile, b: ResolvedProfile): boolean {
  if (a.builtIn !== b.builtIn || a.added.length !== b.added.length) return false;
  return a.added.every((x) => b.added.some((y) => y.def.name === x.def.name && sameDef(x.def, y.def)));
}

/** A trace's own profile, resolved with the definitions in `table` (the trace's, and --flag files'). */
function ownProfile(path: string, name: string, table: Readonly<Record<string, FlagDef>>, args: string[]): ResolvedProfile {
  try {
    return compose(name, [], table, args);
  } catch (e) {
    if (e instanceof ComposeError) throw new TraceError(`${path}: profile`, e.message);
    throw e;
  }
}

/**
 * The profile to run a trace under: the trace's own when the command line names none, the command line's when
 * the trace names none, and either when they are the same profile. Different: ProfileConflictError.
 */
export async function resolveForTrace(
  req: ProfileRequest,
  path: string,
  traceProfile: string | undefined,
  fallback = DEFAULT_PROFILE,
): Promise<ResolvedProfile> {
  const flags = req.flag ?? [];
  const loaded = await loadFlagArgs(flags);
  const table: Record<string, FlagDef> = { ...traceFlagDefinitions(path) };
  for (const l of loaded) if (!l.builtin) addDefinition(table, l.def, l.source);
  const args = (name: string) => ['--profile', name, ...flags.flatMap((f) => ['--flag', f])];
  if (traceProfile === undefined) {
    const name = req.profile ?? fallback;
    return compose(name, loaded, table, args(name));
  }
  const own = ownProfile(path, traceProfile, table, args(traceProfile));
  if (req.profile === undefined && !flags.length) return own;
  // The command line's profile: --profile (else the trace's base) plus each --flag.
  const name = req.profile ?? splitProfileName(traceProfile).base;
  assertSameProfile(own, compose(name, loaded, table, args(name)), path, traceProfile, 'the command line');
  return own;
}

/** Refuse a trace (or suite) whose profile is not the one a run checks against. */
export function assertSameProfile(own: ResolvedProfile, wanted: ResolvedProfile, path: string, traceProfile: string, whose: string): void {
  if (sameProfile(own, wanted)) return;
  throw new ProfileConflictError(
    `${path}: the trace is for profile ${traceProfile}, but ${whose} asks for ${wanted.profile.name}; leave out --profile/--flag to use the trace's, or change its "profile" field`,
  );
}

/** Check every trace of a run against the run's profile. */
export async function assertTracesProfile(
  traces: ReadonlyArray<{ path: string; trace: Trace }>,
  wanted: ResolvedProfile,
  whose: string,
): Promise<void> {
  const seen = new Set<string>();
  for (const t of traces) {
    const p = t.trace.profile;
    if (p === undefined || (!wanted.added.length && p === wanted.profile.name)) continue;
    // Traces of one composed profile usually carry the same definitions: each (name, file's flags) once.
    const key = `${p}\0${canonical(traceFlagDefinitions(t.path))}`;
    if (seen.has(key)) continue;
    assertSameProfile(ownProfile(t.path, p, traceFlagDefinitions(t.path), []), wanted, t.path, p, whose);
    seen.add(key);
  }
}

/** The profile traces agree on (for a command given traces and no --profile), or undefined when none is named. */
export async function profileOfTraces(traces: ReadonlyArray<{ path: string; trace: Trace }>): Promise<ResolvedProfile | undefined> {
  const first = traces.find((t) => t.trace.profile !== undefined);
  if (!first) return undefined;
  const name = first.trace.profile as string;
  return ownProfile(first.path, name, traceFlagDefinitions(first.path), ['--profile', name]);
}

/** Trace text for a trace run under `r`: the profile's name and, for a composed profile, the flags' definitions. */
export function traceDocument(trace: Trace, r: ResolvedProfile | undefined): string {
  return traceText(trace, r?.added.length && trace.profile === r.profile.name ? r.added.map((a) => a.def) : []);
}

/** Trace text with flag definitions in its `flags` list (what a composed profile name needs to resolve). */
export function traceText(trace: Trace, flags: readonly FlagDef[]): string {
  const doc: Record<string, unknown> = { format: trace.format };
  if (trace.profile !== undefined) doc.profile = trace.profile;
  if (trace.name !== undefined) doc.name = trace.name;
  if (trace.description !== undefined) doc.description = trace.description;
  if (flags.length) doc.flags = flags;
  doc.steps = trace.steps;
  return `${stringifyJson(doc, 2)}\n`;
}
