/** gmem-spec diff A B: structural and behavioural diff of two profiles (composed ones too), with witness traces. */
import { join } from 'node:path';
import { renderDot } from '../../presentation/diagram/render/dot.ts';
import { renderMermaid } from '../../presentation/diagram/render/mermaid.ts';
import { dotToSvg } from '../../presentation/diagram/svg.ts';
import { diffProfiles } from '../../presentation/diff/profileDiff.ts';
import { diffDiagram, diffJson, renderDiffText } from '../../presentation/diff/render.ts';
import { writeFileAtomic } from '../../files.ts';
import { intValue } from '../args.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { FLAG_DEFINITION_OPTION, resolveProfiles, traceText } from '../profiles.ts';
import { DEPTH_OPTION } from './diagram.ts';

const DIFF_FORMATS = ['text', 'mermaid', 'dot', 'svg', 'json'] as const;

export const diff = defineCommand({
  name: 'diff',
  summary: 'structural and behavioural diff of two profiles, with a witness trace for each behavioural difference',
  args: { synopsis: 'A B', min: 2, max: 2, what: 'two profile names (each a profile or base+FLAG)' },
  options: {
    flag: FLAG_DEFINITION_OPTION,
    format: { type: 'string', short: 'f', value: 'FORMAT', choices: DIFF_FORMATS, default: 'text', description: 'the output format' },
    out: { type: 'string', short: 'o', value: 'FILE', description: 'write the diff to FILE (atomically)', defaultText: 'standard output' },
    witnesses: {
      type: 'string',
      value: 'DIR',
      description: "write each behavioural difference's witness trace into DIR",
      defaultText: 'not written',
    },
    depth: DEPTH_OPTION,
  },
  exitCodes: { 0: 'the diff was printed (or written), whether or not the profiles differ', 2: EXIT_BAD_INPUT },
  async action({ values, positionals }, io) {
    const [ra, rb] = await resolveProfiles(positionals, values.flag);
    if (!ra || !rb) throw new Error('resolveProfiles returned fewer profiles than names');
    const a = ra.profile;
    const b = rb.profile;
    const depth = intValue(values.depth, 'depth', 1, 12);
    const opts = depth !== undefined ? { maxDepth: depth } : {};
    io.progress?.phase(`comparing ${a.name} with ${b.name}`);
    const d = diffProfiles(a, b, opts);
    let text: string;
    switch (values.format) {
      case 'json':
        text = `${JSON.stringify(diffJson(d), (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
        break;
      case 'mermaid':
        text = renderMermaid(diffDiagram(d, opts));
        break;
      case 'dot':
        text = renderDot(diffDiagram(d, opts), { rankdir: 'TB' });
        break;
      case 'svg':
        text = await dotToSvg(renderDot(diffDiagram(d, opts), { rankdir: 'TB' }));
        break;
      case 'text':
        text = renderDiffText(d);
        break;
    }
    io.progress?.done();
    const dir = values.witnesses;
    if (dir) {
      // A witness names no profile (it is read under both); it carries the definitions of the flags the two
      // composed names use, so `predict --profile A` and `--profile B` on it resolve them.
      const defs = [...new Map([...ra.added, ...rb.added].map((x) => [x.def.name, x.def])).values()];
      // Across platforms a witness has one trace per side (each creates its own equivalent VM type).
      let files = 0;
      d.behaviours.forEach((bh, i) => {
        for (const t of [bh.trace, ...(bh.traceB ? [bh.traceB] : [])]) {
          writeFileAtomic(join(dir, `${String(i + 1).padStart(2, '0')}-${t.name ?? 'witness'}.json`), traceText(t, defs));
          files++;
        }
      });
      io.err(`wrote ${files} witness traces (${d.behaviours.length} differences) to ${dir}`);
    }
    if (values.out) {
      writeFileAtomic(values.out, text);
      io.err(`wrote ${values.out}`);
    } else io.out(text.trimEnd());
    return 0;
  },
});
