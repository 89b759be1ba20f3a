/*
 * gmem-helper: executes gmem-spec trace steps against the real /dev/kvm.
 *
 * A long-lived server reads traces on stdin (`begin`, one request line per step, `end`), forks a fresh child
 * per trace, and the child runs the steps one by one, answering one line per request on stdout. The server
 * reaps the child and reports how it ended (`done ...`). The wire format is described in native/PROTOCOL.md.
 *
 * Only libc. The KVM / guest_memfd UAPI is defined here because the system headers predate it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROTOCOL_VERSION 1

/* ---------------------------------------------------------------------------------------------------------- */
/* KVM / guest_memfd UAPI (include/uapi/linux/kvm.h; fact sheet §1)                                            */

#include "kvm-uapi.h" /* KVMIO, the guest_memfd structs and ioctls, memslot v1, vCPU creation, pre-fault: from spec/constants.ts */

_Static_assert(sizeof(struct kvm_create_guest_memfd_uapi) == 64, "kvm_create_guest_memfd is 64 bytes");
_Static_assert(sizeof(struct kvm_userspace_memory_region2_uapi) == 160, "kvm_userspace_memory_region2 is 160 bytes");
_Static_assert(sizeof(struct kvm_memory_attributes_uapi) == 32, "kvm_memory_attributes is 32 bytes");
_Static_assert(sizeof(struct kvm_memory_attributes2_uapi) == 128, "kvm_memory_attributes2 is 128 bytes");

/* vCPU state and exits (x86-64; include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h). */
struct kvm_regs_uapi {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

struct kvm_segment_uapi {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type, present, dpl, db, s, l, g, avl, unusable, padding;
};

struct kvm_dtable_uapi {
	uint64_t base;
	uint16_t limit;
	uint16_t padding[3];
};

struct kvm_sregs_uapi {
	struct kvm_segment_uapi cs, ds, es, fs, gs, ss, tr, ldt;
	struct kvm_dtable_uapi gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, apic_base;
	uint64_t interrupt_bitmap[4];
};

struct kvm_cpuid_entry2_uapi {
	uint32_t function, index, flags, eax, ebx, ecx, edx, padding[3];
};

struct kvm_cpuid2_uapi {
	uint32_t nent;
	uint32_t padding;
	struct kvm_cpuid_entry2_uapi entries[];
};

struct kvm_enable_cap_uapi {
	uint32_t cap;
	uint32_t flags;
	uint64_t args[4];
	uint8_t pad[64];
};

/* The head of struct kvm_run and the exit-union members the helper reads. */
struct kvm_run_uapi {
	uint8_t request_interrupt_window;
	uint8_t immediate_exit;
	uint8_t padding1[6];
	uint32_t exit_reason;
	uint8_t ready_for_interrupt_injection;
	uint8_t if_flag;
	uint16_t flags;
	uint64_t cr8;
	uint64_t apic_base;
	union {
		struct { uint64_t phys_addr; uint8_t data[8]; uint32_t len; uint8_t is_write; } mmio;
		struct { uint64_t nr; uint64_t args[6]; uint64_t ret; uint64_t flags; } hypercall;
		struct { uint64_t flags; uint64_t gpa; uint64_t size; } memory_fault;
		struct { uint32_t suberror; uint32_t ndata; } internal;
		struct { uint64_t hardware_entry_failure_reason; uint32_t cpu; } fail_entry;
		uint8_t raw[256];
	} u;
};

_Static_assert(sizeof(struct kvm_regs_uapi) == 144, "kvm_regs is 144 bytes");
_Static_assert(sizeof(struct kvm_segment_uapi) == 24, "kvm_segment is 24 bytes");
_Static_assert(sizeof(struct kvm_sregs_uapi) == 312, "kvm_sregs is 312 bytes");
_Static_assert(sizeof(struct kvm_cpuid_entry2_uapi) == 40, "kvm_cpuid_entry2 is 40 bytes");
_Static_assert(sizeof(struct kvm_cpuid2_uapi) == 8, "kvm_cpuid2 is 8 bytes");
_Static_assert(sizeof(struct kvm_enable_cap_uapi) == 104, "kvm_enable_cap is 104 bytes");
_Static_assert(__builtin_offsetof(struct kvm_run_uapi, exit_reason) == 8, "kvm_run.exit_reason at 8");
_Static_assert(__builtin_offsetof(struct kvm_run_uapi, u) == 32, "kvm_run exit union at 32");
_Static_assert(__builtin_offsetof(struct kvm_run_uapi, u.hypercall.ret) == 88, "kvm_run.hypercall.ret at 88");

#define KVM_EXIT_UNKNOWN_NR 0
#define KVM_EXIT_HYPERCALL_NR 3
#define KVM_EXIT_HLT_NR 5
#define KVM_EXIT_MMIO_NR 6
#define KVM_EXIT_SHUTDOWN_NR 8
#define KVM_EXIT_FAIL_ENTRY_NR 9
#define KVM_EXIT_INTERNAL_ERROR_NR 17
#define KVM_EXIT_MEMORY_FAULT_NR 39
#define KVM_MEMORY_EXIT_FLAG_PRIVATE_BIT (1ull << 3)
#define KVM_HC_MAP_GPA_RANGE_NR 12
#define KVM_MAP_GPA_RANGE_ENCRYPTED_BIT (1ull << 4)
#define KVM_EINVAL_NR 22 /* include/uapi/linux/kvm_para.h: hypercall error codes */
#define KVM_ENOSYS_NR 1000

#define KVM_GET_SUPPORTED_CPUID_NR _IOWR(KVMIO, 0x05, struct kvm_cpuid2_uapi)
#define KVM_RUN_NR _IO(KVMIO, 0x80)
#define KVM_GET_REGS_NR _IOR(KVMIO, 0x81, struct kvm_regs_uapi)
#define KVM_SET_REGS_NR _IOW(KVMIO, 0x82, struct kvm_regs_uapi)
#define KVM_GET_SREGS_NR _IOR(KVMIO, 0x83, struct kvm_sregs_uapi)
#define KVM_SET_SREGS_NR _IOW(KVMIO, 0x84, struct kvm_sregs_uapi)
#define KVM_SET_CPUID2_NR _IOW(KVMIO, 0x90, struct kvm_cpuid2_uapi)
#define KVM_ENABLE_CAP_NR _IOW(KVMIO, 0xa3, struct kvm_enable_cap_uapi)

_Static_assert(KVM_GET_SUPPORTED_CPUID_NR == 0xC008AE05, "KVM_GET_SUPPORTED_CPUID");
_Static_assert(KVM_CREATE_VCPU_NR == 0xAE41, "KVM_CREATE_VCPU");
_Static_assert(KVM_RUN_NR == 0xAE80, "KVM_RUN");
_Static_assert(KVM_GET_REGS_NR == 0x8090AE81, "KVM_GET_REGS");
_Static_assert(KVM_SET_SREGS_NR == 0x4138AE84, "KVM_SET_SREGS");
_Static_assert(KVM_SET_CPUID2_NR == 0x4008AE90, "KVM_SET_CPUID2");
_Static_assert(KVM_ENABLE_CAP_NR == 0x4068AEA3, "KVM_ENABLE_CAP");
_Static_assert(KVM_PRE_FAULT_MEMORY_NR == 0xC040AED5, "KVM_PRE_FAULT_MEMORY");

_Static_assert(KVM_CREATE_VM_NR == 0xAE01, "KVM_CREATE_VM");
_Static_assert(KVM_CHECK_EXTENSION_NR == 0xAE03, "KVM_CHECK_EXTENSION");
_Static_assert(KVM_SET_USER_MEMORY_REGION2_NR == 0x40A0AE49, "KVM_SET_USER_MEMORY_REGION2");
_Static_assert(KVM_SET_MEMORY_ATTRIBUTES_NR == 0x4020AED2, "KVM_SET_MEMORY_ATTRIBUTES");
_Static_assert(KVM_SET_MEMORY_ATTRIBUTES2_NR == 0xC080AED2, "KVM_SET_MEMORY_ATTRIBUTES2");
_Static_assert(KVM_CREATE_GUEST_MEMFD_NR == 0xC040AED4, "KVM_CREATE_GUEST_MEMFD");

/* io_uring (x86-64 syscall numbers; used for long-term GUP pins). */
#define NR_io_uring_setup 425
#define NR_io_uring_register 427
#define IORING_REGISTER_BUFFERS_OP 0
#define IORING_UNREGISTER_BUFFERS_OP 1

/* ---------------------------------------------------------------------------------------------------------- */
/* Limits                                                                                                     */

#define MAX_LINE 4096        /* a request line longer than this is a protocol error */
#define MAX_FIELDS 24
#define MAX_NAME 64          /* handle names, including the NUL */
#define MAX_FORK_DEPTH 8
#define MAX_FORK_STEPS 1000000
#define IO_BUF_MAX (1u << 20) /* read/write/pread/pwrite buffer; larger counts run into a guard page */
#define MAP_GAP (2ull << 20)  /* unmapped gap reserved before and after every mapping */
/* Trace mappings are placed in this region, at addresses that only go up (see op_mmap). Nothing else of the
 * helper's is ever there: glibc and the kernel place their own mappings top-down from below the stack. */
#define MAP_CURSOR_START 0x200000000000ull
#define MAP_CURSOR_END 0x600000000000ull
/* Addresses where nothing can ever be mapped in this process (below mmap_min_addr's default; the
 * non-canonical hole and the kernel half, except the vsyscall page). */
#define LOW_UNMAPPED_END 0x10000ull
#define HIGH_UNMAPPED_START 0x800000000000ull
#define VSYSCALL_PAGE 0xffffffffff600000ull

/* ---------------------------------------------------------------------------------------------------------- */
/* Output                                                                                                     */

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			_exit(120); /* the reader is gone */
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_line(const char *fmt, ...)
{
	char buf[MAX_LINE + 256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	write_all(1, buf, (size_t)n);
}

/* The request being answered (its index in the trace, pre-order). */
static size_t cur_seq;
static int answered;

static void answer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void answer(const char *fmt, ...)
{
	char body[MAX_LINE + 128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (n < 0)
		body[0] = 0;
	/* never let a newline from an echoed request split the answer */
	for (char *p = body; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	out_line("%zu %s", cur_seq, body);
	answered = 1;
}

static const char *errno_name(int e, char *tmp, size_t tmplen)
{
	const char *s = strerrorname_np(e);
	if (s)
		return s;
	snprintf(tmp, tmplen, "%d", e);
	return tmp;
}

static void answer_errno(int e)
{
	char tmp[16];
	answer("errno %s", errno_name(e, tmp, sizeof(tmp)));
}

static const char *signal_name(int sig, char *tmp, size_t tmplen)
{
	const char *s = sigabbrev_np(sig);
	if (s) {
		snprintf(tmp, tmplen, "SIG%s", s);
		return tmp;
	}
	snprintf(tmp, tmplen, "signal-%d", sig);
	return tmp;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Request parsing                                                                                            */

struct field {
	const char *key;
	const char *val;
	int used;
};

struct req {
	char buf[MAX_LINE + 1];
	const char *op;
	const char *rest; /* the text after the op (for `reject`) */
	struct field f[MAX_FIELDS];
	int nf;
	int failed; /* a protocol error was answered */
};

static int perr(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct req *r, const char *fmt, ...)
{
	char msg[MAX_LINE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r->failed)
		answer("error %s: %s", r->op && *r->op ? r->op : "request", msg);
	r->failed = 1;
	return -1;
}

/* Tokenise `line` (len bytes, no newline) into r. Returns 0, or -1 after answering a protocol error. */
static int parse_req(struct req *r, const char *line, size_t len)
{
	r->rest = "";
	r->nf = 0;
	r->failed = 0;
	r->op = "";
	if (len > MAX_LINE)
		return perr(r, "request line longer than %d bytes", MAX_LINE);
	memcpy(r->buf, line, len);
	r->buf[len] = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)r->buf[i];
		if (c == 0 || (c < 0x20 && c != '\t') || c == 0x7f)
			return perr(r, "control character 0x%02x in request", c);
	}
	char *p = r->buf;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return perr(r, "empty request");
	r->op = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p)
		*p++ = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	r->rest = p;
	if (strcmp(r->op, "reject") == 0)
		return 0; /* free text follows */
	while (*p) {
		char *tok = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok)
			return perr(r, "expected key=value, got '%s'", tok);
		*eq = 0;
		for (int i = 0; i < r->nf; i++)
			if (strcmp(r->f[i].key, tok) == 0)
				return perr(r, "duplicate field '%s'", tok);
		if (r->nf >= MAX_FIELDS)
			return perr(r, "more than %d fields", MAX_FIELDS);
		r->f[r->nf].key = tok;
		r->f[r->nf].val = eq + 1;
		r->f[r->nf].used = 0;
		r->nf++;
	}
	return 0;
}

static const char *get_field(struct req *r, const char *key)
{
	for (int i = 0; i < r->nf; i++)
		if (strcmp(r->f[i].key, key) == 0) {
			r->f[i].used = 1;
			return r->f[i].val;
		}
	return NULL;
}

static int has_field(const struct req *r, const char *key)
{
	for (int i = 0; i < r->nf; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return 1;
	return 0;
}

/* After every field has been read: reject fields the op does not know. */
static int finish(struct req *r)
{
	if (r->failed)
		return -1;
	for (int i = 0; i < r->nf; i++)
		if (!r->f[i].used)
			return perr(r, "unknown field '%s'", r->f[i].key);
	return 0;
}

static int parse_u64_str(const char *s, uint64_t *out)
{
	if (!*s || strlen(s) > 20)
		return -1;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* A u64 field. `opt` → *out keeps its default when the field is absent. */
static int get_u64(struct req *r, const char *key, uint64_t *out, int opt)
{
	if (r->failed)
		return -1;
	const char *v = get_field(r, key);
	if (!v) {
		if (opt)
			return 0;
		return perr(r, "missing field '%s'", key);
	}
	if (parse_u64_str(v, out) < 0)
		return perr(r, "field '%s': bad number '%s' (expected a decimal u64)", key, v);
	return 0;
}

/* A 32-bit field (u32 or int): 0..2^32-1, or a sign-extended negative int32 as a u64. */
static int get_u32(struct req *r, const char *key, uint32_t *out, int opt)
{
	uint64_t v = *out;
	if (get_u64(r, key, &v, opt) < 0)
		return -1;
	if (v > UINT32_MAX && v < 0xFFFFFFFF80000000ull)
		return perr(r, "field '%s': %llu does not fit the kernel's 32-bit field", key, (unsigned long long)v);
	*out = (uint32_t)v;
	return 0;
}

static int get_byte(struct req *r, const char *key, uint8_t *out)
{
	uint64_t v = 0;
	if (get_u64(r, key, &v, 0) < 0)
		return -1;
	if (v > 255)
		return perr(r, "field '%s': %llu is not a byte value 0..255", key, (unsigned long long)v);
	*out = (uint8_t)v;
	return 0;
}

static int get_bool(struct req *r, const char *key, int *out)
{
	if (r->failed)
		return -1;
	const char *v = get_field(r, key);
	if (!v)
		return perr(r, "missing field '%s'", key);
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return perr(r, "field '%s': expected true or false, got '%s'", key, v);
	return 0;
}

static int get_prot(struct req *r, const char *key, int *out)
{
	if (r->failed)
		return -1;
	const char *v = get_field(r, key);
	if (!v)
		return perr(r, "missing field '%s'", key);
	if (strcmp(v, "none") == 0) {
		*out = PROT_NONE;
		return 0;
	}
	int prot = 0;
	const char *p = v;
	if (*p == 'r') { prot |= PROT_READ; p++; }
	if (*p == 'w') { prot |= PROT_WRITE; p++; }
	if (*p == 'x') { prot |= PROT_EXEC; p++; }
	if (*p || p == v)
		return perr(r, "field '%s': expected a protection such as r, rw, rwx or none, got '%s'", key, v);
	*out = prot;
	return 0;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= MAX_NAME)
		return 0;
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static int get_name(struct req *r, const char *key, const char **out, int opt)
{
	if (r->failed)
		return -1;
	const char *v = get_field(r, key);
	if (!v) {
		if (opt) {
			*out = NULL;
			return 0;
		}
		return perr(r, "missing field '%s'", key);
	}
	if (!valid_name(v))
		return perr(r, "field '%s': bad handle name '%s'", key, v);
	*out = v;
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Handles                                                                                                    */

enum kind { K_FD, K_MAP };

struct vmctx; /* the helper's vCPU and bookkeeping for one VM (see "vCPU-backed operations") */

struct handle {
	char name[MAX_NAME];
	enum kind kind;
	int fd;          /* K_FD: -1 once closed, or when the creating call failed */
	struct vmctx *vm; /* K_FD: the VM this fd is (create_vm, or dup of such an fd), else NULL */
	int live;        /* K_MAP: mapped now (mmap succeeded, no munmap yet) */
	uint64_t addr;   /* K_MAP: where it is (or was); a failed mmap gets an address where nothing is mapped */
	uint64_t len;    /* K_MAP: the length asked for */
};

static struct handle *handles;
static size_t nhandles, caphandles;

static struct handle *find_handle(const char *name)
{
	for (size_t i = 0; i < nhandles; i++)
		if (strcmp(handles[i].name, name) == 0)
			return &handles[i];
	return NULL;
}

/* Bind `name` (NULL: an unnamed object) to a new value; rebinding a name replaces the old binding. */
static void bind_handle(const char *name, struct handle h)
{
	if (!name)
		return;
	snprintf(h.name, sizeof(h.name), "%s", name);
	struct handle *old = find_handle(name);
	if (old) {
		*old = h;
		return;
	}
	if (nhandles == caphandles) {
		size_t nc = caphandles ? caphandles * 2 : 32;
		struct handle *nh = realloc(handles, nc * sizeof(*nh));
		if (!nh)
			_exit(121);
		handles = nh;
		caphandles = nc;
	}
	handles[nhandles++] = h;
}

static int kvm_fd = -1;

static struct vmctx *vmctx_new(void);

/* An fd-valued handle. `allow_kvm`: the name `kvm` means /dev/kvm. */
static int get_fd(struct req *r, const char *key, int *fd, int allow_kvm)
{
	const char *name;
	if (get_name(r, key, &name, 0) < 0)
		return -1;
	if (allow_kvm && strcmp(name, "kvm") == 0) {
		*fd = kvm_fd;
		return 0;
	}
	struct handle *h = find_handle(name);
	if (!h)
		return perr(r, "unknown handle '%s'", name);
	if (h->kind != K_FD)
		return perr(r, "handle '%s' is a mapping, not a file descriptor", name);
	*fd = h->fd;
	return 0;
}

static int get_map(struct req *r, const char *key, struct handle **out)
{
	const char *name;
	if (get_name(r, key, &name, 0) < 0)
		return -1;
	struct handle *h = find_handle(name);
	if (!h)
		return perr(r, "unknown handle '%s'", name);
	if (h->kind != K_MAP)
		return perr(r, "handle '%s' is a file descriptor, not a mapping", name);
	*out = h;
	return 0;
}

static uint64_t page_up(uint64_t v)
{
	return v > UINT64_MAX - 4095 ? UINT64_MAX : (v + 4095) & ~4095ull;
}

/* Does [a, a+len) overlap a live trace mapping other than `self`? */
static int overlaps_live(const struct handle *self, uint64_t a, uint64_t len)
{
	for (size_t i = 0; i < nhandles; i++) {
		const struct handle *h = &handles[i];
		if (h == self || h->kind != K_MAP || !h->live)
			continue;
		uint64_t hend = h->addr + page_up(h->len);
		if (hend < h->addr)
			hend = UINT64_MAX;
		if (a < hend && h->addr < a + len)
			return 1;
	}
	return 0;
}

/*
 * The helper touches (or munmaps, mprotects, madvises, pins) [a, a+len) for a request on mapping `m` only if
 * that range is inside m while m is mapped, or is a place where nothing of the helper's can be: the trace
 * mapping region away from other live mappings, the unmappable low page range, or the non-canonical hole and
 * kernel half. Everything else (an offset that would reach the helper's own memory) is a protocol error.
 * So an access past a mapping's end, after munmap, or through a failed mmap is performed for real and gets
 * the kernel's answer (SIGSEGV, ENOMEM...).
 */
static int check_range(struct req *r, struct handle *m, uint64_t a, uint64_t len)
{
	if (r->failed)
		return -1;
	uint64_t n = len ? len : 1;
	if (a + n < a)
		return perr(r, "range at 0x%llx of %llu bytes wraps around the address space", (unsigned long long)a,
			    (unsigned long long)len);
	uint64_t end = a + n;
	uint64_t mend = m->addr + page_up(m->len);
	if (m->live && a >= m->addr && end <= mend && mend >= m->addr)
		return 0;
	if (a >= MAP_CURSOR_START && end <= MAP_CURSOR_END && !overlaps_live(NULL, a, n))
		return 0;
	if (m->live && a >= MAP_CURSOR_START && end <= MAP_CURSOR_END && !overlaps_live(m, a, n))
		return 0;
	if (end <= LOW_UNMAPPED_END)
		return 0;
	if (a >= HIGH_UNMAPPED_START && (end <= VSYSCALL_PAGE || a >= VSYSCALL_PAGE + 4096))
		return 0;
	return perr(r, "offset/length reach outside mapping '%s' into memory that may be the helper's own", m->name);
}

/* Failed creations still bind the name: fds to -1 (so later use gets EBADF from the kernel), mappings to
 * "never existed". */
static void bind_fd(const char *name, int fd)
{
	struct handle h = { .kind = K_FD, .fd = fd };
	bind_handle(name, h);
}

static void bind_vm_fd(const char *name, int fd, struct vmctx *vm)
{
	struct handle h = { .kind = K_FD, .fd = fd, .vm = vm };
	bind_handle(name, h);
}

/* A VM handle: its fd (-1 once closed) and the helper's context for that VM (NULL: not a VM fd). */
static int get_vm(struct req *r, const char *key, int *fd, struct vmctx **vm)
{
	const char *name;
	if (get_name(r, key, &name, 0) < 0)
		return -1;
	struct handle *h = find_handle(name);
	if (!h)
		return perr(r, "unknown handle '%s'", name);
	if (h->kind != K_FD)
		return perr(r, "handle '%s' is a mapping, not a file descriptor", name);
	*fd = h->fd;
	*vm = h->vm;
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Guarded memory access                                                                                      */

static sigjmp_buf fault_env;
static volatile sig_atomic_t in_guard;
static volatile sig_atomic_t fault_sig;
static volatile sig_atomic_t fault_code;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!in_guard) {
		/* not an access we asked for: a helper bug; die with the default action so the server reports it */
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL);
		return;
	}
	in_guard = 0;
	fault_sig = sig;
	fault_code = si ? si->si_code : 0;
	siglongjmp(fault_env, 1);
}

static void install_fault_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/*
 * Single-byte accesses with the address in RDI. On x86 an access to a non-canonical address raises #GP
 * (SIGSEGV) — unless its base register is RSP or RBP, which raises #SS (SIGBUS). Left to the compiler, the
 * signal for a wild offset would depend on register allocation; pinning the base to RDI makes it SIGSEGV.
 * (glibc's memset, used by fill_mem, addresses through RDI as well.)
 */
static inline uint8_t load_byte(const volatile uint8_t *p)
{
#if defined(__x86_64__)
	uint8_t v;
	__asm__ volatile("movb (%1), %0" : "=q"(v) : "D"(p) : "memory");
	return v;
#else
	return *p;
#endif
}

static inline void store_byte(volatile uint8_t *p, uint8_t v)
{
#if defined(__x86_64__)
	__asm__ volatile("movb %1, (%0)" : : "D"(p), "q"(v) : "memory");
#else
	*p = v;
#endif
}

static void answer_fault(void)
{
	if (fault_sig == SIGBUS && (fault_code == BUS_MCEERR_AR || fault_code == BUS_MCEERR_AO))
		answer("access MCE");
	else if (fault_sig == SIGBUS)
		answer("access SIGBUS");
	else
		answer("access SIGSEGV");
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Operations                                                                                                 */

static uint64_t map_cursor = MAP_CURSOR_START + MAP_GAP;

static void op_check_extension(struct req *r)
{
	int fd;
	uint64_t cap;
	if (get_fd(r, "on", &fd, 1) < 0 || get_u64(r, "cap", &cap, 0) < 0 || finish(r) < 0)
		return;
	int ret = ioctl(fd, KVM_CHECK_EXTENSION_NR, (unsigned long)cap);
	if (ret < 0)
		answer_errno(errno);
	else
		answer("ok ret=%d", ret);
}

static void op_create_vm(struct req *r)
{
	uint64_t type;
	const char *as;
	if (get_u64(r, "type", &type, 0) < 0 || get_name(r, "as", &as, 1) < 0 || finish(r) < 0)
		return;
	int fd = ioctl(kvm_fd, KVM_CREATE_VM_NR, (unsigned long)type);
	int e = errno;
	bind_vm_fd(as, fd < 0 ? -1 : fd, vmctx_new());
	if (fd < 0)
		answer_errno(e);
	else
		answer("ok");
}

static void op_create_gmem(struct req *r)
{
	int vm;
	const char *as;
	struct kvm_create_guest_memfd_uapi a;
	memset(&a, 0, sizeof(a));
	if (get_fd(r, "vm", &vm, 0) < 0 || get_u64(r, "size", &a.size, 0) < 0 || get_u64(r, "flags", &a.flags, 0) < 0)
		return;
	const char *res = get_field(r, "reserved");
	if (res) {
		char tmp[MAX_LINE];
		snprintf(tmp, sizeof(tmp), "%s", res);
		int n = 0;
		if (*tmp) {
			/* strtok would merge empty items; walk by hand so "1,,2" is an error */
			char *p = tmp;
			for (;;) {
				char *comma = strchr(p, ',');
				if (comma)
					*comma = 0;
				if (n >= 6)
					return (void)perr(r, "field 'reserved': more than 6 values");
				if (parse_u64_str(p, &a.reserved[n]) < 0)
					return (void)perr(r, "field 'reserved': bad number '%s'", p);
				n++;
				if (!comma)
					break;
				p = comma + 1;
			}
		}
	}
	if (get_name(r, "as", &as, 1) < 0 || finish(r) < 0)
		return;
	int fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD_NR, &a);
	int e = errno;
	bind_fd(as, fd < 0 ? -1 : fd);
	if (fd < 0)
		answer_errno(e);
	else
		answer("ok");
}

static void op_close(struct req *r)
{
	const char *name;
	if (get_name(r, "h", &name, 0) < 0)
		return;
	struct handle *h = find_handle(name);
	if (!h)
		return (void)perr(r, "unknown handle '%s'", name);
	if (h->kind != K_FD)
		return (void)perr(r, "handle '%s' is a mapping, not a file descriptor (use munmap)", name);
	if (finish(r) < 0)
		return;
	int ret = close(h->fd);
	int e = errno;
	h->fd = -1; /* the name stays; the descriptor is gone even when close reports an error */
	if (ret < 0)
		answer_errno(e);
	else
		answer("ok");
}

static void op_dup(struct req *r)
{
	int fd;
	struct vmctx *vm;
	const char *as;
	if (get_vm(r, "h", &fd, &vm) < 0 || get_name(r, "as", &as, 1) < 0 || finish(r) < 0)
		return;
	int nfd = dup(fd);
	int e = errno;
	bind_vm_fd(as, nfd < 0 ? -1 : nfd, vm); /* a dup of a VM fd is the same VM */
	if (nfd < 0)
		answer_errno(e);
	else
		answer("ok");
}

static void op_mmap(struct req *r)
{
	int fd = -1, prot = 0, shared = 0;
	uint64_t off, len;
	const char *as;
	if (get_fd(r, "gmem", &fd, 0) < 0 || get_u64(r, "offset", &off, 0) < 0 || get_u64(r, "length", &len, 0) < 0 ||
	    get_prot(r, "prot", &prot) < 0 || get_bool(r, "shared", &shared) < 0 || get_name(r, "as", &as, 1) < 0 ||
	    finish(r) < 0)
		return;
	/* A hint from a cursor that only moves up, with a gap before and after each mapping: addresses are never
	 * reused within a trace, so a stale or failed handle can only point at unmapped memory. */
	uint64_t span = page_up(len);
	void *hint = NULL;
	if (span <= MAP_CURSOR_END - MAP_CURSOR_START && map_cursor + span + MAP_GAP <= MAP_CURSOR_END)
		hint = (void *)(uintptr_t)map_cursor;
	void *p = mmap(hint, (size_t)len, prot, shared ? MAP_SHARED : MAP_PRIVATE, fd, (off_t)off);
	int e = errno;
	struct handle h = { .kind = K_MAP, .len = len };
	if (p != MAP_FAILED) {
		h.live = 1;
		h.addr = (uint64_t)(uintptr_t)p;
		if (p == hint)
			map_cursor += ((span + MAP_GAP - 1) & ~(MAP_GAP - 1)) + MAP_GAP;
	} else if (map_cursor + 2 * MAP_GAP <= MAP_CURSOR_END) {
		/* a failed mmap: the name gets a fresh address where nothing is mapped */
		h.addr = map_cursor;
		map_cursor += 2 * MAP_GAP;
	} else {
		h.addr = (uint64_t)(uintptr_t)MAP_FAILED;
	}
	bind_handle(as, h);
	if (p == MAP_FAILED)
		answer_errno(e);
	else
		answer("ok");
}

static void op_munmap(struct req *r)
{
	struct handle *m;
	if (get_map(r, "map", &m) < 0 || check_range(r, m, m->addr, m->len) < 0 || finish(r) < 0)
		return;
	if (munmap((void *)(uintptr_t)m->addr, (size_t)m->len) < 0) {
		answer_errno(errno);
	} else {
		m->live = 0; /* the handle keeps its address: later accesses hit unmapped memory */
		answer("ok");
	}
}

static void op_mprotect(struct req *r)
{
	struct handle *m;
	int prot;
	if (get_map(r, "map", &m) < 0 || get_prot(r, "prot", &prot) < 0 || check_range(r, m, m->addr, m->len) < 0 ||
	    finish(r) < 0)
		return;
	if (mprotect((void *)(uintptr_t)m->addr, (size_t)m->len, prot) < 0)
		answer_errno(errno);
	else
		answer("ok");
}

static void op_madvise(struct req *r)
{
	struct handle *m;
	uint64_t off, len;
	uint32_t advice = 0;
	if (get_map(r, "map", &m) < 0 || get_u64(r, "offset", &off, 0) < 0 || get_u64(r, "length", &len, 0) < 0 ||
	    get_u32(r, "advice", &advice, 0) < 0 || check_range(r, m, m->addr + off, len) < 0 || finish(r) < 0)
		return;
	if (madvise((void *)(uintptr_t)(m->addr + off), (size_t)len, (int)advice) < 0)
		answer_errno(errno);
	else
		answer("ok");
}

static void op_read_mem(struct req *r)
{
	struct handle *m;
	uint64_t off;
	if (get_map(r, "map", &m) < 0 || get_u64(r, "offset", &off, 0) < 0 || check_range(r, m, m->addr + off, 1) < 0 ||
	    finish(r) < 0)
		return;
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(m->addr + off);
	if (sigsetjmp(fault_env, 1) == 0) {
		in_guard = 1;
		uint8_t v = load_byte(p);
		in_guard = 0;
		answer("access ok value=%u", v);
	} else {
		answer_fault();
	}
}

static void op_write_mem(struct req *r)
{
	struct handle *m;
	uint64_t off;
	uint8_t v;
	if (get_map(r, "map", &m) < 0 || get_u64(r, "offset", &off, 0) < 0 || get_byte(r, "value", &v) < 0 ||
	    check_range(r, m, m->addr + off, 1) < 0 || finish(r) < 0)
		return;
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(m->addr + off);
	if (sigsetjmp(fault_env, 1) == 0) {
		in_guard = 1;
		store_byte(p, v);
		in_guard = 0;
		answer("access ok");
	} else {
		answer_fault();
	}
}

/* fill_mem and check_mem's request: a byte range of a mapping and a byte value (-1: answered with the error). */
static int get_byte_range(struct req *r, struct handle **m, uint64_t *off, uint64_t *len, uint8_t *v)
{
	if (get_map(r, "map", m) < 0 || get_u64(r, "offset", off, 0) < 0 || get_u64(r, "length", len, 0) < 0 ||
	    get_byte(r, "value", v) < 0 || check_range(r, *m, (*m)->addr + *off, *len) < 0 || finish(r) < 0)
		return -1;
	return 0;
}

static void op_fill_mem(struct req *r)
{
	struct handle *m;
	uint64_t off, len;
	uint8_t v;
	if (get_byte_range(r, &m, &off, &len, &v) < 0)
		return;
	uint8_t *p = (uint8_t *)(uintptr_t)(m->addr + off);
	if (sigsetjmp(fault_env, 1) == 0) {
		in_guard = 1;
		memset(p, v, (size_t)len); /* faults, if any, come at the first byte of a page, in order */
		in_guard = 0;
		answer("access ok");
	} else {
		answer_fault();
	}
}

static void op_check_mem(struct req *r)
{
	struct handle *m;
	uint64_t off, len;
	uint8_t v;
	if (get_byte_range(r, &m, &off, &len, &v) < 0)
		return;
	const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)(m->addr + off);
	if (sigsetjmp(fault_env, 1) == 0) {
		in_guard = 1;
		/* every byte is read, so a fault anywhere in the range wins over a mismatch */
		uint8_t diff = 0;
		for (uint64_t i = 0; i < len; i++)
			diff |= (uint8_t)(load_byte(p + i) ^ v);
		in_guard = 0;
		answer("access ok match=%s", diff ? "false" : "true");
	} else {
		answer_fault();
	}
}

static void op_fallocate(struct req *r)
{
	int fd;
	uint32_t mode = 0;
	uint64_t off, len;
	if (get_fd(r, "gmem", &fd, 0) < 0 || get_u32(r, "mode", &mode, 0) < 0 || get_u64(r, "offset", &off, 0) < 0 ||
	    get_u64(r, "len", &len, 0) < 0 || finish(r) < 0)
		return;
	/* offset/len are s64 in the ABI: the u64 bits go through unchanged */
	if (fallocate(fd, (int)mode, (off_t)off, (off_t)len) < 0)
		answer_errno(errno);
	else
		answer("ok");
}

static void op_fstat(struct req *r)
{
	int fd;
	if (get_fd(r, "h", &fd, 0) < 0 || finish(r) < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return answer_errno(errno);
	const char *type = S_ISREG(st.st_mode)	  ? "reg"
			   : S_ISDIR(st.st_mode)  ? "dir"
			   : S_ISCHR(st.st_mode)  ? "chr"
			   : S_ISBLK(st.st_mode)  ? "blk"
			   : S_ISFIFO(st.st_mode) ? "fifo"
			   : S_ISSOCK(st.st_mode) ? "sock"
			   : S_ISLNK(st.st_mode)  ? "lnk"
						  : "unknown";
	answer("fstat st_size=%lld st_blksize=%lld st_type=%s", (long long)st.st_size, (long long)st.st_blksize, type);
}

static void op_ftruncate(struct req *r)
{
	int fd;
	uint64_t len;
	if (get_fd(r, "h", &fd, 0) < 0 || get_u64(r, "length", &len, 0) < 0 || finish(r) < 0)
		return;
	if (ftruncate(fd, (off_t)len) < 0)
		answer_errno(errno);
	else
		answer("ok");
}

/* A buffer of IO_BUF_MAX bytes followed by a PROT_NONE guard page: a count larger than the buffer makes
 * the kernel fault (EFAULT) rather than touch the helper's memory. */
static uint8_t *io_buf;

static uint8_t *get_io_buf(void)
{
	if (!io_buf) {
		void *p = mmap(NULL, IO_BUF_MAX + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		mprotect((uint8_t *)p + IO_BUF_MAX, 4096, PROT_NONE);
		io_buf = p;
	}
	return io_buf;
}

static void op_rw(struct req *r, int is_write, int positional)
{
	int fd;
	uint64_t off = 0, len;
	if (get_fd(r, "h", &fd, 0) < 0 || (positional && get_u64(r, "offset", &off, 0) < 0) ||
	    get_u64(r, "len", &len, 0) < 0 || finish(r) < 0)
		return;
	uint8_t *buf = get_io_buf();
	if (!buf)
		return (void)answer("failed cannot allocate the I/O buffer");
	ssize_t n;
	if (is_write)
		n = positional ? pwrite(fd, buf, (size_t)len, (off_t)off) : write(fd, buf, (size_t)len);
	else
		n = positional ? pread(fd, buf, (size_t)len, (off_t)off) : read(fd, buf, (size_t)len);
	if (n < 0)
		answer_errno(errno);
	else
		answer("ok ret=%lld", (long long)n);
}

static const uint32_t MEMSLOT_NO_GMEM = 0;

static void vm_note_slot(struct vmctx *vm, const struct kvm_userspace_memory_region2_uapi *m, int uaddr_is_map);

static void op_set_memory_region2(struct req *r)
{
	int vm;
	struct vmctx *vmc;
	struct kvm_userspace_memory_region2_uapi m;
	memset(&m, 0, sizeof(m));
	if (get_vm(r, "vm", &vm, &vmc) < 0 || get_u32(r, "slot", &m.slot, 0) < 0 || get_u32(r, "flags", &m.flags, 0) < 0 ||
	    get_u64(r, "gpa", &m.guest_phys_addr, 0) < 0 || get_u64(r, "size", &m.memory_size, 0) < 0 ||
	    get_u64(r, "gmem_offset", &m.guest_memfd_offset, 1) < 0)
		return;
	const char *g;
	if (get_name(r, "gmem", &g, 1) < 0)
		return;
	m.guest_memfd = MEMSLOT_NO_GMEM;
	if (g) {
		struct handle *h = find_handle(g);
		if (!h)
			return (void)perr(r, "unknown handle '%s'", g);
		if (h->kind != K_FD)
			return (void)perr(r, "handle '%s' is a mapping, not a file descriptor", g);
		m.guest_memfd = (uint32_t)h->fd; /* a closed handle is -1: the kernel's fget fails (EBADF) */
	}
	const char *mapname;
	if (get_name(r, "uaddr_map", &mapname, 1) < 0)
		return;
	if (mapname) {
		struct handle *mh = find_handle(mapname);
		uint64_t moff = 0;
		if (!mh)
			return (void)perr(r, "unknown handle '%s'", mapname);
		if (mh->kind != K_MAP)
			return (void)perr(r, "handle '%s' is a file descriptor, not a mapping", mapname);
		if (get_u64(r, "uaddr_offset", &moff, 1) < 0)
			return;
		if (get_field(r, "uaddr"))
			return (void)perr(r, "give either uaddr or uaddr_map, not both");
		m.userspace_addr = mh->addr + moff;
	} else if (get_u64(r, "uaddr", &m.userspace_addr, 0) < 0) {
		return;
	}
	if (finish(r) < 0)
		return;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION2_NR, &m) < 0) {
		answer_errno(errno);
	} else {
		vm_note_slot(vmc, &m, mapname != NULL);
		answer("ok");
	}
}

static void op_delete_memslot(struct req *r)
{
	int vm;
	struct vmctx *vmc;
	struct kvm_userspace_memory_region2_uapi m;
	memset(&m, 0, sizeof(m));
	if (get_vm(r, "vm", &vm, &vmc) < 0 || get_u32(r, "slot", &m.slot, 0) < 0 || finish(r) < 0)
		return;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION2_NR, &m) < 0) {
		answer_errno(errno);
	} else {
		vm_note_slot(vmc, &m, 0);
		answer("ok");
	}
}

static void op_set_memory_attributes(struct req *r)
{
	int vm;
	struct kvm_memory_attributes_uapi a;
	memset(&a, 0, sizeof(a));
	if (get_fd(r, "vm", &vm, 0) < 0 || get_u64(r, "address", &a.address, 0) < 0 || get_u64(r, "size", &a.size, 0) < 0 ||
	    get_u64(r, "attributes", &a.attributes, 0) < 0 || get_u64(r, "flags", &a.flags, 1) < 0 || finish(r) < 0)
		return;
	if (ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES_NR, &a) < 0)
		answer_errno(errno);
	else
		answer("ok");
}

static void op_set_memory_attributes2(struct req *r)
{
	int fd;
	struct kvm_memory_attributes2_uapi a;
	memset(&a, 0, sizeof(a));
	if (get_fd(r, "gmem", &fd, 0) < 0 || get_u64(r, "offset", &a.offset, 0) < 0 || get_u64(r, "size", &a.size, 0) < 0 ||
	    get_u64(r, "attributes", &a.attributes, 0) < 0 || get_u64(r, "flags", &a.flags, 1) < 0 || finish(r) < 0)
		return;
	if (ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2_NR, &a) < 0) {
		int e = errno;
		char tmp[16];
		/* error_offset is only meaningful for the partial-progress errors */
		if (e == EAGAIN || e == ENOMEM)
			answer("errno %s error_offset=%llu", errno_name(e, tmp, sizeof(tmp)), (unsigned long long)a.error_offset);
		else
			answer_errno(e);
	} else {
		answer("ok");
	}
}

/* Long-term GUP pins: an io_uring with the range registered as a fixed buffer. */
struct pin {
	char map[MAX_NAME];
	uint64_t off, len;
	int ring;
};
static struct pin *pins;
static size_t npins, cappins;

static void op_pin(struct req *r)
{
	struct handle *m;
	uint64_t off, len;
	if (get_map(r, "map", &m) < 0 || get_u64(r, "offset", &off, 0) < 0 || get_u64(r, "len", &len, 0) < 0 ||
	    check_range(r, m, m->addr + off, len) < 0 || finish(r) < 0)
		return;
	uint64_t params[15]; /* struct io_uring_params, 120 bytes, all zero */
	memset(params, 0, sizeof(params));
	long ring = syscall(NR_io_uring_setup, 1, params);
	if (ring < 0)
		return answer_errno(errno);
	struct iovec iov = { .iov_base = (void *)(uintptr_t)(m->addr + off), .iov_len = (size_t)len };
	if (syscall(NR_io_uring_register, (int)ring, IORING_REGISTER_BUFFERS_OP, &iov, 1) < 0) {
		int e = errno;
		close((int)ring);
		return answer_errno(e);
	}
	if (npins == cappins) {
		size_t nc = cappins ? cappins * 2 : 8;
		struct pin *np = realloc(pins, nc * sizeof(*np));
		if (!np)
			_exit(121);
		pins = np;
		cappins = nc;
	}
	struct pin *p = &pins[npins++];
	snprintf(p->map, sizeof(p->map), "%s", m->name);
	p->off = off;
	p->len = len;
	p->ring = (int)ring;
	answer("ok");
}

static void op_unpin(struct req *r)
{
	struct handle *m;
	uint64_t off, len;
	if (get_map(r, "map", &m) < 0 || get_u64(r, "offset", &off, 0) < 0 || get_u64(r, "len", &len, 0) < 0 ||
	    finish(r) < 0)
		return;
	for (size_t i = npins; i-- > 0;) {
		struct pin *p = &pins[i];
		if (strcmp(p->map, m->name) || p->off != off || p->len != len)
			continue;
		/* unregister first: it drops the pins synchronously, while ring teardown after close is deferred */
		long ret = syscall(NR_io_uring_register, p->ring, IORING_UNREGISTER_BUFFERS_OP, NULL, 0);
		int e = errno;
		close(p->ring);
		pins[i] = pins[--npins];
		if (ret < 0)
			answer_errno(e);
		else
			answer("ok");
		return;
	}
	perr(r, "no pin on '%s' at offset=%llu len=%llu", m->name, (unsigned long long)off, (unsigned long long)len);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* vCPU-backed operations: guest_access, guest_request_conversion, pre_fault                                  */
/*
 * Each VM the trace creates gets, on first use, one vCPU (id 0) with the CPUID the host supports. A guest
 * access runs a few bytes of 64-bit code with KVM_RUN: the code maps the target GPA's page at a fixed virtual
 * address, does one load or store there, then HLTs. The code and its page tables live in a memslot of the
 * helper's own (the "code slot"), added just before the run and deleted just after, so that between steps
 * the VM has exactly the memslots the trace made. Every op starts with a VM ioctl on the trace's VM fd, so a
 * closed VM handle answers EBADF and a VM of another process (a fork step) EIO, as any VM ioctl would.
 */

#define GUEST_PAGES 5 /* code, PML4, PDPT, PD, PT */
#define GUEST_VA_CODE 0x1000ull
#define GUEST_VA_DATA 0x2000ull
#define GUEST_ENTRY_READ 0
#define GUEST_ENTRY_WRITE 16
#define GUEST_ENTRY_HYPERCALL 32
#define PTE_TABLE 0x23ull /* present, writable, accessed */
#define PTE_PAGE 0x63ull  /* present, writable, accessed, dirty */
#define MAX_KVM_RUN_EINTR 100

/* Guest physical addresses tried, in order, for the code slot (the first one the trace leaves free). */
static const uint64_t CODE_SLOT_GPAS[] = { 0xffe00000ull, 0xb0000000ull, 0x70000000ull, 0x30000000ull, 0x10000ull };

/* The guest's code: 64-bit, no stack, no IDT (any exception ends in a triple fault, KVM_EXIT_SHUTDOWN). */
static const uint8_t GUEST_READ[] = { 0x8a, 0x07, 0xf4 };      /* mov al, [rdi]; hlt */
static const uint8_t GUEST_WRITE[] = { 0x88, 0x07, 0xf4 };     /* mov [rdi], al; hlt */
static const uint8_t GUEST_HCALL[] = { 0x0f, 0x01, 0xd9, 0xf4 }; /* vmmcall (KVM patches it to vmcall on Intel); hlt */

/* A memslot the trace made, as the helper last set it (only used to keep guest writes off its own memory). */
struct slotrec {
	uint32_t slot;
	uint64_t gpa, size, uaddr;
	int uaddr_is_map;
};

struct vmctx {
	int vcpu_fd; /* -1 until the first vCPU-backed op */
	struct kvm_run_uapi *run;
	uint8_t *mem; /* GUEST_PAGES pages: the code slot's memory */
	int hypercall_exits;
	struct slotrec *slots;
	size_t nslots, capslots;
	uint32_t *ids; /* every slot id the trace has set on this VM */
	size_t nids, capids;
};

static struct vmctx *vmctx_new(void)
{
	struct vmctx *vm = calloc(1, sizeof(*vm));
	if (!vm)
		_exit(121);
	vm->vcpu_fd = -1;
	return vm;
}

static void *grow(void *p, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return p;
	size_t nc = *cap ? *cap * 2 : 8;
	void *np = realloc(p, nc * elem);
	if (!np)
		_exit(121);
	*cap = nc;
	return np;
}

static void vm_note_slot(struct vmctx *vm, const struct kvm_userspace_memory_region2_uapi *m, int uaddr_is_map)
{
	if (!vm)
		return;
	size_t k;
	for (k = 0; k < vm->nids && vm->ids[k] != m->slot; k++)
		;
	if (k == vm->nids) {
		vm->ids = grow(vm->ids, &vm->capids, vm->nids, sizeof(*vm->ids));
		vm->ids[vm->nids++] = m->slot;
	}
	for (k = 0; k < vm->nslots && vm->slots[k].slot != m->slot; k++)
		;
	if (m->memory_size == 0) {
		if (k < vm->nslots)
			vm->slots[k] = vm->slots[--vm->nslots];
		return;
	}
	if (k == vm->nslots) {
		vm->slots = grow(vm->slots, &vm->capslots, vm->nslots, sizeof(*vm->slots));
		vm->nslots++;
	}
	vm->slots[k] = (struct slotrec){ m->slot, m->guest_phys_addr, m->memory_size, m->userspace_addr, uaddr_is_map };
}

/* A guest write at `gpa` goes through a slot's userspace_addr: refuse when that raw address could be the
 * helper's own memory (the places nothing of the helper's can be are as for check_range). */
static int guest_write_reaches_helper(struct vmctx *vm, uint64_t gpa, uint64_t *hva)
{
	for (size_t k = 0; k < vm->nslots; k++) {
		const struct slotrec *s = &vm->slots[k];
		if ((s->slot >> 16) != 0 || gpa < s->gpa || gpa - s->gpa >= s->size || s->uaddr_is_map)
			continue;
		uint64_t a = s->uaddr + (gpa - s->gpa);
		*hva = a;
		if (a < LOW_UNMAPPED_END || (a >= MAP_CURSOR_START && a < MAP_CURSOR_END) || a >= HIGH_UNMAPPED_START)
			return 0;
		return 1;
	}
	return 0;
}

/*
 * The first VM ioctl of every vCPU-backed op: KVM_CHECK_EXTENSION(KVM_CAP_NR_MEMSLOTS) on the trace's VM fd.
 * On failure it answers the kernel's errno (EBADF closed, EIO another process's VM, ENOTTY not a VM) and
 * returns -1; otherwise the number of memslot ids.
 */
static int vm_first_ioctl(int fd)
{
	int nr = ioctl(fd, KVM_CHECK_EXTENSION_NR, (unsigned long)KVM_CAP_NR_MEMSLOTS_NR);
	if (nr < 0) {
		answer_errno(errno);
		return -1;
	}
	return nr;
}

/* Creates the VM's vCPU on first use. Returns 0, or -1 after answering `failed`. */
static int vcpu_ensure(int fd, struct vmctx *vm)
{
	if (vm->vcpu_fd >= 0)
		return 0;
	char tmp[16];
	int vfd = ioctl(fd, KVM_CREATE_VCPU_NR, 0ul);
	if (vfd < 0) {
		answer("failed the helper's vCPU: KVM_CREATE_VCPU failed with %s", errno_name(errno, tmp, sizeof(tmp)));
		return -1;
	}
	int size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE_NR, 0ul);
	void *run = size > 0 ? mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vfd, 0) : MAP_FAILED;
	if (run == MAP_FAILED) {
		answer("failed the helper's vCPU: cannot map its kvm_run (%s)", errno_name(errno, tmp, sizeof(tmp)));
		close(vfd);
		return -1;
	}
	/* the host's supported CPUID, so that the vCPU can enter long mode (EFER.LME needs CPUID LM) */
	struct kvm_cpuid2_uapi *cpuid = NULL;
	int ok = 0;
	for (uint32_t n = 64; n <= 4096 && !ok; n *= 2) {
		free(cpuid);
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			_exit(121);
		cpuid->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID_NR, cpuid) == 0)
			ok = 1;
		else if (errno != E2BIG)
			break;
	}
	if (!ok || ioctl(vfd, KVM_SET_CPUID2_NR, cpuid) < 0) {
		answer("failed the helper's vCPU: cannot set its CPUID (%s)", errno_name(errno, tmp, sizeof(tmp)));
		free(cpuid);
		munmap(run, (size_t)size);
		close(vfd);
		return -1;
	}
	free(cpuid);
	void *mem = mmap(NULL, GUEST_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		answer("failed the helper's vCPU: cannot allocate the guest's code pages");
		munmap(run, (size_t)size);
		close(vfd);
		return -1;
	}
	vm->vcpu_fd = vfd;
	vm->run = run;
	vm->mem = mem;
	return 0;
}

struct code_slot {
	uint32_t slot;
	uint64_t gpa;
};

/* Adds the code slot where the trace has nothing (nr_ids: KVM_CAP_NR_MEMSLOTS). Returns 0, or -1 after
 * answering `failed`. */
static int code_slot_add(int fd, struct vmctx *vm, int nr_ids, uint64_t target, struct code_slot *cs)
{
	char tmp[16];
	int64_t id;
	for (id = (nr_ids > 0 ? nr_ids : 32) - 1; id >= 0; id--) {
		size_t k;
		for (k = 0; k < vm->nids && vm->ids[k] != (uint32_t)id; k++)
			;
		if (k == vm->nids)
			break;
	}
	if (id < 0) {
		answer("failed the trace uses every memslot id; the helper has none left for its guest's code");
		return -1;
	}
	for (size_t c = 0; c < sizeof(CODE_SLOT_GPAS) / sizeof(CODE_SLOT_GPAS[0]); c++) {
		uint64_t base = CODE_SLOT_GPAS[c];
		if (target >= base && target < base + GUEST_PAGES * 4096)
			continue;
		struct kvm_userspace_memory_region2_uapi m;
		memset(&m, 0, sizeof(m));
		m.slot = (uint32_t)id;
		m.guest_phys_addr = base;
		m.memory_size = GUEST_PAGES * 4096;
		m.userspace_addr = (uint64_t)(uintptr_t)vm->mem;
		if (ioctl(fd, KVM_SET_USER_MEMORY_REGION2_NR, &m) == 0) {
			cs->slot = (uint32_t)id;
			cs->gpa = base;
			return 0;
		}
		if (errno != EEXIST) {
			answer("failed the helper's code slot at gpa 0x%llx: %s", (unsigned long long)base,
			       errno_name(errno, tmp, sizeof(tmp)));
			return -1;
		}
	}
	answer("failed the trace's memslots cover every guest-physical range the helper can put its guest's code at");
	return -1;
}

static int code_slot_remove(int fd, const struct code_slot *cs)
{
	struct kvm_userspace_memory_region2_uapi m;
	memset(&m, 0, sizeof(m));
	m.slot = cs->slot;
	return ioctl(fd, KVM_SET_USER_MEMORY_REGION2_NR, &m);
}

/* Writes the code and page tables for a run at code slot `base`: VA 0x1000 → the code page, VA 0x2000 → the
 * target's page. Then enters 64-bit mode with CR3 at the PML4, with a guest TLB flush (see below). */
static int guest_setup(struct vmctx *vm, uint64_t base, uint64_t target)
{
	uint8_t *code = vm->mem;
	uint64_t *pml4 = (uint64_t *)(vm->mem + 4096), *pdpt = pml4 + 512, *pd = pdpt + 512, *pt = pd + 512;
	memset(vm->mem, 0xf4, 4096); /* hlt everywhere else */
	memcpy(code + GUEST_ENTRY_READ, GUEST_READ, sizeof(GUEST_READ));
	memcpy(code + GUEST_ENTRY_WRITE, GUEST_WRITE, sizeof(GUEST_WRITE));
	memcpy(code + GUEST_ENTRY_HYPERCALL, GUEST_HCALL, sizeof(GUEST_HCALL));
	memset(pml4, 0, 4 * 4096);
	pml4[0] = (base + 2 * 4096) | PTE_TABLE;
	pdpt[0] = (base + 3 * 4096) | PTE_TABLE;
	pd[0] = (base + 4 * 4096) | PTE_TABLE;
	pt[GUEST_VA_CODE >> 12] = base | PTE_PAGE;
	pt[GUEST_VA_DATA >> 12] = (target & ~4095ull) | PTE_PAGE;

	struct kvm_sregs_uapi sr;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS_NR, &sr) < 0)
		return -1;
	struct kvm_segment_uapi code_seg = { .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment_uapi data_seg = { .base = 0, .limit = 0xffffffff, .selector = 16, .type = 3, .present = 1, .s = 1, .db = 1, .g = 1 };
	struct kvm_segment_uapi tss_seg = { .base = 0, .limit = 0x67, .selector = 24, .type = 11, .present = 1 };
	struct kvm_segment_uapi ldt_seg = { .unusable = 1 };
	sr.cs = code_seg;
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = data_seg;
	sr.tr = tss_seg;
	sr.ldt = ldt_seg;
	sr.cr0 = 0x80050033ull; /* PG WP AM NE ET MP PE */
	sr.cr4 = 0x20ull;       /* PAE */
	sr.efer = 0x500ull;     /* LMA LME */
	/* KVM flushes the guest TLB only when CR3 changes, and the page tables were just rewritten: set a
	 * different CR3 first, so that the real one is a change. */
	sr.cr3 = base + 2 * 4096;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS_NR, &sr) < 0)
		return -1;
	sr.cr3 = base + 4096;
	return ioctl(vm->vcpu_fd, KVM_SET_SREGS_NR, &sr);
}

static int guest_set_regs(struct vmctx *vm, uint64_t entry, uint64_t rax, uint64_t rbx, uint64_t rcx, uint64_t rdx,
			  uint64_t rdi)
{
	struct kvm_regs_uapi regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_VA_CODE + entry;
	regs.rflags = 2;
	regs.rax = rax;
	regs.rbx = rbx;
	regs.rcx = rcx;
	regs.rdx = rdx;
	regs.rdi = rdi;
	return ioctl(vm->vcpu_fd, KVM_SET_REGS_NR, &regs);
}

enum exit_kind { EX_HLT, EX_MMIO, EX_MEMORY_FAULT, EX_HYPERCALL, EX_ERRNO, EX_OTHER };

struct exit_info {
	enum exit_kind kind;
	int err;          /* EX_ERRNO, EX_MEMORY_FAULT: KVM_RUN's errno */
	uint32_t reason;  /* EX_OTHER */
	uint64_t gpa, size, flags;
};

static void guest_run(struct vmctx *vm, struct exit_info *x)
{
	struct kvm_run_uapi *run = vm->run;
	memset(x, 0, sizeof(*x));
	for (int tries = 0;; tries++) {
		/* After a failed KVM_RUN exit_reason is stale unless KVM set it (KVM_EXIT_MEMORY_FAULT): reset it. */
		run->exit_reason = KVM_EXIT_UNKNOWN_NR;
		if (ioctl(vm->vcpu_fd, KVM_RUN_NR, 0ul) < 0) {
			int e = errno;
			if (e == EINTR && tries < MAX_KVM_RUN_EINTR)
				continue;
			x->err = e;
			if ((e == EFAULT || e == EHWPOISON) && run->exit_reason == KVM_EXIT_MEMORY_FAULT_NR) {
				x->kind = EX_MEMORY_FAULT;
				x->flags = run->u.memory_fault.flags;
				x->gpa = run->u.memory_fault.gpa;
				x->size = run->u.memory_fault.size;
			} else {
				x->kind = EX_ERRNO;
			}
			return;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_HLT_NR:
			x->kind = EX_HLT;
			return;
		case KVM_EXIT_MMIO_NR:
			x->kind = EX_MMIO;
			x->gpa = run->u.mmio.phys_addr;
			x->size = run->u.mmio.len;
			x->flags = run->u.mmio.is_write;
			return;
		case KVM_EXIT_HYPERCALL_NR:
			x->kind = EX_HYPERCALL;
			return;
		}
		x->kind = EX_OTHER;
		x->reason = run->exit_reason;
		return;
	}
}

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_SHUTDOWN_NR: return "KVM_EXIT_SHUTDOWN (the guest triple-faulted: is the gpa beyond the vCPU's MAXPHYADDR?)";
	case KVM_EXIT_FAIL_ENTRY_NR: return "KVM_EXIT_FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR_NR: return "KVM_EXIT_INTERNAL_ERROR";
	case KVM_EXIT_UNKNOWN_NR: return "KVM_EXIT_UNKNOWN";
	}
	return "an exit the helper does not expect";
}

/* Answers an exit that is not the op's own end (HLT, or the hypercall for guest_request_conversion). */
static void answer_exit(const struct exit_info *x, const struct code_slot *cs, uint64_t target)
{
	char tmp[16];
	switch (x->kind) {
	case EX_MEMORY_FAULT:
		if (x->gpa >= cs->gpa && x->gpa < cs->gpa + GUEST_PAGES * 4096) {
			answer("failed KVM_EXIT_MEMORY_FAULT on the helper's own code page (gpa 0x%llx): did the trace make it private?",
			       (unsigned long long)x->gpa);
			return;
		}
		if (x->gpa != (target & ~4095ull)) {
			answer("failed KVM_EXIT_MEMORY_FAULT at gpa 0x%llx, not at the accessed page 0x%llx",
			       (unsigned long long)x->gpa, (unsigned long long)(target & ~4095ull));
			return;
		}
		answer("exit MEMORY_FAULT private=%s gpa=%llu size=%llu errno=%s",
		       (x->flags & KVM_MEMORY_EXIT_FLAG_PRIVATE_BIT) ? "true" : "false", (unsigned long long)x->gpa,
		       (unsigned long long)x->size, errno_name(x->err, tmp, sizeof(tmp)));
		return;
	case EX_ERRNO:
		answer_errno(x->err);
		return;
	case EX_MMIO:
		answer("failed the guest made an MMIO access at gpa 0x%llx, not at 0x%llx", (unsigned long long)x->gpa,
		       (unsigned long long)target);
		return;
	case EX_HLT:
	case EX_HYPERCALL:
		answer("failed the guest stopped before its access (%s)", x->kind == EX_HLT ? "HLT" : "a hypercall");
		return;
	case EX_OTHER:
		answer("failed the guest stopped with exit %u, %s", x->reason, exit_name(x->reason));
		return;
	}
}

/* Common start of guest_access / guest_request_conversion: first VM ioctl, vCPU, code slot, page tables.
 * Returns 0 with the code slot added, or -1 after answering. */
static int guest_begin(int fd, struct vmctx *vm, uint64_t target, struct code_slot *cs)
{
	int nr = vm_first_ioctl(fd);
	if (nr < 0)
		return -1;
	if (!vm) {
		answer("failed the handle is not a VM the trace created");
		return -1;
	}
	if (vcpu_ensure(fd, vm) < 0 || code_slot_add(fd, vm, nr, target, cs) < 0)
		return -1;
	if (guest_setup(vm, cs->gpa, target) < 0) {
		char tmp[16];
		answer("failed the helper's vCPU: cannot enter 64-bit mode (%s)", errno_name(errno, tmp, sizeof(tmp)));
		code_slot_remove(fd, cs);
		return -1;
	}
	return 0;
}

/* Deletes the code slot; if that fails the VM is not the trace's any more, and the answer says so. */
static void guest_end(int fd, const struct code_slot *cs)
{
	if (code_slot_remove(fd, cs) < 0) {
		char tmp[16];
		answer("failed the helper could not delete its code slot %u (%s); later steps would see it", cs->slot,
		       errno_name(errno, tmp, sizeof(tmp)));
	}
}

static void op_guest_access(struct req *r)
{
	int fd, priv;
	struct vmctx *vm;
	uint64_t gpa;
	uint8_t value = 0;
	if (get_vm(r, "vm", &fd, &vm) < 0 || get_u64(r, "gpa", &gpa, 0) < 0 || get_bool(r, "private", &priv) < 0)
		return;
	int is_write = has_field(r, "write");
	if (is_write && get_byte(r, "write", &value) < 0)
		return;
	if (finish(r) < 0)
		return;
	/* `private` is the access's own private-ness on platforms whose hardware carries it (SNP, TDX, CCA, pKVM);
	 * on x86 KVM takes it from the GFN's attribute, so there is nothing to set. */
	(void)priv;
	uint64_t hva;
	if (is_write && vm && guest_write_reaches_helper(vm, gpa, &hva))
		return (void)perr(r, "a guest write at gpa 0x%llx goes through a raw userspace_addr (0x%llx) that may be the helper's own memory",
				  (unsigned long long)gpa, (unsigned long long)hva);
	struct code_slot cs;
	if (guest_begin(fd, vm, gpa, &cs) < 0)
		return;
	struct exit_info x;
	if (guest_set_regs(vm, is_write ? GUEST_ENTRY_WRITE : GUEST_ENTRY_READ, value, 0, 0, 0,
			   GUEST_VA_DATA + (gpa & 4095)) < 0) {
		answer("failed the helper's vCPU: KVM_SET_REGS failed");
	} else {
		guest_run(vm, &x);
		if (x.kind == EX_HLT) {
			struct kvm_regs_uapi regs;
			if (is_write)
				answer("access ok");
			else if (ioctl(vm->vcpu_fd, KVM_GET_REGS_NR, &regs) < 0)
				answer("failed the helper's vCPU: KVM_GET_REGS failed");
			else
				answer("access ok value=%u", (unsigned)(regs.rax & 0xff));
		} else if (x.kind == EX_MMIO && x.gpa == gpa) {
			/* Complete the access (a read gets 0) so that nothing is left pending in the vCPU. */
			guest_run(vm, &x);
			answer("exit MMIO");
		} else {
			answer_exit(&x, &cs, gpa);
		}
	}
	guest_end(fd, &cs);
}

static void op_guest_request_conversion(struct req *r)
{
	int fd, priv;
	struct vmctx *vm;
	uint64_t gpa, size;
	if (get_vm(r, "vm", &fd, &vm) < 0 || get_u64(r, "gpa", &gpa, 0) < 0 || get_u64(r, "size", &size, 0) < 0 ||
	    get_bool(r, "private", &priv) < 0 || finish(r) < 0)
		return;
	if (size % 4096)
		return (void)answer("failed KVM_HC_MAP_GPA_RANGE takes a page count: a size of %llu bytes cannot be requested",
				    (unsigned long long)size);
	if (vm && !vm->hypercall_exits) {
		/* the VM ioctl that every guest_request_conversion starts with, the first time */
		struct kvm_enable_cap_uapi cap;
		memset(&cap, 0, sizeof(cap));
		cap.cap = KVM_CAP_EXIT_HYPERCALL_NR;
		cap.args[0] = 1ull << KVM_HC_MAP_GPA_RANGE_NR;
		if (ioctl(fd, KVM_ENABLE_CAP_NR, &cap) < 0)
			return answer_errno(errno);
		vm->hypercall_exits = 1;
	}
	struct code_slot cs;
	if (guest_begin(fd, vm, GUEST_VA_CODE, &cs) < 0)
		return;
	uint64_t attrs = priv ? KVM_MAP_GPA_RANGE_ENCRYPTED_BIT : 0;
	struct exit_info x;
	if (guest_set_regs(vm, GUEST_ENTRY_HYPERCALL, KVM_HC_MAP_GPA_RANGE_NR, gpa, size / 4096, attrs, 0) < 0) {
		answer("failed the helper's vCPU: KVM_SET_REGS failed");
	} else {
		guest_run(vm, &x);
		struct kvm_run_uapi *run = vm->run;
		struct kvm_regs_uapi regs;
		if (x.kind == EX_HYPERCALL) {
			int same = run->u.hypercall.nr == KVM_HC_MAP_GPA_RANGE_NR && run->u.hypercall.args[0] == gpa &&
				   run->u.hypercall.args[1] == size / 4096 && run->u.hypercall.args[2] == attrs;
			/* userspace's answer to the guest: success (the trace converts with set_memory_attributes) */
			run->u.hypercall.ret = 0;
			guest_run(vm, &x);
			if (same)
				answer("ok");
			else
				answer("failed the KVM_EXIT_HYPERCALL does not carry the request the guest made");
		} else if (x.kind == EX_HLT) {
			/* KVM answered the guest itself: the hypercall's return value is in RAX */
			if (ioctl(vm->vcpu_fd, KVM_GET_REGS_NR, &regs) < 0)
				answer("failed the helper's vCPU: KVM_GET_REGS failed");
			else if ((int64_t)regs.rax == -KVM_EINVAL_NR)
				answer("errno EINVAL");
			else
				answer("failed KVM answered the guest's MAP_GPA_RANGE itself with %lld", (long long)regs.rax);
		} else {
			answer_exit(&x, &cs, gpa);
		}
	}
	guest_end(fd, &cs);
}

static void op_pre_fault(struct req *r)
{
	int fd;
	struct vmctx *vm;
	struct kvm_pre_fault_memory_uapi p;
	memset(&p, 0, sizeof(p));
	if (get_vm(r, "vm", &fd, &vm) < 0 || get_u64(r, "gpa", &p.gpa, 0) < 0 || get_u64(r, "size", &p.size, 0) < 0 ||
	    get_u64(r, "flags", &p.flags, 1) < 0 || finish(r) < 0)
		return;
	if (vm_first_ioctl(fd) < 0)
		return;
	if (!vm)
		return (void)answer("failed the handle is not a VM the trace created");
	if (vcpu_ensure(fd, vm) < 0)
		return;
	int ret;
	for (int tries = 0; (ret = ioctl(vm->vcpu_fd, KVM_PRE_FAULT_MEMORY_NR, &p)) < 0 && errno == EINTR && tries < MAX_KVM_RUN_EINTR; tries++)
		;
	if (ret < 0)
		answer_errno(errno);
	else
		answer("ok ret=%llu", (unsigned long long)p.size); /* the part of the range not pre-faulted */
}

/*
 * userfaultfd on a trace mapping (native/PROTOCOL.md "userfaultfd"). The structs and ioctl numbers are from
 * include/uapi/linux/userfaultfd.h, written here as the KVM ones are, so the helper needs no kernel headers.
 */
struct uffd_range_uapi { uint64_t start, len; };
struct uffdio_api_uapi { uint64_t api, features, ioctls; };
struct uffdio_register_uapi { struct uffd_range_uapi range; uint64_t mode, ioctls; };
struct uffdio_continue_uapi { struct uffd_range_uapi range; uint64_t mode; int64_t mapped; };
_Static_assert(sizeof(struct uffdio_api_uapi) == 24, "struct uffdio_api");
_Static_assert(sizeof(struct uffdio_register_uapi) == 32, "struct uffdio_register");
_Static_assert(sizeof(struct uffdio_continue_uapi) == 32, "struct uffdio_continue");
#define UFFD_API_VERSION 0xAAull
#define UFFDIO_API_NR 0xC018AA3Fu      /* _IOWR(0xAA, 0x3F, struct uffdio_api) */
#define UFFDIO_REGISTER_NR 0xC020AA00u /* _IOWR(0xAA, 0x00, struct uffdio_register) */
#define UFFDIO_CONTINUE_NR 0xC020AA07u /* _IOWR(0xAA, 0x07, struct uffdio_continue) */
#define UFFD_REGISTER_MODES 0x5ull     /* MISSING (1 << 0) | MINOR (1 << 2): the modes the protocol sends */

static int uffd_fd = -1;        /* this process's userfaultfd, opened by the first uffd_register */
static pid_t uffd_pid;          /* the process that opened it (a fork child opens its own) */
static int uffd_registered;     /* a registration succeeded: a later access may wait on a userfault */

/* The process's userfaultfd, opened and initialised (UFFDIO_API, no features) on first use; -errno if not. */
static int uffd_get(void)
{
	if (uffd_fd >= 0 && uffd_pid == getpid())
		return uffd_fd;
	uffd_fd = -1;
	uffd_registered = 0;
	int u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u < 0)
		return -errno;
	/* No feature bits: 7.3 has none for guest_memfd (UFFD_FEATURE_MINOR_GUEST_MEMFD never merged), and an
	 * unknown bit would fail UFFDIO_API itself with EINVAL instead of letting REGISTER answer. */
	struct uffdio_api_uapi api = { .api = UFFD_API_VERSION, .features = 0 };
	if (ioctl(u, UFFDIO_API_NR, &api) < 0) {
		int e = errno;
		close(u);
		return -e;
	}
	uffd_fd = u;
	uffd_pid = getpid();
	return u;
}

static void op_uffd_register(struct req *r)
{
	struct handle *m;
	uint64_t off, len, mode;
	if (get_map(r, "map", &m) < 0 || get_u64(r, "offset", &off, 0) < 0 || get_u64(r, "length", &len, 0) < 0 ||
	    get_u64(r, "mode", &mode, 0) < 0 || check_range(r, m, m->addr + off, len) < 0 || finish(r) < 0)
		return;
	if (mode == 0 || (mode & ~UFFD_REGISTER_MODES))
		return (void)perr(r, "mode=%llu: expected 1 (MISSING) or 4 (MINOR)", (unsigned long long)mode);
	int u = uffd_get();
	if (u < 0)
		return answer_errno(-u);
	struct uffdio_register_uapi reg = { .range = { .start = m->addr + off, .len = len }, .mode = mode };
	if (ioctl(u, UFFDIO_REGISTER_NR, &reg) < 0)
		return answer_errno(errno);
	uffd_registered = 1;
	answer("ok");
}

static void op_uffd_continue(struct req *r)
{
	struct handle *m;
	uint64_t off, len;
	if (get_map(r, "map", &m) < 0 || get_u64(r, "offset", &off, 0) < 0 || get_u64(r, "length", &len, 0) < 0 ||
	    check_range(r, m, m->addr + off, len) < 0 || finish(r) < 0)
		return;
	int u = uffd_get();
	if (u < 0)
		return answer_errno(-u);
	struct uffdio_continue_uapi c = { .range = { .start = m->addr + off, .len = len }, .mode = 0 };
	if (ioctl(u, UFFDIO_CONTINUE_NR, &c) < 0)
		return answer_errno(errno);
	answer("ok");
}

/*
 * Accesses after a successful registration could wait forever on a userfault, which this single-threaded
 * helper cannot observe; it refuses them instead of hanging. No kernel this project runs on accepts a
 * registration on guest_memfd (7.3 answers EINVAL), so no recorded trace reaches this.
 */
static int uffd_access_op(const char *op)
{
	static const char *const faulting[] = { "read_mem", "write_mem", "fill_mem", "check_mem", "madvise",
						 "pin", "guest_access", "pre_fault" };
	for (size_t i = 0; i < sizeof(faulting) / sizeof(faulting[0]); i++)
		if (strcmp(op, faulting[i]) == 0)
			return 1;
	return 0;
}

static int uffd_blocks_access(void)
{
	if (!uffd_registered || uffd_pid != getpid())
		return 0;
	answer("failed the helper does not run accesses once a userfaultfd registration succeeded (a userfault would block it)");
	return 1;
}

static void op_unsupported(struct req *r)
{
	answer("failed unsupported: %s needs a confidential-computing platform (SNP, TDX or CCA)", r->op);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Test-only operations (never sent by the TypeScript backend for a real trace)                               */

static void op_test_crash(struct req *r)
{
	if (finish(r) < 0)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGSEGV, &sa, NULL);
	raise(SIGSEGV);
	_exit(122);
}

static void op_test_hang(struct req *r)
{
	if (finish(r) < 0)
		return;
	for (;;)
		pause();
}

static void op_test_exit(struct req *r)
{
	uint32_t code = 0;
	if (get_u32(r, "code", &code, 1) < 0 || finish(r) < 0)
		return;
	_exit((int)(code & 0xff));
}

static void op_test_garbage(struct req *r)
{
	if (finish(r) < 0)
		return;
	out_line("%%%% this is not a protocol line %%%%");
	answered = 1;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Dispatch                                                                                                   */

struct opdef {
	const char *name;
	void (*fn)(struct req *);
};

static void op_read(struct req *r) { op_rw(r, 0, 0); }
static void op_write(struct req *r) { op_rw(r, 1, 0); }
static void op_pread(struct req *r) { op_rw(r, 0, 1); }
static void op_pwrite(struct req *r) { op_rw(r, 1, 1); }

static const struct opdef OPS[] = {
	{ "check_extension", op_check_extension },
	{ "create_vm", op_create_vm },
	{ "create_gmem", op_create_gmem },
	{ "close", op_close },
	{ "dup", op_dup },
	{ "mmap", op_mmap },
	{ "munmap", op_munmap },
	{ "mprotect", op_mprotect },
	{ "madvise", op_madvise },
	{ "read_mem", op_read_mem },
	{ "write_mem", op_write_mem },
	{ "fill_mem", op_fill_mem },
	{ "check_mem", op_check_mem },
	{ "fallocate", op_fallocate },
	{ "fstat", op_fstat },
	{ "ftruncate", op_ftruncate },
	{ "read", op_read },
	{ "write", op_write },
	{ "pread", op_pread },
	{ "pwrite", op_pwrite },
	{ "set_memory_region2", op_set_memory_region2 },
	{ "delete_memslot", op_delete_memslot },
	{ "set_memory_attributes", op_set_memory_attributes },
	{ "set_memory_attributes2", op_set_memory_attributes2 },
	{ "pin", op_pin },
	{ "unpin", op_unpin },
	{ "launch_start", op_unsupported },
	{ "launch_finish", op_unsupported },
	{ "populate", op_unsupported },
	{ "guest_access", op_guest_access },
	{ "guest_request_conversion", op_guest_request_conversion },
	{ "pre_fault", op_pre_fault },
	{ "uffd_register", op_uffd_register },
	{ "uffd_continue", op_uffd_continue },
	{ "__crash", op_test_crash },
	{ "__hang", op_test_hang },
	{ "__exit", op_test_exit },
	{ "__garbage", op_test_garbage },
};

/* ---------------------------------------------------------------------------------------------------------- */
/* Trace execution (in the per-trace child)                                                                   */

struct trace {
	char *text;      /* all request lines, each NUL-terminated */
	size_t *start;   /* offset of line i in text */
	size_t *len;     /* length of line i */
	size_t n;
};

static struct trace T;
static struct req run_req; /* the request being run (big: kept off the stack) */

/* The body size K of a well-formed `fork n=K` line, or -1 when line i is anything else. */
static long fork_count(size_t i)
{
	const char *s = T.text + T.start[i];
	if (strncmp(s, "fork n=", 7) != 0)
		return -1;
	uint64_t k;
	if (parse_u64_str(s + 7, &k) < 0 || k > MAX_FORK_STEPS)
		return -1;
	return (long)k;
}

/* Index just after the K steps starting at line i, or -1 if the trace ends first / nesting is too deep. */
static long skip_steps(size_t i, long k, int depth)
{
	if (depth > MAX_FORK_DEPTH)
		return -1;
	for (long s = 0; s < k; s++) {
		if (i >= T.n)
			return -1;
		long kk = fork_count(i);
		if (kk >= 0) {
			long j = skip_steps(i + 1, kk, depth + 1);
			if (j < 0)
				return -1;
			i = (size_t)j;
		} else {
			i++;
		}
	}
	return (long)i;
}

static void run_line(size_t i)
{
	struct req *r = &run_req;
	cur_seq = i;
	answered = 0;
	if (parse_req(r, T.text + T.start[i], T.len[i]) < 0)
		return;
	if (strcmp(r->op, "reject") == 0) {
		answer("failed %s", *r->rest ? r->rest : "rejected by the backend");
		return;
	}
	if (strcmp(r->op, "fork") == 0) {
		/* a well-formed fork never gets here */
		perr(r, "expected 'fork n=K' with 0 <= K <= %d", MAX_FORK_STEPS);
		return;
	}
	for (size_t k = 0; k < sizeof(OPS) / sizeof(OPS[0]); k++) {
		if (strcmp(OPS[k].name, r->op) == 0) {
			if (uffd_access_op(r->op) && uffd_blocks_access())
				return;
			OPS[k].fn(r);
			if (!answered)
				answer("error internal: %s gave no answer", r->op);
			return;
		}
	}
	answer("error unknown operation '%s'", r->op);
}

/* Answer lines [from, to) with `<what> <reason> <about>`: steps that cannot run. */
static void answer_range(size_t from, size_t to, const char *what, const char *reason, size_t about)
{
	for (size_t i = from; i < to; i++) {
		cur_seq = i;
		answer("%s %s %zu", what, reason, about);
	}
}

static size_t run_steps(size_t i, long count, size_t end, int depth);

static void run_fork(size_t i, long k, size_t body_end, int depth)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		answer_range(i + 1, body_end, "failed", "not run: fork() failed for the fork at request", i);
		cur_seq = i;
		answer_errno(e);
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(123);
		run_steps(i + 1, k, body_end, depth);
		_exit(0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			cur_seq = i;
			answer("failed cannot wait for the fork child: %s", strerror(errno));
			return;
		}
	}
	cur_seq = i;
	char tmp[32];
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		answer("ok");
	else if (WIFEXITED(status))
		answer("failed fork child exited with code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		answer("failed fork child was killed by %s", signal_name(WTERMSIG(status), tmp, sizeof(tmp)));
	else
		answer("failed fork child ended with status 0x%x", status);
}

/* Run `count` steps (count < 0: all) from line i, up to line `end`. Returns the index after them. */
static size_t run_steps(size_t i, long count, size_t end, int depth)
{
	for (long done = 0; i < end && (count < 0 || done < count); done++) {
		long k = fork_count(i);
		if (k < 0) {
			run_line(i);
			i++;
			continue;
		}
		long j = skip_steps(i + 1, k, depth + 1);
		if (j < 0 || (size_t)j > end) {
			cur_seq = i;
			answer("error fork: the body of %ld steps runs past the end of the trace, or forks nest deeper than %d",
			       k, MAX_FORK_DEPTH);
			answer_range(i + 1, end, "error", "not run: inside the malformed fork at request", i);
			return end;
		}
		run_fork(i, k, (size_t)j, depth + 1);
		i = (size_t)j;
	}
	return i;
}

static void run_trace_child(void)
{
	install_fault_handlers();
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		int e = errno;
		char tmp[16];
		for (size_t i = 0; i < T.n; i++) {
			cur_seq = i;
			answer("failed cannot open /dev/kvm: %s", errno_name(e, tmp, sizeof(tmp)));
		}
		return;
	}
	run_steps(0, -1, T.n, 0);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Server                                                                                                     */

static char inbuf[1 << 16];
static size_t inlen, inpos;
static int in_eof;

/* Next stdin line into *line (NUL-terminated, valid until the next call). Returns -1 at EOF. */
static char *linebuf;
static size_t linecap;

static int read_line(char **line, size_t *len)
{
	size_t n = 0;
	for (;;) {
		if (inpos == inlen) {
			if (in_eof)
				return -1;
			ssize_t got = read(0, inbuf, sizeof(inbuf));
			if (got < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			if (got == 0) {
				in_eof = 1;
				if (n == 0)
					return -1;
				break; /* a last line without newline */
			}
			inlen = (size_t)got;
			inpos = 0;
		}
		char *nl = memchr(inbuf + inpos, '\n', inlen - inpos);
		size_t take = nl ? (size_t)(nl - (inbuf + inpos)) : inlen - inpos;
		if (n + take + 1 > linecap) {
			size_t nc = linecap ? linecap : 256;
			while (nc < n + take + 1)
				nc *= 2;
			char *nb = realloc(linebuf, nc);
			if (!nb)
				_exit(121);
			linebuf = nb;
			linecap = nc;
		}
		memcpy(linebuf + n, inbuf + inpos, take);
		n += take;
		inpos += take;
		if (nl) {
			inpos++;
			break;
		}
	}
	if (n > 0 && linebuf[n - 1] == '\r')
		n--;
	linebuf[n] = 0;
	*line = linebuf;
	*len = n;
	return 0;
}

static size_t text_cap, lines_cap;

static void trace_add(const char *line, size_t len)
{
	size_t used = T.n ? T.start[T.n - 1] + T.len[T.n - 1] + 1 : 0;
	if (used + len + 1 > text_cap) {
		size_t nc = text_cap ? text_cap : 4096;
		while (nc < used + len + 1)
			nc *= 2;
		char *nt = realloc(T.text, nc);
		if (!nt)
			_exit(121);
		T.text = nt;
		text_cap = nc;
	}
	if (T.n == lines_cap) {
		size_t nc = lines_cap ? lines_cap * 2 : 64;
		size_t *ns = realloc(T.start, nc * sizeof(size_t));
		if (!ns)
			_exit(121);
		T.start = ns;
		size_t *nl = realloc(T.len, nc * sizeof(size_t));
		if (!nl)
			_exit(121);
		T.len = nl;
		lines_cap = nc;
	}
	memcpy(T.text + used, line, len);
	T.text[used + len] = 0;
	T.start[T.n] = used;
	T.len[T.n] = len;
	T.n++;
}

/*
 * The server only forks and reaps. It keeps two trace children forked ahead of time ("spares"), each of
 * which faults in its working set and then waits for its turn to read stdin. The spare holding the turn
 * reads the client's commands: `ping` and unknown commands it answers and goes on reading; at `begin` it
 * reads the trace up to `end`, hands the turn on to the next spare, runs the trace, and ends with
 * `done exit=0` itself. So a trace costs the client two process hops (client → child → client), and the fork
 * of new spares and the exit of finished children overlap with the traces.
 *
 * The turn is a byte on the next spare's turn pipe, written by the spare before it (whose write end it
 * inherits) or, if that one died without passing it, by the server.
 *
 * A child tells the server, on its status pipe, 'F' just after it wrote `done exit=0` and 'Q' when the client
 * said `quit` or closed stdin. Its trace's progress is a word in a page shared with the server (setting it
 * costs no wakeup): IDLE → RUNNING at `begin`, RUNNING → FINISHING (compare-and-swap) before it writes
 * `done`. EOF on the status pipe without 'F' or 'Q' means the child died: if it was RUNNING (a crash) the
 * server writes `done` with how it ended.
 *
 * Each child leads its own process group, which its fork-step children join. SIGUSR1 to the server (the
 * client's timeout) moves the RUNNING child to KILLED (compare-and-swap, so a child that has begun to write
 * its `done` is left to finish and exactly one `done` is ever written) and kills its group; the server is
 * a child subreaper, so orphaned fork-step children are reparented to it and reaped, and `done signal=9
 * SIGKILL` follows. The server itself stays usable.
 *
 * The client must not send anything after `end` (or `ping`) until the answer (`done`, `pong`) has arrived:
 * whatever a child reads past its trace is lost with it.
 */
enum { TRACE_IDLE, TRACE_RUNNING, TRACE_FINISHING, TRACE_KILLED };

#define SLOTS 64

struct slot_state {
	int trace;  /* TRACE_*; accessed atomically */
	int passed; /* the turn has been handed on */
};

static struct slot_state *slots; /* in a page shared by the server and every child */
static struct slot_state *my_slot; /* in a child: its own */

static int trace_state(struct slot_state *s)
{
	return __atomic_load_n(&s->trace, __ATOMIC_SEQ_CST);
}

static int trace_move(struct slot_state *s, int from, int to)
{
	return __atomic_compare_exchange_n(&s->trace, &from, to, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static volatile sig_atomic_t interrupt_requested;

static void on_sigusr1(int sig)
{
	(void)sig;
	interrupt_requested = 1;
}

/* A child's fds, moved to fixed numbers (everything else above 2 is closed). */
#define FD_STATUS 3
#define FD_TURN 4
#define FD_PASS 5

static void child_status(char c)
{
	write_all(FD_STATUS, &c, 1);
}

static void pass_turn(void)
{
	char t = 'T';
	while (write(FD_PASS, &t, 1) < 0 && errno == EINTR)
		;
	__atomic_store_n(&my_slot->passed, 1, __ATOMIC_SEQ_CST);
	close(FD_PASS);
}

/*
 * Fault in, while idle, the memory a trace will write to: the pages the child shares copy-on-write with the
 * server (stack, request and input buffers) and the heap the trace's bookkeeping grows into. Each of these
 * faults costs microseconds here (more under nested virtualisation), so doing them before the client's
 * request arrives takes them off the trace's critical path.
 */
static void prefault(void)
{
	volatile char pad[48 * 1024];
	for (size_t i = 0; i < sizeof(pad); i += 4096)
		pad[i] = 0;
	volatile char *objs[] = { (volatile char *)&run_req, (volatile char *)inbuf };
	size_t lens[] = { sizeof(run_req), 8192 };
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < lens[k]; i += 4096)
			objs[k][i] = objs[k][i];
	/* reserve and touch the trace's arrays */
	trace_add("", 0);
	for (size_t i = 0; i < text_cap; i += 4096)
		T.text[i] = 0;
	T.n = 0;
	bind_handle("_", (struct handle){ .kind = K_FD, .fd = -1 });
	nhandles = 0;
}

/* A spare child: wait for the turn, serve commands from stdin until one trace has run. Never returns. */
static void spare_child(void)
{
	char *line;
	size_t len;
	prefault();
	char t;
	ssize_t got;
	while ((got = read(FD_TURN, &t, 1)) < 0 && errno == EINTR)
		;
	if (got != 1)
		_exit(0); /* the server went away */
	close(FD_TURN);
	for (;;) {
		if (read_line(&line, &len) < 0)
			break;
		if (strcmp(line, "begin") == 0) {
			__atomic_store_n(&my_slot->trace, TRACE_RUNNING, __ATOMIC_SEQ_CST);
			T.n = 0;
			int ended = 0;
			while (read_line(&line, &len) == 0) {
				if (strcmp(line, "end") == 0) {
					ended = 1;
					break;
				}
				trace_add(line, len);
			}
			if (!ended)
				break; /* the client went away mid-trace */
			pass_turn();
			run_trace_child();
			if (!trace_move(my_slot, TRACE_RUNNING, TRACE_FINISHING))
				_exit(0); /* the server is killing us and will report */
			out_line("done exit=0");
			child_status('F');
			_exit(0);
		} else if (strcmp(line, "ping") == 0) {
			out_line("pong");
		} else if (strcmp(line, "quit") == 0) {
			break;
		} else {
			char shown[128];
			snprintf(shown, sizeof(shown), "%s", line);
			for (char *p = shown; *p; p++)
				if ((unsigned char)*p < 0x20)
					*p = '?';
			out_line("error unknown server command '%s' (expected begin, ping or quit)", shown);
		}
	}
	child_status('Q');
	_exit(0);
}

struct spare {
	pid_t pid; /* 0: empty */
	int status_rd;
	int turn_wr; /* the server's copy: to give this spare the turn if the one before it died without */
	struct slot_state *slot;
};

/* pool[0] holds the turn (or gets it next); pool[1] was forked after it and waits for it. */
#define POOL 2
static struct spare pool[POOL];
static int pending_turn[2] = { -1, -1 }; /* the turn pipe of the spare to be forked next */
static unsigned spawned;

/* Fork a spare into pool[k]. */
static int fork_spare(int k)
{
	int sp[2], after[2];
	if (pending_turn[0] < 0 && pipe2(pending_turn, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(sp, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(after, O_CLOEXEC) < 0) { /* the turn pipe of the spare after this one */
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	struct slot_state *slot = &slots[spawned % SLOTS];
	__atomic_store_n(&slot->trace, TRACE_IDLE, __ATOMIC_SEQ_CST);
	__atomic_store_n(&slot->passed, 0, __ATOMIC_SEQ_CST);
	pid_t server = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		close(after[0]);
		close(after[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != server)
			_exit(123);
		setpgid(0, 0);
		my_slot = slot;
		/* keep only stdio, the status pipe, our turn and the next spare's turn, at fixed numbers */
		int st = fcntl(sp[1], F_DUPFD, 100), tu = fcntl(pending_turn[0], F_DUPFD, 100), pa = fcntl(after[1], F_DUPFD, 100);
		if (st < 0 || tu < 0 || pa < 0 || dup2(st, FD_STATUS) < 0 || dup2(tu, FD_TURN) < 0 || dup2(pa, FD_PASS) < 0)
			_exit(124);
		close_range(FD_PASS + 1, ~0U, 0);
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGUSR1, &sa, NULL);
		spare_child();
	}
	setpgid(pid, pid); /* also from this side, so the group exists before any kill(-pid) */
	spawned++;
	close(sp[1]);
	close(pending_turn[0]);
	pool[k] = (struct spare){ .pid = pid, .status_rd = sp[0], .turn_wr = pending_turn[1], .slot = slot };
	pending_turn[0] = after[0];
	pending_turn[1] = after[1];
	return 0;
}

static int fork_spare_retrying(int k)
{
	for (int tries = 0; tries < 50; tries++) {
		if (fork_spare(k) == 0)
			return 0;
		usleep(20000);
	}
	char tmp[16];
	out_line("error cannot fork a trace child: %s", errno_name(errno, tmp, sizeof(tmp)));
	return -1;
}

static void give_turn(struct spare *s)
{
	char t = 'T';
	while (write(s->turn_wr, &t, 1) < 0 && errno == EINTR)
		;
}

static void release(struct spare *s)
{
	close(s->status_rd);
	close(s->turn_wr);
	s->pid = 0;
}

static void report_end(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			out_line("done wait-failed %s", strerror(errno));
			return;
		}
	}
	char tmp[32];
	if (WIFEXITED(status))
		out_line("done exit=%d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		out_line("done signal=%d %s", WTERMSIG(status), signal_name(WTERMSIG(status), tmp, sizeof(tmp)));
	else
		out_line("done status=%d", status);
}

static void shut_down(void)
{
	for (int k = 0; k < POOL; k++)
		if (pool[k].pid > 0)
			kill(-pool[k].pid, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

static int serve(void)
{
	slots = mmap(NULL, SLOTS * sizeof(struct slot_state), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED) {
		out_line("error cannot map the shared page: %s", strerror(errno));
		return 1;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1; /* no SA_RESTART: poll below returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	for (int k = 0; k < POOL; k++)
		if (fork_spare_retrying(k) < 0)
			return 1;
	give_turn(&pool[0]);
	for (;;) {
		if (interrupt_requested) {
			interrupt_requested = 0;
			for (int k = 0; k < POOL; k++)
				if (pool[k].pid > 0 && trace_move(pool[k].slot, TRACE_RUNNING, TRACE_KILLED))
					kill(-pool[k].pid, SIGKILL); /* the trace child and its fork-step children */
		}
		struct pollfd pfd[POOL];
		for (int k = 0; k < POOL; k++)
			pfd[k] = (struct pollfd){ .fd = pool[k].pid > 0 ? pool[k].status_rd : -1, .events = POLLIN };
		int n = poll(pfd, POOL, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			out_line("error poll: %s", strerror(errno));
			shut_down();
			return 1;
		}
		for (int k = 0; k < POOL; k++) {
			if (!pfd[k].revents)
				continue;
			struct spare s = pool[k];
			char c = 0;
			ssize_t got;
			while ((got = read(s.status_rd, &c, 1)) < 0 && errno == EINTR)
				;
			if (got == 1 && c == 'Q') {
				shut_down();
				return 0;
			}
			if (got == 1 && c != 'F')
				continue; /* not a status byte: ignore */
			/* finished ('F') or died (EOF): this spare leaves the pool */
			release(&pool[k]);
			if (got == 1) {
				interrupt_requested = 0; /* aimed at a trace that has ended anyway */
				while (waitpid(s.pid, NULL, 0) < 0 && errno == EINTR)
					; /* it exits right after 'F' */
			} else {
				kill(-s.pid, SIGKILL); /* its fork-step children, if any */
				int st = trace_state(s.slot);
				if (st != TRACE_RUNNING && st != TRACE_KILLED) {
					/* an idle spare killed from outside: the turn chain is broken, start over */
					waitpid(s.pid, NULL, 0);
					out_line("error a waiting trace child (pid %d) died; the helper exits", (int)s.pid);
					shut_down();
					return 1;
				}
				report_end(s.pid); /* crashed, or killed on request: say how */
				/* its fork-step children have been reparented to us (subreaper) and die from the kill */
				while (waitpid(-s.pid, NULL, 0) > 0 || errno == EINTR)
					;
				if (!__atomic_load_n(&s.slot->passed, __ATOMIC_SEQ_CST)) {
					/* hand its turn on ourselves: to the spare forked after it, or to the next one forked */
					char t = 'T';
					int wr = k + 1 < POOL && pool[k + 1].pid > 0 ? pool[k + 1].turn_wr : pending_turn[1];
					while (write(wr, &t, 1) < 0 && errno == EINTR)
						;
				}
			}
			/* keep the pool ordered by turn: the survivor first, a new spare after it */
			if (k == 0) {
				pool[0] = pool[1];
				pool[1].pid = 0;
			}
			if (fork_spare_retrying(1) < 0) {
				shut_down();
				return 1;
			}
			break; /* pool indices changed: poll again */
		}
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("gmem-helper protocol %d\n", PROTOCOL_VERSION);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: %s [--version]\n  (speaks the protocol in native/PROTOCOL.md on stdin/stdout)\n",
			argv[0]);
		return 2;
	}
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN); /* a dead child shows as EOF on its status pipe, not as a signal */
	/* If the client dies, so do we (and through their own PDEATHSIG, the trace child and its fork children). */
	pid_t client = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != client)
		return 0;
	out_line("ready gmem-helper protocol=%d", PROTOCOL_VERSION);
	return serve();
}
