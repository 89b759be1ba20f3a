/**
 * A backend executes a trace's operations and reports what it observed, in the trace outcome form.
 * The reference backend is the spec itself; the kernel backends (linux: the host's /dev/kvm, lab: the lab
 * VM's) run the native helper.
 */
import type { Outcome, Trace } from '../../spec/ops.ts';

export interface BackendCapabilities {
  /** Backend name: "reference", "linux", ... */
  backend: string;
  /** The profile this backend claims to implement (detected from KVM_CHECK_EXTENSION for linux). */
  profile: string;
  /** Every profile this backend implements (a kernel may serve several VM types); the reference: its own. */
  profiles: string[];
  /** `uname -r` of the kernel that answers, for kernel backends. */
  kernel?: string;
  /** Why this profile was chosen, in words (e.g. "cap 244 GUEST_MEMFD_FLAGS = 0x3, VM_TYPES = 0x1"). */
  detectedFrom: string;
  /** Set when the backend could not run anything (its helper did not start): why, in one line. */
  unavailable?: string;
  /** Raw capability values the detection read, by name. */
  caps: Record<string, number>;
}

export interface RunOptions {
  /** Per-trace time limit; a helper that hangs past it becomes a failed step. */
  timeoutMs?: number;
}

/** One outcome per top-level step; a fork step's nested outcomes are in its `steps`. */
export interface TraceRun {
  outcomes: Outcome[];
}

export interface Backend {
  readonly name: string;
  capabilities(): Promise<BackendCapabilities>;
  run(trace: Trace, options?: RunOptions): Promise<TraceRun>;
  /** Release every process and fd the backend holds. */
  close(): Promise<void>;
}
