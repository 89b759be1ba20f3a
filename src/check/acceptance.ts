/**
 * Which VM types accept a flag at KVM_CREATE_GUEST_MEMFD, asked of the spec itself: for each VM type of the
 * profile, create a VM and a guest_memfd with the flag (and the flags it requires) and report the outcome and
 * the deciding rule. This is where "NO_DIRECT_MAP on SNP/TDX is EINVAL" shows, independently of the search.
 * Also: what mmap and a first host access do on a file of each flag combination (the MMAP / INIT_SHARED
 * orthogonality table).
 */
import type { VmTypeName } from '../../spec/constants.ts';
import type { Outcome, Step } from '../../spec/ops.ts';
import type { FlagDef, Profile } from '../../spec/profile.ts';
import { emptySystem } from '../../spec/state.ts';
import { step } from '../../spec/step.ts';
import { formatOutcome } from '../../spec/outcome.ts';

const PAGE = 4096;

export interface AcceptanceRow {
  flag: string;
  vmType: VmTypeName;
  flags: number;
  outcome: Outcome;
  rule: string;
}

function run(profile: Profile, steps: Step[]): Array<{ outcome: Outcome; rule: string }> {
  let s = emptySystem();
  return steps.map((st) => {
    const r = step(profile, s, st);
    s = r.state;
    return { outcome: r.outcome, rule: r.rule.id };
  });
}

/** The mask of `def` plus the flags it requires (by name, within the profile). */
export function maskWithRequired(profile: Profile, def: FlagDef): number {
  let m = 2 ** def.bit;
  for (const n of def.requires ?? []) {
    const d = profile.flags.find((f) => f.name === n);
    if (d) m += (m & (2 ** d.bit)) === 0 ? 2 ** d.bit : 0;
  }
  return m;
}

export function flagAcceptance(profile: Profile, flags: readonly FlagDef[]): AcceptanceRow[] {
  const rows: AcceptanceRow[] = [];
  for (const f of flags) {
    const def = profile.flags.find((x) => x.name === f.name) ?? f;
    const mask = maskWithRequired(profile, def);
    const pages = def.effects.folioPages ?? 1;
    for (const vmType of Object.keys(profile.vmTypes) as VmTypeName[]) {
      const [, create] = run(profile, [
        { op: 'create_vm', type: vmType, as: 'vm0' },
        { op: 'create_gmem', vm: 'vm0', size: pages * PAGE, flags: mask, as: 'g0' },
      ]);
      if (create) rows.push({ flag: def.name, vmType, flags: mask, outcome: create.outcome, rule: create.rule });
    }
  }
  return rows;
}

export interface ComboRow {
  vmType: VmTypeName;
  flags: number;
  create: string;
  mmap: string;
  firstAccess: string;
}

/** For a flag combination on a VM type: what creating, mapping and touching the first page does. */
export function comboBehaviour(profile: Profile, vmType: VmTypeName, flags: number): ComboRow {
  const r = run(profile, [
    { op: 'create_vm', type: vmType, as: 'vm0' },
    { op: 'create_gmem', vm: 'vm0', size: 2 * PAGE, flags, as: 'g0' },
    { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'm0' },
    { op: 'read_mem', map: 'm0', offset: 0 },
  ]);
  const show = (i: number) => {
    const x = r[i];
    return x ? formatOutcome(x.outcome) : '-';
  };
  const mapped = r[2] !== undefined && 'ok' in r[2].outcome;
  return { vmType, flags, create: show(1), mmap: show(2), firstAccess: mapped ? show(3).replace(/^access /, '') : 'none (nothing mapped)' };
}
