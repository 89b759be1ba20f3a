/**
 * The kernel backends: trace steps executed by the native helper (native/gmem-helper.c, protocol in
 * native/PROTOCOL.md) on a real kernel. One implementation for every place the helper can run: `linux` is
 * the host kernel (the helper a child process of node), `lab` the lab VM (src/backend/lab.ts: the same
 * helper over the VM's channel). One long-lived helper server per backend; every trace runs in a freshly
 * forked child, so no state leaks between traces.
 */
import { release as hostRelease } from 'node:os';
import { KVM_CAP } from '../../spec/constants.ts';
import type { Outcome, Trace } from '../../spec/ops.ts';
import { PROFILES } from '../../spec/profiles/index.ts';
import { defaultHelperPath } from './host.ts';
import { profilesOf } from './kernelProfile.ts';
import type { Backend, BackendCapabilities, RunOptions, TraceRun } from './types.ts';
import { HelperProcess, type RawTraceResult, type TraceEnd } from './linux/helperProcess.ts';
import { LocalTransport, type TransportFactory } from './linux/transport.ts';
import { type PlanNode, describeStep, parseAnswer, planTrace } from './linux/wire.ts';

export { defaultHelperPath, detectHost, type HostKernel } from './host.ts';

export const DEFAULT_TIMEOUT_MS = 10_000;

export interface LinuxBackendOptions {
  /** The local helper binary (ignored when `connect` is given). */
  helperPath?: string;
  /** Default per-trace time limit (RunOptions.timeoutMs overrides it). */
  timeoutMs?: number;
  /** The backend's name in reports: `linux` (the host kernel, the default) or `lab`. */
  name?: string;
  /** How a helper is reached; default: a child process running `helperPath`. */
  connect?: TransportFactory;
  /** How long a new helper may take to announce itself (a lab VM boots first). */
  startTimeoutMs?: number;
  /** The kernel release the helper runs on, when the transport does not say (default: the host's). */
  release?: string;
}

/** The capabilities read for profile detection, in the order they are reported. */
const DETECTION_CAPS: readonly (keyof typeof KVM_CAP)[] = [
  'GUEST_MEMFD',
  'VM_TYPES',
  'GUEST_MEMFD_FLAGS',
  'MEMORY_ATTRIBUTES',
  'USER_MEMORY2',
  'MEMORY_FAULT_INFO',
  'PRE_FAULT_MEMORY',
];

const knownProfile = (name: string) => PROFILES.some((p) => p.name === name);

/** Failed starts in a row after which a backend gives up: a second chance covers a boot that timed out once. */
const START_ATTEMPTS = 2;

export class LinuxBackend implements Backend {
  readonly name: string;
  private helper: HelperProcess | undefined;
  private starting: Promise<HelperProcess> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  readonly helperPath: string;
  private readonly defaultTimeoutMs: number;
  private readonly connect: TransportFactory;
  private readonly startTimeoutMs: number;
  private readonly fallbackRelease: string;
  /** The release reported by the last helper that announced one. */
  private release: string | undefined;
  /** Helper starts that failed in a row; at START_ATTEMPTS the backend stops trying (a VM that does not boot). */
  private startFailures = 0;
  private lastStartFailure = '';

  constructor(options: LinuxBackendOptions = {}) {
    this.name = options.name ?? 'linux';
    this.helperPath = options.helperPath ?? defaultHelperPath();
    this.defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const path = this.helperPath;
    this.connect = options.connect ?? (async () => new LocalTransport(path));
    this.startTimeoutMs = options.startTimeoutMs ?? 5000;
    this.fallbackRelease = options.release ?? hostRelease();
  }

  /** The helper server's pid, if one is running locally (for tests that check nothing is left behind). */
  get helperPid(): number | undefined {
    return this.helper?.alive ? this.helper.pid : undefined;
  }

  /** `uname -r` of the kernel the helper runs on (known once a helper has started, for a lab VM). */
  get kernelRelease(): string {
    return this.release ?? this.fallbackRelease;
  }

  async capabilities(): Promise<BackendCapabilities> {
    const steps = DETECTION_CAPS.map((name) => ({ op: 'check_extension' as const, on: 'kvm', cap: KVM_CAP[name] }));
    const { outcomes } = await this.run({ format: 'gmem-trace/1', steps });
    const caps: Record<string, number> = {};
    const problems: string[] = [];
    DETECTION_CAPS.forEach((name, i) => {
      const o = outcomes[i];
      if (o && 'ok' in o && o.ret !== undefined) caps[name] = Number(o.ret);
      else problems.push(`${name}(${KVM_CAP[name]}): ${JSON.stringify(o)}`);
    });
    const kernel = this.kernelRelease;
    const found = profilesOf({ release: kernel, caps }, knownProfile);
    if (problems.length) {
      const reasons = new Set(outcomes.map((o) => ('failed' in o ? o.failed : '')));
      const [only] = [...reasons];
      const unavailable = reasons.size === 1 && only ? only : undefined;
      if (unavailable)
        return { backend: this.name, profile: 'linux-unknown', profiles: [], kernel, detectedFrom: unavailable, caps, unavailable };
      return {
        backend: this.name,
        profile: 'linux-unknown',
        profiles: [],
        kernel,
        detectedFrom: `${found.detectedFrom}; could not read ${problems.join('; ')}`,
        caps,
      };
    }
    return {
      backend: this.name,
      profile: found.profile,
      profiles: found.profiles,
      kernel,
      detectedFrom: `KVM_CHECK_EXTENSION on ${found.detectedFrom}`,
      caps,
    };
  }

  run(trace: Trace, options: RunOptions = {}): Promise<TraceRun> {
    const next = this.queue.then(() => this.runNow(trace, options.timeoutMs ?? this.defaultTimeoutMs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const h = this.helper ?? (await this.starting?.catch(() => undefined));
    this.helper = undefined;
    this.starting = undefined;
    await h?.close();
  }

  private async ensureHelper(): Promise<HelperProcess> {
    if (this.closed) throw new Error(`${this.name} backend: closed`);
    if (this.helper?.alive) return this.helper;
    this.helper = undefined;
    if (this.startFailures >= START_ATTEMPTS)
      throw new Error(`${this.lastStartFailure} (${START_ATTEMPTS} starts failed: not tried again)`);
    if (!this.starting) {
      this.starting = this.connect()
        .then((t) => HelperProcess.over(t, this.startTimeoutMs))
        .then(
          (h) => {
            this.startFailures = 0;
            return h;
          },
          (e: unknown) => {
            this.startFailures++;
            this.lastStartFailure = (e as Error).message;
            throw e;
          },
        )
        .finally(() => {
          this.starting = undefined;
        });
    }
    this.helper = await this.starting;
    if (this.helper.transport.kernelRelease) this.release = this.helper.transport.kernelRelease;
    return this.helper;
  }

  private async runNow(trace: Trace, timeoutMs: number): Promise<TraceRun> {
    const plan = planTrace(trace.steps);
    if (plan.lines.length === 0) return { outcomes: [] };
    let raw: RawTraceResult;
    try {
      const helper = await this.ensureHelper();
      raw = await helper.runTrace(plan.lines, timeoutMs);
    } catch (e) {
      const reason = `${this.name === 'linux' ? 'native helper' : `${this.name} backend's helper`} unavailable: ${(e as Error).message}`;
      return { outcomes: plan.roots.map(() => ({ failed: reason })) };
    }
    if (this.helper && !this.helper.alive) {
      // it died, or did not recover from a timeout or garbage: the next run starts a fresh one
      const h = this.helper;
      this.helper = undefined;
      await h.close();
    }
    return { outcomes: assemble(plan.roots, raw) };
  }
}

/**
 * Failure wording for a trace that did not end cleanly: `current(at)` for the step that was running (`at` set
 * when that step is inside the fork being described), `rest` to complete "not run: <rest> steps[3] (mmap)".
 */
function endReason(end: TraceEnd): { current: (at?: string) => string; rest: string } {
  const inside = (at?: string) => (at ? ` inside this fork, at ${at}` : '');
  const after = (recovered: boolean) =>
    recovered ? 'the trace child was killed; the helper goes on' : 'the helper did not recover and was killed; the backend restarts it';
  switch (end.kind) {
    case 'timeout':
      return {
        current: (at) => `timeout: no answer within ${end.ms} ms${inside(at)} (${after(end.recovered)})`,
        rest: 'the trace timed out at',
      };
    case 'garbage':
      return {
        current: (at) =>
          `helper sent output that is not protocol${inside(at)}: ${JSON.stringify(end.line.slice(0, 200))} (${after(end.recovered)})`,
        rest: 'the helper sent garbage at',
      };
    case 'died':
      return {
        current: (at) => `helper server ${end.detail}${inside(at)} (the backend restarts it)`,
        rest: 'the helper server died at',
      };
    case 'done': {
      const sig = /^signal=\d+ (\S+)/.exec(end.detail);
      const exit = /^exit=(\d+)/.exec(end.detail);
      const how = sig ? `was killed by ${sig[1]}` : exit ? `exited with code ${exit[1]}` : `ended (${end.detail})`;
      return {
        current: (at) => `helper trace child ${how} ${at ? `inside this fork, at ${at}` : 'while running this step'}`,
        rest: `the helper trace child ${how} at`,
      };
    }
  }
}

interface Broken {
  node: PlanNode;
  /** Completes "not run: <rest> request 5 (mmap)" for the steps after it. */
  rest: string;
}

/**
 * Outcomes for the plan's steps from the answers. The helper answers in execution order (a fork's body, then
 * the fork); the first step without a readable answer, and every step after it, become `failed`. A fork that
 * answered with a failure stands for its whole body (a fork child that died leaves body steps unanswered).
 */
function assemble(roots: PlanNode[], raw: RawTraceResult): Outcome[] {
  const reasons = endReason(raw.end);
  let broken: Broken | undefined;
  const notRun = (b: Broken): Outcome => ({ failed: `not run: ${b.rest} ${describeStep(b.node)}` });
  const visit = (n: PlanNode): Outcome => {
    if (broken) return notRun(broken);
    let kids: Outcome[] | undefined;
    let inner: Broken | undefined;
    if (n.children) {
      kids = n.children.map(visit);
      inner = broken;
      broken = undefined;
    }
    const body = raw.answers.get(n.seq);
    if (body === undefined) {
      broken = inner ?? { node: n, rest: reasons.rest };
      return { failed: reasons.current(inner ? describeStep(inner.node) : undefined) };
    }
    const o = parseAnswer(body);
    if (o === undefined) {
      broken = { node: n, rest: 'the helper sent an unreadable answer at' };
      return { failed: `helper sent an unreadable answer ${JSON.stringify(body.slice(0, 200))}` };
    }
    if (!n.children || !('ok' in o)) return o;
    if (inner) {
      broken = inner;
      return { failed: `helper answered this fork but not all of its body (first unanswered: ${describeStep(inner.node)})` };
    }
    return { ok: true, steps: kids ?? [] };
  };
  return roots.map(visit);
}
