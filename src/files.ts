/** File I/O the CLI needs, kept out of the model: read a trace, write outputs atomically. */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Trace } from '../spec/ops.ts';
import { TraceError, parseTrace } from '../spec/trace.ts';

export function readTraceFile(path: string): Trace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TraceError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseTrace(text, path);
}

/** Write through a temporary file and rename, so a crash never leaves a half-written file behind. */
export function writeFileAtomic(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
