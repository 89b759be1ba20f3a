/**
 * Witness traces for the differences two profiles declare as data: a choice (an errno, a limit, what an advice
 * does) or a measured capability answer. The bounded search (witness.ts) drives one guest_memfd through a small
 * set of operations, so many such differences never come up there (a second memslot over the same file pages,
 * slot ids of the SMM address space, a GPA past one profile's limit). Each known kind of declared difference has
 * a probe here: a short trace, on the default VM type, ending in the step that shows it. A probe becomes a
 * witness only when predicting it under both profiles really differs at that step.
 */
import { KVM_CAP, KVM_MEMORY_ATTRIBUTE_PRIVATE, MADV, type MadviseName } from '../../../spec/constants.ts';
import { predictTrace } from '../../../spec/compare.ts';
import { formatOutcome, outcomesEqual } from '../../../spec/outcome.ts';
import type { Step } from '../../../spec/ops.ts';
import type { Choices, Profile } from '../../../spec/profile.ts';
import { stepWords } from '../diagram/words.ts';
import type { SideOutcome, Witness } from './witness.ts';

const PAGE = 4096;
const GPA = 0x100000;
const vm: Step = { op: 'create_vm', type: 'default', as: 'vm0' };
const gmem = (flags: number, pages = 2): Step => ({ op: 'create_gmem', vm: 'vm0', size: pages * PAGE, flags, as: 'g0' });
const bind = (slot: number, gpa: number | bigint, x: Partial<Record<string, unknown>> = {}): Step =>
  ({ op: 'set_memory_region2', vm: 'vm0', slot, flags: ['gmem'], gpa, size: PAGE, gmem: 'g0', gmem_offset: 0, uaddr: 0, ...x }) as Step;
const mapped = (): Step[] => [vm, gmem(3), { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'm0' }];

interface Probe {
  key: string;
  title: string;
  steps: Step[];
}

/** Probes for a choice that differs, by choice name (madvise: one per advice that differs). */
function choiceProbes(name: keyof Choices, a: Choices, b: Choices): Probe[] {
  const probe = (title: string, steps: Step[]): Probe[] => [{ key: `choice:${name}`, title, steps }];
  switch (name) {
    case 'gmemBindingOverlapErrno':
      return probe('a memslot binding guest_memfd pages another memslot binds', [vm, gmem(0), bind(0, GPA), bind(1, 2 * GPA)]);
    case 'setMemoryAttributesMissing':
      return probe('KVM_SET_MEMORY_ATTRIBUTES on a default VM (present, or not built in)', [
        vm,
        { op: 'set_memory_attributes', vm: 'vm0', address: GPA, size: PAGE, attributes: Number(KVM_MEMORY_ATTRIBUTE_PRIVATE) },
      ]);
    case 'maxGpaBits':
      return probe('a memslot just past the lower of the two guest-physical address limits', [
        vm,
        gmem(0),
        bind(0, 1n << BigInt(Math.min(a.maxGpaBits, b.maxGpaBits))),
      ]);
    case 'addressSpaces':
      return probe('a memslot in address space 1 (slot id 0x10000, SMM)', [
        vm,
        { op: 'set_memory_region2', vm: 'vm0', slot: 0x10000, flags: [], gpa: GPA, size: PAGE, uaddr: 0 },
      ]);
    case 'userMemSlots':
      return probe('the highest memslot id one profile allows', [
        vm,
        { op: 'set_memory_region2', vm: 'vm0', slot: Math.min(a.userMemSlots, b.userMemSlots), flags: [], gpa: GPA, size: PAGE, uaddr: 0 },
      ]);
    case 'madvise': {
      const advices = new Set([...Object.keys(a.madvise), ...Object.keys(b.madvise)] as MadviseName[]);
      return [...advices]
        .filter((adv) => a.madvise[adv] !== b.madvise[adv] && MADV[adv] !== undefined)
        .map((adv) => ({
          key: `choice:madvise:${adv}`,
          title: `madvise(MADV_${adv.toUpperCase()}) on a guest_memfd mapping`,
          steps: [...mapped(), { op: 'madvise', map: 'm0', offset: 0, length: 2 * PAGE, advice: adv }],
        }));
    }
    case 'readErrno':
      return probe('read() on a guest_memfd', [vm, gmem(0), { op: 'read', h: 'g0', len: PAGE }]);
    case 'writeErrno':
      return probe('write() on a guest_memfd', [vm, gmem(0), { op: 'write', h: 'g0', len: PAGE }]);
    case 'preadErrno':
      return probe('pread() on a guest_memfd', [vm, gmem(0), { op: 'pread', h: 'g0', offset: 0, len: PAGE }]);
    case 'pwriteErrno':
      return probe('pwrite() on a guest_memfd', [vm, gmem(0), { op: 'pwrite', h: 'g0', offset: 0, len: PAGE }]);
    case 'ftruncateErrno':
      return probe('ftruncate() of a guest_memfd', [vm, gmem(0), { op: 'ftruncate', h: 'g0', length: PAGE }]);
    case 'protExecErrno':
      return probe('mmap(PROT_EXEC) of a guest_memfd', [
        vm,
        gmem(3),
        { op: 'mmap', gmem: 'g0', offset: 0, length: PAGE, prot: 'rwx', shared: true, as: 'm0' },
      ]);
    case 'mprotectExecErrno':
      return probe('mprotect adding PROT_EXEC', [...mapped(), { op: 'mprotect', map: 'm0', prot: 'rwx' }]);
    case 'createReservedChecked':
      return probe('KVM_CREATE_GUEST_MEMFD with a non-zero reserved word', [
        vm,
        { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 0, reserved: [1] },
      ]);
    case 'pinRefused':
      return probe('a long-term pin of a shared guest_memfd page', [...mapped(), { op: 'pin', map: 'm0', offset: 0, len: PAGE }]);
    case 'readonlyMemslots':
      return probe('a READONLY memslot without guest_memfd', [
        vm,
        { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['readonly'], gpa: GPA, size: PAGE, uaddr: 0 },
      ]);
    case 'vmAttributesInPlaceErrno':
      return [];
  }
}

/** Probes for a capability whose measured answer differs: on /dev/kvm and on a default VM. */
function capProbe(cap: number): Probe {
  const name = Object.entries(KVM_CAP).find(([, v]) => v === cap)?.[0];
  return {
    key: `cap:${cap}`,
    title: `KVM_CHECK_EXTENSION(${name ? `KVM_CAP_${name}` : cap}) on /dev/kvm and on a default VM`,
    steps: [vm, { op: 'check_extension', on: 'kvm', cap }, { op: 'check_extension', on: 'vm0', cap }],
  };
}

function sides(p: Profile, steps: readonly Step[]): SideOutcome[] | undefined {
  try {
    return predictTrace(p, steps).map((r) => ({ outcome: r.outcome, rule: r.rule, aborted: false }));
  } catch {
    return undefined;
  }
}

/** One witness per declared difference whose probe behaves differently under `a` and `b`. */
export function choiceWitnesses(a: Profile, b: Profile): Witness[] {
  const probes: Probe[] = [];
  for (const name of Object.keys({ ...a.choices, ...b.choices }) as Array<keyof Choices>) {
    if (JSON.stringify(a.choices[name]) !== JSON.stringify(b.choices[name])) probes.push(...choiceProbes(name, a.choices, b.choices));
  }
  for (const cap of new Set([...Object.keys(a.extraCaps), ...Object.keys(b.extraCaps)].map(Number))) {
    if (JSON.stringify(a.extraCaps[cap]) !== JSON.stringify(b.extraCaps[cap])) probes.push(capProbe(cap));
  }
  const out: Witness[] = [];
  for (const pr of probes) {
    const sa = sides(a, pr.steps);
    const sb = sides(b, pr.steps);
    if (!sa || !sb) continue;
    const at = sa.findIndex((x, i) => !outcomesEqual(x.outcome, (sb[i] as SideOutcome).outcome));
    if (at < 0) continue;
    const steps = pr.steps.slice(0, at + 1);
    out.push({
      key: pr.key,
      title: pr.title,
      kind: 'changed',
      steps,
      at,
      a: sa.slice(0, at + 1),
      b: sb.slice(0, at + 1),
      op: stepWords(steps[at] as Step, b, 'default'),
      // formatOutcome, not outcomeWords: a capability's difference is in its `ret`.
      aSays: `${formatOutcome((sa[at] as SideOutcome).outcome)} [${(sa[at] as SideOutcome).rule.id}]`,
      bSays: `${formatOutcome((sb[at] as SideOutcome).outcome)} [${(sb[at] as SideOutcome).rule.id}]`,
    });
  }
  return out;
}
