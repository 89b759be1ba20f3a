/*
 * probe.c - probe the real KVM guest_memfd ABI of the running kernel.
 * Output: one line per case: "CASE <name> -> <result>".
 * Build: gcc -O2 -Wall -o probe probe.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/sendfile.h>
#include <linux/futex.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint8_t u8;

/* ---------- KVM / guest_memfd UAPI: native/kvm-uapi.h, generated from spec/constants.ts ---------- */
#include "../../native/kvm-uapi.h"

#define FL_KEEP   0x01
#define FL_PUNCH  0x02
#define FL_NOHIDE 0x04
#define FL_COLLAPSE 0x08
#define FL_ZERO   0x10
#define FL_INSERT 0x20
#define FL_UNSHARE 0x40
#define FL_WRZERO 0x80

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#define MADV_GUARD_INSTALL_ 102
#define MADV_GUARD_REMOVE_ 103

static long PG;
static int kvm_fd = -1;

/* ---------- output helpers ---------- */
static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}
/* report a syscall return value; call immediately after the syscall */
static void R(const char *name, long ret)
{
	int e = errno;
	if (ret < 0)
		printf("CASE %s -> errno=%s\n", name, ename(e));
	else
		printf("CASE %s -> ok ret=%ld\n", name, ret);
	fflush(stdout);
	errno = e;
}
static void Rf(long ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void Rf(long ret, const char *fmt, ...)
{
	int e = errno;
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	errno = e;
	R(buf, ret);
}
static void F(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void F(const char *name, const char *fmt, ...)
{
	va_list ap;
	printf("CASE %s -> ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}
static void SECTION(const char *s) { printf("\n## %s\n", s); fflush(stdout); }

/* mmap result */
static void *M(const char *name, void *p)
{
	int e = errno;
	if (p == MAP_FAILED)
		printf("CASE %s -> errno=%s\n", name, ename(e));
	else
		printf("CASE %s -> ok ret=0\n", name);
	fflush(stdout);
	return p;
}

/* ---------- guarded memory access ---------- */
static sigjmp_buf jb;
static volatile sig_atomic_t in_guard;
static volatile int last_si_code;
static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (in_guard) {
		last_si_code = si->si_code;
		in_guard = 0;
		siglongjmp(jb, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}
static int try_read(volatile void *p, unsigned *out)
{
	int s;
	in_guard = 1;
	if ((s = sigsetjmp(jb, 1)) == 0) {
		*out = *(volatile unsigned char *)p;
		in_guard = 0;
		return 0;
	}
	return s;
}
static int try_write(volatile void *p, unsigned char v)
{
	int s;
	in_guard = 1;
	if ((s = sigsetjmp(jb, 1)) == 0) {
		*(volatile unsigned char *)p = v;
		in_guard = 0;
		return 0;
	}
	return s;
}
static void A_res(const char *name, int rc, unsigned val)
{
	if (rc == 0)
		printf("CASE %s -> access ok value=%u\n", name, val);
	else if (rc == SIGBUS)
		printf("CASE %s -> SIGBUS\n", name);
	else if (rc == SIGSEGV)
		printf("CASE %s -> SIGSEGV\n", name);
	else
		printf("CASE %s -> signal %d\n", name, rc);
	fflush(stdout);
}
static void AR(const char *name, void *p)
{
	unsigned v = 0;
	int rc = try_read(p, &v);
	A_res(name, rc, v);
}
static void AW(const char *name, void *p, unsigned char v)
{
	int rc = try_write(p, v);
	A_res(name, rc, v);
}
/* silent helpers returning value or -signal */
static int rd(void *p) { unsigned v; int rc = try_read(p, &v); return rc ? -rc : (int)v; }
static int wr(void *p, unsigned char v) { return -try_write(p, v); }

/* ---------- KVM helpers ---------- */
static int vm_new(unsigned long type)
{
	int vm = ioctl(kvm_fd, KVM_CREATE_VM_NR, type);
	if (vm < 0 && type == 0) {
		perror("KVM_CREATE_VM(0)");
		exit(1);
	}
	return vm;
}
static int gmem_new(int vm, u64 size, u64 flags)
{
	struct kvm_create_guest_memfd_uapi g;
	memset(&g, 0, sizeof(g));
	g.size = size;
	g.flags = flags;
	return ioctl(vm, KVM_CREATE_GUEST_MEMFD_NR, &g);
}
static int setmem2(int vm, u32 slot, u32 flags, u64 gpa, u64 size, u64 uaddr,
		   u64 off, u32 fd)
{
	struct kvm_userspace_memory_region2_uapi r;
	memset(&r, 0, sizeof(r));
	r.slot = slot; r.flags = flags; r.guest_phys_addr = gpa; r.memory_size = size;
	r.userspace_addr = uaddr; r.guest_memfd_offset = off; r.guest_memfd = fd;
	return ioctl(vm, KVM_SET_USER_MEMORY_REGION2_NR, &r);
}
static void xclose(int fd) { if (fd >= 0) close(fd); }
static const u64 MS = GUEST_MEMFD_FLAG_MMAP_BIT | GUEST_MEMFD_FLAG_INIT_SHARED_BIT;
static void *gmap(int fd, size_t len, int prot) { return mmap(NULL, len, prot, MAP_SHARED, fd, 0); }

/* =================================================================== */
static void probe_system(void)
{
	SECTION("1. system / caps / VM types");
	R("KVM_GET_API_VERSION", ioctl(kvm_fd, KVM_GET_API_VERSION_NR, 0));
	int vm = vm_new(0);
	int caps[64], nc = 0;
	caps[nc++] = 10;  /* NR_MEMSLOTS */
	caps[nc++] = 14;  /* MAX_VCPUS? (KVM_CAP_NR_VCPUS=9, MAX_VCPUS=66) */
	caps[nc++] = 118; /* MULTI_ADDRESS_SPACE */
	caps[nc++] = 201;
	for (int c = 231; c <= 251; c++)
		caps[nc++] = c;
	for (int i = 0; i < nc; i++) {
		Rf(ioctl(kvm_fd, KVM_CHECK_EXTENSION_NR, caps[i]), "check_extension_devkvm_cap%d", caps[i]);
		Rf(ioctl(vm, KVM_CHECK_EXTENSION_NR, caps[i]), "check_extension_vm0_cap%d", caps[i]);
	}
	long t = ioctl(kvm_fd, KVM_CHECK_EXTENSION_NR, 235);
	F("vm_types_bitmask", "0x%lx", t);
	unsigned long types[] = {0, 1, 2, 3, 4, 5, 6, 1UL << 31};
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int v = ioctl(kvm_fd, KVM_CREATE_VM_NR, types[i]);
		Rf(v < 0 ? -1 : 0, "create_vm_type_0x%lx", types[i]);
		if (v >= 0) {
			Rf(ioctl(v, KVM_CHECK_EXTENSION_NR, 244), "check_extension_vmtype0x%lx_cap244", types[i]);
			Rf(ioctl(v, KVM_CHECK_EXTENSION_NR, 233), "check_extension_vmtype0x%lx_cap233", types[i]);
			close(v);
		}
	}
	/* VM ioctl from a different mm (forked child) */
	int p[2];
	if (pipe(p) == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			int e = 0;
			int r = gmem_new(vm, PG, 0);
			e = r < 0 ? errno : 0;
			if (write(p[1], &e, sizeof(e)) < 0) _exit(2);
			_exit(0);
		}
		int e = -1;
		waitpid(pid, NULL, 0);
		if (read(p[0], &e, sizeof(e)) != sizeof(e)) e = -1;
		F("create_gmem_from_forked_child_other_mm", "%s", e ? ename(e) : "ok");
		close(p[0]); close(p[1]);
	}
	close(vm);
}

/* =================================================================== */
static void probe_create(void)
{
	SECTION("2. KVM_CREATE_GUEST_MEMFD");
	int vm = vm_new(0);
	char okbits[512] = "", errs[512] = "";
	int nerr_by[256] = {0};
	for (int b = 0; b < 64; b++) {
		int fd = gmem_new(vm, PG, 1ULL << b);
		if (fd >= 0) {
			char t[16]; snprintf(t, sizeof t, "%d,", b); strcat(okbits, t);
			close(fd);
		} else if (errno < 256)
			nerr_by[errno]++;
	}
	for (int e = 0; e < 256; e++)
		if (nerr_by[e]) {
			char t[64]; snprintf(t, sizeof t, "%s x%d ", ename(e), nerr_by[e]); strcat(errs, t);
		}
	F("create_flag_single_bits_succeeding", "bits {%s}", okbits);
	F("create_flag_single_bits_failing_errnos", "%s", errs);
	int fd;
	fd = gmem_new(vm, PG, 0); R("create_flags_0", fd); xclose(fd);
	fd = gmem_new(vm, PG, MS); R("create_flags_MMAP|INIT_SHARED", fd); xclose(fd);
	fd = gmem_new(vm, PG, GUEST_MEMFD_FLAG_INIT_SHARED_BIT); R("create_flags_INIT_SHARED_only", fd); xclose(fd);
	fd = gmem_new(vm, PG, GUEST_MEMFD_FLAG_MMAP_BIT); R("create_flags_MMAP_only", fd); xclose(fd);
	fd = gmem_new(vm, PG, 0x7); R("create_flags_0x7", fd); xclose(fd);
	fd = gmem_new(vm, PG, ~0ULL); R("create_flags_all_ones", fd); xclose(fd);
	u64 sizes[] = {0, 1, 4095, 4096, 4097, 8192, 0x7ffffffffffff000ULL,
		       0x8000000000000000ULL, 0xfffffffffffff000ULL, 1ULL << 40, 1ULL << 62};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fd = gmem_new(vm, sizes[i], 0);
		Rf(fd, "create_size_0x%llx", (unsigned long long)sizes[i]);
		if (fd >= 0) {
			struct stat st;
			fstat(fd, &st);
			F("  create_size_st_size", "st_size=%lld", (long long)st.st_size);
			close(fd);
		}
	}
	/* huge size + MMAP|INIT_SHARED: can we mmap/touch far offsets? */
	fd = gmem_new(vm, 1ULL << 40, MS);
	Rf(fd, "create_size_1TiB_MMAP|INIT_SHARED");
	if (fd >= 0) {
		void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (1ULL << 40) - PG);
		M("  mmap_last_page_of_1TiB_gmem", p);
		if (p != MAP_FAILED) { AW("  write_last_page_of_1TiB_gmem", p, 7); AR("  read_last_page_of_1TiB_gmem", p); munmap(p, PG); }
		close(fd);
	}
	struct kvm_create_guest_memfd_uapi g;
	memset(&g, 0, sizeof g); g.size = PG; g.reserved[0] = 1;
	fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD_NR, &g); R("create_reserved0_eq_1", fd); xclose(fd);
	memset(&g, 0, sizeof g); g.size = PG; g.reserved[5] = 1;
	fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD_NR, &g); R("create_reserved5_eq_1", fd); xclose(fd);
	memset(&g, 0, sizeof g); g.size = PG; memset(g.reserved, 0xff, sizeof g.reserved);
	fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD_NR, &g); R("create_reserved_all_ff", fd); xclose(fd);
	/* check order */
	fd = gmem_new(vm, 1, 1ULL << 5); R("create_order_badflag_badsize(both EINVAL?)", fd); xclose(fd);
	fd = gmem_new(vm, 0, 1ULL << 5); R("create_order_badflag_size0", fd); xclose(fd);
	fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD_NR, (void *)8); R("create_arg_bad_pointer", fd); xclose(fd);
	fd = ioctl(vm, _IOWR(KVMIO, 0xd4, u64), &g); R("create_ioctl_wrong_size_encoding", fd); xclose(fd);
	{
		struct rlimit rl, rl2;
		getrlimit(RLIMIT_NOFILE, &rl);
		int nf = dup(0); close(nf);
		rl2 = rl; rl2.rlim_cur = nf;
		setrlimit(RLIMIT_NOFILE, &rl2);
		fd = gmem_new(vm, PG, 0); R("create_no_free_fd", fd); xclose(fd);
		fd = gmem_new(vm, PG, 1ULL << 7); R("ORDER_create_no_free_fd_AND_bad_flag", fd); xclose(fd);
		fd = gmem_new(vm, 1, 0); R("ORDER_create_no_free_fd_AND_bad_size", fd); xclose(fd);
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* properties */
	fd = gmem_new(vm, PG, MS);
	int fdf = fcntl(fd, F_GETFD);
	F("gmem_fd_FD_CLOEXEC", "%s (F_GETFD=%d)", (fdf & FD_CLOEXEC) ? "set" : "not set", fdf);
	int fl = fcntl(fd, F_GETFL);
	F("gmem_fd_F_GETFL", "0x%x accmode=%s", fl,
	  (fl & O_ACCMODE) == O_RDWR ? "O_RDWR" : (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : "O_WRONLY");
	int fd2 = gmem_new(vm, 4 * PG, 0);
	struct stat s1, s2;
	fstat(fd, &s1); fstat(fd2, &s2);
	F("two_gmems_st_ino", "ino1=%lu ino2=%lu %s dev1=0x%lx dev2=0x%lx", (unsigned long)s1.st_ino,
	  (unsigned long)s2.st_ino, s1.st_ino != s2.st_ino ? "differ" : "SAME",
	  (unsigned long)s1.st_dev, (unsigned long)s2.st_dev);
	char lnk[256], path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, lnk, sizeof lnk - 1);
	if (n > 0) lnk[n] = 0; else strcpy(lnk, "?");
	F("gmem_proc_fd_link", "%s", lnk);
	struct statfs sf;
	if (fstatfs(fd, &sf) == 0)
		F("gmem_fstatfs_f_type", "0x%lx", (unsigned long)sf.f_type);
	else
		R("gmem_fstatfs", -1);
	close(fd); close(fd2);
	close(vm);
}

/* =================================================================== */
static void probe_fileops(void)
{
	SECTION("3. file operations on the gmem fd");
	int vm = vm_new(0);
	int fd = gmem_new(vm, 4 * PG, MS);
	char buf[8192];
	memset(buf, 'x', sizeof buf);
	R("read", read(fd, buf, PG));
	R("read_len0", read(fd, buf, 0));
	R("write", write(fd, buf, PG));
	R("write_len0", write(fd, buf, 0));
	R("pread_off0", pread(fd, buf, PG, 0));
	R("pwrite_off0", pwrite(fd, buf, PG, 0));
	struct iovec iv = {buf, PG};
	R("readv", readv(fd, &iv, 1));
	R("writev", writev(fd, &iv, 1));
	R("preadv2_off_minus1", preadv2(fd, &iv, 1, -1, 0));
	R("lseek_SET_0", lseek(fd, 0, SEEK_SET));
	R("lseek_SET_4096", lseek(fd, PG, SEEK_SET));
	R("lseek_END_0", lseek(fd, 0, SEEK_END));
	R("lseek_CUR_0", lseek(fd, 0, SEEK_CUR));
	R("lseek_DATA_0", lseek(fd, 0, SEEK_DATA));
	R("ftruncate_same_size", ftruncate(fd, 4 * PG));
	R("ftruncate_bigger", ftruncate(fd, 8 * PG));
	R("ftruncate_smaller", ftruncate(fd, PG));
	R("ftruncate_0", ftruncate(fd, 0));
	R("ftruncate_neg", ftruncate(fd, -1));
	R("fchmod_0600", fchmod(fd, 0600));
	R("fchown_0_0", fchown(fd, 0, 0));
	R("futimens_now", futimens(fd, NULL));
	R("fsync", fsync(fd));
	R("fdatasync", fdatasync(fd));
	R("syncfs", syncfs(fd));
	R("sync_file_range", sync_file_range(fd, 0, PG, 0));
	{ int r = posix_fadvise(fd, 0, PG, POSIX_FADV_WILLNEED); errno = r; R("posix_fadvise_WILLNEED", r ? -1 : 0); }
	{ int r = posix_fallocate(fd, 0, PG); errno = r; R("posix_fallocate(mode0)", r ? -1 : 0); }
	R("readahead", readahead(fd, 0, PG));
	R("flock_EX", flock(fd, LOCK_EX));
	R("flock_UN", flock(fd, LOCK_UN));
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = PG};
	R("fcntl_F_SETLK_wrlck", fcntl(fd, F_SETLK, &lk));
	R("fcntl_F_SETFL_O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
	F("  F_GETFL_after_SETFL_APPEND", "0x%x", fcntl(fd, F_GETFL));
	fcntl(fd, F_SETFL, 0);
	R("fcntl_F_ADD_SEALS", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	R("fcntl_F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	R("fcntl_F_SETLEASE_RDLCK", fcntl(fd, F_SETLEASE, F_RDLCK));
	R("fcntl_F_SETLEASE_UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK));
	R("ioctl_KVM_CHECK_EXTENSION_on_gmem", ioctl(fd, KVM_CHECK_EXTENSION_NR, 234));
	R("ioctl_KVM_CREATE_GUEST_MEMFD_on_gmem", ioctl(fd, KVM_CREATE_GUEST_MEMFD_NR, buf));
	struct kvm_memory_attributes2_uapi a2; memset(&a2, 0, sizeof a2); a2.size = PG;
	R("ioctl_KVM_SET_MEMORY_ATTRIBUTES2_on_gmem", ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2_NR, &a2));
	int iv32 = 0;
	R("ioctl_FIONREAD_on_gmem", ioctl(fd, FIONREAD, &iv32));
	F("  FIONREAD_value", "%d", iv32);
	iv32 = 0;
	R("ioctl_FIGETBSZ_on_gmem", ioctl(fd, 2 /*FIGETBSZ*/, &iv32));
	F("  FIGETBSZ_value", "%d", iv32);
	R("ioctl_FIONBIO_on_gmem", ioctl(fd, FIONBIO, &(int){0}));
	R("ioctl_FS_IOC_GETFLAGS_on_gmem", ioctl(fd, 0x80086601, &(long){0}));
	int null = open("/dev/null", O_WRONLY);
	off_t so = 0;
	R("sendfile_from_gmem", sendfile(null, fd, &so, PG));
	int pp[2]; pipe(pp);
	R("splice_gmem_to_pipe", splice(fd, &so, pp[1], NULL, PG, SPLICE_F_NONBLOCK));
	R("copy_file_range_gmem_to_null", copy_file_range(fd, NULL, null, NULL, PG, 0));
	close(pp[0]); close(pp[1]); close(null);
	int d = dup(fd);
	R("dup", d);
	if (d >= 0) {
		R("  fallocate_KEEP_via_dup", fallocate(d, FL_KEEP, 0, PG));
		close(d);
	}
	/* reopen through /proc */
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY);
	R("reopen_proc_fd_O_RDONLY", ro);
	if (ro >= 0) {
		R("  ro_reopen_fallocate_KEEP", fallocate(ro, FL_KEEP, 0, PG));
		R("  ro_reopen_fallocate_PUNCH", fallocate(ro, FL_KEEP | FL_PUNCH, 0, PG));
		R("  ro_reopen_fallocate_unaligned(EBADF vs EINVAL)", fallocate(ro, FL_KEEP, 1, PG));
		R("  ro_reopen_fallocate_badmode(EBADF vs EOPNOTSUPP)", fallocate(ro, FL_KEEP | FL_NOHIDE, 0, PG));
		void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
		M("  ro_reopen_mmap_shared_RW", p); if (p != MAP_FAILED) munmap(p, PG);
		p = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
		M("  ro_reopen_mmap_shared_RO", p); if (p != MAP_FAILED) munmap(p, PG);
		struct stat a, b; fstat(fd, &a); fstat(ro, &b);
		F("  ro_reopen_same_inode", "%s", a.st_ino == b.st_ino ? "yes" : "no");
		close(ro);
	}
	int rw = open(path, O_RDWR);
	R("reopen_proc_fd_O_RDWR", rw); xclose(rw);
	close(fd);

	/* fstat details */
	fd = gmem_new(vm, 4 * PG, MS);
	struct stat st;
	fstat(fd, &st);
	const char *ty = S_ISREG(st.st_mode) ? "S_IFREG" : S_ISCHR(st.st_mode) ? "S_IFCHR" : S_ISSOCK(st.st_mode) ? "S_IFSOCK" : S_ISFIFO(st.st_mode) ? "S_IFIFO" : (st.st_mode & S_IFMT) == 0 ? "0(no type)" : "other";
	F("fstat_fresh", "st_size=%lld st_blksize=%ld st_blocks=%lld st_mode=0%o type=%s st_nlink=%lu st_uid=%u",
	  (long long)st.st_size, (long)st.st_blksize, (long long)st.st_blocks, st.st_mode, ty,
	  (unsigned long)st.st_nlink, st.st_uid);
	F("fstat_times", "atime=%ld mtime=%ld ctime=%ld", (long)st.st_atime, (long)st.st_mtime, (long)st.st_ctime);
	struct timespec m0 = st.st_mtim;
	usleep(20000);
	R("fallocate_KEEP_one_page", fallocate(fd, FL_KEEP, 0, PG));
	fstat(fd, &st);
	F("fstat_after_fallocate_1page", "st_size=%lld st_blocks=%lld mtime_changed=%s",
	  (long long)st.st_size, (long long)st.st_blocks,
	  (st.st_mtim.tv_sec != m0.tv_sec || st.st_mtim.tv_nsec != m0.tv_nsec) ? "yes" : "no");
	char *p = gmap(fd, 4 * PG, PROT_READ | PROT_WRITE);
	wr(p + PG, 1);
	wr(p + 2 * PG, 1);
	fstat(fd, &st);
	F("fstat_after_host_write_fault_2pages", "st_size=%lld st_blocks=%lld", (long long)st.st_size, (long long)st.st_blocks);
	m0 = st.st_mtim; usleep(20000);
	fallocate(fd, FL_KEEP | FL_PUNCH, 0, 4 * PG);
	fstat(fd, &st);
	F("fstat_after_punch_all", "st_blocks=%lld mtime_changed=%s", (long long)st.st_blocks,
	  (st.st_mtim.tv_sec != m0.tv_sec || st.st_mtim.tv_nsec != m0.tv_nsec) ? "yes" : "no");
	munmap(p, 4 * PG);
	close(fd);
	/* fstat on gmem without MMAP */
	fd = gmem_new(vm, 2 * PG, 0);
	fstat(fd, &st);
	F("fstat_flags0", "st_size=%lld st_blksize=%ld st_mode=0%o", (long long)st.st_size, (long)st.st_blksize, st.st_mode);
	close(fd);
	close(vm);
}

/* =================================================================== */
static void probe_mmap(void)
{
	SECTION("4. mmap");
	int vm = vm_new(0);
	int f0 = gmem_new(vm, 4 * PG, 0);
	int fm = gmem_new(vm, 4 * PG, GUEST_MEMFD_FLAG_MMAP_BIT);
	int fi = gmem_new(vm, 4 * PG, GUEST_MEMFD_FLAG_INIT_SHARED_BIT);
	int fs = gmem_new(vm, 4 * PG, MS);
	void *p;
	size_t L = 4 * PG;
	int RW = PROT_READ | PROT_WRITE;
#define MM(name, len, prot, fl, fd, off) do { p = mmap(NULL, len, prot, fl, fd, off); M(name, p); if (p != MAP_FAILED) munmap(p, len); } while (0)
	MM("mmap_noMMAPflag_SHARED", L, RW, MAP_SHARED, f0, 0);
	MM("mmap_noMMAPflag_PRIVATE", L, RW, MAP_PRIVATE, f0, 0);
	MM("mmap_noMMAPflag_SHARED_PROT_NONE", L, PROT_NONE, MAP_SHARED, f0, 0);
	MM("mmap_INIT_SHARED_only_SHARED", L, RW, MAP_SHARED, fi, 0);
	MM("mmap_MMAPonly_SHARED", L, RW, MAP_SHARED, fm, 0);
	MM("mmap_MMAPonly_PRIVATE", L, RW, MAP_PRIVATE, fm, 0);
	MM("mmap_MS_PRIVATE_RW", L, RW, MAP_PRIVATE, fs, 0);
	MM("mmap_MS_PRIVATE_RO", L, PROT_READ, MAP_PRIVATE, fs, 0);
	MM("mmap_MS_SHARED_RWX", L, RW | PROT_EXEC, MAP_SHARED, fs, 0);
	MM("mmap_MS_SHARED_X_only", L, PROT_EXEC, MAP_SHARED, fs, 0);
	MM("mmap_MS_PRIVATE_RWX(order: EXEC vs PRIVATE)", L, RW | PROT_EXEC, MAP_PRIVATE, fs, 0);
	MM("mmap_noMMAP_PRIVATE_RWX(order)", L, RW | PROT_EXEC, MAP_PRIVATE, f0, 0);
	MM("mmap_MS_SHARED_RW", L, RW, MAP_SHARED, fs, 0);
	MM("mmap_MS_SHARED_RO", L, PROT_READ, MAP_SHARED, fs, 0);
	MM("mmap_MS_SHARED_WO", L, PROT_WRITE, MAP_SHARED, fs, 0);
	MM("mmap_MS_SHARED_NONE", L, PROT_NONE, MAP_SHARED, fs, 0);
	MM("mmap_MS_SHARED_VALIDATE", L, RW, MAP_SHARED_VALIDATE, fs, 0);
	MM("mmap_MS_SHARED_VALIDATE|MAP_SYNC", L, RW, MAP_SHARED_VALIDATE | 0x80000, fs, 0);
	MM("mmap_MS_SHARED|MAP_POPULATE", L, RW, MAP_SHARED | MAP_POPULATE, fs, 0);
	MM("mmap_MMAPonly_SHARED|MAP_POPULATE", L, RW, MAP_SHARED | MAP_POPULATE, fm, 0);
	MM("mmap_MS_SHARED|MAP_LOCKED", L, RW, MAP_SHARED | MAP_LOCKED, fs, 0);
	MM("mmap_MS_SHARED|MAP_HUGETLB", L, RW, MAP_SHARED | MAP_HUGETLB, fs, 0);
	MM("mmap_MS_offset_unaligned_1", PG, RW, MAP_SHARED, fs, 1);
	MM("mmap_MS_len0", 0, RW, MAP_SHARED, fs, 0);
	MM("mmap_MS_len_4x_size", 4 * L, RW, MAP_SHARED, fs, 0);
	p = mmap(NULL, PG, RW, MAP_SHARED, fs, L);
	M("mmap_MS_offset_at_EOF", p);
	if (p != MAP_FAILED) { AR("  touch_read_mapping_at_EOF", p); AW("  touch_write_mapping_at_EOF", p, 1); munmap(p, PG); }
	p = mmap(NULL, PG, RW, MAP_SHARED, fs, 1ULL << 40);
	M("mmap_MS_offset_1TiB_beyond_EOF", p);
	if (p != MAP_FAILED) { AR("  touch_read_mapping_1TiB", p); munmap(p, PG); }
	p = mmap(NULL, PG, RW, MAP_SHARED, fs, 0x7ffffffffffff000LL);
	M("mmap_MS_offset_0x7ffffffffffff000", p); if (p != MAP_FAILED) munmap(p, PG);
	p = mmap(NULL, 2 * PG, RW, MAP_SHARED, fs, 0x7ffffffffffff000LL);
	M("mmap_MS_offset_0x7ffffffffffff000_len2pages(overflow)", p); if (p != MAP_FAILED) munmap(p, 2 * PG);
	/* mmap an O_RDONLY reopen with PROT_WRITE was done in fileops */
	close(f0); close(fm); close(fi); close(fs);
	close(vm);
#undef MM
}

/* =================================================================== */
static void probe_faults(void)
{
	SECTION("5. host faults");
	int vm = vm_new(0);
	size_t L = 4 * PG;
	int RW = PROT_READ | PROT_WRITE;
	/* MMAP without INIT_SHARED */
	int fm = gmem_new(vm, L, GUEST_MEMFD_FLAG_MMAP_BIT);
	char *p = gmap(fm, L, RW);
	AR("private_MMAPonly_read_fault", p);
	AW("private_MMAPonly_write_fault", p + PG, 1);
	F("  sigbus_si_code_last", "%d (BUS_ADRERR=2)", last_si_code);
	R("  private_fallocate_KEEP", fallocate(fm, FL_KEEP, 0, L));
	AR("private_read_after_fallocate", p);
	R("  private_madvise_POPULATE_READ", madvise(p, PG, MADV_POPULATE_READ));
	R("  private_madvise_POPULATE_WRITE", madvise(p, PG, MADV_POPULATE_WRITE));
	R("  private_mlock", mlock(p, PG));
	munlock(p, PG);
	munmap(p, L);
	close(fm);

	int fs = gmem_new(vm, L, MS);
	p = gmap(fs, L, RW);
	AR("shared_read_never_written", p + 3 * PG + 100);
	AW("shared_write_page0", p, 0xab);
	AR("shared_readback_page0", p);
	char *q = gmap(fs, L, RW);
	AW("shared_write_page1_via_mapA", p + PG + 5, 0x5a);
	AR("shared_read_page1_via_mapB", q + PG + 5);
	AW("shared_write_page2_via_mapB", q + 2 * PG, 0x33);
	AR("shared_read_page2_via_mapA", p + 2 * PG);
	munmap(q, L);
	munmap(p, L);
	p = gmap(fs, L, RW);
	AR("shared_remap_readback_page0", p);
	AR("shared_remap_readback_page1", p + PG + 5);
	munmap(p, L);
	/* partial-offset mapping sees the right page */
	p = mmap(NULL, PG, RW, MAP_SHARED, fs, PG);
	AR("shared_offset_mapping_page1_byte5", p + 5);
	munmap(p, PG);
	/* 4x length */
	p = mmap(NULL, 4 * L, RW, MAP_SHARED, fs, 0);
	AR("overlong_read_page3(last in file)", p + 3 * PG);
	AR("overlong_read_page4(EOF)", p + 4 * PG);
	AW("overlong_write_page4(EOF)", p + 4 * PG, 1);
	AR("overlong_read_page15", p + 15 * PG);
	munmap(p, 4 * L);
	/* PROT_READ mapping, write */
	p = gmap(fs, L, PROT_READ);
	AR("protread_read", p);
	AW("protread_write", p, 1);
	F("  sigsegv_si_code_last", "%d (SEGV_ACCERR=2)", last_si_code);
	munmap(p, L);
	p = gmap(fs, L, PROT_NONE);
	AR("protnone_read", p);
	AW("protnone_write", p, 1);
	R("  protnone_mprotect_READ", mprotect(p, L, PROT_READ));
	AR("  protnone_then_read", p);
	munmap(p, L);
	p = gmap(fs, L, RW);
	R("mprotect_RW_to_EXEC", mprotect(p, L, PROT_EXEC));
	R("mprotect_RW_to_RWX", mprotect(p, L, PROT_READ | PROT_WRITE | PROT_EXEC));
	R("mprotect_RW_to_READ", mprotect(p, L, PROT_READ));
	AW("  write_after_mprotect_READ", p, 1);
	R("mprotect_back_to_RW", mprotect(p, L, RW));
	AW("  write_after_mprotect_RW", p, 0x77);
	AR("  read_after_mprotect_RW", p);
	/* mremap */
	char *r = mremap(p, L, 2 * L, MREMAP_MAYMOVE);
	M("mremap_grow_2x_maymove", r == MAP_FAILED ? MAP_FAILED : r);
	if (r != MAP_FAILED) {
		AR("  mremap_read_page0", r);
		AR("  mremap_read_page4_past_EOF", r + 4 * PG);
		munmap(r, 2 * L);
	} else
		munmap(p, L);
	/* mapping survives close */
	int fc = gmem_new(vm, L, MS);
	p = gmap(fc, L, RW);
	wr(p, 0x42);
	close(fc);
	AR("after_close_fd_read_old_data", p);
	AW("after_close_fd_write", p + PG, 0x43);
	AR("after_close_fd_readback", p + PG);
	AR("after_close_fd_read_past_nothing(page3 fresh)", p + 3 * PG);
	munmap(p, L);
	close(fs);
	close(vm);
}

/* =================================================================== */
static void probe_fallocate(void)
{
	SECTION("6. fallocate");
	int vm = vm_new(0);
	size_t T = 4 * PG;
	int fd = gmem_new(vm, T, MS);
	struct { const char *n; int mode; long long off, len; } c[] = {
		{"mode0_(0,page)", 0, 0, PG},
		{"KEEP_(0,total)", FL_KEEP, 0, T},
		{"PUNCH_alone_0x02_(0,page)", FL_PUNCH, 0, PG},
		{"PUNCH|KEEP_(0,page)", FL_PUNCH | FL_KEEP, 0, PG},
		{"PUNCH|KEEP_(0,total)", FL_PUNCH | FL_KEEP, 0, T},
		{"0x04_NO_HIDE_STALE", FL_NOHIDE, 0, PG},
		{"0x05_NO_HIDE_STALE|KEEP", FL_NOHIDE | FL_KEEP, 0, PG},
		{"0x07_NOHIDE|PUNCH|KEEP", 0x07, 0, PG},
		{"0x08_COLLAPSE", FL_COLLAPSE, 0, PG},
		{"0x09_COLLAPSE|KEEP", FL_COLLAPSE | FL_KEEP, 0, PG},
		{"0x10_ZERO", FL_ZERO, 0, PG},
		{"0x11_ZERO|KEEP", FL_ZERO | FL_KEEP, 0, PG},
		{"0x20_INSERT", FL_INSERT, 0, PG},
		{"0x21_INSERT|KEEP", FL_INSERT | FL_KEEP, 0, PG},
		{"0x40_UNSHARE", FL_UNSHARE, 0, PG},
		{"0x41_UNSHARE|KEEP", FL_UNSHARE | FL_KEEP, 0, PG},
		{"0x80_WRITE_ZEROES", FL_WRZERO, 0, PG},
		{"0x81_WRITE_ZEROES|KEEP", FL_WRZERO | FL_KEEP, 0, PG},
		{"0x100", 0x100, 0, PG},
		{"0x101", 0x101, 0, PG},
		{"0x12_ZERO|PUNCH", 0x12, 0, PG},
		{"0x13_ZERO|PUNCH|KEEP", 0x13, 0, PG},
		{"-1_all_bits", -1, 0, PG},
		{"KEEP_off_-1", FL_KEEP, -1, PG},
		{"KEEP_len_0", FL_KEEP, 0, 0},
		{"KEEP_len_-1", FL_KEEP, 0, -1},
		{"KEEP_off_unaligned_(page-1,page)", FL_KEEP, PG - 1, PG},
		{"KEEP_len_unaligned_(page,page-1)", FL_KEEP, PG, PG - 1},
		{"KEEP_off1_len1", FL_KEEP, 1, 1},
		{"PUNCH|KEEP_off_-1", FL_PUNCH | FL_KEEP, -1, PG},
		{"PUNCH|KEEP_len_0", FL_PUNCH | FL_KEEP, 0, 0},
		{"PUNCH|KEEP_len_-1", FL_PUNCH | FL_KEEP, 0, -1},
		{"PUNCH|KEEP_off_unaligned", FL_PUNCH | FL_KEEP, 1, PG},
		{"PUNCH|KEEP_len_unaligned", FL_PUNCH | FL_KEEP, 0, PG + 1},
		{"KEEP_at_EOF_(total,page)", FL_KEEP, T, PG},
		{"KEEP_past_EOF_(total+page,page)", FL_KEEP, T + PG, PG},
		{"KEEP_straddle_EOF_(total-page,2page)", FL_KEEP, T - PG, 2 * PG},
		{"KEEP_last_page_(total-page,page)", FL_KEEP, T - PG, PG},
		{"PUNCH|KEEP_at_EOF", FL_PUNCH | FL_KEEP, T, PG},
		{"PUNCH|KEEP_past_EOF", FL_PUNCH | FL_KEEP, T + PG, PG},
		{"PUNCH|KEEP_straddle_EOF", FL_PUNCH | FL_KEEP, T - PG, 2 * PG},
		{"PUNCH|KEEP_far_past_EOF_(1TiB,1TiB)", FL_PUNCH | FL_KEEP, 1LL << 40, 1LL << 40},
		{"KEEP_overflow_(0x7ffffffffffff000,0x2000)", FL_KEEP, 0x7ffffffffffff000LL, 0x2000},
		{"PUNCH|KEEP_overflow_(0x7ffffffffffff000,0x2000)", FL_PUNCH | FL_KEEP, 0x7ffffffffffff000LL, 0x2000},
		{"KEEP_end_eq_2^63_(0x7ffffffffffff000,0x1000)", FL_KEEP, 0x7ffffffffffff000LL, 0x1000},
		{"PUNCH|KEEP_end_eq_2^63", FL_PUNCH | FL_KEEP, 0x7ffffffffffff000LL, 0x1000},
		{"KEEP_end_just_below_2^63_(0x7fffffffffffe000,0x1000)", FL_KEEP, 0x7fffffffffffe000LL, 0x1000},
		{"PUNCH|KEEP_end_just_below_2^63", FL_PUNCH | FL_KEEP, 0x7fffffffffffe000LL, 0x1000},
		{"KEEP_off_huge_unaligned_len_page", FL_KEEP, 0x7fffffffffffe001LL, 0x1000},
		/* check-order pairs */
		{"ORDER_unaligned_AND_pastEOF_alloc(both EINVAL)", FL_KEEP, T + 1, PG},
		{"ORDER_mode0_AND_unaligned(EOPNOTSUPP vs EINVAL)", 0, 1, PG},
		{"ORDER_mode0_AND_pastEOF", 0, T, PG},
		{"ORDER_mode0_AND_len0(VFS EINVAL first?)", 0, 0, 0},
		{"ORDER_len0_AND_unaligned_off", FL_KEEP, 1, 0},
		{"ORDER_len0_AND_badmode_0x04", FL_NOHIDE | FL_KEEP, 0, 0},
		{"ORDER_off-1_AND_badmode_0x04", FL_NOHIDE | FL_KEEP, -1, PG},
		{"ORDER_PUNCHnoKEEP_AND_len0", FL_PUNCH, 0, 0},
		{"ORDER_PUNCHnoKEEP_AND_unaligned", FL_PUNCH, 1, PG},
		{"ORDER_overflow_AND_unaligned(EFBIG vs EINVAL)", FL_KEEP, 0x7ffffffffffff001LL, 0x2000},
		{"ORDER_overflow_AND_mode0(EFBIG vs EOPNOTSUPP)", 0, 0x7ffffffffffff000LL, 0x2000},
		{"ORDER_overflow_AND_ZERO|KEEP", FL_ZERO | FL_KEEP, 0x7ffffffffffff000LL, 0x2000},
		{"ORDER_overflow_AND_COLLAPSE|KEEP", FL_COLLAPSE | FL_KEEP, 0x7ffffffffffff000LL, 0x2000},
		{"ORDER_ZERO|KEEP_AND_unaligned", FL_ZERO | FL_KEEP, 1, PG},
		{"ORDER_ZERO_noKEEP_AND_unaligned", FL_ZERO, 1, PG},
		{"ORDER_UNSHARE|KEEP_AND_pastEOF", FL_UNSHARE | FL_KEEP, T, PG},
		{"ORDER_mode0_AND_overflow_end_eq_2^63", 0, 0x7ffffffffffff000LL, 0x1000},
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		Rf(fallocate(fd, c[i].mode, c[i].off, c[i].len), "fallocate_%s", c[i].n);
	close(fd);

	/* data semantics */
	fd = gmem_new(vm, T, MS);
	char *p = gmap(fd, T, PROT_READ | PROT_WRITE);
	char *q = gmap(fd, T, PROT_READ | PROT_WRITE);
	memset(p, 0xcd, T);
	F("pattern_read_via_second_mapping_page0", "%d", rd(q + 10));
	R("punch_page0", fallocate(fd, FL_PUNCH | FL_KEEP, 0, PG));
	AR("after_punch_page0_mapA", p + 10);
	AR("after_punch_page0_mapB", q + 10);
	AR("after_punch_page1_keeps", p + PG + 10);
	R("realloc_page0_KEEP", fallocate(fd, FL_KEEP, 0, PG));
	AR("after_realloc_page0_read(not zeroed by alloc? should be 0)", p + 10);
	/* allocate first, then fault */
	R("punch_all", fallocate(fd, FL_PUNCH | FL_KEEP, 0, T));
	AR("after_punch_all_page3", q + 3 * PG);
	R("fallocate_KEEP_all_again", fallocate(fd, FL_KEEP, 0, T));
	R("fallocate_KEEP_all_idempotent", fallocate(fd, FL_KEEP, 0, T));
	AR("read_after_fallocate_only", p + 2 * PG);
	/* madvise REMOVE as a punch */
	memset(p, 0xee, T);
	R("madvise_REMOVE_page1", madvise(p + PG, PG, MADV_REMOVE));
	AR("  after_MADV_REMOVE_page1", q + PG);
	AR("  after_MADV_REMOVE_page0_kept", q);
	munmap(p, T); munmap(q, T);
	close(fd);
	/* fallocate on flags=0 gmem */
	fd = gmem_new(vm, T, 0);
	R("flags0_fallocate_KEEP", fallocate(fd, FL_KEEP, 0, T));
	R("flags0_fallocate_PUNCH", fallocate(fd, FL_KEEP | FL_PUNCH, 0, T));
	R("flags0_fallocate_past_EOF", fallocate(fd, FL_KEEP, T, PG));
	close(fd);
	close(vm);
}

/* =================================================================== */
/* memslot helper context */
struct ctx { int vm; int g; char *map; size_t gsz; };
static struct ctx ctx_new(u64 gflags)
{
	struct ctx c;
	c.vm = vm_new(0);
	c.gsz = 16 * PG;
	c.g = gmem_new(c.vm, c.gsz, gflags);
	c.map = (gflags & GUEST_MEMFD_FLAG_MMAP_BIT) ? gmap(c.g, c.gsz, PROT_READ | PROT_WRITE)
		: mmap(NULL, c.gsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return c;
}
static void ctx_free(struct ctx *c)
{
	munmap(c->map, c->gsz);
	close(c->g);
	close(c->vm);
}
#define GPA 0x100000ULL
#define SZ (4 * PG)

static void probe_memslots(void)
{
	SECTION("7. memslots (KVM_SET_USER_MEMORY_REGION2)");
	struct ctx c;
	u64 U;
#define CASE1(name, expr) do { c = ctx_new(MS); U = (u64)c.map; (void)U; R(name, (expr)); ctx_free(&c); } while (0)
	CASE1("bind_valid_uaddr_is_gmem_mmap", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0, c.g));
	CASE1("bind_uaddr_0", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, 0, 0, c.g));
	CASE1("bind_uaddr_unaligned", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U + 1, 0, c.g));
	CASE1("bind_uaddr_unmapped_user_0x100000000000", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, 0x100000000000ULL, 0, c.g));
	CASE1("bind_uaddr_kernel_0xffff888000000000", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, 0xffff888000000000ULL, 0, c.g));
	CASE1("bind_uaddr_end_crosses_TASK_SIZE", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, 0x00007ffffffff000ULL - PG, 0, c.g));
	CASE1("bind_gpa_unaligned", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA + 1, SZ, U, 0, c.g));
	CASE1("bind_size_unaligned", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ + 1, U, 0, c.g));
	CASE1("bind_size0_new_slot(delete nonexistent)", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, 0, U, 0, c.g));
	CASE1("delete_nonexistent_slot_flags0", setmem2(c.vm, 5, 0, 0, 0, 0, 0, 0));
	CASE1("bind_gmem_offset_unaligned", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 1, c.g));
	CASE1("bind_offset+size>gmem_size", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, c.gsz - PG, c.g));
	CASE1("bind_offset==gmem_size", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, PG, U, c.gsz, c.g));
	CASE1("bind_offset+size==gmem_size(exact end)", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, c.gsz - SZ, c.g));
	CASE1("bind_offset_wraps_0xfffffffffffff000", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0xfffffffffffff000ULL, c.g));
	CASE1("bind_offset_negative_0x8000000000000000", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0x8000000000000000ULL, c.g));
	CASE1("bind_size_larger_than_gmem", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, c.gsz + PG, U, 0, c.g));
	CASE1("bind_gpa+size_wraps", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, 0xfffffffffffff000ULL, 2 * PG, U, 0, c.g));
	CASE1("bind_gpa_1<<52", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, 1ULL << 52, SZ, U, 0, c.g));
	CASE1("bind_gpa_1<<46", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, 1ULL << 46, SZ, U, 0, c.g));
	{
		char okb[256] = "";
		for (int b = 36; b <= 53; b++) {
			c = ctx_new(MS); U = (u64)c.map;
			int r = setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, (1ULL << b) - SZ, SZ, U, 0, c.g);
			char t[32]; snprintf(t, sizeof t, "%d:%s ", b, r ? ename(errno) : "ok"); strcat(okb, t);
			ctx_free(&c);
		}
		F("bind_gpa_end_at_2^b", "%s", okb);
	}
	/* two slots, gmem range overlap */
	c = ctx_new(MS); U = (u64)c.map;
	R("twoslots_first", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, 2 * PG, U, 0, c.g));
	R("twoslots_gmem_overlap", setmem2(c.vm, 1, KVM_MEM_GUEST_MEMFD_BIT, GPA + 0x100000, 2 * PG, U, PG, c.g));
	R("twoslots_gmem_disjoint", setmem2(c.vm, 1, KVM_MEM_GUEST_MEMFD_BIT, GPA + 0x100000, 2 * PG, U, 2 * PG, c.g));
	R("twoslots_gpa_overlap_(gmem disjoint)", setmem2(c.vm, 2, KVM_MEM_GUEST_MEMFD_BIT, GPA + PG, 2 * PG, U, 8 * PG, c.g));
	R("ORDER_gpa_overlap_AND_gmem_overlap(EEXIST vs EINVAL)", setmem2(c.vm, 2, KVM_MEM_GUEST_MEMFD_BIT, GPA + PG, 2 * PG, U, 0, c.g));
	R("ORDER_gpa_overlap_AND_bad_fd(EEXIST vs EBADF)", setmem2(c.vm, 2, KVM_MEM_GUEST_MEMFD_BIT, GPA + PG, 2 * PG, U, 8 * PG, 9999));
	R("ORDER_gmem_overlap_AND_bad_fd", setmem2(c.vm, 3, KVM_MEM_GUEST_MEMFD_BIT, GPA + 0x200000, 2 * PG, U, 0, 9999));
	R("ORDER_gpa_overlap_with_non_gmem_slot_AND_bad_fd", setmem2(c.vm, 4, KVM_MEM_GUEST_MEMFD_BIT, GPA, PG, U, 12 * PG, 9999));
	R("reissue_identical_on_gmem_slot", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, 2 * PG, U, 0, c.g));
	R("modify_gmem_slot_flags_to_0", setmem2(c.vm, 0, 0, GPA, 2 * PG, U, 0, c.g));
	R("move_gmem_slot_gpa", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA + 0x400000, 2 * PG, U, 0, c.g));
	R("resize_gmem_slot", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, 3 * PG, U, 0, c.g));
	R("modify_gmem_slot_other_offset", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, 2 * PG, U, 12 * PG, c.g));
	R("delete_gmem_slot(size0, flags GMEM)", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, 0, U, 0, c.g));
	R("rebind_same_gmem_range_after_delete", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, 2 * PG, U, 0, c.g));
	R("delete_gmem_slot_flags0_size0", setmem2(c.vm, 0, 0, 0, 0, 0, 0, 0));
	R("delete_again(nonexistent)", setmem2(c.vm, 0, 0, 0, 0, 0, 0, 0));
	R("bind_slot_id_1_after", setmem2(c.vm, 7, KVM_MEM_GUEST_MEMFD_BIT, GPA, 2 * PG, U, 0, c.g));
	ctx_free(&c);
	/* non-gmem slot then modify to add GMEM */
	c = ctx_new(MS); U = (u64)c.map;
	char *anon = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R("plain_slot_flags0_anon", setmem2(c.vm, 0, 0, GPA, SZ, (u64)anon, 0, 0));
	R("modify_plain_slot_add_GMEM", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, (u64)anon, 0, c.g));
	R("plain_slot_reissue_identical", setmem2(c.vm, 0, 0, GPA, SZ, (u64)anon, 0, 0));
	R("plain_slot_flags0_uaddr_is_gmem_mmap", setmem2(c.vm, 1, 0, GPA + 0x100000, SZ, U, 0, 0));
	R("plain_slot_LOG_DIRTY", setmem2(c.vm, 2, KVM_MEM_LOG_DIRTY_PAGES_BIT, GPA + 0x200000, SZ, (u64)anon, 0, 0));
	R("plain_slot_READONLY", setmem2(c.vm, 3, KVM_MEM_READONLY_BIT, GPA + 0x300000, SZ, (u64)anon, 0, 0));
	munmap(anon, SZ);
	ctx_free(&c);
	/* other VM's gmem */
	c = ctx_new(MS); U = (u64)c.map;
	int vm2 = vm_new(0);
	int g2 = gmem_new(vm2, 16 * PG, MS);
	R("bind_gmem_from_other_vm", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0, g2));
	R("ORDER_other_vm_gmem_AND_offset_past_EOF(both EINVAL)", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 32 * PG, g2));
	close(g2); close(vm2);
	int dn = open("/dev/null", O_RDWR);
	R("bind_fd_dev_null", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0, dn));
	close(dn);
	int memfd = memfd_create("x", 0); ftruncate(memfd, 16 * PG);
	R("bind_fd_memfd", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0, memfd));
	close(memfd);
	R("bind_fd_vm_fd_itself", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0, c.vm));
	int closed = dup(c.g); close(closed);
	R("bind_fd_closed_number", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0, closed));
	R("bind_fd_minus1", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0, (u32)-1));
	R("ORDER_gpa_unaligned_AND_bad_fd", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA + 1, SZ, U, 0, 9999));
	R("ORDER_offset_unaligned_AND_bad_fd", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 1, 9999));
	R("ORDER_offset_past_EOF_AND_bad_fd(EINVAL vs EBADF)", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 64 * PG, 9999));
	R("ORDER_uaddr_unaligned_AND_bad_fd", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U + 1, 0, 9999));
	R("ORDER_bad_flags_AND_bad_slot", setmem2(c.vm, 40000, KVM_MEM_GUEST_MEMFD_BIT | KVM_MEM_LOG_DIRTY_PAGES_BIT, GPA, SZ, U, 0, c.g));
	R("bind_flags_LOG_DIRTY|GMEM", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT | KVM_MEM_LOG_DIRTY_PAGES_BIT, GPA, SZ, U, 0, c.g));
	R("bind_flags_READONLY|GMEM", setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT | KVM_MEM_READONLY_BIT, GPA, SZ, U, 0, c.g));
	ctx_free(&c);
	/* flag bits 3..16: alone (plain slot) and with GMEM */
	{
		char okp[256] = "", okg[256] = "", ep[256] = "", eg[256] = "";
		for (int b = 3; b <= 31; b++) {
			c = ctx_new(MS); U = (u64)c.map;
			int r = setmem2(c.vm, 0, 1u << b, GPA, SZ, U, 0, 0);
			char t[32];
			if (r == 0) { snprintf(t, sizeof t, "%d,", b); strcat(okp, t); }
			else if (b <= 16) { snprintf(t, sizeof t, "%d:%s,", b, ename(errno)); strcat(ep, t); }
			r = setmem2(c.vm, 1, (1u << b) | KVM_MEM_GUEST_MEMFD_BIT, GPA + 0x100000, SZ, U, 0, c.g);
			if (r == 0) { snprintf(t, sizeof t, "%d,", b); strcat(okg, t); }
			else if (b <= 16) { snprintf(t, sizeof t, "%d:%s,", b, ename(errno)); strcat(eg, t); }
			ctx_free(&c);
		}
		F("memslot_flag_bits_3..31_alone_succeeding", "{%s}", okp);
		F("memslot_flag_bits_3..16_alone_errnos", "%s", ep);
		F("memslot_flag_bits_3..31_with_GMEM_succeeding", "{%s}", okg);
		F("memslot_flag_bits_3..16_with_GMEM_errnos", "%s", eg);
	}
	/* slot ids */
	u32 ids[] = {32763, 32764, 32765, 32767, 32768, 0xffff, 0x10000, 0x10001, 0x20000};
	for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		c = ctx_new(MS); U = (u64)c.map;
		Rf(setmem2(c.vm, ids[i], KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0, c.g), "bind_slot_id_0x%x", ids[i]);
		ctx_free(&c);
	}
	/* gmem flavours */
	u64 gfl[] = {0, GUEST_MEMFD_FLAG_MMAP_BIT, GUEST_MEMFD_FLAG_INIT_SHARED_BIT, MS};
	const char *gn[] = {"flags0", "MMAP_only", "INIT_SHARED_only", "MMAP|INIT_SHARED"};
	for (int i = 0; i < 4; i++) {
		c = ctx_new(gfl[i]); U = (u64)c.map;
		Rf(setmem2(c.vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, SZ, U, 0, c.g), "bind_gmem_created_%s", gn[i]);
		Rf(setmem2(c.vm, 1, KVM_MEM_GUEST_MEMFD_BIT, GPA + 0x100000, SZ, (u64)mmap(NULL, SZ, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 4 * PG, c.g),
		   "  bind_gmem_%s_uaddr_anon", gn[i]);
		ctx_free(&c);
	}
	/* pad fields */
	c = ctx_new(MS); U = (u64)c.map;
	{
		struct kvm_userspace_memory_region2_uapi r;
		memset(&r, 0, sizeof r);
		r.slot = 0; r.flags = KVM_MEM_GUEST_MEMFD_BIT; r.guest_phys_addr = GPA; r.memory_size = SZ;
		r.userspace_addr = U; r.guest_memfd = c.g; r.pad1 = 1; r.pad2[0] = 1; r.pad2[13] = 0xff;
		R("bind_pad1_pad2_nonzero", ioctl(c.vm, KVM_SET_USER_MEMORY_REGION2_NR, &r));
		memset(&r, 0, sizeof r);
		r.slot = 1; r.flags = 0; r.guest_phys_addr = GPA + 0x100000; r.memory_size = SZ;
		r.userspace_addr = U; r.guest_memfd = 12345; r.guest_memfd_offset = 3;
		R("plain_slot_with_garbage_gmem_fields", ioctl(c.vm, KVM_SET_USER_MEMORY_REGION2_NR, &r));
	}
	/* V1 */
	{
		struct kvm_userspace_memory_region_uapi r1 = {.slot = 2, .flags = KVM_MEM_GUEST_MEMFD_BIT, .guest_phys_addr = GPA + 0x200000, .memory_size = SZ, .userspace_addr = U};
		R("v1_flags_GUEST_MEMFD", ioctl(c.vm, KVM_SET_USER_MEMORY_REGION_NR, &r1));
		r1.flags = 1u << 5;
		R("v1_flags_bit5", ioctl(c.vm, KVM_SET_USER_MEMORY_REGION_NR, &r1));
		r1.flags = 0;
		R("v1_flags_0", ioctl(c.vm, KVM_SET_USER_MEMORY_REGION_NR, &r1));
		r1.slot = 0; r1.memory_size = 0;
		R("v1_delete_gmem_slot0", ioctl(c.vm, KVM_SET_USER_MEMORY_REGION_NR, &r1));
	}
	ctx_free(&c);
	/* many slots on one gmem */
	c = ctx_new(MS); U = (u64)c.map;
	{
		int ok = 0, err = 0, e = 0;
		for (int i = 0; i < 16; i++) {
			int r = setmem2(c.vm, i, KVM_MEM_GUEST_MEMFD_BIT, GPA + i * 0x100000ULL, PG, U, i * PG, c.g);
			if (r == 0) ok++; else { err++; e = errno; }
		}
		F("sixteen_1page_slots_one_gmem", "ok=%d err=%d lasterr=%s", ok, err, e ? ename(e) : "-");
	}
	ctx_free(&c);
#undef CASE1
}

/* =================================================================== */
static void probe_attrs(void)
{
	SECTION("8. KVM_SET_MEMORY_ATTRIBUTES");
	int vm = vm_new(0);
	struct kvm_memory_attributes_uapi a;
#define MA(name, addr, sz, at, fl) do { a.address = addr; a.size = sz; a.attributes = at; a.flags = fl; R(name, ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES_NR, &a)); } while (0)
	MA("attrs_0", GPA, PG, 0, 0);
	MA("attrs_PRIVATE", GPA, PG, KVM_MEMORY_ATTRIBUTE_PRIVATE_BIT, 0);
	MA("attrs_flags1", GPA, PG, 0, 1);
	MA("attrs_size0", GPA, 0, 0, 0);
	MA("attrs_addr_unaligned", GPA + 1, PG, 0, 0);
	R("attrs_bad_pointer", ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES_NR, (void *)8));
	struct kvm_memory_attributes2_uapi a2; memset(&a2, 0, sizeof a2); a2.size = PG;
	R("attrs2_on_vm_fd", ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES2_NR, &a2));
	R("unknown_vm_ioctl_0xAEff", ioctl(vm, _IO(KVMIO, 0xff), 0));
	close(vm);
	/* if other VM types work, try there too */
	for (unsigned long t = 1; t <= 5; t++) {
		int v = ioctl(kvm_fd, KVM_CREATE_VM_NR, t);
		if (v < 0) continue;
		vm = v;
		MA("attrs_PRIVATE_on_other_vmtype", GPA, PG, KVM_MEMORY_ATTRIBUTE_PRIVATE_BIT, 0);
		close(v);
	}
#undef MA
}

/* =================================================================== */
static void probe_close_order(void)
{
	SECTION("9. close ordering");
	size_t L = 4 * PG;
	int vm = vm_new(0);
	int g = gmem_new(vm, L, MS);
	char *p0 = gmap(g, L, PROT_READ | PROT_WRITE);
	wr(p0, 0x11);
	close(vm);
	AR("vm_closed_existing_mapping_read", p0);
	char *p = gmap(g, L, PROT_READ | PROT_WRITE);
	M("vm_closed_new_mmap", p ? p : MAP_FAILED);
	if (p != MAP_FAILED) {
		AR("  vm_closed_new_mapping_read_old", p);
		AW("  vm_closed_fault_write_page2", p + 2 * PG, 0x22);
		AR("  vm_closed_read_back", p0 + 2 * PG);
		munmap(p, L);
	}
	R("vm_closed_fallocate_KEEP", fallocate(g, FL_KEEP, 0, L));
	R("vm_closed_fallocate_PUNCH", fallocate(g, FL_KEEP | FL_PUNCH, 0, PG));
	AR("vm_closed_after_punch_read", p0);
	struct stat st; fstat(g, &st);
	F("vm_closed_fstat", "st_size=%lld", (long long)st.st_size);
	munmap(p0, L);
	close(g);

	/* bind, close gmem fd while slot exists, delete slot */
	vm = vm_new(0);
	g = gmem_new(vm, L, MS);
	p = gmap(g, L, PROT_READ | PROT_WRITE);
	R("bind_before_close", setmem2(vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, L, (u64)p, 0, g));
	munmap(p, L);
	int gnum = g;
	close(g);
	R("delete_slot_after_gmem_closed", setmem2(vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, 0, 0, 0, gnum));
	int g2 = gmem_new(vm, L, MS);
	R("bind_new_gmem_same_gpa_after_delete", setmem2(vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, L, 0x10000000, 0, g2));
	/* close gmem while slot bound; then try reissuing / binding same slot */
	close(g2);
	R("reissue_on_slot_whose_gmem_closed", setmem2(vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, L, 0x10000000, 0, g2));
	R("delete_slot_whose_gmem_closed", setmem2(vm, 0, 0, GPA, 0, 0, 0, 0));
	close(vm);

	/* close VM first while slot bound; gmem still usable? */
	vm = vm_new(0);
	g = gmem_new(vm, L, MS);
	p = gmap(g, L, PROT_READ | PROT_WRITE);
	setmem2(vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, L, (u64)p, 0, g);
	wr(p, 0x99);
	close(vm);
	AR("vm_closed_with_bound_slot_mapping_read", p);
	R("vm_closed_with_bound_slot_punch", fallocate(g, FL_KEEP | FL_PUNCH, 0, L));
	munmap(p, L);
	close(g);

	/* close gmem while mapped then access */
	vm = vm_new(0);
	g = gmem_new(vm, L, MS);
	p = gmap(g, L, PROT_READ | PROT_WRITE);
	wr(p, 0x5);
	close(g);
	close(vm);
	AR("gmem_and_vm_closed_mapping_read", p);
	AW("gmem_and_vm_closed_mapping_write_page1", p + PG, 6);
	AR("gmem_and_vm_closed_mapping_read_page1", p + PG);
	AR("gmem_and_vm_closed_mapping_EOF_check_page3", p + 3 * PG);
	munmap(p, L);
}

/* =================================================================== */
static void probe_fork(void)
{
	SECTION("10. fork");
	size_t L = 4 * PG;
	int vm = vm_new(0);
	int g = gmem_new(vm, L, MS);
	char *p = gmap(g, L, PROT_READ | PROT_WRITE);
	p[0] = 0x61;
	int pp[2]; pipe(pp);
	pid_t pid = fork();
	if (pid == 0) {
		int res[6];
		res[0] = rd(p);
		res[1] = wr(p + PG, 0x62);
		/* child: fallocate/mmap with inherited fd, VM ioctl from child */
		res[2] = fallocate(g, FL_KEEP, 0, L) ? errno : 0;
		void *q = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0);
		res[3] = q == MAP_FAILED ? errno : rd((char *)q + PG);
		res[4] = setmem2(vm, 0, KVM_MEM_GUEST_MEMFD_BIT, GPA, L, (u64)p, 0, g) ? errno : 0;
		res[5] = wr(p + 2 * PG, 0x63);
		if (write(pp[1], res, sizeof res) < 0) _exit(2);
		_exit(0);
	}
	int res[6] = {0};
	waitpid(pid, NULL, 0);
	if (read(pp[0], res, sizeof res) != sizeof res) printf("fork read fail\n");
	F("fork_child_reads_parent_data", "value=%d", res[0]);
	F("fork_child_write", "%s", res[1] ? "signal" : "ok");
	AR("fork_parent_sees_child_write", p + PG);
	F("fork_child_fallocate_inherited_fd", "%s", res[2] ? ename(res[2]) : "ok");
	F("fork_child_mmap_inherited_fd_read_page1", "%d", res[3]);
	F("fork_child_KVM_SET_USER_MEMORY_REGION2_on_parent_vm", "%s", res[4] ? ename(res[4]) : "ok");
	AR("fork_parent_sees_child_write_page2", p + 2 * PG);
	close(pp[0]); close(pp[1]);
	/* MAP_SHARED + MADV_DONTFORK / WIPEONFORK */
	R("madvise_DONTFORK", madvise(p, L, MADV_DONTFORK));
	R("madvise_DOFORK", madvise(p, L, MADV_DOFORK));
	munmap(p, L);
	close(g);
	close(vm);
}

/* =================================================================== */
static void probe_madvise(void)
{
	SECTION("11. madvise");
	size_t L = 4 * PG;
	int vm = vm_new(0);
	struct { const char *n; int adv; } a[] = {
		{"DONTNEED", MADV_DONTNEED}, {"REMOVE", MADV_REMOVE}, {"HUGEPAGE", MADV_HUGEPAGE},
		{"NOHUGEPAGE", MADV_NOHUGEPAGE}, {"COLLAPSE", MADV_COLLAPSE}, {"PAGEOUT", MADV_PAGEOUT},
		{"COLD", MADV_COLD}, {"WILLNEED", MADV_WILLNEED}, {"FREE", MADV_FREE},
		{"SEQUENTIAL", MADV_SEQUENTIAL}, {"RANDOM", MADV_RANDOM}, {"NORMAL", MADV_NORMAL},
		{"MERGEABLE", MADV_MERGEABLE}, {"UNMERGEABLE", MADV_UNMERGEABLE},
		{"WIPEONFORK", MADV_WIPEONFORK}, {"KEEPONFORK", MADV_KEEPONFORK},
		{"DONTDUMP", MADV_DONTDUMP}, {"DODUMP", MADV_DODUMP},
		{"POPULATE_READ", MADV_POPULATE_READ}, {"POPULATE_WRITE", MADV_POPULATE_WRITE},
		{"GUARD_INSTALL", MADV_GUARD_INSTALL_}, {"GUARD_REMOVE", MADV_GUARD_REMOVE_},
		{"HWPOISON(skip)", -1},
	};
	for (unsigned i = 0; i < sizeof a / sizeof a[0]; i++) {
		if (a[i].adv < 0) continue;
		int g = gmem_new(vm, L, MS);
		char *p = gmap(g, L, PROT_READ | PROT_WRITE);
		memset(p, 0x3c, L);
		Rf(madvise(p, L, a[i].adv), "madvise_%s", a[i].n);
		char nm[96];
		snprintf(nm, sizeof nm, "  after_%s_refault_read_page1", a[i].n);
		AR(nm, p + PG);
		if (a[i].adv == MADV_GUARD_INSTALL_) madvise(p, L, MADV_GUARD_REMOVE_);
		munmap(p, L);
		close(g);
	}
	/* MADV_DONTNEED on 2nd mapping, data via first */
	int g = gmem_new(vm, L, MS);
	char *p = gmap(g, L, PROT_READ | PROT_WRITE);
	char *q = gmap(g, L, PROT_READ | PROT_WRITE);
	memset(p, 0x44, L);
	madvise(q, L, MADV_DONTNEED);
	AR("DONTNEED_on_mapB_read_mapA", p);
	R("madvise_REMOVE_on_mapB_page0", madvise(q, PG, MADV_REMOVE));
	AR("  REMOVE_on_mapB_read_mapA_page0", p);
	/* MADV_COLLAPSE on PMD-sized */
	munmap(p, L); munmap(q, L); close(g);
	size_t H = 4UL << 20;
	g = gmem_new(vm, H, MS);
	char *raw = mmap(NULL, H + (2UL << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *al = (char *)(((uintptr_t)raw + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	p = mmap(al, 2UL << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, g, 0);
	R("pmd_madvise_HUGEPAGE", madvise(p, 2UL << 20, MADV_HUGEPAGE));
	for (size_t o = 0; o < (2UL << 20); o += PG) p[o] = 1;
	R("pmd_madvise_COLLAPSE", madvise(p, 2UL << 20, MADV_COLLAPSE));
	R("pmd_madvise_DONTNEED", madvise(p, 2UL << 20, MADV_DONTNEED));
	AR("pmd_retouch", p + PG);
	munmap(raw, H + (2UL << 20));
	close(g);
	/* mlock / msync / mincore */
	g = gmem_new(vm, L, MS);
	p = gmap(g, L, PROT_READ | PROT_WRITE);
	p[0] = 1;
	R("mlock_shared", mlock(p, L));
	R("munlock_shared", munlock(p, L));
	R("msync_SYNC", msync(p, L, MS_SYNC));
	R("msync_ASYNC", msync(p, L, MS_ASYNC));
	R("msync_INVALIDATE", msync(p, L, MS_INVALIDATE));
	unsigned char vec[4] = {9, 9, 9, 9};
	R("mincore", mincore(p, L, vec));
	F("  mincore_vec", "%d %d %d %d", vec[0], vec[1], vec[2], vec[3]);
	munmap(p, L);
	close(g);
	close(vm);
}

/* =================================================================== */
struct uring_params { u32 sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd, resv[3]; u8 sq_off[40]; u8 cq_off[40]; };
_Static_assert(sizeof(struct uring_params) == 120, "io_uring_params");

static void uring_reg_cb(const char *name, void *buf, size_t len, void (*cb)(void));
static void uring_reg(const char *name, void *buf, size_t len) { uring_reg_cb(name, buf, len, NULL); }
static void uring_reg_cb(const char *name, void *buf, size_t len, void (*cb)(void))
{
	struct uring_params prm;
	memset(&prm, 0, sizeof prm);
	int ring = syscall(__NR_io_uring_setup, 4, &prm);
	if (ring < 0) { Rf(-1, "%s(io_uring_setup)", name); return; }
	struct iovec iv = {buf, len};
	long r = syscall(__NR_io_uring_register, ring, 0 /*IORING_REGISTER_BUFFERS*/, &iv, 1);
	R(name, r);
	if (r == 0 && cb) cb();
	if (r == 0) R("  io_uring_unregister_buffers", syscall(__NR_io_uring_register, ring, 1 /*UNREGISTER*/, NULL, 0));
	close(ring);
}

static int pin_g; static char *pin_p;
static void pin_cb(void)
{
	R("  punch_page0_while_longterm_pinned", fallocate(pin_g, FL_PUNCH | FL_KEEP, 0, PG));
	AR("  mapping_page0_after_punch_while_pinned", pin_p);
	R("  fallocate_alloc_while_pinned", fallocate(pin_g, FL_KEEP, 0, 4 * PG));
	R("  madvise_DONTNEED_while_pinned", madvise(pin_p, 4 * PG, MADV_DONTNEED));
	R("  munmap_while_pinned", munmap(pin_p, 4 * PG));
	pin_p = gmap(pin_g, 4 * PG, PROT_READ | PROT_WRITE);
	R("  close_gmem_fd_while_pinned", close(pin_g));
}
static void probe_pinning(void)
{
	SECTION("12. GUP / pinning");
	size_t L = 4 * PG;
	int vm = vm_new(0);
	int g = gmem_new(vm, L, MS);
	char *p = gmap(g, L, PROT_READ | PROT_WRITE);
	memset(p, 'G', L);
	/* controls */
	char *anon = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	anon[0] = 1;
	uring_reg("io_uring_register_buffers_CONTROL_anon", anon, L);
	int mfd = memfd_create("ctl", 0); ftruncate(mfd, L);
	char *shm = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	shm[0] = 1;
	uring_reg("io_uring_register_buffers_CONTROL_memfd_shared", shm, L);
	uring_reg("io_uring_register_buffers_gmem_shared_mapping", p, L);
	{
		int vm3 = vm_new(0);
		pin_g = gmem_new(vm3, L, MS);
		pin_p = gmap(pin_g, L, PROT_READ | PROT_WRITE);
		memset(pin_p, 'P', L);
		uring_reg_cb("io_uring_register_buffers_gmem_then_ops", pin_p, L, pin_cb);
		munmap(pin_p, L);
		close(vm3);
	}
	int gp = gmem_new(vm, L, GUEST_MEMFD_FLAG_MMAP_BIT);
	char *pp_ = gmap(gp, L, PROT_READ | PROT_WRITE);
	uring_reg("io_uring_register_buffers_gmem_private_mapping", pp_, L);
	munmap(pp_, L); close(gp);
	/* vmsplice */
	int pip[2]; pipe(pip);
	struct iovec iv = {p, PG};
	R("vmsplice_gmem_page_to_pipe", vmsplice(pip[1], &iv, 1, SPLICE_F_NONBLOCK));
	R("  punch_page0_while_in_pipe", fallocate(g, FL_PUNCH | FL_KEEP, 0, PG));
	AR("  mapping_page0_after_punch", p);
	char b[16] = {0};
	R("  read_pipe_after_punch", read(pip[0], b, sizeof b));
	F("  pipe_data_byte0_after_punch", "%d ('G'=71 means pinned old page survived)", b[0]);
	char sink[PG];
	while (read(pip[0], sink, sizeof sink) > 0 && 0) {}
	close(pip[0]); close(pip[1]);
	pipe(pip);
	iv.iov_base = p + PG; iv.iov_len = PG;
	memset(sink, 'S', sizeof sink);
	write(pip[1], sink, PG);
	R("vmsplice_pipe_to_gmem(copy into mapping)", vmsplice(pip[0], &iv, 1, SPLICE_F_NONBLOCK));
	AR("  gmem_page1_after_vmsplice_read", p + PG);
	close(pip[0]); close(pip[1]);
	/* O_DIRECT */
	const char *fn = "/work/probe/odirect.dat";
	int f = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *tmp = aligned_alloc(PG, PG); memset(tmp, 'D', PG);
	pwrite(f, tmp, PG, 0); fsync(f); close(f);
	f = open(fn, O_RDWR | O_DIRECT);
	R("open_O_DIRECT", f);
	if (f >= 0) {
		R("O_DIRECT_pread_into_gmem_mapping", pread(f, p + 2 * PG, PG, 0));
		AR("  gmem_page2_after_O_DIRECT_read", p + 2 * PG);
		R("O_DIRECT_pread_into_anon_CONTROL", pread(f, anon, PG, 0));
		memset(p + 3 * PG, 'W', PG);
		R("O_DIRECT_pwrite_from_gmem_mapping", pwrite(f, p + 3 * PG, PG, 0));
		close(f);
		f = open(fn, O_RDONLY);
		char c = 0; pread(f, &c, 1, 0); close(f);
		F("  file_byte_after_O_DIRECT_write", "%c", c);
	}
	unlink(fn);
	free(tmp);
	/* /proc/self/mem (FOLL_FORCE remote access) */
	int mem = open("/proc/self/mem", O_RDWR);
	char c = 0;
	R("proc_self_mem_pread_gmem", pread(mem, &c, 1, (off_t)(uintptr_t)(p + PG)));
	F("  proc_self_mem_value", "%d", c);
	c = 'M';
	R("proc_self_mem_pwrite_gmem", pwrite(mem, &c, 1, (off_t)(uintptr_t)(p + PG)));
	AR("  after_proc_mem_write", p + PG);
	close(mem);
	/* process_vm_readv / writev from a child on the parent's mapping */
	int cp[2]; pipe(cp);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		int res[4];
		char buf[8] = {0};
		struct iovec l = {buf, 4}, r = {p + PG, 4};
		res[0] = process_vm_readv(parent, &l, 1, &r, 1, 0) < 0 ? -errno : buf[0];
		buf[0] = 'V';
		struct iovec l2 = {buf, 1}, r2 = {p + 3 * PG, 1};
		res[1] = process_vm_writev(parent, &l2, 1, &r2, 1, 0) < 0 ? -errno : 0;
		if (write(cp[1], res, sizeof res) < 0) _exit(3);
		_exit(0);
	}
	int res[4] = {0};
	waitpid(pid, NULL, 0);
	read(cp[0], res, sizeof res);
	if (res[0] < 0) F("process_vm_readv_child_on_parent_gmem", "errno=%s", ename(-res[0]));
	else F("process_vm_readv_child_on_parent_gmem", "ok value=%d", res[0]);
	if (res[1] < 0) F("process_vm_writev_child_on_parent_gmem", "errno=%s", ename(-res[1]));
	else F("process_vm_writev_child_on_parent_gmem", "ok ret=0");
	AR("  parent_page3_after_writev", p + 3 * PG);
	close(cp[0]); close(cp[1]);
	/* futex (shared key -> GUP-fast/get_user_pages) */
	R("futex_WAKE_shared_on_gmem", syscall(SYS_futex, (u32 *)p, FUTEX_WAKE, 1, NULL, NULL, 0));
	/* write() from mapping to a pipe/file and read() into it (copy_*_user, no GUP) */
	int null = open("/dev/null", O_WRONLY);
	R("write_from_gmem_mapping_to_devnull", write(null, p, PG));
	close(null);
	int z = open("/dev/zero", O_RDONLY);
	R("read_devzero_into_gmem_mapping", read(z, p + PG, 8));
	close(z);
	/* O_DIRECT-like GUP via io_uring is only registration; also test with private */
	munmap(anon, L); munmap(shm, L); close(mfd);
	munmap(p, L);
	close(g);
	close(vm);
}

/* =================================================================== */
static void probe_vcpu(void)
{
	SECTION("13. vCPU");
	int vm = vm_new(0);
	R("KVM_GET_VCPU_MMAP_SIZE", ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE_NR, 0));
	int v = ioctl(vm, KVM_CREATE_VCPU_NR, 0);
	R("KVM_CREATE_VCPU_0", v);
	int v2 = ioctl(vm, KVM_CREATE_VCPU_NR, 0);
	R("KVM_CREATE_VCPU_0_again", v2);
	xclose(v2);
	long pf = ioctl(vm, KVM_CHECK_EXTENSION_NR, 236);
	if (v >= 0) {
		struct kvm_pre_fault_memory_uapi r; memset(&r, 0, sizeof r);
		r.gpa = GPA; r.size = PG; r.flags = 1;
		/* flags=1 must be rejected before any MMU work: safe to issue */
		R("KVM_PRE_FAULT_MEMORY_flags1", ioctl(v, KVM_PRE_FAULT_MEMORY_NR, &r));
		F("pre_fault_cap236_on_vm", "%ld (no real pre-fault issued)", pf);
		close(v);
	}
	close(vm);
}

/* =================================================================== */
static long long nsnow(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
static void probe_timing(void)
{
	SECTION("14. timing");
	int vm = vm_new(0);
	const int N = 10000;
	long long acc[6] = {0}, t0, t1, tot0 = nsnow();
	size_t L = 4 * PG;
	for (int i = 0; i < N; i++) {
		t0 = nsnow();
		int g = gmem_new(vm, L, MS);
		t1 = nsnow(); acc[0] += t1 - t0; t0 = t1;
		char *p = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0);
		t1 = nsnow(); acc[1] += t1 - t0; t0 = t1;
		p[0] = 1;
		t1 = nsnow(); acc[2] += t1 - t0; t0 = t1;
		fallocate(g, FL_PUNCH | FL_KEEP, 0, PG);
		t1 = nsnow(); acc[3] += t1 - t0; t0 = t1;
		munmap(p, L);
		t1 = nsnow(); acc[4] += t1 - t0; t0 = t1;
		close(g);
		t1 = nsnow(); acc[5] += t1 - t0;
	}
	long long tot = nsnow() - tot0;
	F("timing_10000_iterations_total", "%lld ns (%.0f ns/iteration, %.0f ns/op over 6 ops)", tot, (double)tot / N, (double)tot / N / 6);
	const char *nm[6] = {"create_gmem", "mmap", "write_fault", "punch", "munmap", "close"};
	for (int i = 0; i < 6; i++)
		F("timing_per_op", "%s %.0f ns", nm[i], (double)acc[i] / N);
	close(vm);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	PG = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) { perror("/dev/kvm"); return 1; }
	printf("# page_size=%ld\n", PG);
	const char *only = argc > 1 ? argv[1] : NULL;
#define RUN(n, f) if (!only || !strcmp(only, n)) f()
	RUN("system", probe_system);
	RUN("create", probe_create);
	RUN("fileops", probe_fileops);
	RUN("mmap", probe_mmap);
	RUN("faults", probe_faults);
	RUN("fallocate", probe_fallocate);
	RUN("memslots", probe_memslots);
	RUN("attrs", probe_attrs);
	RUN("close", probe_close_order);
	RUN("fork", probe_fork);
	RUN("madvise", probe_madvise);
	RUN("pinning", probe_pinning);
	RUN("vcpu", probe_vcpu);
	RUN("timing", probe_timing);
	return 0;
}
