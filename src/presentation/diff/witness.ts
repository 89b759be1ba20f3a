/**
 * Witness traces for behavioural differences between two profiles: a breadth-first search over pairs of system
 * states, driving both profiles with the very same operations (the bounded set of src/presentation/diagram/reachable.ts),
 * widened by the operations either profile models (universe.ts), recording for each kind of difference the first
 * — hence shortest — trace that shows it. Every witness is a gmem-trace/1 trace whose predicted outcomes differ
 * between the two profiles. The search is the exploration
 * engine's (spec/explore/engine.ts): the pair of explored states is its state, a step both sides take its event,
 * and the witnesses are recorded by its edge hook.
 */
import type { VmTypeName } from '../../../spec/constants.ts';
import { ExactStore, type ExplorationModel, type Move, Search } from '../../../spec/explore/engine.ts';
import type { Outcome, Step, Trace } from '../../../spec/ops.ts';
import { outcomesEqual } from '../../../spec/outcome.ts';
import type { Profile } from '../../../spec/profile.ts';
import type { RuleRef } from '../../../spec/rules/check.ts';
import { type SystemState, emptySystem } from '../../../spec/state.ts';
import {
  DEFAULT_MAX_DEPTH,
  type Exploration,
  INITIAL_CTX,
  type SideResult,
  type TraceCtx,
  type Transition,
  nextOps,
} from '../diagram/reachable.ts';
import { outcomeWords, stepWords } from '../diagram/words.ts';
import { exploreForDiff } from './universe.ts';

export interface SideOutcome {
  outcome: Outcome;
  rule: RuleRef;
  aborted: boolean;
}

/** A named kind of behavioural difference reviewers argue about. */
export interface Scenario {
  id: string;
  title: string;
  /** Whether this step (with both sides' results) shows the scenario. */
  matches: (x: ScenarioInput) => boolean;
}

export interface ScenarioInput {
  step: Step;
  ctx: TraceCtx;
  a: SideResult;
  b: SideResult;
  beforeA: SystemState;
  beforeB: SystemState;
  a_profile: Profile;
  b_profile: Profile;
  differs: boolean;
  divergedBefore: boolean;
}

const INIT_SHARED_BIT = 2;
const signal = (o: Outcome) => 'access' in o && o.access !== 'ok';
const ok = (o: Outcome) => 'ok' in o;
const eitherRule = (x: ScenarioInput, id: string) => x.a.rule.id === id || x.b.rule.id === id;
const pageAttr = (s: SystemState) => {
  const g = s.gmems[0];
  if (!g || g.lifecycle === 'released') return undefined;
  return g.pages['0']?.attribute ?? ((g.flags & INIT_SHARED_BIT) !== 0 ? 'shared' : 'private');
};

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'attributes2-converts',
    title: 'KVM_SET_MEMORY_ATTRIBUTES2 converts a guest_memfd range in place',
    matches: (x) => x.step.op === 'set_memory_attributes2' && x.differs && ok(x.a.outcome) !== ok(x.b.outcome),
  },
  {
    id: 'pinned-conversion-eagain',
    title: 'a long-term pin blocks conversion to private: EAGAIN with error_offset',
    matches: (x) => x.step.op === 'set_memory_attributes2' && x.differs && eitherRule(x, 'set_memory_attributes2.elevated-refcount'),
  },
  {
    id: 'host-fault-converted',
    title: 'a host fault on a page converted to private is refused (per-page attribute)',
    matches: (x) => {
      if ((x.step.op !== 'read_mem' && x.step.op !== 'write_mem') || !x.differs) return false;
      const side = (r: SideResult, before: SystemState) =>
        signal(r.outcome) && r.rule.id === 'access.private' && ((before.gmems[0]?.flags ?? 0) & INIT_SHARED_BIT) !== 0;
      return side(x.a, x.beforeA) || side(x.b, x.beforeB);
    },
  },
  {
    id: 'init-shared-private-mem',
    title: 'GUEST_MEMFD_FLAG_INIT_SHARED on a VM type with private memory',
    matches: (x) => {
      if (x.step.op !== 'create_gmem' || !x.differs || (Number(x.step.flags) & INIT_SHARED_BIT) === 0) return false;
      const t = x.ctx.vmType as VmTypeName;
      return (
        Boolean(x.a_profile.vmTypes[t]?.hasPrivateMem || x.b_profile.vmTypes[t]?.hasPrivateMem) && (ok(x.a.outcome) || ok(x.b.outcome))
      );
    },
  },
  {
    id: 'populate-private-destination',
    title: 'populate (LAUNCH_UPDATE / INIT_MEM_REGION / RMI_POPULATE) expects private destinations',
    matches: (x) => x.step.op === 'populate' && x.differs && eitherRule(x, 'populate.not-private'),
  },
  {
    id: 'in-transition-states',
    title: 'pages wait in toPrivate / toShared while a conversion is pending',
    matches: (x) => {
      if (!(x.differs || x.divergedBefore)) return false;
      const t = (s: SystemState) => {
        const a = pageAttr(s);
        return a === 'toPrivate' || a === 'toShared';
      };
      return t(x.a.state) !== t(x.b.state);
    },
  },
];

export interface Witness {
  /** Scenario id, or `rule:<op>:<ruleA>:<ruleB>` for a generic difference, or `invariant:<name>`. */
  key: string;
  title: string;
  kind: 'scenario' | 'added' | 'removed' | 'changed' | 'invariant';
  steps: Step[];
  /** Index of the step that shows the difference (the last one). */
  at: number;
  a: SideOutcome[];
  b: SideOutcome[];
  /** The op and both outcomes at the deciding step, in words. */
  op: string;
  aSays: string;
  bSays: string;
  /** The second profile ran the trace on an equivalent VM type of its own (a diff across platforms). */
  vmTypes?: { a: VmTypeName; b: VmTypeName };
}

/** VM types of the first profile and the equivalent type the second profile runs instead (snp → pkvm). */
export type VmTypeMap = Partial<Record<VmTypeName, VmTypeName>>;

/** The steps as the second profile runs them: KVM_CREATE_VM with the equivalent VM type. */
export function stepsOnB(steps: readonly Step[], map: VmTypeMap | undefined): Step[] {
  return steps.map((s) =>
    s.op === 'create_vm' && map?.[s.type as VmTypeName] ? { ...s, type: map[s.type as VmTypeName] as VmTypeName } : s,
  );
}

/** A state of the product search: where each side is, and how it got there (the trace a witness prints). */
interface PairNode {
  /** Explored state ids of each side; -1: the side cannot go on (a creation failed, or it cannot run the trace). */
  ia: number;
  ib: number;
  ctx: TraceCtx;
  diverged: boolean;
  depth: number;
  /** The pair this one was reached from, by `step`, with what each side did (absent: the initial pair). */
  from?: { parent: PairNode; step: Step; ra: SideOutcome; rb: SideOutcome };
}

/** An event of a pair: the `k`-th operation of the first side, which the second side offers as its `kb`-th. */
interface PairEvent {
  next: { step: Step; ctx: TraceCtx };
  k: number;
  kb: number;
}

/** What one side did at a step, and the explored state it went on from (-1: none; -2: past its exploration). */
type SideStep = SideResult & { next: number; broken: string[] };

interface PairMove extends Move<PairNode> {
  /** Both sides' results; absent when neither side could run the step (nothing to compare). */
  compared?: { child: PairNode; ra: SideStep; rb: SideStep; differs: boolean };
}

export interface WitnessSearch {
  a: Profile;
  b: Profile;
  witnesses: Witness[];
  pairs: number;
  truncated: boolean;
  millis: number;
  /** Rule ids each side produced anywhere in the product search. */
  rulesA: Set<string>;
  rulesB: Set<string>;
}

function stopped(s: SystemState): SideResult {
  return {
    outcome: { failed: 'trace stopped' },
    rule: { id: 'trace.stopped', says: 'an earlier step named a handle this profile never created', cite: 'spec/world.ts' },
    state: s,
    aborted: true,
  };
}

function toSide(r: SideResult): SideOutcome {
  return { outcome: r.outcome, rule: r.rule, aborted: r.aborted };
}

function sayOutcome(o: SideOutcome, steps: readonly Step[], side: readonly SideOutcome[], profile: Profile): string {
  if (o.aborted) {
    const k = side.findIndex(
      (x, i) => !x.aborted && !('ok' in x.outcome) && ((steps[i] as Step).op === 'create_vm' || (steps[i] as Step).op === 'create_gmem'),
    );
    if (k >= 0)
      return `— (the trace cannot run: step ${k + 1} ${stepWords(steps[k] as Step, profile)} → ${outcomeWords((side[k] as SideOutcome).outcome)})`;
    return `— (${o.rule.says})`;
  }
  return `${outcomeWords(o.outcome)} [${o.rule.id}]`;
}

function pathOf(last: PairNode): { steps: Step[]; a: SideOutcome[]; b: SideOutcome[] } {
  const steps: Step[] = [];
  const a: SideOutcome[] = [];
  const b: SideOutcome[] = [];
  for (let f = last.from; f; f = f.parent.from) {
    steps.unshift(f.step);
    a.unshift(f.ra);
    b.unshift(f.rb);
  }
  return { steps, a, b };
}

/** Search both profiles with the same bounded operations; one shortest witness per kind of difference. */
export function searchWitnesses(
  a: Profile,
  b: Profile,
  options: { maxDepth?: number; maxPairs?: number; vmTypeMap?: VmTypeMap } = {},
): WitnessSearch {
  const t0 = performance.now();
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxPairs = options.maxPairs ?? 200_000;
  // Both sides explored with one universe (the diff's: what either profile models), so their transitions line up.
  const xa = exploreForDiff(a, a, b, { maxDepth });
  const xb = exploreForDiff(b, a, b, { maxDepth });
  const u = xa.universe;
  const empty = emptySystem();
  const found = new Map<string, { node: PairNode; at: number; aborted: number; title: string; kind: Witness['kind'] }>();
  const rulesA = new Set<string>();
  const rulesB = new Set<string>();
  let truncated = xa.truncated || xb.truncated;
  const consider = (key: string, title: string, kind: Witness['kind'], node: PairNode, aborted: number) => {
    const prev = found.get(key);
    if (!prev || (prev.at === node.depth && aborted < prev.aborted)) found.set(key, { node, at: node.depth, aborted, title, kind });
  };
  const side = (x: Exploration, id: number, row: Transition[] | undefined, k: number): SideStep => {
    const t = id >= 0 ? row?.[k] : undefined;
    if (!t) return { ...stopped(id >= 0 ? (x.states[id] as SystemState) : empty), next: -1, broken: [] };
    const after = t.next >= 0 ? (x.states[t.next] as SystemState) : id >= 0 ? (x.states[id] as SystemState) : empty;
    return { outcome: t.outcome, rule: t.rule, aborted: t.aborted, state: after, next: t.aborted ? -1 : t.next, broken: t.broken ?? [] };
  };
  const map = options.vmTypeMap && Object.keys(options.vmTypeMap).length ? options.vmTypeMap : undefined;
  const onB = (c: TraceCtx): TraceCtx => (c.vmType && map?.[c.vmType] ? { ...c, vmType: map[c.vmType] as VmTypeName } : c);
  const rowA = (n: PairNode) => (n.ia >= 0 ? xa.trans[n.ia] : undefined);
  const rowB = (n: PairNode) => (n.ib >= 0 ? xb.trans[n.ib] : undefined);

  const model: ExplorationModel<PairNode, PairEvent, PairMove> = {
    initial: () => ({ ia: 0, ib: 0, ctx: INITIAL_CTX, diverged: false, depth: 0 }),
    events(n) {
      // A live side its own exploration did not expand (its depth bound): stop here.
      if ((n.ia >= 0 && !rowA(n)) || (n.ib >= 0 && !rowB(n))) return [];
      // Across platforms, the second side runs each operation in the context of its equivalent VM type; an
      // operation that context does not offer is not compared.
      const opsB = map ? nextOps(onB(n.ctx), u).map((o) => JSON.stringify(o.step)) : undefined;
      return nextOps(n.ctx, u)
        .map((next, k) => ({ next, k, kb: opsB ? opsB.indexOf(JSON.stringify(stepsOnB([next.step], map)[0])) : k }))
        .filter((e) => e.kb >= 0);
    },
    transition(n, { next, k, kb }) {
      const ra = side(xa, n.ia, rowA(n), k);
      const rb = side(xb, n.ib, rowB(n), kb);
      if (ra.aborted && rb.aborted) return { next: undefined };
      const differs = ra.aborted !== rb.aborted || !outcomesEqual(ra.outcome, rb.outcome);
      const child: PairNode = {
        ia: ra.next,
        ib: rb.next,
        ctx: next.ctx,
        diverged: n.diverged || differs,
        depth: n.depth + 1,
        from: { parent: n, step: next.step, ra: toSide(ra), rb: toSide(rb) },
      };
      // A pair where neither side can go on shows its difference but leads nowhere.
      return { next: child.ia < 0 && child.ib < 0 ? undefined : child, compared: { child, ra, rb, differs } };
    },
    key: (n) => `${n.ia}|${n.ib}|${n.diverged ? 'd' : ''}`,
  };

  const pairs = new ExactStore();
  const search = new Search(
    model,
    pairs,
    {
      edge(from, { next }, _index, { compared }) {
        if (!compared) return;
        const { child, ra, rb, differs } = compared;
        const n = from.node;
        if (!ra.aborted) rulesA.add(ra.rule.id);
        if (!rb.aborted) rulesB.add(rb.rule.id);
        if (ra.next === -2 || rb.next === -2) truncated = true;
        const aborted = (ra.aborted ? 1 : 0) + (rb.aborted ? 1 : 0);
        const record = (key: string, title: string, kind: Witness['kind']) => consider(key, title, kind, child, aborted);
        const input: ScenarioInput = {
          step: next.step,
          ctx: next.ctx,
          a: ra,
          b: rb,
          beforeA: n.ia >= 0 ? (xa.states[n.ia] as SystemState) : empty,
          beforeB: n.ib >= 0 ? (xb.states[n.ib] as SystemState) : empty,
          a_profile: a,
          b_profile: b,
          differs,
          divergedBefore: n.diverged,
        };
        for (const sc of SCENARIOS) if (sc.matches(input)) record(sc.id, sc.title, 'scenario');
        if (differs)
          record(`rule:${next.step.op}:${ra.rule.id}:${rb.rule.id}`, `${next.step.op}: ${ra.rule.id} → ${rb.rule.id}`, 'changed');
        for (const v of ra.broken) if (!rb.broken.includes(v)) record(`invariant:${v}`, `${v} breaks under ${a.name} only`, 'invariant');
        for (const v of rb.broken) if (!ra.broken.includes(v)) record(`invariant:${v}`, `${v} breaks under ${b.name} only`, 'invariant');
      },
    },
    { maxDepth, maxStates: maxPairs },
  ).run();
  if (!search.complete) truncated = true;
  const witnesses: Witness[] = [];
  for (const [key, f] of found) {
    const p = pathOf(f.node);
    const at = p.steps.length - 1;
    const last = p.steps[at] as Step;
    const ctxType = p.steps.find((s) => s.op === 'create_vm') as (Step & { type: VmTypeName }) | undefined;
    const vmType = ctxType?.type as VmTypeName | undefined;
    witnesses.push({
      key,
      title: f.title,
      kind: f.kind,
      steps: p.steps,
      at,
      a: p.a,
      b: p.b,
      op: stepWords(last, b.vmTypes[vmType ?? 'default'] ? b : a, vmType),
      aSays: sayOutcome(p.a[at] as SideOutcome, p.steps, p.a, a),
      bSays: sayOutcome(p.b[at] as SideOutcome, stepsOnB(p.steps, map), p.b, b),
      ...(vmType && map?.[vmType] ? { vmTypes: { a: vmType, b: map[vmType] as VmTypeName } } : {}),
    });
  }
  classify(witnesses, rulesA, rulesB);
  for (let k = witnesses.length - 1; k >= 0; k--)
    if ((witnesses[k] as Witness).kind === ('noise' as Witness['kind'])) witnesses.splice(k, 1);
  witnesses.sort(
    (x, y) =>
      kindOrder(x.kind) - kindOrder(y.kind) ||
      scenarioOrder(x.key) - scenarioOrder(y.key) ||
      x.steps.length - y.steps.length ||
      (x.key < y.key ? -1 : 1),
  );
  return { a, b, witnesses: dedupe(witnesses), pairs: pairs.size, truncated, millis: performance.now() - t0, rulesA, rulesB };
}

function kindOrder(k: Witness['kind']): number {
  return ['scenario', 'invariant', 'added', 'removed', 'changed'].indexOf(k);
}

function scenarioOrder(key: string): number {
  const i = SCENARIOS.findIndex((s) => s.id === key);
  return i < 0 ? 99 : i;
}

/** A generic difference is `added` when the second profile's rule never happens under the first, etc. */
function classify(ws: Witness[], rulesA: Set<string>, rulesB: Set<string>): void {
  for (const w of ws) {
    if (w.kind !== 'changed') continue;
    const sa = w.a[w.at] as SideOutcome;
    const sb = w.b[w.at] as SideOutcome;
    const ra = sa.rule.id;
    const rb = sb.rule.id;
    const opName = (w.steps[w.at] as Step).op;
    // A side that cannot run the trace at all (its VM type does not exist) only shows what the other side adds.
    if ((sa.aborted && rulesA.has(rb)) || (sb.aborted && rulesB.has(ra))) {
      w.kind = 'noise' as Witness['kind'];
      continue;
    }
    if (!sa.aborted && !sb.aborted && rulesA.has(rb) && rulesB.has(ra)) {
      w.title = `${w.op}: ${ra} → ${rb}`;
      continue;
    }
    if (!rulesA.has(rb)) {
      w.kind = 'added';
      w.key = `added:${opName}:${rb}`;
      w.title = `${w.op} → ${outcomeWordsOf(w.b[w.at])} [${rb}] (new)`;
    } else if (!rulesB.has(ra)) {
      w.kind = 'removed';
      w.key = `removed:${opName}:${ra}`;
      w.title = `${w.op} → ${outcomeWordsOf(w.a[w.at])} [${ra}] (gone)`;
    } else {
      w.title = `${w.op}: ${ra} → ${rb}`;
    }
  }
}

function outcomeWordsOf(o: SideOutcome | undefined): string {
  return o ? (o.aborted ? '—' : outcomeWords(o.outcome)) : '?';
}

/** Keep the shortest witness per added rule / removed rule / changed pair. */
function dedupe(ws: Witness[]): Witness[] {
  const seen = new Set<string>();
  const out: Witness[] = [];
  for (const w of ws) {
    if (seen.has(w.key)) continue;
    seen.add(w.key);
    out.push(w);
  }
  return out;
}

/**
 * The witness as a trace file. Across platforms (`w.vmTypes`) each side has its own: `side` 'b' creates the
 * second profile's equivalent VM type, and the description says which file the other side runs.
 */
export function witnessTrace(w: Witness, a: Profile, b: Profile, side: 'a' | 'b' = 'a'): Trace {
  const diff = w.a
    .map((x, i) =>
      x.aborted !== (w.b[i] as SideOutcome).aborted || !outcomesEqual(x.outcome, (w.b[i] as SideOutcome).outcome) ? i + 1 : 0,
    )
    .filter(Boolean);
  const name = `witness-${w.key.replace(/[^A-Za-z0-9_.-]+/g, '-')}`;
  const mapped = w.vmTypes
    ? ` The VM types are equivalent, not equal: ${a.name} runs it with KVM_CREATE_VM(${w.vmTypes.a}), ${b.name} with KVM_CREATE_VM(${w.vmTypes.b}); this file is the ${side === 'a' ? a.name : b.name} one.`
    : '';
  const check = w.vmTypes
    ? `gmem-spec predict --profile ${side === 'a' ? a.name : b.name} on this file`
    : `gmem-spec predict --profile ${a.name} / --profile ${b.name}`;
  return {
    format: 'gmem-trace/1',
    name: w.vmTypes ? `${name}.${side === 'a' ? a.name : b.name}` : name,
    description: `${w.title}. Step ${w.at + 1} (${w.op}): ${a.name} → ${w.aSays}; ${b.name} → ${w.bSays}. Outcomes differ at step(s) ${diff.join(', ')}.${mapped} Check: ${check}.`,
    steps: (side === 'b' && w.vmTypes ? stepsOnB(w.steps, { [w.vmTypes.a]: w.vmTypes.b }) : w.steps).map((s) => ({ ...s })),
  };
}

const cache = new Map<string, WitnessSearch>();

export function searchWitnessesCached(a: Profile, b: Profile, options: { maxDepth?: number; vmTypeMap?: VmTypeMap } = {}): WitnessSearch {
  const key = `${a.name}|${b.name}|${options.maxDepth ?? DEFAULT_MAX_DEPTH}|${JSON.stringify(options.vmTypeMap ?? {})}`;
  let w = cache.get(key);
  if (!w || w.a !== a || w.b !== b) {
    w = searchWitnesses(a, b, options);
    cache.set(key, w);
  }
  return w;
}
