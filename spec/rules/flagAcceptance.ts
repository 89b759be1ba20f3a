/** Which GUEST_MEMFD_FLAG_* a VM type's KVM_CREATE_GUEST_MEMFD accepts (the value of cap 244 for that VM). */
import type { VmTypeName } from '../constants.ts';
import type { FlagDef, Profile, VmTypeRules } from '../profile.ts';

function accepts(acceptance: FlagDef['acceptedBy'] | undefined, type: VmTypeName, rules: VmTypeRules): boolean {
  if (acceptance === undefined) return false;
  if (acceptance === 'all') return true;
  if (acceptance === 'no-private-mem') return !rules.hasPrivateMem;
  if (acceptance === 'private-mem') return rules.hasPrivateMem;
  return acceptance.includes(type);
}

/** The GUEST_MEMFD_FLAG_* set KVM_CREATE_GUEST_MEMFD accepts for a VM of this type (the value of cap 244). */
export function acceptedFlagDefs(profile: Profile, type: VmTypeName): FlagDef[] {
  const rules = profile.vmTypes[type];
  if (!rules) return [];
  return profile.flags.filter(
    (f) => accepts(f.acceptedBy, type, rules) || (rules.conversion === 'in-place' && accepts(f.acceptedInPlaceBy, type, rules)),
  );
}

export function flagMask(defs: FlagDef[]): bigint {
  return defs.reduce((m, f) => m | (1n << BigInt(f.bit)), 0n);
}
