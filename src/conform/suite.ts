/** Find the traces of a suite: every gmem-trace/1 JSON file under a directory, in a stable order. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkHandles } from '../../spec/handles.ts';
import type { Trace } from '../../spec/ops.ts';
import { parseTrace } from '../../spec/trace.ts';

export interface SuiteTrace {
  /** Path relative to the suite root (or as given). */
  name: string;
  path: string;
  trace: Trace;
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (e.endsWith('.json')) out.push(p);
  }
}

/** Every trace under `dir`; JSON files that are not traces (coverage reports...) are passed over. */
export function loadSuite(dir: string): SuiteTrace[] {
  const files: string[] = [];
  walk(dir, files);
  const out: SuiteTrace[] = [];
  for (const path of files) {
    const text = readFileSync(path, 'utf8');
    if (!/"format"\s*:\s*"gmem-trace\/1"/.test(text)) continue;
    const trace = parseTrace(text, path);
    checkHandles(trace.steps, path);
    out.push({ name: relative(dir, path), path, trace });
  }
  return out;
}

export function loadTraceFiles(paths: readonly string[]): SuiteTrace[] {
  return paths.map((path) => {
    const trace = parseTrace(readFileSync(path, 'utf8'), path);
    checkHandles(trace.steps, path);
    return { name: path, path, trace };
  });
}
