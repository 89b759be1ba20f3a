/** Words for the parts of a state a step touches: what a reviewer needs to see why the spec decided so. */
import { OP_FIELDS } from './opSchema.ts';
import type { Step } from './ops.ts';
import type { Profile } from './profile.ts';
import type { SystemState } from './state.ts';
import { flagDefsOf } from './world.ts';

function describeGmem(s: SystemState, profile: Profile, id: number): string[] {
  const g = s.gmems[id];
  if (!g) return [];
  const flags =
    flagDefsOf(profile, g.flags)
      .map((f) => f.name)
      .join('|') || '0';
  const lines = [
    `guest_memfd #${id} of VM #${g.vm}: ${g.sizePages} page(s), flags ${flags}, ${g.lifecycle} (${g.fds} fd, ${g.maps} mapping)`,
  ];
  for (const b of g.bindings) lines.push(`  bound: pages ${b.start}..${b.start + b.npages - 1} to slot ${b.slot} of VM #${b.vm}`);
  for (const [k, p] of Object.entries(g.pages)) {
    const bits = [p.attribute, p.backing, `content ${p.content}${p.bytes ? ` (+${Object.keys(p.bytes).length} bytes)` : ''}`];
    if (p.hostMappers.length) bits.push(`host-mapped by #${p.hostMappers.join(',#')}`);
    if (p.pins) bits.push(`${p.pins} pin(s)`);
    if (p.trustedEntity !== 'unprepared') bits.push(p.trustedEntity);
    if (p.stage2 !== 'none') bits.push(`stage-2 ${p.stage2}`);
    if (p.directMap !== 'present') bits.push('not in direct map');
    lines.push(`  page ${k}: ${bits.join(', ')}`);
  }
  const listed = Object.keys(g.pages).length;
  if (listed === 0) lines.push('  every page is fresh (a hole, reads zero)');
  else if (listed < g.sizePages) lines.push('  every other page is fresh (a hole, reads zero)');
  return lines;
}

export function describeForStep(s: SystemState, profile: Profile, st: Step): string[] {
  const lines: string[] = [];
  const rec = st as unknown as Record<string, unknown>;
  for (const f of OP_FIELDS[st.op]) {
    const v = rec[f.name];
    const name = typeof v === 'string' ? v : f.type.kind === 'uaddr' && typeof v === 'object' && v ? (v as { map: string }).map : undefined;
    if (!name || name === 'kvm') continue;
    const ref = s.names[name];
    if (!ref) continue;
    if ('failed' in ref) lines.push(`${name}: its creating step failed`);
    else if ('fd' in ref) {
      const fd = s.fds[ref.fd];
      if (!fd) continue;
      if (!fd.open) lines.push(`${name}: closed fd`);
      else if (fd.kind === 'vm') {
        const v2 = s.vms[fd.id];
        if (v2)
          lines.push(
            `${name}: VM #${fd.id} (${v2.type}), ${v2.lifecycle}, launch ${v2.launch}, ${v2.memslots.length} memslot(s)${v2.privateRanges.length ? `, private GFNs ${v2.privateRanges.map(([a, b]) => `${a}..${b - 1}`).join(',')}` : ''}`,
          );
      } else lines.push(`${name}:`, ...describeGmem(s, profile, fd.id));
    } else {
      const m = s.maps[ref.map];
      if (!m) continue;
      lines.push(
        `${name}: mapping #${ref.map} of guest_memfd #${m.gmem} pages ${m.start}..${m.start + m.npages - 1} prot ${m.prot}${m.live ? '' : ' (unmapped)'}`,
      );
      if (m.live) lines.push(...describeGmem(s, profile, m.gmem));
    }
  }
  return lines;
}
