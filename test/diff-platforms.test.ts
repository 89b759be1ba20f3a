/**
 * `diff` across platforms whose VM types differ (sev-snp and pkvm): equivalent VM types are paired so that
 * every witness runs on both sides, differences that only say "this VM type does not exist there" are grouped
 * instead of listed, each profile's conversion semantics are declared side by side, and every witness comes
 * with a paragraph whose quoted sources are text of the repository's files.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { predictTrace } from '../spec/compare.ts';
import type { Step } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { type ProfileDiff, diffProfiles, vmTypeMapping } from '../src/presentation/diff/profileDiff.ts';
import { renderDiffText } from '../src/presentation/diff/render.ts';

const A = getProfile('sev-snp');
const B = getProfile('pkvm');
let d: ProfileDiff;

beforeAll(() => {
  d = diffProfiles(A, B);
}, 60_000);

const flat = (s: string) => s.replace(/^[\s>]*/gm, '').replace(/\s+/g, ' ');

describe('diff sev-snp → pkvm', () => {
  it("pairs sev-snp's private-memory VM type with pkvm's, and nothing else", () => {
    expect(vmTypeMapping(A, B)).toEqual({ snp: 'pkvm' });
    expect(d.vmTypeMap).toEqual({ snp: 'pkvm' });
    // Profiles with the same VM types need no pairing.
    expect(vmTypeMapping(getProfile('linux-6.18'), getProfile('linux-7.3'))).toEqual({});
  });

  it('every witness on a paired VM type runs on both sides: each side creates its own VM type and reaches the deciding step', () => {
    const paired = d.behaviours.filter((b) => b.witness.vmTypes);
    expect(paired.length).toBeGreaterThanOrEqual(5);
    for (const b of paired) {
      const tb = b.traceB as { steps: Step[] };
      expect(b.trace.steps.find((s) => s.op === 'create_vm')).toMatchObject({ type: 'snp' });
      expect(tb.steps.find((s) => s.op === 'create_vm')).toMatchObject({ type: 'pkvm' });
      const ra = predictTrace(A, b.trace.steps);
      const rb = predictTrace(B, tb.steps);
      expect('ok' in (ra[0]?.outcome ?? {}), b.witness.key).toBe(true);
      expect('ok' in (rb[0]?.outcome ?? {}), b.witness.key).toBe(true);
      expect(ra).toHaveLength(rb.length);
      expect(JSON.stringify(ra.map((r) => r.outcome)), b.witness.key).not.toBe(JSON.stringify(rb.map((r) => r.outcome)));
    }
  });

  it('the in-place conversion, its EAGAIN and the SIGSEGV on a private page show on the paired VM types', () => {
    const by = (k: string) => d.behaviours.find((b) => b.witness.key === k);
    expect(by('attributes2-converts')?.witness).toMatchObject({
      vmTypes: { a: 'snp', b: 'pkvm' },
      aSays: 'ENOTTY [set_memory_attributes2.no-in-place]',
      bSays: 'ok [set_memory_attributes2.private]',
    });
    expect(by('host-fault-converted')?.witness.bSays).toBe('SIGSEGV [access.private]');
  });

  it('a difference that only says "this VM type does not exist there" is grouped, not listed as a witness', () => {
    for (const b of d.behaviours) {
      const create = b.witness.steps.find((s) => s.op === 'create_vm') as { type: string };
      const last = b.witness.steps[b.witness.at] as Step;
      // No listed witness is the creation of a VM type one side lacks.
      expect(last.op === 'create_vm' && (!A.vmTypes[create.type as 'snp'] || !B.vmTypes[create.type as 'snp']), b.witness.key).toBe(false);
    }
    expect(d.missingVmTypes.map((m) => `${m.vmType}@${m.missingIn}`).sort()).toEqual(['pkvm@sev-snp', 'sev@pkvm']);
    const text = renderDiffText(d);
    expect(text).toContain('fails under pkvm, which has no such VM type');
    expect(text).toContain('EQUIVALENT VM TYPES: sev-snp snp ↔ pkvm pkvm');
  });

  it('declares conversion content and host-fault signals per VM type, without a trace', () => {
    expect(
      d.conversions.map(({ vmTypeA, vmTypeB, a, b, differs }) => ({
        vmTypeA,
        vmTypeB,
        a: { ...a, contentSource: undefined },
        b: { ...b, contentSource: undefined },
        differs,
      })),
    ).toEqual([
      {
        vmTypeA: 'snp',
        vmTypeB: 'pkvm',
        a: {
          kind: 'vm-attributes',
          content: { toPrivate: 'scramble', toShared: 'scramble' },
          hostFault: 'SIGBUS',
          contentSource: undefined,
        },
        b: { kind: 'in-place', content: { toPrivate: 'preserve', toShared: 'preserve' }, hostFault: 'SIGSEGV', contentSource: undefined },
        differs: true,
      },
    ]);
    expect(renderDiffText(d)).toMatch(
      /~ +snp \/ pkvm +vm-attributes → in-place +scramble → preserve +scramble → preserve +SIGBUS → SIGSEGV/,
    );
  });

  it("every witness has a paragraph naming pkvm's rule and what sev-snp does, each source quoted from a file of the repository", () => {
    for (const b of d.behaviours) {
      const e = b.explained;
      expect(e.paragraph, b.witness.key).toMatch(/^Under pkvm, step \d+ \(\w+\) → .*: rule [\w.-]+ \(".*"\) decides it\./);
      expect(e.paragraph, b.witness.key).toMatch(/The baseline sev-snp /);
      expect(e.sources.length, b.witness.key).toBeGreaterThan(0);
      for (const s of e.sources)
        for (const q of s.quotes) {
          const text = q.text.replace(/^… /, '').replace(/ …$/, '');
          expect(flat(readFileSync(q.file, 'utf8')), `${q.file}:${q.line}`).toContain(flat(text));
        }
    }
  });
});
