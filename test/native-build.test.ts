/**
 * Install-time honesty: the native helper's build (the package's `install` script) never fails the install;
 * when it cannot build, it leaves native/build/BUILD-FAILED.txt with the reason, and src/installation.ts turns
 * what is there into the one line the linux backend reports. Run on a copy of the script and the helper's
 * source in a temporary directory laid out like an installed package, so the checkout's own build is untouched.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NATIVE_BUILD_FAILED_FILE, findPackageRoot, nativeHelperPath, nativeHelperProblem, packageRoot } from '../src/installation.ts';

const root = mkdtempSync(join(tmpdir(), 'gmem-native-'));
mkdirSync(join(root, 'scripts'));
mkdirSync(join(root, 'native'));
copyFileSync('scripts/build-native.mjs', join(root, 'scripts', 'build-native.mjs'));
copyFileSync('native/gmem-helper.c', join(root, 'native', 'gmem-helper.c'));
copyFileSync('native/kvm-uapi.h', join(root, 'native', 'kvm-uapi.h'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const build = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
const marker = join(root, NATIVE_BUILD_FAILED_FILE);
const hasCc = spawnSync(process.env.CC || 'cc', ['--version']).error === undefined;
if (!hasCc) console.log('SKIP: no C compiler (cc): the successful-build case of test/native-build.test.ts does not run');

describe('native helper build at install time', () => {
  it('without a C compiler, --optional (the install script) exits 0 and records why', () => {
    const r = build(['--optional'], { CC: '/nonexistent/cc' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("C compiler '/nonexistent/cc' not found");
    expect(existsSync(nativeHelperPath(root))).toBe(false);
    expect(readFileSync(marker, 'utf8').split('\n')[0]).toMatch(/^C compiler '\/nonexistent\/cc' not found .*install one/);
    const problem = nativeHelperProblem(root);
    expect(problem).toContain("C compiler '/nonexistent/cc' not found");
    expect(problem).toContain(`node ${join(root, 'scripts', 'build-native.mjs')}`);
  });

  it('without a C compiler, `npm run build:native` (no --optional) fails with the same reason', () => {
    const r = build([], { CC: '/nonexistent/cc' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("C compiler '/nonexistent/cc' not found");
  });

  it.skipIf(!hasCc)('with a compiler, builds the helper, clears the failure record, and the backend has no problem to report', () => {
    const r = build(['--optional']);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(nativeHelperPath(root))).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect(nativeHelperProblem(root)).toBeUndefined();
    // The binary is the helper: it announces its protocol on start (native/PROTOCOL.md, "Framing").
    const helper = spawnSync(nativeHelperPath(root), [], { input: '', encoding: 'utf8', timeout: 10_000 });
    expect(helper.stdout).toMatch(/^ready gmem-helper protocol=\d+\n/);
  });

  it('a helper that is missing with no failure record says the install script did not run, and how to build it', () => {
    rmSync(join(root, 'native', 'build'), { recursive: true, force: true });
    const problem = nativeHelperProblem(root);
    expect(problem).toContain('install script did not run');
    expect(problem).toContain(`node ${join(root, 'scripts', 'build-native.mjs')}`);
  });

  it('finds the package root from any module below it, by the package name', () => {
    expect(findPackageRoot(join(process.cwd(), 'src', 'backend'))).toBe(process.cwd());
    expect(packageRoot()).toBe(process.cwd());
    expect(() => findPackageRoot(root)).toThrow(/no package.json named gmem-spec/);
  });
});
