/**
 * The finite operation set the explorer tries in each state: each operation's probe values (the `probes` facet
 * of its module in spec/ops/, typed in spec/ops/probes.ts), collected per object of the state in the order their
 * ranks give. Each module documents its equivalence classes; together (per object):
 *   create_vm       each VM type of the profile; an unknown type (99)
 *   create_gmem     size = bound.pages pages with each accepted flag combination; size 0; size 4095;
 *                   an unsupported flag bit (the first bit the VM type does not accept)
 *   mmap            offset 0, length pages+1 (one page past EOF), rw, MAP_SHARED; MAP_PRIVATE; PROT_EXEC; offset 1
 *   host access     read / write (value 1) of each page; read of the page past EOF
 *   fallocate       punch / allocate each page (and each huge folio); mode 0; PUNCH without KEEP_SIZE; unknown bit 0x04;
 *                   unaligned offset; len 0; allocate at EOF; end past 2^63-1
 *   memslots        bind the whole file at a fresh GPA; unaligned gmem offset; LOG_DIRTY with gmem;
 *                   a second slot on a bound range; a GPA overlap; delete each slot; delete a missing slot
 *   attributes      per page to private / shared (where the profile converts); one probe where it cannot
 *   pins            pin / unpin each page (up to bound.pins live pins)
 *   file ops        fstat, ftruncate, read, pread on each open guest_memfd fd
 *   userfaultfd     register the file's pages MINOR / MISSING, continue each page (profiles that model
 *                   userfaultfd); an unaligned and an out-of-mapping register, an unaligned continue (where
 *                   registration works)
 *   platform        launch start / finish, populate each bound page, guest access (private / shared) to each
 *                   bound page, guest conversion requests — only in profiles with private memory
 */
import type { VmTypeName } from '../constants.ts';
import type { Step } from '../ops.ts';
import { OPS } from '../ops/index.ts';
import { type AnyProbe, type Named, PAGE, type ProbeBase, type ProbeScope, type ProbeScopes, type VmScope } from '../ops/probes.ts';
import type { Profile } from '../profile.ts';
import type { SystemState } from '../state.ts';
import type { Bound } from './bound.ts';

export { flagCombinations } from '../ops/probes.ts';

/** The objects a group of scopes runs once for: the state itself, or each object of one kind. */
type Group = 'kvm' | 'vm' | 'gmem' | 'map' | 'pin';
const GROUP: Readonly<Record<ProbeScope, Group>> = {
  kvm: 'kvm',
  vm: 'vm',
  vmGmem: 'vm',
  vmSlot: 'vm',
  vmPage: 'vm',
  gmem: 'gmem',
  map: 'map',
  pin: 'pin',
};
const GROUPS: readonly Group[] = ['kvm', 'vm', 'gmem', 'map', 'pin'];

/** The context a scope's values are drawn in, from its group's object: a VM's sub-scopes run per child object. */
type Parent<S extends ProbeScope> = S extends 'vm' | 'vmGmem' | 'vmSlot' | 'vmPage' ? VmScope : ProbeScopes[S];
const EXPAND: { readonly [S in ProbeScope]: (c: Parent<S>) => readonly ProbeScopes[S][] } = {
  kvm: (c) => [c],
  vm: (c) => [c],
  vmGmem: (c) => c.gmems.map((g) => ({ ...c, g })),
  vmSlot: (c) => c.v.memslots.map((slot) => ({ ...c, slot })),
  vmPage: (c) => c.v.memslots.flatMap((m) => Array.from({ length: m.npages }, (_, i) => ({ ...c, gpa: (m.gfn + i) * PAGE }))),
  gmem: (c) => [c],
  map: (c) => [c],
  pin: (c) => [c],
};

/** Consecutive probes of one scope, run together for each of its objects. */
interface Run<S extends ProbeScope> {
  scope: S;
  values: AnyProbe<S>['values'][];
}
type AnyRun = { [S in ProbeScope]: Run<S> }[ProbeScope];

/** Every op's probes, by group, in rank order (ties in the registry's order), cut into runs of one scope. */
function schedule(): Readonly<Record<Group, readonly AnyRun[]>> {
  const entries: Array<{ scope: ProbeScope; rank: number; at: number; values: AnyProbe<ProbeScope>['values'] }> = [];
  Object.values(OPS).forEach((m, at) => {
    if ('none' in m.probes) return;
    for (const [scope, probes] of Object.entries(m.probes) as Array<[ProbeScope, AnyProbe<ProbeScope> | AnyProbe<ProbeScope>[]]>)
      for (const probe of Array.isArray(probes) ? probes : [probes]) entries.push({ scope, rank: probe.rank, at, values: probe.values });
  });
  entries.sort((a, b) => a.rank - b.rank || a.at - b.at);
  const out: Record<Group, AnyRun[]> = { kvm: [], vm: [], gmem: [], map: [], pin: [] };
  for (const e of entries) {
    const runs = out[GROUP[e.scope]];
    const last = runs.at(-1);
    if (last?.scope === e.scope) last.values.push(e.values);
    else runs.push({ scope: e.scope, values: [e.values] } as AnyRun);
  }
  return out;
}
let SCHEDULE: ReturnType<typeof schedule> | undefined;

function runAll(runs: readonly AnyRun[], parent: ProbeBase, ev: Step[]): void {
  for (const run of runs) {
    const children = (EXPAND[run.scope] as (c: ProbeBase) => readonly ProbeBase[])(parent);
    for (const c of children) for (const values of run.values as Array<(c: ProbeBase) => Step[]>) for (const st of values(c)) ev.push(st);
  }
}

function openNames(s: SystemState, kind: 'vm' | 'gmem'): Named[] {
  const out: Named[] = [];
  for (const name of Object.keys(s.names).sort()) {
    const r = s.names[name];
    if (!r || !('fd' in r)) continue;
    const fd = s.fds[r.fd];
    if (fd?.open && fd.kind === kind && fd.proc === s.proc) out.push({ name, id: fd.id });
  }
  return out;
}

function liveMaps(s: SystemState): Named[] {
  const out: Named[] = [];
  for (const name of Object.keys(s.names).sort()) {
    const r = s.names[name];
    if (r && 'map' in r && s.maps[r.map]?.live) out.push({ name, id: r.map });
  }
  return out;
}

/** The objects of each group in a state, each as the context its scopes are drawn in. */
function objects(base: ProbeBase, group: Group): ProbeBase[] {
  const s = base.s;
  switch (group) {
    case 'kvm':
      return [base];
    case 'vm': {
      const gmems = openNames(s, 'gmem');
      const out: VmScope[] = [];
      for (const vm of openNames(s, 'vm')) {
        const v = s.vms[vm.id];
        if (!v) continue;
        const slotIds = new Set(v.memslots.map((m) => m.slot));
        let nextSlot = 0;
        while (slotIds.has(nextSlot)) nextSlot++;
        const own = gmems.filter((g) => (s.gmems[g.id]?.vm ?? -1) === vm.id);
        out.push({ ...base, vm, v, rules: base.profile.vmTypes[v.type], gmems: own, nextSlot });
      }
      return out;
    }
    case 'gmem': {
      const maps = liveMaps(s);
      return openNames(s, 'gmem').map((g): ProbeScopes['gmem'] => ({ ...base, g, maps }));
    }
    case 'map': {
      const livePins = s.pins.filter((p) => p.live);
      return liveMaps(s).map((m): ProbeScopes['map'] => ({ ...base, m, livePins }));
    }
    case 'pin': {
      const names = Object.keys(s.names).sort();
      return s.pins
        .filter((p) => p.live)
        .map((p): ProbeScopes['pin'] => ({
          ...base,
          p,
          map: names.find((n) => {
            const r = s.names[n];
            return r !== undefined && 'map' in r && r.map === p.map;
          }),
        }));
    }
  }
}

export function eventsFor(profile: Profile, bound: Bound, s: SystemState): Step[] {
  SCHEDULE ??= schedule();
  const types = Object.keys(profile.vmTypes) as VmTypeName[];
  const base: ProbeBase = { profile, bound, s, size: bound.pages * PAGE, platform: types.some((t) => profile.vmTypes[t]?.hasPrivateMem) };
  const ev: Step[] = [];
  for (const group of GROUPS) for (const parent of objects(base, group)) runAll(SCHEDULE[group], parent, ev);
  return ev;
}
