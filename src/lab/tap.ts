/** Reading the TAP the lab's selftest runner prints (pure): one result line per test. */

export interface TapResult {
  number: number;
  name: string;
  outcome: 'pass' | 'fail' | 'skip';
  directive: string;
}

export interface TapSummary {
  planned: number | undefined;
  results: TapResult[];
  passed: number;
  failed: number;
  skipped: number;
}

export function parseTap(text: string): TapSummary {
  let planned: number | undefined;
  const results: TapResult[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const plan = /^1\.\.(\d+)/.exec(line);
    if (plan) planned = Number(plan[1]);
    const m = /^(ok|not ok) (\d+) (\S+)(?:\s*#\s*(.*))?$/.exec(line);
    if (!m) continue;
    const directive = (m[4] ?? '').trim();
    const outcome = m[1] === 'not ok' ? 'fail' : /^SKIP\b/i.test(directive) ? 'skip' : 'pass';
    results.push({ number: Number(m[2]), name: m[3] as string, outcome, directive });
  }
  const count = (o: TapResult['outcome']): number => results.filter((r) => r.outcome === o).length;
  return { planned, results, passed: count('pass'), failed: count('fail'), skipped: count('skip') };
}

/** The tests that did not pass, including planned tests that never reported (a crash mid-run). */
export function tapProblems(s: TapSummary, expected: readonly string[]): string[] {
  const problems = s.results
    .filter((r) => r.outcome !== 'pass')
    .map((r) => `${r.name}: ${r.outcome}${r.directive ? ` (${r.directive})` : ''}`);
  for (const name of expected) if (!s.results.some((r) => r.name === name)) problems.push(`${name}: no result`);
  return problems;
}
