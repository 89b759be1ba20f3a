/** Open a backend by name. */
import type { Profile } from '../../spec/profile.ts';
import { UsageError } from '../cli/args.ts';
import { LinuxBackend, kvmAvailable } from './linux.ts';
import { ReferenceBackend } from './reference.ts';
import type { Backend } from './types.ts';

export const BACKEND_NAMES = ['reference', 'linux'] as const;

export class BackendUnavailableError extends Error {
  constructor(readonly backend: string, readonly reason: string) {
    super(`backend ${backend} is not available here: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}

export function openBackend(name: string, profile: Profile): Backend {
  if (name === 'reference') return new ReferenceBackend(profile);
  if (name === 'linux') {
    const k = kvmAvailable();
    if (!k.ok) throw new BackendUnavailableError('linux', k.reason);
    return new LinuxBackend();
  }
  throw new UsageError(`unknown backend ${JSON.stringify(name)} (known: ${BACKEND_NAMES.join(', ')})`);
}
