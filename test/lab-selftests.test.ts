/**
 * The upstream anchor: the kernel's own KVM selftests for guest_memfd and private memory, built from the same
 * linux-source package as the lab kernel, all pass in one lab boot. The lab is trusted only while they do.
 * Builds the selftests first when they are not cached (about a minute). SKIP (one line, with the reason)
 * when QEMU or a cached lab kernel is missing.
 */
import { describe, expect, it } from 'vitest';
import { labReady } from '../src/lab/available.ts';
import { LAB_SELFTESTS, buildSelftests, runSelftests } from '../src/lab/selftests.ts';
import { tapProblems } from '../src/lab/tap.ts';

const lab = labReady();
if (!lab.ok) console.log(`SKIP: lab selftests: ${lab.reason}`);

describe.skipIf(!lab.ok)('the KVM selftests in the lab', () => {
  it(`all ${LAB_SELFTESTS.length} pass: ${LAB_SELFTESTS.join(', ')}`, async () => {
    const bins = await buildSelftests();
    const run = await runSelftests(bins);
    const names = LAB_SELFTESTS.map((t) => t.split('/').pop() as string);
    expect(run.summary.planned).toBe(names.length);
    expect(run.summary.results.map((r) => r.name)).toEqual(names);
    expect(tapProblems(run.summary, names), run.tap).toEqual([]);
    expect(run.exec.status).toBe(0);
  }, 1_200_000);
});
