/**
 * DOT to SVG through Graphviz compiled to WebAssembly (@viz-js/viz). The wasm is embedded in
 * the npm package itself, so nothing is downloaded at run time and no browser or native
 * Graphviz is needed. The module is imported lazily: only `--format svg` pays for loading it.
 */

interface VizInstance {
  render(input: string, options?: { format?: string; engine?: string }): {
    status: 'success' | 'failure';
    output?: string;
    errors: { level?: 'error' | 'warning'; message: string }[];
  };
  readonly graphvizVersion: string;
}

let instancePromise: Promise<VizInstance> | null = null;

/** The shared Graphviz instance (loaded on first use). */
export function graphviz(): Promise<VizInstance> {
  instancePromise ??= import('@viz-js/viz').then((m) => m.instance() as Promise<VizInstance>);
  return instancePromise;
}

export interface SvgResult {
  readonly svg: string;
  /** Graphviz's warnings (a correct diagram from chartToDot has none). */
  readonly warnings: readonly string[];
}

/** A DOT document that Graphviz refused: the message is Graphviz's own. */
export class GraphvizError extends Error {
  override name = 'GraphvizError';
}

/** Lays out and renders DOT text as an SVG document (engine `dot`). */
export async function dotToSvg(dot: string): Promise<SvgResult> {
  const viz = await graphviz();
  const result = viz.render(dot, { format: 'svg', engine: 'dot' });
  // Without fonts, Graphviz estimates text widths and says so for every non-ASCII character:
  // noise for a diagram, so that one is dropped.
  const warnings = result.errors
    .filter((e) => e.level !== 'error' && !/no value for width of non-ASCII character/.test(e.message))
    .map((e) => e.message.trim());
  if (result.status !== 'success' || result.output === undefined) {
    const errors = result.errors.filter((e) => e.level === 'error').map((e) => e.message.trim());
    throw new GraphvizError(`Graphviz could not render the diagram: ${(errors.length ? errors : warnings).join('; ') || 'unknown error'}`);
  }
  return { svg: result.output, warnings };
}
