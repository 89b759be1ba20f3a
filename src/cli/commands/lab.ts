/**
 * gmem-spec lab build|status|kernel|exec|selftests: the kernel lab (docs/lab.md).
 * The options of every subcommand are declared here once; LAB_SUBCOMMAND_OPTIONS says which subcommand takes which.
 */
import { ConfigTextError } from '../../lab/fragment.ts';
import {
  LAB_SELFTESTS,
  LabBuildError,
  LabFetchError,
  LabInputError,
  LabInterruptedError,
  type LabProgress,
  LabVmError,
  buildLabKernel,
  buildSelftests,
  labExec,
  progressRenderer,
  runSelftests,
} from '../../lab/index.ts';
import { compileBar } from '../../lab/progress.ts';
import { formatStatus, gatherStatus } from '../../lab/status.ts';
import { tapProblems } from '../../lab/tap.ts';
import { LabToolError } from '../../lab/tools.ts';
import { UsageError, intValue } from '../args.ts';
import { EXIT_BAD_INPUT, EXIT_INTERRUPTED, type Io, defineCommand } from '../command.ts';
import { EXIT_SIGINT, catchInterrupt } from '../interrupt.ts';

export const LAB_SUBCOMMANDS = ['build', 'status', 'kernel', 'exec', 'selftests'] as const;
export type LabSubcommand = (typeof LAB_SUBCOMMANDS)[number];

const LAB_OPTIONS = {
  series: { type: 'string', value: 'S', description: 'build: the kernel series (linux-source-S)', defaultText: '7.3' },
  jobs: { type: 'string', short: 'j', value: 'N', description: 'build: parallel compile jobs', defaultText: 'the number of CPUs' },
  file: {
    type: 'string',
    multiple: true,
    value: 'PATH',
    description: 'exec: put PATH in the guest at /lab/<name> (its shared libraries too)',
  },
  timeout: {
    type: 'string',
    value: 'S',
    description: 'exec, selftests: time limit in seconds, boot included',
    defaultText: 'exec 300, selftests 900',
  },
  'build-only': { type: 'boolean', description: 'selftests: build them (and the kernel) into the cache, do not run them' },
} as const;

/** Which options each subcommand takes. */
export const LAB_SUBCOMMAND_OPTIONS: Record<LabSubcommand, readonly (keyof typeof LAB_OPTIONS)[]> = {
  build: ['series', 'jobs'],
  status: [],
  kernel: [],
  exec: ['file', 'timeout'],
  selftests: ['timeout', 'build-only'],
};

export interface LabRequest {
  sub: LabSubcommand;
  series?: string;
  jobs?: number;
  files: string[];
  timeoutMs?: number;
  buildOnly: boolean;
  /** exec: the guest program and its arguments (everything after `--`). */
  command: string[];
}

type LabValues = {
  series: string | undefined;
  jobs: string | undefined;
  file: string[];
  timeout: string | undefined;
  'build-only': boolean;
};

/** Checks the parsed command line of `lab` (pure): the subcommand, its options, and exec's `-- PROGRAM`. */
export function labRequest(values: LabValues, positionals: readonly string[], afterDashDash: readonly string[]): LabRequest {
  const own = positionals.slice(0, positionals.length - afterDashDash.length);
  const sub = own[0];
  if (!sub || !(LAB_SUBCOMMANDS as readonly string[]).includes(sub))
    throw new UsageError(`lab needs a subcommand: ${LAB_SUBCOMMANDS.join(', ')}${sub ? ` (got ${JSON.stringify(sub)})` : ''}`);
  const s = sub as LabSubcommand;
  if (own.length > 1)
    throw new UsageError(`lab ${s}: unexpected argument ${JSON.stringify(own[1])}${s === 'exec' ? ' (put the program after `--`)' : ''}`);
  const given: Record<keyof typeof LAB_OPTIONS, boolean> = {
    series: values.series !== undefined,
    jobs: values.jobs !== undefined,
    file: values.file.length > 0,
    timeout: values.timeout !== undefined,
    'build-only': values['build-only'],
  };
  for (const [name, present] of Object.entries(given)) {
    if (present && !LAB_SUBCOMMAND_OPTIONS[s].includes(name as keyof typeof LAB_OPTIONS))
      throw new UsageError(`lab ${s} takes no --${name}`);
  }
  if (s === 'exec' && afterDashDash.length === 0)
    throw new UsageError('lab exec needs a program after `--`: lab exec [--file PATH]... -- PROGRAM [ARGS...]');
  if (s !== 'exec' && afterDashDash.length > 0) throw new UsageError(`lab ${s} takes no program (only exec does)`);
  if (values.series !== undefined && !/^\d+\.\d+$/.test(values.series))
    throw new UsageError(`--series must look like 7.3, got ${JSON.stringify(values.series)}`);
  const jobs = intValue(values.jobs, 'jobs', 1, 256);
  const timeout = intValue(values.timeout, 'timeout', 1, 86_400);
  return {
    sub: s,
    ...(values.series !== undefined ? { series: values.series } : {}),
    ...(jobs !== undefined ? { jobs } : {}),
    files: values.file,
    ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
    buildOnly: values['build-only'],
    command: [...afterDashDash],
  };
}

/** Build progress through the CLI's progress display (a status line on a terminal, phase lines elsewhere). */
function progressFor(io: Io): LabProgress {
  const p = io.progress;
  if (!p) return progressRenderer({ write: () => {}, tty: false });
  let lastTenth = -1;
  return (e) => {
    switch (e.kind) {
      case 'phase':
        lastTenth = -1;
        p.phase(`lab ${e.phase}: ${e.detail}`);
        return;
      case 'done':
        p.phase(`lab: ${e.detail}`);
        return;
      case 'compile': {
        p.status(`compiling ${compileBar(e.done, e.expected)}`);
        const tenth = Math.min(9, Math.floor((10 * e.done) / Math.max(e.expected, 1)));
        if (tenth > lastTenth) {
          lastTenth = tenth;
          p.phase(`lab compile: ${compileBar(e.done, e.expected)}`);
        }
        return;
      }
    }
  };
}

/** Ctrl-C aborts the build or boot; nothing half-built is left as a cache entry. */
async function interruptible<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = catchInterrupt();
  try {
    return await body(ctl.signal);
  } finally {
    ctl.dispose();
  }
}

async function runLab(r: LabRequest, io: Io): Promise<number> {
  const progress = progressFor(io);
  switch (r.sub) {
    case 'build': {
      const k = await interruptible((signal) =>
        buildLabKernel({ progress, signal, ...(r.series ? { series: r.series } : {}), ...(r.jobs ? { jobs: r.jobs } : {}) }),
      );
      io.progress?.done();
      io.out(k.bzImage);
      io.err(`lab: ${k.cached ? 'cached' : 'built'} ${k.entry.package} ${k.entry.version}, config ${k.entry.fragmentHash.slice(0, 12)}`);
      return 0;
    }
    case 'kernel': {
      const k = await interruptible((signal) => buildLabKernel({ progress, signal }));
      io.progress?.done();
      io.out(k.bzImage);
      return 0;
    }
    case 'status':
      for (const l of formatStatus(await gatherStatus())) io.out(l);
      return 0;
    case 'exec': {
      const [program, ...args] = r.command as [string, ...string[]];
      const x = await labExec({ files: r.files, program, args, ...(r.timeoutMs ? { timeoutMs: r.timeoutMs } : {}) });
      if (x.stdout) process.stdout.write(x.stdout);
      if (x.stderr) process.stderr.write(x.stderr);
      return x.status;
    }
    case 'selftests': {
      const bins = await interruptible((signal) => buildSelftests({ progress, signal }));
      if (r.buildOnly) {
        io.progress?.done();
        io.out(bins.binaries.map((b) => b.path).join('\n'));
        return 0;
      }
      progress({
        kind: 'phase',
        phase: 'selftests',
        detail: `running ${bins.binaries.length} KVM selftests (${bins.version}) in one lab boot`,
      });
      const run = await runSelftests(bins, r.timeoutMs ? { timeoutMs: r.timeoutMs } : {});
      io.progress?.done();
      io.out(run.tap.trimEnd());
      const s = run.summary;
      io.out(
        `# ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped; guest ${run.exec.programSeconds.toFixed(1)} s, boot to userspace ${run.exec.bootSeconds.toFixed(2)} s (${run.exec.accel})`,
      );
      const problems = tapProblems(
        s,
        LAB_SELFTESTS.map((t) => t.split('/').pop() as string),
      );
      if (problems.length) {
        io.err(`gmem-spec lab selftests: not all passed: ${problems.join('; ')}`);
        return 1;
      }
      return 0;
    }
  }
}

const LAB_ERRORS = [LabBuildError, LabFetchError, LabInputError, LabVmError, LabToolError, ConfigTextError];

export const lab = defineCommand({
  name: 'lab',
  summary: 'the kernel lab: build, cache and boot a Linux 7.3 with KVM_SW_PROTECTED_VM under QEMU',
  args: {
    synopsis: 'build|status|kernel|exec|selftests [-- PROGRAM [ARGS...]]',
    min: 1,
    max: Number.POSITIVE_INFINITY,
    what: 'a subcommand',
  },
  options: LAB_OPTIONS,
  exitCodes: {
    0: 'done (exec: the program exited 0)',
    1: 'selftests: a selftest did not pass',
    2: EXIT_BAD_INPUT,
    [EXIT_SIGINT]: EXIT_INTERRUPTED,
  },
  notes: [
    "build: fetches linux-source-7.3 through a private apt configuration (the mirror comes from the machine's apt sources), builds it with lab/kernel.config over tinyconfig into ~/.cache/gmem-spec/lab (or $XDG_CACHE_HOME, or $GMEM_LAB_CACHE), keyed by package version and config hash. Resumes after an interruption; a second build costs nothing.",
    'status: what the cache holds, what the host offers (no /dev/kvm, /dev/kvm without guest_memfd, /dev/kvm with guest_memfd) and whether QEMU uses KVM or TCG.',
    'kernel: prints the cached bzImage path, building it first if missing.',
    'exec: boots the lab with the files in a busybox initramfs, runs PROGRAM (a host path, copied in with its shared libraries, or a command the guest has), and exits with its status; its stdout and stderr are passed through, the kernel log is kept apart and shown on failure. Example: gmem-spec lab exec -- cat /proc/version',
    "selftests: builds the kernel's KVM selftests for guest_memfd from the same source and runs them in one boot (TAP).",
    '$GMEM_LAB_QEMU names another QEMU binary; $GMEM_LAB_ACCEL=tcg|kvm forces the accelerator.',
  ],
  async action({ values, positionals, afterDashDash }, io) {
    const r = labRequest(values, positionals, afterDashDash);
    try {
      return await runLab(r, io);
    } catch (e) {
      io.progress?.done();
      if (e instanceof LabInterruptedError) {
        io.err(
          `gmem-spec lab ${r.sub}: interrupted; no cache entry was written (the source tree and make's progress are kept, so the next run resumes)`,
        );
        return EXIT_SIGINT;
      }
      if (LAB_ERRORS.some((k) => e instanceof k)) {
        io.err(`gmem-spec lab ${r.sub}: ${(e as Error).message}`);
        return 2;
      }
      throw e;
    }
  },
});
