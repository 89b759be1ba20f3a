/*
 * bench-raw: the raw-syscall baseline for bench/linux-steps.bench.ts. Runs the same representative trace as the
 * bench (13 steps: create VM, create guest_memfd, mmap, write/read, fill/check, punch hole, read, fstat, munmap,
 * close, close) N times in a plain C loop, with /dev/kvm opened once, and prints one JSON line:
 *   {"iterations": N, "steps_per_iteration": 13, "seconds": S}
 * Exits non-zero if any step gives an unexpected result, so the baseline is known to do the same work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kvm-uapi.h" /* generated from spec/constants.ts */

#define GMEM_SIZE 65536
#define STEPS 13

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "bench-raw: %s failed: %s\n", what, strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	if (n <= 0)
		n = 1;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	check(kvm >= 0, "open /dev/kvm");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		int vm = ioctl(kvm, KVM_CREATE_VM_NR, 0UL);                                  /* 1 create_vm */
		check(vm >= 0, "create_vm");
		struct kvm_create_guest_memfd_uapi a = { .size = GMEM_SIZE, .flags = 3 };
		int g = ioctl(vm, KVM_CREATE_GUEST_MEMFD_NR, &a);                             /* 2 create_gmem */
		check(g >= 0, "create_gmem");
		volatile uint8_t *m = mmap(NULL, GMEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0); /* 3 mmap */
		check(m != MAP_FAILED, "mmap");
		m[0] = 170;                                                                   /* 4 write_mem */
		check(m[0] == 170, "read_mem");                                               /* 5 read_mem */
		memset((void *)(m + 4096), 1, 4096);                                          /* 6 fill_mem */
		uint8_t diff = 0;                                                             /* 7 check_mem */
		for (int k = 0; k < 4096; k++)
			diff |= (uint8_t)(m[4096 + k] ^ 1);
		check(diff == 0, "check_mem");
		check(fallocate(g, 3, 0, 4096) == 0, "fallocate punch_hole");                 /* 8 fallocate */
		check(m[0] == 0, "read_mem after punch");                                     /* 9 read_mem */
		struct stat st;
		check(fstat(g, &st) == 0 && st.st_size == GMEM_SIZE, "fstat");               /* 10 fstat */
		check(munmap((void *)m, GMEM_SIZE) == 0, "munmap");                           /* 11 munmap */
		check(close(g) == 0, "close gmem");                                           /* 12 close */
		check(close(vm) == 0, "close vm");                                            /* 13 close */
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("{\"iterations\": %ld, \"steps_per_iteration\": %d, \"seconds\": %.9f}\n", n, STEPS, s);
	return 0;
}
