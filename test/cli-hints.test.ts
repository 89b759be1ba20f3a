/**
 * Every hint the tool prints works when pasted. A failing scenario — a project whose suite holds twelve traces
 * with a wrong expected outcome, run on the reference backend — makes `gmem-spec run` list ten failures with a
 * command each, say "and 2 more" with a command for all of them; those commands (conform) print a reproduce
 * command per failure (check-trace); and conform without a suite hints at the generate command that writes
 * one. Each hint is run as pasted into a shell (gmem-spec standing for the real bin) in the same directory, and
 * must reproduce what it promises: the failure (exit 1), or the suite (exit 0) — never an unknown profile.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve('bin/gmem-spec.mjs');
const project = mkdtempSync(join(tmpdir(), 'gmem-hints-'));
const FAILURES = 'generated-tests/linux-6.18/traces/failures';

function listJson(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => (statSync(join(dir, e)).isDirectory() ? listJson(join(dir, e)) : e.endsWith('.json') ? [join(dir, e)] : []));
}

/** Twelve committed traces, each with its last expected outcome made wrong. */
function wrongSuite(): string[] {
  const dir = join(project, 'generated-tests', 'linux-6.18');
  mkdirSync(dir, { recursive: true });
  return listJson(FAILURES)
    .slice(0, 12)
    .map((f, i) => {
      const t = JSON.parse(readFileSync(f, 'utf8')) as { steps: Array<{ expected?: Record<string, unknown> }> };
      const last = t.steps.at(-1) as { expected?: Record<string, unknown> };
      last.expected = last.expected && 'ok' in last.expected ? { errno: 'EPERM' } : { ok: true };
      const name = `wrong-${String(i + 1).padStart(2, '0')}.json`;
      writeFileSync(join(dir, name), JSON.stringify(t));
      return name;
    });
}

/** Run a command line as a shell would, `gmem-spec` being the real bin, in the project directory. */
function sh(line: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn('sh', ['-c', line.replace(/^gmem-spec /, `'${process.execPath}' '${BIN}' `)], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', (code) => done({ code, out, err }));
  });
}

async function each<T, R>(xs: readonly T[], f: (x: T) => Promise<R>, lanes = 3): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let i = next++; i < xs.length; i = next++) out[i] = await f(xs[i] as T);
    }),
  );
  return out;
}

describe('hints work when pasted', () => {
  const names = wrongSuite();

  it('run lists ten failures and "and 2 more", each with a conform command that reproduces it', async () => {
    // --profile: the default job would also run the profiles a lab kernel implements (and build it first).
    const r = await sh('gmem-spec run --profile linux-6.18 --bound pages=1 --quiet');
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/ran 12 (linux-6\.18 )?traces .*: 0 passed, 12 failed/);
    const details = [...r.out.matchAll(/^ {2}FAIL (\S+) \(details: (gmem-spec [^)]+)\)$/gm)];
    expect(details.map((m) => m[1])).toEqual(names.slice(0, 10));
    const more = /^ {2}… and 2 more \(all of them: (gmem-spec [^)]+)\)$/m.exec(r.out);
    expect(more, r.out).not.toBeNull();

    const hints = [...details.map((m) => m[2] as string), more?.[1] as string];
    const runs = await each(hints, sh);
    const reproduce: string[] = [];
    runs.forEach((h, i) => {
      expect(h.err, hints[i]).not.toMatch(/unknown profile|error/i);
      expect(h.code, `${hints[i]}\n${h.out}\n${h.err}`).toBe(1);
      reproduce.push(...[...h.out.matchAll(/reproduce: (gmem-spec check-trace .+)$/gm)].map((m) => m[1] as string));
    });
    // Ten single-trace runs and one of all twelve: each failure has its reproduce command.
    expect(reproduce).toHaveLength(22);
    const replays = await each([...new Set(reproduce)], sh);
    for (const [i, h] of replays.entries()) {
      expect(h.code, `${[...new Set(reproduce)][i]}\n${h.out}${h.err}`).toBe(1);
      expect(h.out).toMatch(/the trace expects .* \(its "expected" outcome is stale\)/);
    }
  }, 300_000);

  it('conform without a suite names the generate command that writes it, and that command works', async () => {
    const r = await sh('gmem-spec conform --backend reference --profile sw-protected');
    expect(r.code).toBe(2);
    const hint = /\(write one with (gmem-spec generate [^)]+)\)/.exec(r.err)?.[1];
    expect(hint, r.err).toBeDefined();
    const g = await sh(`${hint} --quiet`);
    expect(g.code, g.err).toBe(0);
    const again = await sh('gmem-spec conform --backend reference --profile sw-protected --quiet');
    expect(again.code, again.err).toBe(0);
  }, 300_000);
});
