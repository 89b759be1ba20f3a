/**
 * Numbers the README states about the repository, computed rather than typed: the recorded corpus's traces and
 * steps, and what `gmem-spec run` runs for linux-6.18 (its committed generated suite plus the corpus). In the
 * README each sits between `<!-- fact:NAME -->` and `<!-- /fact:NAME -->`; `gmem-spec generate --all`
 * rewrites them (with the coverage table) and `generate --check` and test/readme.test.ts fail when one is stale.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Step } from '../../spec/ops.ts';
import { type SuiteTrace, loadSuite } from '../conform/suite.ts';

/** Steps as conform counts them: a fork and each of its child steps. */
function countSteps(steps: readonly Step[]): number {
  return steps.reduce((n, s) => n + 1 + (s.op === 'fork' ? countSteps(s.steps) : 0), 0);
}

const thousands = (n: number) => n.toLocaleString('en-US');

export type FactName = 'corpus-traces' | 'corpus-steps' | 'run-traces' | 'run-steps';

/** The facts, as the README writes them (thousands separated by commas). */
export function readmeFacts(root = '.'): Record<FactName, string> {
  const load = (dir: string): SuiteTrace[] => (existsSync(join(root, dir)) ? loadSuite(join(root, dir)) : []);
  const corpus = load('examples/corpus/linux-6.18');
  const run = [...load('generated-tests/linux-6.18'), ...corpus];
  const steps = (ts: readonly SuiteTrace[]) => ts.reduce((n, t) => n + countSteps(t.trace.steps), 0);
  return {
    'corpus-traces': thousands(corpus.length),
    'corpus-steps': thousands(steps(corpus)),
    'run-traces': thousands(run.length),
    'run-steps': thousands(steps(run)),
  };
}

const FACT_RE = /<!-- fact:([a-z-]+) -->([^<]*)<!-- \/fact:\1 -->/g;

/** The README with every fact marker's content replaced by the fact's value; an unknown fact name is an error. */
export function withReadmeFacts(readme: string, facts: Readonly<Record<string, string>>): string {
  return readme.replace(FACT_RE, (_all, name: string) => {
    const v = facts[name];
    if (v === undefined) throw new Error(`README.md: unknown fact marker "${name}" (known: ${Object.keys(facts).join(', ')})`);
    return `<!-- fact:${name} -->${v}<!-- /fact:${name} -->`;
  });
}

/** The fact names a README uses. */
export function factsUsed(readme: string): string[] {
  return [...readme.matchAll(FACT_RE)].map((m) => m[1] as string);
}
