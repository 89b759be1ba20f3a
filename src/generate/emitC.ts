/**
 * C selftests in the style of the kernel's tools/testing/selftests/kvm/guest_memfd_test.c: one TEST() per
 * generated trace, each step a plain syscall or ioctl followed by ASSERT_*() with the rule in words as its
 * TH_LOG message, TAP output. Each suite folder's c/gmem_test.h, written once, holds the KVM / guest_memfd UAPI
 * (native/kvm-uapi.h's text, generated from spec/constants.ts, with the kernel's names as aliases) and a minimal
 * kselftest_harness.h (TEST, ASSERT_*, TH_LOG, SKIP, TEST_HARNESS_MAIN: each test in a forked child), so the
 * files build with `gcc -Wall -Werror` without a kernel tree and can take the real harness instead when
 * dropped into tools/testing/selftests/kvm/.
 *
 * Operations the emitter supports: every operation of the vocabulary a process can issue against /dev/kvm
 * without a vCPU or a confidential-computing platform. Traces with platform operations (launch_*, populate,
 * guest_access, guest_request_conversion) or with a VM type that has no kernel encoding are left out, and
 * the result says which and why.
 */
import { KVM_MEM } from '../../spec/constants.ts';
import type { Outcome, Step } from '../../spec/ops.ts';
import { type CLine, type CTable, ident, u64 } from '../../spec/ops/cSelftest.ts';
import { opOf } from '../../spec/ops/index.ts';
import { CAP_NAMES, big } from '../../spec/ops/words.ts';
import type { Profile } from '../../spec/profile.ts';
import { acceptedFlagDefs, flagMask } from '../../spec/rules/kvm.ts';
import { GMEM_IOCTLS, kvmUapiHeader } from './kvmUapi.ts';
import type { GenTest, SuiteName } from './materialise.ts';

export interface CEmitResult {
  files: Map<string, string>;
  tests: number;
  /** Operation or trace → why it has no C. */
  leftOut: Record<string, string>;
}

class Unsupported extends Error {}

const cstr = (s: string) =>
  `"${s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/[^\x20-\x7e]/g, (c) => (c === '…' ? '...' : c === '→' ? '->' : c === '—' ? '-' : '?'))}"`;

interface Ctx {
  profile: Profile;
  /** Rule texts used in the file (note → C identifier), emitted once as static strings. */
  rules: Map<string, string>;
  fds: Set<string>;
  maps: Set<string>;
  out: string[];
  uses: Set<string>;
}

function collectHandles(steps: readonly Step[], c: Ctx): void {
  for (const s of steps) {
    if (s.op === 'fork') collectHandles(s.steps, c);
    if (!s.as) continue;
    if (s.op === 'mmap') c.maps.add(s.as);
    else c.fds.add(s.as);
  }
}

function says(c: Ctx, s: Step): string {
  return `"%s", ${ruleId(c, s)}`;
}

/** The C identifier of the static string that holds a step's rule in words. */
function ruleId(c: Ctx, s: Step): string {
  const note = s.note ?? 'as the spec predicts';
  let id = c.rules.get(note);
  if (!id) {
    const base = `rule_${note.slice(0, Math.max(0, note.indexOf(':'))).replace(/[^A-Za-z0-9]+/g, '_') || 'spec'}`;
    id = base;
    for (let k = 2; [...c.rules.values()].includes(id); k++) id = `${base}_${k}`;
    c.rules.set(note, id);
  }
  return id;
}

/** The step's table form, where its operation has one (spec/ops/*.ts `cSelftest.table`). */
function tableOf(s: Step): CTable<Step['op']> | undefined {
  const c = opOf(s).cSelftest;
  return 'none' in c ? undefined : (c.table as CTable<Step['op']> | undefined);
}

/*
 * Runs of refusals of one operation become a table looped over with one assertion, as the kernel's selftests
 * write invalid inputs: consecutive steps of the same table operation, none creating anything, each expected
 * to fail with an errno or (where the table allows) to succeed without a return value.
 */
function tableable(s: Step): boolean {
  const o = s.expected;
  const table = tableOf(s);
  if (!table || s.as || !o || (table.accepts && !table.accepts(s))) return false;
  if ('errno' in o) return o.error_offset === undefined;
  return table.successRows && 'ok' in o && o.ret === undefined && !o.fstat && !o.steps;
}

function errOf(o: Outcome): string {
  return 'errno' in o ? o.errno : '0';
}

function emitTable(c: Ctx, run: readonly Step[], ind: string, n: number): void {
  const first = run[0] as Step;
  const table = tableOf(first) as CTable<Step['op']>;
  const name = `${first.op}_cases_${n}`;
  const rows: string[] = [];
  for (const s of run) {
    const o = s.expected as Outcome;
    const rule = ruleId(c, s);
    rows.push(`{ ${table.row(s, c.profile)}, ${errOf(o)}, ${rule} }`);
  }
  c.out.push(`${ind}{`);
  c.out.push(`${ind}	const struct { ${table.members} int err; const char *rule; } ${name}[] = {`);
  for (const r of rows) c.out.push(`${ind}		${r},`);
  c.out.push(`${ind}	};`);
  c.out.push('');
  c.out.push(`${ind}	for (size_t i = 0; i < ARRAY_SIZE(${name}); i++) {`);
  c.out.push(`${ind}		ret = ${table.call(`${name}[i]`)};`);
  c.out.push(`${ind}		if (${name}[i].err) {`);
  c.out.push(`${ind}			ASSERT_ERRNO(${name}[i].err, ret) TH_LOG("${name}[%zu]: %s", i, ${name}[i].rule);`);
  c.out.push(`${ind}		} else {`);
  c.out.push(`${ind}			ASSERT_OK(ret) TH_LOG("${name}[%zu]: %s", i, ${name}[i].rule);`);
  c.out.push(`${ind}		}`);
  c.out.push(`${ind}	}`);
  c.out.push(`${ind}}`);
}

function emitSteps(c: Ctx, steps: readonly Step[], ind: string): void {
  let tables = 0;
  for (let i = 0; i < steps.length; ) {
    const s = steps[i] as Step;
    let j = i;
    while (j < steps.length && tableable(steps[j] as Step) && (steps[j] as Step).op === s.op) j++;
    if (j - i >= 3) {
      emitTable(c, steps.slice(i, j), ind, ++tables);
      i = j;
    } else {
      emitStep(c, s, ind);
      i++;
    }
  }
}

/** Assertions for a syscall-style result in `v` (a return value that is -1 with errno on failure). */
function assertResult(c: Ctx, ind: string, v: string, o: Outcome, s: Step): void {
  if ('errno' in o) {
    c.out.push(`${ind}ASSERT_ERRNO(${o.errno}, ${v}) TH_LOG(${says(c, s)});`);
    return;
  }
  if ('ok' in o) {
    if (o.ret !== undefined) c.out.push(`${ind}ASSERT_EQ(${u64(o.ret)}, ${v}) TH_LOG(${says(c, s)});`);
    else c.out.push(`${ind}ASSERT_OK(${v}) TH_LOG(${says(c, s)});`);
    return;
  }
  if ('not_modelled' in o) {
    // The spec makes no prediction: the call runs, its result is not compared (docs/trace-format.md).
    c.out.push(`${ind}(void)(${v}); /* not modelled, not compared: ${o.not_modelled.replace(/\*\//g, '* /')} */`);
    return;
  }
  throw new Unsupported(`outcome ${JSON.stringify(o)} for ${s.op}`);
}

/** Assertions for a guarded memory access whose result (0 or the signal) is in `ret`. */
function assertAccess(c: Ctx, ind: string, o: Outcome, s: Step): void {
  if (!('access' in o)) throw new Unsupported(`outcome ${JSON.stringify(o)} for ${s.op}`);
  if (o.access !== 'ok') {
    c.out.push(`${ind}ASSERT_EQ(${o.access === 'MCE' ? 'ACCESS_MCE' : o.access}, ret) TH_LOG(${says(c, s)});`);
    return;
  }
  c.out.push(`${ind}ASSERT_EQ(0, ret) TH_LOG(${says(c, s)});`);
  if (o.value !== undefined) c.out.push(`${ind}ASSERT_EQ(${o.value}, val) TH_LOG(${says(c, s)});`);
  if (o.match !== undefined) c.out.push(`${ind}ASSERT_EQ(${o.match ? 1 : 0}, match) TH_LOG(${says(c, s)});`);
}

/** One line of a step's C (spec/ops/cSelftest.ts CLine) at the step's indentation. */
function emitLine(c: Ctx, line: CLine, ind: string, o: Outcome, s: Step): void {
  if (typeof line === 'string') c.out.push(`${ind}${line}`);
  else if ('assertResult' in line) assertResult(c, ind, line.assertResult, o, s);
  else if ('assertAccess' in line) assertAccess(c, ind, o, s);
  else if ('assertOk' in line) c.out.push(`${ind}ASSERT_OK(${line.assertOk}) TH_LOG(${says(c, s)});`);
  else if ('assertEq' in line) c.out.push(`${ind}ASSERT_EQ(${line.assertEq[0]}, ${line.assertEq[1]}) TH_LOG(${says(c, s)});`);
  else for (const inner of line.child) emitStep(c, inner, `${ind}\t`);
}

/** A step's C from its operation's `cSelftest` facet; Unsupported (the trace is left out) when it has none. */
function emitStep(c: Ctx, s: Step, ind: string): void {
  const o = s.expected;
  if (!o) throw new Unsupported('a step without an expected outcome');
  const facet = opOf(s).cSelftest;
  if ('none' in facet) throw new Unsupported(`${s.op} ${facet.none}`);
  const form = facet.step(s, o, c.profile);
  if ('unsupported' in form) throw new Unsupported(form.unsupported);
  for (const local of form.locals ?? []) c.uses.add(local);
  for (const line of form.lines) emitLine(c, line, ind, o, s);
}

/** The guest_memfd flags a test relies on the kernel accepting (the profile's accepted flags it uses). */
function requiredFlags(profile: Profile, steps: readonly Step[]): bigint {
  const accepted = flagMask(acceptedFlagDefs(profile, 'default'));
  let need = 0n;
  const walk = (ss: readonly Step[]) => {
    for (const s of ss) {
      if (s.op === 'fork') walk(s.steps);
      if (s.op === 'create_gmem' && s.expected && 'ok' in s.expected) need |= BigInt.asUintN(64, big(s.flags)) & accepted;
    }
  };
  walk(steps);
  return need;
}

function cName(t: GenTest): string {
  const base = t.file
    .replace(/^traces\//, '')
    .replace(/\.json$/, '')
    .replace(/[^A-Za-z0-9]+/g, '_');
  return base.replace(/^_+|_+$/g, '');
}

function emitTest(profile: Profile, t: GenTest, rules: Map<string, string>): string {
  const c: Ctx = { profile, rules, fds: new Set(), maps: new Set(), out: [], uses: new Set() };
  collectHandles(t.steps, c);
  const body: string[] = [];
  c.out = body;
  emitSteps(c, t.steps, '\t');
  const decl: string[] = ['\tlong ret;'];
  const fdNames = [...c.fds].sort().map(ident);
  if (fdNames.length) decl.push(`\tint ${fdNames.map((n) => `${n} = -1`).join(', ')};`);
  const mapNames = [...c.maps].sort().map(ident);
  if (c.uses.has('scratch_map')) mapNames.push('scratch_map');
  if (mapNames.length) decl.push(`\tstruct gmap ${mapNames.map((n) => `${n} = { 0 }`).join(', ')};`);
  if (c.uses.has('val')) decl.push('\tuint8_t val = 0;');
  if (c.uses.has('match')) decl.push('\tint match = 0;');
  if (c.uses.has('st')) decl.push('\tstruct stat st;');
  if (c.uses.has('pid')) decl.push('\tpid_t pid;');
  if (c.uses.has('attr2')) decl.push('\tstruct kvm_memory_attributes2 attr2;');
  const need = requiredFlags(profile, t.steps);
  const pre: string[] = [];
  if (t.steps.some((s) => s.op === 'create_gmem'))
    pre.push(`\tREQUIRE_GUEST_MEMFD_FLAGS(${need === 0n ? '0' : `0x${need.toString(16)}ULL`});`);
  const unusedMaps = [...mapNames.map((n) => `\t(void)${n};`), '\t(void)ret;'];
  const title = t.title.replace(/\*\//g, '* /');
  return [
    `/*`,
    ` * ${wrap(title, 110).join('\n * ')}`,
    ` * Trace: ${t.file}${t.invariants.length ? `; invariants after every step: ${t.invariants.join(', ')}` : ''}`,
    ` */`,
    `TEST(${cName(t)})`,
    '{',
    ...decl,
    '',
    ...pre,
    ...body,
    ...unusedMaps,
    '}',
  ].join('\n');
}

function wrap(s: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of s.split(' ')) {
    if (line && line.length + w.length + 1 > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

export function emitC(profile: Profile, suites: ReadonlyMap<SuiteName, GenTest[]>, command: string): CEmitResult {
  const files = new Map<string, string>();
  const leftOut: Record<string, string> = {};
  let count = 0;
  for (const [suite, tests] of suites) {
    const parts: string[] = [];
    const rules = new Map<string, string>();
    for (const t of tests) {
      try {
        parts.push(emitTest(profile, t, rules));
        count++;
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
        leftOut[t.file] = e.message;
      }
    }
    if (!parts.length) continue;
    const file = `c/guest_memfd_${suite}_test.c`;
    const strings = [...rules]
      .sort((a, b) => (a[1] < b[1] ? -1 : 1))
      .map(([note, id]) => `static const char ${id}[] __attribute__((unused)) = ${cstr(note)};`);
    files.set('c/gmem_test.h', sharedHeader());
    files.set(
      file,
      `${header(profile, suite, command, parts.length)}\n/* The rules, as the spec states them: each assertion's message. */\n${strings.join('\n')}\n\n${parts.join('\n\n')}\n\nTEST_HARNESS_MAIN\n`,
    );
  }
  // Summarise per operation rather than per trace when whole operations are missing.
  const byReason = new Map<string, number>();
  for (const why of Object.values(leftOut)) byReason.set(why, (byReason.get(why) ?? 0) + 1);
  const summary: Record<string, string> = {};
  for (const [why, n] of byReason) summary[why] = `${n} trace(s)`;
  return { files, tests: count, leftOut: summary };
}

function header(profile: Profile, suite: SuiteName, command: string, n: number): string {
  return `// SPDX-License-Identifier: GPL-2.0-only
/*
 * guest_memfd ${suite} tests, generated from the gmem-spec ${profile.name} profile (${profile.title}).
 *
 * Generated by \`${command}\` (src/generate/emitC.ts). Do not edit: regenerate.
 * ${n} tests; each is one generated trace: the operations, in order, each followed by what the spec expects
 * and the rule that says so.
 *
 * With gmem_test.h beside it (written once per suite folder): the KVM / guest_memfd UAPI, generated from the
 * spec's constants as native/kvm-uapi.h is, and a minimal kselftest_harness.h (TEST, ASSERT_*, TH_LOG, SKIP,
 * TEST_HARNESS_MAIN, each test in its own forked child, TAP output). Build and run:
 *
 *   gcc -Wall -Werror -o guest_memfd_${suite}_test guest_memfd_${suite}_test.c && ./guest_memfd_${suite}_test
 *
 * In tools/testing/selftests/kvm/ the inline harness can give way to kselftest_harness.h.
 */
#include "gmem_test.h"
`;
}

/**
 * gmem_test.h: what every generated C file of a suite folder includes. The UAPI is native/kvm-uapi.h's text
 * (src/generate/kvmUapi.ts, from spec/constants.ts), so the numbers are written once; the kernel's names the
 * tests use are aliases of it.
 */
function sharedHeader(): string {
  const alias = (name: string, to: string) => `#define ${name.padEnd(38)}${to}`;
  const aliases = [
    ...['kvm_create_guest_memfd', 'kvm_userspace_memory_region2', 'kvm_memory_attributes', 'kvm_memory_attributes2'].map((n) =>
      alias(n, `${n}_uapi`),
    ),
    ...GMEM_IOCTLS.map((n) => alias(n, `${n}_NR`)),
    ...Object.keys(KVM_MEM).map((n) => alias(`KVM_MEM_${n}`, `KVM_MEM_${n}_BIT`)),
    ...['MMAP', 'INIT_SHARED'].map((n) => alias(`GUEST_MEMFD_FLAG_${n}`, `GUEST_MEMFD_FLAG_${n}_BIT`)),
    ...[...CAP_NAMES.values()].map((n) => alias(n, `${n}_NR`)),
  ];
  return `/* GENERATED by src/generate/emitC.ts: do not edit (regenerate). Included by every generated C file beside it. */
#ifndef GMEM_TEST_H
#define GMEM_TEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- KVM / guest_memfd UAPI (include/uapi/linux/kvm.h), as native/kvm-uapi.h ----------------------------- */

${kvmUapiHeader()}
/* The kernel's names, as the tests use them. */
${aliases.join('\n')}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/* io_uring, for long-term GUP pins (x86-64 syscall numbers) */
#define NR_io_uring_setup		425
#define NR_io_uring_register		427
#define IORING_REGISTER_BUFFERS		0
#define IORING_UNREGISTER_BUFFERS	1

/* ---- a minimal kselftest_harness.h ----------------------------------------------------------------------- */

#define KSFT_PASS 0
#define KSFT_FAIL 1
#define KSFT_SKIP 4

struct __test_metadata {
	const char *name;
	void (*fn)(struct __test_metadata *);
	int trigger;
	struct __test_metadata *next;
};

static struct __test_metadata *__tests;
static struct __test_metadata **__tests_tail = &__tests;
static int __test_count;
static int kvm_fd = -1;

static void __register_test(struct __test_metadata *t)
{
	*__tests_tail = t;
	__tests_tail = &t->next;
	__test_count++;
}

#define TEST(test_name)									\\
	static void test_name(struct __test_metadata *_metadata);			\\
	static struct __test_metadata _##test_name##_object = {				\\
		.name = #test_name, .fn = test_name,					\\
	};										\\
	static void __attribute__((constructor)) _register_##test_name(void)		\\
	{										\\
		__register_test(&_##test_name##_object);				\\
	}										\\
	static void test_name(struct __test_metadata __attribute__((unused)) *_metadata)

#define TH_LOG(fmt, ...) fprintf(stderr, "# %s:%d: " fmt "\\n", __FILE__, __LINE__, ##__VA_ARGS__)

static __attribute__((unused)) int __bail(void)
{
	fflush(stderr);
	_exit(KSFT_FAIL);
}

/* Each check prints what it expected and what it saw, and returns whether the assertion failed. */
static __attribute__((unused)) int __check(char op, long long expected, long long seen, const char *what, int line)
{
	int ok = op == '=' ? seen == expected : op == '!' ? seen != expected : seen >= expected;

	if (!ok)
		fprintf(stderr, "# %s:%d: %s: expected %s%lld, got %lld\\n", __FILE__, line, what,
			op == '=' ? "" : op == '!' ? "not " : ">= ", expected, seen);
	return !ok;
}

static __attribute__((unused)) int __check_ok(long long seen, const char *what, int line)
{
	int err = errno;

	if (seen == -1)
		fprintf(stderr, "# %s:%d: %s: it failed with errno %d (%s)\\n", __FILE__, line, what, err, strerror(err));
	return seen == -1;
}

static __attribute__((unused)) int __check_errno(int expected, long long seen, const char *what, int line)
{
	int err = errno;

	if (seen != -1)
		fprintf(stderr, "# %s:%d: %s: it returned %lld\\n", __FILE__, line, what, seen);
	else if (err != expected)
		fprintf(stderr, "# %s:%d: %s: errno %d (%s)\\n", __FILE__, line, what, err, strerror(err));
	return seen != -1 || err != expected;
}

/* As in kselftest_harness.h: a statement after ASSERT_*() runs only when the assertion fails (then the test stops). */
#define __ASSERT(check)	for (_metadata->trigger = (check); _metadata->trigger; _metadata->trigger = __bail())

#define ASSERT_EQ(expected, seen) __ASSERT(__check('=', (long long)(expected), (long long)(seen), #seen " == " #expected, __LINE__))
#define ASSERT_NE(expected, seen) __ASSERT(__check('!', (long long)(expected), (long long)(seen), #seen " != " #expected, __LINE__))
#define ASSERT_GE(seen, floor) __ASSERT(__check('>', (long long)(floor), (long long)(seen), #seen " >= " #floor, __LINE__))
#define ASSERT_TRUE(cond) __ASSERT(__check('!', 0, !!(cond), #cond, __LINE__))
/* The call succeeded (did not return -1). */
#define ASSERT_OK(seen) __ASSERT(__check_ok((long long)(seen), #seen " succeeds", __LINE__))
/* The call failed with this errno. */
#define ASSERT_ERRNO(err, seen) __ASSERT(__check_errno(err, (long long)(seen), #seen " fails with " #err, __LINE__))
/* A forked child exited 0 (its own assertions passed); seen: its exit status, 128+signal if killed. */
#define ASSERT_CHILD_OK(pid) ASSERT_EQ(0, wait_child(pid))

#define SKIP(statement, fmt, ...)						\\
	do {									\\
		fprintf(stdout, "#      SKIP " fmt "\\n", ##__VA_ARGS__);		\\
		fflush(stdout);							\\
		_exit(KSFT_SKIP);						\\
	} while (0)

static int wait_child_status;
static __attribute__((unused)) int wait_child(pid_t pid)
{
	int status = 0;
	if (waitpid(pid, &status, 0) != pid)
		return wait_child_status = -1;
	wait_child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return wait_child_status;
}

static int run_test(struct __test_metadata *t, int n)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		printf("not ok %d %s # fork: %s\\n", n, t->name, strerror(errno));
		return KSFT_FAIL;
	}
	if (pid == 0) {
		alarm(60);
		t->fn(t);
		fflush(stderr);
		_exit(KSFT_PASS);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP) {
		printf("ok %d %s # SKIP\\n", n, t->name);
		return KSFT_SKIP;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_PASS) {
		printf("ok %d %s\\n", n, t->name);
		return KSFT_PASS;
	}
	if (WIFSIGNALED(status))
		printf("not ok %d %s # killed by signal %d\\n", n, t->name, WTERMSIG(status));
	else
		printf("not ok %d %s\\n", n, t->name);
	return KSFT_FAIL;
}

#define TEST_HARNESS_MAIN							\\
	int main(void)								\\
	{									\\
		struct __test_metadata *t;					\\
		int n = 0, pass = 0, fail = 0, skip = 0;			\\
										\\
		setvbuf(stdout, NULL, _IOLBF, 0);				\\
		printf("TAP version 13\\n");					\\
		kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);			\\
		if (kvm_fd < 0) {						\\
			printf("1..0 # SKIP no /dev/kvm (%s)\\n", strerror(errno));	\\
			return KSFT_SKIP;					\\
		}								\\
		printf("1..%d\\n", __test_count);				\\
		for (t = __tests; t; t = t->next) {				\\
			int r = run_test(t, ++n);				\\
			pass += r == KSFT_PASS;					\\
			fail += r == KSFT_FAIL;					\\
			skip += r == KSFT_SKIP;					\\
		}								\\
		printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\\n", pass, fail, skip);	\\
		return fail ? KSFT_FAIL : KSFT_PASS;				\\
	}

/* ---- helpers ------------------------------------------------------------------------------------------------ */

/* Capability-driven: skip a test whose guest_memfd flags this kernel does not offer (KVM_CAP_GUEST_MEMFD_FLAGS). */
#define REQUIRE_GUEST_MEMFD_FLAGS(flags)							\\
	do {											\\
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD) <= 0)			\\
			SKIP(return, "KVM_CAP_GUEST_MEMFD is not supported");			\\
		if ((flags) && (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD_FLAGS) & (flags)) != (flags))	\\
			SKIP(return, "guest_memfd flags 0x%llx are not all supported", (unsigned long long)(flags));	\\
	} while (0)

/*
 * Mappings go at increasing addresses with an unmapped 2 MiB gap around each, and addresses are never reused,
 * so an access past a mapping's end, after munmap, or through a failed mmap hits nothing and gets SIGSEGV.
 */
struct gmap {
	uint8_t *addr;
	size_t len;
};

#define MAP_GAP (2ULL << 20)
static uint64_t map_cursor = 0x200000000000ULL + MAP_GAP;

static __attribute__((unused)) struct gmap gmem_mmap(int fd, off_t offset, uint64_t length, int prot, int flags, long *ret)
{
	uint64_t span = (length + 4095) & ~4095ULL;
	void *hint = (void *)(uintptr_t)map_cursor;
	struct gmap m = { .len = length };
	void *p = mmap(hint, length, prot, flags, fd, offset);

	if (p == MAP_FAILED) {
		int err = errno;
		m.addr = (uint8_t *)(uintptr_t)map_cursor;
		map_cursor += 2 * MAP_GAP;
		*ret = -1;
		errno = err;
		return m;
	}
	m.addr = p;
	if (p == hint)
		map_cursor += ((span + MAP_GAP - 1) & ~(MAP_GAP - 1)) + MAP_GAP;
	*ret = 0;
	return m;
}

/* Guarded accesses: 0, or the signal the access raised (SIGBUS, SIGSEGV; ACCESS_MCE for a machine check). */
#define ACCESS_MCE 1000

static sigjmp_buf access_env;
static volatile sig_atomic_t access_sig, access_code;

static void access_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	access_sig = sig;
	access_code = si ? si->si_code : 0;
	siglongjmp(access_env, 1);
}

static void guard(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = access_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

static int access_result(void)
{
	if (access_sig == SIGBUS && (access_code == BUS_MCEERR_AR || access_code == BUS_MCEERR_AO))
		return ACCESS_MCE;
	return access_sig;
}

#define GUARDED(stmt)						\\
	({							\\
		int __r = 0;					\\
		guard();					\\
		if (sigsetjmp(access_env, 1) == 0) {		\\
			stmt;					\\
		} else {					\\
			__r = access_result();			\\
		}						\\
		__r;						\\
	})

static __attribute__((unused)) int read_byte(uint8_t *p, uint8_t *val)
{
	return GUARDED(*val = *(volatile uint8_t *)p);
}

static __attribute__((unused)) int write_byte(uint8_t *p, uint8_t v)
{
	return GUARDED(*(volatile uint8_t *)p = v);
}

static __attribute__((unused)) int fill_bytes(uint8_t *p, uint64_t len, uint8_t v)
{
	return GUARDED(memset(p, v, len));
}

/* Every byte is read, so a fault anywhere in the range wins over a mismatch. */
static __attribute__((unused)) int check_bytes(uint8_t *p, uint64_t len, uint8_t v, int *match)
{
	static volatile uint8_t diff;

	diff = 0;
	return GUARDED({
		for (uint64_t i = 0; i < len; i++)
			diff |= (uint8_t)(((volatile uint8_t *)p)[i] ^ v);
		*match = !diff;
	});
}

/* Long-term GUP pins (FOLL_LONGTERM): an io_uring with the range registered as a fixed buffer. */
struct pin {
	uint8_t *addr;
	uint64_t len;
	int ring;
};

static struct pin pins[64];
static int npins;

static __attribute__((unused)) long gmem_pin(uint8_t *addr, uint64_t len)
{
	uint64_t params[15] = { 0 };	/* struct io_uring_params */
	struct iovec iov = { .iov_base = addr, .iov_len = len };
	long ring;

	if (npins == 64) {
		errno = ENOMEM;
		return -1;
	}
	ring = syscall(NR_io_uring_setup, 1, params);
	if (ring < 0)
		return -1;
	if (syscall(NR_io_uring_register, (int)ring, IORING_REGISTER_BUFFERS, &iov, 1) < 0) {
		int err = errno;
		close((int)ring);
		errno = err;
		return -1;
	}
	pins[npins++] = (struct pin){ .addr = addr, .len = len, .ring = (int)ring };
	return 0;
}

/* Drops the latest pin of exactly this range; EINVAL when there is none. */
static __attribute__((unused)) long gmem_unpin(uint8_t *addr, uint64_t len)
{
	for (int i = npins - 1; i >= 0; i--) {
		long ret;
		int err;

		if (pins[i].addr != addr || pins[i].len != len)
			continue;
		/* unregister first: it drops the pins synchronously, while ring teardown after close is deferred */
		ret = syscall(NR_io_uring_register, pins[i].ring, IORING_UNREGISTER_BUFFERS, NULL, 0);
		err = errno;
		close(pins[i].ring);
		pins[i] = pins[--npins];
		errno = err;
		return ret < 0 ? -1 : 0;
	}
	errno = EINVAL;
	return -1;
}

/* userfaultfd (include/uapi/linux/userfaultfd.h): one per process, opened and given UFFDIO_API (no features) by
 * its first use; a forked child opens its own. */
static int uffd = -1;
static pid_t uffd_pid;

static __attribute__((unused)) int gmem_uffd(void)
{
	uint64_t api[3] = { 0xAA, 0, 0 };	/* struct uffdio_api: api, features, ioctls */
	int u;

	if (uffd >= 0 && uffd_pid == getpid())
		return uffd;
	u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u < 0)
		return -1;
	if (ioctl(u, 0xC018AA3F, api) < 0) {	/* UFFDIO_API */
		int err = errno;

		close(u);
		errno = err;
		return -1;
	}
	uffd = u;
	uffd_pid = getpid();
	return u;
}

/* UFFDIO_REGISTER of [addr, addr+len) in one mode (MISSING 1, MINOR 4). */
static __attribute__((unused)) long gmem_uffd_register(uint8_t *addr, uint64_t len, uint64_t mode)
{
	uint64_t reg[4] = { (uintptr_t)addr, len, mode, 0 };	/* struct uffdio_register */
	int u = gmem_uffd();

	return u < 0 ? -1 : ioctl(u, 0xC020AA00, reg);	/* UFFDIO_REGISTER */
}

/* UFFDIO_CONTINUE of [addr, addr+len). */
static __attribute__((unused)) long gmem_uffd_continue(uint8_t *addr, uint64_t len)
{
	uint64_t cont[4] = { (uintptr_t)addr, len, 0, 0 };	/* struct uffdio_continue: range, mode, mapped */
	int u = gmem_uffd();

	return u < 0 ? -1 : ioctl(u, 0xC020AA07, cont);	/* UFFDIO_CONTINUE */
}

/* mmap() for a table of refusals: -1 with errno, or 0 (and the mapping is dropped again). */
static __attribute__((unused)) long mmap_ret(int fd, off_t offset, uint64_t length, int prot, int flags)
{
	void *p = mmap(NULL, length, prot, flags, fd, offset);

	if (p == MAP_FAILED)
		return -1;
	munmap(p, length);
	return 0;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static __attribute__((unused)) uint8_t io_buf[65536];

/* ---- tests -------------------------------------------------------------------------------------------------- */
#endif /* GMEM_TEST_H */
`;
}
