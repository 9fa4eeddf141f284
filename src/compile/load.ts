import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { pathToFileURL, fileURLToPath } from 'node:url';
import path from 'node:path';
import type { ActionDefinition, CompiledChart } from '../model/chart.js';
import { DiagnosticSink, hasErrors, type Diagnostic } from '../model/diagnostics.js';
import type { DataModelDefinition } from '../datamodel/datamodel.js';
import { parseXmlTree, type XmlElement } from '../parse/xml-tree.js';
import { buildChart, type BuildEnvironment } from './build-chart.js';

export interface LoaderRegistry {
  readonly actions: ReadonlyMap<string, ActionDefinition<unknown>>;
  readonly datamodels: ReadonlyMap<string, DataModelDefinition>;
}

export type ChartSource =
  | { readonly path: string }
  | { readonly xml: string; readonly file?: string; readonly baseUrl?: URL };

export interface LoadResult {
  /** The chart, or null when it has errors (the diagnostics say why). */
  readonly chart: CompiledChart | null;
  readonly diagnostics: readonly Diagnostic[];
}

/** Reads a resource a chart refers to. Only file: URLs: the engine never goes to the network to load. */
/** The largest resource (chart, script, data) the loader reads. */
export const MAX_RESOURCE_BYTES = 16 * 1024 * 1024;

/**
 * Reads a resource a chart refers to. Only file: URLs (the engine never goes to the network to
 * load), and only regular files of bounded size: a FIFO or a device would block or never end.
 */
export function readResource(url: URL): string {
  if (url.protocol !== 'file:') throw new Error(`only file: URLs can be loaded, not ${url.protocol}`);
  const file = fileURLToPath(url);
  const info = statSync(file);
  if (!info.isFile()) throw new Error(`${file} is not a regular file`);
  if (info.size > MAX_RESOURCE_BYTES) throw new Error(`${file} is larger than ${MAX_RESOURCE_BYTES} bytes`);
  return readFileSync(file, 'utf8');
}

/** Parse, build and validate a chart, collecting every diagnostic. */
export function loadChart(source: ChartSource, registry: LoaderRegistry): LoadResult {
  const sink = new DiagnosticSink();
  let text: string;
  let file: string;
  let baseUrl: URL;
  if ('path' in source) {
    file = source.path;
    baseUrl = pathToFileURL(path.resolve(source.path));
    try {
      text = readResource(pathToFileURL(path.resolve(source.path)));
    } catch (err) {
      sink.error('ORX0001', { file, line: 1, column: 1 }, `cannot read the chart: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return { chart: null, diagnostics: sink.items };
    }
  } else {
    text = source.xml;
    file = source.file ?? '<inline>';
    baseUrl = source.baseUrl ?? pathToFileURL(path.resolve(source.file ?? 'inline.scxml'));
  }
  return compileText(text, file, baseUrl, registry, sink);
}

function compileText(text: string, file: string, baseUrl: URL, registry: LoaderRegistry, sink: DiagnosticSink): LoadResult {
  const root = parseXmlTree(text, file, sink);
  if (!root) return { chart: null, diagnostics: sink.sorted() };
  const env: BuildEnvironment = {
    sink, actions: registry.actions, datamodels: registry.datamodels, readResource,
    fingerprint: createHash('sha256').update(text).digest('hex'),
    compileEmbedded: (el: XmlElement, base: URL, s: DiagnosticSink) => buildChart(el, file, base, { ...env, sink: s }),
  };
  const chart = buildChart(root, file, baseUrl, env);
  const diagnostics = sink.sorted();
  return { chart: hasErrors(diagnostics) ? null : chart, diagnostics };
}
