#!/usr/bin/env node
/**
 * A stand-in for native/gmem-helper that needs no kernel: it speaks native/PROTOCOL.md and answers as a host
 * of the kind FAKE_KVM names: `no-gmem` (the default: KVM without guest_memfd, cap 234 = 0, create gives
 * ENOTTY) or `gmem` (guest_memfd with MMAP|INIT_SHARED, default VM type only). It knows the test-only ops
 * __hang (no answer until SIGUSR1, which answers `done signal=9 SIGKILL` as the real helper does), __crash,
 * and __stderr (a line on stderr). Every other op is answered `failed unsupported by the fake helper`.
 */
import { createInterface } from 'node:readline';

const mode = process.env.FAKE_KVM ?? 'no-gmem';
const CAPS = mode === 'gmem' ? { 234: 1, 244: 3, 235: 1 } : { 234: 0, 244: 0, 235: 1 };
const out = (line) => process.stdout.write(`${line}\n`);

let trace;
let hanging = false;
process.on('SIGUSR1', () => {
  if (!hanging) return;
  hanging = false;
  out('done signal=9 SIGKILL');
});

function answer(line) {
  const [op, ...fields] = line.split(' ');
  const f = Object.fromEntries(fields.map((x) => x.split('=')));
  switch (op) {
    case 'check_extension':
      return `ok ret=${CAPS[f.cap] ?? 0}`;
    case 'create_vm':
      return 'ok';
    case 'create_gmem':
      return mode === 'gmem' ? 'ok' : 'errno ENOTTY';
    case '__stderr':
      process.stderr.write('fake helper: a line on stderr\n');
      return 'ok';
    default:
      return 'failed unsupported by the fake helper';
  }
}

function run(lines) {
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '__hang') {
      hanging = true;
      return;
    }
    if (lines[i] === '__crash') {
      out('done signal=11 SIGSEGV');
      return;
    }
    out(`${i} ${answer(lines[i])}`);
  }
  out('done exit=0');
}

out('ready gmem-helper protocol=1');
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (trace) {
      if (line === 'end') {
        const t = trace;
        trace = undefined;
        run(t);
      } else trace.push(line);
    } else if (line === 'begin') trace = [];
    else if (line === 'ping') out('pong');
    else if (line === 'quit') process.exit(0);
    else out(`error unknown server command '${line}' (expected begin, ping or quit)`);
  })
  .on('close', () => process.exit(0));
