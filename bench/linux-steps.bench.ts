/**
 * Throughput of the linux backend against raw syscalls.
 *
 *   npx tsx bench/linux-steps.bench.ts [iterations] [rounds]   (defaults 1000, 10; needs /dev/kvm, `npm run build:native`)
 *
 * Runs the representative 13-step trace of bench/lifecycle.ts (create VM, create guest_memfd, mmap, write/read,
 * fill/check, punch hole, read, fstat, munmap, close, close) `iterations` times through LinuxBackend (one trace
 * per run(): pipelined requests, a forked helper child per trace), and the same syscalls in a plain C loop (native/bench-raw.c),
 * in interleaved rounds (default 10) so that load from other processes hits both alike, then prints
 * steps/second for both and the ratio of per-step cost (medians over rounds). Target: runner within 3x of raw C.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Outcome } from '../spec/ops.ts';
import { LinuxBackend, detectHost } from '../src/backend/linux.ts';
import { GMEM_SIZE, LIFECYCLE as trace, PAGE } from './lifecycle.ts';

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
  /** Per-step cost of each round, µs. */
  rounds: number[];
}

const STEPS = trace.steps.length;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function backendRound(backend: LinuxBackend, traces: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < traces; i++) {
    const { outcomes } = await backend.run(trace);
    if (outcomes.length !== expected.length || 'failed' in outcomes[0]!) throw new Error(`run ${i} failed: ${JSON.stringify(outcomes)}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const rawBin = fileURLToPath(new URL('../native/build/bench-raw', import.meta.url));
function rawRound(traces: number): number {
  const out = JSON.parse(execFileSync(rawBin, [String(traces)], { encoding: 'utf8' })) as {
    iterations: number;
    steps_per_iteration: number;
    seconds: number;
  };
  if (out.steps_per_iteration !== STEPS) throw new Error('bench-raw does a different number of steps than the bench trace');
  return out.seconds;
}

async function main(): Promise<void> {
  const avail = detectHost();
  if (!avail.ok) {
    console.log(avail.skip);
    return;
  }
  const iterations = Number(process.argv[2] ?? 1000);
  const roundsN = Number(process.argv[3] ?? 10);
  if (!Number.isInteger(iterations) || iterations <= 0) throw new Error(`bad iteration count ${process.argv[2]}`);
  if (!Number.isInteger(roundsN) || roundsN <= 0 || roundsN > iterations) throw new Error(`bad round count ${process.argv[3]}`);
  const perRound = Math.floor(iterations / roundsN);

  const backend = new LinuxBackend();
  const runner: Row = { runner: 'LinuxBackend (TS + helper)', traces: 0, seconds: 0, rounds: [] };
  const raw: Row = { runner: 'raw C syscalls (bench-raw)', traces: 0, seconds: 0, rounds: [] };
  try {
    const first = await backend.run(trace);
    if (JSON.stringify(first.outcomes) !== JSON.stringify(expected)) {
      throw new Error(`unexpected outcomes from the linux backend: ${JSON.stringify(first.outcomes)}`);
    }
    await backendRound(backend, Math.min(50, perRound)); // warm-up
    rawRound(Math.min(50, perRound));
    // Interleaved rounds, so that load from other processes hits both runners alike.
    for (let r = 0; r < roundsN; r++) {
      for (const [row, secs] of [
        [runner, await backendRound(backend, perRound)],
        [raw, rawRound(perRound)],
      ] as const) {
        row.traces += perRound;
        row.seconds += secs;
        row.rounds.push((secs * 1e6) / (perRound * STEPS));
      }
    }
  } finally {
    await backend.close();
  }

  console.log(
    `${STEPS}-step trace x ${runner.traces}, in ${roundsN} interleaved rounds (kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()})\n`,
  );
  const header = ['runner', 'traces', 'steps', 'seconds', 'steps/s', 'µs/step (median)', 'µs/trace (median)'];
  const table = [runner, raw].map((r) => [
    r.runner,
    String(r.traces),
    String(r.traces * STEPS),
    r.seconds.toFixed(3),
    Math.round((r.traces * STEPS) / r.seconds).toString(),
    median(r.rounds).toFixed(1),
    (median(r.rounds) * STEPS).toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of table) console.log(line(row));
  const ratios = runner.rounds.map((x, i) => x / raw.rounds[i]!);
  const ratio = median(runner.rounds) / median(raw.rounds);
  console.log(
    `\nper-step cost ratio, runner / raw C: ${ratio.toFixed(2)}x (median per-round ratio ${median(ratios).toFixed(2)}x, ` +
      `range ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); target <= 3x: ${ratio <= 3 ? 'met' : 'NOT met'}`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
