/**
 * Writes examples/corpus/linux-6.18/<area>--<name>.json from examples/corpus/scenarios.ts, with the outcomes
 * observed on this machine's kernel (`--record`, needs /dev/kvm). Without --record it only checks that the
 * committed files hold the same steps as the scenarios (exit 1 when they differ).
 *   npx tsx scripts/build-corpus.ts --record
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SCENARIOS } from '../examples/corpus/scenarios.ts';
import { LinuxBackend } from '../src/backend/linux.ts';
import { withObserved } from '../src/conform/runner.ts';
import { writeFileAtomic } from '../src/files.ts';
import { type Trace, TRACE_FORMAT } from '../spec/ops.ts';
import { formatTrace, parseTrace } from '../spec/trace.ts';

const DIR = join('examples', 'corpus', 'linux-6.18');
const record = process.argv.includes('--record');

function traceOf(s: (typeof SCENARIOS)[number]): Trace {
  return { format: TRACE_FORMAT, profile: 'linux-6.18', name: s.name, description: s.description, steps: s.steps };
}

if (record) {
  const backend = new LinuxBackend();
  const caps = await backend.capabilities();
  if (existsSync(DIR)) for (const f of readdirSync(DIR)) rmSync(join(DIR, f));
  for (const s of SCENARIOS) {
    const t = traceOf(s);
    const run = await backend.run(t);
    writeFileAtomic(join(DIR, `${s.name}.json`), formatTrace({ ...t, steps: withObserved(t.steps, run.outcomes) }));
  }
  await backend.close();
  console.log(`recorded ${SCENARIOS.length} traces from ${caps.detectedFrom} into ${DIR}`);
} else {
  let stale = 0;
  for (const s of SCENARIOS) {
    const file = join(DIR, `${s.name}.json`);
    // Both sides through the parser, so that field order and number forms do not count.
    const want = formatTrace(parseTrace(formatTrace(traceOf(s))));
    const committed = existsSync(file) ? parseTrace(readFileSync(file, 'utf8')) : undefined;
    const have = committed ? formatTrace({ ...committed, steps: withObserved(committed.steps, []) }) : '';
    if (want !== have) {
      stale++;
      console.log(`stale: ${file}`);
    }
  }
  console.log(
    stale
      ? `${stale} corpus file(s) differ from the scenarios: run npx tsx scripts/build-corpus.ts --record`
      : `${SCENARIOS.length} corpus traces match the scenarios`,
  );
  process.exitCode = stale ? 1 : 0;
}
