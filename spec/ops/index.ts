/**
 * The operation registry: one record per operation of the vocabulary (spec/ops.ts), each from its module in
 * this folder. Its type is a mapped type over OpName, so an operation without a record (or a record without a
 * facet) does not compile; test/ops-registry.test.ts walks it at run time too. step(), the trace schema, the
 * failure generator, the generated tests' words and the wire format read operations from here, not from switches.
 */
import type { OpName, Step } from '../ops.ts';
import type { Profile } from '../profile.ts';
import type { Decision } from '../rules/decision.ts';
import type { World } from '../world.ts';
import { fallocateOp } from './fallocate.ts';
import type { FieldSpec } from './fields.ts';
import { forkOp } from './fork.ts';
import { checkMemOp, fillMemOp, pinOp, readMemOp, unpinOp, writeMemOp } from './memAccess.ts';
import { deleteMemslotOp, setMemoryRegion2Op } from './memslots.ts';
import { madviseOp, mmapOp, mprotectOp, munmapOp } from './mmap.ts';
import { guestRequestConversionOp, setMemoryAttributes2Op, setMemoryAttributesOp } from './attributes.ts';
import { closeOp, createGmemOp, dupOp, fstatOp, ftruncateOp, preadOp, pwriteOp, readOp, writeOp } from './gmemFile.ts';
import { checkExtensionOp, createVmOp } from './kvm.ts';
import { guestAccessOp, launchFinishOp, launchStartOp, populateOp, preFaultOp } from './platform.ts';
import type { OpModule, StepOf } from './types.ts';
import { uffdContinueOp, uffdRegisterOp } from './uffd.ts';

export type OpRegistry = { readonly [N in OpName]: OpModule<N> };

/** In the vocabulary's order (spec/ops.ts): OP_NAMES and everything listing operations follows it. */
export const OPS: OpRegistry = {
  check_extension: checkExtensionOp,
  create_vm: createVmOp,
  create_gmem: createGmemOp,
  close: closeOp,
  dup: dupOp,
  mmap: mmapOp,
  munmap: munmapOp,
  mprotect: mprotectOp,
  madvise: madviseOp,
  read_mem: readMemOp,
  write_mem: writeMemOp,
  fill_mem: fillMemOp,
  check_mem: checkMemOp,
  fallocate: fallocateOp,
  fstat: fstatOp,
  ftruncate: ftruncateOp,
  read: readOp,
  write: writeOp,
  pread: preadOp,
  pwrite: pwriteOp,
  set_memory_region2: setMemoryRegion2Op,
  delete_memslot: deleteMemslotOp,
  set_memory_attributes: setMemoryAttributesOp,
  set_memory_attributes2: setMemoryAttributes2Op,
  pin: pinOp,
  unpin: unpinOp,
  fork: forkOp,
  launch_start: launchStartOp,
  launch_finish: launchFinishOp,
  populate: populateOp,
  guest_access: guestAccessOp,
  pre_fault: preFaultOp,
  guest_request_conversion: guestRequestConversionOp,
  uffd_register: uffdRegisterOp,
  uffd_continue: uffdContinueOp,
};

/** The record of a step's operation, typed for that step (the one place the op-to-record link is asserted). */
export function opOf<N extends OpName>(step: StepOf<N>): OpModule<N> {
  return OPS[step.op as N] as unknown as OpModule<N>;
}

/** The rule that decides a (non-fork) step. */
export function decideStep(w: World, step: Step): Decision {
  const m = opOf(step);
  if (m.decide === 'nested-steps') throw new Error(`internal: ${step.op} is handled by step()`);
  return m.decide(w, step);
}

/** A step in words: `fallocate(g0, PUNCH_HOLE|KEEP_SIZE, page 0)`. */
export function phraseOf(profile: Profile, step: Step): string {
  return opOf(step).phrase(profile, step, (s) => phraseOf(profile, s));
}

export const OP_FIELDS: Readonly<Record<OpName, readonly FieldSpec[]>> = Object.fromEntries(
  Object.entries(OPS).map(([name, m]) => [name, m.fields]),
) as Record<OpName, readonly FieldSpec[]>;
