/**
 * The initramfs archive format (pure): cpio "newc" (SVR4 without CRC), which is what the kernel unpacks.
 * Each member is a 110-byte ASCII header of hex fields, the NUL-terminated name and the data, each padded to
 * four bytes; a member named TRAILER!!! ends the archive. Writing it here rather than with cpio(1) lets the
 * lab make device nodes (/dev/console) without root and keeps ownership at 0:0 whoever builds it.
 */

export type CpioMember =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): number => (4 - (n % 4)) % 4;

function header(fields: {
  ino: number;
  mode: number;
  nlink: number;
  size: number;
  rmajor: number;
  rminor: number;
  nameSize: number;
}): string {
  return (
    '070701' +
    [fields.ino, fields.mode, 0, 0, fields.nlink, 0, fields.size, 0, 0, fields.rmajor, fields.rminor, fields.nameSize, 0].map(hex8).join('')
  );
}

/** Archive paths are relative (`init`, `bin/busybox`): no leading slash, no `.` or `..` segments. */
export function cpioPath(path: string): string {
  const rel = path.replace(/^\/+/, '');
  if (rel === '' || rel.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw new Error(`not a valid initramfs path: ${JSON.stringify(path)}`);
  return rel;
}

export function cpioArchive(members: readonly CpioMember[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const add = (name: string, mode: number, data: Uint8Array, nlink: number, rmajor = 0, rminor = 0): void => {
    const nameBytes = Buffer.from(`${name}\0`);
    const head = Buffer.from(header({ ino: ino++, mode, nlink, size: data.length, rmajor, rminor, nameSize: nameBytes.length }));
    parts.push(head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length)), Buffer.from(data), Buffer.alloc(pad4(data.length)));
  };
  for (const m of members) {
    const name = cpioPath(m.path);
    switch (m.kind) {
      case 'dir':
        add(name, S_IFDIR | (m.mode ?? 0o755), new Uint8Array(), 2);
        break;
      case 'file':
        add(name, S_IFREG | (m.mode & 0o7777), m.data, 1);
        break;
      case 'symlink':
        add(name, S_IFLNK | 0o777, Buffer.from(m.target), 1);
        break;
      case 'chardev':
        add(name, S_IFCHR | (m.mode ?? 0o600), new Uint8Array(), 1, m.major, m.minor);
        break;
    }
  }
  add('TRAILER!!!', 0, new Uint8Array(), 1);
  return Buffer.concat(parts);
}

/** Reads a newc archive back (for tests and `lab status`): name, mode and data of each member. */
export function readCpio(buf: Buffer): { path: string; mode: number; data: Buffer; rdev: [number, number] }[] {
  const out: { path: string; mode: number; data: Buffer; rdev: [number, number] }[] = [];
  let off = 0;
  for (;;) {
    const magic = buf.toString('ascii', off, off + 6);
    if (magic !== '070701') throw new Error(`bad cpio magic ${JSON.stringify(magic)} at offset ${off}`);
    const field = (i: number): number => parseInt(buf.toString('ascii', off + 6 + 8 * i, off + 14 + 8 * i), 16);
    const mode = field(1);
    const size = field(6);
    const rdev: [number, number] = [field(9), field(10)];
    const nameSize = field(11);
    const nameStart = off + 110;
    const path = buf.toString('utf8', nameStart, nameStart + nameSize - 1);
    const dataStart = nameStart + nameSize + pad4(110 + nameSize);
    if (path === 'TRAILER!!!') return out;
    out.push({ path, mode, data: buf.subarray(dataStart, dataStart + size), rdev });
    off = dataStart + size + pad4(size);
  }
}
