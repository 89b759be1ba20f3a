/**
 * Which states and transitions of the XState machines (machines/page.ts, guestMemfd.ts, vm.ts) an exploration
 * actually takes. Every step tells the machine observer it is given (machines/bridge.ts) of each event a
 * machine accepts, with the part's state before and after; the checker (partition.ts) turns that into each
 * region's value before and after. Intermediate states that a single operation passes through (a conversion's
 * `toShared` between CONVERT_BEGIN and CONVERT_COMMIT) are seen too, which comparing states before and after
 * whole operations would miss.
 *
 * The universe to compare against is read from the machine definitions themselves: every leaf state of every
 * region, and every transition that changes a region's state (source ≠ target). Transitions that only run
 * actions (HOST_WRITE in `initialised`) leave no trace in the value and are not counted.
 */
import type { AnyStateMachine, StateValue } from 'xstate';
import { guestMemfdMachine } from '../../machines/guestMemfd.ts';
import { UPSTREAM_PAGE_RULES, createPageMachine } from '../../machines/page.ts';
import { vmMachine } from '../../machines/vm.ts';

export interface MachineTransition {
  machine: string;
  region: string;
  from: string;
  to: string;
  events: string[];
  guards: string[];
}

export interface MachineUniverse {
  /** `machine region=state` */
  states: string[];
  transitions: MachineTransition[];
}

/** A state value as region → leaf state: parallel machines by region, others as one region named `state`. */
export function regionsOf(value: StateValue): Record<string, string> {
  if (typeof value === 'string') return { state: value };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (v) for (const [k2, v2] of Object.entries(regionsOf(v))) out[k2 === 'state' ? k : `${k}.${k2}`] = v2;
  }
  return out;
}

function guardName(g: unknown): string {
  if (!g) return '';
  if (typeof g === 'string') return g;
  if (typeof g === 'function') return g.name || 'inline';
  if (typeof g === 'object' && g !== null && 'type' in g) return String((g as { type: unknown }).type);
  return 'guard';
}

interface NodeLike {
  key: string;
  type: string;
  states: Record<string, NodeLike>;
  transitions: Map<string, Array<{ target?: Array<{ key: string }>; guard?: unknown }>>;
  always?: unknown[];
}

function universeOf(machine: AnyStateMachine): MachineUniverse {
  const root = machine.root as unknown as NodeLike;
  const regions: Array<[string, NodeLike]> = root.type === 'parallel' ? Object.entries(root.states) : [['state', root]];
  const states: string[] = [];
  const byKey = new Map<string, MachineTransition>();
  for (const [rk, region] of regions) {
    for (const [sk, node] of Object.entries(region.states)) {
      if (Array.isArray(node.always) && node.always.length) continue; // transient: never a resting value
      states.push(`${machine.id} ${rk}=${sk}`);
      for (const [ev, defs] of node.transitions) {
        for (const d of defs) {
          const target = d.target?.[0]?.key;
          if (!target || target === sk) continue;
          const k = `${machine.id} ${rk}: ${sk} → ${target}`;
          const t = byKey.get(k) ?? { machine: machine.id, region: rk, from: sk, to: target, events: [], guards: [] };
          if (!t.events.includes(ev)) t.events.push(ev);
          const gn = guardName(d.guard);
          if (gn && !t.guards.includes(gn)) t.guards.push(gn);
          byKey.set(k, t);
        }
      }
    }
  }
  return { states, transitions: [...byKey.values()] };
}

/** The page, guestMemfd and vm machines' states and state-changing transitions. */
export function machineUniverse(): MachineUniverse {
  const parts = [createPageMachine(UPSTREAM_PAGE_RULES), guestMemfdMachine, vmMachine].map(universeOf);
  return { states: parts.flatMap((p) => p.states), transitions: parts.flatMap((p) => p.transitions) };
}

export function transitionKey(t: Pick<MachineTransition, 'machine' | 'region' | 'from' | 'to'>): string {
  return `${t.machine} ${t.region}: ${t.from} → ${t.to}`;
}
