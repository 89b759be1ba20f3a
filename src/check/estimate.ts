/**
 * Up-front size estimate of an exhaustive check, to refuse a bound that cannot fit in memory before spending
 * an hour finding out. The model is geometric: states(bound) ≈ states(unit bound) × Π factor_p^(bound_p − 1),
 * with the unit-bound size and the per-parameter factors measured per profile by bench/check.bench.ts
 * (docs/model-checking.md has the table). Parameters interact (two guest_memfds × more pages grows faster than
 * the product), so the estimate is an order of magnitude, printed as such.
 */
import { freemem, totalmem } from 'node:os';
import type { Bound } from '../../spec/explore/bound.ts';
import type { Profile } from '../../spec/profile.ts';

interface Growth {
  /** States at the unit bound vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1. */
  unit: number;
  /** Factor per extra page, guest_memfd, mapping, pin, VM; per extra memslot once there are two guest_memfds. */
  pages: number;
  gmems: number;
  slots: number;
  maps: number;
  pins: number;
  vms: number;
}

/**
 * Measured with `npx tsx bench/check.bench.ts growth` (2026-11-22, commit ecf1857; docs/model-checking.md has the
 * table). Pages: the geometric mean of 1→2→3 pages where both completed. Where a measurement hit the 60 s limit
 * only a lower bound is known; the factor used is the larger of that bound and the median of the completed
 * measurements of the parameter (pages 10.3, gmems 39, slots 3.0, vms 12.7).
 */
export const GROWTH: Record<string, Growth> = {
  'linux-6.18': { unit: 306, pages: 7.4, gmems: 40.8, slots: 2.3, maps: 5.2, pins: 2.2, vms: 5.6 },
  // Measured 2026-12-07 at commit 8d7bc19e (`npx tsx bench/check.bench.ts growth --profiles linux-7.3,uffd-minor
  // --max-seconds 60`, every cell complete). linux-7.3's counts equal linux-6.18's at every one-parameter bound:
  // unit 306; pages=2 2,210, pages=3 16,626; gmems=2 12,494, with slots=2 28,714; maps=2 1,586; pins=2 677;
  // vms=2 1,698. uffd-minor: unit 754; pages=2 6,114, pages=3 47,858; gmems=2 33,006, with slots=2 75,978;
  // maps=2 10,930 (each mapping has its own userfaultfd registration); pins=2 1,797; vms=2 4,162.
  'linux-7.3': { unit: 306, pages: 7.4, gmems: 40.8, slots: 2.3, maps: 5.2, pins: 2.2, vms: 5.5 },
  'uffd-minor': { unit: 754, pages: 8.0, gmems: 43.8, slots: 2.3, maps: 14.5, pins: 2.4, vms: 5.5 },
  'sw-protected': { unit: 539, pages: 10.1, gmems: 37.8, slots: 3.0, maps: 4.7, pins: 2.0, vms: 12.7 },
  // Re-measured 2026-12-07 after the state-key fix that stopped merging SEV and SNP VMs' states (explore() state
  // counts, which equal check's): unit 1,631; pages=2 16,299, pages=3 183,203; gmems=2 62,533, with slots=2
  // 190,329; maps=2 7,703; pins=2 3,212; vms=2 59,090.
  'sev-snp': { unit: 1631, pages: 10.6, gmems: 38.3, slots: 3.0, maps: 4.7, pins: 2.0, vms: 36.2 },
  tdx: { unit: 801, pages: 10.2, gmems: 33.0, slots: 3.5, maps: 4.0, pins: 1.7, vms: 27.2 },
  pkvm: { unit: 3288, pages: 34.0, gmems: 39, slots: 3.0, maps: 4.8, pins: 2.2, vms: 10.2 },
  'arm-cca': { unit: 7016, pages: 24.7, gmems: 39, slots: 3.0, maps: 4.8, pins: 2.2, vms: 19.4 },
  'inplace-conversion': { unit: 20096, pages: 10.6, gmems: 39, slots: 3.0, maps: 5.0, pins: 2.3, vms: 12.7 },
  'no-direct-map': { unit: 1842, pages: 9.1, gmems: 50.7, slots: 3.0, maps: 3.8, pins: 1.6, vms: 56.1 },
  hugetlb: { unit: 3016, pages: 38.1, gmems: 39, slots: 3.0, maps: 4.9, pins: 2.3, vms: 10.2 },
  'exclusive-gup': { unit: 3256, pages: 40.8, gmems: 39, slots: 3.0, maps: 4.9, pins: 2.4, vms: 10.2 },
};

/** Used for a profile without measurements: the largest factors measured. */
const FALLBACK: Growth = { unit: 20_096, pages: 40.8, gmems: 50.7, slots: 3.5, maps: 5.4, pins: 2.4, vms: 56.1 };

/**
 * Memory per explored state: fingerprint table, frontier states and their share of the per-level maps. Measured
 * 2026-12-07: tdx pages=3, 1 worker, 242 MiB for 83,645 states (~1.9 KiB each over node's ~85 MiB); the standard
 * bound, 2 workers, 2.0–2.5 GiB for the first 0.85–1.0 million states (~2.3–2.6 KiB each). Rounded up.
 */
export const BYTES_PER_STATE = 2_600;
/**
 * Single-core rate for the time estimate, measured 2026-12-07 after the step() speed-up: `gmem-spec check --profile
 * tdx --bound pages=3 --workers 1` (83,645 states) 5,590 states/s wall; bench/check.bench.ts ladder, linux-6.18
 * gmems=2 (12,494 states) 4,692 states per CPU-s. Rounded down.
 */
export const STATES_PER_SECOND = 5_000;
/** Speed-up of 2 worker threads on this 2-core machine: the same tdx pages=3 check, 14.96 s → 11.97 s wall. */
export const TWO_CORE_SPEEDUP = 1.25;

export interface Estimate {
  states: number;
  bytes: number;
  seconds: number;
  basis: string;
}

function baseName(profile: Profile): string {
  return profile.name.split('+')[0] ?? profile.name;
}

/**
 * The factors above are measured one parameter at a time; raised together, parameters multiply each other's
 * states (a second mapping can cover more ranges when there are more pages, and every page of a second
 * guest_memfd has its own states). Per pair of raised parameters, the count grows by this factor for each step
 * of the one times each step of the other. Fitted on `gmem-spec check --profile P --bound B` runs of 2026-12-07 (found ÷
 * one-at-a-time estimate): linux-6.18 pages=2,pins=2 1.71, pages=2,maps=2 1.83, gmems=2,maps=2 1.59; tdx
 * pages=2,pins=2 1.50; sw-protected pages=2,maps=2 1.90. Checked against three-parameter bounds of linux-6.18:
 * pages=2,maps=2,pins=2 162,517 states (estimate with it 1.3e5, without 2.6e4); pages=3,pins=2 93,301 (1.1e5;
 * 3.7e4); pages=3,maps=2,pins=2 over 2.27 million (2.7e6; 1.9e5).
 */
export const PAIR_INTERACTION = 1.7;

export function estimate(profile: Profile, bound: Bound, workers = 1): Estimate {
  const name = baseName(profile);
  const g = GROWTH[name] ?? FALLBACK;
  const added = profile.name.split('+').length - 1;
  let states = g.unit * 2 ** added;
  states *=
    g.pages ** (bound.pages - 1) *
    g.gmems ** (bound.gmems - 1) *
    g.maps ** (bound.maps - 1) *
    g.pins ** (bound.pins - 1) *
    g.vms ** (bound.vms - 1);
  // A second memslot only matters when there is a second guest_memfd to bind.
  if (bound.gmems >= 2) states *= g.slots ** (Math.min(bound.slots, bound.gmems) - 1);
  else if (bound.slots === 0) states /= 2;
  const steps = [bound.pages, bound.gmems, bound.maps, bound.pins, bound.vms].map((n) => Math.max(0, n - 1));
  let pairs = 0;
  for (let i = 0; i < steps.length; i++) for (let j = i + 1; j < steps.length; j++) pairs += (steps[i] as number) * (steps[j] as number);
  states *= PAIR_INTERACTION ** pairs;
  return {
    states,
    bytes: states * BYTES_PER_STATE,
    seconds: states / (STATES_PER_SECOND * (workers >= 2 ? TWO_CORE_SPEEDUP : 1)),
    basis: GROWTH[name]
      ? `growth factors measured for ${name}${added ? `, ×2 per added flag` : ''}`
      : 'no measurements for this profile: the largest factors measured',
  };
}

/** Memory the checker may use: 75% of this machine's memory, or what is free plus what we hold. */
export function memoryBudget(): number {
  return Math.min(totalmem() * 0.75, freemem() + process.memoryUsage.rss());
}

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '∞';
  if (n < 1e4) return String(Math.round(n));
  const exp = Math.floor(Math.log10(n));
  return `${(n / 10 ** exp).toFixed(1)}e${exp}`;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '∞';
  if (s < 90) return `${s.toFixed(0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(0)} min`;
  if (s < 2 * 86400) return `${(s / 3600).toFixed(1)} h`;
  if (s < 2 * 365 * 86400) return `${(s / 86400).toFixed(0)} days`;
  return `${formatCount(s / (365 * 86400))} years`;
}

export function formatBytes(b: number): string {
  if (b < 2 ** 20) return `${(b / 1024).toFixed(0)} KiB`;
  if (b < 2 ** 30) return `${(b / 2 ** 20).toFixed(0)} MiB`;
  if (b < 2 ** 40) return `${(b / 2 ** 30).toFixed(1)} GiB`;
  return `${formatCount(b / 2 ** 40)} TiB`;
}
