/**
 * ABI words for the model's events, guards and operations: what a kernel or VMM reviewer reads on a diagram
 * edge. Machine events are internal names (HOST_FAULT, CONVERT_BEGIN...); these functions name the user-visible
 * operation that sends them, for the profile's VM type (which conversion ioctl, which populate command).
 */
import type { GmemEvent } from '../../../machines/guestMemfd.ts';
import type { PageEventType } from '../../../machines/page.ts';
import type { VmEvent } from '../../../machines/vm.ts';
import type { VmTypeName } from '../../../spec/constants.ts';
import type { Outcome, Step } from '../../../spec/ops.ts';
import { opOf } from '../../../spec/ops/index.ts';
import { launchName, populateName } from '../../../spec/ops/words.ts';
import { formatOutcome } from '../../../spec/outcome.ts';
import type { Profile, VmTypeRules } from '../../../spec/profile.ts';

// The platforms' populate and launch commands are words the op modules use too (spec/ops/words.ts).
export { launchName, populateName };

/** The ioctl that converts a page for this VM type. */
export function conversionName(profile: Profile, r: VmTypeRules | undefined, to: 'private' | 'shared'): string {
  const attr = to === 'private' ? 'PRIVATE' : 'SHARED';
  if (r?.conversion === 'in-place' && profile.gmemAttributes) return `KVM_SET_MEMORY_ATTRIBUTES2(${attr})`;
  if (r?.conversion === 'vm-attributes') return `KVM_SET_MEMORY_ATTRIBUTES(${attr})`;
  return `convert to ${attr} (no conversion on this VM type)`;
}

export interface EventContext {
  profile: Profile;
  vmType: VmTypeName;
  rules: VmTypeRules | undefined;
}

export type Words<E extends string, A extends unknown[]> = { readonly [K in E]: (...a: A) => string };

/**
 * An event name the machine's config lists, in words from a record keyed by the machine's event union: a new
 * event does not compile until it has words. A name outside the union (none today) is shown as it is.
 */
export function eventWords<E extends string, A extends unknown[]>(words: Words<E, A>, event: string, ...a: A): string {
  return Object.hasOwn(words, event) ? words[event as E](...a) : event;
}

const PAGE_EVENT_WORDS: Words<PageEventType, [ctx: EventContext, to: 'private' | 'shared' | undefined, guards: readonly string[]]> = {
  HOST_FAULT: () => 'host fault (mmap access)',
  HOST_UNMAP: () => 'munmap / MADV_DONTNEED',
  HOST_WRITE: () => 'host store',
  HOST_FILL: () => 'host fill',
  ALLOCATE: () => 'fallocate(KEEP_SIZE)',
  PUNCH: () => 'fallocate(PUNCH_HOLE)',
  PIN: () => 'long-term GUP pin',
  UNPIN: () => 'unpin',
  CONVERT_BEGIN: (ctx, to) => (to ? `${conversionName(ctx.profile, ctx.rules, to)}: begin` : 'conversion begins (zap stage-2)'),
  CONVERT_COMMIT: () => 'conversion commits',
  CONVERT_ABORT: () => 'conversion aborts',
  GUEST_MAP: (_ctx, _to, guards) =>
    guards.includes('guestPrivate') ? 'guest fault (private)' : guards.includes('guestShared') ? 'guest fault (shared)' : 'guest fault',
  GUEST_WRITE: () => 'guest store',
  STAGE2_ZAP: () => 'stage-2 zap (memslot delete / attribute change)',
  POPULATE: (ctx) => populateName(ctx.rules),
};

/** A page-machine event in ABI words. `guard` disambiguates events whose meaning depends on a parameter. */
export function pageEventWords(event: string, ctx: EventContext, guards: readonly string[] = []): string {
  const to = guards.includes('toPrivate') ? 'private' : guards.includes('toShared') ? 'shared' : undefined;
  return eventWords(PAGE_EVENT_WORDS, event, ctx, to, guards);
}

const GMEM_EVENT_WORDS: Words<GmemEvent['type'], []> = {
  FD_OPENED: () => 'dup / fork',
  FD_CLOSED: () => 'close(fd)',
  MAPPED: () => 'mmap(MAP_SHARED)',
  UNMAPPED: () => 'munmap',
  BIND: () => 'KVM_SET_USER_MEMORY_REGION2(GUEST_MEMFD)',
  UNBIND: () => 'memslot delete',
};

export function gmemEventWords(event: string): string {
  return eventWords(GMEM_EVENT_WORDS, event);
}

const VM_EVENT_WORDS: Words<VmEvent['type'], [r: VmTypeRules | undefined]> = {
  FD_OPENED: () => 'dup / fork',
  FD_CLOSED: () => 'close(vm fd)',
  GMEM_CREATED: () => 'KVM_CREATE_GUEST_MEMFD',
  GMEM_RELEASED: () => 'guest_memfd released',
  LAUNCH_START: (r) => launchName(r, 'start'),
  LAUNCH_FINISH: (r) => launchName(r, 'finish'),
  POPULATE: (r) => populateName(r),
  RUN: () => 'KVM_RUN / KVM_PRE_FAULT_MEMORY',
};

export function vmEventWords(event: string, r: VmTypeRules | undefined): string {
  return eventWords(VM_EVENT_WORDS, event, r);
}

/** Named guards in words. Rule-constant guards are rendered with their value by the caller. */
export const GUARD_WORDS: Readonly<Record<string, string>> = {
  createdShared: 'created INIT_SHARED',
  privateHostMappable: 'host may map private pages',
  noExtraReferences: 'no extra references (no GUP pin)',
  isLastMapper: 'last host mapping',
  hasMapper: 'other host mappings remain',
  toPrivate: 'to PRIVATE',
  toShared: 'to SHARED',
  lastPin: 'last pin',
  guestPrivate: 'private access',
  guestShared: 'shared access',
  trustedEntityPrepares: 'platform prepares private pages',
  removesOnAllocate: 'NO_DIRECT_MAP removes every folio',
  removesWhenPrivate: 'NO_DIRECT_MAP removes private folios',
  hostMayAccess: 'page is shared',
  startsConversion: 'page not converting yet',
  populatable: 'trusted entity does not hold the page',
  noLaunchFlow: 'VM type has no launch flow',
  rangeUnbound: 'range not bound yet',
  lastReference: 'last file reference',
  lastFd: 'last fd',
  lastFdNoGmem: 'last fd, no guest_memfd holds the VM',
  lastGmemNoFd: 'last guest_memfd, no VM fd open',
  staysWhole: 'every page of the folio private',
  neverSplit: 'the design never splits huge folios',
  allPrivate: 'every page of the folio private',
};

/** A trace step in ABI words (for the reachable graph, witness tables and sequence diagrams): its op's `edgeWord`. */
export function stepWords(s: Step, profile: Profile, vmType?: VmTypeName): string {
  return opOf(s).edgeWord(profile, s, vmType ? profile.vmTypes[vmType] : undefined);
}

/** What the caller saw, short: `ok`, `EAGAIN (error_offset 0)`, `SIGBUS`, `MEMORY_FAULT(private)`. */
export function outcomeWords(o: Outcome): string {
  if ('ok' in o) return 'ok';
  if ('access' in o) return o.access === 'ok' ? (o.value !== undefined ? `ok, reads ${o.value}` : 'ok') : o.access;
  if ('exit' in o) return o.exit === 'MEMORY_FAULT' ? `KVM_EXIT_MEMORY_FAULT(${o.private ? 'private' : 'shared'})` : 'KVM_EXIT_MMIO';
  return formatOutcome(o);
}
