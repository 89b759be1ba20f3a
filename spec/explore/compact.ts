/**
 * Drop dead history from a state: closed fds, unmapped mappings, dropped pins, and the handle names that point
 * at them or at failed creations. The explorer never issues an operation on a dead handle, so two states that
 * differ only in dead history behave the same from then on; compacting them makes them one state (otherwise
 * every mmap/munmap or pin/unpin cycle would make a "new" state and the graph would never close).
 * Object indices are renumbered in creation order, so the result is canonical.
 */
import type { NameRef, SystemState } from '../state.ts';

/**
 * @param before the compact state the step started from, when known: the fds, mappings and pins `s` still shares
 * with it (World copies a part before it changes it) are alive without looking inside them, which the checker's
 * successor cache (src/check/packed/) counts as not reading them. The result is the same with or without it.
 */
export function compact(s: SystemState, before?: SystemState): SystemState {
  // The lists are short (a few fds, mappings and pins): includes() beats building a Set.
  const shared = before
    ? { has: (x: object) => before.fds.includes(x as never) || before.maps.includes(x as never) || before.pins.includes(x as never) }
    : undefined;
  // Nothing dead (the common step): the lists stand as they are, and only the names may need compacting.
  if (before && s.fds === before.fds && s.maps === before.maps && s.pins === before.pins && s.names === before.names)
    return { proc: s.proc, vms: s.vms, gmems: s.gmems, fds: s.fds, maps: s.maps, pins: s.pins, names: s.names };
  const fdIndex = new Map<number, number>();
  const fds = s.fds.filter((f, i) => {
    if (!shared?.has(f) && !f.open) return false;
    fdIndex.set(i, fdIndex.size);
    return true;
  });
  const mapIndex = new Map<number, number>();
  const maps = s.maps.filter((m, i) => {
    if (!shared?.has(m) && !m.live) return false;
    mapIndex.set(i, mapIndex.size);
    return true;
  });
  // A pin whose mapping is gone can never be named again: where it was and which folios it still lists are
  // dead data (only its existence counts), so it is kept as an orphan at offset 0 with no pages. Otherwise a
  // later punch or release, which updates the lists of pins whose (dead) mapping is still known, would make
  // states that behave the same compact differently.
  const renumbered = mapIndex.size !== s.maps.length;
  const pins = s.pins
    .filter((p) => shared?.has(p) || p.live)
    .map((p) => {
      // A pin handed on unchanged keeps its mapping's index when no mapping was dropped.
      if (!renumbered && shared?.has(p)) return p;
      const map = mapIndex.get(p.map);
      if (map === undefined) return { ...p, map: -1, offset: 0, pages: [] };
      // A pin whose mapping kept its index stays as it is (the same object: nothing to copy or intern again).
      return map === p.map ? p : { ...p, map };
    });
  // Names handed on unchanged from a compact state, with no fd or mapping dropped, still name live objects at
  // the same indices: they stay as they are (not looked into).
  const keepNames = before !== undefined && s.names === before.names && fds.length === s.fds.length && maps.length === s.maps.length;
  const names: Record<string, NameRef> = keepNames ? s.names : {};
  if (!keepNames)
    for (const n of Object.keys(s.names).sort()) {
      const r = s.names[n] as NameRef;
      if ('fd' in r) {
        const i = fdIndex.get(r.fd);
        if (i !== undefined) names[n] = { fd: i };
      } else if ('map' in r) {
        const i = mapIndex.get(r.map);
        if (i !== undefined) names[n] = { map: i };
      }
    }
  // A page's host mappers are mappings of its own file: only the files of mappings that were dropped or moved
  // need their pages renumbered (the others are handed on unread).
  const touched = new Set<number>();
  if (renumbered) s.maps.forEach((m, i) => mapIndex.get(i) !== i && touched.add(m.gmem));
  const gmems = renumbered
    ? s.gmems.map((g, gi) => {
        if (!touched.has(gi)) return g;
        const pages: typeof g.pages = {};
        let changed = false;
        for (const [k, p] of Object.entries(g.pages)) {
          const moved = p.hostMappers.some((m) => mapIndex.get(m) !== m);
          pages[k] = moved ? { ...p, hostMappers: p.hostMappers.map((m) => mapIndex.get(m) ?? -1) } : p;
          changed ||= moved;
        }
        return changed ? { ...g, pages } : g;
      })
    : s.gmems;
  return { proc: s.proc, vms: s.vms, gmems, fds, maps, pins, names };
}
