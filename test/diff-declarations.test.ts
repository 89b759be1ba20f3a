/**
 * DECLARATIONS covers every field of Profile: each field is either compared (a change to it alone gives a row)
 * or listed as presentation only (a change to it alone gives none). `CHANGE` below has one change per field of
 * Profile, so a new field does not compile here until the test says how to change it, and fails until
 * PROFILE_FIELDS says whether the diff compares it. Rows say values in words, never JSON.
 */
import { describe, expect, it } from 'vitest';
import { PROFILE_FIELDS, declarationDiff } from '../src/presentation/diff/declarations.ts';
import type { Profile } from '../spec/profile.ts';
import { PROFILES, getProfile } from '../spec/profiles/index.ts';

const BASE = getProfile('linux-7.3');

/** A different value for each field of Profile, from linux-7.3's. */
const CHANGE: { readonly [K in keyof Required<Profile>]: (p: Profile) => Profile[K] } = {
  name: () => 'linux-7.3-renamed',
  title: (p) => `${p.title}, retitled`,
  kind: () => 'proposal',
  summary: (p) => `${p.summary} More words.`,
  sources: (p) => [...p.sources, 'another source'],
  checkedAgainstKernel: (p) => !p.checkedAgainstKernel,
  base: () => 'linux-6.18',
  suites: (p) => ({ ...p.suites, c: !p.suites.c }),
  arch: () => 'arm64',
  vmTypes: (p) => {
    const d = p.vmTypes.default;
    if (!d) throw new Error('linux-7.3 has a default VM type');
    return { ...p.vmTypes, default: { ...d, conversionContent: { ...d.conversionContent, toShared: 'zero' } } };
  },
  flags: (p) => p.flags.slice(0, -1),
  choices: (p) => ({ ...p.choices, madvise: { ...p.choices.madvise, mergeable: undefined } }),
  extraCaps: () => ({}),
  gmemAttributes: () => ({ cap: 250, errorOffset: true }),
  uffd: () => ({ registerModes: ['minor'], source: 'a test' }),
  pageRuleOverrides: () => ({ conversionChecksRefs: false }),
  promises: () => ['HostMappedIsShared'],
  deviations: () => ({ punchKeepsData: true }),
};

function changed<K extends keyof Profile>(field: K): Profile {
  return { ...BASE, [field]: (CHANGE[field] as (p: Profile) => Profile[K])(BASE) };
}

describe('DECLARATIONS covers every field of Profile', () => {
  it('PROFILE_FIELDS lists exactly the fields this test changes, and every field a shipped profile sets', () => {
    expect(Object.keys(PROFILE_FIELDS).sort()).toEqual(Object.keys(CHANGE).sort());
    for (const p of PROFILES) for (const k of Object.keys(p)) expect(Object.keys(PROFILE_FIELDS), `${p.name}.${k}`).toContain(k);
  });

  it('a change to one compared field alone gives a row; a presentation-only field gives none', () => {
    for (const [field, how] of Object.entries(PROFILE_FIELDS)) {
      const rows = declarationDiff(BASE, changed(field as keyof Profile));
      if (typeof how === 'function') expect(rows.length, `${field} is compared but its change shows no row`).toBeGreaterThan(0);
      else expect(rows, `${field} is presentation only (${how.presentation}) but shows rows`).toEqual([]);
    }
  });

  it('says values in words: conversion content effects (not their citation), one madvise advice, the userfaultfd modes', () => {
    const vm = declarationDiff(BASE, changed('vmTypes'));
    expect(vm).toEqual([
      {
        section: 'vm type',
        name: 'default',
        change: 'changed',
        a: 'on conversion, host bytes the guest reads kept, guest bytes the host reads kept',
        b: 'on conversion, host bytes the guest reads kept, guest bytes the host reads zeroed',
      },
    ]);
    const source = {
      ...BASE,
      vmTypes: {
        default: { ...BASE.vmTypes.default!, conversionContent: { ...BASE.vmTypes.default!.conversionContent, source: 'elsewhere' } },
      },
    };
    expect(declarationDiff(BASE, source), 'a citation alone is not a difference').toEqual([]);
    expect(declarationDiff(BASE, changed('choices'))).toMatchObject([
      { section: 'choice', a: 'MADV_MERGEABLE → EINVAL', b: 'MADV_MERGEABLE → ok' },
    ]);
    expect(declarationDiff(BASE, changed('uffd'))).toMatchObject([
      { section: 'userfaultfd', a: 'refuses every mode (EINVAL)', b: 'accepts MINOR' },
    ]);
    const { uffd: _none, ...withoutUffd } = BASE;
    expect(declarationDiff(withoutUffd, BASE)).toMatchObject([{ section: 'userfaultfd', change: 'added', a: 'not modelled' }]);
  });

  it('no row between any two shipped profiles shows JSON', () => {
    for (const a of PROFILES)
      for (const b of PROFILES)
        for (const r of declarationDiff(a, b))
          expect(`${r.a} | ${r.b}`, `${a.name} → ${b.name} ${r.section} ${r.name}`).not.toMatch(/[{}"[\]]/);
  });
});
