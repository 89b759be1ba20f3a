/**
 * Every command explains itself: walking the command registry, `--help` and `-h` exit 0 and list every
 * declared option (with its short alias and its default) and every exit status; `--version` prints the
 * package's version; `gmem-spec help CMD` is the same text. Options are parsed by one declarative parser:
 * unknown options, missing values and values given to switches are one-line errors (exit 2).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMON_OPTIONS, type OptionSpecs, parseCommandLine } from '../src/cli/args.ts';
import { COMMANDS } from '../src/cli/commands/index.ts';
import { main } from '../src/cli/main.ts';
import { findPackageJson } from '../src/cli/version.ts';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

describe.each(COMMANDS.map((c) => [c.name, c] as const))('gmem-spec %s', (name, command) => {
  it('declares its options and exit statuses (so parsing and help come from one place)', () => {
    expect(command.options, `${name} has no declared options: write it with defineCommand`).toBeDefined();
    expect(Object.keys(command.exitCodes ?? {})).toContain('0');
    expect(Object.keys(command.exitCodes ?? {})).toContain('2');
    const shorts = Object.values({ ...command.options, ...COMMON_OPTIONS }).flatMap((o) => (o.short ? [o.short] : []));
    expect(new Set(shorts).size, `${name}: two options share a short alias`).toBe(shorts.length);
  });

  it.each(['--help', '-h'])('%s exits 0 and lists every option with its default, and every exit status', async (flag) => {
    const r = await cli(name, flag);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(new RegExp(`^usage: gmem-spec ${name} `, 'm'));
    const options: OptionSpecs = { ...command.options, ...COMMON_OPTIONS };
    for (const [option, spec] of Object.entries(options)) {
      const line = new RegExp(`^ {2}${spec.short ? `-${spec.short}, ` : ' {4}'}--${option}\\b[^\\n]*(\\n {6,}[^\\n]*)*`, 'm').exec(
        r.out,
      )?.[0];
      expect(line, `${name} --help does not list --${option}${spec.short ? ` (-${spec.short})` : ''}`).toBeDefined();
      expect(line?.replace(/\s+/g, ' '), `${name} --help: --${option} has no default`).toMatch(/\(default: [^)]+\)$/);
      if (spec.type === 'string' && 'default' in spec && spec.default !== undefined)
        expect(line?.replace(/\s+/g, ' ')).toContain(`(default: ${spec.default})`);
    }
    const status = r.out.slice(r.out.indexOf('\nexit status:\n'));
    expect(status.length, `${name} --help has no exit status section`).toBeGreaterThan(1);
    for (const [code, says] of Object.entries(command.exitCodes ?? {})) {
      expect(status.replace(/\s+/g, ' ')).toContain(`${code} ${says.split(' ').slice(0, 4).join(' ')}`);
    }
  });

  it('gmem-spec help CMD prints the same help', async () => {
    const a = await cli('help', name);
    expect(a.code).toBe(0);
    expect(a.out).toBe((await cli(name, '--help')).out);
  });

  it('--version and -V print the package version and exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await cli(name, flag);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`gmem-spec ${VERSION}`);
    }
  });

  it('an unknown option is one line naming it (exit 2)', async () => {
    const r = await cli(name, '--no-such-option');
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(new RegExp(`^gmem-spec ${name}: unknown option --no-such-option; known: `));
  });
});

describe('gmem-spec without a command', () => {
  it('--version, -V and version print the version', async () => {
    for (const v of ['--version', '-V', 'version']) expect(await cli(v)).toEqual({ code: 0, out: `gmem-spec ${VERSION}`, err: '' });
  });

  it('help lists every command; no command at all is a usage error on stderr', async () => {
    const h = await cli('help');
    expect(h.code).toBe(0);
    for (const c of COMMANDS)
      expect(h.out).toMatch(new RegExp(`^ {2}${c.name} +${c.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    expect(none.err).toContain('usage: gmem-spec COMMAND');
  });

  it('an unknown command, or help on one, names it (exit 2)', async () => {
    expect(await cli('frob')).toMatchObject({ code: 2, err: 'gmem-spec: unknown command "frob" (gmem-spec help lists them)' });
    expect(await cli('help', 'frob')).toMatchObject({ code: 2 });
    expect((await cli('chek')).err).toContain('unknown command "chek"');
  });
});

describe('README', () => {
  it('its Commands section names every command', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Commands\n'), readme.indexOf('\n## ', readme.indexOf('## Commands\n') + 1));
    for (const c of COMMANDS) expect(section, c.name).toMatch(new RegExp(`\`gmem-spec ${c.name}\\b|, \`${c.name}\\b`));
  });
});

describe('the parser', () => {
  const spec = {
    profile: { type: 'string', short: 'p', value: 'P', description: 'a profile', defaultText: 'linux-6.18' },
    json: { type: 'boolean', description: 'json' },
    suite: { type: 'string', multiple: true, value: 'DIR', description: 'a suite' },
    format: { type: 'string', value: 'F', choices: ['human', 'tap'], default: 'human', description: 'format' },
    seed: { type: 'string', value: 'S', description: 'seed', defaultText: 'time' },
  } as const;

  it('reads long, long=value, short and repeated options, positionals, and what follows --', () => {
    const r = parseCommandLine(
      [
        'a.json',
        '--profile',
        'sev-snp',
        '--json',
        '--suite',
        'x',
        '--suite=y',
        '-p',
        'tdx',
        '--format=tap',
        '--seed',
        '-5',
        '--',
        '--not-an-option',
      ],
      spec,
    );
    expect(r.values).toMatchObject({ profile: 'tdx', json: true, suite: ['x', 'y'], format: 'tap', seed: '-5', help: false });
    expect(r.positionals).toEqual(['a.json', '--not-an-option']);
    expect(r.afterDashDash).toEqual(['--not-an-option']);
  });

  it('applies defaults: switches off, lists empty, declared defaults', () => {
    expect(parseCommandLine([], spec).values).toMatchObject({ profile: undefined, json: false, suite: [], format: 'human' });
  });

  it.each([
    [['--profile'], /^--profile needs a value \(P\)$/],
    [['--profile', '--json'], /^--profile needs a value \(P\), got option --json$/],
    [['-p'], /^-p \(--profile\) needs a value/],
    [['--json=yes'], /^--json takes no value \(got "yes"\)$/],
    [['--format', 'xml'], /^--format must be one of human, tap, got "xml"$/],
    [['--prof', 'x'], /^unknown option --prof \(did you mean --profile\?\); known: --profile, --json, --suite, --format, --seed$/],
    [['-x'], /^unknown option -x; known: /],
  ])('refuses %j with one line', (argv, message) => {
    expect(() => parseCommandLine(argv, spec)).toThrow(message);
  });
});

describe('the version comes from the nearest package.json named gmem-spec (so a build under dist/ finds it too)', () => {
  it('walks up past directories without one and past other packages', () => {
    const root = mkdtempSync(join(tmpdir(), 'gmem-version-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'gmem-spec', version: '9.9.9' }));
    const nested = join(root, 'dist', 'src', 'cli');
    mkdirSync(nested, { recursive: true });
    writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ name: 'something-else' }));
    expect(findPackageJson(nested)).toBe(join(root, 'package.json'));
  });
});
