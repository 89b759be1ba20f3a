/**
 * The `failures` suite: for every operation, one test per failure condition of its check list alone, then one
 * test per pair of conditions that hold at once (asserting which errno wins: the kernel checks in a fixed
 * order), then the success case — after the Arm CCA RMM compliance suite's failure-priority tests.
 *
 * How the tests are found:
 *  1. The check lists are the spec's own (createGmemChecks, mmapChecks, fallocateChecks, memoryRegionChecks,
 *     setMemoryAttributesChecks, setMemoryAttributes2Checks, populateChecks). For each, a small adapter builds
 *     the check context from a state and a step exactly as the rule does, so the generator can ask every
 *     condition whether it holds, not just the first; every evaluation is cross-checked against step(): the
 *     first holding condition must be the rule step() reports (a mismatch stops generation).
 *  2. Candidates: the explored graph's states where the operation is tried (the first few in BFS order, and
 *     for every rule of the operation the state its first edge leaves), each with the operation's events in
 *     that state, then mutations of one or two of them: each field drawn from its equivalence classes (sizes,
 *     offsets, flag bits, modes, slots...), each handle replaced by another handle of the state, and contexts
 *     built by extra steps: the handle closed first, the call made from a forked child (another mm), or a
 *     second VM with its own guest_memfd, or a long-term pin on the file's first page.
 *  3. A condition alone: a candidate where exactly that condition holds; a pair (A before B): a candidate
 *     where exactly A and B hold — the test asserts A's errno. Pairs with the same errno cannot be told apart
 *     by a caller and are counted, not generated. Among candidates, the shortest trace wins.
 *     Failures decided after a check list passes (EAGAIN for a pinned page) get one test each too.
 *  4. Operations whose checks are not a published list (close, munmap, accesses, pins, file operations,
 *     delete_memslot, ...) get one test per failure rule they show (in the graph or among the candidates).
 * Conditions and pairs no candidate reaches are reported (coverage.json) with the reason.
 */
import type { StateGraph } from '../../spec/explore/explorer.ts';
import { pathTo } from '../../spec/explore/explorer.ts';
import { eventsFor } from '../../spec/explore/events.ts';
import { stepKey } from '../../spec/explore/keys.ts';
import type { Invariant } from '../../spec/invariants.ts';
import { OP_FIELDS, OP_NAMES } from '../../spec/opSchema.ts';
import { OPS } from '../../spec/ops/index.ts';
import type { OpName, Outcome, Step } from '../../spec/ops.ts';
import type { FieldName } from '../../spec/ops/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import type { Check } from '../../spec/rules/check.ts';
import { isFailure } from '../../spec/outcome.ts';
import type { SystemState } from '../../spec/state.ts';
import { type StepResult, step } from '../../spec/step.ts';
import { World } from '../../spec/world.ts';
import { flagCombinations } from '../../spec/explore/events.ts';
import { type GenTest, materialiseSteps } from './materialise.ts';
import { outcomePhrase, stepPhrase } from './words.ts';

const PAGE = 4096;
type AnyCheck = Check<unknown>;

interface Adapter {
  checks: () => AnyCheck[];
  ctx: (w: World, st: Step) => unknown;
}

/**
 * Check lists the spec publishes (spec/ops/*.ts `checkList`), with their contexts built by the same builder
 * step() uses, so a condition the generator sees holding is one the rule would see.
 */
export const ADAPTERS: Partial<Record<OpName, Adapter>> = Object.fromEntries(
  OP_NAMES.flatMap((op) => {
    const list = OPS[op].checkList;
    if ('none' in list) return [];
    return [
      [op, { checks: () => [...list.checks()], ctx: (w: World, st: Step) => (list.context as (w: World, s: Step) => unknown)(w, st) }],
    ];
  }),
);

export class AdapterMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterMismatchError';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Candidates and mutations

interface Candidate {
  prefix: Step[];
  step: Step;
  fork: boolean;
  /** The mutation slots used (a field name or a context), and their descriptions. */
  slots: string[];
  tags: string[];
}

interface Mutation {
  slot: string;
  tag: string;
  apply: (c: Candidate) => Candidate;
}

interface Evaluated {
  cand: Candidate;
  base: number;
  /** Graph state the candidate starts from. */
  state: number;
  holding: string[];
  rule: { id: string; says: string };
  outcome: Outcome;
  length: number;
}

const B = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

/** Every field of every operation, as `op.field`. */
type OpField = { [N in OpName]: `${N}.${FieldName<N>}` }[OpName];

/** The huge values a length or an offset without classes of its own is mutated to. */
const HUGE = [B((1n << 63n) - 4096n), B(1n << 63n), B((1n << 64n) - 4096n)];

/**
 * The equivalence classes a field's values are drawn from, per `op.field` (a key that names no field of the op is a
 * compile error); `size` is the bound's file size. A field without classes of its own is mutated to HUGE if it is a
 * length or an offset, and otherwise only by its handle or context mutations (valueClasses).
 */
const VALUE_CLASSES: Partial<Record<OpField, (c: { profile: Profile; size: number }) => unknown[]>> = {
  'create_gmem.size': ({ size }) => [0, 1, PAGE - 1, PAGE, size, size + PAGE, -PAGE, B(1n << 63n)],
  'create_gmem.flags': ({ profile }) => {
    const bits = Array.from({ length: 8 }, (_, i) => 1 << i);
    return [...new Set([0, ...flagCombinations(profile, 'default'), ...bits, B(1n << 63n)])];
  },
  'create_gmem.reserved': () => [[1], [0, 0, 0, 0, 0, 1]],
  'mmap.offset': ({ size }) => [0, 1, PAGE, size, B((1n << 63n) - 4096n)],
  'mmap.length': ({ size }) => [0, 1, PAGE, size, size + PAGE, B(1n << 63n)],
  'mmap.prot': () => ['r', 'rw', 'rwx', 'none'],
  'mmap.shared': () => [true, false],
  'fallocate.mode': () => ['allocate', 'punch_hole', 0, 2, 4, 5, 0x11, 0x40, 0x08, 0x100],
  'fallocate.offset': ({ size }) => [0, 1, PAGE, size, -PAGE, B((1n << 63n) - 4096n)],
  'fallocate.len': ({ size }) => [0, 1, PAGE, size, -PAGE, 0x2000],
  'set_memory_region2.slot': ({ profile }) => [0, 1, 7, profile.choices.userMemSlots - 1, profile.choices.userMemSlots, 0x10000, 0xffff],
  'set_memory_region2.flags': () => [['gmem'], ['gmem', 'log_dirty'], ['gmem', 'readonly'], [], ['log_dirty'], ['readonly'], 0x8, 0x10],
  'set_memory_region2.gpa': () => [0x100000, 0x100001, 0, 0x200000, B(1n << 52n), B((1n << 64n) - 4096n)],
  'set_memory_region2.size': ({ size }) => [0, PAGE, PAGE + 1, size, size + PAGE, B((1n << 64n) - 4096n), B(1n << 44n)],
  'set_memory_region2.gmem_offset': ({ size }) => [0, 1, PAGE, size, B((1n << 64n) - 4096n)],
  'set_memory_region2.uaddr': () => [0, 1, 0x7ffffffff000],
  'set_memory_attributes.address': () => [0x100000, 0x100001, 0, B((1n << 64n) - 4096n)],
  'set_memory_attributes.size': ({ size }) => [0, PAGE, PAGE + 1, size],
  'set_memory_attributes.attributes': () => [0, 8, 1, 16],
  'set_memory_attributes.flags': () => [0, 1],
  'set_memory_attributes2.offset': ({ size }) => [0, 1, PAGE, size],
  'set_memory_attributes2.size': ({ size }) => [0, PAGE, PAGE + 1, size, B((1n << 64n) - 4096n)],
  'set_memory_attributes2.attributes': () => [0, 8, 1],
  'set_memory_attributes2.flags': () => [0, 1],
  'populate.gpa': () => [0x100000, 0x100001, 0, 0x100000 + PAGE],
  'populate.size': () => [0, PAGE, PAGE + 1],
  'populate.source': () => ['buffer', 'in_place'],
  'pin.offset': ({ size }) => [0, 1, PAGE, size, size + PAGE],
  'unpin.offset': ({ size }) => [0, 1, PAGE, size, size + PAGE],
  'pin.len': () => [0, PAGE, 2 * PAGE],
  'unpin.len': () => [0, PAGE, 2 * PAGE],
  'read_mem.offset': ({ size }) => [0, PAGE, size, size + PAGE],
  'write_mem.offset': ({ size }) => [0, PAGE, size, size + PAGE],
  'fill_mem.offset': ({ size }) => [0, PAGE, size],
  'check_mem.offset': ({ size }) => [0, PAGE, size],
  'fill_mem.length': ({ size }) => [PAGE, size + PAGE],
  'check_mem.length': ({ size }) => [PAGE, size + PAGE],
  'madvise.offset': () => [0, 1, PAGE],
  'madvise.length': ({ size }) => [PAGE, size, -PAGE],
  'madvise.advice': () => ['dontneed', 'remove', 'free', 'collapse', 'dontfork', 'normal'],
  'mprotect.prot': () => ['r', 'rw', 'rwx', 'none'],
  'ftruncate.length': ({ size }) => [0, size, size + PAGE],
  'read.len': () => [0, PAGE],
  'write.len': () => [0, PAGE],
  'pread.len': () => [0, PAGE],
  'pwrite.len': () => [0, PAGE],
  'pread.offset': ({ size }) => [0, -1, size],
  'pwrite.offset': ({ size }) => [0, -1, size],
  'delete_memslot.slot': ({ profile }) => [0, 7, profile.choices.userMemSlots, 0x10000],
  'check_extension.cap': () => [234, 235, 244, 233, 10],
  'create_vm.type': () => ['default', 99],
  'guest_access.gpa': () => [0x100000, 0x200000],
  'guest_access.private': () => [true, false],
  'guest_request_conversion.gpa': () => [0x100000, 0x100001],
  'guest_request_conversion.size': () => [0, PAGE],
  'guest_request_conversion.private': () => [true, false],
};

function valueClasses(profile: Profile, op: OpName, field: string, size: number): unknown[] {
  const classes = VALUE_CLASSES[`${op}.${field}` as OpField];
  if (classes) return classes({ profile, size });
  return field === 'offset' || field === 'len' || field === 'size' ? HUGE : [];
}

/** Operations the explorer does not try, built from the handles of a state. */
function templates(s: SystemState): Step[] {
  const out: Step[] = [];
  const names = Object.keys(s.names).sort();
  for (const n of names) {
    const r = s.names[n];
    if (!r) continue;
    if ('fd' in r && s.fds[r.fd]?.open) {
      out.push({ op: 'dup', h: n });
      out.push({ op: 'write', h: n, len: PAGE });
      out.push({ op: 'pwrite', h: n, offset: 0, len: PAGE });
    }
    if ('map' in r && s.maps[r.map]?.live) {
      out.push({ op: 'mprotect', map: n, prot: 'r' });
      out.push({ op: 'fill_mem', map: n, offset: 0, length: PAGE, value: 7 });
      out.push({ op: 'check_mem', map: n, offset: 0, length: PAGE, value: 0 });
    }
  }
  return out;
}

function handleNames(s: SystemState): string[] {
  return Object.keys(s.names)
    .sort()
    .filter((n) => {
      const r = s.names[n];
      return r !== undefined && (('fd' in r && s.fds[r.fd]?.open === true) || ('map' in r && s.maps[r.map]?.live === true));
    });
}

function isHandleField(op: OpName, f: string): boolean {
  const k = OP_FIELDS[op].find((x) => x.name === f)?.type.kind;
  return k === 'handle' || k === 'kvm-or-handle';
}

function mutations(profile: Profile, s: SystemState, base: Step, size: number): Mutation[] {
  const out: Mutation[] = [];
  const rec = base as unknown as Record<string, unknown>;
  const op = base.op;
  const handles = handleNames(s);
  const vmType = s.vms[0]?.type ?? 'default';
  const gmemFlags = flagCombinations(profile, vmType).at(-1) ?? 0;
  for (const f of OP_FIELDS[op]) {
    if (f.type.kind === 'steps') continue;
    if (isHandleField(op, f.name)) {
      const cur = rec[f.name];
      // Handles are replaced by handles of the same kind (an fd by an fd, a mapping by a mapping): a trace
      // cannot pass a mapping where a C program passes an fd.
      const isMap = (n: unknown) => typeof n === 'string' && s.names[n] !== undefined && 'map' in (s.names[n] as object);
      for (const h of handles)
        if (h !== cur && isMap(h) === isMap(cur))
          out.push({ slot: f.name, tag: `${f.name}=${h}`, apply: (c) => ({ ...c, step: { ...c.step, [f.name]: h } as Step }) });
      if (typeof cur === 'string' && cur !== 'kvm') {
        const r = s.names[cur];
        const close: Step = r && 'map' in r ? { op: 'munmap', map: cur } : { op: 'close', h: cur };
        out.push({ slot: `ctx:close:${f.name}`, tag: `${close.op} ${cur} first`, apply: (c) => ({ ...c, prefix: [...c.prefix, close] }) });
        // A second VM with its own guest_memfd, named in place of this handle.
        const kind = r && 'fd' in r ? s.fds[r.fd]?.kind : undefined;
        // A long-term pin on the file's first page first (through a live mapping of it): elevated references.
        const gid = r && 'fd' in r && kind === 'gmem' ? s.fds[r.fd]?.id : undefined;
        const via =
          gid === undefined
            ? undefined
            : handles.find((h) => {
                const x = s.names[h];
                return x !== undefined && 'map' in x && s.maps[x.map]?.gmem === gid && s.maps[x.map]?.start === 0;
              });
        if (via) {
          const pinFirst: Step = { op: 'pin', map: via, offset: 0, len: PAGE };
          out.push({
            slot: `ctx:pin:${f.name}`,
            tag: `page 0 pinned through ${via} first`,
            apply: (c) => ({ ...c, prefix: [...c.prefix, pinFirst] }),
          });
        }
        if (kind === 'gmem' || kind === 'vm') {
          const second: Step[] = [
            { op: 'create_vm', type: vmType, as: 'vmX' },
            { op: 'create_gmem', vm: 'vmX', size, flags: gmemFlags, as: 'gX' },
          ];
          const other = kind === 'gmem' ? 'gX' : 'vmX';
          out.push({
            slot: `ctx:other:${f.name}`,
            tag: `${f.name} of a second VM`,
            apply: (c) => ({ ...c, prefix: [...c.prefix, ...second], step: { ...c.step, [f.name]: other } as Step }),
          });
        }
      }
      continue;
    }
    for (const v of valueClasses(profile, op, f.name, size)) {
      const next = { ...rec, [f.name]: v } as unknown as Step;
      if (stepKey(next) === stepKey(base)) continue;
      out.push({
        slot: f.name,
        tag: `${f.name}=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`,
        apply: (c) => ({ ...c, step: { ...c.step, [f.name]: v } as Step }),
      });
    }
    if (f.optional && rec[f.name] !== undefined) {
      out.push({
        slot: f.name,
        tag: `no ${f.name}`,
        apply: (c) => {
          const st = { ...c.step } as Record<string, unknown>;
          delete st[f.name];
          return { ...c, step: st as unknown as Step };
        },
      });
    }
  }
  out.push({ slot: 'ctx:fork', tag: 'from a forked child', apply: (c) => ({ ...c, fork: true }) });
  return out;
}

function applyAll(base: Step, ms: readonly Mutation[]): Candidate {
  let c: Candidate = { prefix: [], step: base, fork: false, slots: [], tags: [] };
  for (const m of ms) c = { ...m.apply(c), slots: [...c.slots, m.slot], tags: [...c.tags, m.tag] };
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

interface Evaluator {
  evaluate(state: number, base: number, cand: Candidate): Evaluated | undefined;
}

function evaluator(profile: Profile, g: StateGraph): Evaluator {
  // Check lists are pure data plus predicates: build each once.
  const lists = new Map<OpName, { checks: AnyCheck[]; ids: Set<string> }>();
  const listOf = (op: OpName, a: Adapter) => {
    let l = lists.get(op);
    if (!l) {
      const checks = a.checks();
      l = { checks, ids: new Set(checks.map((c) => c.id)) };
      lists.set(op, l);
    }
    return l;
  };
  return {
    evaluate(state, base, cand) {
      let s = g.states[state] as SystemState;
      try {
        for (const st of cand.prefix) s = step(profile, s, st).state;
        let r: StepResult;
        let ctxState = s;
        if (cand.fork) {
          const f = step(profile, s, { op: 'fork', steps: [cand.step] });
          r = f.nested?.[0] as StepResult;
          ctxState = { ...s, proc: s.proc + 1 };
        } else {
          r = step(profile, s, cand.step);
        }
        const adapter = ADAPTERS[cand.step.op];
        let holding: string[];
        if (adapter) {
          const w = new World(profile, ctxState);
          const ctx = adapter.ctx(w, cand.step);
          const { checks, ids } = listOf(cand.step.op, adapter);
          holding = checks
            .filter((c) => {
              try {
                return c.fails(ctx);
              } catch {
                return false;
              }
            })
            .map((c) => c.id);
          if ((holding[0] ?? null) !== (ids.has(r.rule.id) ? r.rule.id : null)) {
            throw new AdapterMismatchError(
              `failures: the ${cand.step.op} adapter says ${holding[0] ?? 'no check'} holds first, step() decided ${r.rule.id} (${stepPhrase(profile, cand.step)})`,
            );
          }
        } else {
          holding = isFailure(r.outcome) ? [r.rule.id] : [];
        }
        const depth = g.depth[state] as number;
        return { cand, base, state, holding, rule: r.rule, outcome: r.outcome, length: depth + cand.prefix.length + 1 };
      } catch (e) {
        if (e instanceof AdapterMismatchError) throw e;
        return undefined;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The search

export interface ConditionReport {
  op: string;
  check: string;
  errno: string;
  found: boolean;
  why?: string;
}

export interface PairReport {
  op: string;
  first: string;
  second: string;
  status: 'generated' | 'same-errno' | 'not-found';
}

export interface FailuresResult {
  tests: GenTest[];
  conditions: ConditionReport[];
  pairs: PairReport[];
  /** Operations and whether a success case was found. */
  success: Array<{ op: string; found: boolean }>;
  candidates: number;
}

export interface FailuresOptions {
  /** Graph states tried per operation, besides the first state of each of its rules (default 10). */
  statesPerOp?: number;
  /** Operations to leave out (ops the profile's backends cannot run). */
  skipOps?: ReadonlySet<string>;
  /** Failure rules no test is generated for, with the reason (reported as conditions not generated). */
  skipRules?: ReadonlyMap<string, string>;
}

/**
 * Rules a kernel cannot be asked about: the vocabulary's unpin of a range nothing pinned has no system call
 * behind it (the linux backend unregisters only buffers it registered), so on a profile a kernel implements it
 * gets no test.
 */
export const NOT_ON_A_KERNEL: ReadonlyMap<string, string> = new Map([
  ['unpin.not-pinned', 'no kernel call behind it: the linux backend unpins only what it pinned'],
]);

function better(a: Evaluated, b: Evaluated | undefined): boolean {
  if (!b) return true;
  if (a.length !== b.length) return a.length < b.length;
  if (a.holding.length !== b.holding.length) return a.holding.length < b.holding.length;
  return a.cand.tags.length < b.cand.tags.length;
}

const slug = (id: string) => id.replace(/^[a-z_0-9]+\./, '').replace(/[^A-Za-z0-9-]+/g, '-');

export function failuresSuite(
  profile: Profile,
  g: StateGraph,
  invariants: readonly Invariant[],
  options: FailuresOptions = {},
): FailuresResult {
  const statesPerOp = options.statesPerOp ?? 10;
  const size = g.bound.pages * PAGE;
  const ev = evaluator(profile, g);
  let candidates = 0;

  // Events per state and op, in BFS order.
  const opsOrder: OpName[] = [];
  const statesByOp = new Map<OpName, number[]>();
  const firstEdgeOfRule = new Map<string, number>();
  for (let e = 0; e < g.edgeCount; e++) {
    const id = (g.rules[g.edgeRule[e] as number] as { id: string }).id;
    const prev = firstEdgeOfRule.get(id);
    if (prev === undefined || (g.depth[g.edgeFrom[e] as number] as number) < (g.depth[g.edgeFrom[prev] as number] as number))
      firstEdgeOfRule.set(id, e);
  }
  const baseEvents = (s: SystemState): Step[] => [...eventsFor(profile, g.bound, s), ...templates(s)];
  for (let s = 0; s < g.states.length; s++) {
    const ops = new Set(baseEvents(g.states[s] as SystemState).map((x) => x.op));
    for (const op of ops) {
      if (options.skipOps?.has(op)) continue;
      let list = statesByOp.get(op);
      if (!list) {
        list = [];
        statesByOp.set(op, list);
        opsOrder.push(op);
      }
      if (list.length < statesPerOp) list.push(s);
    }
  }
  for (const [id, e] of [...firstEdgeOfRule].sort((a, b) => a[1] - b[1])) {
    const op = (g.steps[g.edgeStep[e] as number] as Step).op;
    const list = statesByOp.get(op);
    const s = g.edgeFrom[e] as number;
    if (list && !list.includes(s)) list.push(s);
    void id;
  }

  const tests: GenTest[] = [];
  const conditions: ConditionReport[] = [];
  const pairs: PairReport[] = [];
  const success: FailuresResult['success'] = [];

  for (const op of opsOrder.sort()) {
    const states = statesByOp.get(op) ?? [];
    const adapter = ADAPTERS[op];
    const checks = adapter ? adapter.checks() : [];
    const evals: Evaluated[] = [];
    const bases: Array<{ state: number; step: Step; muts: Mutation[] }> = [];
    for (const s of states) {
      const st = g.states[s] as SystemState;
      const seen = new Set<string>();
      for (const x of baseEvents(st)) {
        if (x.op !== op) continue;
        const clean = { ...x } as Step;
        delete clean.as;
        const k = stepKey(clean);
        if (seen.has(k)) continue;
        seen.add(k);
        bases.push({ state: s, step: clean, muts: mutations(profile, st, clean, size) });
      }
    }
    bases.forEach((b, bi) => {
      const plain = ev.evaluate(b.state, bi, applyAll(b.step, []));
      candidates++;
      if (plain) evals.push(plain);
      for (const m of b.muts) {
        const x = ev.evaluate(b.state, bi, applyAll(b.step, [m]));
        candidates++;
        if (x) evals.push(x);
      }
    });

    const emit = (x: Evaluated, kind: 'single' | 'pair' | 'success' | 'outcome', name: string, title: string) => {
      const s = x.state;
      const prefix = pathTo(g, s);
      const last: Step = x.cand.fork ? { op: 'fork', steps: [x.cand.step] } : x.cand.step;
      const steps = [...prefix, ...x.cand.prefix, last];
      const t = materialiseSteps(profile, steps, invariants, {
        suite: 'failures',
        file: `traces/failures/${op}/${name}.json`,
        name: `failures-${op}-${name}`,
        title,
        description: `${title}. Reached by the shortest path to the state, then ${x.cand.tags.length ? x.cand.tags.join(', ') : 'the operation as the explorer tries it'}.`,
        groups: [],
        failure: { op, kind, holding: x.holding },
      });
      t.groups = [{ from: 0, to: steps.length, title }];
      tests.push(t);
    };

    let n = 0;
    const num = () => String(++n).padStart(2, '0');
    if (adapter) {
      // Each condition alone.
      for (const c of checks) {
        let best: Evaluated | undefined;
        let near: Evaluated | undefined;
        for (const x of evals) {
          if (x.holding.length === 1 && x.holding[0] === c.id) {
            if (better(x, best)) best = x;
          } else if (x.holding[0] === c.id && better(x, near)) near = x;
        }
        const pick = best ?? near;
        if (pick) {
          const also = pick.holding.slice(1);
          emit(
            pick,
            'single',
            `${num()}-${slug(c.id)}`,
            `${c.says} [${c.id}]${also.length ? ` (alone it never holds here: ${also.join(', ')} hold too)` : ''}`,
          );
        }
        conditions.push({
          op,
          check: c.id,
          errno: c.errno,
          found: Boolean(pick),
          ...(pick
            ? {}
            : {
                why: evals.some((x) => x.holding.includes(c.id))
                  ? 'holds only behind an earlier check'
                  : 'no candidate makes it hold in this profile',
              }),
        });
      }
      // Pairs.
      for (let i = 0; i < checks.length; i++) {
        for (let j = i + 1; j < checks.length; j++) {
          const a = checks[i] as AnyCheck;
          const b = checks[j] as AnyCheck;
          const wantExact = (x: Evaluated) => x.holding.length === 2 && x.holding[0] === a.id && x.holding[1] === b.id;
          const wantAny = (x: Evaluated) => x.holding[0] === a.id && x.holding.includes(b.id);
          let best: Evaluated | undefined;
          let near: Evaluated | undefined;
          const consider = (x: Evaluated) => {
            if (wantExact(x)) {
              if (better(x, best)) best = x;
            } else if (wantAny(x) && better(x, near)) near = x;
          };
          for (const x of evals) consider(x);
          if (!best) {
            // Combine a mutation under which A holds with one under which B holds, on the same base.
            const byBase = new Map<number, { A: Evaluated[]; B: Evaluated[] }>();
            for (const x of evals) {
              if (x.cand.tags.length > 1) continue;
              const e = byBase.get(x.base) ?? { A: [], B: [] };
              if (x.holding.includes(a.id)) e.A.push(x);
              if (x.holding.includes(b.id)) e.B.push(x);
              byBase.set(x.base, e);
            }
            for (const [bi, { A, B: Bs }] of byBase) {
              const base = bases[bi];
              if (!base || !A.length || !Bs.length) continue;
              const byTag = (x: Evaluated) => base.muts.find((m) => m.tag === x.cand.tags[0]);
              for (const xa of A.slice(0, 4)) {
                for (const xb of Bs.slice(0, 4)) {
                  const ma = byTag(xa);
                  const mb = byTag(xb);
                  if (!ma || !mb || ma.slot === mb.slot) continue;
                  const x = ev.evaluate(base.state, bi, applyAll(base.step, [ma, mb]));
                  candidates++;
                  if (x) consider(x);
                }
              }
              if (best) break;
            }
          }
          const pick = best ?? near;
          if (!pick) {
            pairs.push({ op, first: a.id, second: b.id, status: 'not-found' });
            continue;
          }
          if (a.errno === b.errno) {
            pairs.push({ op, first: a.id, second: b.id, status: 'same-errno' });
            continue;
          }
          pairs.push({ op, first: a.id, second: b.id, status: 'generated' });
          emit(
            pick,
            'pair',
            `${num()}-${slug(a.id)}-before-${slug(b.id)}`,
            `when ${a.id} and ${b.id} both hold, ${a.errno} wins over ${b.errno}: ${a.id} is checked first [${pick.holding.join(', ')}]`,
          );
        }
      }
    } else {
      // No published list: one test per failure rule the operation shows.
      const byRule = new Map<string, Evaluated>();
      for (const x of evals) if (isFailure(x.outcome) && better(x, byRule.get(x.rule.id))) byRule.set(x.rule.id, x);
      for (const [id, e] of firstEdgeOfRule) {
        const st = g.steps[g.edgeStep[e] as number] as Step;
        if (st.op !== op || !isFailure(g.outcomes[g.edgeOutcome[e] as number] as Outcome) || byRule.has(id)) continue;
        const s = g.edgeFrom[e] as number;
        const x = ev.evaluate(s, -1, applyAll(st, []));
        if (x) byRule.set(id, x);
      }
      for (const [id, x] of [...byRule].sort((p, q) => (p[0] < q[0] ? -1 : 1))) {
        const skip = options.skipRules?.get(id);
        if (skip) {
          conditions.push({ op, check: id, errno: outcomePhrase(x.outcome), found: false, why: skip });
          continue;
        }
        emit(x, 'outcome', `${num()}-${slug(id)}`, `${x.rule.says} [${id}]`);
        conditions.push({ op, check: id, errno: outcomePhrase(x.outcome), found: true });
      }
    }
    // Failures a check list does not decide (after its checks pass), e.g. EAGAIN for a pinned page.
    if (adapter) {
      const ids = new Set(checks.map((c) => c.id));
      const byRule = new Map<string, Evaluated>();
      for (const x of evals) if (isFailure(x.outcome) && !ids.has(x.rule.id) && better(x, byRule.get(x.rule.id))) byRule.set(x.rule.id, x);
      for (const [id, x] of [...byRule].sort((p, q) => (p[0] < q[0] ? -1 : 1))) {
        emit(x, 'outcome', `${num()}-${slug(id)}`, `${x.rule.says} [${id}]`);
        conditions.push({ op, check: id, errno: outcomePhrase(x.outcome), found: true });
      }
    }
    // Success.
    let ok: Evaluated | undefined;
    for (const x of evals) if (!isFailure(x.outcome) && !x.cand.fork && better(x, ok)) ok = x;
    if (ok) emit(ok, 'success', `${num()}-succeeds`, `${stepPhrase(profile, ok.cand.step)} ${outcomePhrase(ok.outcome)} [${ok.rule.id}]`);
    success.push({ op, found: Boolean(ok) });
  }
  return { tests, conditions, pairs, success, candidates };
}
