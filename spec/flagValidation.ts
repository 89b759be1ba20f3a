/**
 * Validation of a flag definition (spec/profile.ts FlagDef) against the profile it is added to: the shape of
 * the data (unknown keys, wrong types) and what it says about the profile (its bit and name are free, the flags
 * it requires or conflicts with exist, it does not contradict itself, the invariants it claims exist). Pure: a
 * list of problems, each naming the field (`effects.folioPages`) and saying what is wrong in words.
 *
 * A flag is data, so a flag file written by hand or generated can be wrong in ways TypeScript would not catch
 * (a JSON file, or a .ts file whose object is built at run time); everything the checker relies on is checked
 * here before the flag reaches the rules.
 */
import { VM_TYPE_NAMES } from './constants.ts';
import { BUILTIN_FLAGS } from './flags/index.ts';
import { INVARIANTS } from './invariants.ts';
import type { FlagDef, Profile } from './profile.ts';

export interface FlagProblem {
  severity: 'error' | 'warning';
  /** The flag and field: `HOST_MAP_PRIVATE.effects.folioPages`. */
  where: string;
  message: string;
}

export class FlagValidationError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly FlagProblem[],
  ) {
    super(
      `${source}: invalid flag definition:\n${problems
        .filter((p) => p.severity === 'error')
        .map((p) => `  ${p.where}: ${p.message}`)
        .join('\n')}`,
    );
    this.name = 'FlagValidationError';
  }
}

export const FLAG_KEYS = [
  'name',
  'bit',
  'status',
  'summary',
  'source',
  'acceptedBy',
  'acceptedInPlaceBy',
  'requires',
  'conflictsWith',
  'effects',
  'keeps',
  'adds',
] as const;
const REQUIRED_KEYS = ['name', 'bit', 'status', 'summary', 'source', 'acceptedBy', 'effects'] as const;
export const EFFECT_KEYS = ['enablesMmap', 'initShared', 'directMap', 'hostMapPrivate', 'conversionIgnoresRefs', 'folioPages'] as const;
const STATUSES: readonly FlagDef['status'][] = ['mainline', 'proposed', 'rejected', 'example'];
const ACCEPTANCE_WORDS = ['all', 'no-private-mem', 'private-mem'] as const;
const DIRECT_MAP_MODES = ['remove-all', 'remove-private'] as const;
/** The guest_memfd flags field is a u64. */
export const MAX_FLAG_BIT = 63;
/** A folio larger than this many 4 KiB pages (1 GiB) is not a folio size any proposal uses. */
const MAX_FOLIO_PAGES = 262_144;
const NAME_RE = /^[A-Z][A-Z0-9_]*$/;

export interface ValidateOptions {
  /** Flags added together with this one (their names may be required or conflicted with; their bits are taken). */
  others?: readonly FlagDef[];
  /**
   * A flag this spec ships (spec/flags): problems in its claims are the spec's, reported as warnings so that a
   * check can still run; in a user's flag file they are errors.
   */
  builtin?: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'bigint') return `${v}n`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/** ` (did you mean "X"?)` for a near miss: same letters in another case, a prefix, or one or two typos. */
function closest(word: string, candidates: readonly string[]): string {
  const lower = word.toLowerCase();
  const hit =
    candidates.find((c) => c.toLowerCase() === lower) ??
    candidates.find((c) => c.toLowerCase().includes(lower) || lower.includes(c.toLowerCase())) ??
    candidates.find((c) => editDistance(c.toLowerCase(), lower) <= Math.min(2, Math.max(1, Math.floor(word.length / 2))));
  return hit ? ` (did you mean ${JSON.stringify(hit)}?)` : '';
}

/**
 * Every problem with `raw` as a flag of `profile`. An empty list (or warnings only) means the flag can be
 * composed into the profile.
 */
export function validateFlagDef(raw: unknown, profile: Profile, options: ValidateOptions = {}): FlagProblem[] {
  const out: FlagProblem[] = [];
  if (!isObject(raw)) {
    out.push({ severity: 'error', where: 'flag', message: `expected a flag definition object (name, bit, status, ...), got ${show(raw)}` });
    return out;
  }
  const label = typeof raw.name === 'string' && raw.name ? raw.name : 'flag';
  const at = (field: string) => `${label}.${field}`;
  const err = (field: string, message: string) => out.push({ severity: 'error', where: at(field), message });
  const claim = (field: string, message: string) =>
    out.push({ severity: options.builtin ? 'warning' : 'error', where: at(field), message });
  const warn = (field: string, message: string) => out.push({ severity: 'warning', where: at(field), message });

  // Shape: keys.
  for (const k of Object.keys(raw)) {
    if (!(FLAG_KEYS as readonly string[]).includes(k)) err(k, `unknown field${closest(k, FLAG_KEYS)}; a flag has ${FLAG_KEYS.join(', ')}`);
  }
  for (const k of REQUIRED_KEYS) if (raw[k] === undefined) err(k, 'missing (required)');

  const others = options.others ?? [];
  const profileFlags = profile.flags.filter((f) => f.name !== raw.name);
  const companions = others.filter((f) => (f as unknown) !== raw && f.name !== raw.name);
  const known = [...profileFlags, ...companions];
  const knownNames = new Set([...known.map((f) => f.name), ...(typeof raw.name === 'string' ? [raw.name] : [])]);

  // name
  if (raw.name !== undefined) {
    if (typeof raw.name !== 'string' || !NAME_RE.test(raw.name))
      err('name', `expected an upper-case identifier such as "NO_DIRECT_MAP" (GUEST_MEMFD_FLAG_<name>), got ${show(raw.name)}`);
  }

  // bit
  if (raw.bit !== undefined) {
    if (typeof raw.bit !== 'number' || !Number.isInteger(raw.bit))
      err('bit', `expected an integer bit number 0..${MAX_FLAG_BIT}, got ${show(raw.bit)}`);
    else if (raw.bit < 0 || raw.bit > MAX_FLAG_BIT)
      err('bit', `bit ${raw.bit} is out of range: kvm_create_guest_memfd.flags is a u64 (bits 0..${MAX_FLAG_BIT})`);
    else {
      const taken = known.find((f) => f.bit === raw.bit);
      if (taken) {
        const inProfile = profileFlags.includes(taken);
        err(
          'bit',
          `bit ${raw.bit} is already taken by ${taken.name}${inProfile ? ` in profile ${profile.name}` : ' (another flag added with it)'}; free bits below 8: ${freeBits(known, 8).join(', ') || 'none'}`,
        );
      }
    }
  }

  // status, summary, source
  if (raw.status !== undefined && (typeof raw.status !== 'string' || !STATUSES.includes(raw.status as FlagDef['status']))) {
    err('status', `expected one of ${STATUSES.join(', ')}, got ${show(raw.status)}`);
  }
  for (const k of ['summary', 'source'] as const) {
    if (raw[k] !== undefined && (typeof raw[k] !== 'string' || (raw[k] as string).trim() === ''))
      err(
        k,
        `expected a non-empty string (${k === 'summary' ? 'one sentence: what the flag does' : 'where it comes from: patch series, fact-sheet section, seed'}), got ${show(raw[k])}`,
      );
  }

  // acceptedBy / acceptedInPlaceBy
  const acceptanceOk = (k: 'acceptedBy' | 'acceptedInPlaceBy') => {
    const v = raw[k];
    if (v === undefined) return;
    if (typeof v === 'string') {
      if (!(ACCEPTANCE_WORDS as readonly string[]).includes(v))
        err(k, `expected ${ACCEPTANCE_WORDS.map((w) => `"${w}"`).join(', ')} or a list of VM types, got ${show(v)}`);
      return;
    }
    if (!Array.isArray(v)) {
      err(k, `expected ${ACCEPTANCE_WORDS.map((w) => `"${w}"`).join(', ')} or a list of VM types, got ${show(v)}`);
      return;
    }
    v.forEach((t, i) => {
      if (typeof t !== 'string' || !(VM_TYPE_NAMES as readonly string[]).includes(t))
        err(
          `${k}[${i}]`,
          `unknown VM type ${show(t)}${typeof t === 'string' ? closest(t, VM_TYPE_NAMES) : ''}; known: ${VM_TYPE_NAMES.join(', ')}`,
        );
    });
    const inProfile = v.filter((t) => typeof t === 'string' && (profile.vmTypes as Record<string, unknown>)[t]);
    if (k === 'acceptedBy' && v.length > 0 && inProfile.length === 0 && raw.acceptedInPlaceBy === undefined) {
      warn(
        k,
        `none of ${v.join(', ')} is a VM type of profile ${profile.name} (it has ${Object.keys(profile.vmTypes).join(', ')}): no VM accepts the flag, so the check explores nothing new`,
      );
    }
  };
  acceptanceOk('acceptedBy');
  acceptanceOk('acceptedInPlaceBy');

  // requires / conflictsWith
  const nameList = (k: 'requires' | 'conflictsWith'): string[] => {
    const v = raw[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      err(k, `expected a list of flag names, got ${show(v)}`);
      return [];
    }
    const names: string[] = [];
    v.forEach((n, i) => {
      if (typeof n !== 'string') {
        err(`${k}[${i}]`, `expected a flag name, got ${show(n)}`);
        return;
      }
      names.push(n);
      if (n === raw.name)
        err(
          `${k}[${i}]`,
          k === 'requires' ? 'a flag cannot require itself' : 'a flag cannot conflict with itself (it could never be created)',
        );
      else if (!knownNames.has(n)) {
        // Conflicting with a flag the spec knows but this profile lacks is harmless; requiring it makes the flag
        // impossible to create here.
        if (BUILTIN_FLAGS[n] && k === 'conflictsWith') return;
        if (BUILTIN_FLAGS[n])
          err(
            `${k}[${i}]`,
            `requires ${n}, which profile ${profile.name} does not have: the flag could never be created (add --flag ${n}, or use a profile with it)`,
          );
        else
          err(
            `${k}[${i}]`,
            `unknown flag ${JSON.stringify(n)}${closest(n, [...knownNames, ...Object.keys(BUILTIN_FLAGS)])}; profile ${profile.name} has ${profileFlags.map((f) => f.name).join(', ') || 'no flags'}`,
          );
      }
    });
    return names;
  };
  const requires = nameList('requires');
  const conflicts = nameList('conflictsWith');
  for (const n of requires) {
    if (conflicts.includes(n)) err('conflictsWith', `${n} is both required and conflicting: the flag could never be created`);
    const dep = known.find((f) => f.name === n);
    if (dep && typeof raw.name === 'string' && (dep.conflictsWith ?? []).includes(raw.name)) {
      err('requires', `requires ${n}, but ${n} conflicts with ${raw.name}: the flag could never be created`);
    }
    if (dep && (dep.requires ?? []).some((r) => conflicts.includes(r))) {
      err(
        'requires',
        `requires ${n}, which requires ${(dep.requires ?? []).filter((r) => conflicts.includes(r)).join(', ')}, which this flag conflicts with`,
      );
    }
  }

  // effects
  const effects = raw.effects;
  if (effects !== undefined) {
    if (!isObject(effects)) err('effects', `expected an object with any of ${EFFECT_KEYS.join(', ')}, got ${show(effects)}`);
    else {
      for (const k of Object.keys(effects)) {
        if (!(EFFECT_KEYS as readonly string[]).includes(k))
          err(
            `effects.${k}`,
            `unknown effect${closest(k, EFFECT_KEYS)}; the rules understand ${EFFECT_KEYS.join(', ')} (a new kind of effect needs a new PageRules field, not a flag file)`,
          );
      }
      for (const k of ['enablesMmap', 'initShared', 'hostMapPrivate', 'conversionIgnoresRefs'] as const) {
        if (effects[k] !== undefined && typeof effects[k] !== 'boolean')
          err(`effects.${k}`, `expected true or false, got ${show(effects[k])}`);
      }
      if (effects.directMap !== undefined && !(DIRECT_MAP_MODES as readonly unknown[]).includes(effects.directMap)) {
        err('effects.directMap', `expected ${DIRECT_MAP_MODES.map((m) => `"${m}"`).join(' or ')}, got ${show(effects.directMap)}`);
      }
      if (effects.folioPages !== undefined) {
        const n = effects.folioPages;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_FOLIO_PAGES)
          err('effects.folioPages', `expected a folio size in pages, an integer 1..${MAX_FOLIO_PAGES}, got ${show(n)}`);
        else if ((n & (n - 1)) !== 0) err('effects.folioPages', `a folio is a power-of-two number of pages, got ${n}`);
      }
      // Two flags that both set the direct-map mode must not be combinable, or World picks one silently.
      if (effects.directMap !== undefined && typeof raw.name === 'string') {
        for (const f of known) {
          if (
            f.effects.directMap &&
            f.effects.directMap !== effects.directMap &&
            !conflicts.includes(f.name) &&
            !(f.conflictsWith ?? []).includes(raw.name)
          ) {
            err(
              'effects.directMap',
              `${f.name} also sets directMap ("${f.effects.directMap}"): declare conflictsWith: ["${f.name}"], or the two modes would combine undefined`,
            );
          }
        }
      }
      if (Object.keys(effects).length === 0 && (raw.keeps === undefined || (Array.isArray(raw.keeps) && raw.keeps.length === 0))) {
        warn('effects', 'no effects: the flag changes only which creations succeed');
      }
    }
  }

  // keeps / adds
  const invariantNames = INVARIANTS.map((i) => i.name);
  for (const k of ['keeps', 'adds'] as const) {
    const v = raw[k];
    if (v === undefined) continue;
    if (!Array.isArray(v)) {
      err(k, `expected a list of invariant names, got ${show(v)}`);
      continue;
    }
    v.forEach((n, i) => {
      if (typeof n !== 'string') err(`${k}[${i}]`, `expected an invariant name, got ${show(n)}`);
      else if (!invariantNames.includes(n))
        claim(
          `${k}[${i}]`,
          `claims ${k === 'keeps' ? 'to keep' : 'to add'} invariant ${JSON.stringify(n)}, which spec/invariants.ts does not define${closest(n, invariantNames)}; known: ${invariantNames.join(', ')}`,
        );
    });
  }
  if (Array.isArray(raw.keeps) && Array.isArray(raw.adds)) {
    for (const n of raw.keeps) if (raw.adds.includes(n)) warn('adds', `${String(n)} is listed in both keeps and adds`);
  }
  return out;
}

/** Bits below `limit` that no flag in `flags` uses. */
export function freeBits(flags: readonly FlagDef[], limit: number): number[] {
  const used = new Set(flags.map((f) => f.bit));
  return Array.from({ length: limit }, (_, i) => i).filter((b) => !used.has(b));
}

/** Throw a FlagValidationError when there is any error; return the warnings. */
export function assertValidFlag(raw: unknown, profile: Profile, source: string, options: ValidateOptions = {}): FlagProblem[] {
  const problems = validateFlagDef(raw, profile, options);
  if (problems.some((p) => p.severity === 'error')) throw new FlagValidationError(source, problems);
  return problems.filter((p) => p.severity === 'warning');
}
