/** The guestMemfd and vm machines: lifecycles and bindings (kernel-abi.md §2.12-2.13). */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { type GmemEvent, guestMemfdMachine } from '../machines/guestMemfd.ts';
import { type VmEvent, vmMachine } from '../machines/vm.ts';

function gmem(events: GmemEvent[]) {
  let [s] = initialTransition(guestMemfdMachine);
  const refused: string[] = [];
  for (const e of events) {
    if (!s.can(e)) refused.push(e.type);
    else [s] = transition(guestMemfdMachine, s, e);
  }
  return { value: s.value, context: s.context, refused };
}

function vm(events: VmEvent[]) {
  let [s] = initialTransition(vmMachine);
  for (const e of events) [s] = transition(vmMachine, s, e);
  return s.value as Record<string, string>;
}

describe('guestMemfd machine', () => {
  it('closing the last fd while mapped keeps the file (mappedOnly); the last munmap releases it', () => {
    expect(gmem([{ type: 'MAPPED' }, { type: 'FD_CLOSED' }]).value).toBe('mappedOnly');
    expect(gmem([{ type: 'MAPPED' }, { type: 'FD_CLOSED' }, { type: 'UNMAPPED' }]).value).toBe('released');
  });

  it('closing the only fd of an unmapped file releases it and cuts its bindings', () => {
    const s = gmem([{ type: 'BIND', binding: { vm: 0, slot: 0, start: 0, npages: 2 } }, { type: 'FD_CLOSED' }]);
    expect(s.value).toBe('released');
    expect(s.context.bindings).toEqual([]);
  });

  it('a dup keeps the file open after one close', () => {
    expect(gmem([{ type: 'FD_OPENED' }, { type: 'FD_CLOSED' }]).value).toBe('open');
  });

  it('refuses a binding that overlaps an existing one and accepts a disjoint one', () => {
    const s = gmem([
      { type: 'BIND', binding: { vm: 0, slot: 0, start: 0, npages: 2 } },
      { type: 'BIND', binding: { vm: 0, slot: 1, start: 1, npages: 2 } },
      { type: 'BIND', binding: { vm: 0, slot: 2, start: 2, npages: 2 } },
    ]);
    expect(s.refused).toEqual(['BIND']);
    expect(s.context.bindings.map((b) => b.slot)).toEqual([0, 2]);
  });
});

describe('vm machine', () => {
  it('a guest_memfd keeps its VM alive after the VM fd is closed; releasing it destroys the VM', () => {
    expect(vm([{ type: 'GMEM_CREATED' }, { type: 'FD_CLOSED' }]).lifecycle).toBe('fdsClosed');
    expect(vm([{ type: 'GMEM_CREATED' }, { type: 'FD_CLOSED' }, { type: 'GMEM_RELEASED' }]).lifecycle).toBe('destroyed');
    expect(vm([{ type: 'FD_CLOSED' }]).lifecycle).toBe('destroyed');
  });

  it('the launch goes none → started → finished and never back', () => {
    expect(vm([{ type: 'LAUNCH_START' }, { type: 'LAUNCH_FINISH' }, { type: 'LAUNCH_START' }]).launch).toBe('finished');
    expect(vm([{ type: 'LAUNCH_FINISH' }]).launch).toBe('none');
  });
});
