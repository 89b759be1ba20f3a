/**
 * The model checker's worked examples (they ship in examples/flags and spec/flags, and run here): each
 * violation is found, its counterexample is shortest — checked against a brute-force breadth-first search
 * written here, independently of the checker (no fingerprints, no compaction, no partitions) — and replaying the
 * counterexample trace file with step() reproduces the violation.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { predictTrace } from '../spec/compare.ts';
import { type Bound, parseBound } from '../spec/explore/bound.ts';
import { eventsFor } from '../spec/explore/events.ts';
import { checkHandles } from '../spec/handles.ts';
import { BUILTIN_FLAGS } from '../spec/flags/index.ts';
import { INVARIANTS, violations } from '../spec/invariants.ts';
import type { Step } from '../spec/ops.ts';
import { outcomesEqual } from '../spec/outcome.ts';
import type { FlagDef, Profile } from '../spec/profile.ts';
import { compose, resolveProfileName } from '../spec/profileCompose.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { type SystemState, emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { parseTrace } from '../spec/trace.ts';
import { flagAcceptance } from '../src/check/acceptance.ts';
import { estimate } from '../src/check/estimate.ts';
import { deadRules } from '../src/check/deadRules.ts';
import { FingerprintTable } from '../src/check/fingerprint.ts';
import { compact } from '../spec/explore/compact.ts';
import { sameState } from '../spec/explore/keys.ts';
import { stateKey } from '../spec/explore/stateKey.ts';
import { type TraceContext, violationTrace } from '../src/check/counterexample.ts';
import { type CheckResult, check } from '../src/check/engine.ts';
import { loadFlagArg } from '../src/check/flagFiles.ts';
import { profileForTrace } from '../src/check/traceProfile.ts';
import { writeFileAtomic } from '../src/files.ts';
import { bruteForceDepth } from './support/bruteForce.ts';

const UNIT = 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1';
const unit = (extra = ''): Bound => parseBound(extra, parseBound(UNIT));

/** Replay a trace file with step(): outcomes as expected, and the invariant broken by the last step. */
function replay(path: string, invariant: string): { profile: Profile; broken: boolean; outcomesAgree: boolean } {
  const trace = parseTrace(readFileSync(path, 'utf8'), path);
  checkHandles(trace.steps, path);
  const profile = profileForTrace(path, trace.profile ?? '');
  const inv = INVARIANTS.filter((i) => i.name === invariant);
  let s = emptySystem();
  let broken = false;
  trace.steps.forEach((st, i) => {
    const r = step(profile, s, st);
    const vs = violations(profile, inv, s, st, r.state);
    if (i === trace.steps.length - 1) broken = vs.length > 0;
    else expect(vs, `step ${i + 1} already breaks ${invariant}`).toEqual([]);
    s = r.state;
  });
  const predicted = predictTrace(profile, trace.steps);
  const outcomesAgree = trace.steps.every(
    (st, i) => st.expected !== undefined && outcomesEqual(st.expected, predicted[i]?.outcome ?? { failed: 'missing' }),
  );
  return { profile, broken, outcomesAgree };
}

const outDir = mkdtempSync(join(tmpdir(), 'gmem-check-'));

function writeCounterexample(r: CheckResult, added: readonly FlagDef[], invariant: string): string {
  const v = r.violations.find((x) => x.invariant === invariant);
  if (!v) throw new Error(`no violation of ${invariant}`);
  const ctx: TraceContext = { profile: r.profile, added, bound: r.bound };
  const file = join(outDir, `${r.profile.name}-${invariant}.json`);
  writeFileAtomic(file, violationTrace(ctx, v));
  return file;
}

interface Unsafe {
  what: string;
  profile: () => Promise<{ profile: Profile; added: FlagDef[] }>;
  invariant: string;
  length: number;
  ops: string[];
}

const UNSAFE: Unsafe[] = [
  {
    what: 'HOST_MAP_PRIVATE (host user space may map private pages) on linux-6.18',
    profile: async () => ({ profile: resolveProfileName('linux-6.18+HOST_MAP_PRIVATE').profile, added: [getFlag('HOST_MAP_PRIVATE')] }),
    invariant: 'HostMappedIsShared',
    length: 4,
    ops: ['create_vm', 'create_gmem', 'mmap', 'read_mem'],
  },
  {
    what: 'CONVERT_IGNORING_REFS (conversion to private ignores pins) on inplace-conversion',
    profile: async () => ({
      profile: resolveProfileName('inplace-conversion+CONVERT_IGNORING_REFS').profile,
      added: [getFlag('CONVERT_IGNORING_REFS')],
    }),
    invariant: 'PrivateNeverPinned',
    length: 5,
    ops: ['create_vm', 'create_gmem', 'mmap', 'pin', 'set_memory_attributes2'],
  },
  {
    what: 'the exclusive-gup profile (the rejected FOLL_EXCLUSIVE design)',
    profile: async () => ({ profile: getProfile('exclusive-gup'), added: [] }),
    invariant: 'PrivateNeverPinned',
    length: 5,
    ops: ['create_vm', 'create_gmem', 'mmap', 'pin', 'set_memory_attributes2'],
  },
  {
    what: 'the user-written MMAP_PRIVATE_PAGES flag file (examples/flags/mmap-private-pages.json)',
    profile: async () => {
      const [f] = await loadFlagArg('examples/flags/mmap-private-pages.json');
      return { profile: compose(getProfile('linux-6.18'), [f?.def as FlagDef]), added: [f?.def as FlagDef] };
    },
    invariant: 'PrivateNeverPinned',
    length: 4,
    ops: ['create_vm', 'create_gmem', 'mmap', 'pin'],
  },
  {
    what: 'the user-written NO_DIRECT_MAP_PRIVATE flag file (examples/flags/no-direct-map-private.ts)',
    profile: async () => {
      const [f] = await loadFlagArg('examples/flags/no-direct-map-private.ts', { typeCheck: false });
      return { profile: compose(getProfile('linux-6.18'), [f?.def as FlagDef]), added: [f?.def as FlagDef] };
    },
    invariant: 'NoDirectMapPrivateAbsent',
    length: 3,
    ops: ['create_vm', 'create_gmem', 'fallocate'],
  },
];

function getFlag(name: string): FlagDef {
  const f = BUILTIN_FLAGS[name];
  if (!f) throw new Error(`no built-in flag ${name}`);
  return f;
}

describe('deliberately unsafe proposals are found with their shortest counterexample', () => {
  it.each(UNSAFE)('$what breaks $invariant in $length steps', async (u) => {
    const { profile, added } = await u.profile();
    const r = await check({ profile, bound: unit(), invariants: [u.invariant], stopWhenAllViolated: true });
    const v = r.violations.find((x) => x.invariant === u.invariant);
    expect(v, `${u.invariant} should be violated`).toBeDefined();
    expect(v?.path.map((p) => p.step.op)).toEqual(u.ops);
    // Shortest: a brute-force BFS finds nothing shorter and something as short.
    expect(bruteForceDepth(profile, unit(), u.invariant, u.length)).toBe(u.length);
    // The trace file replays: same outcomes, the last step breaks the invariant.
    const file = writeCounterexample(r, added, u.invariant);
    const again = replay(file, u.invariant);
    expect(again.profile.name).toBe(profile.name);
    expect(again.outcomesAgree).toBe(true);
    expect(again.broken).toBe(true);
  });
});

describe('NO_DIRECT_MAP: refused on SNP and TDX at create; "private ⇒ not in the direct map" holds where accepted', () => {
  const p = getProfile('no-direct-map');

  it('KVM_CREATE_GUEST_MEMFD(NO_DIRECT_MAP) is EINVAL on snp and tdx, and succeeds on default and sw_protected', () => {
    const rows = flagAcceptance(p, [getFlag('NO_DIRECT_MAP')]);
    const by = Object.fromEntries(rows.map((r) => [r.vmType, 'errno' in r.outcome ? `${r.outcome.errno} ${r.rule}` : 'ok']));
    expect(by).toEqual({
      default: 'ok',
      sw_protected: 'ok',
      snp: 'EINVAL create_gmem.flags-unsupported',
      tdx: 'EINVAL create_gmem.flags-unsupported',
    });
  });

  it('NoDirectMapPrivateAbsent holds in every reachable state, and files with the flag are reached (not vacuous)', async () => {
    const r = await check({ profile: p, bound: unit('maps=0,pins=0'), invariants: ['NoDirectMapPrivateAbsent'], coverage: true });
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([]);
    const ndm = Object.entries(r.coverage?.pageStates ?? {}).filter(([k]) => (Number(k.split(' ')[1]) & 4) !== 0);
    expect(ndm.map(([k]) => k.split(' ')[0]).sort()).toEqual(['default', 'default', 'default', 'default', 'sw_protected', 'sw_protected']);
    expect(ndm.flatMap(([, states]) => states)).toContain('private · allocated · no direct map');
  });
});

describe('seed 003: MMAP and INIT_SHARED are orthogonal; INIT_SHARED is an initial state, not a default', () => {
  it('linux-6.18: the reachable page states of each combination of MMAP and INIT_SHARED', async () => {
    const r = await check({ profile: getProfile('linux-6.18'), bound: unit(), coverage: true });
    expect(r.violations).toEqual([]);
    expect(r.coverage?.pageStates).toEqual({
      'default 0': ['private · hole', 'private · allocated'],
      'default 1': ['private · hole', 'private · allocated'],
      'default 2': ['shared · hole', 'shared · allocated'],
      'default 3': [
        'shared · hole',
        'shared · allocated',
        'shared · initialised',
        'shared · initialised · host-mapped',
        'shared · initialised · pinned',
        'shared · initialised · host-mapped · pinned',
      ],
    });
  });

  it('in-place conversion: a page of an INIT_SHARED file can be private and unallocated (the flag sets the initial attribute only)', async () => {
    const r = await check({ profile: getProfile('inplace-conversion'), bound: unit('maps=0,pins=0,slots=0'), coverage: true });
    const sw = r.coverage?.pageStates['sw_protected 2'] ?? [];
    expect(sw).toContain('private · hole');
    expect(sw).toContain('shared · hole');
  });

  it('the v1 name, DEFAULT_SHARED, is the same bit: composing it onto linux-6.18 is refused', async () => {
    const [f] = await loadFlagArg('examples/flags/default-shared.json');
    expect(() => compose(getProfile('linux-6.18'), [f?.def as FlagDef])).toThrow(
      /DEFAULT_SHARED\.bit: bit 1 is already taken by INIT_SHARED in profile linux-6.18/,
    );
  });
});

describe('the checker agrees with itself and with the explorer', () => {
  it('one and two worker threads explore the same graph and report the same counterexamples', async () => {
    const profile = resolveProfileName('linux-6.18+HOST_MAP_PRIVATE').profile;
    const one = await check({ profile, bound: unit(), invariants: ['HostMappedIsShared', 'PrivateNeverPinned'] });
    const two = await check({ profile, bound: unit(), invariants: ['HostMappedIsShared', 'PrivateNeverPinned'], workers: 2 });
    expect([two.states, two.edges, two.complete]).toEqual([one.states, one.edges, true]);
    expect(two.violations.map((v) => v.path.map((p) => p.step as Step))).toEqual(
      one.violations.map((v) => v.path.map((p) => p.step as Step)),
    );
  });
});

describe('deadlocks and dead rules', () => {
  it('linux-6.18 has no deadlock; end states that keep a pin on a gone mapping are counted apart', async () => {
    const r = await check({ profile: getProfile('linux-6.18'), bound: unit() });
    expect(r.deadlocks).toBe(0);
    expect(r.orphanPins).toBeGreaterThan(0);
  });

  it('in-place conversion takes every page attribute transition, the EAGAIN abort (toPrivate → shared) included', async () => {
    const r = await check({ profile: getProfile('inplace-conversion'), bound: unit('slots=0'), coverage: true });
    const dead = deadRules(r.coverage as NonNullable<typeof r.coverage>);
    const never = dead.transitionsUnreached.map((t) => `${t.machine} ${t.region}: ${t.from} → ${t.to}`);
    expect(never.filter((t) => t.startsWith('page attribute:'))).toEqual([]);
    expect(never).not.toContain('guestMemfd state: open → mappedOnly');
    expect(dead.statesUnreached).not.toContain('page attribute=toShared');
    expect(dead.opsNotExplored).toEqual(expect.arrayContaining(['dup', 'fork', 'mprotect']));
  });
});

describe("the checker's own machinery", () => {
  it('the up-front estimate of a bound with two raised parameters (not one it was fitted on) is within 1.5x of the states found', async () => {
    // One-parameter factors alone say 306 × 5.2 × 2.2 ≈ 3,500 here; raised together, maps and pins interact.
    const bound = unit('maps=2,pins=2');
    const r = await check({ profile: getProfile('linux-6.18'), bound });
    const ratio = estimate(getProfile('linux-6.18'), bound).states / r.states;
    expect(ratio).toBeGreaterThan(1 / 1.5);
    expect(ratio).toBeLessThan(1.5);
  });

  it('the fingerprint table keeps parent links through growth', () => {
    const t = new FingerprintTable(4);
    for (let i = 1; i <= 5000; i++) expect(t.add(i, -i, i - 1, 1 - i, i % 7, i % 30)).toBe(true);
    expect(t.add(17, -17, 0, 0, 0, 0)).toBe(false);
    expect(t.size).toBe(5000);
    expect(t.parent(4321, -4321)).toEqual({ plo: 4320, phi: -4320, ev: 4321 % 7, depth: 4321 % 30 });
    expect(t.parent(9999, 1)).toBeUndefined();
  });

  it('a step judged "unchanged" really leaves the compacted state as it was (the self-loop shortcut is sound)', () => {
    const profile = getProfile('sw-protected');
    const bound = unit();
    let level: SystemState[] = [emptySystem()];
    const seen = new Set<string>([stateKey(level[0] as SystemState)]);
    let shortcuts = 0;
    for (let d = 0; d < 6; d++) {
      const next: SystemState[] = [];
      for (const s of level) {
        for (const ev of eventsFor(profile, bound, s)) {
          const r = step(profile, s, ev);
          const key = stateKey(compact(r.state));
          if (sameState(r.state, s)) {
            shortcuts++;
            expect(key).toBe(stateKey(s));
          }
          if (!seen.has(key)) {
            seen.add(key);
            next.push(compact(r.state));
          }
        }
      }
      level = next;
    }
    expect(shortcuts).toBeGreaterThan(100);
  });
});
