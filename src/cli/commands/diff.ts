/** gmem-spec diff A B [--format text|mermaid|dot|svg|json] [--out FILE] [--witnesses DIR] [--depth N] */
import { join } from 'node:path';
import { renderDot } from '../../../spec/diagram/render/dot.ts';
import { renderMermaid } from '../../../spec/diagram/render/mermaid.ts';
import { dotToSvg } from '../../../spec/diagram/svg.ts';
import { diffProfiles } from '../../../spec/diff/profileDiff.ts';
import { diffDiagram, diffJson, renderDiffText } from '../../../spec/diff/render.ts';
import { getProfile } from '../../../spec/profiles/index.ts';
import { formatTrace } from '../../../spec/trace.ts';
import { writeFileAtomic } from '../../files.ts';
import { onlyOptions, opt, parseArgs, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { intOption } from './diagram.ts';

const DIFF_FORMATS = ['text', 'mermaid', 'dot', 'svg', 'json'] as const;
type DiffFormat = (typeof DIFF_FORMATS)[number];

export const diff: Command = {
  name: 'diff',
  summary: 'structural and behavioural diff of two profiles, with a witness trace for each behavioural difference',
  usage: 'gmem-spec diff A B [--format text|mermaid|dot|svg|json] [--out FILE] [--witnesses DIR] [--depth N]',
  async run(argv, io) {
    const args = parseArgs(argv);
    onlyOptions(args, ['format', 'out', 'witnesses', 'depth']);
    const [an, bn, ...rest] = args.positionals;
    if (!an || !bn || rest.length) throw new UsageError('diff takes exactly two profile names');
    const a = getProfile(an);
    const b = getProfile(bn);
    const format = (opt(args, 'format') ?? 'text') as DiffFormat;
    if (!DIFF_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${DIFF_FORMATS.join(', ')}`);
    const depth = intOption(opt(args, 'depth'), 'depth', 1, 12);
    const d = diffProfiles(a, b, depth !== undefined ? { maxDepth: depth } : {});
    let text: string;
    switch (format) {
      case 'text': text = renderDiffText(d); break;
      case 'json': text = `${JSON.stringify(diffJson(d), (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`; break;
      case 'mermaid': text = renderMermaid(diffDiagram(d, depth !== undefined ? { maxDepth: depth } : {})); break;
      case 'dot': text = renderDot(diffDiagram(d, depth !== undefined ? { maxDepth: depth } : {}), { rankdir: 'TB' }); break;
      case 'svg': text = await dotToSvg(renderDot(diffDiagram(d, depth !== undefined ? { maxDepth: depth } : {}), { rankdir: 'TB' })); break;
    }
    const dir = opt(args, 'witnesses');
    if (dir) {
      d.behaviours.forEach((bh, i) => writeFileAtomic(join(dir, `${String(i + 1).padStart(2, '0')}-${bh.trace.name ?? 'witness'}.json`), formatTrace(bh.trace)));
      io.err(`wrote ${d.behaviours.length} witness traces to ${dir}`);
    }
    const out = opt(args, 'out');
    if (out) {
      writeFileAtomic(out, text);
      io.err(`wrote ${out}`);
    } else io.out(text.trimEnd());
    return 0;
  },
};
