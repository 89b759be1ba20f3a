/**
 * gmem-spec command-line entry: `--version`, `help [COMMAND]`, dispatch to a command, and every error turned
 * into one line on stderr with exit status 2 — bad input naming what and where, and an internal error naming the
 * command and the phase it was in (GMEM_SPEC_DEBUG=1 adds the stack trace).
 */
import { JsonSyntaxError } from '../../spec/json.ts';
import { BoundError } from '../../spec/explore/bound.ts';
import { FlagValidationError } from '../../spec/flagValidation.ts';
import { ComposeError } from '../../spec/profileCompose.ts';
import { UnknownProfileError } from '../../spec/profiles/index.ts';
import { TraceError } from '../../spec/trace.ts';
import { UnknownHandleError } from '../../spec/world.ts';
import { BackendUnavailableError } from '../backend/index.ts';
import { FlagFileError } from '../check/flagFiles.ts';
import { SelectionError } from '../generate/select.ts';
import { UsageError } from './args.ts';
import type { Command, Io } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { renderCommandHelp, renderGlobalHelp } from './help.ts';
import { ProfileConflictError } from './profiles.ts';
import { PhaseTracker, processIo } from './stdio.ts';
import { version } from './version.ts';

/** Errors that are the input's fault: their message is the whole story. */
const INPUT_ERRORS = [
  TraceError,
  UnknownProfileError,
  UnknownHandleError,
  JsonSyntaxError,
  FlagFileError,
  FlagValidationError,
  ComposeError,
  BoundError,
  SelectionError,
  ProfileConflictError,
];

const debug = () => process.env.GMEM_SPEC_DEBUG === '1';

function firstLine(s: string): string {
  const [head = '', ...rest] = s.split('\n');
  return rest.some((l) => l.trim()) ? `${head} …` : head;
}

/** One line for an error that is the program's fault: command, phase, what. */
export function internalErrorLine(command: string, e: unknown, phase: string | undefined): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const where = phase ? ` while ${phase}` : '';
  return `gmem-spec ${command}: internal error${where}: ${err.name}: ${firstLine(err.message)}${debug() ? '' : ' (GMEM_SPEC_DEBUG=1 shows the stack trace)'}`;
}

/** An error from the operating system (a file that cannot be written): its message names the file. */
function systemError(e: unknown): e is NodeJS.ErrnoException {
  return (
    e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string'
  );
}

function reportError(name: string, cmd: Command, e: unknown, io: Io, phase: string | undefined): number {
  if (systemError(e)) io.err(`gmem-spec ${name}: ${firstLine(e.message)}${phase ? ` (while ${phase})` : ''}`);
  else if (e instanceof UsageError) io.err(`gmem-spec ${name}: ${e.message} (see gmem-spec ${name} --help)`);
  else if (e instanceof BackendUnavailableError) io.err(`SKIP: the ${e.backend} backend is not available here: ${e.reason}`);
  else if (INPUT_ERRORS.some((k) => e instanceof k)) io.err(`gmem-spec ${name}: ${(e as Error).message}`);
  else {
    io.err(internalErrorLine(cmd.name, e, phase));
    if (debug() && e instanceof Error && e.stack) io.err(e.stack);
  }
  return 2;
}

let processHandlers = false;

/** For the real process: an error thrown outside a command's promise (a stream, a timer) is one line too. */
function installProcessHandlers(command: string, io: Io, tracker: PhaseTracker): void {
  if (processHandlers) return;
  processHandlers = true;
  const fatal = (e: unknown) => {
    io.err(internalErrorLine(command, e, tracker.current));
    if (debug() && e instanceof Error && e.stack) io.err(e.stack);
    process.exit(2);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

function suggest(name: string, commands: readonly Command[]): string {
  const hit = commands.find((c) => c.name.startsWith(name) || name.startsWith(c.name));
  return hit ? ` (did you mean ${hit.name}?)` : '';
}

/** Run the command line `argv`; `given` replaces the process's streams, `commands` the registry (tests). */
export async function main(argv: readonly string[], given?: Io, commands: readonly Command[] = COMMANDS): Promise<number> {
  const [name, ...rest] = argv;
  const base = given ?? processIo(name ?? 'help');
  if (!name) {
    base.err(renderGlobalHelp(commands));
    return 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    base.out(`gmem-spec ${version()}`);
    return 0;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0];
    if (topic === undefined) {
      base.out(renderGlobalHelp(commands));
      return 0;
    }
    const c = commands.find((x) => x.name === topic);
    if (!c) {
      base.err(
        `gmem-spec help: unknown command ${JSON.stringify(topic)}${suggest(topic, commands)}; commands: ${commands.map((x) => x.name).join(', ')}`,
      );
      return 2;
    }
    base.out(renderCommandHelp(c));
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    base.err(`gmem-spec: unknown command ${JSON.stringify(name)}${suggest(name, commands)} (gmem-spec help lists them)`);
    return 2;
  }
  const tracker = base.progress instanceof PhaseTracker ? base.progress : new PhaseTracker(base.progress);
  const io: Io = { ...base, progress: tracker };
  if (!given) installProcessHandlers(name, io, tracker);
  // A command written without defineCommand has no declared options: answer --help from its usage.
  if (!cmd.options && rest.some((a) => a === '--help' || a === '-h')) {
    io.out(renderCommandHelp(cmd));
    return 0;
  }
  try {
    const code = await cmd.run(rest, io);
    tracker.done();
    return code;
  } catch (e) {
    tracker.done();
    return reportError(name, cmd, e, io, tracker.current);
  }
}
