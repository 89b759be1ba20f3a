/** The bounded configuration an exploration stays within: `vms=1,gmems=2,pages=4,maps=2,pins=2`. */
export interface Bound {
  vms: number;
  gmems: number;
  /** Pages per guest_memfd (every created guest_memfd has exactly this size). */
  pages: number;
  maps: number;
  pins: number;
  /** Memslots per VM. */
  slots: number;
}

export const DEFAULT_BOUND: Bound = { vms: 1, gmems: 1, pages: 2, maps: 1, pins: 1, slots: 1 };

const KEYS: readonly (keyof Bound)[] = ['vms', 'gmems', 'pages', 'maps', 'pins', 'slots'];
const LIMITS: Record<keyof Bound, number> = { vms: 4, gmems: 8, pages: 64, maps: 8, pins: 8, slots: 8 };

export class BoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BoundError';
  }
}

/** Parse `pages=4,gmems=2` over the defaults; unknown keys and out-of-range values are errors naming them. */
export function parseBound(text: string | undefined, base: Bound = DEFAULT_BOUND): Bound {
  const out: Bound = { ...base };
  if (!text) return out;
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)$/.exec(part);
    if (!m) throw new BoundError(`bound: "${part}" is not name=number`);
    const key = m[1] as keyof Bound;
    if (!KEYS.includes(key)) throw new BoundError(`bound: unknown parameter "${m[1]}" (known: ${KEYS.join(', ')})`);
    const n = Number(m[2]);
    if (n > LIMITS[key] || (n < 1 && key !== 'pins' && key !== 'maps' && key !== 'slots')) {
      throw new BoundError(
        `bound: ${key}=${n} is out of range (${key === 'pins' || key === 'maps' || key === 'slots' ? 0 : 1}..${LIMITS[key]})`,
      );
    }
    out[key] = n;
  }
  return out;
}

export function formatBound(b: Bound): string {
  return KEYS.map((k) => `${k}=${b[k]}`).join(',');
}
