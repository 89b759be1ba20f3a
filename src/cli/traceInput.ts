/** Load a trace for a command: parse, check handles, and resolve its profile (src/cli/profiles.ts). */
import { checkHandles } from '../../spec/handles.ts';
import type { Trace } from '../../spec/ops.ts';
import { readTraceFile } from '../files.ts';
import { type ProfileRequest, type ResolvedProfile, resolveForTrace } from './profiles.ts';

export async function loadTrace(path: string, req: ProfileRequest): Promise<{ trace: Trace; resolved: ResolvedProfile }> {
  const trace = readTraceFile(path);
  checkHandles(trace.steps, path);
  return { trace, resolved: await resolveForTrace(req, path, trace.profile) };
}
