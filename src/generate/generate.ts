/**
 * Generating a profile's suites: explore its graph within the bound, select tests per coverage criterion,
 * replay them into traces with expected outcomes, and render every output file (trace JSON, vitest files, C
 * selftests, coverage.json and COVERAGE.md) into a map of path → content. Nothing here touches the disk
 * (write.ts does), so `--check` can compare the same map with what is committed.
 */
import { type Bound, formatBound } from '../../spec/explore/bound.ts';
import { type StateGraph, explore } from '../../spec/explore/explorer.ts';
import { exploreWithXState } from '../../spec/explore/xstateExplorer.ts';
import { invariantsFor } from '../../spec/invariants.ts';
import { stringifyJson } from '../../spec/json.ts';
import type { Outcome, Step } from '../../spec/ops.ts';
import type { Profile, SuiteCoverage } from '../../spec/profile.ts';
import type { SystemState } from '../../spec/state.ts';
import { type CEmitResult, emitC } from './emitC.ts';
import { emitVitest } from './emitVitest.ts';
import { ADAPTERS, type FailuresResult, NOT_ON_A_KERNEL, failuresSuite } from './failures.ts';
import { type GenTest, type SuiteName, materialiseWalk } from './materialise.ts';
import { SelectionError, type Walk, onePathPerEdgeSteps, selectPaths, selectStates, selectTransitions } from './select.ts';
import { clip, stateWords } from './words.ts';

/** A coverage criterion: its one definition is the profile's (spec/profile.ts), which names its committed ones. */
export type Coverage = SuiteCoverage;

/**
 * What builds the state graph: the explorer (spec/explore/explorer.ts, the exploration engine; the default)
 * or XState's graph utilities traversing the system actor (spec/explore/xstateExplorer.ts). Both build the
 * same graph, so the suites are the same; the explorer is much faster.
 */
export const ENGINES = ['explorer', 'xstate'] as const;
export type Engine = (typeof ENGINES)[number];

export function exploreWith(engine: Engine, profile: Profile, bound: Bound): StateGraph {
  switch (engine) {
    case 'explorer':
      return explore(profile, bound);
    case 'xstate':
      return exploreWithXState(profile, bound);
  }
}

export function parseCoverage(text: string): Coverage[] {
  const out = text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c): Coverage => {
      if (c === 'state' || c === 'transition' || c === 'failures') return c;
      const m = /^path:(\d+)$/.exec(c);
      if (m) return `path:${Number(m[1])}`;
      throw new SelectionError(`unknown coverage ${JSON.stringify(c)} (state, transition, path:L, failures)`);
    });
  // Every path:L writes the one path suite (traces/path/, path.test.ts): two lengths would overwrite each other.
  const paths = [...new Set(out.filter((c) => c.startsWith('path:')))];
  if (paths.length > 1) throw new SelectionError(`coverage ${paths.join(',')}: one path length per run (each writes traces/path/)`);
  return [...new Set(out)];
}

export interface GenerateOptions {
  profile: Profile;
  bound: Bound;
  coverage: readonly Coverage[];
  /** Emit C selftests (only for profiles a kernel here implements). */
  c?: boolean;
  /** Longest transition walk (steps). */
  maxSteps?: number;
  /** Refuse path:L past this many tests. */
  maxPathTests?: number;
  /** The command line that regenerates this output (written into every file's header). */
  command: string;
  /** What builds the state graph (default: the explorer). */
  engine?: Engine;
}

export interface SuiteStats {
  tests: number;
  steps: number;
  edgesCovered?: number;
  statesReached?: number;
  onePathPerEdge?: { tests: number; steps: number };
}

export interface Generated {
  files: Map<string, string>;
  graph: StateGraph;
  suites: Partial<Record<SuiteName, SuiteStats>>;
  coverage: Record<string, unknown>;
  millis: number;
}

/** In trace files a step's note is the id of the rule that decided it (the runtime states the rule's words). */
function ruleIdNotes(s: Step): Step {
  const note = s.note?.includes(':') ? s.note.slice(0, s.note.indexOf(':')) : s.note;
  const out = { ...s, ...(note !== undefined ? { note } : {}) } as Step;
  if (out.op === 'fork' && s.op === 'fork') out.steps = s.steps.map(ruleIdNotes);
  return out;
}

/** A trace file: the header fields, then one step per line (small diffs, readable). */
export function formatGeneratedTrace(profile: Profile, bound: Bound, t: GenTest): string {
  const head: Record<string, unknown> = {
    format: 'gmem-trace/1',
    profile: profile.name,
    name: t.name,
    description: t.description,
    suite: t.suite,
    bound: formatBound(bound),
    invariants: t.invariants,
  };
  if (t.failure) head.failure = t.failure;
  const lines = ['{'];
  for (const [k, v] of Object.entries(head)) lines.push(`  ${JSON.stringify(k)}: ${stringifyJson(v)},`);
  lines.push('  "steps": [');
  t.steps.forEach((s, i) => lines.push(`    ${stringifyJson(ruleIdNotes(s))}${i + 1 < t.steps.length ? ',' : ''}`));
  lines.push('  ]', '}');
  return `${lines.join('\n')}\n`;
}

function outcomeClass(o: Outcome): string {
  if ('errno' in o) return o.errno;
  if ('access' in o) return o.access === 'ok' ? 'access ok' : o.access;
  if ('exit' in o) return o.exit === 'MEMORY_FAULT' ? `KVM_EXIT_MEMORY_FAULT(${o.private ? 'private' : 'shared'})` : 'KVM_EXIT_MMIO';
  if ('failed' in o) return 'failed';
  return 'ok';
}

function walkSuite(
  profile: Profile,
  g: StateGraph,
  walks: Walk[],
  suite: SuiteName,
  invariants: ReturnType<typeof invariantsFor>,
): GenTest[] {
  const prefix = suite === 'transition' ? 'w' : suite === 'state' ? 's' : 'p';
  const width = Math.max(4, String(walks.length).length);
  return walks.map((w, k) => {
    const id = `${prefix}${String(k + 1).padStart(width, '0')}`;
    const firstFresh = w.fresh.indexOf(true);
    const at = firstFresh <= 0 ? 0 : (g.edgeTo[w.edges[firstFresh - 1] as number] as number);
    const last = w.edges.length ? (g.edgeTo[w.edges[w.edges.length - 1] as number] as number) : 0;
    const title =
      suite === 'transition'
        ? `walk ${k + 1}: ${w.fresh.filter(Boolean).length} new edge(s) from "${clip(stateWords(profile, g.states[at] as SystemState), 200)}"`
        : suite === 'state'
          ? `state #${last}: "${clip(stateWords(profile, g.states[last] as SystemState), 300)}"`
          : `path ${k + 1}: ending in "${clip(stateWords(profile, g.states[last] as SystemState), 200)}"`;
    return materialiseWalk(profile, g, w, invariants, { suite, file: `traces/${suite}/${id}.json`, name: `${suite}-${id}`, title }, suite);
  });
}

function stepsOf(t: GenTest): Step[] {
  const out: Step[] = [];
  const walk = (ss: readonly Step[]) => {
    for (const s of ss) {
      out.push(s);
      if (s.op === 'fork') walk(s.steps);
    }
  };
  walk(t.steps);
  return out;
}

export function generateProfile(o: GenerateOptions): Generated {
  const t0 = performance.now();
  const { profile, bound } = o;
  const invariants = invariantsFor(profile);
  const g = exploreWith(o.engine ?? 'explorer', profile, bound);
  if (!g.complete) throw new SelectionError(`exploration of ${profile.name} within ${formatBound(bound)} stopped: ${g.stoppedBecause}`);
  const files = new Map<string, string>();
  const suites: Generated['suites'] = {};
  const all: GenTest[] = [];
  let failures: FailuresResult | undefined;
  let cOut: CEmitResult | undefined;
  const bySuite = new Map<SuiteName, GenTest[]>();

  for (const cov of o.coverage) {
    let tests: GenTest[];
    let suite: SuiteName;
    if (cov === 'failures') {
      suite = 'failures';
      failures = failuresSuite(profile, g, invariants, profile.checkedAgainstKernel ? { skipRules: NOT_ON_A_KERNEL } : {});
      tests = failures.tests;
    } else {
      suite = cov === 'state' ? 'state' : cov === 'transition' ? 'transition' : 'path';
      const walks =
        cov === 'state'
          ? selectStates(g)
          : cov === 'transition'
            ? selectTransitions(g, o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {})
            : selectPaths(g, Number(cov.slice(5)), o.maxPathTests !== undefined ? { maxTests: o.maxPathTests } : {});
      tests = walkSuite(profile, g, walks, suite, invariants);
    }
    bySuite.set(suite, tests);
    all.push(...tests);
    const stats: SuiteStats = { tests: tests.length, steps: tests.reduce((n, t) => n + t.steps.length, 0) };
    if (suite !== 'failures') {
      const edges = new Set<number>();
      const states = new Set<number>([0]);
      for (const t of tests)
        for (const e of t.edges) {
          edges.add(e);
          states.add(g.edgeTo[e] as number);
        }
      stats.edgesCovered = edges.size;
      stats.statesReached = states.size;
      if (suite === 'transition') stats.onePathPerEdge = { tests: g.edgeCount, steps: onePathPerEdgeSteps(g) };
    }
    suites[suite] = stats;
    for (const t of tests) files.set(t.file, formatGeneratedTrace(profile, bound, t));
    files.set(`${suite}.test.ts`, emitVitest(profile, suite, tests, o.command));
  }
  if (o.c) {
    cOut = emitC(profile, bySuite, o.command);
    for (const [k, v] of cOut.files) files.set(k, v);
  }

  // Coverage.
  const outcomes: Record<string, number> = {};
  const rulesSeen = new Set<string>();
  for (const t of all) {
    for (const s of stepsOf(t)) {
      if (s.expected) outcomes[outcomeClass(s.expected)] = (outcomes[outcomeClass(s.expected)] ?? 0) + 1;
      if (s.note) rulesSeen.add(s.note.slice(0, s.note.indexOf(':')));
    }
  }
  const graphRules = new Set(g.rules.map((r) => r.id));
  const opsTried = new Set<string>(g.steps.map((st) => st.op));
  const checkIds = new Set<string>();
  for (const a of Object.values(ADAPTERS)) for (const c of a?.checks() ?? []) checkIds.add(c.id);
  const knownRules = [...new Set([...graphRules, ...checkIds, ...rulesSeen])].sort();
  const invariantUse = Object.fromEntries(
    invariants.map((i) => [
      i.name,
      {
        says: i.says,
        traces: all.filter((t) => t.invariants.includes(i.name)).length,
        brokenIn: all.filter((t) => t.broken.some((b) => b.invariant === i.name)).map((t) => t.file),
      },
    ]),
  );
  const coverage: Record<string, unknown> = {
    profile: profile.name,
    title: profile.title,
    checkedAgainstKernel: profile.checkedAgainstKernel,
    runsOn: profile.checkedAgainstKernel ? ['reference', 'linux'] : ['reference'],
    bound: formatBound(bound),
    command: o.command,
    graph: { states: g.states.length, edges: g.edgeCount, selfLoops: countSelfLoops(g), rules: g.rules.length },
    suites,
    outcomes: Object.fromEntries(Object.entries(outcomes).sort((a, b) => (a[0] < b[0] ? -1 : 1))),
    rules: {
      exercised: knownRules.filter((r) => rulesSeen.has(r)),
      notExercised: knownRules.filter((r) => !rulesSeen.has(r)).map((r) => ({ id: r, why: whyNot(r, failures, graphRules, opsTried) })),
    },
    ...(failures
      ? {
          failures: {
            conditions: failures.conditions,
            pairs: {
              generated: failures.pairs.filter((p) => p.status === 'generated').length,
              sameErrno: failures.pairs.filter((p) => p.status === 'same-errno').length,
              notFound: failures.pairs.filter((p) => p.status === 'not-found').length,
            },
            opsWithoutSuccess: failures.success.filter((s) => !s.found).map((s) => s.op),
            candidatesEvaluated: failures.candidates,
          },
        }
      : {}),
    invariants: invariantUse,
    ...(cOut ? { c: { files: [...cOut.files.keys()], tests: cOut.tests, leftOut: cOut.leftOut } } : {}),
  };
  files.set('coverage.json', `${stringifyJson(coverage, 2)}\n`);
  files.set('COVERAGE.md', coverageMarkdown(profile, coverage, g));
  return { files, graph: g, suites, coverage, millis: performance.now() - t0 };
}

function countSelfLoops(g: StateGraph): number {
  let n = 0;
  for (let e = 0; e < g.edgeCount; e++) if (g.edgeFrom[e] === g.edgeTo[e]) n++;
  return n;
}

function whyNot(rule: string, f: FailuresResult | undefined, graphRules: Set<string>, opsTried: Set<string>): string {
  const op = rule.slice(0, rule.indexOf('.'));
  if (!opsTried.has(op) && !f?.conditions.some((x) => x.op === op))
    return `${op} is not an operation of this profile (no VM type here has it)`;
  const c = f?.conditions.find((x) => x.check === rule);
  if (c?.why) return c.why;
  if (!graphRules.has(rule)) return 'no reachable edge within the bound decides by it';
  return 'not selected';
}

function coverageMarkdown(profile: Profile, c: Record<string, unknown>, g: StateGraph): string {
  const suites = c.suites as Record<string, SuiteStats>;
  const lines = [
    `# ${profile.name}: generated suite coverage`,
    '',
    `Generated by \`${String(c.command)}\`. ${profile.checkedAgainstKernel ? 'Runs on the reference backend and on the linux backend (/dev/kvm here); the C selftests run against /dev/kvm.' : 'Modelled only: runs on the reference backend; no kernel here implements this profile.'}`,
    '',
    `Bound \`${String(c.bound)}\`: ${g.states.length} reachable states, ${g.edgeCount} edges (${countSelfLoops(g)} self-loops), ${g.rules.length} deciding rules.`,
    '',
    '| suite | tests | steps | states reached | edges covered | one path per edge |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const [name, s] of Object.entries(suites)) {
    lines.push(
      `| ${name} | ${s.tests} | ${s.steps} | ${s.statesReached ?? '—'}${s.statesReached !== undefined ? ` / ${g.states.length}` : ''} | ${s.edgesCovered !== undefined ? `${s.edgesCovered} / ${g.edgeCount} (${((100 * s.edgesCovered) / g.edgeCount).toFixed(1)}%)` : '—'} | ${s.onePathPerEdge ? `${s.onePathPerEdge.tests} tests, ${s.onePathPerEdge.steps} steps` : '—'} |`,
    );
  }
  lines.push('', '## Outcomes exercised', '', '| outcome | steps |', '|---|---:|');
  for (const [k, v] of Object.entries(c.outcomes as Record<string, number>)) lines.push(`| ${k} | ${v} |`);
  const rules = c.rules as { exercised: string[]; notExercised: Array<{ id: string; why: string }> };
  lines.push(
    '',
    `## Rules and check ids`,
    '',
    `${rules.exercised.length} exercised: ${rules.exercised.map((r) => `\`${r}\``).join(', ')}.`,
    '',
  );
  if (rules.notExercised.length) {
    lines.push('| not exercised | why |', '|---|---|');
    for (const r of rules.notExercised) lines.push(`| \`${r.id}\` | ${r.why} |`);
  }
  const f = c.failures as { pairs: Record<string, number>; opsWithoutSuccess: string[] } | undefined;
  if (f) {
    lines.push(
      '',
      '## Failure order',
      '',
      `Pairs of conditions that hold at once: ${f.pairs.generated} generated (distinct errnos), ${f.pairs.sameErrno} with the same errno (order not observable by a caller), ${f.pairs.notFound} never found holding together.${f.opsWithoutSuccess.length ? ` Operations that never succeed here: ${f.opsWithoutSuccess.join(', ')}.` : ''}`,
    );
  }
  lines.push('', '## Invariants checked after every step', '', '| invariant | says | traces | broken in |', '|---|---|---:|---|');
  for (const [name, v] of Object.entries(c.invariants as Record<string, { says: string; traces: number; brokenIn: string[] }>)) {
    lines.push(`| ${name} | ${v.says} | ${v.traces} | ${v.brokenIn.length ? v.brokenIn.join(', ') : '—'} |`);
  }
  const cc = c.c as { files: string[]; tests: number; leftOut: Record<string, string> } | undefined;
  if (cc) {
    lines.push('', '## C selftests', '', `${cc.tests} TEST()s in ${cc.files.map((x) => `\`${x}\``).join(', ')}.`);
    const left = Object.entries(cc.leftOut);
    lines.push(left.length ? `Left out: ${left.map(([k, v]) => `${k} (${v})`).join('; ')}.` : 'Nothing left out.');
  }
  return `${lines.join('\n')}\n`;
}
