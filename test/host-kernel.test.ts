/**
 * Host detection by capability (src/backend/host.ts), the profile a kernel implements
 * (src/backend/kernelProfile.ts) and which kernel runs a profile's suites (src/backend/choose.ts), on each of
 * the three hosts: no /dev/kvm, /dev/kvm without guest_memfd, /dev/kvm with it. The two hosts this machine
 * may not be are simulated: GMEM_SPEC_KVM_DEVICE-style device paths and a fake helper (test/support/
 * fake-helper.mjs) that answers as a kernel would.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chooseKernelFrom, type ChooseInputs } from '../src/backend/choose.ts';
import { type HostKernel, classifyProbe, detectHost } from '../src/backend/host.ts';
import { profilesOf } from '../src/backend/kernelProfile.ts';
import { LinuxBackend } from '../src/backend/linux.ts';

const FAKE = fileURLToPath(new URL('./support/fake-helper.mjs', import.meta.url));
/** A path that exists, standing in for /dev/kvm on a host that has one. */
const SOME_DEVICE = '/dev/null';
const answers = (...a: string[]) => new Map(a.map((x, i) => [i, x]));
const known = (name: string) => ['linux-6.18', 'linux-7.3', 'sw-protected'].includes(name);

describe("classifying the probe's answers", () => {
  it('no /dev/kvm, or one that does not open, is a host without KVM', () => {
    expect(classifyProbe(answers('failed cannot open /dev/kvm: ENOENT'), '6.18.44')).toMatchObject({
      ok: false,
      kind: 'no-kvm',
      skip: 'SKIP: no /dev/kvm (/dev/kvm does not exist)',
    });
    expect(classifyProbe(answers('failed cannot open /dev/kvm: EACCES'), '6.18.44')).toMatchObject({
      ok: false,
      kind: 'no-kvm',
      skip: 'SKIP: no usable /dev/kvm (cannot open /dev/kvm: EACCES)',
    });
  });

  it('cap 234 = 0 is a host without guest_memfd, and says what KVM_CREATE_GUEST_MEMFD answered', () => {
    const h = classifyProbe(answers('ok ret=0', 'ok ret=0', 'ok ret=1', 'ok', 'errno ENOTTY'), '6.18.44');
    expect(h).toEqual({
      ok: false,
      kind: 'no-guest_memfd',
      reason: 'host kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD=0, KVM_CREATE_GUEST_MEMFD: ENOTTY)',
      skip: 'SKIP: host kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD=0, KVM_CREATE_GUEST_MEMFD: ENOTTY)',
      caps: { GUEST_MEMFD: 0, GUEST_MEMFD_FLAGS: 0, VM_TYPES: 1 },
    });
  });

  it('a capability that claims guest_memfd is not believed when the create call fails', () => {
    const h = classifyProbe(answers('ok ret=1', 'ok ret=3', 'ok ret=1', 'ok', 'errno ENOTTY'), '6.18.44');
    expect(h).toMatchObject({
      ok: false,
      kind: 'no-guest_memfd',
      reason: 'host kernel reports KVM_CAP_GUEST_MEMFD=1 but KVM_CREATE_GUEST_MEMFD fails: ENOTTY',
    });
  });

  it('capabilities and a created guest_memfd make a host that serves it', () => {
    expect(classifyProbe(answers('ok ret=1', 'ok ret=3', 'ok ret=1', 'ok', 'ok'), '6.18.44')).toEqual({
      ok: true,
      kind: 'guest_memfd',
      release: '6.18.44',
      caps: { GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 3, VM_TYPES: 1 },
    });
  });
});

describe('detecting the host, each of the three simulated', () => {
  it('no device: SKIP without asking any helper', () => {
    const h = detectHost({ device: '/nonexistent', helperPath: '/nonexistent/helper', fresh: true });
    expect(h).toMatchObject({ ok: false, kind: 'no-kvm', skip: 'SKIP: no /dev/kvm (/nonexistent does not exist; GMEM_SPEC_KVM_DEVICE)' });
  });

  it('KVM without guest_memfd (a helper answering cap 234 = 0, create ENOTTY): one SKIP line with the reason', () => {
    const env = process.env.FAKE_KVM;
    process.env.FAKE_KVM = 'no-gmem';
    try {
      const h = detectHost({ device: SOME_DEVICE, helperPath: FAKE, fresh: true });
      expect(h.ok).toBe(false);
      expect(h.ok ? '' : h.skip).toBe('SKIP: host kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD=0, KVM_CREATE_GUEST_MEMFD: ENOTTY)');
    } finally {
      if (env === undefined) delete process.env.FAKE_KVM;
      else process.env.FAKE_KVM = env;
    }
  });

  it('KVM with guest_memfd: the host serves it, with the capabilities read', () => {
    const env = process.env.FAKE_KVM;
    process.env.FAKE_KVM = 'gmem';
    try {
      expect(detectHost({ device: SOME_DEVICE, helperPath: FAKE, fresh: true })).toMatchObject({
        ok: true,
        kind: 'guest_memfd',
        caps: { GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 3, VM_TYPES: 1 },
      });
    } finally {
      if (env === undefined) delete process.env.FAKE_KVM;
      else process.env.FAKE_KVM = env;
    }
  });

  it('a helper that is not built: SKIP naming the build command', () => {
    const h = detectHost({ device: SOME_DEVICE, helperPath: '/nonexistent/gmem-helper', fresh: true });
    expect(h).toMatchObject({ ok: false, kind: 'no-helper' });
    expect(h.ok ? '' : h.skip).toMatch(
      /^SKIP: cannot ask the host kernel: native helper \/nonexistent\/gmem-helper is not built \(run `npm run build:native`\)$/,
    );
  });

  it('this machine, as it is: a verdict with a one-line reason when it cannot serve guest_memfd', () => {
    const h = detectHost({ fresh: true });
    if (!h.ok) {
      console.log(`this host: ${h.skip}`);
      expect(h.skip).toMatch(/^SKIP: [^\n]+$/);
    } else expect(h.caps.GUEST_MEMFD).toBeGreaterThan(0);
  });
});

describe('the profiles a kernel implements', () => {
  it('6.18 with MMAP|INIT_SHARED and only the default VM type is linux-6.18', () => {
    const p = profilesOf({ release: '6.18.44-fc-v1272', caps: { GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 3, VM_TYPES: 1 } }, known);
    expect(p.profile).toBe('linux-6.18');
    expect(p.profiles).toEqual(['linux-6.18']);
    expect(p.detectedFrom).toContain('GUEST_MEMFD_FLAGS(244)=0x3');
  });

  it('the lab (7.3, VM_TYPES = 0x3) is linux-7.3 for the default type, and sw-protected too', () => {
    const p = profilesOf({ release: '7.3.4', caps: { GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 3, VM_TYPES: 3 } }, known);
    expect(p).toMatchObject({ profile: 'linux-7.3', profiles: ['linux-7.3', 'sw-protected'] });
  });

  it('until the spec has linux-7.3, the lab is reported as read, and still serves sw-protected', () => {
    const p = profilesOf(
      { release: '7.3.4', caps: { GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 3, VM_TYPES: 3 } },
      (n) => n !== 'linux-7.3' && known(n),
    );
    expect(p.profile).toBe('linux-unknown');
    expect(p.profiles).toEqual(['sw-protected']);
    expect(p.detectedFrom).toContain('would be linux-7.3, which the spec does not have yet');
  });

  it('an unmeasured release, other flags, or no guest_memfd match no profile, saying why', () => {
    expect(profilesOf({ release: '6.19.1', caps: { GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 3, VM_TYPES: 1 } }, known)).toMatchObject({
      profile: 'linux-unknown',
      profiles: [],
      detectedFrom: expect.stringContaining('no profile was measured on Linux 6.19'),
    });
    expect(profilesOf({ release: '7.3.4', caps: { GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 1, VM_TYPES: 3 } }, known)).toMatchObject({
      profile: 'linux-unknown',
      detectedFrom: expect.stringContaining('GUEST_MEMFD_FLAGS=0x1'),
    });
    expect(profilesOf({ release: '6.18.44', caps: { GUEST_MEMFD: 0, GUEST_MEMFD_FLAGS: 0, VM_TYPES: 1 } }, known)).toMatchObject({
      profile: 'linux-unknown',
      detectedFrom: expect.stringContaining('KVM_CAP_GUEST_MEMFD=0'),
    });
  });

  it('the linux backend reads them through its helper (here the fake one, as a 6.18 host with guest_memfd)', async () => {
    const env = process.env.FAKE_KVM;
    process.env.FAKE_KVM = 'gmem';
    const b = new LinuxBackend({ helperPath: FAKE, release: '6.18.44' });
    try {
      const caps = await b.capabilities();
      expect(caps).toMatchObject({
        backend: 'linux',
        profile: 'linux-6.18',
        profiles: ['linux-6.18'],
        kernel: '6.18.44',
        caps: { GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 3, VM_TYPES: 1 },
      });
    } finally {
      await b.close();
      if (env === undefined) delete process.env.FAKE_KVM;
      else process.env.FAKE_KVM = env;
    }
  });
});

describe("which kernel runs a profile's suites", () => {
  const noKvm: HostKernel = {
    ok: false,
    kind: 'no-kvm',
    reason: 'no /dev/kvm (/dev/kvm does not exist)',
    skip: 'SKIP: no /dev/kvm (/dev/kvm does not exist)',
    caps: {},
  };
  const noGmem: HostKernel = {
    ok: false,
    kind: 'no-guest_memfd',
    reason: 'host kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD=0)',
    skip: 'SKIP: host kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD=0)',
    caps: { GUEST_MEMFD: 0 },
  };
  const gmem618: HostKernel = {
    ok: true,
    kind: 'guest_memfd',
    release: '6.18.44',
    caps: { GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 3, VM_TYPES: 1 },
  };
  const inputs = (host: HostKernel, lab: ChooseInputs['lab'], allowBuild = false): ChooseInputs => ({
    host,
    lab,
    allowBuild,
    labProfiles: ['linux-7.3', 'sw-protected'],
  });
  const cachedLab: ChooseInputs['lab'] = { ok: true, cached: true, kernel: '/cache/bzImage' };
  const uncachedLab: ChooseInputs['lab'] = { ok: true, cached: false, kernel: undefined };
  const noQemu: ChooseInputs['lab'] = { ok: false, reason: 'no QEMU: qemu-system-x86_64 not found' };

  it('the host, when it implements the profile', () => {
    expect(chooseKernelFrom('linux-6.18', 'kernel', inputs(gmem618, cachedLab))).toMatchObject({ ok: true, backend: 'linux' });
  });

  it('else the lab: cached, or built when the caller allows it', () => {
    for (const host of [noKvm, noGmem, gmem618]) {
      expect(chooseKernelFrom('sw-protected', 'kernel', inputs(host, cachedLab))).toMatchObject({ ok: true, backend: 'lab', build: false });
      expect(chooseKernelFrom('sw-protected', 'kernel', inputs(host, uncachedLab, true))).toMatchObject({
        ok: true,
        backend: 'lab',
        build: true,
      });
    }
  });

  it('else one SKIP line with both reasons', () => {
    expect(chooseKernelFrom('sw-protected', 'kernel', inputs(noGmem, uncachedLab))).toEqual({
      ok: false,
      skip: 'SKIP: host kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD=0); no lab kernel is cached (build it with `gmem-spec lab build`, about 10 min)',
    });
    expect(chooseKernelFrom('sw-protected', 'kernel', inputs(noKvm, noQemu))).toEqual({
      ok: false,
      skip: 'SKIP: no /dev/kvm (/dev/kvm does not exist); the lab cannot run (no QEMU: qemu-system-x86_64 not found)',
    });
    expect(chooseKernelFrom('linux-6.18', 'kernel', inputs(noKvm, cachedLab))).toEqual({
      ok: false,
      skip: 'SKIP: no /dev/kvm (/dev/kvm does not exist); the lab kernel (Linux 7.3) implements linux-7.3, sw-protected, not linux-6.18',
    });
    expect(chooseKernelFrom('pkvm', 'linux', inputs(gmem618, cachedLab))).toEqual({
      ok: false,
      skip: 'SKIP: the host kernel (Linux 6.18.44) implements linux-6.18, not pkvm',
    });
  });
});

describe('gmem-spec run (npm start) on a host without guest_memfd and without a lab', () => {
  const BIN = fileURLToPath(new URL('../bin/gmem-spec.mjs', import.meta.url));
  const npmStart = (env: Record<string, string>) =>
    spawnSync(process.execPath, [BIN, 'run', '--quiet', '--bound', 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=1'], {
      encoding: 'utf8',
      env: { ...process.env, GMEM_LAB_QEMU: '/nonexistent/qemu', ...env },
      timeout: 120_000,
    });

  it.each([
    ['no /dev/kvm', { GMEM_SPEC_KVM_DEVICE: '/nonexistent' }, 'SKIP: no /dev/kvm (/nonexistent does not exist; GMEM_SPEC_KVM_DEVICE)'],
    [
      '/dev/kvm without guest_memfd',
      { GMEM_SPEC_KVM_DEVICE: SOME_DEVICE, GMEM_SPEC_HELPER: FAKE, FAKE_KVM: 'no-gmem' },
      'SKIP: host kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD=0, KVM_CREATE_GUEST_MEMFD: ENOTTY)',
    ],
  ])(
    '%s: one SKIP line with the reason, the suites on the reference, exit 0',
    (_host, env, skip) => {
      const r = npmStart(env);
      expect(r.stderr).toBe('');
      expect(r.status, r.stdout).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines).toContain(
        `${skip}; the lab cannot run (no QEMU: /nonexistent/qemu not found ($GMEM_LAB_QEMU)); running the linux-6.18 suites on the reference backend`,
      );
      expect(r.stdout).toMatch(/^ran \d+ linux-6\.18 traces .* on the reference backend in [\d.]+ s: \d+ passed, 0 failed$/m);
      expect(r.stdout).toMatch(
        /^SKIP: the lab cannot run \(no QEMU: .*\): the lab's profiles \(.*sw-protected.*\) are not checked against a kernel$/m,
      );
    },
    120_000,
  );
});
