/**
 * Throughput of the linux backend against raw syscalls.
 *
 *   npx tsx bench/linux-steps.bench.ts [iterations]      (default 1000; needs /dev/kvm and `npm run build:native`)
 *
 * Runs one representative 13-step trace (create VM, create guest_memfd, mmap, write/read, fill/check, punch hole,
 * read, fstat, munmap, close, close) `iterations` times through LinuxBackend (one trace per run(): pipelined
 * requests, a forked helper child per trace), and the same syscalls in a plain C loop (native/bench-raw.c),
 * then prints steps/second for both and the ratio of per-step cost. Target: the runner within 3x of raw C.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Outcome, Step, Trace } from '../spec/ops.ts';
import { LinuxBackend, kvmAvailable } from '../src/backend/linux.ts';

const GMEM_SIZE = 65536;
const PAGE = 4096;

const trace: Trace = {
  format: 'gmem-trace/1',
  name: 'bench: representative guest_memfd lifecycle',
  steps: [
    { op: 'create_vm', type: 'default', as: 'vm0' },
    { op: 'create_gmem', vm: 'vm0', size: GMEM_SIZE, flags: 3, as: 'g0' },
    { op: 'mmap', gmem: 'g0', offset: 0, length: GMEM_SIZE, prot: 'rw', shared: true, as: 'm0' },
    { op: 'write_mem', map: 'm0', offset: 0, value: 170 },
    { op: 'read_mem', map: 'm0', offset: 0 },
    { op: 'fill_mem', map: 'm0', offset: PAGE, length: PAGE, value: 1 },
    { op: 'check_mem', map: 'm0', offset: PAGE, length: PAGE, value: 1 },
    { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE },
    { op: 'read_mem', map: 'm0', offset: 0 },
    { op: 'fstat', h: 'g0' },
    { op: 'munmap', map: 'm0' },
    { op: 'close', h: 'g0' },
    { op: 'close', h: 'vm0' },
  ] satisfies Step[],
};

const expected: Outcome[] = [
  { ok: true },
  { ok: true },
  { ok: true },
  { access: 'ok' },
  { access: 'ok', value: 170 },
  { access: 'ok' },
  { access: 'ok', match: true },
  { ok: true },
  { access: 'ok', value: 0 },
  { ok: true, fstat: { st_size: GMEM_SIZE, st_blksize: PAGE, st_type: 'reg' } },
  { ok: true },
  { ok: true },
  { ok: true },
];

interface Row {
  runner: string;
  traces: number;
  seconds: number;
}

async function benchBackend(iterations: number): Promise<Row> {
  const backend = new LinuxBackend();
  try {
    const first = await backend.run(trace);
    if (JSON.stringify(first.outcomes) !== JSON.stringify(expected)) {
      throw new Error(`unexpected outcomes from the linux backend: ${JSON.stringify(first.outcomes)}`);
    }
    for (let i = 0; i < Math.min(50, iterations); i++) await backend.run(trace); // warm-up
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
      const { outcomes } = await backend.run(trace);
      if (outcomes.length !== expected.length || 'failed' in outcomes[0]!) throw new Error(`run ${i} failed: ${JSON.stringify(outcomes)}`);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { runner: 'LinuxBackend (TS + helper)', traces: iterations, seconds };
  } finally {
    await backend.close();
  }
}

function benchRaw(iterations: number): Row {
  const bin = fileURLToPath(new URL('../native/build/bench-raw', import.meta.url));
  execFileSync(bin, [String(Math.min(50, iterations))]); // warm-up
  const out = JSON.parse(execFileSync(bin, [String(iterations)], { encoding: 'utf8' })) as { iterations: number; steps_per_iteration: number; seconds: number };
  if (out.steps_per_iteration !== trace.steps.length) throw new Error('bench-raw does a different number of steps than the bench trace');
  return { runner: 'raw C syscalls (bench-raw)', traces: out.iterations, seconds: out.seconds };
}

async function main(): Promise<void> {
  const avail = kvmAvailable();
  if (!avail.ok) {
    console.log(`SKIP: no /dev/kvm (${avail.reason})`);
    return;
  }
  const iterations = Number(process.argv[2] ?? 1000);
  if (!Number.isInteger(iterations) || iterations <= 0) throw new Error(`bad iteration count ${process.argv[2]}`);
  const steps = trace.steps.length;
  const rows = [await benchBackend(iterations), benchRaw(iterations)];
  const [runner, raw] = rows as [Row, Row];
  const perStep = (r: Row) => (r.seconds * 1e6) / (r.traces * steps);
  console.log(`${steps}-step trace x ${iterations} (kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()})\n`);
  const header = ['runner', 'traces', 'steps', 'seconds', 'steps/s', 'µs/step', 'µs/trace'];
  const table = rows.map((r) => [
    r.runner,
    String(r.traces),
    String(r.traces * steps),
    r.seconds.toFixed(3),
    Math.round((r.traces * steps) / r.seconds).toString(),
    perStep(r).toFixed(1),
    ((r.seconds * 1e6) / r.traces).toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of table) console.log(line(row));
  const ratio = perStep(runner) / perStep(raw);
  console.log(`\nper-step cost ratio, runner / raw C: ${ratio.toFixed(2)}x (target <= 3x: ${ratio <= 3 ? 'met' : 'NOT met'})`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
