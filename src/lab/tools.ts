/**
 * Small C tools of the lab (lab/*.c), compiled on demand into the cache, keyed by their source's hash:
 * statically linked when libc.a is there, so they run in the lab's initramfs without copying libraries.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { labAssetPath } from './fragment.ts';
import { type LabLayout, labLayout } from './paths.ts';
import { lastLines, runCommand } from './proc.ts';

export class LabToolError extends Error {}

/** Compiles lab/<name>.c (once per source version) and returns the binary's path. */
export async function labTool(name: string, layout: LabLayout = labLayout()): Promise<string> {
  const src = labAssetPath(`${name}.c`);
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const out = join(layout.toolsDir, `${name}-${hash}`);
  if (existsSync(out)) return out;
  mkdirSync(layout.toolsDir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const cc = process.env.CC || 'cc';
  let r = await runCommand(cc, ['-O2', '-Wall', '-static', '-o', tmp, src]);
  if (r.code !== 0) r = await runCommand(cc, ['-O2', '-Wall', '-o', tmp, src]);
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    throw new LabToolError(`cannot compile ${src} with ${cc}: ${lastLines(r.stderr, 2)}`);
  }
  renameSync(tmp, out);
  return out;
}
