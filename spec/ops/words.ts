/**
 * Words for operation fields, shared by every op's phrase (spec/ops/*.ts) and src/generate/words.ts: byte
 * counts as pages, offsets as page numbers, flag bits by name. A kernel developer reads these.
 */
import { FALLOC_FL, KVM_CAP, KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../constants.ts';
import type { FallocateMode, Int, SetMemoryRegion2Op } from '../ops.ts';
import type { Profile, VmTypeRules } from '../profile.ts';
import { memslotFlagBits } from '../rules/memslots.ts';

const PAGE = 4096n;

export function big(v: Int): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

export function hex(v: Int): string {
  const b = BigInt.asUintN(64, big(v));
  return `0x${b.toString(16)}`;
}

/** A byte count: "3 pages", "1 page", "4095 bytes", "2^63". */
export function bytesWords(v: Int): string {
  const b = big(v);
  if (b === 1n << 63n) return '2^63 bytes';
  if (b > 0n && b % PAGE === 0n && b / PAGE < 1n << 20n) return `${b / PAGE} page${b / PAGE === 1n ? '' : 's'}`;
  if (b < 0n) return `${b} bytes`;
  if (b >= 1n << 32n) return `${hex(b)} bytes`;
  return `${b} byte${b === 1n ? '' : 's'}`;
}

/** An offset: "page 2", "offset 1", "offset 0x7ffffffffffff000". */
export function offsetWords(v: Int): string {
  const b = big(v);
  if (b >= 0n && b % PAGE === 0n && b / PAGE < 1n << 20n) return `page ${b / PAGE}`;
  if (b < 0n) return `offset ${b}`;
  if (b >= 1n << 32n) return `offset ${hex(b)}`;
  return `offset ${b}`;
}

export function range(off: Int, len: Int): string {
  const o = big(off);
  const l = big(len);
  if (o >= 0n && o % PAGE === 0n && l === PAGE && o / PAGE < 1n << 20n) return `page ${o / PAGE}`;
  if (o >= 0n && o % PAGE === 0n && l > 0n && l % PAGE === 0n && (o + l) / PAGE < 1n << 20n)
    return `pages ${o / PAGE}..${(o + l) / PAGE - 1n}`;
  return `${offsetWords(off)}, length ${bytesWords(len)}`;
}

const FALLOC_NAMES: Array<[number, string]> = [
  [FALLOC_FL.PUNCH_HOLE, 'PUNCH_HOLE'],
  [FALLOC_FL.COLLAPSE_RANGE, 'COLLAPSE_RANGE'],
  [FALLOC_FL.ZERO_RANGE, 'ZERO_RANGE'],
  [FALLOC_FL.INSERT_RANGE, 'INSERT_RANGE'],
  [FALLOC_FL.UNSHARE_RANGE, 'UNSHARE_RANGE'],
  [FALLOC_FL.WRITE_ZEROES, 'WRITE_ZEROES'],
  [FALLOC_FL.NO_HIDE_STALE, 'NO_HIDE_STALE'],
  [FALLOC_FL.KEEP_SIZE, 'KEEP_SIZE'],
];

export function fallocModeWords(mode: FallocateMode): string {
  if (mode === 'allocate') return 'KEEP_SIZE';
  if (mode === 'punch_hole') return 'PUNCH_HOLE|KEEP_SIZE';
  let m = Number(BigInt.asUintN(32, big(mode)));
  if (m === 0) return 'mode 0';
  const names: string[] = [];
  for (const [bit, name] of FALLOC_NAMES)
    if (m & bit) {
      names.push(name);
      m &= ~bit;
    }
  if (m) names.push(`0x${m.toString(16)}`);
  return names.join('|');
}

export function flagWords(profile: Profile, flags: Int): string {
  let f = BigInt.asUintN(64, big(flags));
  if (f === 0n) return 'no flags';
  const names: string[] = [];
  for (const d of profile.flags) {
    const bit = 1n << BigInt(d.bit);
    if (f & bit) {
      names.push(d.name);
      f &= ~bit;
    }
  }
  if (f) names.push(`unknown flag ${hex(f)}`);
  return names.join('|');
}

export const CAP_NAMES = new Map<number, string>(Object.entries(KVM_CAP).map(([k, v]) => [v, `KVM_CAP_${k}`]));

export function attrWords(a: Int): string {
  const b = big(a);
  if (b === 0n) return 'SHARED';
  if (b === KVM_MEMORY_ATTRIBUTE_PRIVATE) return 'PRIVATE';
  return `attributes ${hex(b)}`;
}

export function memslotFlags(flags: SetMemoryRegion2Op['flags']): string {
  if (Array.isArray(flags))
    return flags.length
      ? flags.map((f) => (f === 'gmem' ? 'GUEST_MEMFD' : f === 'log_dirty' ? 'LOG_DIRTY_PAGES' : 'READONLY')).join('|')
      : 'no flags';
  const bits = memslotFlagBits(flags);
  return bits === 0 ? 'no flags' : `flags ${hex(bits)}`;
}

/** The platform's populate command (SNP LAUNCH_UPDATE, TDX INIT_MEM_REGION, CCA RMI_POPULATE). */
export function populateName(r: VmTypeRules | undefined): string {
  switch (r?.populate) {
    case 'snp-launch-update':
      return 'KVM_SEV_SNP_LAUNCH_UPDATE';
    case 'tdx-init-mem-region':
      return 'KVM_TDX_INIT_MEM_REGION';
    case 'cca-rmi-populate':
      return 'KVM_ARM_RMI_POPULATE';
    case 'none':
    case undefined:
      return 'populate (no populate flow)';
  }
}

/** The platform's launch start or finish command. */
export function launchName(r: VmTypeRules | undefined, phase: 'start' | 'finish'): string {
  switch (r?.populate) {
    case 'snp-launch-update':
      return phase === 'start' ? 'KVM_SEV_SNP_LAUNCH_START' : 'KVM_SEV_SNP_LAUNCH_FINISH';
    case 'tdx-init-mem-region':
      return phase === 'start' ? 'KVM_TDX_INIT_VM' : 'KVM_TDX_FINALIZE_VM';
    case 'cca-rmi-populate':
      return phase === 'start' ? 'Realm create (RMI)' : 'Realm activate (first run)';
    case 'none':
    case undefined:
      return phase === 'start' ? 'launch start' : 'launch finish';
  }
}
