/** The reference backend: the spec itself executing a trace, so every test can also run without a kernel. */
import type { Trace } from '../../spec/ops.ts';
import type { Profile } from '../../spec/profile.ts';
import { emptySystem } from '../../spec/state.ts';
import { step } from '../../spec/step.ts';
import type { Backend, BackendCapabilities, TraceRun } from './types.ts';

export class ReferenceBackend implements Backend {
  readonly name = 'reference';

  constructor(private readonly profile: Profile) {}

  async capabilities(): Promise<BackendCapabilities> {
    return {
      backend: this.name,
      profile: this.profile.name,
      profiles: [this.profile.name],
      detectedFrom: 'the spec itself (no kernel)',
      caps: {},
    };
  }

  async run(trace: Trace): Promise<TraceRun> {
    let state = emptySystem();
    const outcomes = [];
    for (const s of trace.steps) {
      const r = step(this.profile, state, s);
      outcomes.push(r.outcome);
      state = r.state;
    }
    return { outcomes };
  }

  async close(): Promise<void> {}
}
