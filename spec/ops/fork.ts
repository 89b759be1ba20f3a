/** fork(2): nested steps run in a child process that then exits (step() itself runs them). */
import { opSchema } from './fields.ts';
import type { OpModule } from './types.ts';

export const forkSchema = opSchema('fork', [{ name: 'steps', type: { kind: 'steps' } }]);

export const forkOp: OpModule<'fork'> = {
  ...forkSchema,
  summary: 'fork(2), the nested steps in the child, then its exit',
  decide: 'nested-steps',
  checkList: { none: 'fork always succeeds; its nested steps have their own outcomes' },
  createsHandle: false,
  pageAddress: { none: 'its nested steps address pages, not the fork' },
  footprint: { reads: ['names', 'fds', 'maps'], writes: ['vms', 'gmems', 'fds', 'maps', 'pins', 'names'] },
  phrase: (_p, s, phraseOf) => `in a forked child: ${s.steps.map(phraseOf).join('; ')}`,
  edgeWord: (_p, s) => s.op,
  wireEnums: {},
  probes: { none: 'its nested steps are other operations; fork itself is exercised by hand-written traces' },
  // The child runs its steps with their own assertions and exits 0; the parent asserts that it did.
  cSelftest: {
    step: (s, o) =>
      'ok' in o
        ? {
            locals: ['pid'],
            lines: [
              'pid = fork();',
              'ASSERT_GE(pid, 0) TH_LOG("fork()");',
              'if (pid == 0) {',
              { child: s.steps },
              '\t_exit(0);',
              '}',
              `ASSERT_CHILD_OK(pid) TH_LOG("the forked child's steps behave as the spec says");`,
            ],
          }
        : { unsupported: 'a fork that fails' },
  },
};
