/**
 * `gmem-spec check` end to end: pass and violation exit statuses, counterexample files, random mode reproducible
 * from its seed, and bad input refused with a message naming what and where (exit 2). Ctrl-C is tested on a
 * spawned CLI: it prints what was explored so far and exits cleanly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrace } from '../spec/trace.ts';
import { main } from '../src/cli/main.ts';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['check', ...argv], { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'gmem-check-cli-'));

describe('gmem-spec check: verdicts and counterexample files', () => {
  it('a profile whose invariants hold passes (exit 0) and says how much it explored', async () => {
    const r = await cli('--profile', 'linux-6.18', '--bound', 'maps=0,pins=0', '--out', tmp());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/explored {2}\d+ states, [\d,]+ edges .* complete/);
    expect(r.out).toMatch(/result {4}PASS: \d+ invariant\(s\) hold in all \d+ reachable states/);
  });

  it('an unsafe flag is a violation (exit 1) with a trace file per violated invariant', async () => {
    const dir = tmp();
    const r = await cli('--profile', 'linux-6.18', '--flag', 'HOST_MAP_PRIVATE', '--invariant', 'HostMappedIsShared', '--out', dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('VIOLATED  HostMappedIsShared');
    const file = join(dir, 'HostMappedIsShared.json');
    const trace = parseTrace(readFileSync(file, 'utf8'), file);
    expect(trace.profile).toBe('linux-6.18+HOST_MAP_PRIVATE');
    expect(trace.steps.map((s) => s.op)).toEqual(['create_vm', 'create_gmem', 'mmap', 'read_mem']);
    expect(trace.steps.every((s) => s.expected !== undefined)).toBe(true);
    expect(trace.steps.at(-1)?.note).toMatch(/HostMappedIsShared no longer holds .*private but mapped by host mapping/);
    expect(trace.steps[1]?.note).toBe('flags = MMAP|HOST_MAP_PRIVATE');
    expect(JSON.parse(readFileSync(file, 'utf8')).flags.map((f: { name: string; bit: number }) => [f.name, f.bit])).toEqual([
      ['HOST_MAP_PRIVATE', 62],
    ]);
  });

  it('--json prints a machine-readable summary', async () => {
    const r = await cli(
      '--profile',
      'exclusive-gup',
      '--bound',
      'slots=0',
      '--invariant',
      'PrivateNeverPinned',
      '--first-violation',
      '--json',
      '--out',
      tmp(),
    );
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.violations).toEqual([expect.objectContaining({ invariant: 'PrivateNeverPinned', length: 5 })]);
  });

  it('--report-states shows the page states of each flag combination', async () => {
    const r = await cli('--profile', 'linux-6.18', '--report-states', '--no-dead-rules', '--out', tmp());
    expect(r.code).toBe(0);
    expect(r.out).toContain('default MMAP: mmap ok; first host access SIGBUS; 2 page state(s):');
    expect(r.out).toContain('default INIT_SHARED: mmap ENODEV; first host access none (nothing mapped); 2 page state(s):');
  });

  it('random mode finds what the exhaustive search cannot reach, and the same seed gives the same trace', async () => {
    const args = [
      '--profile',
      'inplace-conversion',
      '--flag',
      'CONVERT_IGNORING_REFS',
      '--bound',
      'vms=1,gmems=2,pages=4,maps=2,pins=2',
      '--random',
      '500',
      '--seed',
      '9',
    ];
    const a = tmp();
    const b = tmp();
    const r1 = await cli(...args, '--out', a);
    const r2 = await cli(...args, '--out', b);
    expect(r1.code).toBe(1);
    expect(r1.out).toContain('VIOLATED  PrivateNeverPinned');
    const steps = (d: string) => JSON.parse(readFileSync(join(d, 'random-PrivateNeverPinned.json'), 'utf8')).steps;
    expect(steps(b)).toEqual(steps(a));
    expect(steps(a).map((s: { op: string }) => s.op)).toEqual(['create_vm', 'create_gmem', 'mmap', 'pin', 'set_memory_attributes2']);
    expect(r2.out).toMatch(/reproduce: --random 500 --seed 9/);
  });
});

describe('gmem-spec check: bad input is refused with what and where (exit 2)', () => {
  it.each([
    ['an unknown profile', ['--profile', 'linux-9.9'], /unknown profile "linux-9\.9"; known: linux-6\.18/],
    [
      'an unknown flag',
      ['--flag', 'NO_DIRECT_MAPP'],
      /NO_DIRECT_MAPP: unknown flag: not a built-in flag \(MMAP, INIT_SHARED, NO_DIRECT_MAP/,
    ],
    [
      'a flag that contradicts itself',
      ['--flag', 'examples/flags/malformed/self-conflict.json'],
      /self-conflict\.json \(SELF_CONFLICT\): invalid flag definition:\n {2}SELF_CONFLICT\.requires\[0\]: unknown flag "MAPP" \(did you mean "MMAP"\?\)[\s\S]*conflictsWith\[0\]: a flag cannot conflict with itself/,
    ],
    [
      'a flag claiming a bit already taken',
      ['--flag', 'examples/flags/default-shared.json'],
      /DEFAULT_SHARED\.bit: bit 1 is already taken by INIT_SHARED in profile linux-6\.18/,
    ],
    [
      'a flag file with wrong fields',
      ['--flag', 'examples/flags/malformed/bad-fields.json'],
      /BAD_FIELDS\.effect: unknown field \(did you mean "effects"\?\)[\s\S]*BAD_FIELDS\.bit: bit 64 is out of range/,
    ],
    [
      'a flag file that does not type-check',
      ['--flag', 'examples/flags/malformed/bad-types.ts'],
      /bad-types\.ts: [\s\S]*does not type-check as a flag definition:[\s\S]*bad-types\.ts:6:3: Type 'string' is not assignable to type 'number'/,
    ],
    ['an unknown invariant', ['--invariant', 'PrivateNeverMapped'], /unknown invariant "PrivateNeverMapped"; known: HostMappedIsShared/],
    ['a malformed bound', ['--bound', 'pages=x'], /bound: "pages=x" is not name=number/],
    ['an unknown bound parameter', ['--bound', 'cpus=2'], /bound: unknown parameter "cpus"/],
    [
      'a bound too large for memory',
      ['--profile', 'inplace-conversion', '--bound', 'vms=1,gmems=2,pages=4,maps=2,pins=2'],
      /bound vms=1,gmems=2,pages=4,maps=2,pins=2,slots=1 is too large for an exhaustive search of inplace-conversion: estimated ~[\d.]+e\d+ states .* of memory \(this machine allows [\d.]+ GiB\)/,
    ],
    ['--seed without --random', ['--seed', '3'], /--seed goes with --random N/],
  ])('%s', async (_what, argv, message) => {
    const r = await cli(...argv, '--out', tmp());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});

describe('gmem-spec check: limits stop the search cleanly, with what was explored', () => {
  // The limits are sampled every 500 ms: the memory case needs a search that is still running by then (pages=2
  // can now finish sooner), so it uses pages=3.
  it.each([
    ['a state limit', 'pages=2', ['--max-states', '100'], /INCOMPLETE: state limit 100 reached/],
    ['a memory limit', 'pages=3', ['--max-memory', '0.05'], /INCOMPLETE: memory limit 51 MiB reached \(RSS \d+ MiB\)/],
  ])('%s', async (_what, bound, argv, message) => {
    const r = await cli('--profile', 'linux-6.18', '--bound', bound, '--no-dead-rules', ...argv, '--out', tmp());
    expect(r.code).toBe(2);
    expect(r.out).toMatch(message);
    expect(r.out).toMatch(/explored {2}[\d,]+ states/);
  });
});

describe('gmem-spec check: Ctrl-C', () => {
  it('SIGINT stops the search, prints what was explored so far, and exits cleanly', async () => {
    const dir = tmp();
    const child = spawn(
      process.execPath,
      ['bin/gmem-spec.mjs', 'check', '--profile', 'inplace-conversion', '--bound', 'pages=2', '--no-dead-rules', '--out', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const progressed = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('… depth')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await progressed;
    child.kill('SIGINT');
    const code = await exited;
    expect(err).toContain('interrupted: stopping');
    expect(out).toMatch(/explored {2}[\d,]+ states, [\d,]+ edges .* INCOMPLETE: interrupted \(Ctrl-C\)/);
    expect(out).toMatch(/result {4}INCOMPLETE: no violation in the [\d,]+ states explored \(interrupted \(Ctrl-C\)\)/);
    expect(code).toBe(2);
  }, 60_000);
});
