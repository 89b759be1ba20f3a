/**
 * The explorer's state key carries everything step() can tell apart: two states with one key are the same
 * state. A key that drops a distinction merges states that behave differently, and the generator's replay of a
 * walk through the merged graph diverges (issue 12 item 3: SEV and SNP VMs shared the key `s3`).
 */
import { describe, expect, it } from 'vitest';
import { VM_TYPE_NAMES } from '../spec/constants.ts';
import { parseBound } from '../spec/explore/bound.ts';
import { compact } from '../spec/explore/compact.ts';
import { explore } from '../spec/explore/explorer.ts';
import { sameData } from '../spec/explore/keys.ts';
import { VM_TYPE_KEY, stateKey } from '../spec/explore/stateKey.ts';
import type { Step } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { COMMITTED } from '../src/generate/config.ts';

describe('the state key', () => {
  it('gives every VM type its own code, none a prefix of another', () => {
    const codes = VM_TYPE_NAMES.map((t) => VM_TYPE_KEY[t]);
    for (const [i, a] of codes.entries())
      for (const [j, b] of codes.entries())
        if (i !== j) expect(b.startsWith(a), `${VM_TYPE_NAMES[i]} ${a} / ${VM_TYPE_NAMES[j]} ${b}`).toBe(false);
  });

  it('tells a SEV VM from an SNP VM', () => {
    const sev = getProfile('sev-snp');
    const vm = (type: 'sev' | 'snp') => step(sev, emptySystem(), { op: 'create_vm', type, as: 'vm0' } as Step).state;
    expect(stateKey(vm('sev'))).not.toBe(stateKey(vm('snp')));
  });

  it('tells a live "rwx" mapping from a dead "rw" one, and a forked child\'s VM from the parent\'s', () => {
    const base = { ...emptySystem(), maps: [{ gmem: 0, start: 0, npages: 1, prot: 'rwx', proc: 0, live: true }] };
    expect(stateKey(base)).not.toBe(
      stateKey({ ...base, maps: [{ gmem: 0, start: 0, npages: 1, prot: 'rw', proc: 0, live: false, dontfork: false }] }),
    );
    const vm = {
      type: 'default' as const,
      lifecycle: 'alive' as const,
      fds: 1,
      gmemRefs: 0,
      proc: 0,
      memslots: [],
      privateRanges: [],
      launch: 'none' as const,
    };
    expect(stateKey({ ...emptySystem(), vms: [vm] })).not.toBe(stateKey({ ...emptySystem(), vms: [{ ...vm, proc: 1 }] }));
  });

  // Every edge of every committed profile's graph, stepped again from its source: the result is the very state
  // the graph keyed as its target (not merely one with the same key), compared as data, field by field, so a
  // field that a new feature adds to the state and the key forgets is caught here too.
  it.each(COMMITTED.map((c) => [c.profile, c.bound]))(
    '%s (%s): each edge replays into the state the graph has as its target',
    (name, bound) => {
      const profile = getProfile(name);
      const g = explore(profile, parseBound(bound));
      expect(g.symmetry).toBe(false);
      const wrong: string[] = [];
      for (let e = 0; e < g.edgeCount && wrong.length < 3; e++) {
        const st = g.steps[g.edgeStep[e] as number] as Step;
        const r = step(profile, g.states[g.edgeFrom[e] as number]!, st);
        if (!sameData(compact(r.state), g.states[g.edgeTo[e] as number]!))
          wrong.push(`edge ${e} (${JSON.stringify(st)}) from state ${g.edgeFrom[e]}`);
      }
      expect(wrong).toEqual([]);
    },
  );
});
