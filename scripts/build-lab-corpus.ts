/**
 * Writes the lab corpora (examples/corpus/lab.ts: linux-7.3 and sw-protected) with the outcomes observed on the
 * lab kernel (`--record`: boots the lab VM once, needs QEMU and a cached or buildable lab kernel). Without
 * --record it only checks that the committed files hold the same steps as the scenarios (exit 1 when they
 * differ). A recording the spec disagrees with is still written, and each disagreement is printed.
 *   npx tsx scripts/build-lab-corpus.ts --record [--only linux-7.3|sw-protected] [--scenarios PREFIX]
 * --scenarios records only the scenarios whose name starts with PREFIX (e.g. `uffd--`) and writes just their
 * files, leaving the rest of the directory as it is (adding scenarios without re-recording the corpus).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_CORPORA, type LabCorpus } from '../examples/corpus/lab.ts';
import type { Scenario } from '../examples/corpus/scenarios.ts';
import { compareTrace } from '../spec/compare.ts';
import { type Trace, TRACE_FORMAT } from '../spec/ops.ts';
import { formatOutcome } from '../spec/outcome.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { formatTrace, parseTrace } from '../spec/trace.ts';
import { openLabBackend } from '../src/backend/lab.ts';
import { withObserved } from '../src/conform/runner.ts';
import { writeFileAtomic } from '../src/files.ts';

const args = process.argv.slice(2);
const record = args.includes('--record');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const prefix = args.includes('--scenarios') ? args[args.indexOf('--scenarios') + 1] : undefined;
const corpora = LAB_CORPORA.filter((c) => only === undefined || c.profile === only);
if (corpora.length === 0) {
  console.error(`build-lab-corpus: --only ${String(only)}: no such corpus (${LAB_CORPORA.map((c) => c.profile).join(', ')})`);
  process.exit(2);
}

function traceOf(c: LabCorpus, s: Scenario): Trace {
  return { format: TRACE_FORMAT, profile: c.profile, name: s.name, description: s.description, steps: s.steps };
}

if (record) {
  const backend = openLabBackend();
  const caps = await backend.capabilities();
  let disagreements = 0;
  for (const c of corpora) {
    // Record everything first, then replace the directory: an interrupted run leaves the old corpus whole.
    const recorded: Array<[string, string]> = [];
    const chosen = c.scenarios.filter((s) => prefix === undefined || s.name.startsWith(prefix));
    if (chosen.length === 0) continue;
    for (const s of chosen) {
      const t = traceOf(c, s);
      const run = await backend.run(t);
      const d = compareTrace(getProfile(c.profile), t.steps, run.outcomes).divergence;
      if (d) {
        disagreements++;
        console.log(
          `${c.profile}/${s.name}: step ${d.path.map((p) => p + 1).join('.')} spec ${formatOutcome(d.expected)} (${d.rule.id}), kernel ${formatOutcome(d.observed)}`,
        );
      }
      recorded.push([`${s.name}.json`, formatTrace({ ...t, steps: withObserved(t.steps, run.outcomes) })]);
    }
    mkdirSync(c.dir, { recursive: true });
    if (prefix === undefined) for (const f of readdirSync(c.dir)) if (f.endsWith('.json')) rmSync(join(c.dir, f));
    for (const [f, text] of recorded) writeFileAtomic(join(c.dir, f), text);
    console.log(`recorded ${recorded.length} ${c.profile} traces into ${c.dir}`);
  }
  await backend.close();
  console.log(`kernel: ${caps.detectedFrom}`);
  console.log(disagreements ? `${disagreements} trace(s) disagree with the spec (written anyway)` : 'every trace agrees with the spec');
  process.exitCode = disagreements ? 1 : 0;
} else {
  let stale = 0;
  for (const c of corpora) {
    for (const s of c.scenarios) {
      const file = join(c.dir, `${s.name}.json`);
      const want = formatTrace(parseTrace(formatTrace(traceOf(c, s))));
      const committed = existsSync(file) ? parseTrace(readFileSync(file, 'utf8')) : undefined;
      const have = committed ? formatTrace({ ...committed, steps: withObserved(committed.steps, []) }) : '';
      if (want !== have) {
        stale++;
        console.log(`stale: ${file}`);
      }
    }
  }
  const n = corpora.reduce((k, c) => k + c.scenarios.length, 0);
  console.log(
    stale
      ? `${stale} lab corpus file(s) differ from the scenarios: run npx tsx scripts/build-lab-corpus.ts --record`
      : `${n} lab corpus traces match the scenarios`,
  );
  process.exitCode = stale ? 1 : 0;
}
