/** Load a trace for a command: parse, check handles, pick the profile (option, then the trace's, then default). */
import { checkHandles } from '../../spec/handles.ts';
import type { Trace } from '../../spec/ops.ts';
import type { Profile } from '../../spec/profile.ts';
import { DEFAULT_PROFILE, getProfile } from '../../spec/profiles/index.ts';
import { readTraceFile } from '../files.ts';

export function loadTrace(path: string, profileOption: string | undefined): { trace: Trace; profile: Profile } {
  const trace = readTraceFile(path);
  checkHandles(trace.steps, path);
  return { trace, profile: getProfile(profileOption ?? trace.profile ?? DEFAULT_PROFILE) };
}
