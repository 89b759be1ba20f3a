/** Whether the lab can run here, and if not, the one-line reason (for SKIP lines and `lab status`). */
import { machineMirrors } from './aptFetch.ts';
import { labKernelPath, missingBuildTools } from './kernelBuild.ts';
import { haveProgram } from './proc.ts';
import { qemuAvailable } from './qemu.ts';

export type LabAvailability = { ok: true; kernel: string } | { ok: false; reason: string };

/** The lab can boot now: QEMU is there and a whole kernel is cached. Nothing is built or fetched. */
export function labAvailable(): LabAvailability {
  const qemu = qemuAvailable();
  if (!qemu.ok) return { ok: false, reason: qemu.reason };
  const kernel = labKernelPath();
  if (!kernel) {
    const b = labBuildable();
    return { ok: false, reason: `no lab kernel is cached (${b.ok ? 'run `gmem-spec lab build`' : b.reason})` };
  }
  return { ok: true, kernel };
}

/** Whether `lab build` could build from scratch here (tools and a Debian mirror; the network is not tried). */
export function labBuildable(): { ok: true } | { ok: false; reason: string } {
  if (!haveProgram('apt-get')) return { ok: false, reason: 'cannot build it: no apt-get (a Debian machine is needed)' };
  const missing = missingBuildTools();
  if (missing.length) return { ok: false, reason: `cannot build it: missing ${missing.join(', ')} (run scripts/setup-debian.sh as root)` };
  if (machineMirrors().length === 0) return { ok: false, reason: 'cannot build it: no Debian mirror in /etc/apt sources' };
  return { ok: true };
}
