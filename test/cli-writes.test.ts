/**
 * Long commands that write files: `generate --all --out DIR` writes there (and leaves the committed suites and
 * the README alone); `report` and `generate` show progress on stderr (one line per phase when stderr is not a
 * terminal; stdout keeps only the result); Ctrl-C stops them with exit 130 and one line saying what was written
 * and what was not, leaving no half-written file. Errors are one line: a file that cannot be written names it,
 * an internal error names the command and the phase (its stack only with GMEM_SPEC_DEBUG=1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineCommand, type Io } from '../src/cli/command.ts';
import { main } from '../src/cli/main.ts';
import { streamProgress } from '../src/cli/stdio.ts';
import { PROFILES } from '../spec/profiles/index.ts';
import { COMMITTED } from '../src/generate/config.ts';

const BIN = resolve('bin/gmem-spec.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'gmem-writes-'));

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)).map((f) => join(e, f)) : [e]));
}

interface Child {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  /** Resolves when stderr has printed a line matching `re`. */
  waitErr: (re: RegExp) => Promise<void>;
  exit: Promise<number | null>;
}

function start(argv: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  const waiters: Array<{ re: RegExp; done: () => void }> = [];
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters])
      if (w.re.test(err)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done();
      }
  });
  const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return {
    child,
    out: () => out,
    err: () => err,
    exit,
    waitErr: (re) => (re.test(err) ? Promise.resolve() : new Promise((done) => waiters.push({ re, done }))),
  };
}

describe('generate --all --out DIR', () => {
  it('writes every committed suite under DIR, and leaves generated-tests and the README as they are', async () => {
    const out = join(tmp, 'all');
    const readme = readFileSync('README.md', 'utf8');
    const before = statSync('generated-tests/README.md').mtimeMs;
    const c = start(['generate', '--all', '--out', out]);
    expect(await c.exit, c.err()).toBe(0);
    expect(readdirSync(out).sort()).toEqual([...COMMITTED.map((x) => x.profile), 'README.md'].sort());
    for (const x of COMMITTED) expect(existsSync(join(out, x.profile, 'coverage.json')), x.profile).toBe(true);
    expect(readFileSync('README.md', 'utf8')).toBe(readme);
    expect(statSync('generated-tests/README.md').mtimeMs).toBe(before);
    expect(c.out()).toContain(`README.md's coverage table describes generated-tests/ and was left as it is`);
    // Progress: a line per profile on stderr (not a terminal); stdout has the results only.
    expect(c.err()).toMatch(
      new RegExp(`^… generating ${COMMITTED[0]?.profile.replace('.', '\\.')} \\(1/${COMMITTED.length}\\) \\[[\\d.]+ s\\]$`, 'm'),
    );
    expect(c.out()).not.toContain('…');
    expect(walk(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 300_000);
});

describe('Ctrl-C on a command that writes files', () => {
  it('report: exit 130, one line, nothing written and no temporary directory left', async () => {
    const dir = join(tmp, 'rep');
    mkdirSync(dir);
    writeFileSync(join(dir, 'marker'), 'the old report');
    const c = start(['report', '--out', dir, '--depth', '4']);
    await c.waitErr(/… profile \S+ \(2\/\d+\)/);
    c.child.kill('SIGINT');
    expect(await c.exit).toBe(130);
    expect(c.err().trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(
        `^interrupted: nothing written \\(${dir.replace(/[.]/g, '\\.')} is as it was; [1-9]\\d* of ${PROFILES.length} profile page\\(s\\) had been built in memory\\)$`,
      ),
    );
    expect(c.out()).toBe('');
    expect(readdirSync(dir)).toEqual(['marker']);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
  }, 300_000);

  it('generate --all: exit 130, one line naming the suites written and those not, each written suite complete', async () => {
    const out = join(tmp, 'int');
    const c = start(['generate', '--all', '--out', out]);
    await c.waitErr(/… generating \S+ \(2\/\d+\)/);
    c.child.kill('SIGINT');
    expect(await c.exit).toBe(130);
    const line = c.err().trimEnd().split('\n').at(-1) as string;
    const m = /^interrupted: wrote the suites of (.+) under (\S+); not written: (.+), (\S+README\.md)$/.exec(line);
    expect(m, line).not.toBeNull();
    const written = String(m?.[1]).split(', ');
    const notWritten = String(m?.[3]).split(', ');
    expect([...written, ...notWritten]).toEqual(COMMITTED.map((x) => x.profile));
    expect(readdirSync(out).sort()).toEqual([...written].sort());
    for (const p of written) expect(existsSync(join(out, p, 'coverage.json')), p).toBe(true);
    expect(walk(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 300_000);
});

describe('progress', () => {
  it('on a terminal: one status line rewritten in place, cleared before output', () => {
    const written: string[] = [];
    const p = streamProgress({ isTTY: true, write: (s: string) => void written.push(s) }, () => true, 'report');
    p.phase('profile linux-6.18 (1/10)');
    p.status('3/10');
    p.clear();
    expect(written[0]).toMatch(/^\r\x1b\[Kgmem-spec report: profile linux-6\.18 \(1\/10\) \[[\d.]+ s\]$/);
    expect(written[1]).toMatch(/^\r\x1b\[Kgmem-spec report: profile linux-6\.18 \(1\/10\): 3\/10 \[/);
    expect(written[2]).toBe('\r\x1b[K');
  });

  it('elsewhere: a plain line per phase, running counts left out', () => {
    const written: string[] = [];
    const p = streamProgress({ isTTY: false, write: (s: string) => void written.push(s) }, () => true, 'run');
    p.phase('exploring linux-6.18');
    p.status('3/10');
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^… exploring linux-6\.18 \[[\d.]+ s\]\n$/);
  });
});

describe('errors are one line', () => {
  async function cli(argv: string[], commands?: Parameters<typeof main>[2]): Promise<{ code: number; err: string[] }> {
    const err: string[] = [];
    const io: Io = { out: () => {}, err: (s) => err.push(...s.split('\n')) };
    return { code: await main(argv, io, commands), err };
  }

  it('a file that cannot be written is named, with the phase', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, '');
    const r = await cli(['report', '--profile', 'linux-6.18', '--depth', '1', '--out', join(file, 'report')]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^gmem-spec report: E[A-Z]+: .*a-file.* \(while writing \d+ files\)$/);
  });

  const broken = defineCommand({
    name: 'broken',
    summary: 'fails in its second phase',
    args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
    options: {},
    exitCodes: { 0: 'never', 2: 'always' },
    async action(_args, io) {
      io.progress?.phase('loading');
      io.progress?.phase('replaying step 3 of t.json');
      const steps: Array<{ op: string }> = [];
      return (steps[3] as { op: string }).op.length;
    },
  });

  it('an internal error names the command and the phase, without a stack unless GMEM_SPEC_DEBUG=1', async () => {
    const saved = process.env.GMEM_SPEC_DEBUG;
    try {
      delete process.env.GMEM_SPEC_DEBUG;
      const r = await cli(['broken'], [broken]);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([
        `gmem-spec broken: internal error while replaying step 3 of t.json: TypeError: Cannot read properties of undefined (reading 'op') (GMEM_SPEC_DEBUG=1 shows the stack trace)`,
      ]);
      process.env.GMEM_SPEC_DEBUG = '1';
      const d = await cli(['broken'], [broken]);
      expect(d.err[0]).toBe(
        `gmem-spec broken: internal error while replaying step 3 of t.json: TypeError: Cannot read properties of undefined (reading 'op')`,
      );
      expect(d.err.slice(1).join('\n')).toMatch(/^TypeError: .*\n\s+at /);
    } finally {
      if (saved === undefined) delete process.env.GMEM_SPEC_DEBUG;
      else process.env.GMEM_SPEC_DEBUG = saved;
    }
  });
});
