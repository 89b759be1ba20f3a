/**
 * tools/kernel-probe/probe.c, the standalone probe docs/kernel-observations.md was measured with, compiles cleanly
 * against the one C UAPI definition (native/kvm-uapi.h, generated from spec/constants.ts), and no C source of the
 * project defines a KVM struct or ioctl number a second time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const hasCc = spawnSync('cc', ['--version']).status === 0;
if (!hasCc) console.log('SKIP: no C compiler (cc): tools/kernel-probe/probe.c is not compiled');
const dir = mkdtempSync(join(tmpdir(), 'kernel-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The hand-written C of the project (the generated selftests embed the header's text, generated from the same source). */
const C_SOURCES = [
  ...readdirSync(join(ROOT, 'native'))
    .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
    .map((f) => `native/${f}`),
  'tools/kernel-probe/probe.c',
];

describe('the C UAPI is defined once', () => {
  it.skipIf(!hasCc)('the probe compiles with cc -Wall -Werror against native/kvm-uapi.h', () => {
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', join(dir, 'probe'), join(ROOT, 'tools/kernel-probe/probe.c')], { stdio: 'pipe' });
  });

  it('no KVM struct or KVM_ macro is defined in two C files', () => {
    const where = new Map<string, string[]>();
    for (const f of C_SOURCES) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      const names = [...text.matchAll(/^\s*struct (kvm_\w+) \{|^#define ((?:KVM|GUEST_MEMFD)_\w+)/gm)].map((m) => m[1] ?? m[2]);
      for (const n of new Set(names)) where.set(n as string, [...(where.get(n as string) ?? []), f]);
    }
    expect(where.get('kvm_memory_attributes2_uapi')).toEqual(['native/kvm-uapi.h']);
    expect([...where].filter(([, files]) => files.length > 1)).toEqual([]);
  });
});
