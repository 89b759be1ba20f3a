/**
 * How the backend reaches a native helper: a byte channel to the helper's stdin/stdout plus the two
 * out-of-band actions the protocol needs (interrupt = the helper's SIGUSR1, kill = end it and everything it
 * forked). The local transport is a child process of node; the lab transport (src/backend/lab/) is the same
 * helper inside the lab VM. HelperProcess frames the protocol on top of either.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

export interface TransportListener {
  /** A chunk of the helper's stdout (protocol lines, possibly split anywhere). */
  data(chunk: string): void;
  /** A chunk of the helper's stderr (kept for messages). */
  stderr(chunk: string): void;
  /** The helper (or whatever carries it) is gone: `detail` completes "helper server <detail>". */
  exit(detail: string): void;
}

export interface HelperTransport {
  /** Where the helper runs, for messages: `native helper native/build/gmem-helper`. */
  readonly label: string;
  /** `uname -r` of the kernel the helper runs on, when it differs from the host's (a lab VM). */
  readonly kernelRelease?: string;
  /** How long an interrupted trace may take to answer `done` before the helper is killed (default 2 s). */
  readonly recoveryMs?: number;
  /** The local process id, when the helper is a child process of node (tests inspect it). */
  readonly pid: number | undefined;
  /** Attach the listener; called once, before anything is written. */
  listen(listener: TransportListener): void;
  write(text: string): void;
  /** Write `text` and close the helper's stdin (the graceful `quit`). */
  end(text: string): void;
  /** The protocol's interrupt (native/PROTOCOL.md): kill the running trace child, answer `done`. */
  interrupt(): void;
  /** End the helper and everything it started, now. */
  kill(): void;
}

/** Opens a transport: a new helper each time it is called. */
export type TransportFactory = () => Promise<HelperTransport>;

function unref(x: unknown): void {
  (x as { unref?: () => void } | null)?.unref?.();
}

/** The helper as a child process of node, leading its own process group. */
export class LocalTransport implements HelperTransport {
  private readonly proc: ChildProcessWithoutNullStreams;
  private listener: TransportListener | undefined;
  private exited = false;

  constructor(
    readonly path: string,
    env?: NodeJS.ProcessEnv,
  ) {
    this.proc = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...(env ? { env } : {}) });
    // A forgotten close() must not keep node alive; a pending run keeps it alive through its timer.
    unref(this.proc);
    unref(this.proc.stdin);
    unref(this.proc.stdout);
    unref(this.proc.stderr);
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdin.on('error', () => {
      /* EPIPE when the helper died: reported through 'close' */
    });
  }

  get label(): string {
    return `native helper ${this.path}`;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  listen(listener: TransportListener): void {
    this.listener = listener;
    this.proc.stdout.on('data', (chunk: string) => listener.data(chunk));
    this.proc.stderr.on('data', (chunk: string) => listener.stderr(chunk));
    this.proc.on('error', (err) => this.gone(`could not run ${this.path}: ${err.message}`));
    this.proc.on('close', (code, signal) => this.gone(signal ? `killed by ${signal}` : `exited with code ${code}`));
  }

  private gone(detail: string): void {
    if (this.exited) return;
    this.exited = true;
    this.listener?.exit(detail);
  }

  write(text: string): void {
    this.proc.stdin.write(text);
  }

  end(text: string): void {
    this.proc.stdin.end(text);
  }

  interrupt(): void {
    try {
      if (this.proc.pid !== undefined) process.kill(this.proc.pid, 'SIGUSR1');
    } catch {
      /* gone: 'close' reports it */
    }
  }

  /** SIGKILL the helper's process group (its trace children follow through PR_SET_PDEATHSIG). */
  kill(): void {
    if (this.exited || this.proc.pid === undefined) return;
    try {
      process.kill(-this.proc.pid, 'SIGKILL');
    } catch {
      try {
        this.proc.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}
