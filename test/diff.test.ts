/**
 * Profile diffs: linux-6.18 against the in-place conversion proposal must show what the seed posts argue about,
 * each behavioural difference with a witness trace that `gmem-spec predict` shows behaving differently under
 * the two profiles; invariants that hold in one profile and break in the other; renderings that parse.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Window } from 'happy-dom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { buildDiagram } from '../src/presentation/diagram/index.ts';
import { renderDot } from '../src/presentation/diagram/render/dot.ts';
import { renderMermaid } from '../src/presentation/diagram/render/mermaid.ts';
import { exploreCached, projectionLabel, parseProjectionKey, sliceKey } from '../src/presentation/diagram/reachable.ts';
import { dotToSvg } from '../src/presentation/diagram/svg.ts';
import { type ProfileDiff, diffProfiles, predictionsDiffer } from '../src/presentation/diff/profileDiff.ts';
import { diffDiagram, diffJson, renderDiffText } from '../src/presentation/diff/render.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { formatTrace } from '../spec/trace.ts';

const A = getProfile('linux-6.18');
const B = getProfile('inplace-conversion');
let d: ProfileDiff;
let dir: string;
let mermaidParse: (text: string) => Promise<unknown>;

beforeAll(async () => {
  d = diffProfiles(A, B);
  dir = mkdtempSync(join(tmpdir(), 'gmem-diff-'));
  const w = new Window();
  const g = globalThis as Record<string, unknown>;
  g.window ??= w;
  g.document ??= w.document;
  const m = (await import('mermaid')).default;
  mermaidParse = (t) => m.parse(t);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += `${s}\n`), err: (s) => void (err += `${s}\n`) });
  return { code, out, err };
}

const behaviour = (key: string) => d.behaviours.find((b) => b.witness.key === key);

describe('linux-6.18 → inplace-conversion', () => {
  it('new toPrivate / toShared in-transition page states become reachable', () => {
    const attrs = new Set(d.pageStates.added.map((k) => parseProjectionKey(k).attribute));
    expect(attrs).toContain('toPrivate');
    expect(attrs).toContain('toShared');
    expect(d.pageStates.removed).toEqual([]);
    expect(d.transitions).toContainEqual({ machine: 'page', edge: 'page.attribute.shared:CONVERT_BEGIN:0', change: 'added' });
    expect(d.transitions).toContainEqual({ machine: 'page', edge: 'page.attribute.toPrivate:CONVERT_COMMIT:0', change: 'added' });
    const w = behaviour('in-transition-states');
    expect(w).toBeDefined();
  });

  it('KVM_SET_MEMORY_ATTRIBUTES2 is a new operation: ENOTTY upstream, converts in place', () => {
    expect(d.declarations).toContainEqual(
      expect.objectContaining({ section: 'attributes ioctl', name: 'KVM_SET_MEMORY_ATTRIBUTES2', change: 'added' }),
    );
    expect(d.rules).toContainEqual(
      expect.objectContaining({ op: 'set_memory_attributes2', rule: 'set_memory_attributes2.private', outcome: 'ok', change: 'added' }),
    );
    // linux-6.18 answers ENOTTY wherever the ioctl can be issued (on an open fd); the proposal keeps ENOTTY only
    // for the default VM.
    const upstream = exploreCached(A).slices.get(sliceKey('default', 3))?.rules.get('set_memory_attributes2');
    expect([...(upstream?.keys() ?? [])].filter((k) => k !== 'set_memory_attributes2.fd-closed')).toEqual([
      'set_memory_attributes2.no-in-place',
    ]);
    expect(upstream?.get('set_memory_attributes2.no-in-place')).toBe('ENOTTY');
    const w = behaviour('attributes2-converts');
    expect(w?.witness.bSays).toMatch(/^ok \[set_memory_attributes2\.(private|shared)\]/);
    expect(w?.reference?.says).toMatch(/ENOTTY/);
  });

  it('a pin then a conversion to private is the new EAGAIN edge, with error_offset', () => {
    const w = behaviour('pinned-conversion-eagain');
    expect(w).toBeDefined();
    const ops = w?.witness.steps.map((s) => s.op);
    expect(ops).toContain('pin');
    expect(ops?.[ops.length - 1]).toBe('set_memory_attributes2');
    expect(w?.witness.bSays).toBe('EAGAIN (error_offset 0) [set_memory_attributes2.elevated-refcount]');
    expect(d.rules).toContainEqual(
      expect.objectContaining({ rule: 'set_memory_attributes2.elevated-refcount', outcome: 'EAGAIN (error_offset 0)', change: 'added' }),
    );
  });

  it('INIT_SHARED becomes legal on SNP, TDX and sw_protected VM types (EINVAL upstream, ok in place)', () => {
    const w = behaviour('init-shared-private-mem');
    expect(w?.witness.bSays).toBe('ok [create_gmem.ok]');
    expect(w?.reference?.says).toMatch(/^EINVAL \[create_gmem\.flags-unsupported\]/);
    const INIT_SHARED = 2;
    for (const [t, upstream] of [
      ['sw_protected', 'sw-protected'],
      ['snp', 'sev-snp'],
      ['tdx', 'tdx'],
    ] as const) {
      expect(exploreCached(B).slices.get(sliceKey(t, INIT_SHARED))?.create.outcome, t).toBe('ok');
      expect(exploreCached(getProfile(upstream)).slices.get(sliceKey(t, INIT_SHARED))?.create, t).toEqual({
        outcome: 'EINVAL',
        rule: 'create_gmem.flags-unsupported',
      });
    }
  });

  it('the attribute is per page: a host fault on a page converted to private is SIGBUS', () => {
    const w = behaviour('host-fault-converted');
    expect(w?.witness.bSays).toBe('SIGBUS [access.private]');
    const ops = w?.witness.steps.map((s) => s.op) ?? [];
    expect(ops.indexOf('set_memory_attributes2')).toBeGreaterThan(ops.indexOf('mmap'));
    expect(['read_mem', 'write_mem']).toContain(ops[ops.length - 1]);
    expect(Number((w?.witness.steps[1] as { flags: number } | undefined)?.flags) & 2).toBe(2);
  });

  it('populate expects private destinations', () => {
    const w = behaviour('populate-private-destination');
    expect(w?.witness.bSays).toBe('EINVAL [populate.not-private]');
    expect(d.rules).toContainEqual(expect.objectContaining({ op: 'populate', rule: 'populate.not-private', change: 'added' }));
  });

  it('every witness trace behaves differently under gmem-spec predict --profile A and --profile B', async () => {
    expect(d.behaviours.length).toBeGreaterThanOrEqual(6);
    for (const [i, b] of d.behaviours.entries()) {
      expect(predictionsDiffer(b.trace, A, B), b.witness.key).toBe(true);
      const file = join(dir, `w${i}.json`);
      writeFileSync(file, formatTrace(b.trace));
      const ra = await cli(['predict', file, '--profile', A.name]);
      const rb = await cli(['predict', file, '--profile', B.name]);
      expect(rb.code, `${b.witness.key}: ${rb.err}`).toBe(0);
      const body = (r: { out: string; err: string; code: number }) => `${r.code}\n${r.out.split('\n').slice(1).join('\n')}${r.err}`;
      expect(body(ra), b.witness.key).not.toBe(body(rb));
    }
  });

  it('renders as a plain-text table, a coloured diagram and JSON', async () => {
    const text = renderDiffText(d);
    expect(text).toMatchSnapshot('text');
    for (const s of ['DECLARATIONS', 'BEHAVIOURAL DIFFERENCES', 'OPERATIONS', 'MACHINE TRANSITIONS', 'REACHABLE PAGE STATES', 'INVARIANTS'])
      expect(text).toContain(s);
    expect(text).toContain(`+ ${projectionLabel(parseProjectionKey(d.pageStates.added.find((k) => k.startsWith('toPrivate')) as string))}`);
    const dd = diffDiagram(d);
    expect(dd.nodes.some((n) => n.status === 'added')).toBe(true);
    expect(dd.edges.some((e) => e.status === 'added')).toBe(true);
    expect(dd.edges.filter((e) => !e.detail).every((e) => e.status !== 'normal' || e.from === 'start')).toBe(true);
    expect(dd.edges.some((e) => e.status === 'changed' && e.errno?.startsWith('EAGAIN') && e.note?.includes('ENOTTY'))).toBe(true);
    const mm = renderMermaid(dd);
    expect(mm).toMatchSnapshot('mermaid');
    expect(mm).toContain('classDef added fill:#e6f4ea');
    await expect(mermaidParse(mm)).resolves.toBeTruthy();
    const dot = renderDot(dd, { rankdir: 'TB' });
    expect(dot).toContain('#2e7d32');
    const svg = await dotToSvg(dot);
    expect((svg.match(/class="node"/g) ?? []).length).toBe(dd.nodes.length + 1);
    const json = diffJson(d) as { behaviours: Array<{ trace: { format: string } }> };
    expect(json.behaviours.every((b) => b.trace.format === 'gmem-trace/1')).toBe(true);
  });

  it('gmem-spec diff writes witness traces and every format', async () => {
    const wdir = join(dir, 'witnesses');
    const r = await cli(['diff', A.name, B.name, '--witnesses', wdir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('BEHAVIOURAL DIFFERENCES');
    const first = JSON.parse(readFileSync(join(wdir, `01-${d.behaviours[0]?.trace.name}.json`), 'utf8')) as { format: string };
    expect(first.format).toBe('gmem-trace/1');
    for (const f of ['mermaid', 'dot', 'json', 'svg']) {
      const x = await cli(['diff', A.name, B.name, '--format', f]);
      expect(x.code, f).toBe(0);
      expect(x.out.length, f).toBeGreaterThan(100);
    }
    expect((await cli(['diff', A.name])).code).toBe(2);
    expect((await cli(['diff', A.name, 'no-such-profile'])).code).toBe(2);
  });
});

describe('invariants that hold in one profile and break in the other', () => {
  it('exclusive-gup lets a pinned page become private: PrivateNeverPinned breaks there only', () => {
    const x = diffProfiles(B, getProfile('exclusive-gup'));
    const row = x.invariants.find((r) => r.name === 'PrivateNeverPinned');
    expect(row).toMatchObject({ a: 'holds', b: 'breaks' });
    expect(row?.witness?.trace.steps.map((s) => s.op)).toContain('pin');
    expect(predictionsDiffer(row?.witness?.trace ?? { format: 'gmem-trace/1', steps: [] }, B, getProfile('exclusive-gup'))).toBe(true);
    const w = x.behaviours.find((b) => b.witness.key === 'invariant:PrivateNeverPinned');
    expect(w?.witness.title).toMatch(/breaks under exclusive-gup only/);
    expect(renderDiffText(x)).toMatch(/PrivateNeverPinned\s+holds\s+breaks/);
  });
});

describe('README diagrams (docs/diagrams) are what the commands produce now', () => {
  it('linux-6.18 page machine and the 6.18 → in-place diff', async () => {
    const page = renderMermaid(buildDiagram(A, 'page'));
    const diff = renderMermaid(diffDiagram(d));
    const stale =
      'stale: regenerate with `gmem-spec diagram --profile linux-6.18 --format mermaid --out docs/diagrams/linux-6.18-page.mmd` and `gmem-spec diff linux-6.18 inplace-conversion --format mermaid --out docs/diagrams/diff-linux-6.18-inplace-conversion.mmd`';
    expect(readFileSync('docs/diagrams/linux-6.18-page.mmd', 'utf8'), stale).toBe(page);
    expect(readFileSync('docs/diagrams/diff-linux-6.18-inplace-conversion.mmd', 'utf8'), stale).toBe(diff);
    await expect(mermaidParse(page)).resolves.toBeTruthy();
  });
});
