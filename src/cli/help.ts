/** `--help` text, rendered from a command's declarations: synopsis, every option with its default, exit statuses. */
import { COMMON_OPTIONS, type OptionSpec, type OptionSpecs } from './args.ts';
import type { Command } from './command.ts';

function left(name: string, s: OptionSpec): string {
  const short = s.short ? `-${s.short}, ` : '    ';
  return `${short}--${name}${s.type === 'string' ? ` ${s.value}` : ''}`;
}

function defaultOf(s: OptionSpec): string {
  if (s.type === 'boolean') return 'off';
  if ('multiple' in s) return s.defaultText ?? 'none';
  return s.default !== undefined ? s.default : (s.defaultText ?? 'none');
}

function describe(s: OptionSpec): string {
  const repeat = s.type === 'string' && 'multiple' in s ? '; repeatable' : '';
  const choices = s.type === 'string' && 'choices' in s && s.choices ? `; one of ${s.choices.join(', ')}` : '';
  return `${s.description}${choices}${repeat} (default: ${defaultOf(s)})`;
}

/** Words into lines of at most `width` characters (a longer word stands alone). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Help is laid out for this many columns, whatever the terminal: it is read in pipes and pagers too. */
const COLUMNS = 100;

export function optionLines(options: OptionSpecs): string[] {
  const rows = Object.entries(options).map(([name, s]) => [left(name, s), describe(s)] as const);
  const width = Math.min(26, Math.max(...rows.map(([l]) => l.length)));
  const indent = ' '.repeat(width + 4);
  return rows.map(([l, d]) => {
    const text = wrap(d, COLUMNS - indent.length);
    const first = l.length > width ? [`  ${l}`, `${indent}${text[0] ?? ''}`] : [`  ${l.padEnd(width)}  ${text[0] ?? ''}`];
    return [...first, ...text.slice(1).map((t) => `${indent}${t}`)].join('\n');
  });
}

export function renderCommandHelp(c: Command): string {
  const synopsis = c.usage.startsWith('gmem-spec ') ? c.usage : `gmem-spec ${c.name} ${c.usage}`;
  const lines = [...wrap(`gmem-spec ${c.name}: ${c.summary}`, COLUMNS), '', `usage: ${synopsis}`];
  if (c.options) {
    lines.push('', 'options:', ...optionLines({ ...c.options, ...COMMON_OPTIONS }));
  }
  for (const n of c.notes ?? []) lines.push('', ...wrap(n, COLUMNS));
  if (c.exitCodes) {
    lines.push('', 'exit status:');
    for (const [code, says] of Object.entries(c.exitCodes).sort((a, b) => Number(a[0]) - Number(b[0]))) {
      const text = wrap(says, COLUMNS - 7);
      lines.push(`  ${code.padStart(3)}  ${text[0] ?? ''}`, ...text.slice(1).map((t) => `       ${t}`));
    }
  }
  return lines.join('\n');
}

export function renderGlobalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'gmem-spec: an executable specification of Linux KVM guest_memfd',
    '',
    'usage: gmem-spec COMMAND [options] [arguments]',
    "       gmem-spec help COMMAND     (or gmem-spec COMMAND --help): the command's options, defaults and exit statuses",
    '       gmem-spec --version        (or -V, or gmem-spec version)',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Set GMEM_SPEC_DEBUG=1 to see the stack trace of an internal error.',
  ].join('\n');
}
