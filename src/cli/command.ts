/** A CLI command: one module per command under src/cli/commands/, registered in commands/index.ts. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export interface Command {
  name: string;
  /** One line for `gmem-spec help`. */
  summary: string;
  usage: string;
  /** Exit status: 0 success, 1 the thing checked failed (divergence, violation), 2 bad input or error. */
  run(argv: readonly string[], io: Io): Promise<number>;
}
