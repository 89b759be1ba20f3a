/**
 * One running native helper server (native/PROTOCOL.md): spawn, frame its output into answers, run a trace
 * under a time limit, kill it with everything it forked. The helper runs in its own process group, so a kill
 * reaches the per-trace child and any fork-step children too.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { processesInGroup } from './procfs.ts';

export const PROTOCOL_VERSION = 1;

/** How a trace's exchange ended. */
export type TraceEnd =
  /** The server's `done` line: the trace child exited (`exit=0`) or died (`signal=9 SIGKILL`, `exit=3`...). */
  | { kind: 'done'; detail: string }
  | { kind: 'timeout'; ms: number }
  /** A line that is not protocol; the helper has been killed (its output can no longer be trusted). */
  | { kind: 'garbage'; line: string }
  /** The server itself went away. */
  | { kind: 'died'; detail: string };

export interface RawTraceResult {
  /** Answer bodies by request index. */
  answers: Map<number, string>;
  end: TraceEnd;
}

interface Pending {
  expected: number;
  answers: Map<number, string>;
  finish: (end: TraceEnd) => void;
}

function unref(x: unknown): void {
  (x as { unref?: () => void } | null)?.unref?.();
}

export class HelperProcess {
  private proc: ChildProcessWithoutNullStreams;
  private buf = '';
  private pending: Pending | undefined;
  private onLine: ((line: string) => void) | undefined;
  private exited = false;
  private exitDetail = '';
  private stderrTail = '';
  private exitWaiters: (() => void)[] = [];

  private constructor(readonly path: string) {
    this.proc = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    // A forgotten close() must not keep node alive; a pending run keeps it alive through its timer.
    unref(this.proc);
    unref(this.proc.stdin);
    unref(this.proc.stdout);
    unref(this.proc.stderr);
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => this.data(chunk));
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
    });
    this.proc.stdin.on('error', () => {
      /* EPIPE when the helper died: reported through 'exit' */
    });
    this.proc.on('error', (err) => this.gone(`could not run ${path}: ${err.message}`));
    this.proc.on('close', (code, signal) => {
      this.gone(signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
  }

  /** Start a helper and wait for its `ready` banner. */
  static async start(path: string, timeoutMs = 5000): Promise<HelperProcess> {
    const h = new HelperProcess(path);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        h.kill();
        reject(new Error(`native helper ${path} did not announce itself within ${timeoutMs} ms`));
      }, timeoutMs);
      h.onLine = (line) => {
        clearTimeout(timer);
        h.onLine = undefined;
        if (line === `ready gmem-helper protocol=${PROTOCOL_VERSION}`) resolve();
        else {
          h.kill();
          reject(new Error(`native helper ${path} said ${JSON.stringify(line)} instead of its ready banner (protocol ${PROTOCOL_VERSION})`));
        }
      };
      h.exitWaiters.push(() => {
        clearTimeout(timer);
        reject(new Error(`native helper ${path} ${h.exitDetail} before it was ready${h.stderrTail ? `: ${h.stderrTail.trim()}` : ''}`));
      });
    });
    h.exitWaiters = [];
    return h;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Send one trace's request lines and collect the answers until `done`, a timeout, garbage or exit. */
  runTrace(lines: readonly string[], timeoutMs: number): Promise<RawTraceResult> {
    if (this.pending) throw new Error('HelperProcess.runTrace: a trace is already running');
    const answers = new Map<number, string>();
    if (this.exited) return Promise.resolve({ answers, end: { kind: 'died', detail: this.exitDetail } });
    return new Promise<RawTraceResult>((resolve) => {
      const timer = setTimeout(() => {
        this.kill();
        finish({ kind: 'timeout', ms: timeoutMs });
      }, timeoutMs);
      const finish = (end: TraceEnd) => {
        if (this.pending !== pending) return;
        clearTimeout(timer);
        this.pending = undefined;
        resolve({ answers, end });
      };
      const pending: Pending = { expected: lines.length, answers, finish };
      this.pending = pending;
      const text = lines.length ? `begin\n${lines.join('\n')}\nend\n` : 'begin\nend\n';
      this.proc.stdin.write(text);
    });
  }

  /** Send a raw server command line and wait for one line back (test use: `ping`, unknown commands). */
  command(line: string, timeoutMs = 2000): Promise<string> {
    if (this.pending || this.onLine) throw new Error('HelperProcess.command: busy');
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onLine = undefined;
        reject(new Error(`no answer to ${JSON.stringify(line)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.onLine = (answer) => {
        clearTimeout(timer);
        this.onLine = undefined;
        resolve(answer);
      };
      this.proc.stdin.write(`${line}\n`);
    });
  }

  /** SIGKILL the helper's whole process group (server, trace child, fork children). */
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

  /** Kill and wait until the process has been reaped. */
  async close(): Promise<void> {
    if (this.exited) return;
    // The streams are unref'd: this timer keeps node alive until the exit is seen (and bounds the wait).
    let timer: NodeJS.Timeout | undefined;
    const gone = new Promise<void>((resolve) => {
      this.exitWaiters.push(resolve);
      timer = setTimeout(resolve, 5000);
    });
    this.kill();
    await gone;
    clearTimeout(timer);
    // The group's other members (trace child, fork children) die from the same SIGKILL, asynchronously:
    // wait until /proc shows none of them, so that "closed" means nothing is left.
    const pgid = this.proc.pid;
    if (pgid === undefined) return;
    for (let waited = 0; waited < 2000 && processesInGroup(pgid).length > 0; waited += 5) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* the group is empty now */
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private data(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (this.onLine) {
      this.onLine(line);
      return;
    }
    const p = this.pending;
    if (!p) return; // nothing asked: ignore (cannot happen with a well-behaved helper)
    const m = /^(\d+) (.*)$/.exec(line);
    if (m) {
      const seq = Number(m[1]);
      if (seq < p.expected && !p.answers.has(seq)) {
        p.answers.set(seq, m[2]!);
        return;
      }
    } else if (line.startsWith('done ')) {
      p.finish({ kind: 'done', detail: line.slice(5) });
      return;
    }
    this.kill();
    p.finish({ kind: 'garbage', line });
  }

  private gone(detail: string): void {
    if (this.exited) return;
    this.exited = true;
    this.exitDetail = detail + (this.stderrTail ? ` (stderr: ${this.stderrTail.trim()})` : '');
    this.pending?.finish({ kind: 'died', detail: this.exitDetail });
    for (const w of this.exitWaiters.splice(0)) w();
  }
}
