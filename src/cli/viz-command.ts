import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createEngine } from '../create-engine.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import { chartToDot } from '../viz/dot.js';
import { chartToMermaid } from '../viz/mermaid.js';
import { computeHighlight, parseTraceJsonl, TraceParseError, type Highlight } from '../viz/trace-highlight.js';

export const VIZ_FORMATS = ['dot', 'mermaid', 'svg'] as const;
export type VizFormat = (typeof VIZ_FORMATS)[number];

export const VIZ_HELP = `run-scxml viz — a chart as a diagram

Usage:
  run-scxml viz <chart.scxml> [--format dot|mermaid|svg] [--trace <file>] [--output <file>]

Options:
  --format dot|mermaid|svg  Graphviz DOT (default), Mermaid stateDiagram-v2, or SVG (laid out by
                            Graphviz compiled to WebAssembly: no browser, no native Graphviz)
  --trace <file>            a JSONL trace (run-scxml run --trace=<file>): states entered are
                            filled, states active at the end get an orange border, transitions
                            taken are blue with how many times; '-' reads the trace from stdin
  --session <id>            the session of the trace to show (default: the top-level one)
  -o, --output <file>       write the diagram to the file (default: stdout)
  -h, --help                show this help and exit 0

Exit codes: 0 diagram written; 2 chart not loadable (diagnostics on stderr), trace unreadable
or not JSONL, output not writable, or usage error; 1 Graphviz failed.

Examples:
  run-scxml viz examples/queue-with-callback.scxml | dot -Tpng > chart.png
  run-scxml viz chart.scxml --format mermaid > chart.mmd
  run-scxml viz chart.scxml --format svg --output chart.svg
  run-scxml run chart.scxml --clock virtual --trace=run.jsonl
  run-scxml viz chart.scxml --trace run.jsonl --format svg -o run.svg
`;

export const EXIT_VIZ_OK = 0;
export const EXIT_VIZ_RENDER_ERROR = 1;
export const EXIT_VIZ_INPUT_ERROR = 2;

export interface VizOptions {
  readonly chart: string;
  readonly format: VizFormat;
  readonly trace: string | null;
  readonly session: string | null;
  readonly output: string | null;
}

/**
 * `run-scxml viz …`: `argv` is everything after the word `viz`. Writes the diagram to stdout
 * (through `out`, one call) or to --output; messages go to `err`.
 */
export async function vizMain(argv: readonly string[], out: (text: string) => void, err: (line: string) => void): Promise<number> {
  let values: { format?: string; trace?: string; session?: string; output?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        format: { type: 'string', short: 'f' },
        trace: { type: 'string' },
        session: { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    return usage(err, (e as Error).message);
  }
  if (values.help) {
    out(VIZ_HELP.trimEnd());
    return EXIT_VIZ_OK;
  }
  if (positionals.length !== 1) return usage(err, `viz takes exactly one chart, got ${positionals.length}`);
  const format = values.format ?? 'dot';
  if (!(VIZ_FORMATS as readonly string[]).includes(format)) return usage(err, `--format must be one of ${VIZ_FORMATS.join(', ')}, not '${format}'`);
  return vizCommand({
    chart: positionals[0], format: format as VizFormat, trace: values.trace ?? null,
    session: values.session ?? null, output: values.output ?? null,
  }, out, err);
}

function usage(err: (line: string) => void, message: string): number {
  err(`run-scxml viz: ${message}\nTry 'run-scxml viz --help'.`);
  return EXIT_VIZ_INPUT_ERROR;
}

export async function vizCommand(options: VizOptions, out: (text: string) => void, err: (line: string) => void): Promise<number> {
  const { chart, diagnostics } = createEngine().load(options.chart);
  if (!chart) {
    for (const d of diagnostics) err(formatDiagnostic(d));
    err(`run-scxml viz: ${options.chart} cannot be loaded`);
    return EXIT_VIZ_INPUT_ERROR;
  }

  let highlight: Highlight | null = null;
  if (options.trace !== null) {
    const name = options.trace === '-' ? '<stdin>' : options.trace;
    let text: string;
    try {
      text = readFileSync(options.trace === '-' ? 0 : options.trace, 'utf8');
    } catch (e) {
      err(`run-scxml viz: cannot read the trace ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return EXIT_VIZ_INPUT_ERROR;
    }
    try {
      const records = parseTraceJsonl(text, name);
      highlight = computeHighlight(chart, records, options.session !== null ? { session: options.session } : {});
    } catch (e) {
      if (!(e instanceof TraceParseError)) throw e;
      err(`run-scxml viz: the trace is not JSONL: ${e.message}`);
      return EXIT_VIZ_INPUT_ERROR;
    }
    if (options.session !== null && !highlight.entered.size && !highlight.taken.size) {
      err(`warning: the trace has nothing for session '${options.session}'`);
    }
    for (const w of highlight.warnings) err(`warning: ${w}`);
  }

  let text: string;
  switch (options.format) {
    case 'mermaid':
      text = chartToMermaid(chart, { highlight });
      break;
    case 'svg': {
      // Loaded only here: the WebAssembly Graphviz is a few MB of JavaScript.
      const { dotToSvg, GraphvizError } = await import('../viz/svg.js');
      try {
        const result = await dotToSvg(chartToDot(chart, { highlight }));
        for (const w of result.warnings) err(`warning: graphviz: ${w}`);
        text = result.svg;
      } catch (e) {
        if (!(e instanceof GraphvizError)) throw e;
        err(`run-scxml viz: ${e.message}`);
        return EXIT_VIZ_RENDER_ERROR;
      }
      break;
    }
    default:
      text = chartToDot(chart, { highlight });
  }

  if (options.output !== null) {
    try {
      writeFileSync(options.output, text);
    } catch (e) {
      err(`run-scxml viz: cannot write ${options.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return EXIT_VIZ_INPUT_ERROR;
    }
    return EXIT_VIZ_OK;
  }
  out(text.replace(/\n$/, ''));
  return EXIT_VIZ_OK;
}
