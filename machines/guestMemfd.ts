/**
 * One guest_memfd instance (file + inode). Lifecycle as in kvm_gmem_release (kernel-abi.md §2.12):
 *
 *   open        at least one fd refers to the file
 *   mappedOnly  every fd is closed but a VMA still holds a file reference (the memory stays usable)
 *   released    the last reference is gone: bindings are cut (slots see "no file"), the VM reference dropped
 *
 * Context: open fds, live mappings, and the memslot bindings — disjoint ranges of file pages
 * ("any number of memory regions can be bound to a single guest_memfd file, but the bound ranges must not
 * overlap", api.rst). Size and flags are fixed at creation and live in the system state.
 */
import { assign, setup } from 'xstate';

/** One memslot's binding: a range of file pages (the system state keeps these as they are). */
export interface Binding {
  vm: number;
  slot: number;
  /** First guest_memfd page bound, and page count. */
  start: number;
  npages: number;
}

export interface GmemContext {
  fds: number;
  maps: number;
  bindings: Binding[];
}

export type GmemEvent =
  | { type: 'FD_OPENED' }
  | { type: 'FD_CLOSED' }
  | { type: 'MAPPED' }
  | { type: 'UNMAPPED' }
  | { type: 'BIND'; binding: Binding }
  | { type: 'UNBIND'; vm: number; slot: number };

function overlaps(a: Binding, b: Binding): boolean {
  return a.start < b.start + b.npages && b.start < a.start + a.npages;
}

export const guestMemfdMachine = setup({
  types: { context: {} as GmemContext, events: {} as GmemEvent },
  guards: {
    /** The new binding overlaps no existing one (kvm_gmem_bind: EINVAL otherwise). */
    rangeUnbound: ({ context, event }) => event.type === 'BIND' && !context.bindings.some((b) => overlaps(b, event.binding)),
    lastReference: ({ context, event }) =>
      (event.type === 'FD_CLOSED' && context.fds === 1 && context.maps === 0) ||
      (event.type === 'UNMAPPED' && context.maps === 1 && context.fds === 0),
    lastFd: ({ context }) => context.fds === 1,
  },
  actions: {
    addFd: assign({ fds: ({ context }) => context.fds + 1 }),
    dropFd: assign({ fds: ({ context }) => context.fds - 1 }),
    addMap: assign({ maps: ({ context }) => context.maps + 1 }),
    dropMap: assign({ maps: ({ context }) => context.maps - 1 }),
    addBinding: assign({
      bindings: ({ context, event }) =>
        event.type === 'BIND' ? [...context.bindings, event.binding].sort((a, b) => a.start - b.start) : context.bindings,
    }),
    removeBinding: assign({
      bindings: ({ context, event }) =>
        event.type === 'UNBIND' ? context.bindings.filter((b) => !(b.vm === event.vm && b.slot === event.slot)) : context.bindings,
    }),
    /** kvm_gmem_release: every slot still bound loses its file pointer. */
    cutBindings: assign({ bindings: () => [] }),
  },
}).createMachine({
  id: 'guestMemfd',
  initial: 'open',
  context: { fds: 1, maps: 0, bindings: [] },
  states: {
    open: {
      description: 'KVM_CREATE_GUEST_MEMFD returned an fd; the file pins its VM.',
      on: {
        FD_OPENED: { actions: 'addFd' },
        FD_CLOSED: [
          { guard: 'lastReference', target: 'released', actions: ['dropFd', 'cutBindings'] },
          { guard: 'lastFd', target: 'mappedOnly', actions: 'dropFd' },
          { actions: 'dropFd' },
        ],
        MAPPED: { actions: 'addMap' },
        UNMAPPED: { actions: 'dropMap' },
        BIND: { guard: 'rangeUnbound', actions: 'addBinding' },
        UNBIND: { actions: 'removeBinding' },
      },
    },
    mappedOnly: {
      description: 'No fd is open but mmap()s hold the file: memory still usable, still bound.',
      on: {
        MAPPED: { actions: 'addMap' },
        UNMAPPED: [{ guard: 'lastReference', target: 'released', actions: ['dropMap', 'cutBindings'] }, { actions: 'dropMap' }],
        UNBIND: { actions: 'removeBinding' },
      },
    },
    released: {
      description: 'Last file reference dropped: bound slots see no file (later gmem faults: EFAULT); VM reference put.',
      type: 'final',
    },
  },
});
