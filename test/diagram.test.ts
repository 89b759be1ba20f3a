/**
 * Diagrams of every profile in every format: snapshots (test/__snapshots__/), properties that must hold
 * whatever the layout, and parsing by the renderers' own parsers — Graphviz (WebAssembly) must lay out every
 * DOT output, and Mermaid's parser (in a happy-dom window) must accept every Mermaid output.
 */
import { Window } from 'happy-dom';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Format, buildDiagram, renderSync } from '../src/presentation/diagram/index.ts';
import { dotNodeCount, renderDot } from '../src/presentation/diagram/render/dot.ts';
import { renderMermaid } from '../src/presentation/diagram/render/mermaid.ts';
import { exploreCached, parseProjectionKey, selectSlices } from '../src/presentation/diagram/reachable.ts';
import { comparedSequence, renderSequenceMermaid, renderSequenceSvg, traceSequence } from '../src/presentation/diagram/sequence.ts';
import { MACHINES, type MachineName, primaryVmType } from '../src/presentation/diagram/static.ts';
import { dotToSvg } from '../src/presentation/diagram/svg.ts';
import type { Diagram } from '../src/presentation/diagram/types.ts';
import { predictTrace } from '../spec/compare.ts';
import type { Step } from '../spec/ops.ts';
import { PROFILES, getProfile } from '../spec/profiles/index.ts';

const TEXT_FORMATS: Array<Exclude<Format, 'svg'>> = ['mermaid', 'dot', 'json', 'text'];
const diagrams = new Map<string, Diagram>();
const key = (p: string, m: MachineName) => `${p}/${m}`;

function d(p: string, m: MachineName): Diagram {
  const k = key(p, m);
  let x = diagrams.get(k);
  if (!x) diagrams.set(k, (x = buildDiagram(getProfile(p), m)));
  return x;
}

let mermaidParse: (text: string) => Promise<unknown>;

beforeAll(async () => {
  const w = new Window();
  const g = globalThis as Record<string, unknown>;
  g.window ??= w;
  g.document ??= w.document;
  const m = (await import('mermaid')).default;
  mermaidParse = (t) => m.parse(t);
}, 30_000);

describe.each(PROFILES.map((p) => p.name))('profile %s', (name) => {
  it.each(MACHINES.map((m) => m))('%s diagram: snapshots of the text formats', (m) => {
    const x = d(name, m);
    for (const f of TEXT_FORMATS) expect(renderSync(x, f)).toMatchSnapshot(f);
  });

  it('page and system SVG snapshots (Graphviz laid out in-process)', async () => {
    for (const m of ['page', 'system'] as const) {
      const svg = await dotToSvg(renderDot(d(name, m), { rankdir: m === 'page' ? 'LR' : 'TB' }));
      expect((svg.match(/<g id="node\d+" class="node">/g) ?? []).length).toBe(dotNodeCount(d(name, m)));
      await expect(svg).toMatchFileSnapshot(`__snapshots__/svg/${name}-${m}.svg`);
    }
  });

  it('every DOT output lays out in Graphviz with one SVG node per diagram node', async () => {
    for (const m of MACHINES) {
      const x = d(name, m);
      const svg = await dotToSvg(renderDot(x, { rankdir: 'LR' }));
      expect((svg.match(/class="node"/g) ?? []).length, `${name} ${m}`).toBe(dotNodeCount(x));
    }
  });

  it('every Mermaid output parses with mermaid.parse', async () => {
    for (const m of MACHINES) await expect(mermaidParse(renderMermaid(d(name, m))), `${name} ${m}`).resolves.toBeTruthy();
  });

  it('the page diagram has exactly the regions and states of machines/page.ts', () => {
    const x = d(name, 'page');
    // A profile whose flags give huge folios (hugetlb) also draws the folio machine (machines/folio.ts).
    const folios = getProfile(name).flags.some((f) => (f.effects.folioPages ?? 1) > 1);
    expect(x.groups.map((g) => g.label.replace(/ \(.*\)$/, ''))).toEqual([
      'attribute',
      'backing',
      'hostMapping',
      'pins',
      'trustedEntity',
      'directMap',
      'stage2',
      ...(folios ? ['folio'] : []),
    ]);
    const states = x.nodes.filter((n) => (n.kind === 'state' || n.kind === 'transient') && n.group !== 'folio').map((n) => n.label);
    expect(states).toEqual([
      'created',
      'shared',
      'toPrivate',
      'private',
      'toShared',
      'hole',
      'allocated',
      'initialised',
      'unmapped',
      'mapped',
      'unpinned',
      'pinned',
      'unprepared',
      'prepared',
      'populated',
      'present',
      'removed',
      'none',
      'shared',
      'private',
    ]);
    expect(x.nodes.filter((n) => n.kind === 'initial')).toHaveLength(folios ? 8 : 7);
    if (folios)
      expect(x.nodes.filter((n) => n.group === 'folio' && n.kind === 'state').map((n) => n.label)).toEqual(['none', 'whole', 'split']);
  });

  it('error edges are distinct and name their errno or signal', () => {
    for (const m of ['page', 'guestMemfd', 'vm'] as const) {
      const x = d(name, m);
      const errors = x.edges.filter((e) => e.kind === 'error');
      expect(errors.length, m).toBeGreaterThan(0);
      for (const e of errors) {
        expect(e.errno, e.id).toMatch(/^(E[A-Z]+|SIG[A-Z]+|KVM_EXIT)/);
        expect(x.nodes.find((n) => n.id === e.to)?.kind, e.id).toBe('error');
        const dot = renderSync(x, 'dot');
        expect(dot).toContain(`-> ${e.to} [`);
      }
      const mm = renderMermaid(x);
      for (const e of errors) expect(mm).toContain(`--> ${e.to} : `);
      expect(mm).toMatch(/: (\(never\) )?✗ /);
    }
    const page = d(name, 'page');
    const p = getProfile(name);
    const sig = p.vmTypes[primaryVmType(p)]?.privateHostAccess;
    expect(
      page.edges.some((e) => e.kind === 'error' && e.from === 'page_attribute_private' && e.op.startsWith('host fault') && e.errno === sig),
    ).toBe(true);
  });

  it('every page state the profile reaches is drawn as reachable, and nothing it never reaches is', () => {
    const p = getProfile(name);
    const vmType = primaryVmType(p);
    const x = d(name, 'page');
    const reached = new Map<string, Set<string>>();
    for (const s of selectSlices(exploreCached(p), vmType)) {
      for (const k of s.pageStates.keys()) {
        const pr = parseProjectionKey(k);
        const put = (region: string, v: string) => reached.set(region, (reached.get(region) ?? new Set()).add(v));
        put('attribute', pr.attribute);
        put('backing', pr.backing);
        put('hostMapping', pr.mapped ? 'mapped' : 'unmapped');
        put('pins', pr.pinned ? 'pinned' : 'unpinned');
        put('trustedEntity', pr.trustedEntity);
        put('stage2', pr.stage2);
        put('directMap', pr.directMap);
        put('folio', pr.folio ?? 'none');
      }
    }
    for (const n of x.nodes.filter((y) => y.kind === 'state')) {
      // `page.attribute.shared`, or `folio.whole` for the folio machine.
      const path = String(n.data?.path).split('.');
      const [region, value] = path[0] === 'folio' ? path : path.slice(1);
      const seen = reached.get(region as string)?.has(value as string) ?? false;
      expect(n.status === 'normal', `${name} ${region}.${value}`).toBe(seen);
    }
  });

  it('the reachable-state view draws every projected page state the bounded search found', () => {
    const p = getProfile(name);
    const x = d(name, 'system');
    const states = new Set<string>();
    for (const s of selectSlices(exploreCached(p), primaryVmType(p)))
      if (s.create.outcome === 'ok') for (const k of s.pageStates.keys()) states.add(k);
    expect(x.nodes.filter((n) => n.kind === 'state')).toHaveLength(states.size);
    expect(states.size).toBeGreaterThan(1);
    for (const e of x.edges) {
      expect(x.nodes.some((n) => n.id === e.from) || x.groups.some((g) => g.id === e.from), e.id).toBe(true);
      expect(
        x.nodes.some((n) => n.id === e.to),
        e.id,
      ).toBe(true);
    }
  });
});

describe('what the diagrams say about particular profiles', () => {
  const edge = (p: string, id: string) => d(p, 'page').edges.find((e) => e.id === id);

  it('linux-6.18: no conversion, so the in-transition states and conversion edges are never taken', () => {
    const x = d('linux-6.18', 'page');
    for (const s of ['page_attribute_toPrivate', 'page_attribute_toShared'])
      expect(x.nodes.find((n) => n.id === s)?.status).toBe('unreachable');
    expect(edge('linux-6.18', 'page.attribute.shared:CONVERT_BEGIN:0')?.status).toBe('unreachable');
    expect(edge('linux-6.18', 'page.attribute.shared:CONVERT_BEGIN:0')?.op).toMatch(/no conversion/);
    const enotty = x.edges.find((e) => e.kind === 'error' && e.from === 'page_attribute' && e.op === 'KVM_SET_MEMORY_ATTRIBUTES2');
    expect(enotty?.errno).toBe('ENOTTY');
    expect(x.edges.find((e) => e.source === 'set_memory_attributes2.elevated-refcount')?.status).toBe('unreachable');
    expect(renderSync(x, 'text')).toContain('..> toPrivate');
  });

  it('inplace-conversion: KVM_SET_MEMORY_ATTRIBUTES2 drives the attribute, EAGAIN (error_offset) is reachable', () => {
    const e = edge('inplace-conversion', 'page.attribute.shared:CONVERT_BEGIN:0');
    expect(e?.op).toBe('KVM_SET_MEMORY_ATTRIBUTES2(PRIVATE): begin');
    expect(e?.status).toBe('normal');
    const eagain = d('inplace-conversion', 'page').edges.find((x) => x.source === 'set_memory_attributes2.elevated-refcount');
    expect(eagain?.errno).toBe('EAGAIN (error_offset)');
    expect(eagain?.status).toBe('normal');
    expect(renderMermaid(d('inplace-conversion', 'page'))).toContain(
      'page_attribute_toPrivate --> err_EAGAIN__error_offset_ : ✗ KVM_SET_MEMORY_ATTRIBUTES2(PRIVATE): commit [page pinned] → EAGAIN (error_offset)',
    );
  });

  it('sev-snp: per-VM attributes never change a guest_memfd page attribute; populate is LAUNCH_UPDATE', () => {
    expect(edge('sev-snp', 'page.attribute.shared:CONVERT_BEGIN:0')?.op).toBe('KVM_SET_MEMORY_ATTRIBUTES(PRIVATE): begin');
    expect(edge('sev-snp', 'page.attribute.private:CONVERT_BEGIN:0')?.status).toBe('unreachable');
    expect(edge('sev-snp', 'page.trustedEntity.unprepared:POPULATE:0')?.op).toBe('KVM_SEV_SNP_LAUNCH_UPDATE');
    expect(edge('sev-snp', 'page.trustedEntity.unprepared:POPULATE:0')?.status).toBe('normal');
    expect(edge('tdx', 'page.trustedEntity.unprepared:POPULATE:0')?.op).toBe('KVM_TDX_INIT_MEM_REGION');
    expect(edge('arm-cca', 'page.trustedEntity.unprepared:POPULATE:0')?.op).toBe('KVM_ARM_RMI_POPULATE');
  });

  it('pkvm: a host fault on private memory is SIGSEGV; no-direct-map removes folios', () => {
    expect(d('pkvm', 'page').edges.some((e) => e.from === 'page_attribute_private' && e.errno === 'SIGSEGV')).toBe(true);
    const nd = buildDiagram(getProfile('no-direct-map'), 'page', { flags: (1 << 2) | 1 });
    expect(nd.edges.find((e) => e.id === 'page.directMap.present:ALLOCATE:0')?.status).toBe('normal');
    expect(d('linux-6.18', 'page').edges.find((e) => e.id === 'page.directMap.present:ALLOCATE:0')?.note).toMatch(
      /disabled by the profile's rules/,
    );
  });

  it('exclusive-gup: conversion does not check references, so no EAGAIN edge', () => {
    expect(d('exclusive-gup', 'page').edges.some((e) => e.source === 'set_memory_attributes2.elevated-refcount')).toBe(false);
    expect(d('exclusive-gup', 'page').subtitle.join(' ')).toContain('conversion checks references no');
  });

  it('the JSON format is an XState machine config (Stately-importable) carrying the ABI words', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the test walks a deep XState config by key
    const j = JSON.parse(renderSync(d('inplace-conversion', 'page'), 'json')) as Record<string, any>;
    expect(j.id).toBe('page');
    expect(j.type).toBe('parallel');
    expect(Object.keys(j.states)).toEqual(['attribute', 'backing', 'hostMapping', 'pins', 'trustedEntity', 'directMap', 'stage2']);
    const begin = j.states.attribute.states.shared.on.CONVERT_BEGIN[0];
    expect(begin).toMatchObject({
      target: '#page.attribute.toPrivate',
      guard: 'toPrivate',
      meta: { abi: 'KVM_SET_MEMORY_ATTRIBUTES2(PRIVATE): begin', status: 'normal' },
    });
    expect(j.states.attribute.states.toPrivate.meta.errors.some((e: { errno: string }) => e.errno === 'EAGAIN (error_offset)')).toBe(true);
  });

  it('sequence diagrams of traces parse as Mermaid and draw one participant box per lifeline', async () => {
    const steps: Step[] = [
      { op: 'create_vm', type: 'sw_protected', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: 4096, flags: 3, as: 'g0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: 4096, prot: 'rw', shared: true, as: 'm0' },
      { op: 'pin', map: 'm0', offset: 0, len: 4096 },
      { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: 4096, attributes: 8 },
    ];
    const p = getProfile('inplace-conversion');
    const seq = traceSequence(
      'pin then convert',
      steps,
      predictTrace(p, steps).map((r) => r.outcome),
      p,
    );
    const svg = renderSequenceSvg(seq);
    expect((svg.match(/class="node participant"/g) ?? []).length).toBe(4);
    expect(svg).toContain('EAGAIN (error_offset 0)');
    await expect(mermaidParse(renderSequenceMermaid(seq))).resolves.toBeTruthy();
    const a = getProfile('sw-protected');
    const cmp = comparedSequence(
      'compared',
      steps,
      { profile: a, outcomes: predictTrace(a, steps).map((r) => r.outcome) },
      { profile: p, outcomes: predictTrace(p, steps).map((r) => r.outcome) },
    );
    expect(cmp.messages.filter((m) => m.differs).length).toBeGreaterThan(0);
    await expect(mermaidParse(renderSequenceMermaid(cmp))).resolves.toBeTruthy();
  });

  it('a sequence sends each step to the object its handle names: a VM or /dev/kvm to KVM, a guest_memfd, mapping or fd to guest_memfd', () => {
    const steps: Step[] = [
      { op: 'check_extension', on: 'kvm', cap: 234 },
      { op: 'create_vm', type: 'default', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: 4096, flags: 3, as: 'g0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: 4096, prot: 'rw', shared: true, as: 'm0' },
      { op: 'uffd_register', map: 'm0', offset: 0, length: 4096, mode: 'minor' },
      { op: 'fstat', h: 'g0' },
      { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: 0, size: 4096, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
    ];
    const p = getProfile('uffd-minor');
    const seq = traceSequence(
      'lifelines',
      steps,
      predictTrace(p, steps).map((r) => r.outcome),
      p,
    );
    const to = seq.messages.filter((m) => m.from === 0).map((m) => seq.participants[m.to]);
    expect(to).toEqual(['KVM', 'KVM', 'KVM', 'guest_memfd', 'guest_memfd', 'guest_memfd', 'KVM']);
  });
});

describe('gmem-spec diagram', () => {
  async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const { main } = await import('../src/cli/main.ts');
    let out = '';
    let err = '';
    const code = await main(argv, { out: (s) => void (out += `${s}\n`), err: (s) => void (err += `${s}\n`) });
    return { code, out, err };
  }

  it('draws any machine in any format, to stdout or a file', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'gmem-diagram-'));
    try {
      const svg = join(dir, 'page.svg');
      const r = await cli(['diagram', '--profile', 'linux-6.18', '--format', 'svg', '--out', svg]);
      expect(r.code).toBe(0);
      expect(readFileSync(svg, 'utf8')).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
      const text = await cli([
        'diagram',
        '--profile',
        'sev-snp',
        '--machine',
        'system',
        '--vm-type',
        'snp',
        '--flags',
        'MMAP',
        '--format',
        'text',
      ]);
      expect(text.code).toBe(0);
      expect(text.out).toContain('VM type snp; guest_memfd flags MMAP');
      expect(text.out).toContain('KVM_SEV_SNP_LAUNCH_UPDATE');
      const mm = await cli(['diagram', '--profile', 'tdx', '--machine', 'vm']);
      expect(mm.out).toMatch(/^---\ntitle: VM lifecycle — tdx\n---\nstateDiagram-v2/);
      expect(mm.out).toContain('KVM_TDX_INIT_VM');
      const json = await cli(['diagram', '--profile', 'pkvm', '--machine', 'guestMemfd', '--format', 'json']);
      expect(JSON.parse(json.out).id).toBe('guestMemfd');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad options with a usage error (exit 2)', async () => {
    expect((await cli(['diagram', '--profile', 'linux-6.18', '--machine', 'nope'])).code).toBe(2);
    expect((await cli(['diagram', '--profile', 'linux-6.18', '--format', 'png'])).code).toBe(2);
    expect((await cli(['diagram', '--profile', 'linux-6.18', '--vm-type', 'snp'])).err).toMatch(/has no VM type snp/);
    expect((await cli(['diagram', '--profile', 'linux-6.18', '--flags', 'HUGETLB'])).err).toMatch(/unknown flag "HUGETLB"/);
    expect((await cli(['diagram', '--profile', 'no-such'])).code).toBe(2);
  });
});
