/**
 * CI guards for the generated suites: regenerating them from the spec gives exactly what is committed, and
 * the kselftest-style C files compile with -Wall -Werror and pass against /dev/kvm (SKIP line without it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kvmAvailable } from '../src/backend/linux.ts';

describe('generated suites', () => {
  it('regenerate byte for byte from the spec (gmem-spec generate --check)', () => {
    const r = spawnSync(process.execPath, ['bin/gmem-spec.mjs', 'generate', '--check'], { encoding: 'utf8', timeout: 600_000 });
    expect(r.stdout + r.stderr, 'run `gmem-spec generate --all` and commit generated-tests/').toMatch(/linux-6\.18: up to date/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 600_000);
});

const kvm = kvmAvailable();
const cc = spawnSync('cc', ['--version'], { encoding: 'utf8' });
const skip = !kvm.ok ? `no /dev/kvm (${kvm.reason})` : cc.status !== 0 ? 'no C compiler (cc)' : undefined;
if (skip) console.log(`SKIP: ${skip.startsWith('no /dev/kvm') ? skip : `no /dev/kvm test possible: ${skip}`}`);

describe.skipIf(skip !== undefined)('generated C selftests (linux-6.18) on this kernel', () => {
  const dir = join('generated-tests', 'linux-6.18', 'c');
  const files = readdirSync(dir).filter((f) => f.endsWith('.c')).sort();
  const out = mkdtempSync(join(tmpdir(), 'gmem-c-'));
  it.each(files)('%s compiles with -Wall -Werror and every test passes (TAP)', (file) => {
    const bin = join(out, file.replace(/\.c$/, ''));
    const build = spawnSync('cc', ['-O1', '-Wall', '-Werror', '-o', bin, join(dir, file)], { encoding: 'utf8' });
    expect(build.stderr, `cc -Wall -Werror ${file}`).toBe('');
    expect(build.status).toBe(0);
    const run = spawnSync(bin, [], { encoding: 'utf8', timeout: 300_000 });
    const totals = /# Totals: pass:(\d+) fail:(\d+)/.exec(run.stdout);
    expect(totals, run.stdout.slice(-2000)).not.toBeNull();
    expect(Number(totals?.[2]), run.stdout.split('\n').filter((l) => l.startsWith('not ok')).join('\n')).toBe(0);
    expect(Number(totals?.[1])).toBeGreaterThan(100);
    expect(run.status).toBe(0);
  }, 300_000);
});
