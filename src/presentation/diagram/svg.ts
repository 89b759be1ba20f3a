/**
 * SVG from DOT, in-process: Graphviz compiled to WebAssembly (@viz-js/viz, which embeds its wasm — nothing is
 * downloaded at run time and no system Graphviz is needed).
 */
import type { Viz } from '@viz-js/viz';

let viz: Promise<Viz> | undefined;

async function instance(): Promise<Viz> {
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  return viz;
}

export class DotError extends Error {
  constructor(readonly errors: string[]) {
    super(`Graphviz could not lay out the graph: ${errors.join('; ')}`);
    this.name = 'DotError';
  }
}

/** Lay out DOT and return the SVG document (throws DotError when Graphviz reports an error). */
export async function dotToSvg(dot: string): Promise<string> {
  const v = await instance();
  const r = v.render(dot, { format: 'svg' });
  const errors = r.errors.filter((e) => e.level === 'error').map((e) => e.message.trim());
  if (r.status !== 'success' || errors.length) throw new DotError(errors.length ? errors : ['render failed']);
  return r.output;
}

/** The SVG element alone (no XML prolog or DOCTYPE), for inlining in HTML. */
export function inlineSvg(svg: string): string {
  const i = svg.indexOf('<svg');
  return i >= 0 ? svg.slice(i) : svg;
}

/** Graphviz version, for reports. */
export async function graphvizVersion(): Promise<string> {
  return (await instance()).graphvizVersion;
}
