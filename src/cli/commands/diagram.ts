/**
 * gmem-spec diagram --profile P [--machine page|guestMemfd|vm|system] [--format mermaid|dot|svg|json|text]
 *   [--out FILE] [--vm-type T] [--flags MMAP,INIT_SHARED] [--depth N]
 */
import type { VmTypeName } from '../../../spec/constants.ts';
import { FORMATS, type Format, buildDiagram, render } from '../../../spec/diagram/index.ts';
import { MACHINES, type MachineName, parseFlags } from '../../../spec/diagram/static.ts';
import { DEFAULT_PROFILE, getProfile } from '../../../spec/profiles/index.ts';
import { writeFileAtomic } from '../../files.ts';
import { onlyOptions, opt, parseArgs, UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export function intOption(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

export const diagram: Command = {
  name: 'diagram',
  summary: 'draw a machine (page, guestMemfd, vm) or the reachable page states (system) of a profile',
  usage: 'gmem-spec diagram --profile P [--machine page|guestMemfd|vm|system] [--format mermaid|dot|svg|json|text] [--out FILE] [--vm-type T] [--flags MMAP,INIT_SHARED] [--depth N]',
  async run(argv, io) {
    const args = parseArgs(argv);
    onlyOptions(args, ['profile', 'machine', 'format', 'out', 'vm-type', 'flags', 'depth']);
    if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const profile = getProfile(opt(args, 'profile') ?? DEFAULT_PROFILE);
    const machine = (opt(args, 'machine') ?? 'page') as MachineName;
    if (!MACHINES.includes(machine)) throw new UsageError(`--machine must be one of ${MACHINES.join(', ')}`);
    const format = (opt(args, 'format') ?? 'mermaid') as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    const vmType = opt(args, 'vm-type') as VmTypeName | undefined;
    if (vmType !== undefined && !profile.vmTypes[vmType]) throw new UsageError(`profile ${profile.name} has no VM type ${vmType} (it has ${Object.keys(profile.vmTypes).join(', ')})`);
    const flagsText = opt(args, 'flags');
    let flags: number | undefined;
    if (flagsText !== undefined) {
      try {
        flags = parseFlags(profile, flagsText);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const depth = intOption(opt(args, 'depth'), 'depth', 1, 12);
    const d = buildDiagram(profile, machine, { ...(vmType ? { vmType } : {}), ...(flags !== undefined ? { flags } : {}), ...(depth !== undefined ? { maxDepth: depth } : {}) });
    const text = await render(d, format);
    const out = opt(args, 'out');
    if (out) {
      writeFileAtomic(out, text);
      io.err(`wrote ${out} (${d.nodes.length} nodes, ${d.edges.length} edges)`);
    } else io.out(text.trimEnd());
    return 0;
  },
};
