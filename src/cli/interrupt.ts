/**
 * Ctrl-C for commands that write files (report, generate): the first SIGINT aborts a signal the work polls
 * between phases (so a file is either written whole or not at all), and the command then says in one line what
 * was written and what was not, exiting 130; a second SIGINT quits at once.
 */
export const EXIT_SIGINT = 130;

export interface Interruptible {
  signal: AbortSignal;
  /** Remove the handler (the command is done). */
  dispose(): void;
}

export function catchInterrupt(): Interruptible {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT_SIGINT);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/** Let a pending SIGINT handler run (work between phases is synchronous), then report whether it fired. */
export async function interrupted(signal: AbortSignal): Promise<boolean> {
  await new Promise((resolve) => setImmediate(resolve));
  return signal.aborted;
}
