/**
 * Flags are data: a flag definition is validated against the profile it joins, composed into a profile by
 * name (`base+FLAG`), and rebuilt from a trace file that carries its definition.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlagValidationError, validateFlagDef } from '../spec/flagValidation.ts';
import { BUILTIN_FLAGS, HOST_MAP_PRIVATE, NO_DIRECT_MAP } from '../spec/flags/index.ts';
import type { FlagDef } from '../spec/profile.ts';
import { ComposeError, compose, composeProfile, modelRepresentsBit, resolveProfileName } from '../spec/profileCompose.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { TraceError } from '../spec/trace.ts';
import { FlagFileError, loadFlagArg } from '../src/check/flagFiles.ts';
import { profileForTrace } from '../src/check/traceProfile.ts';

const linux = getProfile('linux-6.18');

const good: FlagDef = {
  name: 'EXAMPLE',
  bit: 5,
  status: 'example',
  summary: 'A well-formed flag.',
  source: 'test',
  acceptedBy: 'all',
  effects: { enablesMmap: true },
};

const errors = (raw: unknown, profile = linux, builtin = false) =>
  validateFlagDef(raw, profile, { builtin })
    .filter((p) => p.severity === 'error')
    .map((p) => `${p.where}: ${p.message}`);

describe('a flag definition is validated against the profile it joins', () => {
  it('a well-formed flag has no problem', () => {
    expect(validateFlagDef(good, linux)).toEqual([]);
  });

  it('every built-in flag is valid in the profiles that ship it (bar the spec bug reported as a warning)', () => {
    for (const name of ['linux-6.18', 'inplace-conversion', 'no-direct-map', 'hugetlb']) {
      const p = getProfile(name);
      for (const f of p.flags) expect(errors(f, p, true), `${name}: ${f.name}`).toEqual([]);
    }
  });

  it.each([
    ['an unknown field', { ...good, effect: {} }, 'EXAMPLE.effect: unknown field (did you mean "effects"?)'],
    ['a missing field', { ...good, summary: undefined }, 'EXAMPLE.summary: missing (required)'],
    ['a bit that is not an integer', { ...good, bit: '5' }, 'EXAMPLE.bit: expected an integer bit number 0..63, got "5"'],
    ['a bit past the u64', { ...good, bit: 64 }, 'EXAMPLE.bit: bit 64 is out of range'],
    ['a bit already taken', { ...good, bit: 1 }, 'EXAMPLE.bit: bit 1 is already taken by INIT_SHARED in profile linux-6.18'],
    [
      'an unknown status',
      { ...good, status: 'draft' },
      'EXAMPLE.status: expected one of mainline, proposed, rejected, example, got "draft"',
    ],
    [
      'an unknown VM type',
      { ...good, acceptedBy: ['default', 'sev_snp'] },
      'EXAMPLE.acceptedBy[1]: unknown VM type "sev_snp" (did you mean "sev"?)',
    ],
    [
      'an acceptance word that does not exist',
      { ...good, acceptedBy: 'everyone' },
      'EXAMPLE.acceptedBy: expected "all", "no-private-mem", "private-mem" or a list of VM types',
    ],
    ['a required flag that does not exist', { ...good, requires: ['MAPP'] }, 'EXAMPLE.requires[0]: unknown flag "MAPP"'],
    [
      'a required flag the profile lacks',
      { ...good, requires: ['NO_DIRECT_MAP'] },
      'EXAMPLE.requires[0]: requires NO_DIRECT_MAP, which profile linux-6.18 does not have',
    ],
    ['a flag that requires itself', { ...good, requires: ['EXAMPLE'] }, 'EXAMPLE.requires[0]: a flag cannot require itself'],
    [
      'a flag that conflicts with itself',
      { ...good, conflictsWith: ['EXAMPLE'] },
      'EXAMPLE.conflictsWith[0]: a flag cannot conflict with itself',
    ],
    [
      'a flag both required and conflicting',
      { ...good, requires: ['MMAP'], conflictsWith: ['MMAP'] },
      'EXAMPLE.conflictsWith: MMAP is both required and conflicting',
    ],
    ['an unknown effect', { ...good, effects: { zeroOnConvert: true } }, 'EXAMPLE.effects.zeroOnConvert: unknown effect'],
    [
      'an effect of the wrong type',
      { ...good, effects: { initShared: 'yes' } },
      'EXAMPLE.effects.initShared: expected true or false, got "yes"',
    ],
    [
      'a direct-map mode that does not exist',
      { ...good, effects: { directMap: 'remove' } },
      'EXAMPLE.effects.directMap: expected "remove-all" or "remove-private", got "remove"',
    ],
    [
      'a folio size that is not a power of two',
      { ...good, effects: { folioPages: 3 } },
      'EXAMPLE.effects.folioPages: a folio is a power-of-two number of pages, got 3',
    ],
    [
      'a claim on an invariant that does not exist',
      { ...good, keeps: ['PrivateNeverMapped'] },
      'EXAMPLE.keeps[0]: claims to keep invariant "PrivateNeverMapped", which spec/invariants.ts does not define',
    ],
    ['an upper-case name is required', { ...good, name: 'example' }, 'example.name: expected an upper-case identifier'],
  ])('rejects %s, naming the field', (_what, raw, message) => {
    expect(
      errors(raw).some((e) => e.startsWith(message)),
      errors(raw).join('\n'),
    ).toBe(true);
  });

  it('a second direct-map flag must declare the conflict, or World would pick one mode silently', () => {
    const p = getProfile('no-direct-map');
    const e = errors({ ...good, effects: { directMap: 'remove-private' } }, p);
    expect(e.some((x) => x.includes('NO_DIRECT_MAP also sets directMap'))).toBe(true);
    expect(errors({ ...good, effects: { directMap: 'remove-private' }, conflictsWith: ['NO_DIRECT_MAP'] }, p)).toEqual([]);
  });

  it('a built-in flag claiming an invariant that does not exist is a warning (a spec bug), not an error', () => {
    const ps = validateFlagDef(HOST_MAP_PRIVATE, linux, { builtin: true });
    expect(ps.filter((p) => p.severity === 'error')).toEqual([]);
    expect(ps.map((p) => p.where)).toContain('HOST_MAP_PRIVATE.keeps[0]');
  });
});

describe('a profile is a base profile plus flags', () => {
  it('compose adds the flags, names the result base+FLAG and keeps the base', () => {
    const p = compose(getProfile('sw-protected'), [NO_DIRECT_MAP]);
    expect(p.name).toBe('sw-protected+NO_DIRECT_MAP');
    expect(p.base).toBe('sw-protected');
    expect(p.flags.map((f) => f.name)).toEqual(['MMAP', 'INIT_SHARED', 'NO_DIRECT_MAP']);
    expect(p.vmTypes).toBe(getProfile('sw-protected').vmTypes);
  });

  it('adding a flag the profile already has is a no-op; a different flag under the same name is an error', () => {
    expect(compose(getProfile('no-direct-map'), [NO_DIRECT_MAP]).name).toBe('no-direct-map');
    expect(() => compose(linux, [{ ...(BUILTIN_FLAGS.MMAP as FlagDef), bit: 9 }])).toThrow(ComposeError);
  });

  it('an invalid flag is refused with every problem listed', () => {
    expect(() => compose(linux, [{ ...good, bit: 0, keeps: ['Nope'] }])).toThrow(FlagValidationError);
    try {
      compose(linux, [{ ...good, bit: 0, keeps: ['Nope'] }]);
    } catch (e) {
      expect((e as Error).message).toMatch(/bit 0 is already taken by MMAP[\s\S]*keeps\[0\]/);
    }
  });

  it('two added flags may not take the same bit', () => {
    expect(() => compose(linux, [good, { ...good, name: 'OTHER' }])).toThrow(
      /bit 5 is already taken by OTHER \(another flag added with it\)/,
    );
  });

  it('a flag declared beyond the bits the model explores is modelled at a free low bit, and says so', () => {
    expect(modelRepresentsBit(30)).toBe(true);
    expect(modelRepresentsBit(62)).toBe(false);
    const c = composeProfile(linux, [HOST_MAP_PRIVATE]);
    expect(c.relocated).toEqual({ HOST_MAP_PRIVATE: { declared: 62, model: 30 } });
    expect(c.profile.flags.find((f) => f.name === 'HOST_MAP_PRIVATE')?.bit).toBe(30);
    expect(c.notes.join('\n')).toMatch(/declares bit 62.*modelled at bit 30/);
  });

  it('a composed name resolves to the same profile, and an unknown flag name is an error listing the known ones', () => {
    expect(resolveProfileName('inplace-conversion+CONVERT_IGNORING_REFS').profile.flags.map((f) => [f.name, f.bit])).toEqual([
      ['MMAP', 0],
      ['INIT_SHARED', 1],
      ['CONVERT_IGNORING_REFS', 29],
    ]);
    expect(() => resolveProfileName('linux-6.18+NOPE')).toThrow(/unknown flag "NOPE"; built-in flags: MMAP, INIT_SHARED/);
    expect(() => resolveProfileName('linux-9.9+MMAP')).toThrow(/unknown profile "linux-9.9"/);
  });

  it('a trace carrying a flag definition replays under the composed profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmem-flag-'));
    const path = join(dir, 't.json');
    writeFileSync(path, JSON.stringify({ format: 'gmem-trace/1', profile: 'linux-6.18+EXAMPLE', flags: [good], steps: [] }));
    expect(profileForTrace(path, 'linux-6.18+EXAMPLE').flags.map((f) => f.name)).toContain('EXAMPLE');
    writeFileSync(path, JSON.stringify({ format: 'gmem-trace/1', profile: 'linux-6.18+EXAMPLE', flags: [{ ...good, bit: 1 }], steps: [] }));
    expect(() => profileForTrace(path, 'linux-6.18+EXAMPLE')).toThrow(TraceError);
    expect(profileForTrace(path, 'linux-6.18').name).toBe('linux-6.18');
  });
});

describe('flag files', () => {
  it('a built-in name, a JSON file and a TypeScript file load', async () => {
    expect((await loadFlagArg('NO_DIRECT_MAP'))[0]?.builtin).toBe(true);
    expect((await loadFlagArg('examples/flags/mmap-private-pages.json'))[0]?.def.name).toBe('MMAP_PRIVATE_PAGES');
    expect((await loadFlagArg('examples/flags/no-direct-map-private.ts'))[0]?.def.name).toBe('NO_DIRECT_MAP_PRIVATE');
  });

  it('a TypeScript flag file that does not type-check is refused with file:line:col', async () => {
    await expect(loadFlagArg('examples/flags/malformed/bad-types.ts')).rejects.toThrow(
      /does not type-check[\s\S]*bad-types\.ts:6:3: Type 'string' is not assignable to type 'number'/,
    );
  });

  it.each([
    ['an unknown flag name', 'no_direct_map', /unknown flag \(did you mean NO_DIRECT_MAP\?\)/],
    ['a missing file', 'examples/flags/nope.json', /cannot read: ENOENT/],
    ['a file that is not JSON', 'examples/flags/no-direct-map-private.ts.json', /cannot read/],
  ])('refuses %s', async (_what, arg, message) => {
    await expect(loadFlagArg(arg)).rejects.toThrow(FlagFileError);
    await expect(loadFlagArg(arg)).rejects.toThrow(message);
  });
});
