/**
 * The corpora recorded on the lab kernel (`gmem-spec lab`, Linux 7.3): linux-7.3 (the linux-6.18 scenarios on
 * the default VM type) and sw-protected (examples/corpus/scenarios-sw-protected.ts). Recorded by
 * scripts/build-lab-corpus.ts into examples/corpus/<profile>/, checked by test/corpus-lab.test.ts.
 */
import { SCENARIOS, type Scenario } from './scenarios.ts';
import { RELEASED_LINUX_7_3, RELEASED_SW_PROTECTED } from './scenarios-released.ts';
import { SW_PROTECTED_SCENARIOS } from './scenarios-sw-protected.ts';
import { UFFD_SCENARIOS } from './scenarios-uffd.ts';

export interface LabCorpus {
  profile: string;
  dir: string;
  scenarios: readonly Scenario[];
}

/**
 * linux-6.18 scenarios left out of linux-7.3, with why: the lab kernel also offers KVM_X86_SW_PROTECTED_VM, a VM
 * type the sw-protected profile describes (its corpus creates one), not the default-VM profile.
 */
export const LINUX_7_3_LEFT_OUT: Readonly<Record<string, string>> = {
  'create--vm-type-sw_protected': 'KVM_CREATE_VM(SW_PROTECTED) succeeds on the lab kernel (built with KVM_SW_PROTECTED_VM): the sw-protected corpus covers that VM type',
};

export const LAB_CORPORA: readonly LabCorpus[] = [
  { profile: 'linux-7.3', dir: 'examples/corpus/linux-7.3', scenarios: [...SCENARIOS.filter((s) => !(s.name in LINUX_7_3_LEFT_OUT)), ...UFFD_SCENARIOS, ...RELEASED_LINUX_7_3] },
  { profile: 'sw-protected', dir: 'examples/corpus/sw-protected', scenarios: [...SW_PROTECTED_SCENARIOS, ...RELEASED_SW_PROTECTED] },
];
