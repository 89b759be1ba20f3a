/** fork(2): nested steps run in a child process that then exits (step() itself runs them). */
import type { OpModule } from './types.ts';

export const forkOp: OpModule<'fork'> = {
  name: 'fork',
  summary: 'fork(2), the nested steps in the child, then its exit',
  fields: [{ name: 'steps', type: { kind: 'steps' } }],
  decide: 'nested-steps',
  checkList: { none: 'fork always succeeds; its nested steps have their own outcomes' },
  footprint: { reads: ['names', 'fds', 'maps'], writes: ['vms', 'gmems', 'fds', 'maps', 'pins', 'names'] },
  phrase: (_p, s, phraseOf) => `in a forked child: ${s.steps.map(phraseOf).join('; ')}`,
  wireEnums: {},
  probes: { none: 'its nested steps are other operations; fork itself is exercised by hand-written traces' },
};
