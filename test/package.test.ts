/**
 * Acceptance of the packaging (issue 16): `npm pack` the project, install the tarball into an empty
 * temporary prefix with `--omit=dev` (runtime dependencies only: no tsx, no TypeScript), then use it as a
 * user would: the installed `gmem-spec` command (--version, predict, check), the library from plain ESM
 * scripts (the README's "Use as a library" blocks, extracted and run as they are), and the shipped types
 * from a strict TypeScript consumer. One pack and one install (npm reaches the registry for the runtime
 * dependencies), shared by every case.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = process.cwd();
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const readme = readFileSync('README.md', 'utf8');
const EXAMPLE = 'examples/traces/punch-zeroes.json';
const CORPUS_TRACE = 'examples/corpus/linux-6.18/close--both-mapped.json';

/** npm run from `npm test` exports npm_config_* (prefix, cache, ...): the nested npm must not inherit them. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to its end. Asynchronous: a long npm run must not block vitest's worker (its RPC times out). */
function sh(cmd: string, args: readonly string[], cwd: string, timeout = 120_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** The ```js blocks of the README's "Use as a library" section, in order. */
function libraryExamples(): string[] {
  const start = readme.indexOf('\n## Use as a library\n');
  expect(start, 'README has a "Use as a library" section').toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

let tmp: string;
let prefix: string;
let installed: string;
let tarballFiles: string[] = [];
let install: Ran;
const bin = () => join(prefix, 'node_modules', '.bin', 'gmem-spec');

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'gmem-pack-'));
  // prepack builds dist/ (type-checking what ships first); the tarball lands in tmp.
  const pack = await sh('npm', ['pack', '--pack-destination', tmp], root, 600_000);
  expect(pack.status, `npm pack failed:\n${pack.stdout}\n${pack.stderr}`).toBe(0);
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  expect(tarball, `no tarball in ${tmp}`).toBeDefined();
  const tgz = join(tmp, tarball as string);
  tarballFiles = (await sh('tar', ['-tzf', tgz], tmp)).stdout
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));

  prefix = join(tmp, 'prefix');
  mkdirSync(prefix);
  // An empty project that allows gmem-spec's install script (npm may block dependencies' scripts otherwise).
  writeFileSync(
    join(prefix, 'package.json'),
    JSON.stringify({ name: 'gmem-spec-install-check', private: true, type: 'module', allowScripts: { 'gmem-spec': true } }),
  );
  install = await sh(
    'npm',
    ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', tgz],
    prefix,
    600_000,
  );
  installed = join(prefix, 'node_modules', 'gmem-spec');
}, 900_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the tarball', { timeout: 300_000 }, () => {
  it('holds fewer than 1,000 files, and the README quotes its size within 10%', async () => {
    expect(tarballFiles.length).toBeGreaterThan(100);
    expect(tarballFiles.length).toBeLessThan(1000);
    const quoted = /<!-- pack-stats -->(\d+) files, ([\d.]+) MB packed/.exec(readme);
    expect(quoted, 'README quotes `npm run pack-stats` between <!-- pack-stats --> markers').not.toBeNull();
    const files = Number(quoted?.[1]);
    expect(
      Math.abs(files - tarballFiles.length) / tarballFiles.length,
      `README says ${files} files, the tarball has ${tarballFiles.length} (npm run pack-stats -- --write)`,
    ).toBeLessThanOrEqual(0.1);
  });

  it('ships the built code, its types, the command, the native helper source and its build script', async () => {
    for (const f of [
      'package.json',
      'README.md',
      'bin/gmem-spec.mjs',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli/main.js',
      'dist/src/check/worker-entry.mjs',
      'dist/src/check/worker.js',
      'scripts/build-native.mjs',
      'native/gmem-helper.c',
      'native/PROTOCOL.md',
      'docs/adding-a-flag.md',
      EXAMPLE,
      CORPUS_TRACE,
    ]) {
      expect(tarballFiles, f).toContain(f);
    }
  });

  it('ships no TypeScript sources, tests, generated suites or binaries built on the packing machine', async () => {
    const unwanted = tarballFiles.filter(
      (f) =>
        /^(src|spec|machines|test|bench|generated-tests|tools)\//.test(f) ||
        f.startsWith('native/build/') ||
        /\.test\.[cm]?[jt]s$/.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('examples/flags/')),
    );
    expect(unwanted).toEqual([]);
  });
});

describe('installed with --omit=dev into an empty prefix', { timeout: 300_000 }, () => {
  it('installs with the runtime dependencies only', async () => {
    expect(install.status, `npm install failed:\n${install.stdout}\n${install.stderr}`).toBe(0);
    const top = readdirSync(join(prefix, 'node_modules'));
    for (const dep of Object.keys(manifest.dependencies)) expect(existsSync(join(prefix, 'node_modules', dep)), dep).toBe(true);
    for (const dev of Object.keys(manifest.devDependencies)) expect(top, `devDependency ${dev} installed`).not.toContain(dev);
    expect(existsSync(join(prefix, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(prefix, 'node_modules', 'typescript'))).toBe(false);
  });

  it('built the native helper at install, or left the reason it could not', async () => {
    const helper = join(installed, 'native', 'build', 'gmem-helper');
    const failed = join(installed, 'native', 'build', 'BUILD-FAILED.txt');
    expect(existsSync(helper) !== existsSync(failed), `exactly one of ${relative(prefix, helper)} and ${relative(prefix, failed)}`).toBe(
      true,
    );
    const hasCc = spawnSync(process.env.CC || 'cc', ['--version']).error === undefined;
    expect(existsSync(helper)).toBe(hasCc);
  });

  it('gmem-spec --version prints the packed version', async () => {
    const r = await sh(bin(), ['--version'], tmp);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`\\b${manifest.version.replace(/\./g, '\\.')}$`));
  });

  it('gmem-spec predict runs an example trace: what the kernel does to a punched, then out-of-range, access', async () => {
    const r = await sh(bin(), ['predict', join(installed, EXAMPLE)], tmp);
    expect(r.status, r.stderr).toBe(0);
    // The trace punches the first page of a filled shared guest_memfd: it reads zero, the rest keeps its data,
    // and a read past the 16 KiB mapping is SIGSEGV.
    expect(r.stdout).toMatch(/^5\. fallocate\(.*mode=punch_hole.*\n\s+→ ok\b/m);
    expect(r.stdout).toMatch(/^6\. check_mem\(.*value=0\)\n\s+→ access ok, matches\b/m);
    expect(r.stdout).toMatch(/^8\. read_mem\(.*offset=16384\)\n\s+→ SIGSEGV\b/m);
  });

  it('gmem-spec check --profile linux-6.18 model-checks a small bound, in worker threads from the built code', async () => {
    const r = await sh(
      bin(),
      ['check', '--profile', 'linux-6.18', '--bound', 'vms=1,gmems=1,pages=1,maps=1,pins=0,slots=1', '--workers', '2'],
      tmp,
      300_000,
    );
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^workers\s+2$/m);
    expect(r.stdout).toMatch(/^result\s+PASS: \d+ invariant\(s\) hold in all \d+ reachable states/m);
  });

  it("the README's replay example predicts the same outcomes and rules as the installed command", async () => {
    const [replay] = libraryExamples();
    expect(replay, 'the first ```js block of "Use as a library"').toBeDefined();
    writeFileSync(join(prefix, 'replay.mjs'), replay as string);
    const lib = await sh(process.execPath, ['replay.mjs', join(installed, EXAMPLE)], prefix);
    expect(lib.status, lib.stderr).toBe(0);
    const cli = await sh(bin(), ['predict', join(installed, EXAMPLE)], tmp);
    const cliRules = [...cli.stdout.matchAll(/→ .*?\[([\w.-]+):/g)].map((m) => m[1]);
    const libRules = [...lib.stdout.matchAll(/^\d+\. \w+ -> .* \[([\w.-]+)\]$/gm)].map((m) => m[1]);
    expect(libRules.length).toBe(8);
    expect(libRules).toEqual(cliRules);
    expect(lib.stdout).toMatch(/^8\. read_mem -> SIGSEGV \[access\.outside-mapping\]$/m);
  });

  it("the README's replay example agrees with a kernel recording, and names the step where a tampered one diverges", async () => {
    const [replay] = libraryExamples();
    writeFileSync(join(prefix, 'replay.mjs'), replay as string);
    const recorded = join(installed, CORPUS_TRACE);
    const agree = await sh(process.execPath, ['replay.mjs', recorded], prefix);
    expect(agree.status, agree.stderr).toBe(0);
    const steps = (JSON.parse(readFileSync(recorded, 'utf8')) as { steps: unknown[] }).steps.length;
    expect(agree.stdout).toContain(`${steps} observed outcomes agree with linux-6.18`);

    // The kernel said the first step (KVM_CREATE_VM) succeeded; claim EINVAL instead.
    const doc = JSON.parse(readFileSync(recorded, 'utf8')) as { steps: Array<{ observed?: unknown }> };
    (doc.steps[0] as { observed?: unknown }).observed = { errno: 'EINVAL' };
    writeFileSync(join(prefix, 'tampered.json'), JSON.stringify(doc));
    const diverge = await sh(process.execPath, ['replay.mjs', 'tampered.json'], prefix);
    expect(diverge.status).toBe(1);
    expect(diverge.stdout).toMatch(/^step 1 diverges: the spec says ok \(create_vm\.ok\), observed EINVAL$/m);
  });

  it("the README's check example model-checks from the library and says why the linux backend is or is not there", async () => {
    const [, checkExample] = libraryExamples();
    expect(checkExample, 'the second ```js block of "Use as a library"').toBeDefined();
    writeFileSync(join(prefix, 'check.mjs'), checkExample as string);
    const r = await sh(process.execPath, ['check.mjs'], prefix, 300_000);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^linux-6\.18: [1-9]\d* states, 0 invariant violations$/m);
    expect(r.stdout).toMatch(/^linux backend( unavailable)?: \S.*$/m);
  });

  it('ships types a strict TypeScript consumer compiles against, and they are not `any`', async () => {
    const consumer = join(prefix, 'consumer');
    mkdirSync(consumer, { recursive: true });
    writeFileSync(
      join(consumer, 'good.ts'),
      [
        "import { type Outcome, type Profile, type Trace, getProfile, parseTrace, predictTrace, compareTrace, check, openBackend } from 'gmem-spec';",
        "const profile: Profile = getProfile('linux-6.18');",
        'const trace: Trace = parseTrace(\'{"format":"gmem-trace/1","steps":[]}\');',
        'const outcomes: Outcome[] = predictTrace(profile, trace.steps).map((r) => r.outcome);',
        'const agrees: boolean = compareTrace(profile, trace.steps, outcomes).divergence === undefined;',
        'const states: Promise<number> = check({ profile, bound: { vms: 1, gmems: 1, pages: 1, maps: 0, pins: 0, slots: 0 } }).then((r) => r.states);',
        "const name: string = openBackend('reference', profile).name;",
        'export { agrees, states, name };',
        '',
      ].join('\n'),
    );
    // A type error the types must catch: were they `any`, this would compile.
    writeFileSync(
      join(consumer, 'bad.ts'),
      "import { predictTrace, getProfile } from 'gmem-spec';\nconst n: string = predictTrace(getProfile('linux-6.18'), []);\nexport { n };\n",
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['good.ts', 'bad.ts'],
      }),
    );
    const r = await sh(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], consumer);
    const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    // Exactly the one error planted in bad.ts: good.ts and every shipped declaration type-check.
    expect(errors, r.stdout).toEqual([
      expect.stringMatching(/^bad\.ts\(2,7\): error TS2322: Type 'StepResult\[\]' is not assignable to type 'string'/),
    ]);

    // No `any` anywhere in the shipped declarations (comments aside).
    const withAny = tarballFiles
      .filter((f) => f.endsWith('.d.ts'))
      .filter((f) => {
        const code = readFileSync(join(installed, f), 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/\/\/.*$/gm, '')
          .replace(/'[^'\n]*'|"[^"\n]*"|`[^`]*`/g, "''");
        return /\bany\b/.test(code);
      });
    expect(withAny).toEqual([]);
  });
});
