/**
 * One running native helper (native/PROTOCOL.md) over a transport (a local child process, or the helper in
 * the lab VM): frame its output into answers, run a trace under a time limit, and shut it down with
 * everything it forked.
 *
 * When a trace hangs or the output stops being protocol, the helper is interrupted (its SIGUSR1) to kill that
 * trace's child; once its `done` line has arrived the helper is in a known state again and is kept. Only if
 * that does not happen in time is the helper killed outright (the transport ends it and all it forked).
 */
import { type HelperTransport, LocalTransport } from './transport.ts';

export const PROTOCOL_VERSION = 1;
/** How long a stuck trace child may take to be killed and reported before the whole helper is killed. */
const RECOVERY_MS = 2000;

/** How a trace's exchange ended. */
export type TraceEnd =
  /** The `done` line: the trace child exited (`exit=0`) or died (`signal=11 SIGSEGV`, `exit=3`...). */
  | { kind: 'done'; detail: string }
  /** `recovered`: the trace child was killed and the helper kept; else the helper was killed. */
  | { kind: 'timeout'; ms: number; recovered: boolean }
  /** A line that is not protocol; the trace child was killed. */
  | { kind: 'garbage'; line: string; recovered: boolean }
  /** The helper itself went away. */
  | { kind: 'died'; detail: string };

export interface RawTraceResult {
  /** Answer bodies by request index. */
  answers: Map<number, string>;
  end: TraceEnd;
}

interface Pending {
  expected: number;
  answers: Map<number, string>;
  /** Set once the trace has failed: lines are ignored until `done`, which then ends it with this. */
  draining?: TraceEnd;
  /** The trace's time limit, then the recovery deadline. */
  timer: NodeJS.Timeout;
  resolve: (r: RawTraceResult) => void;
}

export class HelperProcess {
  private buf = '';
  private pending: Pending | undefined;
  private onLine: ((line: string) => void) | undefined;
  private exited = false;
  private exitDetail = '';
  private stderrTail = '';
  private exitWaiters: (() => void)[] = [];

  private constructor(readonly transport: HelperTransport) {
    transport.listen({
      data: (chunk) => this.data(chunk),
      stderr: (chunk) => {
        this.stderrTail = (this.stderrTail + chunk).slice(-2000);
      },
      exit: (detail) => this.gone(detail),
    });
  }

  /** Where the helper runs, for messages. */
  get path(): string {
    return this.transport.label;
  }

  /** Start a local helper process and wait for its `ready` banner. */
  static start(path: string, timeoutMs = 5000): Promise<HelperProcess> {
    return HelperProcess.over(new LocalTransport(path), timeoutMs);
  }

  /** Take a freshly opened transport and wait for the helper's `ready` banner on it. */
  static async over(transport: HelperTransport, timeoutMs = 5000): Promise<HelperProcess> {
    const h = new HelperProcess(transport);
    const path = transport.label;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        h.kill();
        reject(new Error(`${path} did not announce itself within ${timeoutMs} ms`));
      }, timeoutMs);
      h.onLine = (line) => {
        clearTimeout(timer);
        h.onLine = undefined;
        if (line === `ready gmem-helper protocol=${PROTOCOL_VERSION}`) resolve();
        else {
          h.kill();
          reject(new Error(`${path} said ${JSON.stringify(line)} instead of its ready banner (protocol ${PROTOCOL_VERSION})`));
        }
      };
      h.exitWaiters.push(() => {
        clearTimeout(timer);
        reject(new Error(`${path} ${h.exitDetail} before it was ready`));
      });
    });
    h.exitWaiters = [];
    return h;
  }

  get pid(): number | undefined {
    return this.transport.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Send one trace's request lines and collect the answers until `done`, a timeout, garbage or exit. */
  runTrace(lines: readonly string[], timeoutMs: number): Promise<RawTraceResult> {
    if (this.pending || this.onLine) throw new Error('HelperProcess.runTrace: the helper is busy');
    const answers = new Map<number, string>();
    if (this.exited) return Promise.resolve({ answers, end: { kind: 'died', detail: this.exitDetail } });
    return new Promise<RawTraceResult>((resolve) => {
      const p: Pending = {
        expected: lines.length,
        answers,
        resolve,
        timer: setTimeout(() => this.fail(p, { kind: 'timeout', ms: timeoutMs, recovered: true }), timeoutMs),
      };
      this.pending = p;
      this.transport.write(lines.length ? `begin\n${lines.join('\n')}\nend\n` : 'begin\nend\n');
    });
  }

  private finish(p: Pending, end: TraceEnd): void {
    if (this.pending !== p) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    p.resolve({ answers: p.answers, end });
  }

  /** Send a raw server command line and wait for one line back (`ping`; unknown commands in tests). */
  command(line: string, timeoutMs = 2000): Promise<string> {
    if (this.pending || this.onLine) throw new Error('HelperProcess.command: the helper is busy');
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
      this.transport.write(`${line}\n`);
    });
  }

  /** End the helper and everything it forked, now. */
  kill(): void {
    if (this.exited) return;
    this.transport.kill();
  }

  /**
   * Shut down and wait until the helper has exited: `quit` when idle (the helper reaps its children before
   * it exits), a kill otherwise or if that takes too long.
   */
  async close(): Promise<void> {
    if (this.exited) return;
    // The streams are unref'd: this timer keeps node alive until the exit is seen, and bounds the wait.
    let timer: NodeJS.Timeout | undefined;
    const gone = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    if (!this.pending && !this.onLine) {
      this.transport.end('quit\n');
      await Promise.race([gone, new Promise<void>((r) => (timer = setTimeout(r, RECOVERY_MS)))]);
      clearTimeout(timer);
    }
    if (!this.exited) {
      this.kill();
      await Promise.race([gone, new Promise<void>((r) => (timer = setTimeout(r, RECOVERY_MS)))]);
      clearTimeout(timer);
    }
  }

  /** The trace has failed (`end`): have the helper kill the trace child, then wait for its `done`. */
  private fail(p: Pending, end: TraceEnd): void {
    if (this.pending !== p || p.draining) return;
    p.draining = end;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      // the helper did not come back: kill it all
      this.kill();
      this.finish(p, { ...end, recovered: false } as TraceEnd);
    }, this.transport.recoveryMs ?? RECOVERY_MS);
    this.transport.interrupt();
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
    if (line.startsWith('done ')) {
      this.finish(p, p.draining ?? { kind: 'done', detail: line.slice(5) });
      return;
    }
    if (p.draining) return;
    const m = /^(\d+) (.*)$/.exec(line);
    if (m) {
      const seq = Number(m[1]);
      if (seq < p.expected && !p.answers.has(seq)) {
        p.answers.set(seq, m[2]!);
        return;
      }
    }
    this.fail(p, { kind: 'garbage', line, recovered: true });
  }

  private gone(detail: string): void {
    if (this.exited) return;
    this.exited = true;
    this.exitDetail = detail + (this.stderrTail ? ` (stderr: ${this.stderrTail.trim()})` : '');
    const p = this.pending;
    if (p) this.finish(p, p.draining ? ({ ...p.draining, recovered: false } as TraceEnd) : { kind: 'died', detail: this.exitDetail });
    for (const w of this.exitWaiters.splice(0)) w();
  }
}
