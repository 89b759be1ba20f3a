/**
 * A CLI command: one module per command under src/cli/commands/, registered in commands/index.ts. A command
 * declares its options, its arguments and its exit statuses once (`defineCommand`); parsing, unknown-option
 * errors and `--help` all come from those declarations.
 */
import { type OptionSpecs, type OptionValues, type ParsedArgs, UsageError, parseCommandLine } from './args.ts';
import { renderCommandHelp } from './help.ts';
import { version } from './version.ts';

/** Progress for people watching: phases of a long command, on stderr (see src/cli/stdio.ts). */
export interface Progress {
  /** A new phase began (a line of its own when stderr is not a terminal). */
  phase(text: string): void;
  /** A running count within the phase (shown on a terminal only). */
  status(text: string): void;
  /** Clear a status line before the command's own output. */
  done(): void;
  /** Stop printing (--quiet); the phase is still known to error messages. */
  mute?(): void;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Absent when nobody watches (tests, --quiet). */
  progress?: Progress;
}

/** Exit status → what it means, for `--help`. */
export type ExitCodes = Readonly<Record<number, string>>;

/** The arguments a command takes besides options: a name for help, and how many. */
export interface Arguments {
  /** As shown in the synopsis: `TRACE.json`, `A B`, `[TRACE.json...]`. */
  synopsis: string;
  min: number;
  max: number;
  /** Said when the count is wrong: `a trace file`, `two profile names`. */
  what: string;
}

export interface Command {
  name: string;
  /** One line for `gmem-spec help`. */
  summary: string;
  /** The synopsis after `gmem-spec NAME`. */
  usage: string;
  /**
   * Declared options (every command also has --help, --version and --quiet) and exit statuses. A command
   * written without defineCommand lacks them: main() then answers --help from `usage` alone.
   */
  options?: OptionSpecs;
  exitCodes?: ExitCodes;
  /** Paragraphs of help after the options: modes, examples. */
  notes?: readonly string[];
  run(argv: readonly string[], io: Io): Promise<number>;
}

export interface CommandDef<O extends OptionSpecs> {
  name: string;
  summary: string;
  options: O;
  args: Arguments;
  exitCodes: ExitCodes;
  notes?: readonly string[];
  action(args: ParsedArgs<O>, io: Io): Promise<number>;
}

const NO_ARGS: Arguments = { synopsis: '', min: 0, max: 0, what: 'no argument' };
export { NO_ARGS };

/** The usual statuses; commands add or reword their own. */
export const EXIT_BAD_INPUT =
  'bad input (an unknown option, profile or file, a malformed trace or flag), an unavailable backend, or an internal error: one line on stderr says which';
export const EXIT_INTERRUPTED = 'interrupted (Ctrl-C): one line says what was written and what was not';

function checkCount(def: CommandDef<OptionSpecs>, positionals: readonly string[]): void {
  const n = positionals.length;
  if (n >= def.args.min && n <= def.args.max) return;
  if (def.args.max === 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const want =
    def.args.min === def.args.max
      ? `exactly ${def.args.what}`
      : n < def.args.min
        ? `at least ${def.args.what}`
        : `at most ${def.args.what}`;
  throw new UsageError(`${def.name} takes ${want}${n ? `, got ${n}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}` : ''}`);
}

/** A command from its declarations: parses, answers --help/--version, checks the argument count, then acts. */
export function defineCommand<const O extends OptionSpecs>(def: CommandDef<O>): Command {
  const usage = `[options]${def.args.synopsis ? ` ${def.args.synopsis}` : ''}`;
  const command: Command = {
    name: def.name,
    summary: def.summary,
    usage,
    options: def.options,
    exitCodes: def.exitCodes,
    ...(def.notes ? { notes: def.notes } : {}),
    async run(argv, io) {
      const parsed = parseCommandLine(argv, def.options);
      const common = parsed.values as unknown as { help: boolean; version: boolean; quiet: boolean };
      if (common.help) {
        io.out(renderCommandHelp(command));
        return 0;
      }
      if (common.version) {
        io.out(`gmem-spec ${version()}`);
        return 0;
      }
      checkCount(def as unknown as CommandDef<OptionSpecs>, parsed.positionals);
      if (common.quiet) io.progress?.mute?.();
      return def.action(parsed, io);
    },
  };
  return command;
}

export type { OptionValues };
