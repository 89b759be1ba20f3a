/**
 * userfaultfd on guest_memfd mappings, as the lab's Linux 7.3 answers it (issue 14; spec/rules/uffd.ts): every
 * registration mode is refused (EINVAL) and UFFDIO_CONTINUE finds nothing registered (ENOENT); the accesses
 * around them show that nothing was registered. Recorded into examples/corpus/linux-7.3 (examples/corpus/lab.ts).
 */
import type { Step } from '../../spec/ops.ts';
import type { Scenario } from './scenarios.ts';

const PAGE = 4096;
const SIZE = 2 * PAGE;
const vm: Step = { op: 'create_vm', type: 'default', as: 'vm0' };
const gmem = (flags = 3): Step => ({ op: 'create_gmem', vm: 'vm0', size: SIZE, flags, as: 'g0' });
const map = (as = 'm0'): Step => ({ op: 'mmap', gmem: 'g0', offset: 0, length: SIZE, prot: 'rw', shared: true, as });
const register = (mode: 'minor' | 'missing', offset = 0, length = SIZE, m = 'm0'): Step => ({ op: 'uffd_register', map: m, offset, length, mode });
const cont = (offset = 0, length = PAGE, m = 'm0'): Step => ({ op: 'uffd_continue', map: m, offset, length });
const read = (offset: number, m = 'm0'): Step => ({ op: 'read_mem', map: m, offset });
const write = (offset: number, value: number, m = 'm0'): Step => ({ op: 'write_mem', map: m, offset, value });

const out: Scenario[] = [];
const add = (name: string, description: string, steps: Step[]) => out.push({ area: 'uffd', name: `uffd--${name}`, description, steps });

add('register-minor', 'UFFDIO_REGISTER_MODE_MINOR on a guest_memfd mapping whose page 0 is in the page cache (written through a second mapping): refused, so the read takes no userfault and UFFDIO_CONTINUE finds no registered range', [
  vm, gmem(), map('m0'), map('m1'), write(0, 7, 'm1'), register('minor'), read(0), cont(0),
]);
add('register-missing', 'UFFDIO_REGISTER_MODE_MISSING on a guest_memfd mapping of holes: refused, so a read of a hole takes no userfault and reads zero', [
  vm, gmem(), map(), register('missing'), read(PAGE), cont(PAGE),
]);
add('register-faulted-in', 'MINOR on a page already faulted in through this mapping: still refused; CONTINUE there is ENOENT', [
  vm, gmem(), map(), write(0, 9), register('minor', 0, PAGE), read(0), cont(0),
]);
add('register-range-invalid', 'UFFDIO_REGISTER of an unaligned or empty range: EINVAL before any VMA is looked at', [
  vm, gmem(), map(), register('minor', 1, PAGE), register('minor', 0, 0), register('missing', 0, PAGE + 1),
]);
add('register-unmapped', 'UFFDIO_REGISTER after munmap, and through a failed mmap (no MMAP flag): EINVAL, no VMA', [
  vm, gmem(), map(), { op: 'munmap', map: 'm0' }, register('minor'), { op: 'create_gmem', vm: 'vm0', size: SIZE, flags: 0, as: 'g1' },
  { op: 'mmap', gmem: 'g1', offset: 0, length: SIZE, prot: 'rw', shared: true, as: 'm1' }, register('minor', 0, SIZE, 'm1'),
]);
add('continue-range-invalid', 'UFFDIO_CONTINUE of an unaligned or empty range: EINVAL (checked before the VMA)', [
  vm, gmem(), map(), write(0, 1), cont(1), cont(0, 0),
]);
add('private-file', 'MMAP without INIT_SHARED: registration is refused all the same, and the fault is SIGBUS (private)', [
  vm, gmem(1), map(), register('minor'), read(0), cont(0),
]);
add('fork-child', "a fork child registers its own copy of the mapping with its own userfaultfd: refused too; the parent's mapping reads on", [
  vm, gmem(), map(), write(0, 5), { op: 'fork', steps: [register('minor'), read(0), cont(0)] }, register('minor'), read(0),
]);

export const UFFD_SCENARIOS: readonly Scenario[] = out;
