/**
 * Build progress: the build reports phases and compile counts as events; a renderer turns them into lines.
 * On a terminal the compile count updates one line in place; elsewhere (CI logs, pipes) plain lines are
 * printed, one per phase and one per tenth of the expected compile count.
 */

export type LabProgressEvent =
  | { kind: 'phase'; phase: string; detail: string }
  | { kind: 'compile'; done: number; expected: number }
  | { kind: 'done'; detail: string };

export type LabProgress = (event: LabProgressEvent) => void;

export const silentProgress: LabProgress = () => {};

const clock = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** Progress bar text for a compile count, e.g. `[#####.....] 612/1210 CC`. Capped at 99% until done. */
export function compileBar(done: number, expected: number, width = 20): string {
  const frac = Math.min(done / Math.max(expected, 1), 0.99);
  const filled = Math.floor(frac * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/~${expected} CC`;
}

export interface RendererOptions {
  write: (s: string) => void;
  tty: boolean;
  now?: () => number;
  prefix?: string;
}

export function progressRenderer(opts: RendererOptions): LabProgress {
  const now = opts.now ?? Date.now;
  const start = now();
  const prefix = opts.prefix ?? 'lab';
  let lastTenth = -1;
  let inPlace = false;
  const line = (text: string): void => {
    if (inPlace) opts.write('\n');
    inPlace = false;
    opts.write(`${prefix} [${clock(now() - start)}] ${text}\n`);
  };
  return (e) => {
    switch (e.kind) {
      case 'phase':
        line(`${e.phase}: ${e.detail}`);
        lastTenth = -1;
        return;
      case 'done':
        line(e.detail);
        return;
      case 'compile':
        if (opts.tty) {
          opts.write(`\r${prefix} [${clock(now() - start)}] compiling ${compileBar(e.done, e.expected)}`);
          inPlace = true;
          return;
        }
        {
          const tenth = Math.min(9, Math.floor((10 * e.done) / Math.max(e.expected, 1)));
          if (tenth > lastTenth) {
            lastTenth = tenth;
            line(`compiling ${compileBar(e.done, e.expected)}`);
          }
        }
        return;
    }
  };
}
