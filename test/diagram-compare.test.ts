/**
 * `diagram --compare A B`: two profiles' page states side by side, collapsed by region, in one drawing that
 * fits a 1,500 px page.
 */
import { describe, expect, it } from 'vitest';
import { getProfile } from '../spec/profiles/index.ts';
import { main } from '../src/cli/main.ts';
import { PAGE_WIDTH, compareProfiles, compareSvg, sideDiagram } from '../src/presentation/diagram/compare.ts';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['diagram', ...argv], { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('diagram --compare', () => {
  const c = compareProfiles(getProfile('sev-snp'), getProfile('pkvm'));

  it("collapses each profile's reachable page states by region, on its primary VM type", () => {
    expect([c.a.vmType, c.b.vmType]).toEqual(['snp', 'pkvm']);
    // SNP pages stay private (shared memory lives elsewhere); pKVM converts in place, through in-transition states.
    expect(c.a.regions.attribute.values).toEqual(['private']);
    expect(c.b.regions.attribute.values).toEqual(expect.arrayContaining(['private', 'shared', 'toPrivate', 'toShared']));
    expect(c.a.regions.trustedEntity.values).toContain('populated');
    expect(c.b.regions.trustedEntity.values).not.toContain('populated');
    expect(c.b.regions.mapped.changes).toContainEqual(expect.objectContaining({ from: 'unmapped', to: 'host-mapped' }));
  });

  it('colours what only one side has: red on the first, green on the second', () => {
    const a = sideDiagram(c, 'a');
    const b = sideDiagram(c, 'b');
    expect(a.nodes.find((n) => n.id === 'trustedEntity_populated')?.status).toBe('removed');
    expect(b.nodes.find((n) => n.id === 'attribute_toShared')?.status).toBe('added');
    expect(b.nodes.find((n) => n.id === 'attribute_private')?.status).toBe('normal');
  });

  it('draws both as one SVG no wider than the page, with every node of both sides', async () => {
    const svg = await compareSvg(c);
    const width = Number(/^<svg[^>]*\bwidth="(\d+)"/.exec(svg)?.[1]);
    expect(width).toBeGreaterThan(500);
    expect(width).toBeLessThanOrEqual(PAGE_WIDTH);
    const drawn = (svg.match(/class="node"/g) ?? []).length;
    expect(drawn).toBe(sideDiagram(c, 'a').nodes.length + sideDiagram(c, 'b').nodes.length + 2);
  });

  it('the command prints text, and refuses --compare without a second profile', async () => {
    const r = await cli('--compare', 'linux-6.18', 'inplace-conversion', '--format', 'text');
    expect(r.code).toBe(0);
    expect(r.out).toContain('page states by region: linux-6.18 (VM type default) | inplace-conversion (VM type sw_protected)');
    expect(r.out).toMatch(/shared → toPrivate\*: guest MAP_GPA_RANGE\(private\)/);
    const bad = await cli('--compare', 'linux-6.18');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--compare takes two profiles');
  });
});
