/**
 * A structural and behavioural diff of two profiles, for reviewing an ABI proposal against its base:
 *   - what the profiles declare: every field of Profile that carries semantics (declarations.ts);
 *   - machine transitions taken under one profile and not the other (bounded search of each);
 *   - outcomes (deciding rules) each operation reaches in one and not the other;
 *   - reachable page states added / removed;
 *   - invariants that hold in one and break in the other;
 *   - behavioural differences, each with a witness trace that `gmem-spec predict` shows behaving differently.
 */
import type { VmTypeName } from '../../../spec/constants.ts';
import { INVARIANTS, invariantsFor } from '../../../spec/invariants.ts';
import type { Step, Trace } from '../../../spec/ops.ts';
import { outcomesEqual } from '../../../spec/outcome.ts';
import type { Profile, VmTypeRules } from '../../../spec/profile.ts';
import { PROFILES } from '../../../spec/profiles/index.ts';
import { predictTrace } from '../../../spec/compare.ts';
import { DEFAULT_MAX_DEPTH, type Exploration, pathTo } from '../diagram/reachable.ts';
import { primaryVmType } from '../diagram/static.ts';
import { outcomeWords } from '../diagram/words.ts';
import { type Explained, explain } from '../explain/paragraph.ts';
import { choiceWitnesses } from './choiceWitness.ts';
import { type DeclRow, declarationDiff } from './declarations.ts';
import { exploreForDiff } from './universe.ts';
import { type VmTypeMap, type Witness, searchWitnessesCached, stepsOnB, witnessTrace } from './witness.ts';

export type { Change, DeclRow } from './declarations.ts';
export { declarationDiff, PROFILE_FIELDS } from './declarations.ts';

export interface RuleRow {
  op: string;
  rule: string;
  outcome: string;
  change: 'added' | 'removed';
  /** The rule's words, for the table. */
  vmTypes: string[];
}

export interface TransitionRow {
  machine: string;
  edge: string;
  change: 'added' | 'removed';
}

export interface InvariantRow {
  name: string;
  says: string;
  source: string;
  a: 'holds' | 'breaks';
  b: 'holds' | 'breaks';
  promisedA: boolean;
  promisedB: boolean;
  /** A trace to the violation, on the side where it breaks. */
  witness?: { profile: string; detail: string; trace: Trace };
}

export interface Behaviour {
  witness: Witness;
  /** The witness trace (the first profile's, when the VM types are only equivalent). */
  trace: Trace;
  /** Across platforms: the trace the second profile runs (its equivalent VM type). */
  traceB?: Trace;
  /** Which rule decides the step under the second profile, what the first does there, and their sources. */
  explained: Explained;
  /** For a VM type the first profile lacks: what the upstream platform profile built on it says at that step. */
  reference?: { profile: string; says: string };
}

export interface ProfileDiff {
  a: Profile;
  b: Profile;
  bound: { maxDepth: number; statesA: number; statesB: number; pairs: number; truncated: boolean };
  declarations: DeclRow[];
  transitions: TransitionRow[];
  rules: RuleRow[];
  pageStates: { added: string[]; removed: string[]; common: string[] };
  invariants: InvariantRow[];
  behaviours: Behaviour[];
  /** VM types of the first profile run as an equivalent type of the second (a diff across platforms). */
  vmTypeMap: VmTypeMap;
  /** Differences that only say "this VM type does not exist there", grouped per VM type instead of listed. */
  missingVmTypes: MissingVmType[];
  /** Per VM type with private memory (paired by name or by equivalence): conversion kind, content, host fault. */
  conversions: ConversionRow[];
}

export interface MissingVmType {
  vmType: VmTypeName;
  /** The profile whose KVM_CREATE_VM refuses it. */
  missingIn: string;
  /** The operations whose differences it stands for, in words. */
  ops: string[];
}

/** What a conversion does on a VM type, as the profile declares it (spec/profiles/vmTypes.ts). */
export interface ConversionSemantics {
  /** none | vm-attributes (KVM_SET_MEMORY_ATTRIBUTES) | in-place (KVM_SET_MEMORY_ATTRIBUTES2). */
  kind: VmTypeRules['conversion'];
  /** What the guest reads of bytes the host wrote while shared (toPrivate), and the host of the guest's (toShared). */
  content: { toPrivate: string; toShared: string };
  /** Where the content semantics come from. */
  contentSource?: string;
  /** A host user-space fault on a private page. */
  hostFault: VmTypeRules['privateHostAccess'];
}

export interface ConversionRow {
  vmTypeA: VmTypeName;
  vmTypeB: VmTypeName;
  a: ConversionSemantics;
  b: ConversionSemantics;
  differs: boolean;
}

function takenEdges(x: Exploration): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of x.slices.values())
    for (const [m, set] of s.taken) {
      let t = out.get(m);
      if (!t) out.set(m, (t = new Set()));
      for (const e of set) t.add(e);
    }
  return out;
}

function ruleMap(x: Exploration): Map<string, { op: string; rule: string; outcome: string; vmTypes: Set<string> }> {
  const out = new Map<string, { op: string; rule: string; outcome: string; vmTypes: Set<string> }>();
  for (const s of x.slices.values())
    for (const [op, rules] of s.rules)
      for (const [rule, outcome] of rules) {
        const k = `${op}|${rule}`;
        let r = out.get(k);
        if (!r) out.set(k, (r = { op, rule, outcome, vmTypes: new Set() }));
        r.vmTypes.add(s.vmType);
      }
  return out;
}

function pageStates(x: Exploration): Set<string> {
  const out = new Set<string>();
  for (const s of x.slices.values()) for (const k of s.pageStates.keys()) out.add(k);
  return out;
}

/** `p` is built on `name`, directly or through its base's base (sw-protected → linux-7.3 → linux-6.18). */
function basedOn(p: Profile, name: string): boolean {
  const seen = new Set<string>();
  for (let b = p.base; b !== undefined && !seen.has(b); b = PROFILES.find((x) => x.name === b)?.base) {
    if (b === name) return true;
    seen.add(b);
  }
  return false;
}

/** Replay a witness on the platform profile built on `a` that has the witness's VM type. */
function reference(w: Witness, a: Profile, b: Profile): Behaviour['reference'] {
  const create = w.steps.find((s) => s.op === 'create_vm') as (Step & { op: 'create_vm' }) | undefined;
  const t = create?.type as VmTypeName | undefined;
  if (!t || a.vmTypes[t] || !w.a[w.at]?.aborted) return undefined;
  const ref = PROFILES.find(
    (p) =>
      basedOn(p, a.name) &&
      p.kind === 'platform' &&
      p.vmTypes[t] &&
      p.vmTypes[t]?.conversion === (a.vmTypes[t]?.conversion ?? p.vmTypes[t]?.conversion) &&
      p !== b,
  );
  if (!ref) return undefined;
  try {
    const r = predictTrace(ref, w.steps);
    const fail = r.findIndex(
      (x, i) => i < w.at && (w.steps[i]?.op === 'create_gmem' || w.steps[i]?.op === 'create_vm') && !('ok' in x.outcome),
    );
    const at = r[fail >= 0 ? fail : w.at];
    if (!at) return undefined;
    return { profile: ref.name, says: `${fail >= 0 ? `step ${fail + 1}: ` : ''}${outcomeWords(at.outcome)} [${at.rule.id}]` };
  } catch {
    return undefined;
  }
}

export interface DiffOptions {
  maxDepth?: number;
}

/** How alike two VM types' rules are: one point per matching trait (conversion, content, populate, host fault, privacy). */
function likeness(x: VmTypeRules, y: VmTypeRules): number {
  return (
    Number(x.conversion === y.conversion) +
    Number(JSON.stringify(x.conversionContent) === JSON.stringify(y.conversionContent)) +
    Number(x.populate === y.populate) +
    Number(x.launch === y.launch) +
    Number(x.privateHostAccess === y.privateHostAccess) +
    Number(x.accessPrivacy === y.accessPrivacy)
  );
}

/**
 * Equivalent VM types across two platforms: each private-memory VM type only the first profile has is paired
 * with the most alike private-memory type only the second has (sev-snp's snp with pkvm's pkvm), once each.
 * Types without private memory are not paired: the default VM stands for them on both sides.
 */
export function vmTypeMapping(a: Profile, b: Profile): VmTypeMap {
  const onlyA = (Object.keys(a.vmTypes) as VmTypeName[]).filter((t) => !b.vmTypes[t] && a.vmTypes[t]?.hasPrivateMem);
  const onlyB = (Object.keys(b.vmTypes) as VmTypeName[]).filter((t) => !a.vmTypes[t] && b.vmTypes[t]?.hasPrivateMem);
  const map: VmTypeMap = {};
  const used = new Set<VmTypeName>();
  for (const ta of onlyA) {
    let best: VmTypeName | undefined;
    let score = -1;
    for (const tb of onlyB) {
      if (used.has(tb)) continue;
      const l = likeness(a.vmTypes[ta] as VmTypeRules, b.vmTypes[tb] as VmTypeRules);
      if (l > score) {
        best = tb;
        score = l;
      }
    }
    if (best) {
      map[ta] = best;
      used.add(best);
    }
  }
  return map;
}

export function conversionSemantics(r: VmTypeRules): ConversionSemantics {
  const c = r.conversionContent;
  return {
    kind: r.conversion,
    content: { toPrivate: c.toPrivate, toShared: c.toShared },
    ...(c.source ? { contentSource: c.source } : {}),
    hostFault: r.privateHostAccess,
  };
}

/** Conversion semantics side by side for every private-memory VM type both profiles run (by name or by equivalence). */
export function conversionRows(a: Profile, b: Profile, map: VmTypeMap): ConversionRow[] {
  const rows: ConversionRow[] = [];
  for (const ta of Object.keys(a.vmTypes) as VmTypeName[]) {
    const tb = map[ta] ?? ta;
    const ra = a.vmTypes[ta];
    const rb = b.vmTypes[tb];
    if (!ra || !rb || !(ra.hasPrivateMem || rb.hasPrivateMem)) continue;
    const sa = conversionSemantics(ra);
    const sb = conversionSemantics(rb);
    const key = (x: ConversionSemantics) => JSON.stringify([x.kind, x.content, x.hostFault]);
    rows.push({ vmTypeA: ta, vmTypeB: tb, a: sa, b: sb, differs: key(sa) !== key(sb) });
  }
  return rows;
}

/** The VM type a witness creates, when the side that cannot run it lacks that type (its only difference). */
function missingType(w: Witness, a: Profile, b: Profile): { vmType: VmTypeName; missingIn: Profile } | undefined {
  const create = w.steps.find((s) => s.op === 'create_vm') as (Step & { op: 'create_vm' }) | undefined;
  const t = create?.type as VmTypeName | undefined;
  if (!t) return undefined;
  const sa = w.a[w.at];
  const sb = w.b[w.at];
  const isCreate = w.steps[w.at]?.op === 'create_vm';
  if (!a.vmTypes[t] && (sa?.aborted || isCreate)) return { vmType: t, missingIn: a };
  const tb = w.vmTypes?.b ?? t;
  if (!b.vmTypes[tb] && (sb?.aborted || isCreate)) return { vmType: tb, missingIn: b };
  return undefined;
}

export function diffProfiles(a: Profile, b: Profile, o: DiffOptions = {}): ProfileDiff {
  const opts = o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {};
  const xa = exploreForDiff(a, a, b, opts);
  const xb = exploreForDiff(b, a, b, opts);
  const vmTypeMap = vmTypeMapping(a, b);
  const ws = searchWitnessesCached(a, b, { ...opts, vmTypeMap });
  const transitions: TransitionRow[] = [];
  const ta = takenEdges(xa);
  const tb = takenEdges(xb);
  for (const m of ['page', 'guestMemfd', 'vm']) {
    const sa = ta.get(m) ?? new Set<string>();
    const sb = tb.get(m) ?? new Set<string>();
    for (const e of [...sb].sort()) if (!sa.has(e)) transitions.push({ machine: m, edge: e, change: 'added' });
    for (const e of [...sa].sort()) if (!sb.has(e)) transitions.push({ machine: m, edge: e, change: 'removed' });
  }
  const rules: RuleRow[] = [];
  const ra = ruleMap(xa);
  const rb = ruleMap(xb);
  for (const [k, r] of rb)
    if (!ra.has(k)) rules.push({ op: r.op, rule: r.rule, outcome: r.outcome, change: 'added', vmTypes: [...r.vmTypes] });
  for (const [k, r] of ra)
    if (!rb.has(k)) rules.push({ op: r.op, rule: r.rule, outcome: r.outcome, change: 'removed', vmTypes: [...r.vmTypes] });
  rules.sort((x, y) => (x.op < y.op ? -1 : x.op > y.op ? 1 : x.change < y.change ? -1 : x.rule < y.rule ? -1 : 1));
  const pa = pageStates(xa);
  const pb = pageStates(xb);
  const invariants: InvariantRow[] = INVARIANTS.map((inv) => {
    const va = xa.violations.get(inv.name);
    const vb = xb.violations.get(inv.name);
    const row: InvariantRow = {
      name: inv.name,
      says: inv.says,
      source: inv.source,
      a: va ? 'breaks' : 'holds',
      b: vb ? 'breaks' : 'holds',
      promisedA: invariantsFor(a).some((i) => i.name === inv.name),
      promisedB: invariantsFor(b).some((i) => i.name === inv.name),
    };
    const v = vb ?? va;
    const x = vb ? xb : xa;
    if (v) {
      row.witness = {
        profile: x.profile.name,
        detail: v.detail,
        trace: {
          format: 'gmem-trace/1',
          profile: x.profile.name,
          name: `violation-${inv.name}`,
          description: `${inv.name} (${inv.says}) breaks under ${x.profile.name}: ${v.detail}`,
          steps: [...pathTo(x, v.before), v.step],
        },
      };
    }
    return row;
  });
  // Declared differences the bounded search cannot reach (choices, measured capabilities) get a probe's witness.
  const declared = choiceWitnesses(a, b).filter((w) => !ws.witnesses.some((x) => x.key === w.key));
  const behaviours: Behaviour[] = [];
  const missing = new Map<string, MissingVmType>();
  for (const w of [...ws.witnesses, ...declared]) {
    const ref = reference(w, a, b);
    const gone = ref ? undefined : missingType(w, a, b);
    if (gone) {
      // "This VM type does not exist there" is one fact, not one difference per operation.
      const k = `${gone.vmType}|${gone.missingIn.name}`;
      const m = missing.get(k) ?? { vmType: gone.vmType, missingIn: gone.missingIn.name, ops: [] };
      if (!m.ops.includes(w.op)) m.ops.push(w.op);
      missing.set(k, m);
      continue;
    }
    const explained = explain({
      subject: b,
      baseline: a,
      steps: stepsOnB(w.steps, w.vmTypes ? vmTypeMap : undefined),
      ...(w.vmTypes ? { baselineSteps: w.steps } : {}),
      at: w.at,
    });
    behaviours.push({
      witness: w,
      trace: witnessTrace(w, a, b),
      ...(w.vmTypes ? { traceB: witnessTrace(w, a, b, 'b') } : {}),
      explained,
      ...(ref ? { reference: ref } : {}),
    });
  }
  return {
    a,
    b,
    bound: {
      maxDepth: xa.maxDepth,
      statesA: xa.states.length,
      statesB: xb.states.length,
      pairs: ws.pairs,
      truncated: xa.truncated || xb.truncated || ws.truncated,
    },
    declarations: declarationDiff(a, b),
    transitions,
    rules,
    pageStates: {
      added: [...pb].filter((k) => !pa.has(k)).sort(),
      removed: [...pa].filter((k) => !pb.has(k)).sort(),
      common: [...pa].filter((k) => pb.has(k)).sort(),
    },
    invariants,
    behaviours,
    vmTypeMap,
    missingVmTypes: [...missing.values()],
    conversions: conversionRows(a, b, vmTypeMap),
  };
}

/** Whether predicting the trace under both profiles gives different outcomes (or one cannot run it). */
export function predictionsDiffer(trace: Trace, a: Profile, b: Profile): boolean {
  const run = (p: Profile) => {
    try {
      return predictTrace(p, trace.steps).map((r) => r.outcome);
    } catch (e) {
      return (e as Error).message;
    }
  };
  const oa = run(a);
  const ob = run(b);
  if (typeof oa === 'string' || typeof ob === 'string') return oa !== ob;
  return oa.length !== ob.length || oa.some((o, i) => !outcomesEqual(o, ob[i] as typeof o));
}

export { primaryVmType, DEFAULT_MAX_DEPTH };
