/**
 * Mutation testing against a kernel (src/backend/deviating.ts): a mutant's deviation injected into recorded
 * kernel answers. Checked without a kernel: a backend that records what it is asked stands in for it.
 */
import { describe, expect, it } from 'vitest';
import type { Outcome, Step, Trace } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { DeviatingBackend, RecordedBackend, deviate } from '../src/backend/deviating.ts';
import { ReferenceBackend } from '../src/backend/reference.ts';
import type { Backend, TraceRun } from '../src/backend/types.ts';
import { loadSuite } from '../src/conform/suite.ts';
import { MUTANTS } from '../src/mutation/catalogue.ts';
import { runMutants } from '../src/mutation/harness.ts';

const truth = getProfile('linux-6.18');
const mutantOf = (id: string) => (MUTANTS.find((m) => m.id === id) as (typeof MUTANTS)[number]).apply(truth);
const trace = (steps: Step[]): Trace => ({ format: 'gmem-trace/1', steps });

/** A "kernel" answering every step with a marker, so the test sees which answers are the kernel's. */
const KERNEL: Outcome = { failed: 'the kernel answered' };

describe("injecting a mutant's deviation into a kernel's answers", () => {
  const steps: Step[] = [
    { op: 'create_vm', type: 'default', as: 'vm0' },
    { op: 'create_gmem', vm: 'vm0', size: 4096, flags: 3, as: 'g0' },
    { op: 'mmap', gmem: 'g0', offset: 0, length: 4096, prot: 'rw', shared: false, as: 'm0' },
    { op: 'write_mem', map: 'm0', offset: 0, value: 1 },
  ];

  it("keeps the kernel's answers up to the first step the mutant answers differently, then answers as the mutant", () => {
    const out = deviate(
      truth,
      mutantOf('mmap-private-accepted'),
      trace(steps),
      steps.map(() => KERNEL),
    );
    expect(out.slice(0, 2)).toEqual([KERNEL, KERNEL]);
    // the truth refuses MAP_PRIVATE with EINVAL; the mutant maps it, and the write then succeeds
    expect(out[2]).toEqual({ ok: true });
    expect(out[3]).toEqual({ access: 'ok' });
  });

  it('a mutant that agrees with the truth on the whole trace changes nothing', () => {
    expect(
      deviate(
        truth,
        mutantOf('punch-keeps-data'),
        trace(steps),
        steps.map(() => KERNEL),
      ),
    ).toEqual(steps.map(() => KERNEL));
  });

  it('the kernel runs each trace once, however many mutants replay it', async () => {
    let runs = 0;
    const counting: Backend = {
      name: 'counting',
      capabilities: () => new ReferenceBackend(truth).capabilities(),
      run: async (t): Promise<TraceRun> => {
        runs++;
        return new ReferenceBackend(truth).run(t);
      },
      close: async () => {},
    };
    const recorded = new RecordedBackend(counting);
    const t = trace(steps);
    await new DeviatingBackend(recorded, truth, mutantOf('mmap-private-accepted')).run(t);
    await new DeviatingBackend(recorded, truth, mutantOf('mmap-exec-accepted')).run(t);
    expect(runs).toBe(1);
  });

  it('on a kernel that agrees with the spec, the suite kills what it kills on the reference', async () => {
    const suite = loadSuite('generated-tests/linux-6.18').slice(0, 120);
    const only = ['mmap-private-accepted', 'punch-keeps-data', 'read-errno-espipe', 'create-unaligned-size'];
    const onReference = await runMutants(truth, suite, only);
    const kernel = new RecordedBackend(new ReferenceBackend(truth));
    const onKernel = await runMutants(truth, suite, only, (p) => new DeviatingBackend(kernel, truth, p));
    expect(onKernel.map((r) => [r.mutant.id, r.killed, r.failingTraces])).toEqual(
      onReference.map((r) => [r.mutant.id, r.killed, r.failingTraces]),
    );
    expect(onKernel.some((r) => r.killed)).toBe(true);
  });
});
