/**
 * Mutation testing against a kernel backend (`gmem-spec mutate --backend lab`): a kernel cannot be made to
 * deviate, so a mutant's deviation is injected into what the kernel answered. The kernel runs each trace
 * once (RecordedBackend); for each mutant, DeviatingBackend replays those answers, walking the true profile
 * and the mutant side by side, and from the first step where the mutant would answer differently it answers
 * as the mutant does (after a deviation the kernel's later answers no longer describe the mutated kernel).
 * A trace the kernel itself disagrees with the spec on says nothing about a mutant: the caller runs the
 * unmutated suite first and keeps only the traces that agree.
 */
import type { Outcome, Trace } from '../../spec/ops.ts';
import { outcomesEqual } from '../../spec/outcome.ts';
import type { Profile } from '../../spec/profile.ts';
import { emptySystem } from '../../spec/state.ts';
import { step } from '../../spec/step.ts';
import type { Backend, BackendCapabilities, RunOptions, TraceRun } from './types.ts';

/** Runs each trace on the kernel once; later runs of the same trace object replay the answers. */
export class RecordedBackend implements Backend {
  private readonly runs = new WeakMap<Trace, Promise<TraceRun>>();
  constructor(readonly kernel: Backend) {}

  get name(): string {
    return this.kernel.name;
  }

  capabilities(): Promise<BackendCapabilities> {
    return this.kernel.capabilities();
  }

  run(trace: Trace, options?: RunOptions): Promise<TraceRun> {
    let r = this.runs.get(trace);
    if (!r) {
      r = this.kernel.run(trace, options);
      this.runs.set(trace, r);
    }
    return r;
  }

  close(): Promise<void> {
    return this.kernel.close();
  }
}

/** The kernel's answers, the mutant's from its first deviation on. */
export function deviate(truth: Profile, mutant: Profile, trace: Trace, kernel: readonly Outcome[]): Outcome[] {
  let t = emptySystem();
  let m = emptySystem();
  let deviated = false;
  return trace.steps.map((s, i) => {
    const mr = step(mutant, m, s);
    m = mr.state;
    if (!deviated) {
      const tr = step(truth, t, s);
      t = tr.state;
      deviated = !outcomesEqual(tr.outcome, mr.outcome);
    }
    return deviated ? mr.outcome : (kernel[i] ?? { failed: 'no outcome' });
  });
}

export class DeviatingBackend implements Backend {
  constructor(
    private readonly recorded: RecordedBackend,
    private readonly truth: Profile,
    private readonly mutant: Profile,
  ) {}

  get name(): string {
    return `${this.recorded.name} (mutated)`;
  }

  async capabilities(): Promise<BackendCapabilities> {
    const c = await this.recorded.capabilities();
    return { ...c, backend: this.name, detectedFrom: `${c.detectedFrom}; with a mutant's deviation injected` };
  }

  async run(trace: Trace, options?: RunOptions): Promise<TraceRun> {
    const { outcomes } = await this.recorded.run(trace, options);
    return { outcomes: deviate(this.truth, this.mutant, trace, outcomes) };
  }

  /** The recorded kernel backend is shared by every mutant: its owner closes it. */
  async close(): Promise<void> {}
}
