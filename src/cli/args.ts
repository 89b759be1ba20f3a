/**
 * The CLI's one argument parser. A command declares each option once (name, type, short alias, default, what it
 * does, whether it repeats); Node's `util.parseArgs` splits the command line (`--name value`, `--name=value`,
 * `-n value`, `--`), and this module turns its tokens into typed values, refusing unknown options, options
 * missing their value and values given to switches, each with a one-line error. The same declarations render
 * `--help` (src/cli/help.ts).
 */
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface OptionBase {
  /** One letter: `-p` for `--profile`. */
  short?: string;
  /** What the option does, in a phrase. */
  description: string;
}

/** A switch: present or not (false by default). */
export interface BooleanOption extends OptionBase {
  type: 'boolean';
}

/** An option with a value. Either `default` (used when absent) or `defaultText` (what absence means) says its default. */
export interface StringOption extends OptionBase {
  type: 'string';
  /** The value's placeholder in help: `P`, `DIR`, `N`. */
  value: string;
  /** The values it accepts, when it is a choice (checked, and listed in help). */
  choices?: readonly string[];
  default?: string;
  defaultText?: string;
}

/** An option that may be given several times; its value is the list (empty by default). */
export interface MultipleOption extends OptionBase {
  type: 'string';
  multiple: true;
  value: string;
  defaultText?: string;
}

export type OptionSpec = BooleanOption | StringOption | MultipleOption;
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** A choice option's value is one of its choices. */
type Choice<S> = S extends { choices: readonly (infer C extends string)[] } ? C : string;
type ValueOf<S> = S extends { type: 'boolean' }
  ? boolean
  : S extends { multiple: true }
    ? string[]
    : S extends { default: string }
      ? Choice<S>
      : Choice<S> | undefined;

/** The parsed values of a command's options, typed from its declarations. */
export type OptionValues<O extends OptionSpecs> = { -readonly [K in keyof O]: ValueOf<O[K]> };

export interface ParsedArgs<O extends OptionSpecs> {
  values: OptionValues<O>;
  /** Arguments that are not options (after `--` too). */
  positionals: string[];
  /** Arguments after `--`, as given (for commands that pass a program and its arguments on). */
  afterDashDash: string[];
  /** The command line as given (for "reproduce with" notes). */
  argv: readonly string[];
}

/** Options every command has (handled before the command runs). */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h', description: 'print this help (options, defaults, exit status) and exit' },
  version: { type: 'boolean', short: 'V', description: 'print the version and exit' },
  quiet: { type: 'boolean', short: 'q', description: 'no progress lines on stderr' },
} as const satisfies OptionSpecs;

function isMultiple(s: OptionSpec): s is MultipleOption {
  return 'multiple' in s && s.multiple === true;
}

/** A value that looks like an option (`--json`) means the value was forgotten; a negative number does not. */
function looksLikeOption(v: string): boolean {
  return v.startsWith('-') && v !== '-' && !/^-\d/.test(v);
}

function suggestion(name: string, known: readonly string[]): string {
  const hit = known.find((k) => k.startsWith(name) || name.startsWith(k) || k.replaceAll('-', '') === name.replaceAll('-', ''));
  return hit ? ` (did you mean --${hit}?)` : '';
}

/** Parse `argv` against the declared options. Throws UsageError naming the option at fault. */
export function parseCommandLine<O extends OptionSpecs>(argv: readonly string[], specs: O): ParsedArgs<O> {
  const all: OptionSpecs = { ...specs, ...COMMON_OPTIONS };
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, s] of Object.entries(all)) {
    config[name] = { type: s.type, ...(s.short ? { short: s.short } : {}), ...(isMultiple(s) ? { multiple: true } : {}) };
  }
  const { tokens } = parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean | string[] | undefined> = {};
  for (const [name, s] of Object.entries(all)) {
    values[name] = s.type === 'boolean' ? false : isMultiple(s) ? [] : s.default;
  }
  const positionals: string[] = [];
  const afterDashDash: string[] = [];
  let terminated = false;
  const known = Object.keys(specs);
  for (const t of tokens) {
    if (t.kind === 'option-terminator') {
      terminated = true;
      continue;
    }
    if (t.kind === 'positional') {
      positionals.push(t.value);
      if (terminated) afterDashDash.push(t.value);
      continue;
    }
    const s = all[t.name];
    if (!s) {
      throw new UsageError(
        `unknown option ${t.rawName}${suggestion(t.name, known)}; known: ${known.map((k) => `--${k}`).join(', ') || 'none'}`,
      );
    }
    const shown = t.rawName.startsWith('--') ? t.rawName : `${t.rawName} (--${t.name})`;
    if (s.type === 'boolean') {
      if (t.inlineValue) throw new UsageError(`${shown} takes no value (got ${JSON.stringify(t.value)})`);
      values[t.name] = true;
      continue;
    }
    if (t.value === undefined || (!t.inlineValue && looksLikeOption(t.value))) {
      throw new UsageError(`${shown} needs a value (${s.value})${t.value !== undefined ? `, got option ${t.value}` : ''}`);
    }
    if (isMultiple(s)) (values[t.name] as string[]).push(t.value);
    else {
      if (s.choices && !s.choices.includes(t.value))
        throw new UsageError(`${shown} must be one of ${s.choices.join(', ')}, got ${JSON.stringify(t.value)}`);
      values[t.name] = t.value;
    }
  }
  return { values: values as OptionValues<O>, positionals, afterDashDash, argv };
}

/** An integer option's value, checked to lie in [min, max]; undefined when absent. */
export function intValue(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** A positive number option's value; undefined when absent. */
export function positiveValue(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x <= 0)
    throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
  return x;
}
