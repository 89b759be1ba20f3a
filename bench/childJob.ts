/**
 * Benchmarks measure each run in a child process of its own (a fresh heap, its own peak RSS and CPU time): the
 * child runs the same script with `--job ...` and prints its figures as JSON on its last line of output.
 */
import { execFileSync } from 'node:child_process';

/** The unit bound every benchmark's bounds are relative to. */
export const UNIT = 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1';

/** Run `script` with `args` under tsx in a child process (in `cwd`), and parse the JSON on its last line. */
export function childJob<T>(script: string, args: readonly string[], cwd?: string): T {
  const out = execFileSync(process.execPath, ['--import', import.meta.resolve('tsx'), script, ...args], {
    ...(cwd ? { cwd } : {}),
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as T;
}
