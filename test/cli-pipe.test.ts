/**
 * A closed pipe ends a command quietly, the way Unix tools do (`gmem-spec predict t.json | head -1`): every
 * command runs through the real bin as a child process whose stdout is closed — once before the first line (so the
 * first write meets EPIPE, deterministically) and once after the first line (what `head -1` does) — and must
 * exit with the status it documents for that input, with nothing on stderr.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/commands/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'gmem-pipe-'));
const CORPUS = 'examples/corpus/linux-6.18';

/** The kernel-recorded trace, named for sw-protected: it diverges at step 4 (exit 1). */
function divergingTrace(): string {
  const t = JSON.parse(readFileSync(`${CORPUS}/memslot--address-space-1.json`, 'utf8')) as Record<string, unknown>;
  const file = join(tmp, 'diverging.json');
  writeFileSync(file, JSON.stringify({ ...t, profile: 'sw-protected' }));
  return file;
}

/** A working directory whose generated-tests/linux-6.18 holds a few traces, so that `run` is quick. */
function smallProject(): string {
  const dir = join(tmp, 'project');
  mkdirSync(join(dir, 'generated-tests', 'linux-6.18'), { recursive: true });
  for (const t of ['punch--page0.json', 'memslot--address-space-1.json', 'fork--shared-data.json'])
    copyFileSync(join(CORPUS, t), join(dir, 'generated-tests', 'linux-6.18', t));
  return dir;
}

/** Per command: arguments that print output, the status they document for it, and where it runs. */
const RUNS: Record<string, { args: string[]; code: number; cwd?: string }> = {
  // --profile: the default job also runs the profiles a lab kernel implements (building it first).
  run: { args: ['--profile', 'linux-6.18', '--bound', 'pages=1'], code: 0, cwd: smallProject() },
  predict: { args: ['examples/traces/punch-zeroes.json'], code: 0 },
  'check-trace': { args: [divergingTrace()], code: 1 },
  check: { args: ['--profile', 'linux-6.18', '--bound', 'maps=0,pins=0', '--no-dead-rules', '--out', join(tmp, 'check')], code: 0 },
  generate: {
    args: ['--profile', 'linux-6.18', '--bound', 'pages=1,maps=0,pins=0,slots=0', '--coverage', 'state', '--out', join(tmp, 'gen')],
    code: 0,
  },
  conform: { args: ['--backend', 'reference', '--suite', CORPUS, '--format', 'tap'], code: 0 },
  record: { args: ['--backend', 'reference', 'examples/traces/punch-zeroes.json', '--out', join(tmp, 'recorded.json')], code: 0 },
  mutate: { args: ['--suite', CORPUS, '--mutant', 'mmap-private-accepted'], code: 0 },
  diagram: { args: ['--profile', 'linux-6.18'], code: 0 },
  diff: { args: ['linux-6.18', 'sw-protected', '--depth', '3'], code: 0 },
  report: { args: ['--profile', 'linux-6.18', '--depth', '3', '--out', join(tmp, 'report')], code: 0 },
  review: { args: ['--out', join(tmp, 'review')], code: 0 },
  lab: { args: ['status'], code: 0 },
};

const BIN = resolve('bin/gmem-spec.mjs');

function runClosed(
  argv: string[],
  cwd: string | undefined,
  when: 'at once' | 'after the first line',
): Promise<{ code: number | null; signal: string | null; stderr: string; first: string }> {
  return new Promise((resolve) => {
    // --quiet: progress lines would be on stderr, which must otherwise stay empty.
    const child = spawn(process.execPath, [BIN, ...argv, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    let stderr = '';
    let first = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    if (when === 'at once') child.stdout.destroy();
    else {
      child.stdout.on('data', (d: Buffer) => {
        first += d.toString();
        if (first.includes('\n')) {
          first = first.slice(0, first.indexOf('\n'));
          child.stdout.destroy();
        }
      });
    }
    child.on('close', (code, signal) => resolve({ code, signal, stderr, first }));
  });
}

describe('a closed stdout pipe ends every command quietly', () => {
  it('the table covers every registered command', () => {
    expect(Object.keys(RUNS).sort()).toEqual(COMMANDS.map((c) => c.name).sort());
  });

  describe.each(COMMANDS.map((c) => c.name))('gmem-spec %s', (name) => {
    const r = RUNS[name];
    it.concurrent.each(['at once', 'after the first line'] as const)(
      'stdout closed %s: its documented exit status, nothing on stderr',
      async (when) => {
        if (!r) throw new Error(`no run for ${name} in RUNS`);
        const res = await runClosed([name, ...r.args], r.cwd, when);
        expect(res.stderr).toBe('');
        expect(res.signal).toBeNull();
        expect(res.code).toBe(r.code);
        if (when === 'after the first line') expect(res.first.length).toBeGreaterThan(0);
      },
      120_000,
    );
  });
});
