/**
 * What the host kernel can do for guest_memfd, decided by capability, never by whether /dev/kvm opens: the
 * native helper reads KVM_CHECK_EXTENSION(GUEST_MEMFD, GUEST_MEMFD_FLAGS, VM_TYPES) and tries
 * KVM_CREATE_GUEST_MEMFD. Three hosts: no /dev/kvm; /dev/kvm without guest_memfd; /dev/kvm with it.
 *
 * Test seams (environment): GMEM_SPEC_KVM_DEVICE names the device whose absence means "no /dev/kvm"
 * (`/nonexistent` simulates a host without one; the helper itself always opens /dev/kvm), and
 * GMEM_SPEC_HELPER names the helper that is asked (a fake one simulates a kernel without guest_memfd).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import { release } from 'node:os';
import { KVM_CAP } from '../../spec/constants.ts';
import { nativeHelperPath, nativeHelperProblem } from '../installation.ts';

export const KVM_DEVICE = '/dev/kvm';

/** The device probed for existence: GMEM_SPEC_KVM_DEVICE, else /dev/kvm. */
export function kvmDevicePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.GMEM_SPEC_KVM_DEVICE || KVM_DEVICE;
}

/** Where `npm run build:native` puts the helper (GMEM_SPEC_HELPER overrides it). */
export function defaultHelperPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.GMEM_SPEC_HELPER || nativeHelperPath();
}

export type HostKernel =
  | {
      ok: true;
      kind: 'guest_memfd';
      /** The host's `uname -r`. */
      release: string;
      caps: Record<string, number>;
    }
  | {
      ok: false;
      /** `no-kvm`: no usable device; `no-guest_memfd`: KVM without it; `no-helper`: nothing to ask with. */
      kind: 'no-kvm' | 'no-guest_memfd' | 'no-helper';
      /** Why, in words: `host kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD=0)`. */
      reason: string;
      /** The one line to print where something needed the host kernel: `SKIP: <reason>`. */
      skip: string;
      caps: Record<string, number>;
    };

export interface HostProbeOptions {
  device?: string;
  helperPath?: string;
  /** Ask again even if this process has asked before. */
  fresh?: boolean;
}

const PROBE_CAPS = ['GUEST_MEMFD', 'GUEST_MEMFD_FLAGS', 'VM_TYPES'] as const;
/** The probe trace: the capabilities, then a real KVM_CREATE_GUEST_MEMFD on a default VM. */
const PROBE_LINES = [
  ...PROBE_CAPS.map((c) => `check_extension on=kvm cap=${KVM_CAP[c]}`),
  'create_vm type=0 as=vm0',
  'create_gmem vm=vm0 size=4096 flags=0 as=g0',
];
const PROBE_TIMEOUT_MS = 10_000;

const cache = new Map<string, HostKernel>();

function unavailable(kind: 'no-kvm' | 'no-guest_memfd' | 'no-helper', reason: string, caps: Record<string, number> = {}): HostKernel {
  return { ok: false, kind, reason, skip: `SKIP: ${reason}`, caps };
}

/**
 * Runs the helper until its `done` line, then quits it. A child node does this so that the probe stays
 * synchronous: closing the helper's stdin while a trace runs would kill the trace (native/PROTOCOL.md).
 */
const PROBE_CHILD = `
const { spawn } = require('node:child_process');
const [helper, input, ms] = process.argv.slice(1);
const p = spawn(helper, [], { stdio: ['pipe', 'pipe', 'pipe'] });
let out = '', err = '';
const timer = setTimeout(() => { p.kill('SIGKILL'); err += 'no done line within ' + ms + ' ms'; }, Number(ms));
p.stdout.on('data', (d) => { out += d; if (/^done /m.test(out)) p.stdin.end('quit\\n'); });
p.stderr.on('data', (d) => { err += d; });
p.stdin.on('error', () => {});
p.on('error', (e) => { err += e.message; });
p.on('close', () => { clearTimeout(timer); process.stdout.write(out); process.stderr.write(err); });
p.stdin.write(input);
`;

/** The helper's answers to the probe trace, by request number, or why there are none. */
function askHelper(helperPath: string): { answers: Map<number, string> } | { error: string } {
  const input = `begin\n${PROBE_LINES.join('\n')}\nend\n`;
  const r = spawnSync(process.execPath, ['-e', PROBE_CHILD, helperPath, input, String(PROBE_TIMEOUT_MS)], {
    encoding: 'utf8',
    timeout: PROBE_TIMEOUT_MS + 5000,
    killSignal: 'SIGKILL',
  });
  if (r.error) return { error: `could not run the native helper ${helperPath}: ${r.error.message}` };
  const answers = new Map<number, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\d+) (.*)$/.exec(line);
    if (m) answers.set(Number(m[1]), m[2]!);
  }
  if (answers.size === 0) {
    const said = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
    return { error: `the native helper ${helperPath} answered no probe request${said ? ` (${said.slice(0, 200)})` : ''}` };
  }
  return { answers };
}

/** Classify the host from the probe's answers (pure: the answers are the helper's wire text). */
export function classifyProbe(answers: ReadonlyMap<number, string>, hostRelease: string): HostKernel {
  const first = answers.get(0) ?? '';
  const cannotOpen = /^failed cannot open \/dev\/kvm: (\S+)/.exec(first);
  if (cannotOpen) {
    return cannotOpen[1] === 'ENOENT'
      ? unavailable('no-kvm', 'no /dev/kvm (/dev/kvm does not exist)')
      : unavailable('no-kvm', `no usable /dev/kvm (cannot open /dev/kvm: ${cannotOpen[1]})`);
  }
  const caps: Record<string, number> = {};
  const unread: string[] = [];
  PROBE_CAPS.forEach((name, i) => {
    const m = /^ok ret=(\d+)$/.exec(answers.get(i) ?? '');
    if (m) caps[name] = Number(m[1]);
    else unread.push(`${name}(${KVM_CAP[name]}): ${answers.get(i) ?? 'no answer'}`);
  });
  if (unread.length) return unavailable('no-guest_memfd', `cannot read the host's KVM capabilities (${unread.join('; ')})`, caps);
  const createVm = answers.get(PROBE_CAPS.length) ?? 'no answer';
  const createGmem = answers.get(PROBE_CAPS.length + 1) ?? 'no answer';
  const said = (a: string) => a.replace(/^errno /, '');
  if (caps.GUEST_MEMFD === 0) {
    const tried = createVm === 'ok' ? `, KVM_CREATE_GUEST_MEMFD: ${said(createGmem)}` : '';
    return unavailable('no-guest_memfd', `host kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD=0${tried})`, caps);
  }
  if (createVm !== 'ok') {
    return unavailable(
      'no-guest_memfd',
      `host kernel reports guest_memfd but KVM_CREATE_VM of a default VM fails: ${said(createVm)}`,
      caps,
    );
  }
  if (createGmem !== 'ok') {
    return unavailable(
      'no-guest_memfd',
      `host kernel reports KVM_CAP_GUEST_MEMFD=${caps.GUEST_MEMFD} but KVM_CREATE_GUEST_MEMFD fails: ${said(createGmem)}`,
      caps,
    );
  }
  return { ok: true, kind: 'guest_memfd', release: hostRelease, caps };
}

/**
 * Can the host kernel serve guest_memfd? Asked once per process (per device and helper) unless `fresh`.
 * Synchronous (the probe is one short helper run) so that test files can decide `skipIf` at load time.
 */
export function detectHost(options: HostProbeOptions = {}): HostKernel {
  const device = options.device ?? kvmDevicePath();
  const helperPath = options.helperPath ?? defaultHelperPath();
  const key = `${device}\0${helperPath}`;
  const known = cache.get(key);
  if (known && !options.fresh) return known;
  const found = probe(device, helperPath);
  cache.set(key, found);
  return found;
}

function probe(device: string, helperPath: string): HostKernel {
  if (process.platform !== 'linux') return unavailable('no-kvm', `no /dev/kvm (not Linux: platform ${process.platform})`);
  if (!existsSync(device)) {
    return unavailable(
      'no-kvm',
      device === KVM_DEVICE ? 'no /dev/kvm (/dev/kvm does not exist)' : `no /dev/kvm (${device} does not exist; GMEM_SPEC_KVM_DEVICE)`,
    );
  }
  try {
    accessSync(helperPath, fsConstants.X_OK);
  } catch {
    const why = helperPath === nativeHelperPath() ? nativeHelperProblem() : undefined;
    return unavailable(
      'no-helper',
      `cannot ask the host kernel: ${why ?? `native helper ${helperPath} is not built (run \`npm run build:native\`)`}`,
    );
  }
  const asked = askHelper(helperPath);
  if ('error' in asked) return unavailable('no-helper', `cannot ask the host kernel: ${asked.error}`);
  return classifyProbe(asked.answers, release());
}
