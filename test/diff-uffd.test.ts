/**
 * `gmem-spec diff linux-7.3 uffd-minor`: the two profiles differ only in what userfaultfd does on a guest_memfd
 * mapping, so the diff finds anything only if its operation universe has the userfaultfd operations. Each
 * userfaultfd difference is listed with linux-7.3's refusal (its errno and rule) against uffd-minor's answer, and
 * its witness trace replays under `gmem-spec predict --profile` for both. The diagrams' universe stays without
 * them (their committed output must not change).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { INITIAL_CTX, globalUniverse, nextOps } from '../src/presentation/diagram/reachable.ts';
import { type Behaviour, diffProfiles } from '../src/presentation/diff/profileDiff.ts';
import { renderDiffText } from '../src/presentation/diff/render.ts';
import { diffUniverse } from '../src/presentation/diff/universe.ts';
import { predictTrace } from '../spec/compare.ts';
import { outcomesEqual } from '../spec/outcome.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { formatTrace } from '../spec/trace.ts';

const A = getProfile('linux-7.3');
const B = getProfile('uffd-minor');
const d = diffProfiles(A, B);
const dir = mkdtempSync(join(tmpdir(), 'gmem-diff-uffd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function predict(file: string, profile: string): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(['predict', file, '--profile', profile], {
    out: (s) => void (out += `${s}\n`),
    err: (s) => void (out += `${s}\n`),
  });
  return { code, out };
}

const byLastOp = (op: string): Behaviour[] => d.behaviours.filter((b) => b.witness.steps[b.witness.at]?.op === op);

describe('diff linux-7.3 → uffd-minor', () => {
  it('the diff universe has the userfaultfd operations; the diagrams universe does not', () => {
    const mapped = { ...INITIAL_CTX, vmType: 'default' as const, flags: 3, map: 'mapped' as const };
    const ops = (u: Parameters<typeof nextOps>[1]) =>
      nextOps(mapped, u).map((o) => `${o.step.op}${'mode' in o.step ? `:${o.step.mode}` : ''}`);
    expect(ops(diffUniverse(A, B))).toEqual(expect.arrayContaining(['uffd_register:minor', 'uffd_register:missing', 'uffd_continue']));
    expect(ops(globalUniverse()).filter((o) => o.startsWith('uffd'))).toEqual([]);
    // Neither profile models userfaultfd: the diff explores exactly what the diagrams explore.
    expect(diffUniverse(getProfile('linux-6.18'), getProfile('inplace-conversion'))).toBe(globalUniverse());
  });

  it('UFFDIO_REGISTER: linux-7.3 refuses it with EINVAL (no vm_uffd_ops), uffd-minor accepts it', () => {
    const reg = byLastOp('uffd_register');
    expect(reg.length).toBeGreaterThan(0);
    const w = reg[0]?.witness;
    expect(w?.aSays).toBe('EINVAL [uffd_register.vma-cannot-userfault]');
    expect(w?.bSays).toBe('ok [uffd_register.ok]');
    expect(w?.steps.map((s) => s.op)).toEqual(['create_vm', 'create_gmem', 'mmap', 'uffd_register']);
  });

  it('UFFDIO_CONTINUE and faults on registered pages: ENOENT / plain access under linux-7.3, the proposal under uffd-minor', () => {
    const says = d.behaviours.map((b) => `${b.witness.steps[b.witness.at]?.op}: ${b.witness.aSays} | ${b.witness.bSays}`);
    expect(says).toEqual(
      expect.arrayContaining([
        'uffd_continue: ENOENT [uffd_continue.not-registered] | ok [uffd_continue.ok]',
        expect.stringMatching(/^read_mem: ok, reads 0 \[access\.read\] \| UFFD_MINOR \[access\.uffd-minor\]$/),
        expect.stringMatching(/^read_mem: ok, reads 0 \[access\.read\] \| UFFD_MISSING \[access\.uffd-missing\]$/),
        'pin: ok [pin.ok] | UFFD_MINOR [pin.uffd-minor]',
      ]),
    );
    expect(d.rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ op: 'uffd_register', rule: 'uffd_register.vma-cannot-userfault', change: 'removed' }),
        expect.objectContaining({ op: 'uffd_register', rule: 'uffd_register.ok', change: 'added' }),
        expect.objectContaining({ op: 'uffd_continue', rule: 'uffd_continue.ok', change: 'added' }),
      ]),
    );
  });

  it('declares the difference: UFFDIO_REGISTER refused in every mode against MINOR and MISSING accepted', () => {
    expect(d.declarations).toEqual([
      {
        section: 'userfaultfd',
        name: 'UFFDIO_REGISTER on a guest_memfd mapping',
        change: 'changed',
        a: 'refuses every mode (EINVAL)',
        b: 'accepts MINOR, MISSING',
      },
    ]);
    expect(renderDiffText(d)).toMatch(/^DECLARATIONS \(1\)$/m);
  });

  it('every userfaultfd witness replays under gmem-spec predict --profile linux-7.3 and --profile uffd-minor', async () => {
    const uffd = d.behaviours.filter((b) => b.witness.steps.some((s) => s.op.startsWith('uffd_')));
    expect(uffd.length).toBeGreaterThanOrEqual(8);
    for (const [i, b] of uffd.entries()) {
      const w = b.witness;
      // The model replays it: each side's outcome at the deciding step is the one the witness reports.
      const ra = predictTrace(A, b.trace.steps);
      const rb = predictTrace(B, b.trace.steps);
      expect(ra[w.at]?.rule.id, w.key).toBe(w.a[w.at]?.rule.id);
      expect(rb[w.at]?.rule.id, w.key).toBe(w.b[w.at]?.rule.id);
      expect(outcomesEqual(ra[w.at]?.outcome as never, rb[w.at]?.outcome as never), w.key).toBe(false);
      // And so does the command a reviewer runs on the trace file.
      const file = join(dir, `w${i}.json`);
      writeFileSync(file, formatTrace(b.trace));
      const pa = await predict(file, A.name);
      const pb = await predict(file, B.name);
      expect(pa.code, `${w.key}: ${pa.out}`).toBe(0);
      expect(pb.code, `${w.key}: ${pb.out}`).toBe(0);
      expect(pa.out, w.key).toContain(`[${w.a[w.at]?.rule.id}:`);
      expect(pb.out, w.key).toContain(`[${w.b[w.at]?.rule.id}:`);
    }
  });
});
