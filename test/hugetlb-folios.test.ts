/**
 * hugetlb folios (issue 14): the folio machine (machines/folio.ts), the rules that split and merge folios and
 * refuse what would need an unsafe split, merge or free, the two invariants (FolioWholeOnlyWhenPrivate,
 * ConversionGranularity) — holding on the hugetlb profile, broken by a deliberately unsafe variant with its
 * shortest counterexample — the state key, and the words diagram and diff draw the folio states with.
 */
import { describe, expect, it } from 'vitest';
import { MachineBridge } from '../machines/bridge.ts';
import { type FolioEvent, type FolioRules, UPSTREAM_FOLIO_RULES, createFolioMachine } from '../machines/folio.ts';
import { type Bound, parseBound } from '../spec/explore/bound.ts';
import { sameState } from '../spec/explore/keys.ts';
import { stateKey } from '../spec/explore/stateKey.ts';
import { BUILTIN_FLAGS } from '../spec/flags/index.ts';
import { INVARIANTS, invariantsFor, violations } from '../spec/invariants.ts';
import type { Outcome, Step } from '../spec/ops.ts';
import type { FlagDef, Profile } from '../spec/profile.ts';
import { compose } from '../spec/profileCompose.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { type GmemState, type SystemState, emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { check } from '../src/check/engine.ts';
import { buildDiagram, renderSync } from '../src/presentation/diagram/index.ts';
import { diffProfiles } from '../src/presentation/diff/profileDiff.ts';
import { renderDiffText } from '../src/presentation/diff/render.ts';
import { bruteForceDepth } from './support/bruteForce.ts';

const P = 4096;
const HUGETLB = getProfile('hugetlb');
/** HUGETLB | MMAP: a 2-page folio the host can map where shared. */
const FLAGS = 8 | 1;

// ---------------------------------------------------------------------------------------------------------
// The machine

function folio(rules: FolioRules = UPSTREAM_FOLIO_RULES) {
  const b = new MachineBridge<object, FolioEvent>(createFolioMachine(rules));
  return (value: string, event: FolioEvent): string => String(b.apply({ value, context: {} }, event)?.value ?? 'refused');
}

describe('the folio machine', () => {
  const go = folio();

  it('allocates a folio whole only when every page of it is private, else split to 4 KiB', () => {
    expect(go('none', { type: 'ALLOCATE', allPrivate: true })).toBe('whole');
    expect(go('none', { type: 'ALLOCATE', allPrivate: false })).toBe('split');
  });

  it('splits a whole folio when a page converts to shared, and refuses while a page is referenced', () => {
    expect(go('whole', { type: 'SPLIT', refs: 0 })).toBe('split');
    expect(go('whole', { type: 'SPLIT', refs: 1 })).toBe('refused');
  });

  it('merges a split folio only when all of it is private and unreferenced: an all-shared run stays split', () => {
    expect(go('split', { type: 'MERGE', allPrivate: true, refs: 0 })).toBe('whole');
    expect(go('split', { type: 'MERGE', allPrivate: true, refs: 1 })).toBe('refused');
    expect(go('split', { type: 'MERGE', allPrivate: false, refs: 0 })).toBe('refused');
  });

  it('frees a whole folio on punch; a split one only when no page is referenced', () => {
    expect(go('whole', { type: 'FREE', refs: 0 })).toBe('none');
    expect(go('split', { type: 'FREE', refs: 0 })).toBe('none');
    expect(go('split', { type: 'FREE', refs: 1 })).toBe('refused');
  });

  it('under the never-split design keeps a folio whole whatever its pages', () => {
    const bad = folio({ neverSplit: true });
    expect(bad('none', { type: 'ALLOCATE', allPrivate: false })).toBe('whole');
    expect(bad('whole', { type: 'SPLIT', refs: 0 })).toBe('whole');
  });
});

// ---------------------------------------------------------------------------------------------------------
// The rules

interface Run {
  outcomes: Outcome[];
  rules: string[];
  states: SystemState[];
}

function runSteps(profile: Profile, steps: Step[]): Run {
  let s = emptySystem();
  const out: Run = { outcomes: [], rules: [], states: [] };
  for (const st of steps) {
    const r = step(profile, s, st);
    s = r.state;
    out.outcomes.push(r.outcome);
    out.rules.push(r.rule.id);
    out.states.push(s);
  }
  return out;
}

const last = <T>(xs: T[]): T => xs[xs.length - 1] as T;
const gmem0 = (s: SystemState) => s.gmems[0] as GmemState;
/** Page i as "attribute/backing" (fresh pages of a hugetlb file are private holes). */
const page = (s: SystemState, i: number) => {
  const p = gmem0(s).pages[String(i)];
  return p ? `${p.attribute}/${p.backing}` : 'private/hole';
};

const setup: Step[] = [
  { op: 'create_vm', type: 'sw_protected', as: 'vm0' },
  { op: 'create_gmem', vm: 'vm0', size: 2 * P, flags: FLAGS, as: 'g0' },
];
const allocate: Step = { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: 2 * P };
const punch: Step = { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: 2 * P };
const convert = (i: number, to: 'private' | 'shared'): Step => ({
  op: 'set_memory_attributes2',
  gmem: 'g0',
  offset: i * P,
  size: P,
  attributes: to === 'private' ? 8 : 0,
});
const mmap: Step = { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * P, prot: 'rw', shared: true, as: 'm0' };

describe('hugetlb rules: split, merge and the refusals in between', () => {
  it('fallocate of the whole folio allocates it whole (its pages are private); of one page, EINVAL', () => {
    const r = runSteps(HUGETLB, [...setup, allocate]);
    expect(last(r.outcomes)).toEqual({ ok: true });
    expect(gmem0(last(r.states)).folios).toEqual({ 0: 'whole' });
    expect([page(last(r.states), 0), page(last(r.states), 1)]).toEqual(['private/allocated', 'private/allocated']);
    expect(runSteps(HUGETLB, [...setup, { ...allocate, len: P }]).outcomes[2]).toEqual({ errno: 'EINVAL' });
  });

  it('converting one page to shared splits the folio and converts that page only', () => {
    const r = runSteps(HUGETLB, [...setup, allocate, convert(0, 'shared')]);
    expect(last(r.outcomes)).toEqual({ ok: true });
    expect(gmem0(last(r.states)).folios).toEqual({ 0: 'split' });
    expect([page(last(r.states), 0), page(last(r.states), 1)]).toEqual(['shared/allocated', 'private/allocated']);
  });

  it('converting it back to private merges the folio; an all-shared folio stays split', () => {
    const back = runSteps(HUGETLB, [...setup, allocate, convert(0, 'shared'), convert(0, 'private')]);
    expect(gmem0(last(back.states)).folios).toEqual({ 0: 'whole' });
    const shared = runSteps(HUGETLB, [...setup, allocate, convert(0, 'shared'), convert(1, 'shared')]);
    expect(gmem0(last(shared.states)).folios).toEqual({ 0: 'split' });
  });

  it("a host fault on a shared page allocates its folio split, and the folio's other page gets memory with it", () => {
    const r = runSteps(HUGETLB, [...setup, convert(0, 'shared'), mmap, { op: 'write_mem', map: 'm0', offset: 0, value: 7 }]);
    expect(last(r.outcomes)).toEqual({ access: 'ok' });
    expect(gmem0(last(r.states)).folios).toEqual({ 0: 'split' });
    expect([page(last(r.states), 0), page(last(r.states), 1)]).toEqual(['shared/initialised', 'private/allocated']);
  });

  it('punching a split folio with a pinned page is EAGAIN and changes nothing; unpinned, the folio goes', () => {
    const pinned: Step[] = [...setup, allocate, convert(0, 'shared'), mmap, { op: 'pin', map: 'm0', offset: 0, len: P }];
    const r = runSteps(HUGETLB, [...pinned, punch]);
    expect(last(r.outcomes)).toEqual({ errno: 'EAGAIN' });
    expect(last(r.rules)).toBe('fallocate.folio-busy');
    expect(last(r.states)).toEqual(r.states[r.states.length - 2]);
    const freed = runSteps(HUGETLB, [...pinned, { op: 'unpin', map: 'm0', offset: 0, len: P }, punch]);
    expect(last(freed.outcomes)).toEqual({ ok: true });
    expect(gmem0(last(freed.states)).folios).toBeUndefined();
    expect([page(last(freed.states), 0), page(last(freed.states), 1)]).toEqual(['shared/hole', 'private/hole']);
  });

  it('a merge the folio refuses stops the conversion with EAGAIN at the folio, even where pages ignore pins', () => {
    // CONVERT_IGNORING_REFS lets a pinned page convert; the huge folio still cannot merge around the pin.
    const p = compose(HUGETLB, [BUILTIN_FLAGS.CONVERT_IGNORING_REFS as FlagDef]);
    const bit = p.flags.find((f) => f.name === 'CONVERT_IGNORING_REFS')?.bit as number;
    const r = runSteps(p, [
      setup[0] as Step,
      { op: 'create_gmem', vm: 'vm0', size: 2 * P, flags: FLAGS | (1 << bit), as: 'g0' },
      allocate,
      convert(0, 'shared'),
      mmap,
      { op: 'pin', map: 'm0', offset: 0, len: P },
      convert(0, 'private'),
    ]);
    expect(last(r.outcomes)).toEqual({ errno: 'EAGAIN', error_offset: 0 });
    expect(last(r.rules)).toBe('set_memory_attributes2.folio-busy');
    expect(page(last(r.states), 0)).toBe('shared/initialised');
    expect(gmem0(last(r.states)).folios).toEqual({ 0: 'split' });
  });

  it('without HUGETLB, nothing has folios: the field never appears', () => {
    const r = runSteps(HUGETLB, [setup[0] as Step, { ...(setup[1] as Step), flags: 1 } as Step, { ...allocate, len: P }]);
    expect(last(r.outcomes)).toEqual({ ok: true });
    expect('folios' in gmem0(last(r.states))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The invariants

const bound = (text: string): Bound => parseBound(text, parseBound('vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1'));

/** Test-only: the hugetlb proposal with huge folios that are never split (the host faults in pages of huge folios). */
const NEVER_SPLIT: Profile = { ...HUGETLB, name: 'hugetlb-never-split', pageRuleOverrides: { folio: { neverSplit: true } } };

describe('FolioWholeOnlyWhenPrivate and ConversionGranularity', () => {
  it('hold in every reachable state of the hugetlb profile (2-page folio, a pin, a mapping)', async () => {
    const r = await check({
      profile: HUGETLB,
      bound: bound('pages=2,slots=0'),
      invariants: ['FolioWholeOnlyWhenPrivate', 'ConversionGranularity'],
    });
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([]);
  }, 120_000);

  it('a design that never splits huge folios breaks FolioWholeOnlyWhenPrivate, shortest counterexample in 4 steps', async () => {
    const b = bound('pages=2,pins=0,slots=0');
    const r = await check({ profile: NEVER_SPLIT, bound: b, invariants: ['FolioWholeOnlyWhenPrivate'], stopWhenAllViolated: true });
    const v = r.violations.find((x) => x.invariant === 'FolioWholeOnlyWhenPrivate');
    expect(v).toBeDefined();
    const ops = v?.path.map((p) => p.step.op) ?? [];
    expect(ops.length).toBe(4);
    expect(bruteForceDepth(NEVER_SPLIT, b, 'FolioWholeOnlyWhenPrivate', 4)).toBe(4);
    expect(ops.slice(0, 2)).toEqual(['create_vm', 'create_gmem']);
    expect(v?.detail).toMatch(/guest_memfd 0 folio 0 is whole but its page \d is shared/);
  }, 120_000);

  it('ConversionGranularity names a step that converts a page outside its range, or maps a neighbour', () => {
    const inv = INVARIANTS.filter((i) => i.name === 'ConversionGranularity');
    const r = runSteps(HUGETLB, [...setup, allocate, convert(0, 'shared')]);
    const before = r.states[2] as SystemState;
    const after = last(r.states);
    expect(violations(HUGETLB, inv, before, convert(0, 'shared'), after)).toEqual([]);
    // The same step, had it converted the folio's other page as well (conversion at folio granularity):
    const g = gmem0(after);
    const wider: SystemState = {
      ...after,
      gmems: [{ ...g, pages: { ...g.pages, 1: { ...(g.pages['1'] ?? g.pages['0']), attribute: 'shared' } as GmemState['pages'][string] } }],
    };
    expect(violations(HUGETLB, inv, before, convert(0, 'shared'), wider)[0]?.detail).toBe(
      'set_memory_attributes2 changed guest_memfd 0 page 1 from private to shared, outside the range it names',
    );
    // A host write to page 0 that also mapped page 1:
    const mapped = runSteps(HUGETLB, [...setup, allocate, convert(0, 'shared'), convert(1, 'shared'), mmap]);
    const s = last(mapped.states);
    const write: Step = { op: 'write_mem', map: 'm0', offset: 0, value: 1 };
    const w = step(HUGETLB, s, write).state;
    expect(violations(HUGETLB, inv, s, write, w)).toEqual([]);
    const gw = gmem0(w);
    const both: SystemState = {
      ...w,
      gmems: [{ ...gw, pages: { ...gw.pages, 1: { ...(gw.pages['1'] as GmemState['pages'][string]), hostMappers: [0] } } }],
    };
    expect(violations(HUGETLB, inv, s, write, both)[0]?.detail).toBe(
      'write_mem of guest_memfd 0 page 0 also mapped guest_memfd 0 page 1 into the host',
    );
  });

  it('ConversionGranularity is checked in every profile, also one that lists the invariants it promises', () => {
    for (const name of ['linux-6.18', 'inplace-conversion', 'hugetlb', 'exclusive-gup']) {
      expect(
        invariantsFor(getProfile(name)).map((i) => i.name),
        name,
      ).toContain('ConversionGranularity');
    }
    expect(getProfile('exclusive-gup').promises).not.toContain('ConversionGranularity');
    // Asked for by name, the set is exact.
    expect(invariantsFor(getProfile('exclusive-gup'), ['HostMappedIsShared']).map((i) => i.name)).toEqual(['HostMappedIsShared']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// State key, diagram, diff

describe('folio state is part of the state', () => {
  it('two states that differ only in a folio get different keys and are not the same state', () => {
    const s = last(runSteps(HUGETLB, [...setup, allocate]).states);
    const g = gmem0(s);
    const split: SystemState = { ...s, gmems: [{ ...g, folios: { 0: 'split' } }] };
    const none: SystemState = { ...s, gmems: [{ ...g, folios: undefined }] };
    delete (none.gmems[0] as GmemState).folios;
    expect(new Set([stateKey(s), stateKey(split), stateKey(none)]).size).toBe(3);
    expect(sameState(s, split)).toBe(false);
    expect(sameState(s, none)).toBe(false);
  });
});

describe('diagram and diff show the folio states', () => {
  it('the hugetlb page diagram has a folio region: none, whole, split, the split and merge conversions, EAGAIN', () => {
    const text = renderSync(buildDiagram(HUGETLB, 'page'), 'text');
    expect(text).toContain('[folio (huge folio of 2 pages)]');
    expect(text).toContain('states: none, whole, split');
    expect(text).toMatch(/whole +--> split +KVM_SET_MEMORY_ATTRIBUTES2\(SHARED\) of a page in it/);
    expect(text).toMatch(/split +--> whole +KVM_SET_MEMORY_ATTRIBUTES2\(PRIVATE\) leaves all of it private/);
    expect(text).toMatch(/none +--> whole +first page gets memory .*\[every page of the folio private\]/);
    expect(text).toMatch(/split +-x> EAGAIN +fallocate\(PUNCH_HOLE\) of the folio/);
    // The never-split branch is not the profile's design.
    expect(text).toMatch(/whole +\.\.> \(same\) .*the design never splits huge folios/);
  }, 120_000);

  it('profiles without huge folios draw no folio region', () => {
    expect(renderSync(buildDiagram(getProfile('inplace-conversion'), 'page'), 'text')).not.toContain('folio (huge folio');
  }, 120_000);

  it('the system diagram and diff hugetlb inplace-conversion name whole and split folios and the punch EAGAIN', () => {
    const sys = renderSync(buildDiagram(HUGETLB, 'system'), 'text');
    expect(sys).toContain('huge folio whole');
    expect(sys).toContain('huge folio split');
    const diff = renderDiffText(diffProfiles(HUGETLB, getProfile('inplace-conversion')));
    expect(diff).toContain('shared · initialised · host-mapped · pinned · huge folio split');
    expect(diff).toContain('private · allocated · huge folio whole');
    expect(diff).toMatch(/fallocate\(PUNCH_HOLE\): +hugetlb → EAGAIN \[fallocate\.folio-busy\]/);
  }, 240_000);
});
