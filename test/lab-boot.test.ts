/**
 * The lab booted for real: programs run in the Linux 7.3 guest under QEMU, their stdout, stderr and exit
 * status come back apart from the kernel log, the guest has /dev/kvm with the software-protected VM type,
 * a live line channel echoes through `cat`, and a kernel that cannot boot is a clear error within its time
 * limit. SKIP (one line, with the reason) when QEMU or a cached lab kernel is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { labReady } from '../src/lab/available.ts';
import { parseKvmReport } from '../src/lab/kvmCaps.ts';
import { labTool } from '../src/lab/tools.ts';
import { LabVmError, labExec, startLabVm } from '../src/lab/vm.ts';

const lab = labReady();
if (!lab.ok) console.log(`SKIP: lab boot tests: ${lab.reason}`);
const BIN = fileURLToPath(new URL('../bin/gmem-spec.mjs', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'lab-boot-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!lab.ok)('the lab VM', () => {
  it("exec returns the program's stdout, stderr and exit status, each apart from the kernel log", async () => {
    const r = await labExec({ program: 'sh', args: ['-c', 'echo to-stdout; echo to-stderr >&2; exit 3'] });
    expect(r.stdout).toBe('to-stdout\n');
    expect(r.stderr).toBe('to-stderr\n');
    expect(r.status).toBe(3);
    expect(r.kernelLog).not.toContain('to-stdout');
    expect(r.bootSeconds).toBeGreaterThan(0);
    const v = await labExec({ program: 'cat', args: ['/proc/version'] });
    expect(v.stdout).toMatch(/^Linux version 7\.3\./);
  }, 180_000);

  it('the guest has /dev/kvm from kvm_amd, with guest_memfd and KVM_X86_SW_PROTECTED_VM (KVM_CAP_VM_TYPES has bit 1)', async () => {
    const probe = await labTool('kvm-caps');
    const r = await labExec({ files: [probe], program: probe.split('/').pop() as string });
    expect(r.status).toBe(0);
    const rep = parseKvmReport(r.stdout);
    expect(rep.kvm).toBe('open');
    expect((rep.caps.VM_TYPES ?? 0) & 0x2).toBe(0x2);
    expect(rep.caps.GUEST_MEMFD).toBeGreaterThan(0);
    expect(rep.createGuestMemfd).toBe('ok');
    expect(rep.createSwProtectedVm).toBe('ok');
    expect(r.kernelLog).toMatch(/kvm_amd: Nested Virtualization enabled/);
  }, 180_000);

  it('a dynamically linked program runs with its shared libraries copied in, and gets its argv verbatim', async () => {
    const src = join(scratch, 'args.c');
    const bin = join(scratch, 'args-dyn');
    writeFileSync(
      src,
      '#include <stdio.h>\nint main(int c, char **v) { for (int i = 1; i < c; i++) printf("[%s]", v[i]); printf("\\n"); return 0; }\n',
    );
    execFileSync('cc', ['-O1', '-o', bin, src]);
    expect(execFileSync('ldd', [bin]).toString()).toMatch(/libc\.so\.6 =>/);
    const r = await labExec({ program: bin, args: ['a b', "it's", '$X', ''] });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("[a b][it's][$X][]\n");
  }, 180_000);

  it("startLabVm: a live line channel through the guest's `cat`, closed by ending its stdin", async () => {
    const vm = await startLabVm({ program: 'cat' });
    await vm.started;
    let got = '';
    vm.stdout.setEncoding('utf8');
    vm.stdout.on('data', (c: string) => (got += c));
    const lines = ['ping 1', 'a line with spaces', 'x'.repeat(5000)];
    for (const l of lines) {
      vm.stdin.write(`${l}\n`);
      const want = lines
        .slice(0, lines.indexOf(l) + 1)
        .map((x) => `${x}\n`)
        .join('');
      const t0 = Date.now();
      while (got !== want && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
      expect(got).toBe(want);
    }
    const exit = await vm.close(30_000);
    expect(exit.status).toBe(0);
  }, 180_000);

  it('a QEMU killed from outside is a clear error, not a hang', async () => {
    const vm = await startLabVm({ program: 'sleep', args: ['600'] });
    await vm.started;
    expect(vm.pid).toBeGreaterThan(0);
    process.kill(vm.pid as number, 'SIGKILL');
    await expect(vm.exited).rejects.toThrow(/^lab VM: QEMU exited with SIGKILL/);
  }, 180_000);

  it('a kernel image that does not boot (garbage, or the lab bzImage truncated) is a one-line error within the boot time limit', async () => {
    const garbage = join(scratch, 'garbage-bzImage');
    writeFileSync(garbage, Buffer.alloc(2 * 1024 * 1024, 0x5a));
    const truncated = join(scratch, 'truncated-bzImage');
    writeFileSync(truncated, readFileSync(lab.ok ? lab.kernel : '').subarray(0, 600_000));
    for (const kernel of [garbage, truncated]) {
      const t0 = Date.now();
      const err = await labExec({ program: 'true', kernel, bootTimeoutMs: 20_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LabVmError);
      expect((err as Error).message).toMatch(
        /^lab VM: (QEMU exited with 1 before the guest program started|the lab kernel did not reach its program within 20 s|the guest stopped before its program started)/,
      );
      expect((err as Error).message).not.toContain('\n');
      expect(Date.now() - t0).toBeLessThan(60_000);
    }
  }, 180_000);

  it("the CLI: `lab exec` passes the program's output through and exits with its status", () => {
    const r = spawnSync(process.execPath, [BIN, 'lab', 'exec', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 7'], {
      encoding: 'utf8',
      timeout: 170_000,
    });
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toContain('oops\n');
    expect(r.status).toBe(7);
  }, 180_000);
});

describe('lab failures that need no kernel', () => {
  it('no QEMU: startLabVm and `lab exec` say so in one line', async () => {
    const env = { ...process.env, GMEM_LAB_QEMU: join(scratch, 'no-qemu-here') };
    const r = spawnSync(process.execPath, [BIN, 'lab', 'exec', '--', 'true'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^gmem-spec lab exec: no QEMU: .*no-qemu-here not found \(\$GMEM_LAB_QEMU\)$/);
  }, 60_000);

  it('a program that is not executable: one line, before anything boots', () => {
    const f = join(scratch, 'plain.txt');
    writeFileSync(f, 'not a program\n', { mode: 0o644 });
    const r = spawnSync(process.execPath, [BIN, 'lab', 'exec', '--', f], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/program .*plain\.txt is not executable/);
  }, 60_000);
});
