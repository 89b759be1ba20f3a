/**
 * gmem-spec run: the main job (`npm start`). Explore the profile's state graph within the bound and check its
 * invariants, then run the committed generated suite and the recorded kernel corpus on a kernel that implements
 * the profile: the host's (linux backend) when it serves guest_memfd, else the lab VM's (built first, with its
 * progress, when it is not cached), else the reference backend with a SKIP line saying why. The default job
 * (no --profile) also runs the suites of every other profile that kernel implements: on a host without
 * guest_memfd, the lab's (linux-7.3, sw-protected). Each failure is listed with a command that shows it in
 * detail, and that works when pasted; each kernel run says which kernel ran it (uname -r).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BOUND, formatBound, parseBound } from '../../../spec/explore/bound.ts';
import { explore } from '../../../spec/explore/explorer.ts';
import { invariantsFor } from '../../../spec/invariants.ts';
import { type KernelChoice, chooseKernel, hostProfiles, labProfiles } from '../../backend/choose.ts';
import { detectHost } from '../../backend/host.ts';
import { openBackend } from '../../backend/index.ts';
import { labBackendStatus, openLabBackend, progressLines } from '../../backend/lab.ts';
import { LinuxBackend } from '../../backend/linux.ts';
import type { Backend } from '../../backend/types.ts';
import { labCacheRoot } from '../../lab/paths.ts';
import type { Profile } from '../../../spec/profile.ts';
import { runSuite } from '../../conform/runner.ts';
import { loadSuite } from '../../conform/suite.ts';
import { EXIT_BAD_INPUT, type Io, defineCommand } from '../command.ts';
import { withExpectations } from '../expectations.ts';
import { FLAG_OPTION, type ResolvedProfile, assertTracesProfile, profileOption, resolveProfile, shellWord } from '../profiles.ts';

/** How many failures are listed one by one. */
const LISTED = 10;

export const run = defineCommand({
  name: 'run',
  summary: 'the main job: explore the default profile, check its invariants, run its suites on the local kernel',
  args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
  options: {
    profile: profileOption('linux-6.18'),
    flag: FLAG_OPTION,
    bound: {
      type: 'string',
      value: 'B',
      default: formatBound(DEFAULT_BOUND),
      description: 'the exploration bound (vms=,gmems=,pages=,maps=,pins=,slots=)',
    },
  },
  exitCodes: {
    0: 'every invariant holds in every reachable state and every trace agrees with the spec',
    1: 'an invariant is violated or a trace diverges (each listed with a command that shows it)',
    2: EXIT_BAD_INPUT,
  },
  async action({ values }, io) {
    const resolved = await resolveProfile(values);
    const profile = resolved.profile;
    const bound = parseBound(values.bound);
    io.progress?.phase(`exploring ${profile.name} within ${formatBound(bound)}`);
    const g = explore(profile, bound, { invariants: invariantsFor(profile) });
    io.out(
      `explored ${profile.name} within ${formatBound(bound)}: ${g.states.length} states, ${g.edgeCount} edges in ${(g.millis / 1000).toFixed(1)} s`,
    );
    for (const v of g.violations) io.out(`  VIOLATION ${v.invariant}: ${v.detail}`);
    if (!g.violations.length) io.out(`  every invariant the profile promises holds in every reachable state`);

    const kernels = new KernelBackends(io);
    try {
      const choice = chooseKernel(profile.name, 'kernel', { allowBuild: true });
      let failed = await runSuites(io, resolved, choice.ok ? await kernels.open(choice) : fallback(io, profile, choice.skip));
      // The default job also checks the other profiles the kernel here implements (on a host without
      // guest_memfd: the lab's).
      if (values.profile === undefined && values.flag.length === 0) {
        for (const name of await kernels.otherProfiles(profile.name)) {
          const extra = chooseKernel(name, 'kernel', { allowBuild: true });
          if (!extra.ok) {
            io.out(extra.skip);
            continue;
          }
          failed += await runSuites(io, await resolveProfile({ profile: name }), await kernels.open(extra));
        }
      }
      return g.violations.length || failed ? 1 : 0;
    } finally {
      await kernels.close();
    }
  },
});

function fallback(io: Io, profile: Profile, skip: string): Backend {
  io.out(`${skip}; running the ${profile.name} suites on the reference backend`);
  return openBackend('reference', profile);
}

/** The kernel backends of this run, opened once each (a lab VM boots once for every suite it runs). */
class KernelBackends {
  private readonly open_ = new Map<string, Backend>();
  constructor(private readonly io: Io) {}

  async open(choice: Extract<KernelChoice, { ok: true }>): Promise<Backend> {
    const had = this.open_.get(choice.backend);
    if (had) return had;
    let b: Backend;
    if (choice.backend === 'lab') {
      const host = detectHost();
      const why = host.ok ? choice.why : `${host.reason}: running on the lab kernel instead`;
      if (choice.build) {
        this.io.out(
          `${why}. Building the lab kernel first (Linux 7.3 with KVM_SW_PROTECTED_VM, from Debian's linux-source-7.3) into ${labCacheRoot()}: about 10 min on 2 cores, once; later runs reuse it`,
        );
      } else this.io.out(`${why}: booting the lab VM`);
      b = openLabBackend({ progress: progressLines(this.io.err) });
    } else b = new LinuxBackend();
    this.open_.set(choice.backend, b);
    return b;
  }

  /** The profiles other than `main` that the kernel here implements: the host's if it serves guest_memfd, else the lab's. */
  async otherProfiles(main: string): Promise<string[]> {
    const host = detectHost();
    if (host.ok) return hostProfiles(host).filter((p) => p !== main);
    const lab = labBackendStatus();
    if (!lab.ok) {
      this.io.out(
        `SKIP: the lab cannot run (${lab.reason}): the lab's profiles (${labProfiles().join(', ')}) are not checked against a kernel`,
      );
      return [];
    }
    return labProfiles().filter((p) => p !== main);
  }

  async close(): Promise<void> {
    for (const b of this.open_.values()) await b.close();
  }
}

/** Run a profile's generated suite and recorded corpus on a backend; the number of failing traces. */
async function runSuites(io: Io, resolved: ResolvedProfile, backend: Backend): Promise<number> {
  const profile = resolved.profile;
  io.progress?.phase(`loading the ${profile.name} suites`);
  const dirs = [join('generated-tests', profile.name), join('examples', 'corpus', profile.name)].filter((d) => existsSync(d));
  const traces = dirs.flatMap((d) => loadSuite(d));
  if (!traces.length) {
    io.out(`no suite for ${profile.name} yet (generated-tests/${profile.name}, examples/corpus/${profile.name}): nothing to run`);
    return 0;
  }
  await assertTracesProfile(traces, resolved, `gmem-spec run ${resolved.args.map(shellWord).join(' ')}`);
  const caps = await backend.capabilities();
  if (caps.unavailable) {
    io.out(`FAIL: the ${caps.backend} backend could not run the ${profile.name} suites: ${caps.unavailable}`);
    return 1;
  }
  const kernel = caps.kernel ? ` (Linux ${caps.kernel})` : '';
  if (!caps.profiles.includes(profile.name))
    io.out(`note: the ${caps.backend} backend${kernel} detected profile ${caps.profile} (${caps.detectedFrom})`);
  io.progress?.phase(`running ${traces.length} ${profile.name} traces on the ${caps.backend} backend`);
  const t0 = performance.now();
  let done = 0;
  const results = (await runSuite(backend, profile, traces, () => io.progress?.status(`${++done}/${traces.length}`))).map((r) =>
    withExpectations(profile, r),
  );
  io.progress?.done();
  const failed = results.filter((r) => !r.passed);
  const steps = results.reduce((n, r) => n + r.steps, 0);
  io.out(
    `ran ${results.length} ${profile.name} traces (${steps} steps) from ${dirs.join(', ')} on the ${caps.backend} backend${kernel} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${results.length - failed.length} passed, ${failed.length} failed`,
  );
  // The backend is named with the profile, so the command works wherever the kernel matches no profile.
  const conform = ['gmem-spec', 'conform', '--backend', caps.backend, ...resolved.args].map(shellWord).join(' ');
  for (const f of failed.slice(0, LISTED)) io.out(`  FAIL ${f.name} (details: ${conform} ${shellWord(f.path)})`);
  if (failed.length > LISTED)
    io.out(`  … and ${failed.length - LISTED} more (all of them: ${conform} ${dirs.map((d) => `--suite ${shellWord(d)}`).join(' ')})`);
  return failed.length;
}
