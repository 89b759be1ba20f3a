/**
 * gmem-spec run: the main job (`npm start`). Explore the profile's state graph within the bound and check its
 * invariants, then run the committed generated suite and the recorded kernel corpus on the local kernel (the
 * linux backend), or on the reference backend with a SKIP line when there is no /dev/kvm. Each failure is
 * listed with a command that shows it in detail, and that works when pasted.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BOUND, formatBound, parseBound } from '../../../spec/explore/bound.ts';
import { explore } from '../../../spec/explore/explorer.ts';
import { invariantsFor } from '../../../spec/invariants.ts';
import { BackendUnavailableError, openBackend } from '../../backend/index.ts';
import type { Backend } from '../../backend/types.ts';
import { runSuite } from '../../conform/runner.ts';
import { loadSuite } from '../../conform/suite.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { withExpectations } from '../expectations.ts';
import { FLAG_OPTION, assertTracesProfile, profileOption, resolveProfile, shellWord } from '../profiles.ts';

/** How many failures are listed one by one. */
const LISTED = 10;

export const run = defineCommand({
  name: 'run',
  summary: 'the main job: explore the default profile, check its invariants, run its suites on the local kernel',
  args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
  options: {
    profile: profileOption('linux-6.18'),
    flag: FLAG_OPTION,
    bound: { type: 'string', value: 'B', default: formatBound(DEFAULT_BOUND), description: 'the exploration bound (vms=,gmems=,pages=,maps=,pins=,slots=)' },
  },
  exitCodes: { 0: 'every invariant holds in every reachable state and every trace agrees with the spec', 1: 'an invariant is violated or a trace diverges (each listed with a command that shows it)', 2: EXIT_BAD_INPUT },
  async action({ values }, io) {
    const resolved = await resolveProfile(values);
    const profile = resolved.profile;
    const bound = parseBound(values.bound);
    io.progress?.phase(`exploring ${profile.name} within ${formatBound(bound)}`);
    const g = explore(profile, bound, { invariants: invariantsFor(profile) });
    io.out(`explored ${profile.name} within ${formatBound(bound)}: ${g.states.length} states, ${g.edgeCount} edges in ${(g.millis / 1000).toFixed(1)} s`);
    for (const v of g.violations) io.out(`  VIOLATION ${v.invariant}: ${v.detail}`);
    if (!g.violations.length) io.out(`  every invariant the profile promises holds in every reachable state`);

    io.progress?.phase('loading the suites');
    const dirs = [join('generated-tests', profile.name), join('examples', 'corpus', profile.name)].filter((d) => existsSync(d));
    const traces = dirs.flatMap((d) => loadSuite(d));
    await assertTracesProfile(traces, resolved, `gmem-spec run ${resolved.args.map(shellWord).join(' ')}`);
    let backend: Backend;
    if (profile.checkedAgainstKernel) {
      try {
        backend = openBackend('linux', profile);
      } catch (e) {
        if (!(e instanceof BackendUnavailableError)) throw e;
        io.out(`SKIP: ${e.reason}; running the suites on the reference backend`);
        backend = openBackend('reference', profile);
      }
    } else {
      io.out(`profile ${profile.name} is modelled only: running its suites on the reference backend`);
      backend = openBackend('reference', profile);
    }
    try {
      const caps = await backend.capabilities();
      if (caps.profile !== profile.name) io.out(`note: the ${caps.backend} backend detected profile ${caps.profile} (${caps.detectedFrom})`);
      io.progress?.phase(`running ${traces.length} traces on the ${caps.backend} backend`);
      const t0 = performance.now();
      let done = 0;
      const results = (await runSuite(backend, profile, traces, () => io.progress?.status(`${++done}/${traces.length}`))).map((r) => withExpectations(profile, r));
      io.progress?.done();
      const failed = results.filter((r) => !r.passed);
      const steps = results.reduce((n, r) => n + r.steps, 0);
      io.out(`ran ${results.length} traces (${steps} steps) from ${dirs.join(', ') || 'nowhere'} on the ${caps.backend} backend in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${results.length - failed.length} passed, ${failed.length} failed`);
      // The backend is named with the profile, so the command works wherever the kernel matches no profile.
      const conform = ['gmem-spec', 'conform', '--backend', caps.backend, ...resolved.args].map(shellWord).join(' ');
      for (const f of failed.slice(0, LISTED)) io.out(`  FAIL ${f.name} (details: ${conform} ${shellWord(f.path)})`);
      if (failed.length > LISTED) io.out(`  … and ${failed.length - LISTED} more (all of them: ${conform} ${dirs.map((d) => `--suite ${shellWord(d)}`).join(' ')})`);
      return g.violations.length || failed.length ? 1 : 0;
    } finally {
      await backend.close();
    }
  },
});
