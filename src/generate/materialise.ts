/**
 * Turning selected walks and constructed step lists into generated tests: replay every step through the spec
 * from the empty state (so each step carries the spec's `expected` outcome and the rule that decided it),
 * check that the replay agrees with the explored graph (outcome and compacted state, edge by edge), and record
 * which of the profile's invariants hold after every step.
 */
import type { StateGraph } from '../../spec/explore/explorer.ts';
import { concreteSteps } from '../../spec/explore/explorer.ts';
import { compact } from '../../spec/explore/compact.ts';
import { stateKey } from '../../spec/explore/stateKey.ts';
import { canonicalise } from '../../spec/explore/symmetry.ts';
import { type Invariant, violations } from '../../spec/invariants.ts';
import type { Outcome, Step } from '../../spec/ops.ts';
import { outcomesEqual, formatOutcome } from '../../spec/outcome.ts';
import type { Profile } from '../../spec/profile.ts';
import { type SystemState, emptySystem } from '../../spec/state.ts';
import { type StepResult, step } from '../../spec/step.ts';
import type { Walk } from './select.ts';
import { clip, outcomePhrase, stateWords, stepPhrase } from './words.ts';

const OP_WORDS: Record<string, string> = {
  check_extension: 'KVM_CHECK_EXTENSION',
  create_vm: 'KVM_CREATE_VM',
  create_gmem: 'KVM_CREATE_GUEST_MEMFD',
  set_memory_region2: 'KVM_SET_USER_MEMORY_REGION2',
  delete_memslot: 'memslot delete',
  set_memory_attributes: 'KVM_SET_MEMORY_ATTRIBUTES',
  set_memory_attributes2: 'KVM_SET_MEMORY_ATTRIBUTES2',
  read_mem: 'host read',
  write_mem: 'host write',
  fill_mem: 'host fill',
  check_mem: 'host read-back',
  pin: 'long-term pin',
  unpin: 'unpin',
  guest_access: 'guest access',
  populate: 'populate',
  guest_request_conversion: 'guest conversion request',
  launch_start: 'launch start',
  launch_finish: 'launch finish',
};

/** `fallocate ×9 (EOPNOTSUPP ×3, EINVAL ×5, ok), mmap ×3 (EINVAL, EPERM, ENODEV)`: what a group of steps did. */
export function opSummary(steps: readonly Step[], results: readonly StepResult[]): string {
  const byOp = new Map<string, Map<string, number>>();
  steps.forEach((st, i) => {
    const o = (results[i] as StepResult).outcome;
    const what = 'errno' in o ? o.errno : 'access' in o && o.access !== 'ok' ? o.access : 'ok';
    const m = byOp.get(st.op) ?? new Map<string, number>();
    m.set(what, (m.get(what) ?? 0) + 1);
    byOp.set(st.op, m);
  });
  return [...byOp]
    .map(([op, m]) => {
      const n = [...m.values()].reduce((a, b) => a + b, 0);
      const parts = [...m].map(([w, k]) => (k > 1 ? `${w} ×${k}` : w)).join(', ');
      return `${OP_WORDS[op] ?? op}${n > 1 ? ` ×${n}` : ''} (${parts})`;
    })
    .join(', ');
}

export type SuiteName = 'state' | 'transition' | 'path' | 'failures';

/** An `it`: the steps [from, to) of a trace, with a name in words. */
export interface Group {
  from: number;
  to: number;
  title: string;
}

export interface FailureInfo {
  op: string;
  kind: 'single' | 'pair' | 'success' | 'outcome';
  /** The check ids that hold at once for the asserted step, in check order (the first decides). */
  holding: string[];
}

export interface GenTest {
  suite: SuiteName;
  /** Path of the trace file relative to the profile's directory. */
  file: string;
  name: string;
  /** The describe title (state and transition suites) or the it title (failures). */
  title: string;
  description: string;
  steps: Step[];
  groups: Group[];
  /** Invariants (by name) that hold after every step. */
  invariants: string[];
  /** Invariants the model breaks somewhere along this trace (kept out of `invariants`). */
  broken: Array<{ step: number; invariant: string; detail: string }>;
  /** Rule ids of every step, in order. */
  rules: string[];
  outcomes: Outcome[];
  /** Graph edges this test takes (state, transition and path suites). */
  edges: number[];
  /** Summaries of the states after each step (for titles). */
  failure?: FailureInfo;
}

/**
 * An internal error of the generator, in one line that names the profile, the trace and the step: a replay that
 * disagrees with the graph (a bug in the explorer or a state its key does not carry), or a step() that threw.
 */
export class ReplayMismatchError extends Error {
  constructor(
    readonly profile: string,
    readonly file: string,
    readonly step: number,
    what: string,
  ) {
    super(`generating ${profile}: ${file} step ${step}: ${what}`);
    this.name = 'ReplayMismatchError';
  }
}

export interface Replay {
  results: StepResult[];
  states: SystemState[];
  /** Per step: invariants broken after it. */
  broken: Array<{ step: number; invariant: string; detail: string }>;
}

/**
 * Replay steps from the empty state; `states[i]` is the state after step i (states[-1] is empty). With `file`,
 * a step() that throws becomes a ReplayMismatchError naming that trace and the step.
 */
export function replay(profile: Profile, steps: readonly Step[], invariants: readonly Invariant[], file?: string): Replay {
  let s = emptySystem();
  const results: StepResult[] = [];
  const states: SystemState[] = [];
  const broken: Replay['broken'] = [];
  steps.forEach((st, i) => {
    let r: StepResult;
    try {
      r = step(profile, s, st);
    } catch (e) {
      if (file === undefined) throw e;
      throw new ReplayMismatchError(
        profile.name,
        file,
        i + 1,
        `${stepPhrase(profile, st)} throws: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
      );
    }
    for (const v of violations(profile, invariants, s, st, r.state)) broken.push({ step: i, invariant: v.invariant, detail: v.detail });
    results.push(r);
    states.push(r.state);
    s = r.state;
  });
  return { results, states, broken };
}

function withExpected(st: Step, r: StepResult): Step {
  const out = { ...st, expected: r.outcome, note: `${r.rule.id}: ${r.rule.says}` } as Step;
  if (st.op === 'fork' && out.op === 'fork' && r.nested)
    out.steps = st.steps.map((x, k) => (r.nested?.[k] ? withExpected(x, r.nested[k] as StepResult) : x));
  return out;
}

export interface TestBase {
  suite: SuiteName;
  file: string;
  name: string;
  title: string;
  description: string;
  groups: Group[];
  edges?: number[];
  failure?: FailureInfo;
}

/** A generated test from concrete steps: expected outcomes, notes, invariants. */
export function materialiseSteps(profile: Profile, steps: readonly Step[], invariants: readonly Invariant[], base: TestBase): GenTest {
  const r = replay(profile, steps, invariants, base.file);
  const brokenNames = new Set(r.broken.map((b) => b.invariant));
  return {
    ...base,
    steps: steps.map((st, i) => withExpected(st, r.results[i] as StepResult)),
    invariants: invariants.map((i) => i.name).filter((n) => !brokenNames.has(n)),
    broken: r.broken,
    rules: r.results.map((x) => x.rule.id),
    outcomes: r.results.map((x) => x.outcome),
    edges: base.edges ?? [],
  };
}

/**
 * A generated test from a walk through the graph. The replay must agree with the graph edge by edge (the
 * outcome, and the state up to compaction and symmetry); a disagreement is a bug in the explorer, not a test.
 */
export function materialiseWalk(
  profile: Profile,
  g: StateGraph,
  walk: Walk,
  invariants: readonly Invariant[],
  base: Omit<TestBase, 'groups' | 'title' | 'description'> & { title?: string },
  kind: SuiteName,
): GenTest {
  const steps = concreteSteps(g, walk.edges);
  const r = replay(profile, steps, [], base.file);
  walk.edges.forEach((e, i) => {
    const res = r.results[i] as StepResult;
    const want = g.outcomes[g.edgeOutcome[e] as number] as Outcome;
    const phrase = stepPhrase(profile, steps[i] as Step);
    if (!outcomesEqual(res.outcome, want)) {
      throw new ReplayMismatchError(
        profile.name,
        base.file,
        i + 1,
        `${phrase} replays as ${formatOutcome(res.outcome)}, the graph says ${formatOutcome(want)}`,
      );
    }
    const after = compact(r.states[i] as SystemState);
    const key = stateKey(g.symmetry ? canonicalise(profile, after).state : after);
    if (key !== stateKey(g.states[g.edgeTo[e] as number] as SystemState)) {
      throw new ReplayMismatchError(profile.name, base.file, i + 1, `${phrase} replays into a state the graph does not have at edge ${e}`);
    }
  });
  const before = (i: number): SystemState => (i === 0 ? emptySystem() : (r.states[i - 1] as SystemState));
  const groups: Group[] = [];
  const stepText = (i: number) => `${stepPhrase(profile, steps[i] as Step)} ${outcomePhrase((r.results[i] as StepResult).outcome)}`;
  for (let i = 0; i < steps.length; ) {
    const e = walk.edges[i] as number;
    const self = g.edgeFrom[e] === g.edgeTo[e];
    if (kind === 'transition' && !walk.fresh[i]) {
      let j = i;
      while (j < steps.length && !walk.fresh[j]) j++;
      groups.push({
        from: i,
        to: j,
        title: clip(
          `reaches "${clip(stateWords(profile, r.states[j - 1] as SystemState), 200)}" again by ${steps
            .slice(i, j)
            .map((s) => stepPhrase(profile, s))
            .join(', ')}`,
          480,
        ),
      });
      i = j;
    } else if (kind === 'transition' && self) {
      let j = i;
      while (j < steps.length && walk.fresh[j] && g.edgeFrom[walk.edges[j] as number] === g.edgeTo[walk.edges[j] as number]) j++;
      groups.push({
        from: i,
        to: j,
        title: `in "${clip(stateWords(profile, before(i)), 200)}", ${j - i} operation(s) leave the state as it is: ${opSummary(steps.slice(i, j), r.results.slice(i, j))}`,
      });
      i = j;
    } else if (kind === 'state') {
      groups.push({ from: i, to: steps.length, title: clip(`is reached by ${steps.map((s) => stepPhrase(profile, s)).join(', ')}`, 600) });
      i = steps.length;
    } else {
      groups.push({
        from: i,
        to: i + 1,
        title: clip(`${stepText(i)}, giving "${clip(stateWords(profile, r.states[i] as SystemState), 200)}"`, 480),
      });
      i++;
    }
  }
  const last = r.states[r.states.length - 1] ?? emptySystem();
  const title = base.title ?? clip(stateWords(profile, last), 200);
  return materialiseSteps(profile, steps, invariants, {
    ...base,
    title,
    description: `${kind} suite: ${steps.length} step(s) ending in "${clip(stateWords(profile, last), 400)}"`,
    groups,
    edges: walk.edges,
  });
}
