/** gmem-spec command-line entry: dispatches to a command and maps errors to clear messages and exit 2. */
import { JsonSyntaxError } from '../../spec/json.ts';
import { UnknownProfileError } from '../../spec/profiles/index.ts';
import { TraceError } from '../../spec/trace.ts';
import { UnknownHandleError } from '../../spec/world.ts';
import { BackendUnavailableError } from '../backend/index.ts';
import { UsageError } from './args.ts';
import type { Io } from './command.ts';
import { COMMANDS } from './commands/index.ts';

const stdio: Io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) };

function help(io: Io): void {
  io.out('gmem-spec: an executable specification of Linux KVM guest_memfd\n\nCommands:');
  for (const c of COMMANDS) io.out(`  ${c.name.padEnd(12)} ${c.summary}\n  ${''.padEnd(12)} ${c.usage}`);
}

export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    help(io);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`gmem-spec: unknown command ${JSON.stringify(name)} (try gmem-spec help)`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) io.err(`gmem-spec ${name}: ${e.message}\nusage: ${cmd.usage}`);
    else if (e instanceof BackendUnavailableError) io.err(`SKIP: no /dev/kvm (${e.reason})`);
    else if (e instanceof TraceError || e instanceof UnknownProfileError || e instanceof UnknownHandleError || e instanceof JsonSyntaxError) io.err(`gmem-spec ${name}: ${e.message}`);
    else throw e;
    return 2;
  }
}
