/**
 * The two engines generate can build the state graph with agree: the explorer (the exploration engine over
 * the system model) and XState's graph utilities traversing the system actor with the spec's own state key.
 * On every profile at the unit bound they find the same states in the same order, the same edges (source,
 * target, step, outcome, rule) and so the same graph digest; and a committed suite generated through either is
 * the same, file for file.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseBound } from '../spec/explore/bound.ts';
import { PROFILES, getProfile } from '../spec/profiles/index.ts';
import { commandFor, committedFor } from '../src/generate/config.ts';
import { generateProfile } from '../src/generate/generate.ts';

const UNIT = 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1';
const CHILD = fileURLToPath(new URL('./support/engineGraphs.ts', import.meta.url));

interface Summary {
  states: number;
  edges: number;
  complete: boolean;
  digest: string;
  tree: string;
}

/** Children running, and the ones waiting for one of the two slots. */
let running = 0;
const waiting: Array<() => void> = [];

async function bothEngines(profile: string): Promise<{ explorer: Summary; xstate: Summary; firstDifference: unknown }> {
  if (running >= 2) await new Promise<void>((go) => waiting.push(go));
  running++;
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, profile, UNIT], { maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
  } finally {
    running--;
    waiting.shift()?.();
  }
}

describe(`explorer and xstate/graph build the same graph of every profile at the unit bound (${UNIT})`, () => {
  // Each in its own child process, two at a time (bothEngines).
  it.concurrent.for(PROFILES.map((p) => p.name))('%s', { timeout: 600_000 }, async (name, { expect }) => {
    const r = await bothEngines(name);
    expect(r.explorer.complete).toBe(true);
    expect(r.explorer.states).toBeGreaterThan(100);
    // Same states in the same order, same edges (source, target, step, outcome, rule), same BFS tree.
    expect(r.firstDifference).toBeNull();
    expect(r.xstate).toEqual(r.explorer);
  });
});

describe('generate --engine xstate', () => {
  it('writes the committed linux-6.18 suite (transition + failures, C included) file for file as the explorer does', () => {
    const c = committedFor('linux-6.18');
    if (!c) throw new Error('no committed linux-6.18 suite');
    const options = { profile: getProfile(c.profile), bound: parseBound(c.bound), coverage: c.coverage, c: c.c, command: commandFor(c) };
    const ours = generateProfile(options);
    const theirs = generateProfile({ ...options, engine: 'xstate' });
    expect([...theirs.files.keys()]).toEqual([...ours.files.keys()]);
    for (const [file, text] of ours.files) if (theirs.files.get(file) !== text) expect(theirs.files.get(file)).toBe(text);
    expect(ours.files.size).toBeGreaterThan(100);
  }, 300_000);
});
