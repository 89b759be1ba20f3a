/** Running the lab's external tools (apt-get, make, qemu, ldd): a promise per process, lines as they come. */
import { spawn, spawnSync } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Everything the command wrote to stdout (or its last 64 KiB when lines are streamed to onLine). */
  stdout: string;
  /** The last 64 KiB the command wrote to stderr. */
  stderr: string;
}

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called for every stdout line; stdout is then only kept as a tail. */
  onLine?: (line: string) => void;
  /** Abort kills the command's process group (it is started as its own group). */
  signal?: AbortSignal;
}

const TAIL = 64 * 1024;

export class CommandError extends Error {
  constructor(
    message: string,
    readonly result?: CommandResult,
  ) {
    super(message);
  }
}

/** The last `n` non-empty lines of a text, for one-line error messages. */
export function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join(' | ');
}

export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new CommandError(`${cmd}: interrupted before it started`));
      return;
    }
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (!opts.onLine) {
        stdout += chunk;
        return;
      }
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) opts.onLine(l);
      stdout = (stdout + chunk).slice(-TAIL);
    });
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-TAIL);
    });
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener('abort', kill);
      reject(new CommandError(e.code === 'ENOENT' ? `${cmd} not found` : `${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', kill);
      if (partial && opts.onLine) opts.onLine(partial);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Whether a program is on PATH (or is an executable path). */
export function haveProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1" >/dev/null 2>&1`, 'sh', name]).status === 0;
}
