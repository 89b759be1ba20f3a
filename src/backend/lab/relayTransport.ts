/**
 * The helper behind native/lab-relay.c, over any line channel (the lab VM's console; a local pipe in tests).
 * The relay's own lines start with `~` (its banner with the kernel release, the helper's stderr, the helper's
 * exit); everything else is the helper's protocol. Interrupt and kill travel as `~interrupt` / `~kill` lines.
 */
import type { HelperTransport, TransportListener } from '../linux/transport.ts';

/** A byte channel to a program and the thing that carries it (a VM, a process). */
export interface LineChannel {
  write(text: string): void;
  /** Close the program's input. */
  end(): void;
  /** End the carrier now (kill QEMU, kill the process). */
  kill(): void;
  /** Output chunks; `exit` once the carrier has ended, `detail` saying how. */
  listen(l: { data(chunk: string): void; exit(detail: string): void }): void;
}

export interface RelayTransportOptions {
  /** For messages: `gmem-helper in the lab VM`. */
  label: string;
  /** How long an interrupted trace may take to answer (the emulated CPU is slow). */
  recoveryMs?: number;
}

export class RelayTransport implements HelperTransport {
  readonly label: string;
  readonly pid = undefined;
  readonly recoveryMs: number | undefined;
  private listener: TransportListener | undefined;
  private release: string | undefined;
  /** The helper's exit as the relay reported it, kept for the carrier's exit message. */
  private helperExit: string | undefined;
  private started = false;
  private partial = '';
  /** Lines before the relay's banner (boot messages on a console): kept for messages, never parsed. */
  private preamble = '';
  private exited = false;

  constructor(
    private readonly channel: LineChannel,
    options: RelayTransportOptions,
  ) {
    this.label = options.label;
    this.recoveryMs = options.recoveryMs;
  }

  get kernelRelease(): string | undefined {
    return this.release;
  }

  /** What the channel carried before the relay started (a boot log), for a boot that fails. */
  get bootOutput(): string {
    return this.preamble;
  }

  listen(listener: TransportListener): void {
    this.listener = listener;
    this.channel.listen({
      data: (chunk) => this.data(chunk),
      exit: (detail) => {
        if (this.exited) return;
        this.exited = true;
        if (this.partial) this.line(this.partial);
        this.partial = '';
        const helper = this.helperExit ? `helper ${this.helperExit}, then ` : '';
        const boot = !this.started && this.preamble.trim() ? ` before the relay started; console: ${lastLines(this.preamble, 3)}` : '';
        listener.exit(`was lost: ${helper}${detail}${boot}`);
      },
    });
  }

  private data(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.line(l.endsWith('\r') ? l.slice(0, -1) : l);
  }

  private line(line: string): void {
    const l = this.listener;
    if (!l) return;
    if (!this.started) {
      const banner = /~relay release=(\S+)/.exec(line);
      if (banner) {
        this.started = true;
        this.release = banner[1];
      } else this.preamble = `${this.preamble + line}\n`.slice(-4000);
      return;
    }
    if (line.startsWith('~stderr ')) l.stderr(`${line.slice(8)}\n`);
    else if (line.startsWith('~exit ')) this.helperExit = describeExit(line.slice(6));
    else if (line.startsWith('~')) l.stderr(`relay: ${line}\n`);
    else l.data(`${line}\n`);
  }

  write(text: string): void {
    if (!this.exited) this.channel.write(text);
  }

  end(text: string): void {
    if (this.exited) return;
    this.channel.write(text);
    this.channel.end();
  }

  interrupt(): void {
    if (!this.exited) this.channel.write('~interrupt\n');
  }

  kill(): void {
    if (!this.exited) this.channel.kill();
  }
}

/** `exit=0` → `exited with code 0`; `signal=9 SIGKILL` → `was killed by SIGKILL`. */
function describeExit(detail: string): string {
  const sig = /^signal=\d+ (\S+)/.exec(detail);
  if (sig) return `was killed by ${sig[1]}`;
  const code = /^exit=(\d+)/.exec(detail);
  return code ? `exited with code ${code[1]}` : `ended (${detail})`;
}

function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(-n)
    .join(' | ');
}
