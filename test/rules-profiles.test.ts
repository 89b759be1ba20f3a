/** Platform and proposal profiles: the rules each one adds or changes against linux-6.18 (kernel-abi.md §2.15-2.19, §4, §5). */
import { describe, expect, it } from 'vitest';
import type { Step } from '../spec/ops.ts';
import { PAGE, run } from './support/spec.ts';

const coco = (type: string, flags: number, size = 2 * PAGE): Step[] => [
  { op: 'create_vm', type: type as 'snp', as: 'vm0' },
  { op: 'create_gmem', vm: 'vm0', size, flags, as: 'g0' },
  { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: ['gmem'], gpa: 0, size, gmem: 'g0', gmem_offset: 0, uaddr: 0 },
];

describe('sw-protected: per-VM memory attributes, no trusted entity', () => {
  it('refuses INIT_SHARED but accepts MMAP for a VM with private memory', () => {
    expect(
      run('sw-protected', [
        { op: 'create_vm', type: 'sw_protected', as: 'vm0' },
        { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 2 },
      ]).last,
    ).toEqual({ errno: 'EINVAL' });
    expect(
      run('sw-protected', [
        { op: 'create_vm', type: 'sw_protected', as: 'vm0' },
        { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 1 },
      ]).last,
    ).toEqual({ ok: true });
  });

  it('KVM takes private-ness from the attribute: accesses use userspace_addr until the GFN is PRIVATE, then guest_memfd', () => {
    // userspace_addr 0 maps nothing: the shared access is EFAULT (measured on the lab kernel, 7.3).
    const r = run('sw-protected', [
      ...coco('sw_protected', 0),
      { op: 'guest_access', vm: 'vm0', gpa: 0, private: true },
      { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8 },
      { op: 'guest_access', vm: 'vm0', gpa: 0, private: false, write: 9 },
      { op: 'guest_access', vm: 'vm0', gpa: 0, private: true },
    ]);
    expect(r.outcomes.slice(-4)).toEqual([{ errno: 'EFAULT' }, { ok: true }, { access: 'ok' }, { access: 'ok', value: 9 }]);
    expect(r.rules.slice(-4)).toEqual([
      'guest_access.shared-no-user-memory',
      'set_memory_attributes.ok',
      'guest_access.write',
      'guest_access.read',
    ]);
  });

  it('a private GFN whose slot has no guest_memfd exits with KVM_EXIT_MEMORY_FAULT (private_mem_kvm_exits_test)', () => {
    const r = run('sw-protected', [
      { op: 'create_vm', type: 'sw_protected', as: 'vm0' },
      { op: 'set_memory_region2', vm: 'vm0', slot: 0, flags: [], gpa: 0, size: PAGE, uaddr: 0 },
      { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8 },
      { op: 'guest_access', vm: 'vm0', gpa: 0, private: true },
    ]);
    expect(r.last).toEqual({ exit: 'MEMORY_FAULT', private: true });
  });

  it('validates KVM_SET_MEMORY_ATTRIBUTES in its documented order: flags, attributes, range, alignment', () => {
    const base = coco('sw_protected', 0);
    const attr = (x: Record<string, unknown>) =>
      run('sw-protected', [...base, { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8, ...x } as Step]).last;
    expect(attr({ flags: 1, attributes: 16 })).toEqual({ errno: 'EINVAL' });
    expect(attr({ attributes: 16 })).toEqual({ errno: 'EINVAL' });
    expect(attr({ size: 0 })).toEqual({ errno: 'EINVAL' });
    expect(attr({ address: 1 })).toEqual({ errno: 'EINVAL' });
    expect(
      run('sw-protected', [
        { op: 'create_vm', type: 'default', as: 'vm0' },
        { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8 },
      ]).last,
    ).toEqual({ errno: 'EINVAL' });
  });

  it('without a memslot: a PRIVATE GFN exits with MEMORY_FAULT (slot deleted), a shared one is MMIO; in place both are MMIO', () => {
    const steps: Step[] = [
      { op: 'create_vm', type: 'sw_protected', as: 'vm0' },
      { op: 'set_memory_attributes', vm: 'vm0', address: 0x10000, size: PAGE, attributes: 8 },
      { op: 'guest_access', vm: 'vm0', gpa: 0x10000, private: true },
      { op: 'guest_access', vm: 'vm0', gpa: 0x20000, private: true },
    ];
    expect(run('sw-protected', steps).outcomes.slice(2)).toEqual([{ exit: 'MEMORY_FAULT', private: true }, { exit: 'MMIO' }]);
    const inPlace = run('inplace-conversion', [steps[0] as Step, steps[2] as Step, steps[3] as Step]);
    expect(inPlace.outcomes.slice(1)).toEqual([{ exit: 'MMIO' }, { exit: 'MMIO' }]);
  });
});

describe('sev-snp: launch flow and populate into private destinations', () => {
  const launch: Step[] = [...coco('snp', 0), { op: 'launch_start', vm: 'vm0' }];
  it('populate needs LAUNCH_START, private destinations, and is refused once the page is populated or the launch finished', () => {
    const r = run('sev-snp', [
      ...coco('snp', 0),
      { op: 'populate', vm: 'vm0', gpa: 0, size: PAGE, source: 'buffer' },
      { op: 'launch_start', vm: 'vm0' },
      { op: 'populate', vm: 'vm0', gpa: 0, size: PAGE, source: 'buffer' },
      { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8 },
      { op: 'populate', vm: 'vm0', gpa: 0, size: PAGE, source: 'buffer' },
      { op: 'populate', vm: 'vm0', gpa: 0, size: PAGE, source: 'buffer' },
      { op: 'launch_finish', vm: 'vm0' },
      { op: 'populate', vm: 'vm0', gpa: PAGE, size: PAGE, source: 'buffer' },
    ]);
    expect(r.outcomes.slice(3)).toEqual([
      { errno: 'EINVAL' },
      { ok: true },
      { errno: 'EINVAL' },
      { ok: true },
      { ok: true },
      { errno: 'EEXIST' },
      { ok: true },
      { errno: 'EINVAL' },
    ]);
    expect(r.rules.slice(3)).toEqual([
      'populate.not-launching',
      'launch_start.ok',
      'populate.not-private',
      'set_memory_attributes.ok',
      'populate.ok',
      'populate.already-prepared',
      'launch_finish.ok',
      'populate.not-launching',
    ]);
  });

  it('populate in place (NULL uaddr) needs in-place conversion', () => {
    expect(
      run('sev-snp', [
        ...launch,
        { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8 },
        { op: 'populate', vm: 'vm0', gpa: 0, size: PAGE, source: 'in_place' },
      ]).last,
    ).toEqual({ errno: 'EINVAL' });
  });

  it('the guest runs only after LAUNCH_FINISH; its private fault makes the page RMP-assigned (prepared)', () => {
    const r = run('sev-snp', [
      ...launch,
      { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: 2 * PAGE, attributes: 8 },
      { op: 'guest_access', vm: 'vm0', gpa: PAGE, private: true },
      { op: 'launch_finish', vm: 'vm0' },
      { op: 'guest_access', vm: 'vm0', gpa: PAGE, private: true, write: 5 },
      { op: 'guest_access', vm: 'vm0', gpa: PAGE, private: true },
    ]);
    expect(r.outcomes.slice(-4)).toEqual([{ errno: 'EINVAL' }, { ok: true }, { access: 'ok' }, { access: 'ok', value: 5 }]);
  });

  it('a host fault on SNP private memory is SIGBUS', () => {
    expect(
      run('sev-snp', [
        ...coco('snp', 1),
        { op: 'mmap', gmem: 'g0', offset: 0, length: PAGE, prot: 'rw', shared: true, as: 'm0' },
        { op: 'read_mem', map: 'm0', offset: 0 },
      ]).last,
    ).toEqual({ access: 'SIGBUS' });
  });
});

describe('tdx', () => {
  it('INIT_MEM_REGION in place is EOPNOTSUPP without in-place conversion', () => {
    expect(
      run('tdx', [
        ...coco('tdx', 0),
        { op: 'launch_start', vm: 'vm0' },
        { op: 'set_memory_attributes', vm: 'vm0', address: 0, size: PAGE, attributes: 8 },
        { op: 'populate', vm: 'vm0', gpa: 0, size: PAGE, source: 'in_place' },
      ]).last,
    ).toEqual({ errno: 'EOPNOTSUPP' });
  });
});

describe('pkvm: in place, content preserved, user access to private memory is SIGSEGV', () => {
  const shared = [...coco('pkvm', 3), { op: 'mmap', gmem: 'g0', offset: 0, length: 2 * PAGE, prot: 'rw', shared: true, as: 'm0' } as Step];
  it('data written while shared is what the guest reads after conversion to private; the host then gets SIGSEGV', () => {
    const r = run('pkvm', [
      ...shared,
      { op: 'write_mem', map: 'm0', offset: 0, value: 42 },
      { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 },
      { op: 'guest_access', vm: 'vm0', gpa: 0, private: true },
      { op: 'read_mem', map: 'm0', offset: 0 },
    ]);
    expect(r.outcomes.slice(-3)).toEqual([{ ok: true }, { access: 'ok', value: 42 }, { access: 'SIGSEGV' }]);
  });
});

describe('inplace-conversion proposal', () => {
  const base = (type = 'sw_protected') =>
    [
      { op: 'create_vm', type: type as 'sw_protected', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: 4 * PAGE, flags: 3, as: 'g0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: 4 * PAGE, prot: 'rw', shared: true, as: 'm0' },
    ] as Step[];

  it('INIT_SHARED becomes legal on CoCo VM types', () => {
    for (const type of ['sw_protected', 'snp', 'tdx']) expect(run('inplace-conversion', base(type).slice(0, 2)).last).toEqual({ ok: true });
  });

  it('a pinned page stops conversion to private with EAGAIN and error_offset at that page; after unpin it converts', () => {
    const r = run('inplace-conversion', [
      ...base(),
      { op: 'write_mem', map: 'm0', offset: 2 * PAGE, value: 1 },
      { op: 'pin', map: 'm0', offset: 2 * PAGE, len: PAGE },
      { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: 4 * PAGE, attributes: 8 },
      { op: 'read_mem', map: 'm0', offset: 0 },
      { op: 'read_mem', map: 'm0', offset: 3 * PAGE },
      { op: 'unpin', map: 'm0', offset: 2 * PAGE, len: PAGE },
      { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: 4 * PAGE, attributes: 8 },
      { op: 'read_mem', map: 'm0', offset: 3 * PAGE },
    ]);
    expect(r.outcomes.slice(5)).toEqual([
      { errno: 'EAGAIN', error_offset: 2 * PAGE },
      { access: 'SIGBUS' },
      { access: 'ok', value: 0 },
      { ok: true },
      { ok: true },
      { access: 'SIGBUS' },
    ]);
  });

  it('punch keeps a private page private, and converting back to shared reads zero', () => {
    const r = run('inplace-conversion', [
      ...base(),
      { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 },
      { op: 'fallocate', gmem: 'g0', mode: 'punch_hole', offset: 0, len: PAGE },
      { op: 'read_mem', map: 'm0', offset: 0 },
      { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 0 },
      { op: 'read_mem', map: 'm0', offset: 0 },
    ]);
    expect(r.outcomes.slice(-4)).toEqual([{ ok: true }, { access: 'SIGBUS' }, { ok: true }, { access: 'ok', value: 0 }]);
  });

  it('conversion zaps the mappings of a forked child too', () => {
    const r = run('inplace-conversion', [
      ...base(),
      { op: 'write_mem', map: 'm0', offset: 0, value: 3 },
      {
        op: 'fork',
        steps: [
          { op: 'read_mem', map: 'm0', offset: 0 },
          { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 },
          { op: 'read_mem', map: 'm0', offset: 0 },
        ],
      },
    ]);
    expect(r.last).toEqual({ ok: true, steps: [{ access: 'ok', value: 3 }, { ok: true }, { access: 'SIGBUS' }] });
  });

  it('checks KVM_SET_MEMORY_ATTRIBUTES2 in order: flags, VM without private memory, attributes, range, alignment, EOF', () => {
    const a = (x: Record<string, unknown>, type = 'sw_protected') =>
      run('inplace-conversion', [
        ...base(type).slice(0, 2),
        { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8, ...x } as Step,
      ]).last;
    expect(a({ flags: 1, attributes: 1 })).toEqual({ errno: 'EINVAL' });
    expect(a({}, 'default')).toEqual({ errno: 'EINVAL' });
    expect(a({ attributes: 1 })).toEqual({ errno: 'EINVAL' });
    expect(a({ size: 0 })).toEqual({ errno: 'EINVAL' });
    expect(a({ offset: 1 })).toEqual({ errno: 'EINVAL' });
    expect(a({ offset: 4 * PAGE })).toEqual({ errno: 'EINVAL' });
    expect(a({})).toEqual({ ok: true });
  });
});

describe('no-direct-map proposal', () => {
  it('is accepted on default and sw_protected VMs and refused (EINVAL) on SNP and TDX', () => {
    for (const [type, outcome] of [
      ['default', { ok: true }],
      ['sw_protected', { ok: true }],
      ['snp', { errno: 'EINVAL' }],
      ['tdx', { errno: 'EINVAL' }],
    ] as const) {
      expect(
        run('no-direct-map', [
          { op: 'create_vm', type, as: 'vm0' },
          { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 4 | 1 },
        ]).last,
        type,
      ).toEqual(outcome);
    }
  });
});

describe('hugetlb proposal (2-page folios in the model)', () => {
  it('size and fallocate ranges must be folio-aligned; INIT_SHARED cannot be combined', () => {
    const vm: Step = { op: 'create_vm', type: 'default', as: 'vm0' };
    expect(run('hugetlb', [vm, { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 8 | 1 }]).last).toEqual({ errno: 'EINVAL' });
    expect(run('hugetlb', [vm, { op: 'create_gmem', vm: 'vm0', size: 2 * PAGE, flags: 8 | 2 }]).last).toEqual({ errno: 'EINVAL' });
    const g: Step[] = [vm, { op: 'create_gmem', vm: 'vm0', size: 4 * PAGE, flags: 8 | 1, as: 'g0' }];
    expect(run('hugetlb', [...g, { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: PAGE }]).last).toEqual({
      errno: 'EINVAL',
    });
    expect(run('hugetlb', [...g, { op: 'fallocate', gmem: 'g0', mode: 'allocate', offset: 0, len: 2 * PAGE }]).last).toEqual({ ok: true });
  });
});

describe('exclusive-gup (rejected): why', () => {
  it('an ordinary long-term pin survives conversion to private', () => {
    const r = run('exclusive-gup', [
      { op: 'create_vm', type: 'pkvm', as: 'vm0' },
      { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 3, as: 'g0' },
      { op: 'mmap', gmem: 'g0', offset: 0, length: PAGE, prot: 'rw', shared: true, as: 'm0' },
      { op: 'pin', map: 'm0', offset: 0, len: PAGE },
      { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 },
    ]);
    expect(r.last).toEqual({ ok: true });
    expect(
      run('inplace-conversion', [
        { op: 'create_vm', type: 'sw_protected', as: 'vm0' },
        { op: 'create_gmem', vm: 'vm0', size: PAGE, flags: 3, as: 'g0' },
        { op: 'mmap', gmem: 'g0', offset: 0, length: PAGE, prot: 'rw', shared: true, as: 'm0' },
        { op: 'pin', map: 'm0', offset: 0, len: PAGE },
        { op: 'set_memory_attributes2', gmem: 'g0', offset: 0, size: PAGE, attributes: 8 },
      ]).last,
    ).toEqual({ errno: 'EAGAIN', error_offset: 0 });
  });
});
