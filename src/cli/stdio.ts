/**
 * The process's standard streams as the CLI uses them, in one place:
 *  - a closed pipe (`gmem-spec predict t.json | head -1`) ends output quietly: the first EPIPE on stdout or
 *    stderr marks the stream closed, later lines to it are dropped, and the command finishes its work and exits
 *    with its own status — no stack trace, nothing on stderr;
 *  - progress goes to stderr, so stdout stays clean: on a terminal one status line rewritten in place, otherwise
 *    one plain line per phase with the elapsed time;
 *  - the phase in progress is remembered, so an internal error can say where it happened.
 */
import type { Io, Progress } from './command.ts';

/** Records the phase and forwards to a printer (none in tests or with --quiet). */
export class PhaseTracker implements Progress {
  current: string | undefined;
  private muted = false;

  constructor(private readonly printer?: Progress) {}

  phase(text: string): void {
    this.current = text;
    if (!this.muted) this.printer?.phase(text);
  }

  status(text: string): void {
    if (!this.muted) this.printer?.status(text);
  }

  done(): void {
    this.printer?.done();
  }

  mute(): void {
    this.printer?.done();
    this.muted = true;
  }
}

interface Stream {
  write(s: string): unknown;
  isTTY?: boolean;
}

let closed: { stdout: boolean; stderr: boolean } | undefined;

function closedPipe(e: NodeJS.ErrnoException): boolean {
  return e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED' || e.code === 'ECONNRESET';
}

/** Install, once, the handlers that turn a closed stdout/stderr into dropped output instead of a crash. */
function watchPipes(): { stdout: boolean; stderr: boolean } {
  if (closed) return closed;
  const state = { stdout: false, stderr: false };
  closed = state;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    state.stdout = true;
    if (!closedPipe(e) && !state.stderr) process.stderr.write(`gmem-spec: cannot write to stdout: ${e.code ?? e.message}\n`);
  });
  process.stderr.on('error', () => {
    state.stderr = true;
  });
  return state;
}

function elapsed(t0: number): string {
  const s = (performance.now() - t0) / 1000;
  return s < 10 ? s.toFixed(1) : s.toFixed(0);
}

/** Progress on `stream`: a status line on a terminal, a line per phase elsewhere. */
export function streamProgress(stream: Stream, isOpen: () => boolean, command: string): Progress & { clear(): void } {
  const t0 = performance.now();
  const tty = stream.isTTY === true;
  let shown = false;
  let phase = '';
  const clear = () => {
    if (shown && isOpen()) stream.write('\r\x1b[K');
    shown = false;
  };
  const draw = (text: string) => {
    if (!isOpen()) return;
    const cols = (stream as { columns?: number }).columns ?? 100;
    stream.write(`\r\x1b[K${`gmem-spec ${command}: ${text} [${elapsed(t0)} s]`.slice(0, Math.max(20, cols - 1))}`);
    shown = true;
  };
  return {
    phase(text) {
      phase = text;
      if (tty) draw(text);
      else if (isOpen()) stream.write(`… ${text} [${elapsed(t0)} s]\n`);
    },
    status(text) {
      if (tty) draw(phase ? `${phase}: ${text}` : text);
    },
    done: clear,
    clear,
  };
}

/** The Io of the real process, for `command`. */
export function processIo(command: string): Io {
  const state = watchPipes();
  const printer = streamProgress(process.stderr, () => !state.stderr, command);
  return {
    out: (s) => {
      if (state.stdout) return;
      printer.clear();
      process.stdout.write(`${s}\n`);
    },
    err: (s) => {
      if (state.stderr) return;
      printer.clear();
      process.stderr.write(`${s}\n`);
    },
    progress: new PhaseTracker(printer),
  };
}
