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
const INPUT_ERRORS = [TraceError, UnknownProfileError, UnknownHandleError, JsonSyntaxError, FlagFileError, FlagValidationError, ComposeError, BoundError, SelectionError, ProfileConflictError];

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

function reportError(name: string, cmd: Command, e: unknown, io: Io, phase: string | undefined): number {
  if (e instanceof UsageError) io.err(`gmem-spec ${name}: ${e.message} (see gmem-spec ${name} --help)`);
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

function suggest(name: string): string {
  const hit = COMMANDS.find((c) => c.name.startsWith(name) || name.startsWith(c.name));
  return hit ? ` (did you mean ${hit.name}?)` : '';
}

export async function main(argv: readonly string[], given?: Io): Promise<number> {
  const [name, ...rest] = argv;
  const base = given ?? processIo(name ?? 'help');
  if (!name) {
    base.err(renderGlobalHelp(COMMANDS));
    return 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    base.out(`gmem-spec ${version()}`);
    return 0;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0];
    if (topic === undefined) {
      base.out(renderGlobalHelp(COMMANDS));
      return 0;
    }
    const c = COMMANDS.find((x) => x.name === topic);
    if (!c) {
      base.err(`gmem-spec help: unknown command ${JSON.stringify(topic)}${suggest(topic)}; commands: ${COMMANDS.map((x) => x.name).join(', ')}`);
      return 2;
    }
    base.out(renderCommandHelp(c));
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    base.err(`gmem-spec: unknown command ${JSON.stringify(name)}${suggest(name)} (gmem-spec help lists them)`);
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
