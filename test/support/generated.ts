/** Regenerate a committed suite in memory and say what differs from the files on disk. */
import { join } from 'node:path';
import { parseBound } from '../../spec/explore/bound.ts';
import { getProfile } from '../../spec/profiles/index.ts';
import { commandFor, committedFor } from '../../src/generate/config.ts';
import { generateProfile } from '../../src/generate/generate.ts';
import { type SuiteDiff, diffSuite } from '../../src/generate/write.ts';

export function checkProfile(name: string): SuiteDiff {
  const c = committedFor(name);
  if (!c) throw new Error(`no committed suite for ${name}`);
  const g = generateProfile({
    profile: getProfile(name),
    bound: parseBound(c.bound),
    coverage: c.coverage,
    c: c.c,
    command: commandFor(c),
  });
  const d = diffSuite(join('generated-tests', name), g.files);
  // Keep the failure message short: the first few paths of each kind.
  return { missing: d.missing.slice(0, 10), extra: d.extra.slice(0, 10), changed: d.changed.slice(0, 10) };
}
