/** Whether the lab can run here, and if not, the one-line reason (for SKIP lines and `lab status`). */
import { existsSync } from 'node:fs';
import { machineMirrors } from './aptFetch.ts';
import { BUSYBOX_PATHS } from './initramfs.ts';
import { labKernelPath, missingBuildTools } from './kernelBuild.ts';
import { haveProgram } from './proc.ts';
import { qemuAvailable } from './qemu.ts';

export type LabAvailability = { ok: true; kernel: string | undefined } | { ok: false; reason: string };
export type LabReadiness = { ok: true; kernel: string } | { ok: false; reason: string };

function bootable(): { ok: true } | { ok: false; reason: string } {
  const qemu = qemuAvailable();
  if (!qemu.ok) return qemu;
  if (!BUSYBOX_PATHS.some((p) => existsSync(p)))
    return {
      ok: false,
      reason: `no busybox at ${BUSYBOX_PATHS.join(' or ')} (apt-get install busybox-static, or run scripts/setup-debian.sh)`,
    };
  return { ok: true };
}

/** The lab can be used here: it can boot, and a kernel is cached (`kernel`) or can be built. Builds nothing. */
export function labAvailable(): LabAvailability {
  const b = bootable();
  if (!b.ok) return b;
  const kernel = labKernelPath();
  if (kernel) return { ok: true, kernel };
  const build = labBuildable();
  return build.ok ? { ok: true, kernel: undefined } : { ok: false, reason: `no lab kernel is cached and ${build.reason}` };
}

/** The lab can boot now, without building: QEMU, busybox and a whole cached kernel. */
export function labReady(): LabReadiness {
  const b = bootable();
  if (!b.ok) return b;
  const kernel = labKernelPath();
  if (!kernel) return { ok: false, reason: "no lab kernel is cached (run `gmem-spec lab build`; npm test's pretest does)" };
  return { ok: true, kernel };
}

/** Whether `lab build` could build from scratch here (tools and a Debian mirror; the network is not tried). */
export function labBuildable(): { ok: true } | { ok: false; reason: string } {
  if (!haveProgram('apt-get')) return { ok: false, reason: 'it cannot be built here: no apt-get (a Debian machine is needed)' };
  const missing = missingBuildTools();
  if (missing.length)
    return { ok: false, reason: `it cannot be built here: missing ${missing.join(', ')} (run scripts/setup-debian.sh as root)` };
  if (machineMirrors().length === 0) return { ok: false, reason: 'it cannot be built here: no Debian mirror in the apt sources' };
  return { ok: true };
}
