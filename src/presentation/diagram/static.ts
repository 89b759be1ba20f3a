/**
 * Static diagrams of the real XState machine definitions (machines/page.ts, guestMemfd.ts, vm.ts), built for a
 * profile: the page machine is created from the profile's PageRules for a VM type and flag set, exactly as
 * World.pageRules does, then walked state node by state node. Each transition is labelled with the operation
 * that sends its event, in ABI words, and its guard in words; a transition the bounded search (reachable.ts)
 * never saw taken is marked `unreachable`, and so is one whose guard is false under the profile's rules.
 * Error edges come from page-machine refusals probed on the machine itself and from the ordered check lists of
 * spec/rules.
 */
import type { AnyStateMachine, MachineImplementationsFrom } from 'xstate';
import { guestMemfdMachine } from '../../../machines/guestMemfd.ts';
import { type PageRules, createPageMachine } from '../../../machines/page.ts';
import { vmMachine } from '../../../machines/vm.ts';
import type { VmTypeName } from '../../../spec/constants.ts';
import type { Profile, VmTypeRules } from '../../../spec/profile.ts';
import { setMemoryAttributes2Checks, setMemoryAttributesChecks } from '../../../spec/rules/attributes.ts';
import type { Check } from '../../../spec/rules/check.ts';
import { fallocateChecks } from '../../../spec/rules/fallocate.ts';
import { createGmemChecks } from '../../../spec/rules/gmemFile.ts';
import { memoryRegionChecks } from '../../../spec/rules/memslots.ts';
import { mmapChecks } from '../../../spec/rules/mmap.ts';
import { populateChecks } from '../../../spec/rules/platform.ts';
import { emptySystem } from '../../../spec/state.ts';
import { World } from '../../../spec/world.ts';
import { addFolioRegion, folioEventWords, folioMachineFor, folioPagesFor, folioTaken } from './folio.ts';
import { type Exploration, type Slice, exploreCached, selectSlices } from './reachable.ts';
import { type DEdge, type DGroup, type DNode, type Diagram, type Status, safeId } from './types.ts';
import { GUARD_WORDS, conversionName, gmemEventWords, launchName, pageEventWords, populateName, vmEventWords } from './words.ts';

export type MachineName = 'page' | 'guestMemfd' | 'vm' | 'system';
export const MACHINES: readonly MachineName[] = ['page', 'guestMemfd', 'vm', 'system'];

export interface DiagramOptions {
  /** VM type whose rules draw the page machine; default: the profile's primary VM type. */
  vmType?: VmTypeName;
  /** guest_memfd flags (bit mask); default: every combination the search tried. */
  flags?: number;
  /** Bound of the reachable search. */
  maxDepth?: number;
}

/** The VM type a profile is about: the first with in-place conversion, else with private memory, else the first. */
export function primaryVmType(profile: Profile): VmTypeName {
  const types = Object.keys(profile.vmTypes) as VmTypeName[];
  const r = (t: VmTypeName) => profile.vmTypes[t] as VmTypeRules;
  return types.find((t) => r(t).conversion === 'in-place') ?? types.find((t) => r(t).hasPrivateMem) ?? types[0] ?? 'default';
}

/** PageRules for a VM type and flag set, through World.pageRules (the spec's own derivation). */
export function pageRulesFor(profile: Profile, vmType: VmTypeName, flags: number): PageRules {
  const s = emptySystem();
  s.vms.push({ type: vmType, lifecycle: 'alive', fds: 1, gmemRefs: 1, proc: 0, memslots: [], privateRanges: [], launch: 'none' });
  s.gmems.push({ vm: 0, sizePages: 1, flags, lifecycle: 'open', fds: 1, maps: 0, bindings: [], pages: {} });
  return new World(profile, s).pageRules(0);
}

/** Parse `MMAP,INIT_SHARED` (names of the profile's flags) or a number into a mask. */
export function parseFlags(profile: Profile, text: string): number {
  const t = text.trim();
  if (/^(0x[0-9a-f]+|\d+)$/i.test(t)) return Number(t);
  let mask = 0;
  for (const name of t.split(/[,|+ ]+/).filter(Boolean)) {
    const def = profile.flags.find((f) => f.name.toLowerCase() === name.toLowerCase().replace(/^guest_memfd_flag_/, ''));
    if (!def)
      throw new Error(
        `unknown flag ${JSON.stringify(name)} for profile ${profile.name}; known: ${profile.flags.map((f) => f.name).join(', ')}`,
      );
    mask |= 1 << def.bit;
  }
  return mask;
}

export function flagsText(profile: Profile, flags: number): string {
  const names = profile.flags.filter((f) => flags & (1 << f.bit)).map((f) => f.name);
  return names.length ? names.join('|') : '0';
}

// ---------------------------------------------------------------------------------------------------------
// Guards in words

interface GuardInfo {
  words: string[];
  /** Event-parameter guards (toPrivate, guestPrivate...) that choose the operation's words. */
  params: string[];
  /** true / false when the profile's rules fix the guard's value. */
  constant?: boolean;
  /** Names of rule-constant guards that are false. */
  falseBecause: string[];
}

/** The page machine's guards, by name. */
type PageGuard = keyof NonNullable<MachineImplementationsFrom<ReturnType<typeof createPageMachine>>['guards']>;

/**
 * What decides each guard of the page machine: the event's parameters (the edge is drawn with them), the page's
 * state, or the profile's rules (a function of them: the guard's value, undefined where the state still decides).
 */
const PAGE_GUARDS: Readonly<Record<PageGuard, 'event' | 'state' | ((r: PageRules) => boolean | undefined)>> = {
  toPrivate: 'event',
  toShared: 'event',
  guestPrivate: 'event',
  guestShared: 'event',
  createdShared: 'state',
  isLastMapper: 'state',
  hasMapper: 'state',
  lastPin: 'state',
  startsConversion: 'state',
  trustedEntityHolds: 'state',
  populatable: 'state',
  privateHostMappable: (r) => r.hostMayMapPrivate,
  trustedEntityPrepares: (r) => r.trustedEntityPrepares,
  removesOnAllocate: (r) => r.directMap === 'remove-all',
  removesWhenPrivate: (r) => r.directMap === 'remove-private',
  // Without a reference check nothing refuses; with one, the pins decide.
  noExtraReferences: (r) => (r.conversionChecksRefs ? undefined : true),
  // Where the host may map private pages it may touch any page; elsewhere the attribute decides.
  hostMayAccess: (r) => (r.hostMayMapPrivate ? true : undefined),
  conversionZapsHost: (r) => r.keepsHostMappings !== true,
};

function isPageGuard(name: string): name is PageGuard {
  return Object.hasOwn(PAGE_GUARDS, name);
}

/** A page guard's value under the rules, when they fix it; the other machines' guards are never rule-constant. */
function ruleConstant(name: string, rules: PageRules | undefined): boolean | undefined {
  if (!rules || !isPageGuard(name)) return undefined;
  const decides = PAGE_GUARDS[name];
  return typeof decides === 'function' ? decides(rules) : undefined;
}

interface GuardFn {
  (...a: unknown[]): unknown;
  guards?: unknown[];
  stateValue?: unknown;
}

function stateValueWords(v: unknown): string {
  if (typeof v === 'string') return `in ${v}`;
  if (v && typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} is ${String(x)}`)
      .join(' and ');
  return String(v);
}

function describeGuard(g: unknown, rules: PageRules | undefined): GuardInfo {
  if (g === undefined || g === null) return { words: [], params: [], falseBecause: [] };
  if (typeof g === 'string') {
    if (isPageGuard(g) && PAGE_GUARDS[g] === 'event') return { words: [], params: [g], falseBecause: [] };
    const c = ruleConstant(g, rules);
    const base = GUARD_WORDS[g] ?? g;
    if (c === true) return { words: g === 'hostMayAccess' ? [] : [base], params: [], constant: true, falseBecause: [] };
    if (c === false) return { words: [base], params: [], constant: false, falseBecause: [g] };
    return { words: [base], params: [], falseBecause: [] };
  }
  if (typeof g === 'object' && g !== null && 'type' in g) return describeGuard((g as { type: string }).type, rules);
  if (typeof g === 'function') {
    const f = g as GuardFn;
    if (f.name === 'stateIn') return { words: [stateValueWords(f.stateValue)], params: [], falseBecause: [] };
    if ((f.name === 'and' || f.name === 'or') && Array.isArray(f.guards)) {
      const parts = f.guards.map((x) => describeGuard(x, rules));
      const params = parts.flatMap((p) => p.params);
      if (f.name === 'and') {
        const falseBecause = parts.flatMap((p) => (p.constant === false ? p.falseBecause : []));
        return { words: parts.flatMap((p) => p.words), params, ...(falseBecause.length ? { constant: false } : {}), falseBecause };
      }
      if (parts.some((p) => p.constant === true)) return { words: [], params, constant: true, falseBecause: [] };
      const live = parts.filter((p) => p.constant !== false);
      if (!live.length)
        return {
          words: [
            parts
              .map((p) => p.words.join(' and '))
              .filter(Boolean)
              .join(' or '),
          ],
          params,
          constant: false,
          falseBecause: parts.flatMap((p) => p.falseBecause),
        };
      return {
        words: [
          live
            .map((p) => p.words.join(' and '))
            .filter(Boolean)
            .join(' or '),
        ],
        params,
        falseBecause: [],
      };
    }
    if (f.name === 'not' && Array.isArray(f.guards)) {
      const inner = describeGuard(f.guards[0], rules);
      return { words: [`not (${inner.words.join(' and ')})`], params: inner.params, falseBecause: [] };
    }
    return { words: [f.name || 'guard'], params: [], falseBecause: [] };
  }
  return { words: [String(g)], params: [], falseBecause: [] };
}

// ---------------------------------------------------------------------------------------------------------
// Walking a machine

interface SNode {
  id: string;
  key: string;
  type: string;
  description?: string;
  initial?: { target: SNode[] };
  states: Record<string, SNode>;
  transitions: Map<string, TDef[]>;
  always?: TDef[];
  parent?: SNode;
  machine: AnyStateMachine;
}

interface TDef {
  target?: SNode[];
  guard?: unknown;
  eventType: string;
  source: SNode;
  actions: unknown[];
}

function atomicLeaves(n: SNode): SNode[] {
  const kids = Object.values(n.states);
  return kids.length ? kids.flatMap(atomicLeaves) : [n];
}

function _regionOf(n: SNode, root: SNode): SNode | undefined {
  let x: SNode | undefined = n;
  while (x?.parent && x.parent !== root) x = x.parent;
  return x && x !== root ? x : undefined;
}

export interface WalkContext {
  profile: Profile;
  vmType: VmTypeName;
  rules: VmTypeRules | undefined;
  pageRules?: PageRules;
  /** Edge ids the bounded search saw taken, or undefined when reachability is unknown. */
  taken?: Set<string>;
  words: (event: string, params: string[]) => string;
}

function nodeId(n: SNode): string {
  return safeId(n.id);
}

/** Diagram of a machine definition: regions → groups, atomic states → nodes, transitions → edges. */
export function walkMachine(machine: AnyStateMachine, wc: WalkContext): { groups: DGroup[]; nodes: DNode[]; edges: DEdge[] } {
  const root = machine.root as unknown as SNode;
  const groups: DGroup[] = [];
  const nodes: DNode[] = [];
  const edges: DEdge[] = [];
  const parallel = root.type === 'parallel';
  const regions = parallel ? Object.values(root.states) : [root];
  for (const region of regions) {
    const gid = parallel ? safeId(region.id) : undefined;
    if (gid) groups.push({ id: gid, label: region.key, ...(region.description ? { description: region.description } : {}) });
    const start: DNode = {
      id: `${safeId(region.id)}__start`,
      label: '',
      kind: 'initial',
      status: 'normal',
      ...(gid ? { group: gid } : {}),
    };
    nodes.push(start);
    const init = region.initial?.target?.[0];
    if (init) edges.push({ id: `${region.id}:initial`, from: start.id, to: nodeId(init), op: '', kind: 'always', status: 'normal' });
    for (const leaf of atomicLeaves(region)) {
      const transient = Boolean(leaf.always?.length);
      nodes.push({
        id: nodeId(leaf),
        label: leaf.key,
        kind: leaf.type === 'final' ? 'final' : transient ? 'transient' : 'state',
        status: 'normal',
        ...(gid ? { group: gid } : {}),
        ...(leaf.description ? { description: leaf.description } : {}),
        data: { path: leaf.id },
      });
    }
  }
  const all: SNode[] = [];
  const collect = (n: SNode) => {
    all.push(n);
    for (const c of Object.values(n.states)) collect(c);
  };
  collect(root);
  for (const n of all) {
    (n.always ?? []).forEach((t, i) => {
      const g = describeGuard(t.guard, wc.pageRules);
      const target = t.target?.[0];
      if (!target) return;
      const otherwise = n.always?.[0]?.guard === 'createdShared' ? 'created without INIT_SHARED' : 'otherwise';
      const words = g.words.length ? g.words.join(' and ') : i > 0 ? otherwise : undefined;
      const id = `${n.id}:always:${i}`;
      edges.push({
        id,
        from: nodeId(n),
        to: nodeId(target),
        op: 'at creation',
        ...(words ? { guard: words } : {}),
        kind: 'always',
        status: wc.taken && !wc.taken.has(id) ? 'unreachable' : 'normal',
        source: id,
      });
    });
    for (const [event, list] of n.transitions) {
      list.forEach((t, i) => {
        const g = describeGuard(t.guard, wc.pageRules);
        const target = t.target?.[0];
        const id = `${n.id}:${event}:${i}`;
        let status: Status = 'normal';
        let note: string | undefined;
        if (g.constant === false) {
          status = 'unreachable';
          note = `disabled by the profile's rules: ${g.falseBecause.map((x) => GUARD_WORDS[x] ?? x).join(', ')} is false`;
        } else if (wc.taken && !wc.taken.has(id)) {
          status = 'unreachable';
          note = 'never taken in the bounded search of this profile';
        }
        const actionNames = (t.actions ?? [])
          .map((a) => (typeof a === 'string' ? a : ((a as { type?: string }).type ?? '')))
          .filter(Boolean);
        edges.push({
          id,
          from: nodeId(n),
          to: nodeId(target ?? n),
          op: wc.words(event, g.params),
          ...(g.words.length ? { guard: g.words.join(' and ') } : {}),
          kind: target && target !== n ? 'transition' : 'self',
          status,
          source: id,
          ...(note ? { note } : {}),
          ...(actionNames.length && !target ? { note: note ? `${note}; ${actionNames.join(', ')}` : actionNames.join(', ') } : {}),
        });
      });
    }
  }
  return { groups, nodes, edges };
}

// ---------------------------------------------------------------------------------------------------------
// Error edges

function errnosInOrder<C>(checks: readonly Check<C>[]): string {
  const seen: string[] = [];
  for (const c of checks) if (!seen.includes(c.errno)) seen.push(c.errno);
  return seen.join('/');
}

function errorNode(nodes: DNode[], errno: string): string {
  const id = `err_${safeId(errno)}`;
  if (!nodes.some((n) => n.id === id)) nodes.push({ id, label: errno, kind: 'error', status: 'normal' });
  return id;
}

function ruleSeen(slices: readonly Slice[], rule: string): boolean {
  return slices.some((s) => [...s.rules.values()].some((m) => m.has(rule)));
}

/** Whether the page machine accepts an event in a representative snapshot with the given region values. */
function pageCan(
  machine: AnyStateMachine,
  value: Record<string, string>,
  context: Record<string, unknown>,
  event: { type: string; [k: string]: unknown },
): boolean {
  const base = {
    attribute: 'shared',
    backing: 'hole',
    hostMapping: 'unmapped',
    pins: 'unpinned',
    trustedEntity: 'unprepared',
    directMap: 'present',
    stage2: 'none',
  };
  const snap = machine.resolveState({
    value: { ...base, ...value },
    context: { initShared: true, content: 0, bytes: {}, hostMappers: [], pins: 0, ...context },
  } as never);
  return snap.can(event as never);
}

interface ErrorSpec {
  from: string;
  op: string;
  guard?: string;
  errno: string;
  rule: string;
  note?: string;
}

function pageErrorEdges(
  profile: Profile,
  vmType: VmTypeName,
  machine: AnyStateMachine,
  slices: readonly Slice[],
  nodes: DNode[],
  edges: DEdge[],
): void {
  const r = profile.vmTypes[vmType];
  const specs: ErrorSpec[] = [];
  const sig = r?.privateHostAccess ?? 'SIGBUS';
  for (const a of ['private', 'toPrivate', 'toShared']) {
    if (!pageCan(machine, { attribute: a }, {}, { type: 'HOST_FAULT', mapper: 0 })) {
      specs.push({ from: `page.attribute.${a}`, op: 'host fault (mmap access)', errno: sig, rule: 'access.private' });
    }
    if (!pageCan(machine, { attribute: a }, {}, { type: 'PIN' })) {
      specs.push({ from: `page.attribute.${a}`, op: 'long-term GUP pin', errno: 'EFAULT', rule: 'pin.private' });
    }
  }
  if (!pageCan(machine, { attribute: 'toPrivate', pins: 'pinned' }, { pins: 1 }, { type: 'CONVERT_COMMIT' })) {
    specs.push({
      from: 'page.attribute.toPrivate',
      op: `${conversionName(profile, r, 'private')}: commit`,
      guard: 'page pinned',
      errno: 'EAGAIN (error_offset)',
      rule: 'set_memory_attributes2.elevated-refcount',
      note: 'the conversion stops at the first pinned page; nothing from there on changes',
    });
  }
  if (r && r.populate !== 'none') {
    specs.push({
      from: 'page.attribute.shared',
      op: populateName(r),
      guard: 'destination shared',
      errno: 'EINVAL',
      rule: 'populate.not-private',
      note: 'populate expects private destinations (seed 001)',
    });
    for (const te of ['prepared', 'populated'])
      specs.push({ from: `page.trustedEntity.${te}`, op: populateName(r), errno: 'EEXIST', rule: 'populate.already-prepared' });
  }
  // Operation-level refusals, in check order, from each region the operation acts on.
  const convOp = r?.conversion === 'vm-attributes' ? 'set_memory_attributes' : 'set_memory_attributes2';
  if (convOp === 'set_memory_attributes2') {
    const inPlace = r?.conversion === 'in-place' && profile.gmemAttributes !== undefined;
    specs.push({
      from: 'page.attribute',
      op: 'KVM_SET_MEMORY_ATTRIBUTES2',
      errno: inPlace ? errnosInOrder(setMemoryAttributes2Checks()) : 'ENOTTY',
      rule: inPlace ? 'set_memory_attributes2.*' : 'set_memory_attributes2.no-in-place',
      note: inPlace
        ? `checks in order: ${setMemoryAttributes2Checks()
            .map((c) => c.id.split('.')[1])
            .join(', ')}`
        : 'no in-place conversion on this VM type / kernel: the guest_memfd has no ioctls',
    });
  } else {
    specs.push({
      from: 'page.attribute',
      op: 'KVM_SET_MEMORY_ATTRIBUTES',
      errno: errnosInOrder(setMemoryAttributesChecks()),
      rule: 'set_memory_attributes.*',
      note: `checks in order: ${setMemoryAttributesChecks()
        .map((c) => c.id.split('.')[1])
        .join(', ')}`,
    });
  }
  specs.push({
    from: 'page.backing',
    op: 'fallocate',
    errno: errnosInOrder(fallocateChecks()),
    rule: 'fallocate.*',
    note: `checks in order: ${fallocateChecks()
      .map((c) => c.id.split('.')[1])
      .join(', ')}`,
  });
  specs.push({
    from: 'page.hostMapping',
    op: 'host access',
    guard: 'outside the mapping / forbidden by prot',
    errno: 'SIGSEGV',
    rule: 'access.outside-mapping',
  });
  specs.push({ from: 'page.hostMapping', op: 'host access', guard: 'at or past EOF', errno: 'SIGBUS', rule: 'access.past-eof' });
  specs.push({ from: 'page.pins', op: 'long-term GUP pin', guard: 'unmapped / past EOF', errno: 'EFAULT', rule: 'pin.no-mapping' });
  if (r && r.populate !== 'none') {
    specs.push({
      from: 'page.trustedEntity',
      op: populateName(r),
      errno: errnosInOrder(populateChecks()),
      rule: 'populate.*',
      note: `checks in order: ${populateChecks()
        .map((c) => c.id.split('.')[1])
        .join(', ')}`,
    });
  } else {
    specs.push({
      from: 'page.trustedEntity',
      op: 'populate',
      errno: 'EINVAL',
      rule: 'populate.no-populate-flow',
      note: 'this VM type has no populate flow',
    });
  }
  for (const s of specs) {
    const wild = s.rule.endsWith('.*');
    const seen =
      wild ||
      [
        'access.outside-mapping',
        'access.past-eof',
        'pin.no-mapping',
        'set_memory_attributes2.no-in-place',
        'populate.no-populate-flow',
      ].includes(s.rule) ||
      ruleSeen(slices, s.rule);
    edges.push({
      id: `${s.from}:error:${s.rule}:${s.op}`,
      from: safeId(s.from),
      to: errorNode(nodes, s.errno),
      op: s.op,
      ...(s.guard ? { guard: s.guard } : {}),
      errno: s.errno,
      kind: 'error',
      status: seen ? 'normal' : 'unreachable',
      source: s.rule,
      ...(s.note || !seen
        ? { note: [s.note, seen ? undefined : 'never seen in the bounded search of this profile'].filter(Boolean).join('; ') }
        : {}),
    });
  }
}

function lifecycleErrorEdges(machine: 'guestMemfd' | 'vm', nodes: DNode[], edges: DEdge[]): void {
  const add = (from: string, op: string, errno: string, rule: string, note: string) =>
    edges.push({
      id: `${from}:error:${rule}`,
      from,
      to: errorNode(nodes, errno),
      op,
      errno,
      kind: 'error',
      status: 'normal',
      source: rule,
      note,
    });
  if (machine === 'guestMemfd') {
    add(
      `${safeId('guestMemfd')}__start`,
      'KVM_CREATE_GUEST_MEMFD',
      errnosInOrder(createGmemChecks()),
      'create_gmem.*',
      `checks in order: ${createGmemChecks()
        .map((c) => c.id.split('.')[1])
        .join(', ')}`,
    );
    add(
      safeId('guestMemfd.open'),
      'mmap',
      errnosInOrder(mmapChecks()),
      'mmap.*',
      `checks in order: ${mmapChecks()
        .map((c) => c.id.split('.')[1])
        .join(', ')}`,
    );
    add(
      safeId('guestMemfd.open'),
      'KVM_SET_USER_MEMORY_REGION2(GUEST_MEMFD)',
      errnosInOrder(memoryRegionChecks()),
      'set_memory_region2.*',
      `checks in order: ${memoryRegionChecks()
        .map((c) => c.id.split('.')[1])
        .join(', ')}`,
    );
    add(
      safeId('guestMemfd.released'),
      'guest fault on a bound slot',
      'KVM_EXIT_MEMORY_FAULT',
      'guest_access.gmem-gone',
      'the slot lost its file (a private fault, or any fault on a GMEM_ONLY slot): KVM_RUN fails with EFAULT and exit_reason KVM_EXIT_MEMORY_FAULT; pre-fault and populate get EFAULT',
    );
  } else {
    add(safeId('vm.launch.none'), 'populate', 'EINVAL', 'populate.not-launching', 'populate only between launch start and finish');
    add(safeId('vm.launch.finished'), 'populate', 'EINVAL', 'populate.not-launching', 'the measurement is sealed');
  }
}

// ---------------------------------------------------------------------------------------------------------

function takenFor(x: Exploration, machineId: string, vmType: VmTypeName | undefined, flags: number | undefined): Set<string> {
  const out = new Set<string>();
  for (const s of selectSlices(x, vmType, flags)) for (const e of s.taken.get(machineId) ?? []) out.add(e);
  return out;
}

function subtitle(profile: Profile, vmType: VmTypeName | undefined, flags: number | undefined, x: Exploration): string[] {
  return [
    `profile ${profile.name}: ${profile.title}`,
    `${vmType ? `VM type ${vmType}` : 'every VM type'}; guest_memfd flags ${flags === undefined ? 'any accepted' : flagsText(profile, flags)}`,
    `reachability: bounded search, ${x.maxDepth} operations deep, ${x.states.length} states${x.truncated ? ' (truncated)' : ''}`,
  ];
}

const LEGEND = [
  'solid: a transition the profile takes; dashed grey: never taken under this profile (bounded search) or disabled by its rules',
  'red edges to red boxes: refusals, naming the errno, signal or exit the caller sees',
];

export function pageDiagram(profile: Profile, o: DiagramOptions = {}): Diagram {
  const vmType = o.vmType ?? primaryVmType(profile);
  if (!profile.vmTypes[vmType])
    throw new Error(`profile ${profile.name} has no VM type ${vmType}; it has ${Object.keys(profile.vmTypes).join(', ')}`);
  const x = exploreCached(profile, o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {});
  const accepted = selectSlices(x, vmType, o.flags).filter((s) => s.create.outcome === 'ok');
  const drawFlags = o.flags ?? accepted.map((s) => s.flags).sort((a, b) => b - a)[0] ?? 0;
  const pageRules = pageRulesFor(profile, vmType, drawFlags);
  const machine = createPageMachine(pageRules);
  const rules = profile.vmTypes[vmType];
  const taken = takenFor(x, 'page', vmType, o.flags);
  // The transient `created` state resolves at creation: mark its branches by the flag sets the search created.
  const initShared = (f: number) => profile.flags.some((d) => f & (1 << d.bit) && d.effects.initShared);
  if (accepted.some((s) => initShared(s.flags))) taken.add('page.attribute.created:always:0');
  if (accepted.some((s) => !initShared(s.flags))) taken.add('page.attribute.created:always:1');
  const wc: WalkContext = { profile, vmType, rules, pageRules, taken, words: (e, p) => pageEventWords(e, { profile, vmType, rules }, p) };
  const { groups, nodes, edges } = walkMachine(machine, wc);
  pageErrorEdges(profile, vmType, machine, selectSlices(x, vmType, o.flags), nodes, edges);
  const folioPages = folioPagesFor(profile, drawFlags);
  if (folioPages > 1) {
    const fwc: WalkContext = {
      profile,
      vmType,
      rules,
      taken: folioTaken(x, vmType, o.flags),
      words: (e) => folioEventWords(profile, vmType, e),
    };
    addFolioRegion(
      walkMachine(folioMachineFor(pageRules), fwc),
      folioPages,
      pageRules.folio?.neverSplit ?? false,
      profile,
      vmType,
      selectSlices(x, vmType, o.flags),
      { groups, nodes, edges },
    );
  }
  const ruleLine = `page rules: host may map private ${pageRules.hostMayMapPrivate ? 'yes' : 'no'}; conversion checks references ${pageRules.conversionChecksRefs ? 'yes' : 'no'}; content on conversion to private ${pageRules.conversionContent.toPrivate}, to shared ${pageRules.conversionContent.toShared}; direct map ${pageRules.directMap}; trusted entity prepares ${pageRules.trustedEntityPrepares ? 'yes' : 'no'}`;
  return {
    machine: 'page',
    title: `guest_memfd page — ${profile.name}`,
    subtitle: [...subtitle(profile, vmType, o.flags, x), ruleLine],
    groups,
    nodes,
    edges,
    notes: [
      ...LEGEND,
      `conversion on ${vmType}: ${rules?.conversion ?? 'none'}${rules?.conversion === 'vm-attributes' ? ' (per-VM attributes: guest_memfd pages stay private; shared memory lives elsewhere)' : ''}`,
    ],
    xstate: xstateConfig(machine, wc, edges),
  };
}

export function lifecycleDiagram(profile: Profile, which: 'guestMemfd' | 'vm', o: DiagramOptions = {}): Diagram {
  const vmType = o.vmType ?? primaryVmType(profile);
  const x = exploreCached(profile, o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {});
  const machine = (which === 'guestMemfd' ? guestMemfdMachine : vmMachine) as unknown as AnyStateMachine;
  const rules = profile.vmTypes[vmType];
  const taken = takenFor(x, which, vmType, o.flags);
  const wc: WalkContext = {
    profile,
    vmType,
    rules,
    taken,
    words: (e) => (which === 'guestMemfd' ? gmemEventWords(e) : vmEventWords(e, rules)),
  };
  const { groups, nodes, edges } = walkMachine(machine, wc);
  lifecycleErrorEdges(which, nodes, edges);
  if (which === 'vm' && rules && !rules.launch) {
    // RUN is the one launch-region event such a VM takes (its vCPU runs at any time); the search decides it.
    for (const e of edges)
      if (e.source?.startsWith('vm.launch.') && !e.source.includes(':RUN:') && e.kind !== 'error') {
        e.status = 'unreachable';
        e.note = `VM type ${vmType} has no launch flow`;
      }
  }
  return {
    machine: which,
    title: `${which === 'vm' ? 'VM' : 'guest_memfd file'} lifecycle — ${profile.name}`,
    subtitle: [
      ...subtitle(profile, vmType, o.flags, x),
      which === 'vm'
        ? `launch: ${rules?.launch ? `${launchName(rules, 'start')} → ${populateName(rules)}* → ${launchName(rules, 'finish')}` : 'none'}`
        : 'fds and mappings hold the file, memslot bindings do not (§2.13); the last reference releases it and bound slots lose it (§2.12)',
    ],
    groups,
    nodes,
    edges,
    notes: [
      ...LEGEND,
      'the bounded search closes the guest_memfd fd once (not the VM fd, nor dup / fork): edges it never takes are drawn from the machine, dashed',
    ],
    xstate: xstateConfig(machine, wc, edges),
  };
}

// ---------------------------------------------------------------------------------------------------------
// XState / Stately-compatible configuration

function guardName(g: unknown): string | undefined {
  if (g === undefined || g === null) return undefined;
  if (typeof g === 'string') return g;
  if (typeof g === 'object' && 'type' in (g as object)) return String((g as { type: unknown }).type);
  if (typeof g === 'function') {
    const f = g as GuardFn;
    if (f.name === 'stateIn') return `stateIn(${JSON.stringify(f.stateValue)})`;
    if (Array.isArray(f.guards)) return `${f.name}(${f.guards.map(guardName).join(', ')})`;
    return f.name || 'guard';
  }
  return String(g);
}

/** The machine as an XState config (guards by name, ABI words and reachability in `meta`), importable by Stately. */
export function xstateConfig(machine: AnyStateMachine, wc: WalkContext, edges: readonly DEdge[]): Record<string, unknown> {
  const byId = new Map(edges.map((e) => [e.id, e]));
  const errorsFrom = new Map<string, DEdge[]>();
  for (const e of edges) if (e.kind === 'error') errorsFrom.set(e.from, [...(errorsFrom.get(e.from) ?? []), e]);
  const conv = (n: SNode): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    if (n.type === 'parallel') out.type = 'parallel';
    if (n.type === 'final') out.type = 'final';
    if (n.description) out.description = n.description;
    const init = n.initial?.target?.[0];
    if (init && n.type !== 'parallel') out.initial = init.key;
    if (n.always?.length) {
      out.always = n.always.map((t, i) => {
        const g = guardName(t.guard);
        return {
          target: t.target?.[0] ? `#${t.target[0].id}` : undefined,
          ...(g ? { guard: g } : {}),
          meta: { status: byId.get(`${n.id}:always:${i}`)?.status ?? 'normal' },
        };
      });
    }
    const on: Record<string, unknown[]> = {};
    for (const [event, list] of n.transitions) {
      on[event] = list.map((t, i) => {
        const e = byId.get(`${n.id}:${event}:${i}`);
        const g = guardName(t.guard);
        return {
          ...(t.target?.[0] ? { target: `#${t.target[0].id}` } : {}),
          ...(g ? { guard: g } : {}),
          meta: {
            abi: e?.op,
            ...(e?.guard ? { guardWords: e.guard } : {}),
            status: e?.status ?? 'normal',
            ...(e?.note ? { note: e.note } : {}),
          },
        };
      });
    }
    if (Object.keys(on).length) out.on = on;
    const errs = errorsFrom.get(safeId(n.id));
    const meta: Record<string, unknown> = {};
    if (errs)
      meta.errors = errs.map((e) => ({
        op: e.op,
        ...(e.guard ? { guard: e.guard } : {}),
        errno: e.errno,
        rule: e.source,
        status: e.status,
      }));
    if (Object.keys(meta).length) out.meta = meta;
    const kids = Object.values(n.states);
    if (kids.length) out.states = Object.fromEntries(kids.map((k) => [k.key, conv(k)]));
    return out;
  };
  const root = machine.root as unknown as SNode;
  const cfg = conv(root);
  return { id: machine.id, ...cfg, meta: { ...(cfg.meta as object | undefined), profile: wc.profile.name, vmType: wc.vmType } };
}
