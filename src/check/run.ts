/**
 * `gmem-spec check`, minus argument parsing: compose the profile, refuse a bound too large, run the exhaustive
 * search (or random walks), print the report, write the counterexamples, and decide the exit status:
 * 0 every checked invariant holds in every reachable state (or in every random walk), 1 a violation (with its
 * shortest counterexample), 2 bad input, a refused bound, or a search that stopped before the end (Ctrl-C, a
 * limit) without finding a violation.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../cli/command.ts';
import { writeFileAtomic } from '../files.ts';
import { type Bound, formatBound } from '../../spec/explore/bound.ts';
import { flagCombinations } from '../../spec/explore/events.ts';
import { symmetryApplies } from '../../spec/explore/symmetry.ts';
import type { FlagProblem } from '../../spec/flagValidation.ts';
import { INVARIANTS, type Invariant, invariantsFor } from '../../spec/invariants.ts';
import { formatOutcome } from '../../spec/outcome.ts';
import type { FlagDef, Profile } from '../../spec/profile.ts';
import type { VmTypeName } from '../../spec/constants.ts';
import { describeStep } from '../cli/commands/predict.ts';
import { comboBehaviour, flagAcceptance } from './acceptance.ts';
import { type TraceContext, deadlockTrace, flagNames, traceFileName, violationTrace } from './counterexample.ts';
import { deadRules } from './deadRules.ts';
import { type CheckResult, type FoundViolation, type PathStep, startCheck } from './engine.ts';
import { estimate, formatBytes, formatCount, formatDuration, memoryBudget } from './estimate.ts';
import { CHUNK, randomCheck } from './random.ts';

export interface RunOptions {
  profile: Profile;
  /** Flags added to the base profile (as declared), with where each came from. */
  added: Array<{ def: FlagDef; source: string }>;
  notes: string[];
  warnings: FlagProblem[];
  bound: Bound;
  /** Invariant names asked for; default: all invariants. */
  invariants?: string[];
  /** Only the invariants the profile promises. */
  promisedOnly?: boolean;
  /** Worker threads, or `auto`: one for a check estimated under 10 s, else one per core. */
  workers: number | 'auto';
  out?: string;
  random?: { runs: number; seed: number; depth: number };
  reportStates?: boolean;
  deadRules?: boolean;
  maxStates?: number;
  maxMillis?: number;
  maxMemory?: number;
  force?: boolean;
  /** Stop once every checked invariant has its (shortest) counterexample. */
  firstViolation?: boolean;
  /** Symmetry reduction over interchangeable pages, where the profile allows it. */
  symmetry?: boolean;
  json?: boolean;
  /** The command line, for the "reproduce" notes. */
  command: string;
  /** Install the Ctrl-C handler (the CLI does; tests may not). */
  handleSigint?: boolean;
  /** Told the path of each counterexample trace once it is written (the CLI explains them after the report). */
  onCounterexample?: (file: string) => void;
}

function n(x: number): string {
  return x.toLocaleString('en-US');
}

function pathLines(profile: Profile, path: readonly PathStep[], last: string): string[] {
  return path.map((p, i) => {
    const mark = i === path.length - 1 ? `   ← ${last}` : '';
    const flags = p.step.op === 'create_gmem' ? ` [${flagNames(profile, p.step.flags)}]` : '';
    return `      ${String(i + 1).padStart(2)}. ${describeStep(p.step)}${flags} → ${formatOutcome(p.outcome)}${mark}`;
  });
}

/** `create_gmem: vm-fd-closed, not-vm-fd; mmap: length-zero` */
function byOp(ids: readonly string[]): string {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const [op = id, ...rest] = id.split('.');
    groups.set(op, [...(groups.get(op) ?? []), rest.join('.')]);
  }
  return [...groups].map(([op, cs]) => `${op}: ${cs.join(', ')}`).join('; ');
}

function checkedInvariants(o: RunOptions): Invariant[] {
  if (o.invariants?.length) return invariantsFor(o.profile, o.invariants);
  if (o.promisedOnly) return invariantsFor(o.profile);
  return [...INVARIANTS];
}

function claimedBy(o: RunOptions, name: string): string[] {
  return o.profile.flags.filter((f) => (f.keeps ?? []).includes(name) || (f.adds ?? []).includes(name)).map((f) => f.name);
}

function promised(o: RunOptions, name: string): boolean {
  return !o.profile.promises || o.profile.promises.includes(name);
}

export async function runCheckCommand(o: RunOptions, io: Io): Promise<number> {
  const invariants = checkedInvariants(o);
  const names = invariants.map((i) => i.name);
  const ctx: TraceContext = { profile: o.profile, added: o.added.map((a) => a.def), bound: o.bound, command: o.command };
  const out = o.out ?? join('out', 'check', o.profile.name);
  const say = (s: string) => {
    if (!o.json) io.out(s);
  };

  say(`profile   ${o.profile.name}: ${o.profile.title}`);
  for (const a of o.added) {
    const model = o.profile.flags.find((f) => f.name === a.def.name);
    say(
      `flag      ${a.def.name} (bit ${a.def.bit}${model && model.bit !== a.def.bit ? `, modelled at bit ${model.bit}` : ''}; ${a.source}): ${a.def.summary}`,
    );
  }
  for (const note of o.notes) say(`note      ${note}`);
  for (const w of o.warnings) say(`warning   ${w.where}: ${w.message}`);
  say(`bound     ${formatBound(o.bound)}`);
  say(`checking  ${names.length} invariant(s): ${names.join(', ')}`);

  // Which VM types accept the added flags (or, with none added, every flag of the profile).
  const acceptanceFlags = o.added.length ? o.added.map((a) => a.def) : o.profile.flags;
  const acceptance = flagAcceptance(o.profile, acceptanceFlags);
  say('flag acceptance (KVM_CREATE_GUEST_MEMFD with the flag and the flags it requires):');
  for (const f of acceptanceFlags) {
    const rows = acceptance.filter((r) => r.flag === f.name);
    say(`  ${f.name.padEnd(22)} ${rows.map((r) => `${r.vmType} ${'ok' in r.outcome ? 'ok' : `${formatOutcome(r.outcome)}`}`).join(', ')}`);
  }

  if (o.random) return runRandom(o, io, invariants, ctx, out);

  const est = estimate(o.profile, o.bound, o.workers === 'auto' ? availableParallelism() : o.workers);
  const budget = o.maxMemory ?? memoryBudget();
  if (!o.force && est.bytes > budget && o.maxStates === undefined) {
    io.err(
      `gmem-spec check: bound ${formatBound(o.bound)} is too large for an exhaustive search of ${o.profile.name}: estimated ~${formatCount(est.states)} states (${est.basis}), ~${formatBytes(est.bytes)} of memory (this machine allows ${formatBytes(budget)}), ~${formatDuration(est.seconds)}.`,
    );
    io.err('  use a smaller bound, --random N --seed S for random walks at this bound, --max-states N to explore a prefix, or --force');
    return 2;
  }
  say(
    `estimate  ~${formatCount(est.states)} states, ~${formatBytes(est.bytes)}, ~${formatDuration(est.seconds)} (${est.basis}${o.symmetry && symmetryApplies(o.profile) ? '; without symmetry: the orbits are fewer' : ''})`,
  );
  const workers = o.workers === 'auto' ? (est.seconds < 10 ? 1 : Math.max(1, availableParallelism())) : o.workers;
  say(`workers   ${workers}${o.workers === 'auto' ? ' (auto)' : ''}`);
  if (o.symmetry)
    say(
      symmetryApplies(o.profile)
        ? 'symmetry  on: one canonical state per orbit of interchangeable pages (states below count orbits)'
        : `symmetry  off: ${o.profile.name} has private memory, where page positions matter (spec/explore/symmetry.ts)`,
    );

  let lastProgress = 0;
  const running = startCheck({
    profile: o.profile,
    bound: o.bound,
    invariants: names,
    workers,
    coverage: o.deadRules !== false || o.reportStates === true,
    ...(o.firstViolation ? { stopWhenAllViolated: true } : {}),
    ...(o.symmetry ? { symmetry: true } : {}),
    ...(o.maxStates !== undefined ? { maxStates: o.maxStates } : {}),
    ...(o.maxMillis !== undefined ? { maxMillis: o.maxMillis } : {}),
    maxMemory: budget,
    onProgress: (p) => {
      if (o.json || p.millis < lastProgress + 2000) return;
      lastProgress = p.millis;
      io.err(`  … depth ${p.depth}, ${n(p.states)} states, ${n(p.edges)} edges, ${(p.millis / 1000).toFixed(1)} s`);
    },
  });
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    io.err('interrupted: stopping, then printing what was explored (Ctrl-C again to quit at once)');
    running.stop('interrupted (Ctrl-C)');
  };
  if (o.handleSigint) process.on('SIGINT', onSigint);
  let r: CheckResult;
  try {
    r = await running.done;
  } catch (e) {
    io.err(`gmem-spec check: the search failed: ${(e as Error).message}`);
    return 2;
  } finally {
    if (o.handleSigint) process.off('SIGINT', onSigint);
  }
  return report(o, io, r, ctx, out);
}

function report(o: RunOptions, io: Io, r: CheckResult, ctx: TraceContext, out: string): number {
  const say = (s: string) => {
    if (!o.json) io.out(s);
  };
  const secs = r.millis / 1000;
  say('');
  say(
    `explored  ${n(r.states)} states, ${n(r.edges)} edges (${n(r.selfLoops)} self-loops), depth ${r.depth}, ${r.complete ? 'complete' : `INCOMPLETE: ${r.stoppedBecause ?? 'stopped'}`}`,
  );
  say(
    `time      ${secs.toFixed(1)} s (${n(Math.round(r.states / Math.max(secs, 1e-3)))} states/s, ${n(Math.round(r.edges / Math.max(secs, 1e-3)))} edges/s), ${r.workers} worker(s), peak RSS ${formatBytes(r.peakRss)}`,
  );
  say(`fingerprints: probability of a collision ≤ ${r.collisionProbability.toExponential(1)}`);
  const c = r.cache;
  const lookups = c.hits + c.misses;
  say(
    `step cache: ${lookups ? ((100 * c.hits) / lookups).toFixed(1) : '0.0'}% of ${n(lookups)} lookups answered without step(); ${n(c.misses)} steps run and filed, ${n(c.direct)} run directly`,
  );

  const written: Record<string, string> = {};
  const byName = new Map(r.violations.map((v) => [v.invariant, v]));
  say('invariants:');
  for (const name of r.invariants) {
    const inv = INVARIANTS.find((i) => i.name === name);
    const v = byName.get(name);
    const claims = claimedBy(o, name);
    const tags = [claims.length ? `claimed by ${claims.join(', ')}` : '', promised(o, name) ? '' : `not promised by ${o.profile.name}`]
      .filter(Boolean)
      .join('; ');
    if (!v) {
      say(`  ${r.complete ? 'holds   ' : 'no viol.'}  ${name} — ${inv?.says ?? ''}${tags ? `  [${tags}]` : ''}`);
      continue;
    }
    const file = join(out, traceFileName(name));
    writeFileAtomic(file, violationTrace(ctx, v));
    written[name] = file;
    o.onCounterexample?.(file);
    say(`  VIOLATED  ${name} — ${v.says}${tags ? `  [${tags}]` : ''}`);
    say(`    shortest counterexample, ${v.path.length} steps: ${file}`);
    for (const l of pathLines(o.profile, v.path, v.detail)) say(l);
  }

  if (r.deadlock) {
    const file = join(out, 'deadlock.json');
    writeFileAtomic(file, deadlockTrace(ctx, r.deadlock.path));
    written.deadlock = file;
    say(
      `deadlocks: ${n(r.deadlocks)} state(s) hold open fds or mappings yet no explored operation changes them; shortest (${r.deadlock.path.length} steps): ${file}`,
    );
    for (const l of pathLines(o.profile, r.deadlock.path, 'stuck here')) say(l);
  } else say('deadlocks: none (every state that still holds an fd or a mapping has a move)');
  if (r.orphanPins)
    say(
      `  note: ${n(r.orphanPins)} end state(s) keep a pin whose mapping is gone; unpin names a mapping, so the vocabulary cannot drop it (a modelling gap, not counted as a deadlock)`,
    );

  let dead;
  if (r.coverage && o.deadRules !== false) {
    dead = deadRules(r.coverage);
    say('dead rules (defined, never reached within the bound):');
    say(
      `  machine states          ${dead.statesTotal - dead.statesUnreached.length}/${dead.statesTotal} reached${dead.statesUnreached.length ? `; never: ${dead.statesUnreached.join(', ')}` : ''}`,
    );
    say(
      `  machine transitions     ${dead.transitionsTotal - dead.transitionsUnreached.length}/${dead.transitionsTotal} taken${dead.transitionsUnreached.length ? '; never:' : ''}`,
    );
    for (const t of dead.transitionsUnreached)
      say(
        `      ${t.machine} ${t.region}: ${t.from} → ${t.to} on ${t.events.join('|')}${t.guards.length ? ` [guard ${t.guards.join(', ')}]` : ''}`,
      );
    say(
      `  check-list conditions   ${dead.checksTotal - dead.checksNeverDecided.length}/${dead.checksTotal} decided some edge${dead.checksNeverDecided.length ? '; never:' : ''}`,
    );
    if (dead.checksNeverDecided.length) say(`      ${byOp(dead.checksNeverDecided.map((c) => c.id))}`);
    say(`  operations never successful here: ${dead.opsNeverSucceeded.join(', ') || 'none'}`);
    say(`  operations outside the explorer's event set: ${dead.opsNotExplored.join(', ') || 'none'}`);
  }

  if (o.reportStates && r.coverage) printPageStates(o, io, r, say);

  const failed = r.violations.length > 0;
  const status = failed ? 1 : r.complete ? 0 : 2;
  say('');
  say(
    failed
      ? `result    VIOLATION: ${r.violations.map((v) => v.invariant).join(', ')}`
      : r.complete
        ? `result    PASS: ${r.invariants.length} invariant(s) hold in all ${n(r.states)} reachable states`
        : `result    INCOMPLETE: no violation in the ${n(r.states)} states explored (${r.stoppedBecause ?? 'stopped'})`,
  );
  if (o.json) io.out(JSON.stringify(summaryJson(o, r, written, dead), null, 2));
  return status;
}

function printPageStates(o: RunOptions, io: Io, r: CheckResult, say: (s: string) => void): void {
  void io;
  const by = r.coverage?.pageStates ?? {};
  say('reachable page states by VM type and flags (every page of every guest_memfd created so):');
  for (const vmType of Object.keys(o.profile.vmTypes) as VmTypeName[]) {
    for (const flags of flagCombinations(o.profile, vmType)) {
      const b = comboBehaviour(o.profile, vmType, flags);
      const states = by[`${vmType} ${flags}`] ?? [];
      say(
        `  ${vmType} ${flagNames(o.profile, flags)}: mmap ${b.mmap}; first host access ${b.firstAccess}; ${states.length} page state(s):`,
      );
      for (const s of states) say(`      ${s}`);
    }
  }
}

function summaryJson(
  o: RunOptions,
  r: CheckResult,
  written: Record<string, string>,
  dead: ReturnType<typeof deadRules> | undefined,
): Record<string, unknown> {
  return {
    profile: o.profile.name,
    bound: formatBound(o.bound),
    states: r.states,
    edges: r.edges,
    selfLoops: r.selfLoops,
    depth: r.depth,
    complete: r.complete,
    ...(r.stoppedBecause ? { stoppedBecause: r.stoppedBecause } : {}),
    millis: Math.round(r.millis),
    workers: r.workers,
    invariants: r.invariants,
    violations: r.violations.map((v) => ({
      invariant: v.invariant,
      kind: v.kind,
      detail: v.detail,
      length: v.path.length,
      file: written[v.invariant],
    })),
    deadlocks: r.deadlocks,
    orphanPins: r.orphanPins,
    ...(written.deadlock ? { deadlockFile: written.deadlock } : {}),
    ...(dead ? { deadRules: dead } : {}),
    ...(r.coverage && o.reportStates ? { pageStates: r.coverage.pageStates } : {}),
  };
}

async function runRandom(o: RunOptions, io: Io, invariants: Invariant[], ctx: TraceContext, out: string): Promise<number> {
  const say = (s: string) => {
    if (!o.json) io.out(s);
  };
  const rnd = o.random as NonNullable<RunOptions['random']>;
  say(`random    ${n(rnd.runs)} walks of up to ${rnd.depth} steps, seed ${rnd.seed}`);
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    io.err('interrupted: stopping after the current chunk of walks');
    stop = true;
  };
  if (o.handleSigint) process.on('SIGINT', onSigint);
  let res;
  try {
    res = await randomCheck({
      profile: o.profile,
      bound: o.bound,
      invariants,
      runs: rnd.runs,
      seed: rnd.seed,
      maxLength: rnd.depth,
      shouldStop: () => stop,
      onChunk: (done) => {
        if (!o.json) io.err(`  … ${n(done)} walks`);
      },
    });
  } finally {
    if (o.handleSigint) process.off('SIGINT', onSigint);
  }
  say('');
  say(
    `walked    ${n(res.runs)} walks, ${n(res.steps)} steps in ${(res.millis / 1000).toFixed(1)} s${res.interrupted ? ' (INTERRUPTED)' : ''}`,
  );
  let file: string | undefined;
  if (res.violation) {
    const v: FoundViolation = res.violation;
    file = join(out, `random-${traceFileName(v.invariant)}`);
    const again = `--random ${CHUNK} --seed ${res.failingSeed}`;
    writeFileAtomic(
      file,
      violationTrace(
        { ...ctx, command: `${o.command.replace(/--seed \S+/, '').replace(/--random \S+/, '')} ${again}`.replace(/\s+/g, ' ').trim() },
        v,
      ),
    );
    o.onCounterexample?.(file);
    say(`  VIOLATED  ${v.invariant} — ${v.says}`);
    say(`    shrunk counterexample, ${v.path.length} steps (reproduce: ${again}): ${file}`);
    for (const l of pathLines(o.profile, v.path, v.detail)) say(l);
  }
  const status = res.violation ? 1 : res.interrupted ? 2 : 0;
  say('');
  say(
    res.violation
      ? `result    VIOLATION: ${res.violation.invariant}`
      : res.interrupted
        ? `result    INCOMPLETE: no violation in ${n(res.runs)} walks`
        : `result    PASS (random): no violation in ${n(res.runs)} walks`,
  );
  if (o.json)
    io.out(
      JSON.stringify(
        {
          profile: o.profile.name,
          bound: formatBound(o.bound),
          random: { ...rnd, runsDone: res.runs, failingSeed: res.failingSeed, interrupted: res.interrupted },
          violations: res.violation
            ? [{ invariant: res.violation.invariant, detail: res.violation.detail, length: res.violation.path.length, file }]
            : [],
        },
        null,
        2,
      ),
    );
  return status;
}
