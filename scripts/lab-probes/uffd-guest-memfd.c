/*
 * What a kernel does with userfaultfd on a guest_memfd mapping (issue 14; kernel-abi.md §4.3). Run in the lab:
 *   cc -static -O2 -o /tmp/uffd-probe scripts/lab-probes/uffd-guest-memfd.c
 *   node bin/gmem-spec.mjs lab exec --file /tmp/uffd-probe -- /lab/uffd-probe
 * Prints one line per question: the call, and "ok" or the errno. A memfd (shmem) mapping is the control: the
 * same registrations there show that the kernel's userfaultfd works, so a refusal on guest_memfd is guest_memfd's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct gmem_create { uint64_t size, flags, reserved[6]; };
#define KVM_CREATE_VM 0xAE01
#define KVM_CREATE_GUEST_MEMFD 0xC040AED4u
#define GMEM_MMAP (1ull << 0)
#define GMEM_INIT_SHARED (1ull << 1)
#define PAGE 4096

static void say(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: ok\n", what);
}

static int new_uffd(uint64_t features, const char *label) {
	int u = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u < 0) { say("userfaultfd(2)", -1); return -1; }
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	char what[160];
	snprintf(what, sizeof what, "UFFDIO_API features=0x%llx (%s)", (unsigned long long)features, label);
	long r = ioctl(u, UFFDIO_API, &api);
	say(what, r);
	if (r == 0) printf("  features reported: 0x%llx, ioctls 0x%llx\n", (unsigned long long)api.features, (unsigned long long)api.ioctls);
	return r == 0 ? u : -1;
}

static void reg(int u, void *addr, size_t len, uint64_t mode, const char *what) {
	struct uffdio_register r = { .range = { .start = (uintptr_t)addr, .len = len }, .mode = mode };
	long ret = ioctl(u, UFFDIO_REGISTER, &r);
	say(what, ret);
	if (ret == 0) {
		printf("  range ioctls 0x%llx\n", (unsigned long long)r.ioctls);
		struct uffdio_range un = { .start = (uintptr_t)addr, .len = len };
		say("  UFFDIO_UNREGISTER", ioctl(u, UFFDIO_UNREGISTER, &un));
	}
}

static void cont(int u, void *addr, const char *what) {
	struct uffdio_continue c = { .range = { .start = (uintptr_t)addr, .len = PAGE }, .mode = 0 };
	say(what, ioctl(u, UFFDIO_CONTINUE, &c));
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0) { say("open /dev/kvm", -1); return 1; }
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) { say("KVM_CREATE_VM", -1); return 1; }
	struct gmem_create gc = { .size = 2 * PAGE, .flags = GMEM_MMAP | GMEM_INIT_SHARED };
	int g = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &gc);
	if (g < 0) { say("KVM_CREATE_GUEST_MEMFD", -1); return 1; }
	char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0);
	if (m == MAP_FAILED) { say("mmap guest_memfd", -1); return 1; }
	int mfd = memfd_create("control", 0);
	if (mfd < 0 || ftruncate(mfd, 2 * PAGE) < 0) { say("memfd", -1); return 1; }
	char *s = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (s == MAP_FAILED) { say("mmap memfd", -1); return 1; }

	int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	say("open /dev/userfaultfd", dev);
	if (dev >= 0) {
		int u2 = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		say("USERFAULTFD_IOC_NEW", u2);
	}

	int u = new_uffd(0, "none");
	if (u < 0) return 1;
	reg(u, m, 2 * PAGE, UFFDIO_REGISTER_MODE_MISSING, "guest_memfd: UFFDIO_REGISTER MODE_MISSING");
	reg(u, m, 2 * PAGE, UFFDIO_REGISTER_MODE_MINOR, "guest_memfd: UFFDIO_REGISTER MODE_MINOR");
	reg(u, m, 2 * PAGE, UFFDIO_REGISTER_MODE_MINOR | UFFDIO_REGISTER_MODE_MISSING, "guest_memfd: UFFDIO_REGISTER MODE_MINOR|MISSING");
	reg(u, m, 2 * PAGE, UFFDIO_REGISTER_MODE_WP, "guest_memfd: UFFDIO_REGISTER MODE_WP");
	m[0] = 1; /* page 0 now in the page cache and mapped */
	reg(u, m, PAGE, UFFDIO_REGISTER_MODE_MINOR, "guest_memfd (page faulted in): UFFDIO_REGISTER MODE_MINOR");
	cont(u, m, "guest_memfd (not registered): UFFDIO_CONTINUE page 0");
	cont(u, m + PAGE, "guest_memfd (not registered): UFFDIO_CONTINUE page 1");

	reg(u, s, 2 * PAGE, UFFDIO_REGISTER_MODE_MISSING, "memfd (control): UFFDIO_REGISTER MODE_MISSING");
	reg(u, s, 2 * PAGE, UFFDIO_REGISTER_MODE_MINOR, "memfd (control): UFFDIO_REGISTER MODE_MINOR");
	close(u);

	u = new_uffd(UFFD_FEATURE_MINOR_SHMEM, "MINOR_SHMEM");
	if (u >= 0) {
		reg(u, m, 2 * PAGE, UFFDIO_REGISTER_MODE_MINOR, "guest_memfd: UFFDIO_REGISTER MODE_MINOR (MINOR_SHMEM)");
		close(u);
	}
	u = new_uffd(1u << 19, "bit 19, past the last feature");
	if (u >= 0) close(u);
#ifdef UFFD_FEATURE_WP_ASYNC
	u = new_uffd(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, "WP_ASYNC|WP_UNPOPULATED");
	if (u >= 0) {
		reg(u, m, 2 * PAGE, UFFDIO_REGISTER_MODE_WP, "guest_memfd: UFFDIO_REGISTER MODE_WP (WP_ASYNC)");
		close(u);
	}
#endif
	return 0;
}
