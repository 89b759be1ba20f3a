/**
 * gmem-spec as a library: the package's public API (`import { … } from 'gmem-spec'`). What is exported here
 * is what the README's "Use as a library" section documents; everything else is internal and may change.
 *
 *  - traces: parse and validate a gmem-trace/1 document (`parseTrace`, `checkHandles`), write one back;
 *  - the spec: `step` (one operation from a state), `predictTrace` (every step), `compareTrace` (observed
 *    outcomes against the spec, with the first divergence and the rule that decided it);
 *  - profiles and flags: the built-in profiles, the built-in flags, and composing a profile with flags;
 *  - explore and check: the state graph within a bound, and the model checker with its invariants;
 *  - backends: open `reference` (the spec itself), `linux` (the host's /dev/kvm through the native helper)
 *    or `lab` by name; each reports itself unavailable, with the reason, where it cannot run.
 */

// Traces: the vocabulary, parsing and validation.
export type {
  Handle,
  Int,
  Op,
  OpName,
  Outcome,
  Step,
  StepMeta,
  Trace,
} from '../spec/ops.ts';
export { TRACE_FORMAT } from '../spec/ops.ts';
export { TraceError, formatTrace, parseOutcome, parseStep, parseTrace } from '../spec/trace.ts';
export { checkHandles } from '../spec/handles.ts';
export { UnknownHandleError } from '../spec/world.ts';
export { JsonSyntaxError, parseJson, stringifyJson, type JsonValue } from '../spec/json.ts';
export { formatOutcome, outcomesEqual } from '../spec/outcome.ts';

// The spec: one step, a whole trace, and a comparison with what a backend observed.
export { step, type StepResult } from '../spec/step.ts';
export { compareTrace, predictTrace, type Comparison, type Divergence } from '../spec/compare.ts';
export { emptySystem, type SystemState } from '../spec/state.ts';
export type { RuleRef } from '../spec/rules/check.ts';

// Profiles and flags.
export type { FlagDef, Profile } from '../spec/profile.ts';
export { DEFAULT_PROFILE, PROFILES, UnknownProfileError, getProfile } from '../spec/profiles/index.ts';
export { BUILTIN_FLAGS } from '../spec/flags/index.ts';
export {
  ComposeError,
  compose,
  composeProfile,
  resolveProfileName,
  splitProfileName,
  type Composition,
} from '../spec/profileCompose.ts';
export { FlagValidationError, validateFlagDef, type FlagProblem } from '../spec/flagValidation.ts';

// Explore and check.
export { DEFAULT_BOUND, BoundError, formatBound, parseBound, type Bound } from '../spec/explore/bound.ts';
export { explore, pathTo, type ExploreOptions, type StateGraph } from '../spec/explore/explorer.ts';
export { INVARIANTS, invariantsFor, violations, type Invariant, type Violation } from '../spec/invariants.ts';
export { check, startCheck, type CheckOptions, type CheckResult, type RunningCheck } from './check/engine.ts';

// Backends.
export type { Backend, BackendCapabilities, RunOptions as BackendRunOptions, TraceRun } from './backend/types.ts';
export { BACKEND_NAMES, BackendUnavailableError, openBackend, type BackendName, type OpenBackendOptions } from './backend/index.ts';
export { ReferenceBackend } from './backend/reference.ts';
export { LinuxBackend, type LinuxBackendOptions } from './backend/linux.ts';
export { detectHost, type HostKernel } from './backend/host.ts';
