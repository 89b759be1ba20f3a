/** gmem-spec diagram: draw a machine of a profile (composed profiles too), or the page states it reaches. */
import type { VmTypeName } from '../../../spec/constants.ts';
import { FORMATS, type Format, buildDiagram, render } from '../../presentation/diagram/index.ts';
import { DEFAULT_MAX_DEPTH } from '../../presentation/diagram/reachable.ts';
import { MACHINES, type MachineName, parseFlags } from '../../presentation/diagram/static.ts';
import { writeFileAtomic } from '../../files.ts';
import { UsageError, intValue } from '../args.ts';
import { EXIT_BAD_INPUT, defineCommand } from '../command.ts';
import { FLAG_OPTION, profileOption, resolveProfile } from '../profiles.ts';

/** `--depth`, shared by the commands that search the reachable states. */
export const DEPTH_OPTION = {
  type: 'string',
  value: 'N',
  description: 'how many operations deep the reachable-state search goes (1 to 12)',
  defaultText: String(DEFAULT_MAX_DEPTH),
} as const;

export const diagram = defineCommand({
  name: 'diagram',
  summary: 'draw a machine (page, guestMemfd, vm) or the reachable page states (system) of a profile',
  args: { synopsis: '', min: 0, max: 0, what: 'no argument' },
  options: {
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
  async action({ values }, io) {
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
