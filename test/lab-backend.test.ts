/**
 * The lab backend: the native helper behind native/lab-relay.c, over a line channel.
 *
 * First without a VM: the relay runs here as a child process in front of a fake helper, so the transport's
 * framing, the interrupt that travels in-band (`~interrupt` → SIGUSR1), the helper's stderr and the loss of
 * the carrier mid-trace are checked on every machine. Then on the real lab VM (SKIP with the reason when no
 * lab kernel is cached or there is no QEMU): a trace compared with the model, a step killed mid-run, the VM
 * killed mid-trace, and a helper under an LD_PRELOAD shim.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome, Step, Trace } from '../spec/ops.ts';
import { outcomesEqual } from '../spec/outcome.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { emptySystem } from '../spec/state.ts';
import { step as specStep } from '../spec/step.ts';
import { openBackend } from '../src/backend/index.ts';
import { labBackendStatus, openLabBackend } from '../src/backend/lab.ts';
import { RELAY, ensureNative } from '../src/backend/lab/nativeBuild.ts';
import { type LineChannel, RelayTransport } from '../src/backend/lab/relayTransport.ts';
import { LinuxBackend } from '../src/backend/linux.ts';
import { descendantsOf, processExists } from '../src/backend/linux/procfs.ts';
import type { LabVm } from '../src/lab/vm.ts';

const FAKE = fileURLToPath(new URL('./support/fake-helper.mjs', import.meta.url));
const testOp = (op: string): Step => ({ op }) as unknown as Step;
const probe: Step = { op: 'check_extension', on: 'kvm', cap: 234 };
const trace = (steps: Step[]): Trace => ({ format: 'gmem-trace/1', steps });

/** The relay as a child process of node: the channel a VM's stdio port would be. */
function localRelay(helper: string, onProc?: (p: ChildProcessWithoutNullStreams) => void): LineChannel {
  const proc = spawn(ensureNative(RELAY), [helper], { stdio: ['pipe', 'pipe', 'pipe'] });
  onProc?.(proc);
  proc.stdin.on('error', () => {});
  return {
    write: (t) => void proc.stdin.write(t),
    end: () => void proc.stdin.end(),
    kill: () => void proc.kill('SIGKILL'),
    listen: (l) => {
      proc.stdout.setEncoding('utf8');
      proc.stdout.on('data', (c: string) => l.data(c));
      proc.on('close', (code, signal) => l.exit(signal ? `the relay was killed by ${signal}` : `the relay exited with code ${code}`));
    },
  };
}

describe('the lab transport, with the relay here in front of a fake helper', () => {
  let relay: ChildProcessWithoutNullStreams | undefined;
  const transports: RelayTransport[] = [];
  let backend: LinuxBackend;
  const run = async (steps: Step[], timeoutMs?: number) => (await backend.run(trace(steps), timeoutMs ? { timeoutMs } : {})).outcomes;

  beforeAll(() => {
    backend = new LinuxBackend({
      name: 'lab',
      connect: async () => {
        const t = new RelayTransport(
          localRelay(FAKE, (p) => (relay = p)),
          { label: 'the fake helper behind a local relay', recoveryMs: 2000 },
        );
        transports.push(t);
        return t;
      },
    });
  });
  afterAll(async () => {
    await backend.close();
  });

  it("answers a trace, and takes the kernel release from the relay's banner", async () => {
    expect(await run([probe, { op: 'create_vm', type: 'default', as: 'vm0' }])).toEqual([{ ok: true, ret: 0 }, { ok: true }]);
    expect(transports[0]!.kernelRelease).toBe(release());
    expect(backend.kernelRelease).toBe(release());
  });

  it('a hang hits the time limit: the interrupt travels in-band, the helper answers `done` and is kept', async () => {
    const before = relay!.pid;
    const t0 = Date.now();
    expect(await run([probe, testOp('__hang'), probe], 300)).toEqual([
      { ok: true, ret: 0 },
      { failed: 'timeout: no answer within 300 ms (the trace child was killed; the helper goes on)' },
      { failed: 'not run: the trace timed out at steps[1] (__hang)' },
    ]);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await run([probe])).toEqual([{ ok: true, ret: 0 }]);
    expect(relay!.pid).toBe(before);
    expect(transports).toHaveLength(1);
  });

  it('a crash of the trace is reported from its `done` line', async () => {
    expect(await run([probe, testOp('__crash'), probe])).toEqual([
      { ok: true, ret: 0 },
      { failed: 'helper trace child was killed by SIGSEGV while running this step' },
      { failed: 'not run: the helper trace child was killed by SIGSEGV at steps[1] (__crash)' },
    ]);
  });

  it('the carrier dying mid-trace fails the running step with one line; the next run starts a new helper', async () => {
    const old = relay!;
    const pending = run([probe, testOp('__hang'), probe], 10_000);
    await new Promise((r) => setTimeout(r, 200));
    old.kill('SIGKILL');
    const outcomes = await pending;
    expect(outcomes[0]).toEqual({ ok: true, ret: 0 });
    expect(outcomes[1]).toEqual({ failed: 'helper server was lost: the relay was killed by SIGKILL (the backend restarts it)' });
    expect(outcomes[2]).toEqual({ failed: 'not run: the helper server died at steps[1] (__hang)' });
    expect(await run([probe])).toEqual([{ ok: true, ret: 0 }]);
    expect(relay!.pid).not.toBe(old.pid);
  });

  it('closing leaves no relay or helper behind', async () => {
    const pid = relay!.pid!;
    const family = [pid, ...descendantsOf(pid).map((p) => p.pid)];
    expect(family.length).toBeGreaterThanOrEqual(2);
    await backend.close();
    for (const p of family) expect(processExists(p), `process ${p} after close()`).toBe(false);
  });
});

describe('opening the lab backend', () => {
  it('a VM that does not boot makes the backend unavailable with one line, not a failure per step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmem-qemu-'));
    const qemu = join(dir, 'qemu-that-fails');
    writeFileSync(qemu, '#!/bin/sh\necho "qemu: could not load the kernel" >&2\nexit 1\n', { mode: 0o755 });
    const env = process.env.GMEM_LAB_QEMU;
    process.env.GMEM_LAB_QEMU = qemu;
    const b = openLabBackend({ kernel: qemu });
    try {
      const caps = await b.capabilities();
      expect(caps.unavailable).toMatch(
        /^lab backend's helper unavailable: gmem-helper in the lab VM was lost: lab VM: QEMU exited with 1 before the guest program started: qemu: could not load the kernel[^\n]*$/,
      );
      // a second boot is tried, then no more: every later run fails at once with the same reason
      const second = (await b.run(trace([probe]))).outcomes;
      expect(second).toEqual([{ failed: expect.stringMatching(/QEMU exited with 1 before the guest program started/) }]);
      const t0 = Date.now();
      const third = (await b.run(trace([probe, probe]))).outcomes;
      expect(Date.now() - t0).toBeLessThan(500);
      expect(third).toEqual(
        [0, 1].map(() => ({
          failed: expect.stringMatching(/QEMU exited with 1 before the guest program started.* \(2 starts failed: not tried again\)$/),
        })),
      );
    } finally {
      await b.close();
      if (env === undefined) delete process.env.GMEM_LAB_QEMU;
      else process.env.GMEM_LAB_QEMU = env;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('--preload needs the lab backend, and an existing file', () => {
    expect(() => openBackend('linux', getProfile('linux-6.18'), { preload: '/tmp/x.so' })).toThrow(
      '--preload runs the helper under a shim inside the lab VM: it needs --backend lab, not linux',
    );
    if (labBackendStatus().ok)
      expect(() => openBackend('lab', getProfile('sw-protected'), { preload: '/nonexistent/shim.so' })).toThrow(
        '--preload /nonexistent/shim.so: no such file',
      );
  });
});

// ---- the real lab VM ----------------------------------------------------------------------------------------

const lab = labBackendStatus();
const labSkip = !lab.ok
  ? `SKIP: the lab cannot run (${lab.reason})`
  : !lab.cached
    ? 'SKIP: no lab kernel is cached (build it with `gmem-spec lab build`, about 10 min): the real-lab tests do not run'
    : undefined;
if (labSkip) console.log(labSkip);

/** A small trace every guest_memfd kernel answers the same way (no ABI difference between 6.18 and 7.3). */
const BASIC: Step[] = [
  { op: 'create_vm', type: 'default', as: 'vm0' },
  { op: 'create_gmem', vm: 'vm0', size: 16384, flags: 3, as: 'g0' },
  { op: 'mmap', gmem: 'g0', offset: 0, length: 16384, prot: 'rw', shared: true, as: 'm0' },
  { op: 'write_mem', map: 'm0', offset: 4096, value: 170 },
  { op: 'read_mem', map: 'm0', offset: 4096 },
  { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 4096, len: 4096 },
  { op: 'read_mem', map: 'm0', offset: 4096 },
  { op: 'create_gmem', vm: 'vm0', size: 4095, flags: 0, as: 'g1' },
  { op: 'fstat', h: 'g0' },
];

function spec(profile: string, steps: Step[]): Outcome[] {
  let s = emptySystem();
  return steps.map((st) => {
    const r = specStep(getProfile(profile), s, st);
    s = r.state;
    return r.outcome;
  });
}

describe.skipIf(labSkip !== undefined)('the lab backend on the lab VM', () => {
  const vms: LabVm[] = [];
  let backend: LinuxBackend;
  const run = async (steps: Step[], timeoutMs?: number) => (await backend.run(trace(steps), timeoutMs ? { timeoutMs } : {})).outcomes;

  beforeAll(() => {
    backend = openLabBackend({ onVm: (vm) => vms.push(vm) });
  });
  afterAll(async () => {
    await backend.close();
  });

  it('detects the lab kernel from its capabilities and release', async () => {
    const caps = await backend.capabilities();
    expect(caps.backend).toBe('lab');
    expect(caps.kernel).toMatch(/^7\.3\./);
    expect(caps.caps).toMatchObject({ GUEST_MEMFD: 1, GUEST_MEMFD_FLAGS: 3, VM_TYPES: 3 });
    expect(caps.profiles).toContain('sw-protected');
  }, 120_000);

  it('runs a trace through --backend lab, and the kernel agrees with the model', async () => {
    const observed = await run(BASIC);
    const expected = spec('sw-protected', BASIC);
    expect(observed[4]).toEqual({ access: 'ok', value: 170 });
    expect(observed[6]).toEqual({ access: 'ok', value: 0 });
    BASIC.forEach((st, i) =>
      expect(
        outcomesEqual(expected[i]!, observed[i]!),
        `step ${i} ${st.op}: spec ${JSON.stringify(expected[i])}, lab ${JSON.stringify(observed[i])}`,
      ).toBe(true),
    );
  }, 120_000);

  it('a step killed mid-run (time limit): the trace child is killed in the guest, the VM and helper go on', async () => {
    const vmsBefore = vms.length;
    expect(await run([probe, testOp('__hang'), probe], 1500)).toEqual([
      { ok: true, ret: 1 },
      { failed: 'timeout: no answer within 1500 ms (the trace child was killed; the helper goes on)' },
      { failed: 'not run: the trace timed out at steps[1] (__hang)' },
    ]);
    expect(await run([probe])).toEqual([{ ok: true, ret: 1 }]);
    expect(vms).toHaveLength(vmsBefore);
  }, 120_000);

  it('the VM killed mid-trace: one line naming the step, and the next run boots a new VM', async () => {
    const qemu = vms[vms.length - 1]?.pid;
    expect(qemu).toBeTypeOf('number');
    const pending = run([probe, testOp('__hang'), probe], 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(qemu as number, 'SIGKILL');
    const outcomes = await pending;
    expect(outcomes[0]).toEqual({ ok: true, ret: 1 });
    expect(outcomes[1]).toEqual({
      failed: expect.stringMatching(/^helper server was lost: lab VM: QEMU exited with SIGKILL[^\n]* \(the backend restarts it\)$/),
    });
    expect(outcomes[2]).toEqual({ failed: 'not run: the helper server died at steps[1] (__hang)' });
    const n = vms.length;
    expect(await run([probe])).toEqual([{ ok: true, ret: 1 }]);
    expect(vms.length).toBe(n + 1);
  }, 180_000);
});

describe.skipIf(labSkip !== undefined || spawnSync('cc', ['--version']).status !== 0)(
  '--preload: the helper in the lab under a shim',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmem-preload-'));
    const shim = join(dir, 'fail-fallocate.so');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("a shim that makes fallocate(2) fail with EIO changes that step's outcome, and only that step's", async () => {
      writeFileSync(
        join(dir, 'shim.c'),
        '#define _GNU_SOURCE\n#include <errno.h>\n#include <fcntl.h>\n' +
          'int fallocate(int fd, int mode, off_t offset, off_t len) { (void)fd; (void)mode; (void)offset; (void)len; errno = EIO; return -1; }\n' +
          'int fallocate64(int fd, int mode, off_t offset, off_t len) { return fallocate(fd, mode, offset, len); }\n',
      );
      execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, join(dir, 'shim.c')]);
      const plain = openLabBackend();
      const shimmed = openLabBackend({ preload: shim });
      try {
        const a = (await plain.run(trace(BASIC))).outcomes;
        const b = (await shimmed.run(trace(BASIC))).outcomes;
        expect(a[5]).toEqual({ ok: true });
        expect(b[5]).toEqual({ errno: 'EIO' });
        expect(b.filter((_, i) => i !== 5 && i !== 6)).toEqual(a.filter((_, i) => i !== 5 && i !== 6));
        // the punch did not happen, so the byte written before it is still there
        expect(b[6]).toEqual({ access: 'ok', value: 170 });
      } finally {
        await plain.close();
        await shimmed.close();
      }
    }, 240_000);
  },
);
