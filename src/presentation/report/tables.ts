/**
 * Failure-order tables: each operation's ordered checks from spec/rules (the first failing check decides the
 * errno), with the profile's own errno choices applied, plus the fixed orders of host accesses and pins.
 */
import type { Profile } from '../../../spec/profile.ts';
import { setMemoryAttributes2Checks, setMemoryAttributesChecks } from '../../../spec/rules/attributes.ts';
import type { Check } from '../../../spec/rules/check.ts';
import { fallocateChecks } from '../../../spec/rules/fallocate.ts';
import { createGmemChecks } from '../../../spec/rules/gmemFile.ts';
import { memoryRegionChecks } from '../../../spec/rules/memslots.ts';
import { mmapChecks } from '../../../spec/rules/mmap.ts';
import { populateChecks } from '../../../spec/rules/platform.ts';

export interface FailureRow {
  id: string;
  errno: string;
  says: string;
  cite: string;
}

export interface FailureTable {
  op: string;
  note?: string;
  rows: FailureRow[];
}

function rows<C>(checks: readonly Check<C>[]): FailureRow[] {
  return checks.map((c) => ({ id: c.id, errno: c.errno, says: c.says, cite: c.cite }));
}

export function failureTables(profile: Profile): FailureTable[] {
  const c = profile.choices;
  const mmap = rows(mmapChecks()).map((r) =>
    r.id === 'mmap.exec-noexec-mount' ? { ...r, errno: c.protExecErrno ?? 'allowed (no check)' } : r,
  );
  const tdx = Object.values(profile.vmTypes).some((r) => r?.populate === 'tdx-init-mem-region');
  const signals = [...new Set(Object.values(profile.vmTypes).map((r) => r?.privateHostAccess ?? 'SIGBUS'))].join(' / ');
  return [
    { op: 'KVM_CREATE_GUEST_MEMFD', rows: rows(createGmemChecks()) },
    { op: 'mmap', note: c.protExecErrno ? undefined : 'this profile allows PROT_EXEC', rows: mmap },
    { op: 'fallocate', rows: rows(fallocateChecks()) },
    { op: 'KVM_SET_USER_MEMORY_REGION2', rows: rows(memoryRegionChecks()) },
    {
      op: 'KVM_SET_MEMORY_ATTRIBUTES',
      note: c.setMemoryAttributesMissing
        ? `not built into this profile's kernel: always ${c.setMemoryAttributesMissing} after the fd checks`
        : undefined,
      rows: rows(setMemoryAttributesChecks()),
    },
    {
      op: 'KVM_SET_MEMORY_ATTRIBUTES2 (guest_memfd fd)',
      note: profile.gmemAttributes
        ? `after the checks: EAGAIN${profile.gmemAttributes.errorOffset ? ' with error_offset' : ''} when a page has extra references (conversion to private)`
        : 'no in-place conversion in this profile: ENOTTY after the fd check',
      rows: rows(setMemoryAttributes2Checks()),
    },
    {
      op: 'populate (LAUNCH_UPDATE / INIT_MEM_REGION / RMI_POPULATE)',
      note: tdx ? 'TDX: a NULL source without in-place conversion is EOPNOTSUPP, not EINVAL' : undefined,
      rows: rows(populateChecks()),
    },
    {
      op: 'host access through a mapping (read / write / fill)',
      note: 'spec/rules/memAccess.ts: the order in which a fault is decided',
      rows: [
        { id: 'access.no-mapping', errno: 'SIGSEGV', says: 'nothing is mapped at the address (unmapped or failed mmap)', cite: 'mm' },
        { id: 'access.outside-mapping', errno: 'SIGSEGV', says: 'the access is outside the mapping', cite: 'mm' },
        { id: 'access.protection', errno: 'SIGSEGV', says: "the mapping's protection forbids the access", cite: 'mm' },
        { id: 'access.past-eof', errno: 'SIGBUS', says: 'the page is at or past EOF', cite: 'kernel-abi.md §2.5 step 1' },
        {
          id: 'access.private',
          errno: signals,
          says: 'the page is private (the page machine refuses HOST_FAULT)',
          cite: 'kernel-abi.md §2.5 step 2, §5',
        },
      ],
    },
    {
      op: 'long-term GUP pin',
      note: 'spec/rules/memAccess.ts',
      rows: [
        { id: 'pin.no-mapping', errno: 'EFAULT', says: 'nothing is mapped at the address', cite: 'GUP' },
        ...(c.pinRefused
          ? [{ id: 'pin.refused', errno: c.pinRefused, says: 'this profile refuses long-term pins of guest_memfd', cite: 'profile choice' }]
          : []),
        { id: 'pin.range-invalid', errno: 'EINVAL', says: 'an empty or unaligned range', cite: 'io_uring_register' },
        { id: 'pin.outside-mapping', errno: 'EFAULT', says: 'past the end of the mapping', cite: 'GUP' },
        { id: 'pin.past-eof', errno: 'EFAULT', says: 'a page at or past EOF', cite: 'GUP' },
        { id: 'pin.private', errno: 'EFAULT', says: 'a private page (the page machine refuses PIN)', cite: 'kernel-abi.md §2.16' },
      ],
    },
  ];
}
