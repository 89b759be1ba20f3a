/**
 * One lab build at a time per cache: a lock file holding the builder's pid, created exclusively. A lock
 * whose process is gone (killed, machine restarted) is taken over; a live one is waited for.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withLock<T>(path: string, onWait: (pid: number) => void, body: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(path, 'utf8').trim());
    } catch {
      continue; // released between our open and read
    }
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      rmSync(path, { force: true });
      continue;
    }
    if (!announced) onWait(holder);
    announced = true;
    if (signal?.aborted) throw new Error('interrupted while waiting for the lab build lock');
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    return await body();
  } finally {
    rmSync(path, { force: true });
  }
}
