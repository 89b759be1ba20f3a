/**
 * Open a backend by name. One registry: `reference` (the spec itself), `linux` (the host kernel's /dev/kvm)
 * and `lab` (the lab VM's kernel); the two kernel backends are the same LinuxBackend over different helper
 * transports.
 */
import type { Profile } from '../../spec/profile.ts';
import type { LabProgress } from '../lab/progress.ts';
import { UsageError } from '../cli/args.ts';
import { detectHost } from './host.ts';
import { PreloadError, labBackendStatus, openLabBackend } from './lab.ts';
import { LinuxBackend } from './linux.ts';
import { ReferenceBackend } from './reference.ts';
import type { Backend } from './types.ts';

export const BACKEND_NAMES = ['reference', 'linux', 'lab'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

export class BackendUnavailableError extends Error {
  /** The one line to print: `SKIP: host kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD=0)`. */
  readonly skip: string;
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    super(`backend ${backend} is not available here: ${reason}`);
    this.name = 'BackendUnavailableError';
    this.skip = `SKIP: ${reason}`;
  }
}

export interface OpenBackendOptions {
  /** lab only: run the helper under this LD_PRELOAD shim (a shared object on the host). */
  preload?: string;
  /** lab only: build progress, when the lab kernel has to be built first. */
  progress?: LabProgress;
}

export function openBackend(name: string, profile: Profile, options: OpenBackendOptions = {}): Backend {
  if (!isBackendName(name)) throw new UsageError(`unknown backend ${JSON.stringify(name)} (known: ${BACKEND_NAMES.join(', ')})`);
  if (options.preload !== undefined && name !== 'lab')
    throw new UsageError(`--preload runs the helper under a shim inside the lab VM: it needs --backend lab, not ${name}`);
  switch (name) {
    case 'reference':
      return new ReferenceBackend(profile);
    case 'linux': {
      const host = detectHost();
      if (!host.ok) throw new BackendUnavailableError('linux', host.reason);
      return new LinuxBackend();
    }
    case 'lab': {
      const lab = labBackendStatus();
      if (!lab.ok) throw new BackendUnavailableError('lab', lab.reason);
      try {
        return openLabBackend(options);
      } catch (e) {
        if (e instanceof PreloadError) throw new UsageError(e.message);
        throw e;
      }
    }
  }
}
