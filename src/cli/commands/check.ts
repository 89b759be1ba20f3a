/**
 * gmem-spec check --profile P [--flag F ...] [--bound B] [--invariant NAME ...] [--promised]
 *   [--random N --seed S [--depth L]] [--out DIR] [--workers N|auto] [--report-states] [--no-dead-rules]
 *   [--max-states N] [--max-time SECONDS] [--max-memory GIB] [--first-violation] [--force] [--json]
 *
 * Model-check a profile, or a profile plus flags (`--flag NO_DIRECT_MAP`, `--flag examples/flags/x.ts`).
 * Exit status: 0 pass, 1 violation, 2 bad input / refused bound / stopped before the end.
 */
import { availableParallelism } from 'node:os';
import { BoundError, parseBound } from '../../../spec/explore/bound.ts';
import { FlagValidationError } from '../../../spec/flagValidation.ts';
import { INVARIANTS } from '../../../spec/invariants.ts';
import type { FlagDef } from '../../../spec/profile.ts';
import { ComposeError, composeProfile, splitProfileName } from '../../../spec/profileCompose.ts';
import { DEFAULT_PROFILE, getProfile } from '../../../spec/profiles/index.ts';
import { FlagFileError, loadFlagArg } from '../../check/flagFiles.ts';
import { runCheckCommand } from '../../check/run.ts';
import { flag, onlyOptions, opt, optAll, parseArgs, UsageError } from '../args.ts';
import type { Command } from '../command.ts';

/** The bound `check` uses when none is given: small enough to finish in seconds on every profile. */
export const CHECK_DEFAULT_BOUND = 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1';
/** The standard bound: 1 VM, 2 guest_memfds, 4 pages each, 2 mappings, 2 pins. */
export const STANDARD_BOUND = 'vms=1,gmems=2,pages=4,maps=2,pins=2,slots=2';

function intArg(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isInteger(x) || x < min || x > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return x;
}

function numArg(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
  return x;
}

const BOOLEANS = ['promised', 'report-states', 'no-dead-rules', 'force', 'json', 'first-violation'];
const OPTIONS = ['profile', 'flag', 'bound', 'invariant', 'promised', 'random', 'seed', 'depth', 'out', 'workers', 'report-states', 'no-dead-rules', 'max-states', 'max-time', 'max-memory', 'force', 'json', 'first-violation'];

export const check: Command = {
  name: 'check',
  summary: 'model-check a profile (plus flags): every invariant in every reachable state, shortest counterexamples as traces',
  usage: 'gmem-spec check --profile P [--flag NAME|FILE ...] [--bound vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1] [--invariant NAME ...] [--promised] [--random N --seed S [--depth L]] [--out DIR] [--workers N|auto] [--report-states] [--no-dead-rules] [--max-states N] [--max-time S] [--max-memory GIB] [--first-violation] [--force] [--json]',
  async run(argv, io) {
    const args = parseArgs(argv, BOOLEANS);
    onlyOptions(args, OPTIONS);
    if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);

    const profileName = opt(args, 'profile') ?? DEFAULT_PROFILE;
    const { base, flags: inName } = splitProfileName(profileName);
    const baseProfile = getProfile(base);
    const flagArgs = [...inName, ...optAll(args, 'flag')];
    const added: Array<{ def: FlagDef; source: string }> = [];
    let composition;
    try {
      for (const a of flagArgs) for (const l of await loadFlagArg(a)) added.push({ def: l.def, source: l.source });
      composition = composeProfile(baseProfile, added.map((a) => a.def), { sources: added.map((a) => (a.source === 'built-in' ? a.def.name : `${a.source} (${typeof a.def?.name === 'string' ? a.def.name : 'flag'})`)) });
    } catch (e) {
      if (e instanceof FlagFileError || e instanceof FlagValidationError || e instanceof ComposeError) {
        io.err(`gmem-spec check: ${e.message}`);
        return 2;
      }
      throw e;
    }
    const effective = added.filter((a) => !baseProfile.flags.some((f) => f.name === a.def.name));

    let bound;
    try {
      bound = parseBound(opt(args, 'bound'), parseBound(CHECK_DEFAULT_BOUND));
    } catch (e) {
      if (e instanceof BoundError) throw new UsageError(e.message);
      throw e;
    }
    const invariants = optAll(args, 'invariant');
    for (const i of invariants) {
      if (!INVARIANTS.some((x) => x.name === i)) throw new UsageError(`unknown invariant ${JSON.stringify(i)}; known: ${INVARIANTS.map((x) => x.name).join(', ')}`);
    }
    const randomRuns = intArg(opt(args, 'random'), 'random', 1, 100_000_000);
    const seedText = opt(args, 'seed');
    if (seedText !== undefined && randomRuns === undefined) throw new UsageError('--seed goes with --random N');
    const seed = intArg(seedText, 'seed', -(2 ** 31), 2 ** 31 - 1) ?? Date.now() % 2 ** 31;
    const depth = intArg(opt(args, 'depth'), 'depth', 1, 10_000) ?? 40;
    const workersText = opt(args, 'workers') ?? 'auto';
    const workers = workersText === 'auto' ? 'auto' : (intArg(workersText, 'workers', 1, Math.max(64, availableParallelism())) as number);
    const maxStates = intArg(opt(args, 'max-states'), 'max-states', 1, 2 ** 31);
    const maxTime = numArg(opt(args, 'max-time'), 'max-time');
    const maxMemory = numArg(opt(args, 'max-memory'), 'max-memory');
    const out = opt(args, 'out');

    const command = ['gmem-spec check', ...argv.map((a) => (/^[\w./=,:+-]+$/.test(a) ? a : JSON.stringify(a)))].join(' ');
    return runCheckCommand(
      {
        profile: composition.profile,
        added: effective,
        notes: composition.notes,
        warnings: composition.warnings,
        bound,
        ...(invariants.length ? { invariants } : {}),
        promisedOnly: flag(args, 'promised'),
        workers,
        ...(out ? { out } : {}),
        ...(randomRuns !== undefined ? { random: { runs: randomRuns, seed, depth } } : {}),
        reportStates: flag(args, 'report-states'),
        deadRules: !flag(args, 'no-dead-rules'),
        ...(maxStates !== undefined ? { maxStates } : {}),
        ...(maxTime !== undefined ? { maxMillis: maxTime * 1000 } : {}),
        ...(maxMemory !== undefined ? { maxMemory: maxMemory * 2 ** 30 } : {}),
        force: flag(args, 'force'),
        firstViolation: flag(args, 'first-violation'),
        json: flag(args, 'json'),
        command,
        handleSigint: true,
      },
      io,
    );
  },
};

