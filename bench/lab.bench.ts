/**
 * The lab's own figures: boot to the first program output, and the KVM selftests' guest time.
 *
 *   npx tsx bench/lab.bench.ts [boots]     (default 3; needs a cached lab kernel and QEMU; builds the
 *                                          selftests first if they are not cached)
 *
 * 1. Boot: `labExec` of `echo` `boots` times. Per run: host wall time from spawning QEMU to the program's
 *    output back in node, host time to the program's start (the status port's first line), and the guest's
 *    own uptime at that moment. Best and median.
 * 2. Selftests: the six KVM selftests in one boot; guest seconds per test (from the runner's TAP) and in all,
 *    and host wall time including boot.
 */
import { labReady } from '../src/lab/available.ts';
import { buildSelftests, runSelftests } from '../src/lab/selftests.ts';
import { labExec } from '../src/lab/vm.ts';

const boots = Number(process.argv[2] ?? 3);
const lab = labReady();
if (!lab.ok) {
  console.log(`SKIP: ${lab.reason}`);
  process.exit(0);
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const row = (name: string, xs: number[], unit: string, digits = 2): string =>
  `  ${name.padEnd(44)} best ${Math.min(...xs).toFixed(digits)} ${unit}, median ${median(xs).toFixed(digits)} ${unit}`;

console.log(`lab kernel: ${lab.kernel}`);
const wall: number[] = [];
const hostBoot: number[] = [];
const guestBoot: number[] = [];
let accel = '';
for (let i = 0; i < boots; i++) {
  const t0 = performance.now();
  const r = await labExec({ program: 'echo', args: ['first output'] });
  const t1 = performance.now();
  if (r.stdout !== 'first output\n' || r.status !== 0)
    throw new Error(`boot ${i}: unexpected result ${JSON.stringify(r.stdout)} status ${r.status}`);
  wall.push((t1 - t0) / 1000);
  hostBoot.push(r.hostBootMs / 1000);
  guestBoot.push(r.bootSeconds);
  accel = r.accel;
}
console.log(`boot to first program output (${boots} boots, ${accel}):`);
console.log(row('host: labExec call to its result (whole run)', wall, 's'));
console.log(row('host: QEMU start to program start', hostBoot, 's'));
console.log(row('guest: uptime at program start', guestBoot, 's'));

const bins = await buildSelftests();
const t0 = performance.now();
const run = await runSelftests(bins);
const wallSt = (performance.now() - t0) / 1000;
console.log(`KVM selftests (${bins.version}), one boot:`);
for (const r of run.summary.results) console.log(`  ${r.name.padEnd(34)} ${r.outcome.padEnd(5)} ${r.directive}`);
console.log(
  `  guest time for the selftests: ${run.exec.programSeconds.toFixed(1)} s; boot ${run.exec.bootSeconds.toFixed(2)} s; host wall incl. boot and initramfs: ${wallSt.toFixed(1)} s`,
);
console.log(`  ${run.summary.passed} passed, ${run.summary.failed} failed, ${run.summary.skipped} skipped`);
