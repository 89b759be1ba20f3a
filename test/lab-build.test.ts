/**
 * `lab build` against a scratch cache ($GMEM_LAB_CACHE): Ctrl-C during extraction and during the compile
 * leaves a one-line message, exit 130 and no cache entry (the compile's build directory is kept so the next
 * build resumes); a broken cache entry is reported and never used; a cached kernel costs nothing. These use
 * the real linux-source package and tree of the user's cache, linked in, so they SKIP when that is not
 * there yet (the first `lab build` makes it).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedDebs } from '../src/lab/aptFetch.ts';
import { listEntries } from '../src/lab/cacheEntry.ts';
import { LAB_SERIES, extractedTrees, labKernelPath } from '../src/lab/kernelBuild.ts';
import { labLayout } from '../src/lab/paths.ts';

const BIN = fileURLToPath(new URL('../bin/gmem-spec.mjs', import.meta.url));
const user = labLayout();
const deb = cachedDebs(user, LAB_SERIES)[0];
const tree = extractedTrees(user, LAB_SERIES)[0];
const kernel = labKernelPath();
if (!deb) console.log(`SKIP: lab build interruption during extraction: no linux-source-${LAB_SERIES} .deb in ${user.downloads} yet`);
if (!tree) console.log(`SKIP: lab build interruption during compile: no extracted tree in ${user.root}/src yet`);
if (!kernel) console.log('SKIP: lab cache checks with a real kernel: no lab kernel is cached yet');

const scratches: string[] = [];
afterAll(() => {
  for (const s of scratches) rmSync(s, { recursive: true, force: true });
});
function scratchCache(): string {
  const d = mkdtempSync(join(tmpdir(), 'lab-cache-'));
  scratches.push(d);
  return d;
}

/** Runs `gmem-spec lab ARGS` with a cache root; sends SIGINT once stderr matches `when`. */
function labUntil(
  root: string,
  args: string[],
  when: RegExp,
  delayMs: number,
): Promise<{ code: number | null; stderr: string; child: ChildProcess }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'lab', ...args], {
      env: { ...process.env, GMEM_LAB_CACHE: root },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      stderr += c;
      if (!sent && when.test(stderr)) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), delayMs);
      }
    });
    child.stdout.resume();
    child.on('close', (code) => resolve({ code, stderr, child }));
  });
}

const leftovers = (root: string): string[] =>
  ['src', 'kernels', 'downloads'].flatMap((d) => {
    try {
      return readdirSync(join(root, d))
        .filter((n) => n.includes('.partial'))
        .map((n) => `${d}/${n}`);
    } catch {
      return [];
    }
  });

describe('Ctrl-C during lab build', () => {
  it.skipIf(!deb)(
    'during extraction: exit 130, one line, no source tree, no partial directory, no cache entry',
    async () => {
      const root = scratchCache();
      mkdirSync(join(root, 'downloads'));
      symlinkSync((deb as { path: string }).path, join(root, 'downloads', basename((deb as { path: string }).path)));
      const r = await labUntil(root, ['build'], /lab extract:/, 1500);
      expect(r.code).toBe(130);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^gmem-spec lab build: interrupted; no cache entry was written/);
      expect(leftovers(root)).toEqual([]);
      expect(extractedTrees(labLayout(root), LAB_SERIES)).toEqual([]);
      expect(listEntries(join(root, 'kernels'))).toEqual([]);
    },
    120_000,
  );

  it.skipIf(!tree)(
    'during the compile: exit 130, no cache entry, the build directory kept for resuming, no make left running',
    async () => {
      const root = scratchCache();
      const t = tree as { dir: string; version: string };
      mkdirSync(join(root, 'src'));
      symlinkSync(t.dir, join(root, 'src', basename(t.dir)));
      const r = await labUntil(root, ['build', '--jobs', '1'], /lab compile:/, 3000);
      expect(r.code).toBe(130);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(
        /^gmem-spec lab build: interrupted; no cache entry was written \(the source tree and make's progress are kept/,
      );
      expect(listEntries(join(root, 'kernels'))).toEqual([]);
      expect(existsSync(join(labLayout(root).buildDir(t.version), '.config'))).toBe(true);
      expect(leftovers(root)).toEqual([]);
      await new Promise((res) => setTimeout(res, 500));
      const makes = spawnSync('pgrep', ['-f', `O=${labLayout(root).buildDir(t.version)}`], { encoding: 'utf8' }).stdout.trim();
      expect(makes).toBe('');
    },
    180_000,
  );
});

describe.skipIf(!kernel)('the cache with a real kernel', () => {
  it('a second lab build costs nothing: it answers from the cache without apt or make', () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [BIN, 'lab', 'build'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(kernel);
    expect(r.stderr).toMatch(/lab: cached linux-source-7\.3 /);
    expect(r.stderr).not.toMatch(/download|compile|configure/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 60_000);

  it('a truncated bzImage or a missing marker: status says BROKEN, nothing uses it, exec says no kernel is cached', () => {
    const root = scratchCache();
    const entry = (kernel as string).split('/').slice(-2, -1)[0] as string;
    const dir = join(root, 'kernels', entry);
    cpSync(join(user.kernelsDir, entry), dir, { recursive: true });
    truncateSync(join(dir, 'bzImage'), 1000);
    const env = { ...process.env, GMEM_LAB_CACHE: root };
    const st = spawnSync(process.execPath, [BIN, 'lab', 'status'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(st.status).toBe(0);
    expect(st.stdout).toMatch(/BROKEN .*: bzImage is 1000 bytes, \d+ expected \(truncated or replaced\)/);
    const ex = spawnSync(process.execPath, [BIN, 'lab', 'exec', '--', 'true'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(ex.status).toBe(2);
    expect(ex.stderr.trim()).toBe('gmem-spec lab exec: no lab kernel is cached (run `gmem-spec lab build`)');
    rmSync(join(dir, 'COMPLETE'));
    expect(spawnSync(process.execPath, [BIN, 'lab', 'status'], { encoding: 'utf8', env, timeout: 60_000 }).stdout).toMatch(
      /BROKEN .*no COMPLETE marker/,
    );
  }, 120_000);
});
