/**
 * Dead-rule report: what the machines and rules define that no explored path reached.
 *
 *  - page machine states: every leaf state of every region of machines/page.ts (read from its XState
 *    definition), against the region values of every page of every reached state;
 *  - page machine transitions that change a region's state (source ≠ target), against the changes observed on
 *    the explored edges (transitions that only run actions, e.g. HOST_WRITE in `initialised`, leave no trace in
 *    the state and are not tracked);
 *  - operations of the vocabulary (spec/opSchema.ts): never tried by the explorer (outside its event set), or
 *    tried and never successful in this profile;
 *  - failure conditions of the ordered check lists (spec/rules): never the deciding check on any edge.
 *
 * Something listed here is either impossible under the profile (a guard that is constant for its rules: e.g.
 * NO_DIRECT_MAP's transitions in a profile without the flag), outside the bound or the explorer's vocabulary,
 * or a dead rule — a bug. The report says which kind where it can tell.
 */
import { type PageRules, UPSTREAM_PAGE_RULES, createPageMachine } from '../../machines/page.ts';
import { OP_NAMES } from '../../spec/opSchema.ts';
import { setMemoryAttributes2Checks, setMemoryAttributesChecks } from '../../spec/rules/attributes.ts';
import { fallocateChecks } from '../../spec/rules/fallocate.ts';
import { createGmemChecks } from '../../spec/rules/gmemFile.ts';
import { memoryRegionChecks } from '../../spec/rules/memslots.ts';
import { mmapChecks } from '../../spec/rules/mmap.ts';
import { populateChecks } from '../../spec/rules/platform.ts';
import type { Coverage } from './partition.ts';

export interface MachineTransition {
  region: string;
  from: string;
  to: string;
  events: string[];
  guards: string[];
}

export interface DeadRuleReport {
  pageStatesTotal: number;
  pageStatesUnreached: string[];
  pageTransitionsTotal: number;
  pageTransitionsUnreached: MachineTransition[];
  opsNotExplored: string[];
  opsNeverSucceeded: string[];
  checksTotal: number;
  checksNeverDecided: Array<{ id: string; says: string }>;
}

/** Transient states (an `always` transition leaves them at once) are not resting states. */
function isTransient(node: { always?: unknown[] }): boolean {
  return Array.isArray(node.always) && node.always.length > 0;
}

function guardName(g: unknown): string {
  if (!g) return '';
  if (typeof g === 'string') return g;
  if (typeof g === 'function') return g.name || 'inline';
  if (typeof g === 'object' && g !== null && 'type' in g) return String((g as { type: unknown }).type);
  return 'guard';
}

/** The page machine's leaf states and state-changing transitions, from its XState definition. */
export function pageMachineUniverse(rules: PageRules = UPSTREAM_PAGE_RULES): { states: string[]; transitions: MachineTransition[] } {
  const m = createPageMachine(rules);
  const states: string[] = [];
  const byKey = new Map<string, MachineTransition>();
  for (const [rk, region] of Object.entries(m.root.states)) {
    for (const [sk, node] of Object.entries(region.states)) {
      if (isTransient(node as { always?: unknown[] })) continue;
      states.push(`${rk}=${sk}`);
      for (const [ev, defs] of node.transitions) {
        for (const d of defs) {
          const target = d.target?.[0]?.key;
          if (!target || target === sk) continue;
          const k = `${rk}: ${sk} → ${target}`;
          const t = byKey.get(k) ?? { region: rk, from: sk, to: target, events: [], guards: [] };
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

/** The failure conditions of the ordered check lists the rules evaluate. */
export function checkListIds(): Array<{ id: string; says: string }> {
  const lists = [createGmemChecks(), mmapChecks(), memoryRegionChecks(), setMemoryAttributesChecks(), setMemoryAttributes2Checks(), fallocateChecks(), populateChecks()];
  const seen = new Set<string>();
  const out: Array<{ id: string; says: string }> = [];
  for (const l of lists) {
    for (const c of l as ReadonlyArray<{ id: string; says: string }>) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      out.push({ id: c.id, says: c.says });
    }
  }
  return out;
}

export function deadRules(c: Coverage): DeadRuleReport {
  const u = pageMachineUniverse();
  const values = new Set(c.pageValues);
  const changes = new Set(c.pageTransitions);
  const checks = checkListIds();
  return {
    pageStatesTotal: u.states.length,
    pageStatesUnreached: u.states.filter((s) => !values.has(s)),
    pageTransitionsTotal: u.transitions.length,
    pageTransitionsUnreached: u.transitions.filter((t) => !changes.has(`${t.region}: ${t.from} → ${t.to}`)),
    opsNotExplored: OP_NAMES.filter((op) => !c.ops[op]),
    opsNeverSucceeded: OP_NAMES.filter((op) => c.ops[op] && (c.ops[op] as [number, number])[1] === 0),
    checksTotal: checks.length,
    checksNeverDecided: checks.filter((k) => !c.rules[k.id]),
  };
}
