/**
 * One VM. Lifecycle (kernel-abi.md §2.12): the VM object lives while its fd is open or any guest_memfd created
 * for it holds a reference (kvm_get_kvm in kvm_gmem_create).
 *
 *   lifecycle  alive | fdsClosed (only guest_memfd files keep it) | destroyed
 *   launch     none | started | finished      (SNP LAUNCH_START/FINISH, TDX INIT_VM/FINALIZE_VM, CCA activate)
 *
 * The launch region is the authority on the launch phase: which launch command comes next, when populate is
 * allowed (POPULATE) and when a vCPU may run the guest (RUN). The rules ask it (World.vmAccepts) and turn a
 * refusal into their errno. Memslots and per-VM memory attributes are plain data in the system state.
 */
import { assign, setup } from 'xstate';

export interface VmContext {
  fds: number;
  /** guest_memfd files that hold a VM reference. */
  gmemRefs: number;
}

export type VmEvent =
  | { type: 'FD_OPENED' }
  | { type: 'FD_CLOSED' }
  | { type: 'GMEM_CREATED' }
  | { type: 'GMEM_RELEASED' }
  | { type: 'LAUNCH_START' }
  | { type: 'LAUNCH_FINISH' }
  /** Platform populate (LAUNCH_UPDATE / INIT_MEM_REGION / RMI_POPULATE) of the VM's memory. */
  | { type: 'POPULATE' }
  /**
   * A vCPU runs the guest or pre-faults its memory (KVM_RUN, KVM_PRE_FAULT_MEMORY). `launchFlow`: the VM type has
   * a launch flow (SNP, TDX, CCA), so the guest runs only once its measurement is sealed.
   */
  | { type: 'RUN'; launchFlow: boolean };

export const vmMachine = setup({
  types: { context: {} as VmContext, events: {} as VmEvent },
  guards: {
    lastFdNoGmem: ({ context }) => context.fds === 1 && context.gmemRefs === 0,
    lastFd: ({ context }) => context.fds === 1,
    lastGmemNoFd: ({ context }) => context.gmemRefs === 1 && context.fds === 0,
    /** A VM type without a launch flow runs its guest at any time (its launch region never leaves `none`). */
    noLaunchFlow: ({ event }) => event.type === 'RUN' && !event.launchFlow,
  },
  actions: {
    addFd: assign({ fds: ({ context }) => context.fds + 1 }),
    dropFd: assign({ fds: ({ context }) => context.fds - 1 }),
    addGmem: assign({ gmemRefs: ({ context }) => context.gmemRefs + 1 }),
    dropGmem: assign({ gmemRefs: ({ context }) => context.gmemRefs - 1 }),
  },
}).createMachine({
  id: 'vm',
  type: 'parallel',
  context: { fds: 1, gmemRefs: 0 },
  states: {
    lifecycle: {
      initial: 'alive',
      states: {
        alive: {
          description: 'KVM_CREATE_VM returned an fd; VM ioctls are allowed from the creating process only.',
          on: {
            FD_OPENED: { actions: 'addFd' },
            FD_CLOSED: [
              { guard: 'lastFdNoGmem', target: 'destroyed', actions: 'dropFd' },
              { guard: 'lastFd', target: 'fdsClosed', actions: 'dropFd' },
              { actions: 'dropFd' },
            ],
            GMEM_CREATED: { actions: 'addGmem' },
            GMEM_RELEASED: { actions: 'dropGmem' },
          },
        },
        fdsClosed: {
          description: 'No VM fd is open; guest_memfd files still pin the VM, so it is not destroyed yet.',
          on: {
            GMEM_RELEASED: [{ guard: 'lastGmemNoFd', target: 'destroyed', actions: 'dropGmem' }, { actions: 'dropGmem' }],
          },
        },
        destroyed: { type: 'final', description: 'kvm_destroy_vm: memslots freed.' },
      },
    },
    launch: {
      initial: 'none',
      states: {
        // POPULATE and RUN change nothing here; their targets say where each is allowed (a transition with neither
        // target nor action would not be enabled).
        none: {
          on: {
            LAUNCH_START: { target: 'started' },
            RUN: { guard: 'noLaunchFlow', target: 'none' },
          },
        },
        started: {
          description: 'Launch in progress: populate (LAUNCH_UPDATE / INIT_MEM_REGION / RMI_POPULATE) allowed.',
          on: {
            LAUNCH_FINISH: { target: 'finished' },
            POPULATE: { target: 'started' },
            RUN: { guard: 'noLaunchFlow', target: 'started' },
          },
        },
        finished: {
          description: 'Measurement sealed: no more populate; the guest may run and pre-fault.',
          on: { RUN: { target: 'finished' } },
        },
      },
    },
  },
});
