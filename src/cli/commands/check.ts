/**
 * gmem-spec check: model-check a profile, or a profile plus flags (`--flag NO_DIRECT_MAP`, `--flag
 * examples/flags/x.ts`), and write the shortest counterexample of each violated invariant as a trace that
 * predict, check-trace and conform replay under the same composed profile.
 */
import { availableParallelism } from 'node:os';
import { BoundError, parseBound } from '../../../spec/explore/bound.ts';
import { INVARIANTS } from '../../../spec/invariants.ts';
import { runCheckCommand } from '../../check/run.ts';
import { baselineOf, counterexampleLines } from '../../presentation/explain/counterexample.ts';
import { UsageError, intValue, positiveValue } from '../args.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { FLAG_OPTION, profileOption, resolveProfile, shellWord } from '../profiles.ts';

/** The bound `check` uses when none is given: small enough to finish in seconds on every profile. */
export const CHECK_DEFAULT_BOUND = 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1';

export const check = defineCommand({
  name: 'check',
  summary: 'model-check a profile (plus flags): every invariant in every reachable state, shortest counterexamples as traces',
  args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
  options: {
    profile: profileOption('linux-6.18'),
    flag: FLAG_OPTION,
    bound: {
      type: 'string',
      value: 'B',
      default: CHECK_DEFAULT_BOUND,
      description: 'the search bound; parameters not given keep this default',
    },
    invariant: {
      type: 'string',
      multiple: true,
      value: 'NAME',
      description: `check only this invariant (${INVARIANTS.map((i) => i.name).join(', ')})`,
      defaultText: 'every invariant',
    },
    promised: { type: 'boolean', description: 'check only the invariants the profile (and its flags) promise' },
    random: {
      type: 'string',
      value: 'N',
      description: 'N random walks (fast-check, shrunk counterexamples) instead of the exhaustive search',
      defaultText: 'exhaustive search',
    },
    seed: { type: 'string', value: 'S', description: "the random walks' seed (with --random)", defaultText: 'time-based, printed' },
    depth: { type: 'string', value: 'L', default: '40', description: 'steps per random walk (with --random)' },
    out: {
      type: 'string',
      short: 'o',
      value: 'DIR',
      description: 'where counterexample traces are written',
      defaultText: 'out/check/<profile>',
    },
    workers: {
      type: 'string',
      value: 'N|auto',
      default: 'auto',
      description: 'worker threads (auto: one for a search estimated under 10 s, else one per core)',
    },
    'report-states': { type: 'boolean', description: 'print the page states reached by each guest_memfd flag combination' },
    'no-dead-rules': { type: 'boolean', description: 'skip the report of machine states, transitions and checks no path reaches' },
    'max-states': { type: 'string', value: 'N', description: 'stop after N states (an incomplete search)', defaultText: 'no limit' },
    'max-time': { type: 'string', value: 'SECONDS', description: 'stop after this long', defaultText: 'no limit' },
    'max-memory': {
      type: 'string',
      value: 'GIB',
      description: 'stop when the resident memory passes this',
      defaultText: 'what this machine allows',
    },
    'first-violation': { type: 'boolean', description: 'stop once every checked invariant has its (shortest) counterexample' },
    symmetry: {
      type: 'boolean',
      description: 'keep one state per orbit of interchangeable pages (profiles without private memory; ignored elsewhere)',
    },
    force: { type: 'boolean', description: 'search even when the estimate does not fit in memory' },
    json: { type: 'boolean', description: 'print a machine-readable summary instead of the report' },
  },
  exitCodes: {
    0: 'every checked invariant holds in every reachable state (or every random walk)',
    1: 'a violation, with its shortest counterexample written as a trace',
    2: `${EXIT_BAD_INPUT}; also a bound refused as too large, and a search stopped (Ctrl-C, a limit) before the end`,
    130: 'a second Ctrl-C: quit at once',
  },
  async action({ values, argv }, io) {
    const resolved = await resolveProfile(values);
    let bound;
    try {
      bound = parseBound(values.bound, parseBound(CHECK_DEFAULT_BOUND));
    } catch (e) {
      if (e instanceof BoundError) throw new UsageError(e.message);
      throw e;
    }
    for (const i of values.invariant) {
      if (!INVARIANTS.some((x) => x.name === i))
        throw new UsageError(`unknown invariant ${JSON.stringify(i)}; known: ${INVARIANTS.map((x) => x.name).join(', ')}`);
    }
    const randomRuns = intValue(values.random, 'random', 1, 100_000_000);
    if (values.seed !== undefined && randomRuns === undefined) throw new UsageError('--seed goes with --random N');
    const seed = intValue(values.seed, 'seed', -(2 ** 31), 2 ** 31 - 1) ?? Date.now() % 2 ** 31;
    const depth = intValue(values.depth, 'depth', 1, 10_000) as number;
    const workers =
      values.workers === 'auto' ? 'auto' : (intValue(values.workers, 'workers', 1, Math.max(64, availableParallelism())) as number);
    const maxStates = intValue(values['max-states'], 'max-states', 1, 2 ** 31);
    const maxTime = positiveValue(values['max-time'], 'max-time');
    const maxMemory = positiveValue(values['max-memory'], 'max-memory');

    // The search reports its progress as `  … depth N, ...` lines on stderr: they are progress, so --quiet
    // silences them and a terminal shows them as the status line.
    // Each counterexample trace the search writes gets its paragraph (rule, baseline, quoted sources) at the end.
    const counterexamples: string[] = [];
    const checkIo = {
      ...io,
      err: (line: string) => (line.startsWith('  … ') && io.progress ? io.progress.phase(line.slice(4)) : io.err(line)),
    };
    const status = await runCheckCommand(
      {
        profile: resolved.profile,
        added: resolved.added,
        notes: resolved.notes,
        warnings: resolved.warnings,
        bound,
        ...(values.invariant.length ? { invariants: values.invariant } : {}),
        promisedOnly: values.promised,
        workers,
        ...(values.out ? { out: values.out } : {}),
        ...(randomRuns !== undefined ? { random: { runs: randomRuns, seed, depth } } : {}),
        reportStates: values['report-states'],
        deadRules: !values['no-dead-rules'],
        ...(maxStates !== undefined ? { maxStates } : {}),
        ...(maxTime !== undefined ? { maxMillis: maxTime * 1000 } : {}),
        ...(maxMemory !== undefined ? { maxMemory: maxMemory * 2 ** 30 } : {}),
        force: values.force,
        firstViolation: values['first-violation'],
        symmetry: values.symmetry,
        json: values.json,
        command: ['gmem-spec', 'check', ...argv].map(shellWord).join(' '),
        handleSigint: true,
        onCounterexample: (file) => counterexamples.push(file),
      },
      checkIo,
    );
    if (counterexamples.length && !values.json) {
      const baseline = baselineOf(resolved.profile, resolved.builtIn, resolved.added.length > 0);
      io.out('');
      io.out(`why each counterexample is allowed${baseline ? `, against ${baseline.name}` : ''}:`);
      for (const f of counterexamples) io.out(counterexampleLines(f, resolved.profile, baseline, '  ').join('\n'));
    }
    return status;
  },
});
