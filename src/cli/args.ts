/** A small argument parser: `--name value`, `--flag`, repeated options, and positionals. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string[]>;
}

/** `booleans` names options that take no value. */
export function parseArgs(argv: readonly string[], booleans: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      let value: string;
      if (eq > 0) value = a.slice(eq + 1);
      else if (booleans.includes(name)) value = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`);
        value = next;
        i++;
      }
      options.set(name, [...(options.get(name) ?? []), value]);
    } else positionals.push(a);
  }
  return { positionals, options };
}

export function opt(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return v ? v[v.length - 1] : undefined;
}

export function optAll(args: ParsedArgs, name: string): string[] {
  return args.options.get(name) ?? [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return opt(args, name) === 'true';
}

/** Reject options the command does not know, naming them. */
export function onlyOptions(args: ParsedArgs, known: readonly string[]): void {
  for (const k of args.options.keys()) {
    if (!known.includes(k)) throw new UsageError(`unknown option --${k} (known: ${known.map((x) => `--${x}`).join(', ') || 'none'})`);
  }
}
