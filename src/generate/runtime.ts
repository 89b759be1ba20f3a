/**
 * What the generated vitest files call: run a generated trace on the backend GMEM_BACKEND names once, then
 * assert its steps group by group, each assertion stating the rule that decided the expectation. The
 * invariants the trace lists are checked on the spec's state after every step.
 *
 * GMEM_BACKEND: `reference` (the spec, the default); `linux` (the host kernel); `lab` (the lab VM's kernel,
 * when it is cached: a test run never builds it); `kernel` (the host if it implements the profile, else the
 * lab). When the chosen kernel cannot run the profile, one `SKIP: <reason>` line is printed and the tests
 * are skipped (never passed).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { invariantsFor, violations } from '../../spec/invariants.ts';
import { parseJson } from '../../spec/json.ts';
import type { Outcome, Step, Trace } from '../../spec/ops.ts';
import { observationAgrees } from '../../spec/outcome.ts';
import type { Profile } from '../../spec/profile.ts';
import { getProfile } from '../../spec/profiles/index.ts';
import { type SystemState, emptySystem } from '../../spec/state.ts';
import { step as specStep } from '../../spec/step.ts';
import { parseTrace } from '../../spec/trace.ts';
import { chooseKernel } from '../backend/choose.ts';
import { openLabBackend } from '../backend/lab.ts';
import { LinuxBackend } from '../backend/linux.ts';
import { ReferenceBackend } from '../backend/reference.ts';
import type { Backend } from '../backend/types.ts';
import { expectPhrase, outcomePhrase, stepPhrase } from './words.ts';

export type BackendChoice = { run: true; name: string; make: () => Backend } | { run: false; line: string };

const printed = new Set<string>();

/** The backend the environment asks for, or why the suite is skipped. */
export function chooseBackend(profile: Profile, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const want = env.GMEM_BACKEND ?? 'reference';
  if (want === 'reference') return { run: true, name: 'reference', make: () => new ReferenceBackend(profile) };
  if (want === 'linux' || want === 'lab' || want === 'kernel') {
    const k = chooseKernel(profile.name, want, { allowBuild: false });
    if (!k.ok) return { run: false, line: k.skip };
    return k.backend === 'linux'
      ? { run: true, name: 'linux', make: () => new LinuxBackend() }
      : { run: true, name: 'lab', make: () => openLabBackend() };
  }
  throw new Error(`GMEM_BACKEND=${want}: unknown backend (reference, linux, lab or kernel)`);
}

export interface TraceRun {
  trace: Trace;
  observed: Outcome[];
  /** Index of the first step whose observed outcome differs from the expected one. */
  firstBad: number | undefined;
  /** Per step: invariants the spec's state breaks after it. */
  broken: Map<number, string[]>;
  /** The spec's state before each step. */
  before: SystemState[];
}

interface TraceFile {
  trace: Trace;
  invariants: string[];
}

function loadTrace(path: string): TraceFile {
  const text = readFileSync(path, 'utf8');
  const raw = parseJson(text) as { invariants?: unknown };
  const invariants = Array.isArray(raw.invariants) ? raw.invariants.filter((x): x is string => typeof x === 'string') : [];
  return { trace: parseTrace(text, path), invariants };
}

/** The rule that decides a step, in words: the note's rule id with the spec's sentence for it. */
function ruleOf(profile: Profile, state: SystemState, st: Step): string {
  try {
    const r = specStep(profile, state, st);
    return `${r.rule.id}: ${r.rule.says}`;
  } catch {
    return st.note ?? 'no rule recorded';
  }
}

/** The assertion message for step i: what was done, what the rule says, what came back. */
export function stepMessage(
  profile: Profile,
  file: string,
  i: number,
  st: Step,
  expected: Outcome,
  observed: Outcome,
  before: SystemState,
): string {
  return `step ${i + 1} of ${file}: ${stepPhrase(profile, st)} should ${expectPhrase(expected)} — ${ruleOf(profile, before, st)} — but it ${outcomePhrase(observed)}`;
}

export async function runTraceFile(profile: Profile, backend: Backend, path: string): Promise<TraceRun> {
  const { trace, invariants } = loadTrace(path);
  const { outcomes } = await backend.run(trace);
  let firstBad: number | undefined;
  trace.steps.forEach((st, i) => {
    const exp = st.expected;
    const obs = outcomes[i];
    if (firstBad === undefined && (!exp || !obs || !observationAgrees(exp, obs))) firstBad = i;
  });
  const invs = invariantsFor(profile, invariants);
  const broken = new Map<number, string[]>();
  const before: SystemState[] = [];
  let s = emptySystem();
  trace.steps.forEach((st, i) => {
    before.push(s);
    const r = specStep(profile, s, st);
    const vs = violations(profile, invs, s, st, r.state);
    if (vs.length)
      broken.set(
        i,
        vs.map((v) => `${v.invariant} (${v.says}): ${v.detail}`),
      );
    s = r.state;
  });
  return { trace, observed: outcomes, firstBad, broken, before };
}

export type StepsFn = (from: number, to: number, name: string) => void;

export interface Conformance {
  backend: string | undefined;
  /** A describe per trace, with one it per group of steps (`steps(from, to, name)`). */
  trace(file: string, title: string, body: (steps: StepsFn) => void): void;
  /** A describe grouping whole-trace checks (`check`). */
  group(title: string, body: () => void): void;
  /** One it that asserts every step of a trace. */
  check(file: string, name: string): void;
}

export function conformance(profileName: string, metaUrl: string): Conformance {
  const dir = dirname(fileURLToPath(metaUrl));
  const profile = getProfile(profileName);
  const choice = chooseBackend(profile);
  if (!choice.run && !printed.has(choice.line)) {
    printed.add(choice.line);
    console.log(choice.line);
  }
  let backend: Backend | undefined;
  const getBackend = () => {
    if (!choice.run) throw new Error('internal: skipped suite ran');
    return (backend ??= choice.make());
  };
  afterAll(async () => {
    await backend?.close();
  });
  const runs = new Map<string, Promise<TraceRun>>();
  const runOf = (file: string) => {
    let r = runs.get(file);
    if (!r) {
      r = runTraceFile(profile, getBackend(), join(dir, file));
      runs.set(file, r);
    }
    return r;
  };
  const assertSteps = async (file: string, from: number, to: number, skip: (note: string) => void) => {
    const r = await runOf(file);
    if (r.firstBad !== undefined && r.firstBad < from) {
      skip(`step ${r.firstBad + 1} diverged earlier; later steps are not checked`);
      return;
    }
    for (let i = from; i < to; i++) {
      const st = r.trace.steps[i] as Step;
      const exp = st.expected as Outcome;
      const obs = r.observed[i] ?? { failed: 'no outcome' };
      expect(observationAgrees(exp, obs), stepMessage(profile, file, i, st, exp, obs, r.before[i] as SystemState)).toBe(true);
      const broken = r.broken.get(i);
      expect(broken ?? [], `step ${i + 1} of ${file}: the spec's state breaks invariants after ${stepPhrase(profile, st)}`).toEqual([]);
    }
  };
  const describeFn = choice.run ? describe : describe.skip;
  return {
    backend: choice.run ? choice.name : undefined,
    trace(file, title, body) {
      describeFn(title, () => {
        body((from, to, name) => {
          it(name, async (ctx) => assertSteps(file, from, to, (note) => ctx.skip(note)));
        });
      });
    },
    group(title, body) {
      describeFn(title, body);
    },
    check(file, name) {
      it(name, async (ctx) => {
        const r = await runOf(file);
        await assertSteps(file, 0, r.trace.steps.length, (note) => ctx.skip(note));
      });
    },
  };
}
