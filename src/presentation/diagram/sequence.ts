/**
 * Sequence diagrams of traces — the counterexamples and diff witnesses — with lifelines VMM, KVM, guest_memfd
 * and the trusted entity. Rendered as SVG directly (a sequence diagram needs no graph layout) and as Mermaid
 * `sequenceDiagram` text. For a diff witness each reply shows both profiles' outcomes, red where they differ.
 */
import type { VmTypeName } from '../../../spec/constants.ts';
import type { Outcome, Step } from '../../../spec/ops.ts';
import { outcomesEqual } from '../../../spec/outcome.ts';
import type { Profile } from '../../../spec/profile.ts';
import { mermaidText } from './render/mermaid.ts';
import { outcomeWords, stepWords } from './words.ts';

export const PARTICIPANTS = ['VMM', 'KVM', 'guest_memfd', 'trusted entity'] as const;

export interface SeqMessage {
  from: number;
  to: number;
  label: string;
  /** Replies, one per profile compared: `[profile, outcome words]`. */
  replies: Array<[string, string]>;
  differs: boolean;
  /** A call the callee makes on (KVM → trusted entity). */
  internal?: boolean;
}

export interface Sequence {
  title: string;
  subtitle: string[];
  participants: readonly string[];
  messages: SeqMessage[];
}

const KVM = PARTICIPANTS.indexOf('KVM');
const GUEST_MEMFD = PARTICIPANTS.indexOf('guest_memfd');

/**
 * The lifeline a step goes to, read from the handle it names: a VM's ioctls, and those that name none (/dev/kvm's,
 * KVM_CREATE_VM, fork), go to KVM; a guest_memfd, one of its mappings or an fd (`gmem`, `map`, `h`) to guest_memfd.
 */
function target(s: Step): number {
  return 'vm' in s || !('gmem' in s || 'map' in s || 'h' in s) ? KVM : GUEST_MEMFD;
}

function vmTypeOf(steps: readonly Step[]): VmTypeName | undefined {
  return (steps.find((s) => s.op === 'create_vm') as { type?: VmTypeName } | undefined)?.type;
}

/** The trusted entity acts when populate succeeds, a launch phase changes, or a private guest fault is prepared. */
function teCall(s: Step, o: Outcome, profile: Profile, t: VmTypeName | undefined): string | undefined {
  const r = t ? profile.vmTypes[t] : undefined;
  if (!r?.hasPrivateMem || !('ok' in o || ('access' in o && o.access === 'ok'))) return undefined;
  if (s.op === 'populate') return 'load + measure into the launch digest';
  if (s.op === 'launch_start' && r.launch) return 'start the launch context';
  if (s.op === 'launch_finish' && r.launch) return 'seal the measurement';
  if (s.op === 'guest_access' && s.private && r.trustedEntityPrepares) return 'prepare (take ownership of) the page';
  if (s.op === 'set_memory_attributes2' && r.trustedEntityPrepares) return 'convert the page (make shared / private)';
  return undefined;
}

/** One profile's trace. */
export function traceSequence(
  title: string,
  steps: readonly Step[],
  outcomes: readonly Outcome[],
  profile: Profile,
  subtitle: string[] = [],
): Sequence {
  const t = vmTypeOf(steps);
  const messages: SeqMessage[] = [];
  steps.forEach((s, i) => {
    const o = outcomes[i];
    const to = target(s);
    messages.push({
      from: 0,
      to,
      label: `${i + 1}. ${stepWords(s, profile, t)}`,
      replies: [[profile.name, o ? outcomeWords(o) : '—']],
      differs: false,
    });
    const te = o ? teCall(s, o, profile, t) : undefined;
    if (te) messages.push({ from: 1, to: 3, label: te, replies: [], differs: false, internal: true });
  });
  return { title, subtitle, participants: PARTICIPANTS, messages };
}

/** Two profiles on the same trace: replies side by side, red where they differ. */
export function comparedSequence(
  title: string,
  steps: readonly Step[],
  a: { profile: Profile; outcomes: ReadonlyArray<Outcome | undefined> },
  b: { profile: Profile; outcomes: ReadonlyArray<Outcome | undefined> },
  subtitle: string[] = [],
): Sequence {
  const t = vmTypeOf(steps);
  const messages: SeqMessage[] = [];
  steps.forEach((s, i) => {
    const oa = a.outcomes[i];
    const ob = b.outcomes[i];
    const words = (o: Outcome | undefined) => (o ? outcomeWords(o) : '— (cannot run)');
    const differs = !oa || !ob ? oa !== ob : !outcomesEqual(oa, ob);
    const label = stepWords(s, b.profile.vmTypes[t ?? 'default'] ? b.profile : a.profile, t);
    messages.push({
      from: 0,
      to: target(s),
      label: `${i + 1}. ${label}`,
      replies: [
        [a.profile.name, words(oa)],
        [b.profile.name, words(ob)],
      ],
      differs,
    });
    const teA = oa ? teCall(s, oa, a.profile, t) : undefined;
    const teB = ob ? teCall(s, ob, b.profile, t) : undefined;
    const te = teB ?? teA;
    if (te)
      messages.push({
        from: 1,
        to: 3,
        label: teA && teB ? te : `${te} (${teB ? b.profile.name : a.profile.name} only)`,
        replies: [],
        differs: Boolean(teA) !== Boolean(teB),
        internal: true,
      });
  });
  return { title, subtitle, participants: PARTICIPANTS, messages };
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** SVG of a sequence. Each participant is a `<g class="node">` (the report's browser test counts them). */
export function renderSequenceSvg(seq: Sequence): string {
  const colW = 190;
  const left = 20;
  const top = 34 + seq.subtitle.length * 14;
  const headH = 30;
  const rowH = (m: SeqMessage) => (m.internal ? 30 : 26 + 14 * Math.max(1, m.replies.length));
  const height = top + headH + 20 + seq.messages.reduce((h, m) => h + rowH(m), 0) + 20;
  const width = left * 2 + colW * seq.participants.length;
  const x = (i: number) => left + colW * i + colW / 2;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
  );
  out.push(`<title>${esc(seq.title)}</title>`);
  out.push(
    '<defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#37474f"/></marker>' +
      '<marker id="arrRed" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker></defs>',
  );
  out.push(`<text x="${left}" y="18" font-size="13" font-weight="bold">${esc(seq.title)}</text>`);
  seq.subtitle.forEach((s, i) => out.push(`<text x="${left}" y="${32 + i * 14}" fill="#546e7a">${esc(s)}</text>`));
  seq.participants.forEach((p, i) => {
    out.push(
      `<g class="node participant"><rect x="${x(i) - 70}" y="${top}" width="140" height="${headH - 6}" rx="4" fill="#eceff1" stroke="#455a64"/><text x="${x(i)}" y="${top + 16}" text-anchor="middle" font-weight="bold">${esc(p)}</text></g>`,
    );
    out.push(`<line x1="${x(i)}" y1="${top + headH - 6}" x2="${x(i)}" y2="${height - 10}" stroke="#b0bec5" stroke-dasharray="4 3"/>`);
  });
  let y = top + headH + 20;
  for (const m of seq.messages) {
    const x1 = x(m.from);
    const x2 = x(m.to);
    const mid = (x1 + x2) / 2;
    out.push(`<g class="message${m.differs ? ' differs' : ''}">`);
    out.push(
      `<text x="${mid}" y="${y - 4}" text-anchor="middle" fill="${m.internal ? '#6a1b9a' : '#263238'}"${m.internal ? ' font-style="italic"' : ''}>${esc(m.label)}</text>`,
    );
    out.push(
      `<line x1="${x1}" y1="${y}" x2="${x2 - (x2 > x1 ? 2 : -2)}" y2="${y}" stroke="${m.internal ? '#6a1b9a' : '#37474f'}" marker-end="url(#arr)"/>`,
    );
    if (m.replies.length) {
      const ry = y + 14 * m.replies.length + 4;
      const colour = m.differs ? '#c62828' : '#546e7a';
      m.replies.forEach(([who, what], k) => {
        const label = m.replies.length > 1 ? `${who}: ${what}` : what;
        out.push(
          `<text x="${mid}" y="${y + 12 + 14 * k}" text-anchor="middle" fill="${colour}"${m.differs ? ' font-weight="bold"' : ''}>${esc(label)}</text>`,
        );
      });
      out.push(
        `<line x1="${x2}" y1="${ry}" x2="${x1 + 2}" y2="${ry}" stroke="${colour}" stroke-dasharray="5 3" marker-end="url(#${m.differs ? 'arrRed' : 'arr'})"/>`,
      );
    }
    out.push('</g>');
    y += rowH(m);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** Mermaid sequenceDiagram text of a sequence. */
export function renderSequenceMermaid(seq: Sequence): string {
  const ids = ['VMM', 'KVM', 'GMEM', 'TE'];
  const lines = ['sequenceDiagram', `  %% ${mermaidText(seq.title)}`];
  seq.participants.forEach((p, i) => lines.push(`  participant ${ids[i]} as ${mermaidText(p)}`));
  for (const m of seq.messages) {
    lines.push(`  ${ids[m.from]}->>${ids[m.to]}: ${mermaidText(m.label)}`);
    if (m.replies.length)
      lines.push(
        `  ${ids[m.to]}-->>${ids[m.from]}: ${mermaidText(`${m.differs ? '≠ ' : ''}${m.replies.map(([w, o]) => (m.replies.length > 1 ? `${w}: ${o}` : o)).join(' | ')}`)}`,
      );
  }
  return `${lines.join('\n')}\n`;
}
