/**
 * The lab backend's cost: boot to first step, steps per second against the host helper, and whole suites.
 *
 *   npx tsx bench/lab-steps.bench.ts [traces] [profiles]   (defaults 200, the profiles the lab implements;
 *                                                           needs a cached lab kernel and QEMU)
 *
 * 1. Boot to first step: a fresh lab backend, one KVM_CHECK_EXTENSION; host wall time from opening the backend
 *    to the answer (QEMU start, guest boot, relay and helper start, one trace), best and median of 3.
 * 2. Steps per second: the 13-step lifecycle trace of bench/lifecycle.ts, `traces` times through the
 *    lab backend (one VM, booted before timing), and the same on the host helper when the host kernel serves
 *    guest_memfd (else the line says why not).
 * 3. Whole suites: every trace of generated-tests/<profile> for each profile the lab implements, on a fresh
 *    lab VM each (wall time including boot; how many traces agree with the spec), then all of them on one VM
 *    as `npm start` runs them. Target: linux-7.3 and sw-protected together under 60 s, boot included.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Outcome, Trace } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { labProfiles } from '../src/backend/choose.ts';
import { labBackendStatus, openLabBackend } from '../src/backend/lab.ts';
import { LinuxBackend, detectHost } from '../src/backend/linux.ts';
import type { Backend } from '../src/backend/types.ts';
import type { LabVm } from '../src/lab/vm.ts';
import { runSuite } from '../src/conform/runner.ts';
import { LIFECYCLE as lifecycle } from './lifecycle.ts';
import { loadSuite } from '../src/conform/suite.ts';

const probe: Trace = { format: 'gmem-trace/1', steps: [{ op: 'check_extension', on: 'kvm', cap: 234 }] };

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function check(outcomes: Outcome[], what: string): void {
  const bad = outcomes.find((o) => 'failed' in o);
  if (bad) throw new Error(`${what}: ${JSON.stringify(bad)}`);
}

async function bootToFirstStep(): Promise<void> {
  const times: number[] = [];
  let release = '';
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const b = openLabBackend();
    try {
      const { outcomes } = await b.run(probe);
      times.push(performance.now() - t0);
      check(outcomes, 'first step');
      release = b.kernelRelease;
    } finally {
      await b.close();
    }
  }
  console.log(
    `boot to first step (lab, Linux ${release}): best ${secs(Math.min(...times))}, median ${secs(median(times))} over ${times.length} boots`,
  );
}

async function stepsPerSecond(backend: Backend, traces: number): Promise<number> {
  check((await backend.run(lifecycle)).outcomes, 'warm-up');
  const t0 = performance.now();
  for (let i = 0; i < traces; i++) check((await backend.run(lifecycle)).outcomes, `trace ${i}`);
  return (traces * lifecycle.steps.length) / ((performance.now() - t0) / 1000);
}

async function throughput(traces: number): Promise<void> {
  let vm: LabVm | undefined;
  const lab = openLabBackend({ onVm: (v) => (vm = v) });
  try {
    const rate = await stepsPerSecond(lab, traces);
    console.log(`steps/s, lab backend (${vm?.accel ?? '?'}): ${rate.toFixed(0)} (${traces} traces of ${lifecycle.steps.length} steps)`);
    const host = detectHost();
    if (!host.ok) {
      console.log(`steps/s, host helper: not measured: ${host.skip.replace(/^SKIP: /, '')}`);
      return;
    }
    const linux = new LinuxBackend();
    try {
      const hostRate = await stepsPerSecond(linux, traces);
      console.log(
        `steps/s, host helper (Linux ${host.release}): ${hostRate.toFixed(0)}; the lab costs ${(hostRate / rate).toFixed(1)}x per step`,
      );
    } finally {
      await linux.close();
    }
  } finally {
    await lab.close();
  }
}

/** Every trace of each profile's committed suite on one lab backend; `fresh`: a new VM per profile. */
async function suites(profiles: readonly string[], fresh: boolean): Promise<number> {
  const t0 = performance.now();
  let b: Backend | undefined;
  try {
    for (const name of profiles) {
      const dir = join('generated-tests', name);
      if (!existsSync(dir)) {
        console.log(`suite ${name}: ${dir} does not exist (not generated yet)`);
        continue;
      }
      const traces = loadSuite(dir);
      const p0 = performance.now();
      if (fresh && b) {
        await b.close();
        b = undefined;
      }
      b ??= openLabBackend();
      const results = await runSuite(b, getProfile(name), traces);
      const ms = performance.now() - p0;
      const steps = results.reduce((n, r) => n + r.steps, 0);
      const agree = results.filter((r) => r.passed).length;
      if (fresh)
        console.log(
          `suite ${name} on a fresh lab VM: ${results.length} traces, ${steps} steps in ${secs(ms)} including boot (${(steps / (ms / 1000)).toFixed(0)} steps/s); ${agree} agree, ${results.length - agree} diverge`,
        );
    }
  } finally {
    await b?.close();
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const status = labBackendStatus();
  if (!status.ok) return void console.log(`SKIP: the lab cannot run (${status.reason})`);
  if (!status.cached) return void console.log('SKIP: no lab kernel is cached (build it with `gmem-spec lab build`, about 10 min)');
  const traces = Number(process.argv[2] ?? 200);
  if (!Number.isInteger(traces) || traces <= 0) throw new Error(`bad trace count ${process.argv[2]}`);
  const profiles = process.argv[3] ? process.argv[3].split(',') : labProfiles();
  await bootToFirstStep();
  await throughput(traces);
  const apart = await suites(profiles, true);
  console.log(`suites ${profiles.join(' + ')}, a VM each: ${secs(apart)}`);
  const together = await suites(profiles, false);
  console.log(`suites ${profiles.join(' + ')} on one VM (as npm start runs them), boot included: ${secs(together)} (target: under 60 s)`);
}

await main();
