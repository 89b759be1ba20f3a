/**
 * Up-front size estimate of an exhaustive check, to refuse a bound that cannot fit in memory before spending
 * an hour finding out. The model is geometric: states(bound) ≈ states(unit bound) × Π factor_p^(bound_p − 1),
 * with the unit-bound size and the per-parameter factors measured per profile by bench/check.bench.ts
 * (docs/model-checking.md has the table), times measured interaction factors for pairs and triples of raised
 * parameters (two guest_memfds × more pages grows faster than the product). It is an order of magnitude, printed
 * as such; bench/estimate.bench.ts prints it next to what `check` finds.
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
 * Measured with `npx tsx bench/check.bench.ts growth` (docs/model-checking.md has the table): linux-6.18,
 * sw-protected and tdx on 2026-11-22 (commit ecf1857; their unit counts were the same on 2026-12-07); the others
 * re-measured on 2026-12-07 at commit cc7a91a2, where their unit counts had grown since (pkvm 3,288 → 4,380,
 * exclusive-gup 3,256 → 5,404, …). Pages: the geometric mean of 1→2→3 pages where both completed, else the
 * 1→2 factor. Where a measurement hit the time limit only a lower bound is known; the factor used is the larger
 * of that bound and the median of the completed measurements of the parameter (pages 9.5, gmems 39, slots 3.0,
 * vms 10.2), and these marked cells are lower bounds, not measurements.
 */
export const GROWTH: Record<string, Growth> = {
  'linux-6.18': { unit: 306, pages: 7.4, gmems: 40.8, slots: 2.3, maps: 5.2, pins: 2.2, vms: 5.6 },
  // `npx tsx bench/check.bench.ts growth --profiles linux-7.3,uffd-minor --max-seconds 60`, every cell complete.
  // linux-7.3's counts equal linux-6.18's at every one-parameter bound: unit 306; pages=2 2,210, pages=3 16,626;
  // gmems=2 12,494, with slots=2 28,714; maps=2 1,586; pins=2 677; vms=2 1,698. uffd-minor: unit 754; pages=2
  // 6,114, pages=3 47,858; gmems=2 33,006, with slots=2 75,978; maps=2 10,930 (each mapping has its own
  // userfaultfd registration); pins=2 1,797; vms=2 4,162.
  'linux-7.3': { unit: 306, pages: 7.4, gmems: 40.8, slots: 2.3, maps: 5.2, pins: 2.2, vms: 5.5 },
  'uffd-minor': { unit: 754, pages: 8.0, gmems: 43.8, slots: 2.3, maps: 14.5, pins: 2.4, vms: 5.5 },
  'sw-protected': { unit: 539, pages: 10.1, gmems: 37.8, slots: 3.0, maps: 4.7, pins: 2.0, vms: 12.7 },
  // The rows below: `npx tsx bench/check.bench.ts growth --profiles sev-snp,no-direct-map,pkvm,hugetlb,
  // exclusive-gup,arm-cca,inplace-conversion --max-seconds 25` (loaded machine). `≥`: the limit cut in.
  // sev-snp: unit 1,667; pages=2 17,379 (pages=3 183,203 ran to the end earlier that day: 10.6); gmems=2 64,169;
  // maps=2 7,811; pins=2 3,248; vms=2 60,422.
  'sev-snp': { unit: 1667, pages: 10.6, gmems: 38.5, slots: 3.0, maps: 4.7, pins: 1.9, vms: 36.2 },
  tdx: { unit: 801, pages: 10.2, gmems: 33.0, slots: 3.5, maps: 4.0, pins: 1.7, vms: 27.2 },
  // pkvm: unit 4,380; pages=2 ≥ 255,770; gmems=2 ≥ 322,192; maps=2 21,496; pins=2 9,881; vms=2 44,740.
  pkvm: { unit: 4380, pages: 58.4, gmems: 73.6, slots: 3.0, maps: 4.9, pins: 2.3, vms: 10.2 },
  // arm-cca: unit 8,152; pages=2 ≥ 252,144; gmems=2 ≥ 293,658; maps=2 37,644; pins=2 17,669; vms=2 158,568.
  'arm-cca': { unit: 8152, pages: 30.9, gmems: 39, slots: 3.0, maps: 4.6, pins: 2.2, vms: 19.5 },
  // inplace-conversion: unit 23,636; pages=2 ≥ 320,582; gmems=2 ≥ 412,649; maps=2 111,824; pins=2 52,253;
  // vms=2 ≥ 425,783.
  'inplace-conversion': { unit: 23636, pages: 13.6, gmems: 39, slots: 3.0, maps: 4.7, pins: 2.2, vms: 18.0 },
  // no-direct-map: unit 1,878; pages=2 17,754; gmems=2 98,790; maps=2 7,054; pins=2 2,932; vms=2 105,391.
  'no-direct-map': { unit: 1878, pages: 9.5, gmems: 52.6, slots: 3.0, maps: 3.8, pins: 1.6, vms: 56.1 },
  // hugetlb: unit 3,964; pages=2 ≥ 140,872; gmems=2 ≥ 287,054; maps=2 20,024; pins=2 9,129; vms=2 40,452.
  hugetlb: { unit: 3964, pages: 35.5, gmems: 72.4, slots: 3.0, maps: 5.1, pins: 2.3, vms: 10.2 },
  // exclusive-gup: unit 5,404; pages=2 ≥ 221,651; gmems=2 ≥ 236,068; maps=2 32,768; pins=2 13,521; vms=2 54,924.
  'exclusive-gup': { unit: 5404, pages: 41.0, gmems: 43.7, slots: 3.0, maps: 6.1, pins: 2.5, vms: 10.2 },
};

/** Used for a profile without measurements: the largest unit count and factors measured, each taken from GROWTH. */
const FALLBACK: Growth = (() => {
  const rows = Object.values(GROWTH);
  const most = (k: keyof Growth) => Math.max(...rows.map((g) => g[k]));
  return {
    unit: most('unit'),
    pages: most('pages'),
    gmems: most('gmems'),
    slots: most('slots'),
    maps: most('maps'),
    pins: most('pins'),
    vms: most('vms'),
  };
})();

/**
 * Memory per explored state of the packed checker (src/check/packed/): peak RSS minus the RSS before the search,
 * over the states explored, one worker, dead-rule coverage on (the CLI's default). Measured 2026-12-07 with
 * `npx tsx bench/estimate.bench.ts` at commits cc7a91a2–ba7907b2, pages=2,maps=2,pins=2: 691–1,473 bytes on runs
 * that reached 300,000–1.25 million states (uffd-minor 691, sev-snp 856, no-direct-map 941, sw-protected 1,303,
 * tdx 1,473), 937–1,234 on the 60 s runs of every profile; up to 2,488 on a run of 153,000 states with the machine
 * loaded. Rounded up from the long runs' largest.
 */
export const BYTES_PER_STATE = 1_500;
/**
 * Single-core rate for the time estimate, states per CPU-second of one worker with dead-rule coverage on, from
 * the same runs: 4,445–8,268 in the 60 s runs at commit ba7907b2 (linux-6.18 pages=2,maps=2,pins=2: 162,517
 * states in 36.6 CPU-s), 3,990–6,165 in 300 s runs on a loaded machine at cc7a91a2. The checker is being made
 * faster as this is written; rounded down to the slowest long run.
 */
export const STATES_PER_SECOND = 4_000;
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
/**
 * Three raised parameters interact beyond their three pairs: per step of one times a step of another times a step
 * of a third, the count grows by this factor. Fitted 2026-12-07 (commit cc7a91a2) on pages=2,maps=2,pins=2, where
 * the pair model alone found 1.28 (linux-6.18, linux-7.3), 1.36 (tdx), 1.46 (sw-protected) and 1.47
 * (no-direct-map, unit re-counted) times its estimate (bench/estimate.bench.ts; docs/model-checking.md, "The
 * estimate before a run"). Rounded down to the geometric mean.
 */
export const TRIPLE_INTERACTION = 1.35;

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
  let triples = 0;
  for (let i = 0; i < steps.length; i++)
    for (let j = i + 1; j < steps.length; j++) {
      const ij = (steps[i] as number) * (steps[j] as number);
      pairs += ij;
      for (let k = j + 1; k < steps.length; k++) triples += ij * (steps[k] as number);
    }
  states *= PAIR_INTERACTION ** pairs * TRIPLE_INTERACTION ** triples;
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
