/**
 * generated-tests/README.md: one table over every committed suite, rendered from the profiles' coverage.json
 * files (so it is checked whenever they are).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CommittedSuite } from './config.ts';
import { readmeFacts, withReadmeFacts } from './readmeFacts.ts';

interface Cov {
  profile: string;
  checkedAgainstKernel: boolean;
  bound: string;
  graph: { states: number; edges: number };
  suites: Record<
    string,
    { tests: number; steps: number; edgesCovered?: number; statesReached?: number; onePathPerEdge?: { tests: number; steps: number } }
  >;
  c?: { tests: number; leftOut: Record<string, string> };
  failures?: { pairs: { generated: number; sameErrno: number; notFound: number } };
  outcomes: Record<string, number>;
  invariants: Record<string, { traces: number; brokenIn: unknown[] }>;
}

/** Marks the table's place in the top-level README (the rows between them are rewritten by `generate --all`). */
export const README_TABLE_START = '<!-- generated:coverage-table (npx gmem-spec generate --all) -->';
export const README_TABLE_END = '<!-- /generated:coverage-table -->';

/**
 * One row per committed suite: where it runs, its bound, the graph, the suites, edges covered, errno and signal
 * outcomes asserted, invariants checked after every step, C selftests. `linkPrefix` points the profile links
 * at generated-tests/ from wherever the table is shown.
 */
export function coverageTable(root: string, committed: readonly CommittedSuite[], linkPrefix = ''): string[] {
  const lines = [
    '| profile | runs against | bound | states | edges | suites (tests / steps) | edges covered | errno / signal / exit outcomes asserted | invariants checked (broken) | C selftests |',
    '|---|---|---|---:|---:|---|---|---|---|---|',
  ];
  for (const c of committed) {
    const file = join(root, c.profile, 'coverage.json');
    if (!existsSync(file)) {
      lines.push(`| ${c.profile} | — | \`${c.bound}\` | — | — | not generated | — | — | — | — |`);
      continue;
    }
    const v = JSON.parse(readFileSync(file, 'utf8')) as Cov;
    const suites = Object.entries(v.suites)
      .map(([k, s]) => `${k} ${s.tests} / ${s.steps}`)
      .join('; ');
    const covered = Object.entries(v.suites)
      .filter(([, s]) => s.edgesCovered !== undefined)
      .map(
        ([k, s]) =>
          `${k}: ${s.edgesCovered}/${v.graph.edges}${k === 'state' ? ` (tree edges; ${s.statesReached}/${v.graph.states} states)` : ''}`,
      )
      .join('; ');
    const runs = v.checkedAgainstKernel
      ? `${KERNEL_OF[v.profile] ?? '**a real kernel**'} and the reference`
      : 'the reference only (modelled)';
    // Refusals only: errnos, signals and VM exits (successes are counted in the suites column).
    const failures = Object.keys(v.outcomes).filter((o) => o !== 'ok' && o !== 'access ok');
    const invs = Object.values(v.invariants);
    const broken = invs.filter((i) => i.brokenIn.length > 0).length;
    lines.push(
      `| [${v.profile}](${linkPrefix}${v.profile}/COVERAGE.md) | ${runs} | \`${v.bound}\` | ${v.graph.states} | ${v.graph.edges} | ${suites} | ${covered || '—'} | ${failures.length}: ${failures.join(' ')} | ${invs.length} (${broken}) | ${v.c ? `${v.c.tests} TEST()s` : '—'} |`,
    );
  }
  return lines;
}

/**
 * The README with its coverage table replaced by the current one and its numbers (`<!-- fact:… -->`, see
 * readmeFacts.ts) recomputed from the repository that holds `root`; throws if the README has no marked table.
 */
/** Which kernel checks each kernel-checked profile's suites (docs/kernel-observations.md). */
const KERNEL_OF: Readonly<Record<string, string>> = {
  'linux-6.18': '**a 6.18 kernel with guest_memfd** (linux backend, C)',
  'linux-7.3': '**the lab kernel, Linux 7.3.4** (lab backend, C)',
  'sw-protected': '**the lab kernel, Linux 7.3.4** (lab backend, C)',
};

export function withCoverageTable(readme: string, root: string, committed: readonly CommittedSuite[]): string {
  const a = readme.indexOf(README_TABLE_START);
  const b = readme.indexOf(README_TABLE_END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${README_TABLE_START} ... ${README_TABLE_END} block`);
  const table = coverageTable(root, committed, `${root}/`).join('\n');
  const withTable = `${readme.slice(0, a + README_TABLE_START.length)}\n${table}\n${readme.slice(b)}`;
  return withReadmeFacts(withTable, readmeFacts(dirname(root)));
}

export function renderOverview(root: string, committed: readonly CommittedSuite[]): string {
  const lines = [
    '# Generated conformance suites',
    '',
    'Generated from the state graph by `npx gmem-spec generate --all` (src/generate/); do not edit. CI regenerates',
    'them and fails if anything differs (`npx gmem-spec generate --check`). Each profile directory holds the traces',
    '(`traces/<suite>/*.json`, gmem-trace/1 with expected outcomes and the invariants checked after every step), one',
    'vitest file per suite, `coverage.json` and `COVERAGE.md`; linux-6.18 also has C selftests (`c/`).',
    '',
    'Run them: `npx vitest run generated-tests` (reference backend), `GMEM_BACKEND=linux npx vitest run',
    "generated-tests/linux-6.18` (this machine's /dev/kvm), and the C selftests with `gcc -Wall -Werror`.",
    '',
  ];
  lines.push(...coverageTable(root, committed));
  lines.push(
    '',
    'The linux-6.18 suites are the only ones checked against a real kernel (Linux 6.18 with guest_memfd, default VM type,',
    'flags MMAP and INIT_SHARED: docs/kernel-observations.md); every other profile describes a platform or a proposal no',
    'kernel the project runs on implements, and',
    'its suites only check that the model still says what it said when they were generated.',
  );
  return `${lines.join('\n')}\n`;
}
