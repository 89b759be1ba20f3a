/**
 * gmem-spec run [--profile P] [--bound B]: the main job. Explore the profile's state graph within the bound
 * and check its invariants, then run the committed generated suite and the recorded kernel corpus on the
 * local kernel (the linux backend), or on the reference backend with a SKIP line when there is no /dev/kvm.
 * Exit 0 when the model holds and every trace agrees.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatBound, parseBound } from '../../../spec/explore/bound.ts';
import { explore } from '../../../spec/explore/explorer.ts';
import { invariantsFor } from '../../../spec/invariants.ts';
import { DEFAULT_PROFILE, getProfile } from '../../../spec/profiles/index.ts';
import { kvmAvailable, LinuxBackend } from '../../backend/linux.ts';
import { ReferenceBackend } from '../../backend/reference.ts';
import type { Backend } from '../../backend/types.ts';
import { runSuite } from '../../conform/runner.ts';
import { loadSuite } from '../../conform/suite.ts';
import { onlyOptions, opt, parseArgs, UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const run: Command = {
  name: 'run',
  summary: 'the main job: explore the default profile, check its invariants, run its suites on the local kernel',
  usage: 'gmem-spec run [--profile P] [--bound B]',
  async run(argv, io) {
    const args = parseArgs(argv);
    onlyOptions(args, ['profile', 'bound']);
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const profile = getProfile(opt(args, 'profile') ?? DEFAULT_PROFILE);
    const bound = parseBound(opt(args, 'bound'));
    const g = explore(profile, bound, { invariants: invariantsFor(profile) });
    io.out(`explored ${profile.name} within ${formatBound(bound)}: ${g.states.length} states, ${g.edgeCount} edges in ${(g.millis / 1000).toFixed(1)} s`);
    for (const v of g.violations) io.out(`  VIOLATION ${v.invariant}: ${v.detail}`);
    if (!g.violations.length) io.out(`  every invariant the profile promises holds in every reachable state`);

    const dirs = [join('generated-tests', profile.name), join('examples', 'corpus', profile.name)].filter((d) => existsSync(d));
    const traces = dirs.flatMap((d) => loadSuite(d));
    const kvm = kvmAvailable();
    let backend: Backend;
    if (profile.checkedAgainstKernel && kvm.ok) backend = new LinuxBackend();
    else {
      if (!kvm.ok) io.out(`SKIP: no /dev/kvm (${kvm.reason}); running the suites on the reference backend`);
      else io.out(`profile ${profile.name} is modelled only: running its suites on the reference backend`);
      backend = new ReferenceBackend(profile);
    }
    try {
      const caps = await backend.capabilities();
      if (caps.profile !== profile.name) io.out(`note: the ${caps.backend} backend detected profile ${caps.profile} (${caps.detectedFrom})`);
      const t0 = performance.now();
      const results = await runSuite(backend, profile, traces);
      const failed = results.filter((r) => !r.passed);
      const steps = results.reduce((n, r) => n + r.steps, 0);
      io.out(`ran ${results.length} traces (${steps} steps) from ${dirs.join(', ') || 'nowhere'} on the ${caps.backend} backend in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${results.length - failed.length} passed, ${failed.length} failed`);
      for (const f of failed.slice(0, 10)) io.out(`  FAIL ${f.name} (gmem-spec conform --backend ${caps.backend} ${f.path} for details)`);
      return g.violations.length || failed.length ? 1 : 0;
    } finally {
      await backend.close();
    }
  },
};
