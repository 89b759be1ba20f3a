/**
 * Exploring twice in one process: coverage is heard through the machine observer each step is given, and the
 * page memo tells it the machine transition of every result it remembers. Before, coverage was recorded by
 * patching MachineBridge.apply, which the memo skipped: a second exploration of linux-6.18 saw 12 of the 39
 * machine edges the first one saw (diagrams) and 6 of 15 machine transitions (check).
 */
import { describe, expect, it } from 'vitest';
import type { MachineObserver } from '../machines/bridge.ts';
import { type Exploration, explore as reachable } from '../src/presentation/diagram/reachable.ts';
import { parseBound } from '../spec/explore/bound.ts';
import { explore } from '../spec/explore/explorer.ts';
import type { Step } from '../spec/ops.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { type SystemState, emptySystem } from '../spec/state.ts';
import { step } from '../spec/step.ts';
import { check } from '../src/check/engine.ts';

const linux = getProfile('linux-6.18');
const UNIT = parseBound('vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1');

/** Every (slice, machine, transition id) the reachable view says was taken. */
function takenEdges(x: Exploration): string[] {
  const out: string[] = [];
  for (const [slice, s] of x.slices) for (const [machine, ids] of s.taken) for (const id of ids) out.push(`${slice} ${machine} ${id}`);
  return out.sort();
}

async function machineCoverage() {
  const r = await check({ profile: linux, bound: UNIT, invariants: [], coverage: true });
  return { states: r.coverage?.machineStates, transitions: r.coverage?.machineTransitions };
}

describe('a second exploration in the same process hears every machine transition the first one did', () => {
  it("the diagrams' reachable view, the checker and the explorer, one after the other and again", async () => {
    const firstView = takenEdges(reachable(linux));
    const firstCheck = await machineCoverage();
    // Everything below runs with the page memo warm from the explorations above (and from the explorer's).
    explore(linux, UNIT);
    const secondView = takenEdges(reachable(linux));
    const secondCheck = await machineCoverage();
    expect(firstView.length).toBeGreaterThanOrEqual(39);
    expect(firstCheck.transitions?.length).toBeGreaterThanOrEqual(15);
    expect(secondView).toEqual(firstView);
    expect(secondCheck).toEqual(firstCheck);
  });

  it('one trace, stepped twice, tells the observer the same machine transitions both times, page machine included', () => {
    const trace: Step[] = [
      { op: 'create_vm', type: 'default', as: 'vm' },
      { op: 'create_gmem', vm: 'vm', size: 8192, flags: 3, as: 'g' },
      { op: 'mmap', gmem: 'g', offset: 0, length: 8192, prot: 'rw', shared: true, as: 'm' },
      { op: 'write_mem', map: 'm', offset: 0, value: 7 },
      { op: 'pin', map: 'm', offset: 4096, len: 4096 },
      { op: 'fallocate', gmem: 'g', mode: 'punch_hole', offset: 0, len: 4096 },
      { op: 'munmap', map: 'm' },
      { op: 'close', h: 'g' },
    ];
    const heard = () => {
      const out: string[] = [];
      const observer: MachineObserver = (machine, before, event, after) => {
        out.push(`${machine.id} ${JSON.stringify(before.value)} ${event.type} ${JSON.stringify(after.value)}`);
      };
      let s: SystemState = emptySystem();
      for (const st of trace) s = step(linux, s, st, observer).state;
      return out;
    };
    const first = heard();
    const second = heard();
    expect(first.filter((x) => x.startsWith('page ')).length).toBeGreaterThanOrEqual(4);
    expect(first.some((x) => x.startsWith('guestMemfd '))).toBe(true);
    expect(first.some((x) => x.startsWith('vm '))).toBe(true);
    expect(second).toEqual(first);
  });
});
