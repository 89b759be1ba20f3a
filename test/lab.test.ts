/**
 * The kernel lab's parts that need no kernel: cache keys and entries, the config fragment, apt source
 * parsing, the initramfs archive and job, ldd parsing, QEMU's command line, TAP, progress lines and the
 * `lab` command line. Real boots are in test/lab-boot.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  debFileVersion,
  debianMirrors,
  parseAptCacheShow,
  parseDeb822Sources,
  parseOneLineSources,
  privateSourcesList,
} from '../src/lab/aptSources.ts';
import { machineMirrors } from '../src/lab/aptFetch.ts';
import { COMPLETE_MARKER, ENTRY_FILE, type KernelEntry, checkEntry, findKernel, sha256File } from '../src/lab/cacheEntry.ts';
import { cpioArchive, cpioPath, readCpio } from '../src/lab/cpio.ts';
import { configMismatches, fragmentHash, labAssetPath, parseConfig, readFragment } from '../src/lab/fragment.ts';
import { LabInputError, buildInitramfs, initramfsMembers, jobScript, parseLdd, shellQuote } from '../src/lab/initramfs.ts';
import { classifyKvm, parseKvmReport } from '../src/lab/kvmCaps.ts';
import { kernelKey, labCacheRoot, labLayout, versionDirName } from '../src/lab/paths.ts';
import { compileBar, progressRenderer } from '../src/lab/progress.ts';
import { chooseAccel, parseStatus, qemuArgs, qemuAvailable } from '../src/lab/qemu.ts';
import { selftestRunner } from '../src/lab/selftests.ts';
import { parseTap, tapProblems } from '../src/lab/tap.ts';
import { labRequest } from '../src/cli/commands/lab.ts';
import { UsageError } from '../src/cli/args.ts';

const scratch = mkdtempSync(join(tmpdir(), 'lab-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('cache layout and keys', () => {
  it('a Debian version becomes a path segment make accepts (no ~ or +), distinct versions stay distinct', () => {
    expect(versionDirName('7.3.4-1~bpo13+1')).toBe('7.3.4-1_bpo13_1');
    expect(versionDirName('7.3.4-1')).not.toBe(versionDirName('7.3.4-1~bpo13+1'));
  });

  it('the kernel key is the exact version plus the fragment hash, so a new version or config is a new entry', () => {
    const h = fragmentHash('CONFIG_KVM=y\n');
    expect(kernelKey('7.3.4-1~bpo13+1', h)).toBe(`7.3.4-1_bpo13_1-${h.slice(0, 12)}`);
    expect(kernelKey('7.3.5-1~bpo13+1', h)).not.toBe(kernelKey('7.3.4-1~bpo13+1', h));
    expect(kernelKey('7.3.4-1~bpo13+1', fragmentHash('CONFIG_KVM=y\n# x\n'))).not.toBe(kernelKey('7.3.4-1~bpo13+1', h));
  });

  it('the cache root follows $GMEM_LAB_CACHE, then $XDG_CACHE_HOME (absolute only), then ~/.cache', () => {
    expect(labCacheRoot({ GMEM_LAB_CACHE: '/x/lab' })).toBe('/x/lab');
    expect(labCacheRoot({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/gmem-spec/lab');
    expect(labCacheRoot({ XDG_CACHE_HOME: 'relative' })).toMatch(/\.cache\/gmem-spec\/lab$/);
    expect(labCacheRoot({})).toMatch(/\.cache\/gmem-spec\/lab$/);
  });
});

describe('the config fragment', () => {
  it('parses set, unset ("is not set") and quoted values, and names the line of anything else', () => {
    const v = parseConfig('# c\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\n\n', 'f');
    expect([...v]).toEqual([
      ['CONFIG_A', 'y'],
      ['CONFIG_B', 'n'],
      ['CONFIG_C', '"x y"'],
    ]);
    expect(() => parseConfig('CONFIG_A=y\nKVM=y\n', 'frag')).toThrow(/^frag:2: not a config line/);
  });

  it('an option that olddefconfig dropped or changed is reported; absent in .config counts as n', () => {
    const frag = parseConfig('CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=y\n', 'f');
    const final = parseConfig('CONFIG_A=y\nCONFIG_B=m\n# CONFIG_D is not set\n', '.config');
    expect(configMismatches(frag, final)).toEqual([
      { option: 'CONFIG_B', wanted: 'y', got: 'm' },
      { option: 'CONFIG_D', wanted: 'y', got: 'n' },
    ]);
  });

  it('the committed fragment asks for the software-protected VM type, KVM_AMD, the virtio console and process_vm_readv, and keeps HW_RANDOM out', () => {
    const f = readFragment();
    for (const o of [
      'CONFIG_KVM',
      'CONFIG_KVM_AMD',
      'CONFIG_KVM_SW_PROTECTED_VM',
      'CONFIG_VIRTIO_CONSOLE',
      'CONFIG_VIRTIO_PCI',
      'CONFIG_CROSS_MEMORY_ATTACH',
      'CONFIG_ACPI',
      'CONFIG_64BIT',
    ])
      expect(f.values.get(o), o).toBe('y');
    expect(f.values.get('CONFIG_HW_RANDOM')).toBe('n');
    expect(f.hash).toBe(fragmentHash(readFileSync(labAssetPath('kernel.config'), 'utf8')));
  });
});

describe('apt sources', () => {
  const deb822 = [
    'Types: deb',
    '# http://snapshot.example/archive/debian/20250520T000000Z',
    'URIs: http://mirror.example/debian',
    'Suites: bookworm bookworm-updates',
    'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
    'Types: deb',
    'URIs: http://mirror.example/debian-security',
    'Suites: bookworm-security',
    'Components: main',
    '',
    'Types: deb',
    'URIs: http://off.example/debian',
    'Suites: bookworm',
    'Components: main',
    'Enabled: no',
  ].join('\n');

  it('deb822: the release mirror with its keyring; security-only and disabled entries are not mirrors', () => {
    expect(debianMirrors(parseDeb822Sources(deb822))).toEqual([
      { uri: 'http://mirror.example/debian', signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' },
    ]);
  });

  it('one-line format with options, comments, deb-src and non-main components', () => {
    const text = [
      '# a comment',
      'deb-src http://src.example/debian bookworm main',
      'deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main contrib # trailing',
      'deb http://contrib.example/debian bookworm contrib',
      'deb http://one.example/debian bookworm-updates main',
    ].join('\n');
    expect(debianMirrors(parseOneLineSources(text))).toEqual([{ uri: 'http://one.example/debian', signedBy: '/k.gpg' }]);
  });

  it("the private sources list asks one suite of the machine's mirror, with its keyring or the Debian one", () => {
    expect(privateSourcesList({ uri: 'http://m.example/debian' }, 'trixie-backports', '/d.gpg')).toBe(
      'deb [signed-by=/d.gpg] http://m.example/debian trixie-backports main\n',
    );
    expect(privateSourcesList({ uri: 'http://m.example/debian', signedBy: '/k.gpg' }, 'sid', '/d.gpg')).toContain('[signed-by=/k.gpg]');
  });

  it('reads the mirrors of an apt configuration directory (sources.list.d files other than .list/.sources are ignored)', () => {
    const etc = join(scratch, 'etc-apt');
    mkdirSync(join(etc, 'sources.list.d'), { recursive: true });
    writeFileSync(join(etc, 'sources.list.d', 'debian.sources'), deb822);
    writeFileSync(join(etc, 'sources.list.d', 'other.list.disabled'), 'deb http://disabled.example/debian bookworm main\n');
    writeFileSync(join(etc, 'sources.list'), 'deb http://second.example/debian bookworm main\n');
    expect(machineMirrors(etc).map((m) => m.uri)).toEqual(['http://second.example/debian', 'http://mirror.example/debian']);
    expect(machineMirrors(join(scratch, 'nowhere'))).toEqual([]);
  });

  it('apt-cache show: the versions in the order apt lists them; the version in a downloaded file name', () => {
    const show =
      'Package: linux-source-7.3\nVersion: 7.3.4-1~bpo13+1\nFilename: pool/main/l/linux/linux-source-7.3_7.3.4-1~bpo13+1_all.deb\nSize: 166780612\n\nPackage: linux-source-7.3\nVersion: 7.3.2-1~bpo13+1\nFilename: pool/x.deb\nSize: 1\n';
    expect(parseAptCacheShow(show).map((v) => [v.version, v.size])).toEqual([
      ['7.3.4-1~bpo13+1', 166780612],
      ['7.3.2-1~bpo13+1', 1],
    ]);
    expect(debFileVersion('linux-source-7.3_7.3.4-1~bpo13+1_all.deb', 'linux-source-7.3')).toBe('7.3.4-1~bpo13+1');
    expect(debFileVersion('linux-source-7.3_1%3a7.3-1_all.deb', 'linux-source-7.3')).toBe('1:7.3-1');
    expect(debFileVersion('linux-source-7.30_7.30.1-1_all.deb', 'linux-source-7.3')).toBeUndefined();
  });
});

describe('cache entries', () => {
  const entryDir = (name: string, bz = Buffer.from('bzImage bytes'), opts: { marker?: boolean } = {}): string => {
    const dir = join(scratch, 'kernels', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bzImage'), bz);
    const e: KernelEntry = {
      series: '7.3',
      version: '7.3.4-1',
      package: 'linux-source-7.3',
      fragmentHash: 'f'.repeat(64),
      bzImageSize: bz.length,
      bzImageSha256: sha256File(join(dir, 'bzImage')),
      builtAt: `2026-01-0${name.length % 9}T00:00:00Z`,
      buildSeconds: 1,
    };
    writeFileSync(join(dir, ENTRY_FILE), JSON.stringify(e));
    if (opts.marker !== false) writeFileSync(join(dir, COMPLETE_MARKER), 'x');
    return dir;
  };

  it('a whole entry passes; without its COMPLETE marker it is an interrupted entry, never used', () => {
    expect(checkEntry(entryDir('good')).ok).toBe(true);
    const r = checkEntry(entryDir('nomarker', undefined, { marker: false }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/no COMPLETE marker/);
  });

  it('a truncated bzImage and a changed one are both caught (size, then sha256)', () => {
    const t = entryDir('trunc');
    truncateSync(join(t, 'bzImage'), 3);
    const r = checkEntry(t);
    expect(!r.ok && r.reason).toMatch(/bzImage is 3 bytes, 13 expected/);
    const c = entryDir('changed');
    writeFileSync(join(c, 'bzImage'), 'BZIMAGE BYTES');
    const r2 = checkEntry(c);
    expect(!r2.ok && r2.reason).toMatch(/sha256 differs/);
  });

  it('findKernel picks a whole entry of the series and fragment, skipping broken ones and other configs', () => {
    const root = join(scratch, 'kernels');
    const found = findKernel(root, '7.3', 'f'.repeat(64));
    expect(found?.dir).toBe(join(root, 'good'));
    expect(findKernel(root, '7.3', 'e'.repeat(64))).toBeUndefined();
    expect(findKernel(root, '7.4', 'f'.repeat(64))).toBeUndefined();
    expect(findKernel(join(scratch, 'no-such-dir'), '7.3', 'f'.repeat(64))).toBeUndefined();
  });
});

describe('the initramfs', () => {
  it('cpio newc round-trips names, modes, data and device numbers, padded to four bytes', () => {
    const buf = cpioArchive([
      { kind: 'dir', path: 'dev' },
      { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
      { kind: 'file', path: '/init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    ]);
    expect(buf.length % 4).toBe(0);
    const back = readCpio(buf);
    expect(back.map((m) => [m.path, m.mode.toString(8)])).toEqual([
      ['dev', '40755'],
      ['dev/console', '20600'],
      ['init', '100755'],
      ['bin/sh', '120777'],
    ]);
    expect(back[1]!.rdev).toEqual([5, 1]);
    expect(back[2]!.data.toString()).toBe('#!/bin/sh\n');
    expect(back[3]!.data.toString()).toBe('busybox');
  });

  it('cpio(1) reads the archive the lab writes', () => {
    const cpio = spawnSync('cpio', ['--version']);
    if (cpio.error) {
      console.log('SKIP: no cpio(1) to cross-check the archive');
      return;
    }
    const buf = cpioArchive([
      { kind: 'dir', path: 'lab' },
      { kind: 'file', path: 'lab/x', data: Buffer.from('hi'), mode: 0o644 },
    ]);
    expect(execFileSync('cpio', ['-it', '--quiet'], { input: buf }).toString().split('\n').filter(Boolean)).toEqual(['lab', 'lab/x']);
  });

  it('refuses paths that escape or are empty', () => {
    expect(() => cpioPath('../etc/passwd')).toThrow(/not a valid initramfs path/);
    expect(() => cpioPath('/')).toThrow(/not a valid/);
    expect(cpioPath('/lab/x')).toBe('lab/x');
  });

  it('the layout has each parent directory before its files, /dev/console, init, busybox and the job, and no path twice', () => {
    const m = initramfsMembers({
      busybox: Buffer.from('bb'),
      init: Buffer.from('init'),
      job: 'set -- x\n',
      files: [{ guestPath: '/lib/x86_64-linux-gnu/libc.so.6', data: Buffer.from('c'), mode: 0o755 }],
    });
    const paths = m.map((x) => x.path);
    for (const p of [
      'dev',
      'dev/console',
      'bin/busybox',
      'init',
      'lab/job',
      'lib',
      'lib/x86_64-linux-gnu',
      'lib/x86_64-linux-gnu/libc.so.6',
    ])
      expect(paths).toContain(p);
    expect(paths.indexOf('lib')).toBeLessThan(paths.indexOf('lib/x86_64-linux-gnu'));
    expect(paths.indexOf('lib/x86_64-linux-gnu')).toBeLessThan(paths.indexOf('lib/x86_64-linux-gnu/libc.so.6'));
    expect(() =>
      initramfsMembers({
        busybox: Buffer.from(''),
        init: Buffer.from(''),
        job: '',
        files: [{ guestPath: '/init', data: Buffer.from(''), mode: 0o644 }],
      }),
    ).toThrow(/two files for the same guest path \/init/);
  });

  it('the job script gives the program exactly its argv, whatever the quoting (checked by a real shell)', () => {
    const argv = ['/lab/prog', 'plain', 'with space', "it's", '$HOME', '*', '', 'a\nb'];
    const job = join(scratch, 'job');
    writeFileSync(job, jobScript(argv, 'null'));
    const out = execFileSync('sh', ['-c', '. "$1"; echo "$LAB_STDIN"; for a in "$@"; do printf "[%s]" "$a"; done', 'sh', job]).toString();
    expect(out).toBe(`null\n${argv.map((a) => `[${a}]`).join('')}`);
    expect(shellQuote('a-b_c/d.e')).toBe('a-b_c/d.e');
    expect(() => jobScript([], 'port')).toThrow(LabInputError);
  });

  it('ldd output: libraries with and without =>, vdso skipped, missing ones named, static detected', () => {
    const dyn =
      '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f12)\n\tlibgone.so.1 => not found\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f34)\n';
    expect(parseLdd(dyn)).toEqual({
      libraries: ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'],
      missing: ['libgone.so.1'],
      isStatic: false,
    });
    expect(parseLdd('\tnot a dynamic executable\n').isStatic).toBe(true);
  });

  it("a dynamic program brings its libraries: this machine's /bin/true with libc and the loader at the paths ldd names", async () => {
    const gz = await buildInitramfs({ files: [], program: '/bin/true', args: [], stdin: 'null', compress: false });
    const paths = readCpio(gz).map((m) => `/${m.path}`);
    expect(paths).toContain('/lab/true');
    const ldd = parseLdd(execFileSync('ldd', ['/bin/true']).toString());
    for (const lib of ldd.libraries) expect(paths).toContain(lib);
    expect(
      readCpio(gz)
        .find((m) => m.path === 'lab/job')!
        .data.toString(),
    ).toContain('set -- /lab/true');
  });

  it('bad programs are refused before anything boots: missing, not executable, a directory', async () => {
    const notExec = join(scratch, 'script.sh');
    writeFileSync(notExec, 'echo hi\n', { mode: 0o644 });
    await expect(buildInitramfs({ files: [], program: notExec, args: [], stdin: 'null' })).rejects.toThrow(
      /program .*script\.sh is not executable/,
    );
    await expect(buildInitramfs({ files: [], program: join(scratch, 'nope'), args: [], stdin: 'null' })).rejects.toThrow(
      /program .*nope: no such file/,
    );
    await expect(buildInitramfs({ files: [scratch], program: 'true', args: [], stdin: 'null' })).rejects.toThrow(
      /--file .* is not a regular file/,
    );
    await expect(buildInitramfs({ files: [notExec], program: 'script.sh', args: [], stdin: 'null' })).rejects.toThrow(
      /program script\.sh \(given with --file\) is not executable/,
    );
  });
});

describe('QEMU', () => {
  it('KVM only with /dev/kvm and nesting; otherwise TCG, each with its reason; the env var forces either', () => {
    expect(chooseAccel({ devKvm: false, nested: false })).toEqual({ accel: 'tcg', why: 'the host has no /dev/kvm' });
    expect(chooseAccel({ devKvm: true, nested: false }).accel).toBe('tcg');
    expect(chooseAccel({ devKvm: true, nested: true }).accel).toBe('kvm');
    expect(chooseAccel({ devKvm: true, nested: true }, 'tcg').accel).toBe('tcg');
    expect(chooseAccel({ devKvm: false, nested: false }, 'kvm').why).toMatch(/forced/);
  });

  it('the command line: TCG with -cpu max, no reboot, the kernel log on the serial port and three named virtio ports', () => {
    const a = qemuArgs({ kernel: '/k', initrd: '/i', kernelLog: '/log', stderrFile: '/err', statusFile: '/st', accel: 'tcg' }).join(' ');
    expect(a).toContain('-accel tcg,thread=multi -cpu max');
    expect(a).toContain('-no-reboot');
    expect(a).toContain('-chardev file,id=klog,path=/log -serial chardev:klog');
    for (const name of ['stdio', 'stderr', 'status']) expect(a).toContain(`chardev=${name},name=${name}`);
    expect(a).toContain('-chardev stdio,id=stdio');
    expect(a).toMatch(/-append console=ttyS0 panic=-1/);
  });

  it('a missing QEMU binary is a clear reason naming it', () => {
    const r = qemuAvailable({ GMEM_LAB_QEMU: '/nonexistent/qemu-system-x86_64' });
    expect(r).toEqual({
      ok: false,
      reason: expect.stringMatching(/^no QEMU: \/nonexistent\/qemu-system-x86_64 not found \(\$GMEM_LAB_QEMU\)/),
    });
  });

  it('the status port: start and exit lines with guest uptimes', () => {
    expect(parseStatus('start 1.31\nexit 3 2.50\n')).toEqual({ startUptime: 1.31, exitCode: 3, exitUptime: 2.5 });
    expect(parseStatus('start 1.31\n')).toEqual({ startUptime: 1.31 });
    expect(parseStatus('')).toEqual({});
  });
});

describe('kvm-caps reports', () => {
  it('classifies the three hosts by capability and by trying the calls', () => {
    expect(classifyKvm(parseKvmReport('kvm absent\n'))).toEqual({ kind: 'no-kvm', reason: 'no /dev/kvm' });
    const noGmem = parseKvmReport(
      'kvm open\napi_version 12\ncap GUEST_MEMFD 0\ncap VM_TYPES 1\ncreate_vm ok\ncreate_guest_memfd Inappropriate ioctl for device\n',
    );
    expect(classifyKvm(noGmem)).toEqual({
      kind: 'kvm-without-guest-memfd',
      reason: '/dev/kvm without guest_memfd (KVM_CAP_GUEST_MEMFD=0, KVM_CREATE_GUEST_MEMFD: Inappropriate ioctl for device)',
    });
    const lab = parseKvmReport(
      'kvm open\ncap GUEST_MEMFD 1\ncap VM_TYPES 3\ncap GUEST_MEMFD_FLAGS 3\ncreate_vm ok\ncreate_guest_memfd ok\ncreate_vm_sw_protected ok\n',
    );
    expect(classifyKvm(lab).kind).toBe('kvm-with-guest-memfd');
    expect(lab.createSwProtectedVm).toBe('ok');
    expect(classifyKvm(parseKvmReport('kvm open\ncreate_vm Cannot allocate memory\n')).kind).toBe('no-kvm');
  });
});

describe('selftest TAP', () => {
  it('the guest runner (run here with stand-in tests) prints one result per test and keeps their output as comments', () => {
    const dir = join(scratch, 'st');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'pass_test'), '#!/bin/sh\necho "ok 1 inner"\n', { mode: 0o755 });
    writeFileSync(join(dir, 'skip_test'), '#!/bin/sh\nexit 4\n', { mode: 0o755 });
    writeFileSync(join(dir, 'fail_test'), '#!/bin/sh\necho boom >&2\nexit 1\n', { mode: 0o755 });
    writeFileSync(join(dir, 'run'), selftestRunner(['pass_test', 'skip_test', 'fail_test']), { mode: 0o755 });
    const r = spawnSync('sh', ['./run'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(1);
    const s = parseTap(r.stdout);
    expect(s.planned).toBe(3);
    expect(s.results.map((x) => [x.name, x.outcome])).toEqual([
      ['pass_test', 'pass'],
      ['skip_test', 'skip'],
      ['fail_test', 'fail'],
    ]);
    expect(r.stdout).toContain('# ok 1 inner');
    expect(r.stdout).toContain('# boom');
    expect(tapProblems(s, ['pass_test', 'skip_test', 'fail_test', 'never_ran'])).toEqual([
      expect.stringMatching(/^skip_test: skip \(SKIP exit=4 time=/),
      expect.stringMatching(/^fail_test: fail \(exit=1/),
      'never_ran: no result',
    ]);
  });
});

describe('progress', () => {
  it('without a terminal: plain lines, one per phase and per tenth of the compile, with elapsed time', () => {
    let out = '';
    let t = 0;
    const p = progressRenderer({ write: (s) => (out += s), tty: false, now: () => t });
    p({ kind: 'phase', phase: 'compile', detail: 'make' });
    for (let i = 1; i <= 100; i++) {
      t = i * 1000;
      p({ kind: 'compile', done: i, expected: 100 });
    }
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('lab [0:00] compile: make');
    expect(lines.filter((l) => l.includes('compiling')).length).toBe(10);
    expect(out).not.toContain('\r');
    expect(lines.at(-1)).toMatch(/^lab \[1:30\] compiling \[#+\.*\] 90\/~100 CC$/);
  });

  it('on a terminal the count rewrites one line; the bar never claims 100% before the end', () => {
    let out = '';
    const p = progressRenderer({ write: (s) => (out += s), tty: true, now: () => 0 });
    p({ kind: 'compile', done: 1, expected: 10 });
    p({ kind: 'compile', done: 2, expected: 10 });
    expect(out.split('\r').length).toBe(3);
    expect(compileBar(20, 10)).toContain('[###################.]');
  });
});

describe('the lab command line', () => {
  const v = (o: Partial<{ series: string; jobs: string; file: string[]; timeout: string; 'build-only': boolean }> = {}) => ({
    series: undefined,
    jobs: undefined,
    file: [],
    timeout: undefined,
    'build-only': false,
    ...o,
  });
  it('exec takes files, a timeout and everything after -- verbatim', () => {
    expect(labRequest(v({ file: ['a', 'b'], timeout: '5' }), ['exec', 'prog', '--x'], ['prog', '--x'])).toEqual({
      sub: 'exec',
      files: ['a', 'b'],
      timeoutMs: 5000,
      buildOnly: false,
      command: ['prog', '--x'],
    });
  });
  it('each mistake is one UsageError naming it', () => {
    expect(() => labRequest(v(), [], [])).toThrow(/lab needs a subcommand: build, status/);
    expect(() => labRequest(v(), ['boot'], [])).toThrow(/got "boot"/);
    expect(() => labRequest(v(), ['exec'], [])).toThrow(/needs a program after `--`/);
    expect(() => labRequest(v(), ['exec', 'prog'], [])).toThrow(/put the program after `--`/);
    expect(() => labRequest(v({ file: ['x'] }), ['build'], [])).toThrow(/lab build takes no --file/);
    expect(() => labRequest(v(), ['status', 'x'], ['x'])).toThrow(/takes no program/);
    expect(() => labRequest(v({ series: 'seven' }), ['build'], [])).toThrow(/--series must look like 7\.3/);
    expect(() => labRequest(v({ timeout: '0' }), ['exec', 'p'], ['p'])).toThrow(UsageError);
    expect(() => labRequest(v({ 'build-only': true }), ['exec', 'p'], ['p'])).toThrow(/lab exec takes no --build-only/);
  });
});

describe('layout', () => {
  it('every path of an entry lives under the cache root', () => {
    const l = labLayout('/c');
    expect(
      [l.aptDir('sid'), l.downloads, l.srcDir('7.3.4-1~bpo13+1'), l.buildDir('7.3.4-1'), l.kernelDir('k'), l.selftestsDir('k')].every((p) =>
        p.startsWith('/c/'),
      ),
    ).toBe(true);
    expect(l.srcDir('7.3.4-1~bpo13+1')).toBe('/c/src/7.3.4-1_bpo13_1');
  });
});
