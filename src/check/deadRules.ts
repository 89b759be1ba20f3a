/**
 * Dead-rule report: what the machines and rules define that no explored path reached.
 *
 *  - machine states: every leaf state of every region of the page, guestMemfd and vm machines (read from their
 *    XState definitions), against the states reached (src/check/machineCoverage.ts);
 *  - machine transitions that change a region's state (source ≠ target), against the ones steps took;
 *  - operations of the vocabulary (spec/opSchema.ts): never tried by the explorer (outside its event set), or
 *    tried and never successful in this profile;
 *  - failure conditions of the ordered check lists (spec/rules): never the deciding check on any edge.
 *
 * Something listed here is impossible under the profile (a guard that is constant for its rules: NO_DIRECT_MAP's
 * transitions in a profile without the flag, conversions where nothing converts), outside the bound or the
 * explorer's event set, or a dead rule — a bug. The guards are printed to help tell which.
 */
import { OP_NAMES } from '../../spec/opSchema.ts';
import { setMemoryAttributes2Checks, setMemoryAttributesChecks } from '../../spec/rules/attributes.ts';
import { fallocateChecks } from '../../spec/rules/fallocate.ts';
import { createGmemChecks } from '../../spec/rules/gmemFile.ts';
import { memoryRegionChecks } from '../../spec/rules/memslots.ts';
import { mmapChecks } from '../../spec/rules/mmap.ts';
import { populateChecks } from '../../spec/rules/platform.ts';
import { type MachineTransition, machineUniverse, transitionKey } from './machineCoverage.ts';
import type { Coverage } from './partition.ts';

export interface DeadRuleReport {
  statesTotal: number;
  statesUnreached: string[];
  transitionsTotal: number;
  transitionsUnreached: MachineTransition[];
  opsNotExplored: string[];
  opsNeverSucceeded: string[];
  checksTotal: number;
  checksNeverDecided: Array<{ id: string; says: string }>;
}

/** The failure conditions of the ordered check lists the rules evaluate. */
export function checkListIds(): Array<{ id: string; says: string }> {
  const lists = [
    createGmemChecks(),
    mmapChecks(),
    memoryRegionChecks(),
    setMemoryAttributesChecks(),
    setMemoryAttributes2Checks(),
    fallocateChecks(),
    populateChecks(),
  ];
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
  const u = machineUniverse();
  const reached = new Set(c.machineStates);
  const taken = new Set(c.machineTransitions);
  const checks = checkListIds();
  return {
    statesTotal: u.states.length,
    statesUnreached: u.states.filter((s) => !reached.has(s)),
    transitionsTotal: u.transitions.length,
    transitionsUnreached: u.transitions.filter((t) => !taken.has(transitionKey(t))),
    opsNotExplored: OP_NAMES.filter((op) => !c.ops[op]),
    opsNeverSucceeded: OP_NAMES.filter((op) => c.ops[op] && (c.ops[op] as [number, number])[1] === 0),
    checksTotal: checks.length,
    checksNeverDecided: checks.filter((k) => !c.rules[k.id]),
  };
}
