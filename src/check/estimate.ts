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

type Factors = Record<keyof Bound, number>;

/**
 * Measured (bench/check.bench.ts growth, this machine): states at the unit bound
 * (vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1) and the factor one more of each parameter multiplies them by.
 */
export const GROWTH: Record<string, { unit: number; factors: Factors }> = {
  'linux-6.18': { unit: 373, factors: { pages: 8.8, gmems: 41.5, maps: 8.5, pins: 2.9, slots: 1, vms: 5.6 } },
};

/** Used for a profile without measurements: the largest factors measured. */
const FALLBACK = { unit: 30_000, factors: { pages: 12, gmems: 60, maps: 12, pins: 4, slots: 1.5, vms: 8 } };

/** Heap per explored state: fingerprint table, frontier states and their share of the per-level maps. */
export const BYTES_PER_STATE = 3_000;
/** Single-core rate of the current step function (bench/check.bench.ts), for the time estimate. */
export const STATES_PER_SECOND = 1_500;

export interface Estimate {
  states: number;
  bytes: number;
  seconds: number;
  basis: string;
}

function baseName(profile: Profile): string {
  return profile.name.split('+')[0] ?? profile.name;
}

export function estimate(profile: Profile, bound: Bound, workers = 1): Estimate {
  const name = baseName(profile);
  const g = GROWTH[name] ?? FALLBACK;
  const added = profile.name.split('+').length - 1;
  let states = g.unit * 2 ** added;
  for (const k of Object.keys(g.factors) as Array<keyof Bound>) states *= g.factors[k] ** (bound[k] - 1);
  return {
    states,
    bytes: states * BYTES_PER_STATE,
    seconds: states / (STATES_PER_SECOND * Math.max(1, Math.min(workers, 2))),
    basis: GROWTH[name] ? `growth factors measured for ${name}${added ? `, ×2 per added flag` : ''}` : 'no measurements for this profile: the largest factors measured',
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
