/**
 * Prints one closing line CI can read whatever the runner: "gmem-spec: N passed, N failed, N skipped".
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  private line = '';

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failed++;
        else skipped++;
      }
      if (m.state() === 'failed' && ![...m.children.allTests()].length) failed++;
    }
    this.line = `gmem-spec: ${passed} passed, ${failed} failed, ${skipped} skipped`;
  }

  // Printed last, after the default reporter's summary, so it is the run's closing line.
  onProcessTimeout(): void {}

  onFinished(): void {
    if (this.line) setImmediate(() => process.stdout.write(`${this.line}\n`));
  }
}
