/**
 * The one pure function of the spec: given a profile, a system state and an operation, what happens — the
 * outcome (success, errno, signal, exit), the next state, and the rule that decided it.
 */
import type { MachineObserver } from '../machines/bridge.ts';
import type { Outcome, Step } from './ops.ts';
import type { Profile } from './profile.ts';
import type { RuleRef } from './rules/check.ts';
import { withoutUffd } from './rules/uffd.ts';
import { decideStep } from './ops/index.ts';
import type { NameRef, SystemState } from './state.ts';
import { World } from './world.ts';

export interface StepResult {
  outcome: Outcome;
  state: SystemState;
  rule: RuleRef;
  /** For a fork step: what each nested step did. */
  nested?: StepResult[];
}

/**
 * fork(): the child gets copies of the open fds and of the mappings (without their PTEs: a shared file
 * mapping refaults in the child) but not the pins; it runs the nested steps, then exits, closing its fds
 * and unmapping its mappings.
 */
function forkStep(profile: Profile, state: SystemState, step: Step & { op: 'fork' }, observer: MachineObserver | undefined): StepResult {
  const w = new World(profile, state, observer);
  const parent = w.s.proc;
  const child = parent + 1;
  const parentNames = w.s.names;
  const names: Record<string, NameRef> = {};
  const fdCopy = new Map<number, number>();
  const mapCopy = new Map<number, number>();
  for (const [name, ref] of Object.entries(parentNames)) {
    if ('fd' in ref) {
      const fd = w.s.fds[ref.fd];
      if (fd?.open && fd.proc === parent) {
        let copy = fdCopy.get(ref.fd);
        if (copy === undefined) {
          copy = w.newFd({ ...fd, proc: child });
          fdCopy.set(ref.fd, copy);
          if (fd.kind === 'vm') w.vmEvent(fd.id, { type: 'FD_OPENED' });
          else w.gmemEvent(fd.id, { type: 'FD_OPENED' });
        }
        names[name] = { fd: copy };
        continue;
      }
    } else if ('map' in ref) {
      const m = w.s.maps[ref.map];
      if (m?.live && m.proc === parent && !m.dontfork) {
        let copy = mapCopy.get(ref.map);
        if (copy === undefined) {
          // The child's VMAs are not registered with the parent's userfaultfd (no UFFD_FEATURE_EVENT_FORK).
          copy = w.newMap({ ...withoutUffd(m), proc: child });
          mapCopy.set(ref.map, copy);
          w.gmemEvent(m.gmem, { type: 'MAPPED' });
        }
        names[name] = { map: copy };
        continue;
      }
      // A MADV_DONTFORK mapping does not exist in the child: its address is unmapped there.
      if (m?.dontfork) {
        names[name] = { map: w.newMap({ ...m, proc: child, live: false }) };
        continue;
      }
    }
    names[name] = ref;
  }
  w.s.names = names;
  w.s.proc = child;
  let s = w.s;
  const nested: StepResult[] = [];
  for (const inner of step.steps) {
    const r = step_(profile, s, inner, observer);
    nested.push(r);
    s = r.state;
  }
  // The child exits: its fds close and its mappings go.
  const exit = new World(profile, s, observer);
  for (let i = 0; i < exit.s.fds.length; i++) {
    const fd = exit.s.fds[i];
    if (fd?.open && fd.proc >= child) exit.closeFd(i);
  }
  for (let i = 0; i < exit.s.maps.length; i++) {
    const m = exit.s.maps[i];
    if (m?.live && m.proc >= child) exit.unmap(i);
  }
  exit.s.proc = parent;
  exit.s.names = parentNames;
  return {
    outcome: { ok: true, steps: nested.map((n) => n.outcome) },
    state: exit.s,
    rule: {
      id: 'fork.ok',
      says: 'fork(): the child inherits fds and shared mappings (not PTEs, not pins); its VM ioctls get EIO',
      cite: 'fork(2); kernel-abi.md §2.0; kernel here',
    },
    nested,
  };
}

function step_(profile: Profile, state: SystemState, step: Step, observer: MachineObserver | undefined): StepResult {
  if (step.op === 'fork') return forkStep(profile, state, step, observer);
  const w = new World(profile, state, observer);
  const d = decideStep(w, step);
  return { outcome: d.outcome, state: w.s, rule: d.rule };
}

/**
 * What the spec predicts for one step. Throws UnknownHandleError for a handle no earlier step created.
 * `observer` hears every machine transition the step takes (an exploration's coverage and diagrams).
 */
export function step(profile: Profile, state: SystemState, s: Step, observer?: MachineObserver): StepResult {
  return step_(profile, state, s, observer);
}
