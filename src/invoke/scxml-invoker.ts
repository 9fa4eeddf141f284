import { fileURLToPath } from 'node:url';
import { EvaluationError } from '../datamodel/datamodel.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import type { CompiledChart } from '../model/chart.js';
import type { Engine } from '../runtime/engine.js';
import type { Invocation, InvokeRequest, Invoker } from '../runtime/invoker.js';
import { childInvocation } from '../runtime/session.js';
import { SCXML_EVENT_PROCESSOR } from '../exec/core-actions.js';

export const SCXML_INVOKE_TYPES = ['scxml', 'http://www.w3.org/TR/scxml/', 'http://www.w3.org/TR/scxml', SCXML_EVENT_PROCESSOR];

/** Invokes another SCXML session of this engine (W3C 6.4): src, srcexpr or inline content. */
export function createScxmlInvoker(engine: Engine): Invoker {
  return {
    types: SCXML_INVOKE_TYPES,
    start(request: InvokeRequest): Invocation {
      const chart = childChart(engine, request);
      const child = engine.start(chart, { data: request.data, parent: { session: request.parent, invokeid: request.invokeid } });
      // The invoked session runs from the moment <invoke> executes (W3C 6.4): a cancellation that
      // follows must find it running, and exit its states.
      child.startNow();
      return childInvocation(engine, child.id);
    },
  };
}

function childChart(engine: Engine, request: InvokeRequest): CompiledChart {
  if (request.chart) return request.chart;
  let result;
  if (request.src) {
    if (request.src.protocol !== 'file:') throw new EvaluationError(`cannot invoke '${request.src.href}': only file: URLs are loaded`);
    result = engine.load(fileURLToPath(request.src));
  } else if (request.content !== undefined && request.content !== null) {
    const xml = typeof request.content === 'string' ? request.content : serializeNode(request.content);
    result = engine.load({ xml, file: `${request.parent.chart.file}#${request.invokeid}`, baseUrl: request.parent.chart.baseUrl });
  } else {
    throw new EvaluationError('<invoke> of type scxml needs src, srcexpr or <content>');
  }
  if (!result.chart) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    throw new EvaluationError(`the invoked chart cannot be loaded: ${errors.join('; ')}`);
  }
  return result.chart;
}

function serializeNode(node: unknown): string {
  const n = node as { documentElement?: unknown; toString(): string };
  return String(n.documentElement ?? n);
}
