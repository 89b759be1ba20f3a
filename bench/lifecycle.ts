/**
 * The representative guest_memfd lifecycle the step benchmarks time: bench/linux-steps.bench.ts (against the same
 * syscalls in native/bench-raw.c's loop) and bench/lab-steps.bench.ts (on the lab). Thirteen steps: create VM,
 * create guest_memfd, mmap, write/read, fill/check, punch hole, read, fstat, munmap, close, close.
 */
import type { Step, Trace } from '../spec/ops.ts';

/** The guest_memfd's size; native/bench-raw.c's GMEM_SIZE is the same. */
export const GMEM_SIZE = 65536;
export const PAGE = 4096;

export const LIFECYCLE: Trace = {
  format: 'gmem-trace/1',
  name: 'bench: representative guest_memfd lifecycle',
  steps: [
    { op: 'create_vm', type: 'default', as: 'vm0' },
    { op: 'create_gmem', vm: 'vm0', size: GMEM_SIZE, flags: 3, as: 'g0' },
    { op: 'mmap', gmem: 'g0', offset: 0, length: GMEM_SIZE, prot: 'rw', shared: true, as: 'm0' },
    { op: 'write_mem', map: 'm0', offset: 0, value: 170 },
    { op: 'read_mem', map: 'm0', offset: 0 },
    { op: 'fill_mem', map: 'm0', offset: PAGE, length: PAGE, value: 1 },
    { op: 'check_mem', map: 'm0', offset: PAGE, length: PAGE, value: 1 },
    { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE },
    { op: 'read_mem', map: 'm0', offset: 0 },
    { op: 'fstat', h: 'g0' },
    { op: 'munmap', map: 'm0' },
    { op: 'close', h: 'g0' },
    { op: 'close', h: 'vm0' },
  ] satisfies Step[],
};
