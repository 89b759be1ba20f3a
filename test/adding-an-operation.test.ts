/**
 * docs/adding-an-operation.md stays true: its facet table lists exactly the registry's facets, its steps name as
 * many files as docs/architecture.md counts, and its worked example (a schema and a record for an existing
 * module), imported as written, is a record with every facet whose rule decides and whose C reads as the doc says.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { OPS } from '../spec/ops/index.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { World } from '../spec/world.ts';

const ROOT = resolve(import.meta.dirname, '..');
const doc = readFileSync(join(ROOT, 'docs/adding-an-operation.md'), 'utf8');
const dir = mkdtempSync(join(ROOT, 'spec/ops/.doc-example-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/adding-an-operation.md', () => {
  it('lists every facet of the registry and no other', () => {
    const table = [...doc.matchAll(/^\| `([a-zA-Z]+)` \|/gm)].map((m) => m[1]);
    expect(table.sort()).toEqual(Object.keys(OPS.fallocate).sort());
  });

  it('names in its steps the number of files docs/architecture.md counts for a new operation', () => {
    // The steps up to the last one, "Regenerate", which edits no file.
    const steps = doc.slice(doc.indexOf('\n1. '), doc.search(/\n\d+\. Regenerate/));
    // Files and folders the steps edit: backticked paths, tests aside (the count is beyond tests and suites).
    const files = new Set([...steps.matchAll(/`([\w./-]+\/[\w./-]*)`/g)].map((m) => m[1]).filter((f) => !f?.startsWith('test/')));
    const arch = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const counted = /^\| a new operation \| (\d+) \|/m.exec(arch)?.[1];
    expect(counted, 'docs/architecture.md has the new-operation row').toBeDefined();
    expect([...files].sort()).toHaveLength(Number(counted));
  });

  it('its worked example module has every facet and decides as the doc says', async () => {
    const block = /```ts\n\/\/ spec\/ops\/gmemFile\.ts\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block, 'the doc has the block for spec/ops/gmemFile.ts').toBeDefined();
    // Placed one folder below spec/ops/ so its relative imports resolve as they would in spec/ops/.
    const file = join(dir, 'fsync.ts');
    writeFileSync(file, (block ?? '').replaceAll("from '../", "from '../../").replaceAll("from './", "from '../"));
    const mod = (await import(pathToFileURL(file).href)) as { fsyncSchema: { name: string }; fsyncOp: Record<string, unknown> };
    const rec = mod.fsyncOp;
    expect(mod.fsyncSchema.name).toBe('fsync');
    expect(rec.fields).toBe((mod.fsyncSchema as unknown as { fields: unknown }).fields);
    expect(Object.keys(rec).sort()).toEqual(Object.keys(OPS.fallocate).sort());
    const profile = getProfile('linux-6.18');
    let s = step(profile, emptySystem(), { op: 'create_vm', type: 'default', as: 'vm0' }).state;
    s = step(profile, s, { op: 'create_gmem', vm: 'vm0', size: 4096, flags: 0, as: 'g0' }).state;
    const decide = rec.decide as (w: World, op: { h: string }) => { outcome: unknown; rule: { id: string } };
    expect(decide(new World(profile, s), { h: 'g0' }).outcome).toEqual({ errno: 'EINVAL' });
    s = step(profile, s, { op: 'close', h: 'g0' }).state;
    expect(decide(new World(profile, s), { h: 'g0' }).rule.id).toBe('fsync.fd-closed');
    const c = rec.cSelftest as { step: (s: { op: string; h: string }) => { lines: unknown[] } };
    expect(c.step({ op: 'fsync', h: 'g0' }).lines).toEqual(['ret = fsync(g0);', { assertResult: 'ret' }]);
  });
});
