/**
 * Every profile's graph digest (src/generate/graphDigest.ts) at its committed bound (src/generate/config.ts)
 * and at the unit bound, so that a change meant to preserve behaviour can be shown to leave every graph the same.
 *
 *   npx tsx bench/graph-digests.ts [--bounds committed,unit]
 */
import { formatBound, parseBound } from '../spec/explore/bound.ts';
import { explore } from '../spec/explore/explorer.ts';
import { PROFILES } from '../spec/profiles/index.ts';
import { COMMITTED } from '../src/generate/config.ts';
import { graphDigest } from '../src/generate/graphDigest.ts';

const UNIT = 'vms=1,gmems=1,pages=1,maps=1,pins=1,slots=1';
const i = process.argv.indexOf('--bounds');
const kinds = (i >= 0 ? (process.argv[i + 1] ?? '') : 'committed,unit').split(',');

for (const p of PROFILES) {
  for (const kind of kinds) {
    const text = kind === 'unit' ? UNIT : COMMITTED.find((c) => c.profile === p.name)?.bound;
    if (text === undefined) continue;
    const bound = parseBound(text);
    const t0 = performance.now();
    const g = explore(p, bound);
    const ms = performance.now() - t0;
    const size = `${String(g.states.length).padStart(6)} states ${String(g.edgeCount).padStart(7)} edges`;
    console.log(`${p.name.padEnd(20)} ${kind.padEnd(9)} ${formatBound(bound)}  ${size}  digest ${graphDigest(g)}  (${ms.toFixed(0)} ms)`);
  }
}
