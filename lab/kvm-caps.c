/*
 * kvm-caps: what a kernel's /dev/kvm offers, by capability and by trying the calls (never by whether the
 * device opens). Used by `gmem-spec lab status` on the host and by the lab tests inside the guest.
 * Prints `key value` lines; exit 0 whatever the answers (a missing /dev/kvm is an answer).
 * No kernel headers needed: the few ioctl numbers are written out and checked against the UAPI layout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVMIO 0xAE
#define KVM_GET_API_VERSION _IO(KVMIO, 0x00)
#define KVM_CREATE_VM _IO(KVMIO, 0x01)
#define KVM_CHECK_EXTENSION _IO(KVMIO, 0x03)
struct kvm_create_guest_memfd_uapi {
	uint64_t size;
	uint64_t flags;
	uint64_t reserved[6];
};
#define KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd_uapi)
_Static_assert(KVM_CREATE_GUEST_MEMFD == 0xC040AED4, "KVM_CREATE_GUEST_MEMFD");

static const struct { const char *name; int nr; } caps[] = {
	{ "USER_MEMORY2", 231 },      { "MEMORY_FAULT_INFO", 232 }, { "MEMORY_ATTRIBUTES", 233 },
	{ "GUEST_MEMFD", 234 },       { "VM_TYPES", 235 },          { "PRE_FAULT_MEMORY", 236 },
	{ "GUEST_MEMFD_FLAGS", 244 }, { "MULTI_ADDRESS_SPACE", 118 }, { "NR_MEMSLOTS", 10 },
};

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("kvm %s\n", errno == ENOENT ? "absent" : strerror(errno));
		return 0;
	}
	printf("kvm open\napi_version %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0));
	for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		printf("cap %s %d\n", caps[i].name, ioctl(kvm, KVM_CHECK_EXTENSION, caps[i].nr));
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		printf("create_vm %s\n", strerror(errno));
		return 0;
	}
	printf("create_vm ok\n");
	struct kvm_create_guest_memfd_uapi g = { .size = 4096 };
	int gmem = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &g);
	printf("create_guest_memfd %s\n", gmem >= 0 ? "ok" : strerror(errno));
	/* KVM_X86_SW_PROTECTED_VM (1): the x86 VM type with private memory an emulated CPU can run. */
	int sw = ioctl(kvm, KVM_CREATE_VM, 1);
	printf("create_vm_sw_protected %s\n", sw >= 0 ? "ok" : strerror(errno));
	return 0;
}
