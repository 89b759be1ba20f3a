/**
 * native/kvm-uapi.h is what src/generate/kvmUapi.ts makes of spec/constants.ts, and its numbers agree with the
 * C compiler's own _IOC arithmetic over the header's struct layouts (and with <linux/kvm.h> where it has them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KVM_UAPI_PATH, kvmUapiHeader, nativeUapiHeader } from '../src/generate/kvmUapi.ts';

const hasCc = spawnSync('cc', ['--version']).status === 0;
if (!hasCc) console.log('SKIP: no C compiler (cc): the header is not compiled');
const dir = mkdtempSync(join(tmpdir(), 'kvm-uapi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compiles(source: string): void {
  const file = join(dir, 'check.c');
  writeFileSync(file, source);
  execFileSync('cc', ['-Wall', '-Werror', '-fsyntax-only', '-I', join(KVM_UAPI_PATH, '..'), file], { stdio: 'pipe' });
}

describe('native/kvm-uapi.h', () => {
  it('is current (regenerate: npx tsx src/generate/kvmUapi.ts)', () => {
    expect(readFileSync(KVM_UAPI_PATH, 'utf8')).toBe(nativeUapiHeader());
  });

  it('begins with the guest_memfd part, which the generated selftests embed as it is', () => {
    expect(nativeUapiHeader().startsWith(kvmUapiHeader())).toBe(true);
    expect(kvmUapiHeader()).not.toContain('KVM_PRE_FAULT_MEMORY');
  });

  it.skipIf(!hasCc)('its ioctl numbers are _IOC over its own struct layouts', () => {
    compiles(`#include "kvm-uapi.h"
#include <sys/ioctl.h>
_Static_assert(KVM_CREATE_VM_NR == _IO(KVMIO, 0x01), "KVM_CREATE_VM");
_Static_assert(KVM_CHECK_EXTENSION_NR == _IO(KVMIO, 0x03), "KVM_CHECK_EXTENSION");
_Static_assert(KVM_SET_USER_MEMORY_REGION2_NR == _IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2_uapi), "REGION2");
_Static_assert(KVM_SET_MEMORY_ATTRIBUTES_NR == _IOW(KVMIO, 0xd2, struct kvm_memory_attributes_uapi), "ATTRIBUTES");
_Static_assert(KVM_SET_MEMORY_ATTRIBUTES2_NR == _IOWR(KVMIO, 0xd2, struct kvm_memory_attributes2_uapi), "ATTRIBUTES2");
_Static_assert(KVM_CREATE_GUEST_MEMFD_NR == _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd_uapi), "CREATE_GUEST_MEMFD");
_Static_assert(KVM_GET_API_VERSION_NR == _IO(KVMIO, 0x00), "GET_API_VERSION");
_Static_assert(KVM_GET_VCPU_MMAP_SIZE_NR == _IO(KVMIO, 0x04), "GET_VCPU_MMAP_SIZE");
_Static_assert(KVM_CREATE_VCPU_NR == _IO(KVMIO, 0x41), "CREATE_VCPU");
_Static_assert(KVM_SET_USER_MEMORY_REGION_NR == _IOW(KVMIO, 0x46, struct kvm_userspace_memory_region_uapi), "REGION");
_Static_assert(KVM_PRE_FAULT_MEMORY_NR == _IOWR(KVMIO, 0xd5, struct kvm_pre_fault_memory_uapi), "PRE_FAULT_MEMORY");
`);
  });

  const kernelHeader =
    hasCc &&
    spawnSync('cc', ['-E', '-dM', '-include', 'linux/kvm.h', '-x', 'c', '/dev/null'], { encoding: 'utf8' }).stdout?.includes(
      'KVM_CREATE_GUEST_MEMFD',
    );
  if (hasCc && !kernelHeader) console.log('SKIP: <linux/kvm.h> here has no KVM_CREATE_GUEST_MEMFD: not compared with the kernel headers');
  it.skipIf(!kernelHeader)('agrees with <linux/kvm.h> where that has guest_memfd', () => {
    compiles(`#include "kvm-uapi.h"
#include <linux/kvm.h>
_Static_assert(KVM_CREATE_GUEST_MEMFD_NR == KVM_CREATE_GUEST_MEMFD, "CREATE_GUEST_MEMFD");
_Static_assert(KVM_SET_USER_MEMORY_REGION2_NR == KVM_SET_USER_MEMORY_REGION2, "REGION2");
_Static_assert(KVM_SET_MEMORY_ATTRIBUTES_NR == KVM_SET_MEMORY_ATTRIBUTES, "ATTRIBUTES");
_Static_assert(KVM_MEM_GUEST_MEMFD_BIT == KVM_MEM_GUEST_MEMFD, "KVM_MEM_GUEST_MEMFD");
_Static_assert(KVM_CAP_GUEST_MEMFD_NR == KVM_CAP_GUEST_MEMFD, "KVM_CAP_GUEST_MEMFD");
`);
  });
});
