/**
 * Composed profiles everywhere: every command that takes --profile accepts `base+FLAG` and `--flag FILE`; a
 * trace's own profile is honoured, or refused in one line when the command line asks for another (conform
 * included), never silently replaced. Acceptance: every counterexample `check` writes, for every built-in flag
 * that yields one (and for a user-written flag file), replays with predict and check-trace to the same
 * violation, and conform runs it under its own composed profile.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_FLAGS } from '../spec/flags/index.ts';
import { PROFILES } from '../spec/profiles/index.ts';
import { parseTrace } from '../spec/trace.ts';
import { COMMANDS } from '../src/cli/commands/index.ts';
import { main } from '../src/cli/main.ts';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const tmp = mkdtempSync(join(tmpdir(), 'gmem-profiles-'));
const CORPUS = 'examples/corpus/linux-6.18';
const USER_FLAG = 'examples/flags/no-direct-map-private.ts';

/** A corpus trace without its profile field (so any profile may be asked for), kept with its observed outcomes. */
function unnamedTrace(name = 'punch--page0.json'): string {
  const t = JSON.parse(readFileSync(join(CORPUS, name), 'utf8')) as Record<string, unknown>;
  delete t.profile;
  const file = join(tmp, `unnamed-${name}`);
  writeFileSync(file, JSON.stringify(t));
  return file;
}

interface Counterexample {
  file: string;
  invariant: string;
  steps: number;
  detail: string;
  profile: string;
}

function counterexamples(dir: string): Counterexample[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'deadlock.json')
    .map((f) => {
      const file = join(dir, f);
      const t = parseTrace(readFileSync(file, 'utf8'), file);
      const note = t.steps.at(-1)?.note ?? '';
      return {
        file,
        invariant: t.name as string,
        steps: t.steps.length,
        detail: note.slice(note.indexOf('): ') + 3),
        profile: t.profile as string,
      };
    });
}

/**
 * Each built-in flag: the profile (and bound) where `check` finds a counterexample, or why it finds none — which
 * the test checks too.
 */
const FLAG_CHECKS: Record<
  string,
  { profile: string; bound?: string; violates: string[] } | { profile: string; holds: true } | { inEveryProfile: true }
> = {
  MMAP: { inEveryProfile: true },
  INIT_SHARED: { inEveryProfile: true },
  NO_DIRECT_MAP: { profile: 'linux-6.18', holds: true },
  HUGETLB: { profile: 'linux-6.18', holds: true },
  HOST_MAP_PRIVATE: { profile: 'linux-6.18', violates: ['HostMappedIsShared', 'PrivateNeverPinned', 'PrivateNotHostAccessed'] },
  CONVERT_IGNORING_REFS: { profile: 'inplace-conversion', bound: 'slots=0', violates: ['PrivateNeverPinned'] },
};

async function replaysToTheSameViolation(cx: Counterexample): Promise<void> {
  const line = `invariant ${cx.invariant} breaks after step ${cx.steps}: ${cx.detail}`;
  const p = await cli('predict', cx.file);
  expect(p.code, p.err).toBe(0);
  expect(p.out.split('\n')[0]).toMatch(new RegExp(`^profile ${cx.profile.replace(/[+.]/g, '\\$&')}: `));
  expect(p.out).toContain(line);
  const c = await cli('check-trace', cx.file);
  expect(c.code, c.err).toBe(1);
  expect(c.out).toContain(line);
  // conform runs it under its own (composed) profile, and refuses it under the base profile.
  const f = await cli('conform', '--backend', 'reference', cx.file, '--failures', join(tmp, 'failures'));
  expect(f.code, f.err).toBe(0);
  expect(f.out.split('\n')[0]).toContain(`profile ${cx.profile}`);
  const base = cx.profile.split('+')[0] as string;
  const refused = await cli('conform', '--backend', 'reference', '--profile', base, cx.file);
  expect(refused.code).toBe(2);
  expect(refused.err).toBe(
    `gmem-spec conform: ${cx.file}: the trace is for profile ${cx.profile}, but the command line asks for ${base}; leave out --profile/--flag to use the trace's, or change its "profile" field`,
  );
}

describe('every counterexample check writes, for every built-in flag, replays to the same violation', () => {
  it('the table covers every built-in flag', () => {
    expect(Object.keys(FLAG_CHECKS).sort()).toEqual(Object.keys(BUILTIN_FLAGS).sort());
  });

  it.each(Object.entries(FLAG_CHECKS))(
    '%s',
    async (flag, how) => {
      if ('inEveryProfile' in how) {
        // Nothing to add: every profile has it already, so check composes nothing new.
        expect(PROFILES.filter((p) => !p.flags.some((f) => f.name === flag)).map((p) => p.name)).toEqual([]);
        return;
      }
      const out = join(tmp, `check-${flag}`);
      const r = await cli(
        'check',
        '--profile',
        how.profile,
        '--flag',
        flag,
        '--no-dead-rules',
        '--out',
        out,
        ...('bound' in how && how.bound ? ['--bound', how.bound] : []),
      );
      if ('holds' in how) {
        expect(r.code, r.out).toBe(0);
        return;
      }
      expect(r.code, r.err).toBe(1);
      const found = counterexamples(out);
      expect(found.map((c) => c.invariant).sort()).toEqual([...how.violates].sort());
      for (const cx of found) {
        expect(cx.profile).toBe(`${how.profile}+${flag}`);
        await replaysToTheSameViolation(cx);
      }
    },
    120_000,
  );

  it('a user-written flag file: the counterexample carries its definition and replays anywhere', async () => {
    const out = join(tmp, 'check-user-flag');
    const r = await cli('check', '--profile', 'linux-6.18', '--flag', USER_FLAG, '--no-dead-rules', '--out', out);
    expect(r.code, r.err).toBe(1);
    const found = counterexamples(out);
    expect(found.map((c) => c.invariant)).toEqual(['NoDirectMapPrivateAbsent']);
    const [cx] = found as [Counterexample];
    expect(cx.profile).toBe('linux-6.18+NO_DIRECT_MAP_PRIVATE');
    await replaysToTheSameViolation(cx);
  }, 120_000);
});

describe("a trace's own profile is honoured or refused, never replaced", () => {
  const hostMapPrivate = join(tmp, 'own');

  it("predict --json and record keep a composed profile and its flags' definitions", async () => {
    expect(
      (
        await cli(
          'check',
          '--profile',
          'linux-6.18',
          '--flag',
          'HOST_MAP_PRIVATE',
          '--invariant',
          'HostMappedIsShared',
          '--no-dead-rules',
          '--out',
          hostMapPrivate,
        )
      ).code,
    ).toBe(1);
    const cx = join(hostMapPrivate, 'HostMappedIsShared.json');
    for (const [cmd, args] of [
      ['predict', ['--json', '--out']],
      ['record', ['--backend', 'reference', '--out']],
    ] as const) {
      const written = join(tmp, `${cmd}-written.json`);
      const r = await cli(cmd, cx, ...args, written);
      expect(r.code, r.err).toBe(0);
      const doc = JSON.parse(readFileSync(written, 'utf8')) as { profile: string; flags: Array<{ name: string }> };
      expect(doc.profile).toBe('linux-6.18+HOST_MAP_PRIVATE');
      expect(doc.flags.map((f) => f.name)).toEqual(['HOST_MAP_PRIVATE']);
      expect((await cli('check-trace', written)).out).toContain('invariant HostMappedIsShared breaks after step 4');
    }
  });

  it('the same profile named on the command line is accepted; another one is refused in one line', async () => {
    const cx = join(hostMapPrivate, 'HostMappedIsShared.json');
    expect((await cli('predict', cx, '--profile', 'linux-6.18+HOST_MAP_PRIVATE')).code).toBe(0);
    expect((await cli('predict', cx, '--profile', 'linux-6.18', '--flag', 'HOST_MAP_PRIVATE')).code).toBe(0);
    for (const args of [
      ['--profile', 'linux-6.18'],
      ['--profile', 'sw-protected+HOST_MAP_PRIVATE'],
      ['--flag', 'NO_DIRECT_MAP'],
    ]) {
      const r = await cli('predict', cx, ...args);
      expect(r.code).toBe(2);
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).toMatch(
        /the trace is for profile linux-6\.18\+HOST_MAP_PRIVATE, but the command line asks for \S+; leave out --profile\/--flag/,
      );
    }
  });

  it('a trace naming a flag it does not define is refused in one line that says how to define it', async () => {
    const t = JSON.parse(readFileSync(join(CORPUS, 'punch--page0.json'), 'utf8')) as Record<string, unknown>;
    const file = join(tmp, 'undefined-flag.json');
    writeFileSync(file, JSON.stringify({ ...t, profile: 'linux-6.18+NO_DIRECT_MAP_PRIVATE' }));
    const r = await cli('check-trace', file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^gmem-spec check-trace: .*undefined-flag\.json: profile: profile "linux-6\.18\+NO_DIRECT_MAP_PRIVATE": unknown flag "NO_DIRECT_MAP_PRIVATE"; built-in flags: .*; a flag file defines others \(--flag FILE\)$/,
    );
    const defined = await cli('check-trace', file, '--flag', USER_FLAG);
    expect(defined.code, defined.err).toBe(0);
    expect(defined.out).toContain('agree with profile linux-6.18+NO_DIRECT_MAP_PRIVATE');
  }, 60_000);
});

describe('every command that takes a profile accepts a composed one', () => {
  const composed = 'linux-6.18+NO_DIRECT_MAP';
  const suite = join(tmp, 'suite');
  mkdirSync(suite, { recursive: true });
  writeFileSync(join(suite, 'a.json'), readFileSync(unnamedTrace('punch--page0.json')));
  writeFileSync(join(suite, 'b.json'), readFileSync(unnamedTrace('memslot--address-space-1.json')));

  /** Per command: a run with the composed profile, and what its output says. */
  const RUNS: Record<string, { args: string[]; says: string }> = {
    predict: { args: ['predict', unnamedTrace(), '--profile', composed], says: `profile ${composed}: ` },
    'check-trace': { args: ['check-trace', unnamedTrace(), '--profile', composed], says: `agree with profile ${composed}` },
    conform: { args: ['conform', '--backend', 'reference', '--profile', composed, '--suite', suite], says: `profile ${composed}` },
    record: {
      args: ['record', '--backend', 'reference', '--profile', composed, unnamedTrace(), '--out', join(tmp, 'rec.json')],
      says: 'recorded',
    },
    run: { args: ['run', '--profile', composed, '--bound', 'pages=1,pins=0'], says: `explored ${composed} within` },
    mutate: { args: ['mutate', '--profile', composed, '--suite', suite], says: `mutant(s) of ${composed}` },
    check: {
      args: ['check', '--profile', composed, '--bound', 'maps=0,pins=0', '--no-dead-rules', '--out', join(tmp, 'c')],
      says: `profile   ${composed}: `,
    },
    generate: {
      args: [
        'generate',
        '--profile',
        composed,
        '--bound',
        'pages=1,maps=0,pins=0,slots=0',
        '--coverage',
        'state',
        '--out',
        join(tmp, 'gen'),
      ],
      says: `${composed} within`,
    },
    diagram: { args: ['diagram', '--profile', composed], says: composed },
    diff: { args: ['diff', 'linux-6.18', composed, '--depth', '3'], says: `linux-6.18 → ${composed}` },
    report: { args: ['report', '--profile', composed, '--depth', '3', '--out', join(tmp, 'report')], says: 'wrote ' },
  };

  it('the table covers every command with a --profile option (or profile arguments)', () => {
    const withProfile = COMMANDS.filter((c) => c.options && 'profile' in c.options).map((c) => c.name);
    expect(
      Object.keys(RUNS)
        .filter((n) => n !== 'diff')
        .sort(),
    ).toEqual(withProfile.sort());
  });

  it.each(Object.entries(RUNS))(
    '%s',
    async (_name, { args, says }) => {
      const r = await cli(...args);
      expect(r.err).not.toMatch(/unknown profile|refuse/);
      expect([0, 1], r.err).toContain(r.code);
      expect(r.out).toContain(says);
    },
    120_000,
  );

  it("generated traces of a composed profile name it and carry its flags' definitions", () => {
    const dir = join(tmp, 'gen', 'traces', 'state');
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.json')) as string);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { profile: string; flags: Array<{ name: string }> };
    expect(doc.profile).toBe(composed);
    expect(doc.flags.map((f) => f.name)).toEqual(['NO_DIRECT_MAP']);
  });

  it('a user-written flag file, by --flag (one profile) or as a definition of base+NAME (diff, report)', async () => {
    const d = await cli('diagram', '--profile', 'linux-6.18', '--flag', USER_FLAG);
    expect(d.code, d.err).toBe(0);
    expect(d.out).toContain('linux-6.18+NO_DIRECT_MAP_PRIVATE');
    const diff = await cli(
      'diff',
      'linux-6.18',
      'linux-6.18+NO_DIRECT_MAP_PRIVATE',
      '--flag',
      USER_FLAG,
      '--depth',
      '3',
      '--witnesses',
      join(tmp, 'w'),
    );
    expect(diff.code, diff.err).toBe(0);
    expect(diff.out).toContain('linux-6.18 → linux-6.18+NO_DIRECT_MAP_PRIVATE');
    const unused = await cli('diff', 'linux-6.18', 'sw-protected', '--flag', USER_FLAG);
    expect(unused.code).toBe(2);
    expect(unused.err).toContain(
      'flag NO_DIRECT_MAP_PRIVATE is not named by any profile given (linux-6.18, sw-protected); name it as base+NO_DIRECT_MAP_PRIVATE',
    );
  }, 120_000);
});
