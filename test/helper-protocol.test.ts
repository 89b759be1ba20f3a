/**
 * The native helper's protocol (native/PROTOCOL.md) and the linux backend's handling of a helper that
 * misbehaves: malformed requests are protocol errors that never crash the helper; a crash, an early exit, a
 * hang or garbage output turns the running and remaining steps into `failed` with a reason, and the backend
 * stays usable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { U64_MAX } from '../spec/constants.ts';
import type { Outcome, Step } from '../spec/ops.ts';
import { LinuxBackend, defaultHelperPath, detectHost } from '../src/backend/linux.ts';
import { HelperProcess } from '../src/backend/linux/helperProcess.ts';
import { descendantsOf, processExists } from '../src/backend/linux/procfs.ts';
import { parseAnswer, planTrace } from '../src/backend/linux/wire.ts';

const kvm = detectHost();
if (!kvm.ok) console.log(kvm.skip);

/** A test-only helper op (native/PROTOCOL.md), passed through verbatim by the backend. */
const testOp = (op: string, fields: Record<string, number> = {}): Step => ({ op, ...fields }) as unknown as Step;
const probe: Step = { op: 'check_extension', on: 'kvm', cap: 234 };

describe('wire format (no kernel needed)', () => {
  it("carries u64 values exactly and negative s64 values as their two's complement bits", () => {
    const { lines } = planTrace([
      { op: 'create_gmem', vm: 'vm0', size: 4096, flags: U64_MAX, as: 'g0' },
      { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: -1, len: 1n << 63n },
    ]);
    expect(lines).toEqual([
      'create_gmem vm=vm0 size=4096 flags=18446744073709551615 as=g0',
      'fallocate gmem=g0 mode=3 offset=18446744073709551615 len=9223372036854775808',
    ]);
  });

  it('numbers fork bodies in pre-order and rejects steps it cannot express', () => {
    const { lines, roots } = planTrace([
      { op: 'fork', steps: [probe, { op: 'fork', steps: [probe] }] },
      { op: 'create_vm', type: 'cca', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: 1n << 64n, flags: 0 },
      { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem', 'readonly'], gpa: 0, size: 4096, uaddr: { map: 'm0', offset: 8 } },
    ]);
    expect(lines).toEqual([
      'fork n=2',
      'check_extension on=kvm cap=234',
      'fork n=1',
      'check_extension on=kvm cap=234',
      expect.stringMatching(/^reject invalid step steps\[1\]: type: VM type "cca" has no confirmed kernel encoding/),
      expect.stringMatching(/^reject invalid step steps\[2\]: size: 18446744073709551616 is outside the 64-bit range/),
      'set_memory_region2 vm=vm0 slot=0 flags=6 gpa=0 size=4096 uaddr_map=m0 uaddr_offset=8',
    ]);
    expect(roots.map((r) => r.seq)).toEqual([0, 4, 5, 6]);
    expect(roots[0]!.children!.map((c) => c.seq)).toEqual([1, 2]);
  });

  it('parses every answer form into the spec outcome form', () => {
    const cases: [string, Outcome | undefined][] = [
      ['ok', { ok: true }],
      ['ok ret=3', { ok: true, ret: 3 }],
      ['fstat st_size=16384 st_blksize=4096 st_type=reg', { ok: true, fstat: { st_size: 16384, st_blksize: 4096, st_type: 'reg' } }],
      ['errno EINVAL', { errno: 'EINVAL' }],
      ['errno EAGAIN error_offset=18446744073709551615', { errno: 'EAGAIN', error_offset: U64_MAX }],
      ['access ok value=170', { access: 'ok', value: 170 }],
      ['access ok match=false', { access: 'ok', match: false }],
      ['access SIGBUS', { access: 'SIGBUS' }],
      ['failed unsupported: x', { failed: 'unsupported: x' }],
      ["error unknown operation 'x'", { failed: "helper protocol error: unknown operation 'x'" }],
      ['errno ENOSYS', { failed: expect.stringContaining('errno ENOSYS') }],
      ['access ok value=300', undefined],
      ['okay', undefined],
    ];
    for (const [body, outcome] of cases) expect(parseAnswer(body), body).toEqual(outcome);
  });
});

describe.skipIf(!kvm.ok)('helper protocol: malformed requests are protocol errors', () => {
  let helper: HelperProcess;
  beforeAll(async () => {
    helper = await HelperProcess.start(defaultHelperPath());
  });
  afterAll(async () => {
    await helper.close();
  });

  it('answers ping and rejects unknown server commands', async () => {
    expect(await helper.command('ping')).toBe('pong');
    expect(await helper.command('hello')).toMatch(/^error unknown server command 'hello'/);
  });

  it('answers each bad request with `error <reason>` and keeps running the trace', async () => {
    const bad: [string, RegExp][] = [
      ['', /empty request/],
      ['frobnicate x=1', /unknown operation 'frobnicate'/],
      ['create_vm', /missing field 'type'/],
      ['create_vm type=0 type=0', /duplicate field 'type'/],
      ['create_vm type=0 colour=blue', /unknown field 'colour'/],
      ['create_vm type=zero', /bad number 'zero'/],
      ['create_vm type=-1', /bad number '-1'/],
      ['create_vm type=18446744073709551616', /bad number '18446744073709551616'/],
      ['create_vm type=0x10', /bad number '0x10'/],
      ['create_vm 0', /expected key=value/],
      ['close h=nosuch', /unknown handle 'nosuch'/],
      ['close h=9bad', /bad handle name '9bad'/],
      ['read_mem map=vm0 offset=0', /'vm0' is a file descriptor, not a mapping/],
      ['fstat h=m0', /'m0' is a mapping, not a file descriptor/],
      ['write_mem map=m0 offset=0 value=256', /not a byte value/],
      ['mmap gmem=g0 offset=0 length=4096 prot=wr shared=true', /expected a protection/],
      ['mmap gmem=g0 offset=0 length=4096 prot=rw shared=maybe', /expected true or false/],
      ['delete_memslot vm=vm0 slot=4294967296', /does not fit the kernel's 32-bit field/],
      ['create_gmem vm=vm0 size=4096 flags=0 reserved=1,,2', /field 'reserved': bad number ''/],
      ['create_gmem vm=vm0 size=4096 flags=0 reserved=1,2,3,4,5,6,7', /more than 6 values/],
      ['read_mem map=m0 offset=100000000000000', /reach outside mapping 'm0'/],
      ['unpin map=m0 offset=0 len=4096', /no pin on 'm0'/],
      ['fork n=x', /expected 'fork n=K'/],
      [`create_vm type=0 ${'x'.repeat(5000)}=1`, /longer than 4096 bytes/],
    ];
    const lines = [
      'create_vm type=0 as=vm0',
      'create_gmem vm=vm0 size=16384 flags=3 as=g0',
      'mmap gmem=g0 offset=0 length=16384 prot=rw shared=true as=m0',
      ...bad.flatMap(([line]) => [line, 'check_extension on=kvm cap=234']),
    ];
    const { answers, end } = await helper.runTrace(lines, 5000);
    expect(end).toEqual({ kind: 'done', detail: 'exit=0' });
    expect([0, 1, 2].map((i) => answers.get(i))).toEqual(['ok', 'ok', 'ok']);
    bad.forEach(([line, reason], i) => {
      expect(answers.get(3 + 2 * i), line).toMatch(/^error /);
      expect(answers.get(3 + 2 * i), line).toMatch(reason);
      expect(answers.get(4 + 2 * i), `the request after ${JSON.stringify(line)}`).toBe('ok ret=1');
    });
  });

  it('a fork whose body runs past the end of the trace is an error for it and every line after', async () => {
    const { answers, end } = await helper.runTrace(['fork n=3', 'check_extension on=kvm cap=234'], 5000);
    expect(end.kind).toBe('done');
    expect(answers.get(0)).toMatch(/^error fork: the body of 3 steps runs past the end/);
    expect(answers.get(1)).toMatch(/^error not run: inside the malformed fork at request 0/);
  });
});

describe.skipIf(!kvm.ok)('linux backend: a misbehaving helper becomes failed steps, and the backend recovers', () => {
  let backend: LinuxBackend;
  const run = async (steps: Step[], timeoutMs?: number): Promise<Outcome[]> =>
    (await backend.run({ format: 'gmem-trace/1', steps }, timeoutMs === undefined ? {} : { timeoutMs })).outcomes;
  const stillWorks = async () => expect(await run([probe])).toEqual([{ ok: true, ret: 1 }]);

  beforeAll(() => {
    backend = new LinuxBackend();
  });
  afterAll(async () => {
    await backend.close();
  });

  it('a helper crash mid-trace fails the running step and the rest, keeping earlier answers', async () => {
    expect(await run([probe, testOp('__crash'), probe, probe])).toEqual([
      { ok: true, ret: 1 },
      { failed: 'helper trace child was killed by SIGSEGV while running this step' },
      { failed: 'not run: the helper trace child was killed by SIGSEGV at steps[1] (__crash)' },
      { failed: 'not run: the helper trace child was killed by SIGSEGV at steps[1] (__crash)' },
    ]);
    await stillWorks();
  });

  it('a helper that exits early reports its exit code', async () => {
    expect(await run([testOp('__exit', { code: 3 }), probe])).toEqual([
      { failed: 'helper trace child exited with code 3 while running this step' },
      { failed: 'not run: the helper trace child exited with code 3 at steps[0] (__exit)' },
    ]);
    await stillWorks();
  });

  it('a crash inside a fork fails the fork step; the trace goes on in the parent', async () => {
    expect(await run([{ op: 'fork', steps: [probe, testOp('__crash'), probe] }, probe])).toEqual([
      { failed: 'fork child was killed by SIGSEGV' },
      { ok: true, ret: 1 },
    ]);
  });

  it('a hang hits the per-trace timeout: the trace child and its fork children are killed, the helper goes on', async () => {
    await stillWorks();
    const server = backend.helperPid!;
    const t0 = Date.now();
    const pending = run([probe, { op: 'fork', steps: [testOp('__hang')] }, probe], 300);
    await new Promise((r) => setTimeout(r, 150));
    // the hanging fork-step child (the server's grandchild) and the trace child above it
    const forkChild = descendantsOf(server).find((p) => p.ppid !== server);
    expect(forkChild).toBeDefined();
    const hung = [forkChild!.pid, forkChild!.ppid];
    expect(await pending).toEqual([
      { ok: true, ret: 1 },
      {
        failed:
          'timeout: no answer within 300 ms inside this fork, at steps[1].steps[0] (__hang) (the trace child was killed; the helper goes on)',
      },
      { failed: 'not run: the trace timed out at steps[1].steps[0] (__hang)' },
    ]);
    expect(Date.now() - t0).toBeLessThan(3000);
    for (const p of hung) expect(processExists(p), `hung process ${p}`).toBe(false);
    await stillWorks();
    expect(backend.helperPid).toBe(server);
  });

  it('garbage output fails the current and remaining steps; the helper goes on', async () => {
    const server = backend.helperPid!;
    const outcomes = await run([probe, testOp('__garbage'), probe]);
    expect(outcomes[0]).toEqual({ ok: true, ret: 1 });
    expect(outcomes[1]).toEqual({
      failed: expect.stringMatching(
        /^helper sent output that is not protocol: "%% this is not a protocol line %%" \(the trace child was killed; the helper goes on\)$/,
      ),
    });
    expect(outcomes[2]).toEqual({ failed: 'not run: the helper sent garbage at steps[1] (__garbage)' });
    await stillWorks();
    expect(backend.helperPid).toBe(server);
  });

  it('an idle helper child killed from outside makes the helper exit; the next run starts a new one', async () => {
    await stillWorks();
    const server = backend.helperPid!;
    // once the last trace child has been reaped, the two children are the idle spares
    await waitFor(
      () => descendantsOf(server).filter((p) => p.ppid === server && p.state === 'S').length === 2 && descendantsOf(server).length === 2,
    );
    const spare = descendantsOf(server)[0]!;
    process.kill(spare.pid, 'SIGKILL');
    expect(await waitFor(() => !processExists(server), 2000)).toBe(true);
    await stillWorks();
    expect(backend.helperPid).not.toBe(server);
  });

  it('a helper that is killed outright is replaced at the next run', async () => {
    const server = backend.helperPid!;
    process.kill(server, 'SIGKILL');
    await waitFor(() => !processExists(server));
    const outcomes = await run([probe]);
    // the kill may land before the trace (a fresh helper runs it) or be noticed by it (failed)
    if ('failed' in outcomes[0]!) expect(outcomes[0]!.failed).toMatch(/helper server (killed|exited)/);
    await stillWorks();
    expect(backend.helperPid).not.toBe(server);
  });

  it('a step the wire cannot express fails alone, with the reason', async () => {
    expect(await run([{ op: 'create_gmem', vm: 'vm0', size: -(1n << 64n), flags: 0 }, probe])).toEqual([
      { failed: expect.stringContaining('invalid step steps[0]: size:') },
      { ok: true, ret: 1 },
    ]);
  });

  it('a helper binary that does not exist gives failed steps, not an exception', async () => {
    const b = new LinuxBackend({ helperPath: '/nonexistent/gmem-helper' });
    const { outcomes } = await b.run({ format: 'gmem-trace/1', steps: [probe] });
    expect(outcomes).toEqual([{ failed: expect.stringContaining('native helper unavailable') }]);
    await b.close();
  });
});

async function waitFor(cond: () => boolean, ms = 1000): Promise<boolean> {
  for (let t = 0; t < ms; t += 5) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return cond();
}
