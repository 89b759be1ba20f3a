/**
 * The operation registry (spec/ops/index.ts): every operation of the vocabulary has every facet, the facets
 * agree with each other (wire encodings name enum fields, check lists name their op), and each declared
 * footprint covers every state part the op changes on every edge of explored graphs. The registry is collected
 * from the modules' exports, so it also checks that every schema and record under spec/ops/ is in it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseBound } from '../spec/explore/bound.ts';
import { eventsFor } from '../spec/explore/events.ts';
import { explore } from '../spec/explore/explorer.ts';
import { OP_NAMES } from '../spec/opSchema.ts';
import { CREATING_OPS, type OpName } from '../spec/ops.ts';
import { OPS } from '../spec/ops/index.ts';
import type { StatePart } from '../spec/ops/types.ts';
import { getProfile } from '../spec/profiles/index.ts';
import type { SystemState } from '../spec/state.ts';
import { step } from '../spec/step.ts';

const FACETS = [
  'name',
  'summary',
  'fields',
  'decide',
  'checkList',
  'footprint',
  'createsHandle',
  'pageAddress',
  'phrase',
  'edgeWord',
  'wireEnums',
  'probes',
  'cSelftest',
] as const;
const PARTS: readonly StatePart[] = ['vms', 'gmems', 'fds', 'maps', 'pins', 'names'];

describe('the operation registry', () => {
  it('has one record per operation of the vocabulary, under its own name', () => {
    expect(Object.keys(OPS).sort()).toEqual([...OP_NAMES].sort());
    for (const op of OP_NAMES) expect(OPS[op].name).toBe(op);
  });

  it('holds every schema and record exported under spec/ops/, each record spreading its own schema', async () => {
    const dir = join(import.meta.dirname, '../spec/ops');
    const schemas: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const exports = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(exports)) {
        if (typeof value !== 'object' || value === null) continue; // helpers (opSchema, handleField, ...)
        const v = value as { name: OpName; fields: unknown };
        if (name.endsWith('Schema')) schemas.push(v.name);
        if (name.endsWith('Schema') || name.endsWith('Op'))
          expect(OPS[v.name]?.fields, `${file}: ${name} (${v.name}) is not in the registry (is its module in MODULES?)`).toBe(v.fields);
      }
    }
    expect(schemas.sort()).toEqual([...OP_NAMES].sort());
  });

  it('lists the operations alphabetically', () => {
    expect([...OP_NAMES]).toEqual([...OP_NAMES].sort());
  });

  it.each(OP_NAMES)('%s has every facet', (op) => {
    const m = OPS[op] as unknown as Record<string, unknown>;
    const missing = FACETS.filter((f) => m[f] === undefined || m[f] === null || m[f] === '');
    expect(missing, `${op} lacks ${missing.join(', ')}`).toEqual([]);
    const rec = OPS[op];
    expect(rec.fields.length, `${op}: no fields`).toBeGreaterThan(0);
    expect(typeof rec.phrase).toBe('function');
    expect(rec.decide === 'nested-steps' || typeof rec.decide === 'function').toBe(true);
    if ('none' in rec.checkList) expect(rec.checkList.none.length, `${op}: says why it has no check list`).toBeGreaterThan(10);
    else {
      const ids = rec.checkList.checks().map((c) => c.id);
      expect(ids.length).toBeGreaterThan(0);
      expect(new Set(ids).size, `${op}: duplicate check ids`).toBe(ids.length);
    }
    for (const p of [...rec.footprint.reads, ...rec.footprint.writes]) expect(PARTS).toContain(p);
    if ('none' in rec.probes) expect(rec.probes.none.length, `${op}: says why the explorer never offers it`).toBeGreaterThan(10);
    else expect(Object.keys(rec.probes).length, `${op}: probes in no scope`).toBeGreaterThan(0);
    if ('none' in rec.cSelftest) expect(rec.cSelftest.none.length, `${op}: says why it has no C`).toBeGreaterThan(10);
    else expect(typeof rec.cSelftest.step).toBe('function');
    expect(typeof rec.createsHandle).toBe('boolean');
    if ('none' in rec.pageAddress) expect(rec.pageAddress.none.length, `${op}: says why it addresses no page`).toBeGreaterThan(10);
    else expect(pageAddressFields(op), `${op}: pageAddress names fields of other kinds`).toEqual(pageAddressKinds(op));
  });

  it('CREATING_OPS (spec/ops.ts) are the records that create a handle', () => {
    expect([...CREATING_OPS].sort()).toEqual(OP_NAMES.filter((op) => OPS[op].createsHandle).sort());
    expect([...CREATING_OPS].sort()).toEqual(['create_gmem', 'create_vm', 'dup', 'mmap']);
  });

  it('the explorer offers exactly the operations whose modules have probes', () => {
    const offered = new Set<OpName>();
    for (const [name, bound] of [
      ['linux-6.18', 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1'],
      ['sev-snp', 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=1'],
      ['inplace-conversion', 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=0'],
      ['arm-cca', 'vms=1,gmems=1,pages=1,maps=0,pins=0,slots=1'],
      // userfaultfd's operations are offered only where the profile models them (linux-7.3, uffd-minor).
      ['uffd-minor', 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=0'],
    ] as const) {
      const profile = getProfile(name);
      const b = parseBound(bound);
      const g = explore(profile, b);
      for (const s of g.states) for (const st of eventsFor(profile, b, s)) offered.add(st.op);
    }
    const withProbes = OP_NAMES.filter((op) => !('none' in OPS[op].probes));
    expect([...offered].sort()).toEqual([...withProbes].sort());
  });

  it.each(OP_NAMES)('%s encodes only enum fields, and every named value of them', (op) => {
    const rec = OPS[op];
    for (const [field, values] of Object.entries(rec.wireEnums)) {
      const spec = rec.fields.find((f) => f.name === field);
      expect(spec, `${op}.${field} is not a field`).toBeDefined();
      const kind = spec?.type;
      expect(kind?.kind === 'enum' || kind?.kind === 'int-or-enum', `${op}.${field} is not an enum`).toBe(true);
      if (kind && (kind.kind === 'enum' || kind.kind === 'int-or-enum'))
        expect(Object.keys(values ?? {}).sort()).toEqual([...kind.values].sort());
    }
  });

  it('every check list belongs to its operation (ids start with the op name)', () => {
    for (const op of OP_NAMES) {
      const list = OPS[op].checkList;
      if ('none' in list) continue;
      const foreign = list
        .checks()
        .map((c) => c.id)
        .filter((id) => !id.startsWith(`${op}.`) && !id.startsWith('vm_fd.') && !/^[a-z_]+\./.test(id));
      expect(foreign).toEqual([]);
    }
  });
});

/** The kinds of the fields an op's pageAddress names, as its schema has them (`field: kind`). */
function pageAddressFields(op: OpName): string[] {
  const pa = OPS[op].pageAddress;
  const kind = (f: string) => `${f}: ${OPS[op].fields.find((x) => x.name === f)?.type.kind ?? 'no such field'}`;
  if ('none' in pa) return [];
  switch (pa.via) {
    case 'file':
      return [kind(pa.file), kind(pa.offset), kind(pa.length)];
    case 'mapping':
      return [
        kind(pa.map),
        kind(pa.offset),
        ...('none' in pa.extent ? [] : [kind('alignedPage' in pa.extent ? pa.extent.alignedPage : pa.extent.withinPage)]),
      ];
    case 'gpa':
      return [kind(pa.vm), kind(pa.gpa), ...(typeof pa.size === 'string' ? [kind(pa.size)] : [])];
  }
}

/** What pageAddressFields must find: a handle, then integers. */
function pageAddressKinds(op: OpName): string[] {
  return pageAddressFields(op).map((f, i) => `${f.split(':')[0]}: ${i === 0 ? 'handle' : 'int'}`);
}

/** The top-level parts of the state that differ after a step. */
function changedParts(before: SystemState, after: SystemState): StatePart[] {
  return PARTS.filter((p) => !isDeepStrictEqual(before[p], after[p]));
}

describe('footprints', () => {
  // Profiles that between them reach every operation: the kernel one, a launch platform, in-place conversion, pins.
  it.each([
    ['linux-6.18', 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1'],
    ['sev-snp', 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=1'],
    ['inplace-conversion', 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=0'],
  ])('%s: no explored step writes a part its operation does not declare, and only handle-creating ops add names', (name, bound) => {
    const profile = getProfile(name);
    const g = explore(profile, parseBound(bound));
    const undeclared = new Map<OpName, Set<StatePart>>();
    const seen = new Set<OpName>();
    const named = new Set<OpName>();
    for (let e = 0; e < g.edgeCount; e++) {
      const st = g.steps[g.edgeStep[e] as number];
      const from = g.states[g.edgeFrom[e] as number];
      if (!st || !from) continue;
      seen.add(st.op);
      const after = step(profile, from, st).state;
      if (Object.keys(after.names).some((h) => !(h in from.names))) named.add(st.op);
      for (const p of changedParts(from, after)) {
        if (!OPS[st.op].footprint.writes.includes(p)) undeclared.set(st.op, new Set([...(undeclared.get(st.op) ?? []), p]));
      }
    }
    expect(Object.fromEntries([...undeclared].map(([op, ps]) => [op, [...ps].sort()]))).toEqual({});
    expect(seen.size).toBeGreaterThan(15);
    // A step that adds a name is of an op whose record says it creates a handle, and each such op seen did.
    expect([...named].sort()).toEqual(OP_NAMES.filter((op) => OPS[op].createsHandle && seen.has(op)).sort());
  });
});

describe('wire encodings from the registry (src/backend/linux/wire.ts)', () => {
  it('sends the ABI numbers of named values, words for words, and refuses an unsendable VM type', async () => {
    const { planTrace } = await import('../src/backend/linux/wire.ts');
    const lines = planTrace([
      { op: 'create_vm', type: 'snp', as: 'v' },
      { op: 'fallocate', gmem: 'g', mode: 'punch_hole', offset: 0, len: 4096 },
      { op: 'madvise', map: 'm', offset: 0, length: 4096, advice: 'dontneed' },
      { op: 'populate', vm: 'v', gpa: 0, size: 4096, source: 'in_place' },
      { op: 'create_vm', type: 'cca' },
    ]).lines;
    // KVM_X86_SNP_VM = 4; FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE = 3; MADV_DONTNEED = 4 (uapi headers).
    expect(lines.slice(0, 4)).toEqual([
      'create_vm type=4 as=v',
      'fallocate gmem=g mode=3 offset=0 len=4096',
      'madvise map=m offset=0 length=4096 advice=4',
      'populate vm=v gpa=0 size=4096 source=in_place',
    ]);
    expect(lines[4]).toMatch(/^reject invalid step steps\[4\]: type: VM type "cca" has no confirmed kernel encoding/);
  });
});
