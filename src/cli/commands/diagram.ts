/** gmem-spec diagram: draw a machine of a profile (composed profiles too), or the page states it reaches. */
import type { VmTypeName } from '../../../spec/constants.ts';
import { compareMermaid, compareProfiles, compareSvg, compareText, sideDiagram } from '../../presentation/diagram/compare.ts';
import { FORMATS, type Format, buildDiagram, render } from '../../presentation/diagram/index.ts';
import { renderDot } from '../../presentation/diagram/render/dot.ts';
import { DEFAULT_MAX_DEPTH } from '../../presentation/diagram/reachable.ts';
import { MACHINES, type MachineName, parseFlags } from '../../presentation/diagram/static.ts';
import { writeFileAtomic } from '../../files.ts';
import { UsageError, intValue } from '../args.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { FLAG_OPTION, profileOption, resolveProfile, resolveProfiles } from '../profiles.ts';

/** `--depth`, shared by the commands that search the reachable states. */
export const DEPTH_OPTION = {
  type: 'string',
  value: 'N',
  description: 'how many operations deep the reachable-state search goes (1 to 12)',
  defaultText: String(DEFAULT_MAX_DEPTH),
} as const;

export const diagram = defineCommand({
  name: 'diagram',
  summary: 'draw a machine (page, guestMemfd, vm) or the reachable page states (system) of a profile, or two profiles side by side',
  args: { synopsis: '[--compare A B]', min: 0, max: 1, what: 'no argument, or the second profile of --compare' },
  options: {
    compare: {
      type: 'string',
      value: 'A',
      description:
        "draw profile A's and profile B's (the argument) page states side by side, collapsed by region (the same private-memory VM type where both have one, else equivalent ones; base+FLAG works)",
      defaultText: 'one profile',
    },
    profile: profileOption('linux-6.18'),
    flag: FLAG_OPTION,
    machine: { type: 'string', short: 'm', value: 'NAME', choices: MACHINES, default: 'page', description: 'what to draw' },
    format: { type: 'string', short: 'f', value: 'FORMAT', choices: FORMATS, default: 'mermaid', description: 'the output format' },
    out: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      description: 'write the diagram to FILE (atomically)',
      defaultText: 'standard output',
    },
    'vm-type': { type: 'string', value: 'T', description: 'draw for this VM type only', defaultText: 'every VM type of the profile' },
    flags: {
      type: 'string',
      value: 'F1,F2',
      description: 'draw for guest_memfds created with these flags (e.g. MMAP,INIT_SHARED)',
      defaultText: 'every accepted combination',
    },
    depth: DEPTH_OPTION,
  },
  exitCodes: { 0: 'the diagram was printed (or written)', 2: EXIT_BAD_INPUT },
  async action({ values, positionals }, io) {
    if (values.compare !== undefined || positionals.length) return compareAction(values, positionals, io);
    const profile = (await resolveProfile(values)).profile;
    const machine: MachineName = values.machine;
    const format: Format = values.format;
    const vmType = values['vm-type'] as VmTypeName | undefined;
    if (vmType !== undefined && !Object.hasOwn(profile.vmTypes, vmType))
      throw new UsageError(`profile ${profile.name} has no VM type ${vmType} (it has ${Object.keys(profile.vmTypes).join(', ')})`);
    let flags: number | undefined;
    if (values.flags !== undefined) {
      try {
        flags = parseFlags(profile, values.flags);
      } catch (e) {
        throw new UsageError(`--flags: ${(e as Error).message}`);
      }
    }
    const depth = intValue(values.depth, 'depth', 1, 12);
    io.progress?.phase(`drawing the ${machine} machine of ${profile.name}`);
    const d = buildDiagram(profile, machine, {
      ...(vmType ? { vmType } : {}),
      ...(flags !== undefined ? { flags } : {}),
      ...(depth !== undefined ? { maxDepth: depth } : {}),
    });
    const text = await render(d, format);
    io.progress?.done();
    if (values.out) {
      writeFileAtomic(values.out, text);
      io.err(`wrote ${values.out} (${d.nodes.length} nodes, ${d.edges.length} edges)`);
    } else io.out(text.trimEnd());
    return 0;
  },
});

/** `diagram --compare A B`: both profiles' page states by region, side by side (src/presentation/diagram/compare.ts). */
async function compareAction(
  values: {
    compare?: string;
    format: Format;
    out?: string;
    flag: string[];
    depth?: string;
    machine: string;
    'vm-type'?: string;
    flags?: string;
  },
  positionals: readonly string[],
  io: { out: (s: string) => void; err: (s: string) => void; progress?: { phase: (s: string) => void; done: () => void } },
): Promise<number> {
  const second = positionals[0];
  if (values.compare === undefined || second === undefined) throw new UsageError('--compare takes two profiles: diagram --compare A B');
  if (values.flag.length || values['vm-type'] !== undefined || values.flags !== undefined || values.machine !== 'page')
    throw new UsageError('--compare draws each profile whole: name flags as base+FLAG instead of --flag, --flags, --vm-type or --machine');
  const [a, b] = (await resolveProfiles([values.compare, second], [])).map((r) => r.profile);
  if (!a || !b) throw new Error('resolveProfiles returned fewer profiles than names');
  const depth = intValue(values.depth, 'depth', 1, 12);
  io.progress?.phase(`comparing the page states of ${a.name} and ${b.name}`);
  const c = compareProfiles(a, b, depth !== undefined ? { maxDepth: depth } : {});
  let text: string;
  switch (values.format) {
    case 'svg':
      text = await compareSvg(c);
      break;
    case 'mermaid':
      text = compareMermaid(c);
      break;
    case 'dot':
      text = `${renderDot(sideDiagram(c, 'a'))}${renderDot(sideDiagram(c, 'b'))}`;
      break;
    case 'json':
      text = `${JSON.stringify({ format: 'gmem-compare/1', a: { ...c.a, profile: a.name }, b: { ...c.b, profile: b.name } }, null, 2)}\n`;
      break;
    case 'text':
      text = compareText(c);
      break;
  }
  io.progress?.done();
  if (values.out) {
    writeFileAtomic(values.out, text);
    io.err(`wrote ${values.out}`);
  } else io.out(text.trimEnd());
  return 0;
}
