import type { ContentDecl, InlineValue, ParamDecl } from '../model/chart.js';
import type { SessionDataModel } from '../datamodel/datamodel.js';
import { EvaluationError } from '../datamodel/datamodel.js';

/** The value of <content>/<data> content: expr, or inline JSON, XML (as a DOM) or text. */
export function evaluateContent(content: ContentDecl, dm: SessionDataModel): unknown {
  if (content.expr) return dm.evaluate(content.expr);
  return content.inline ? inlineToValue(content.inline, dm) : undefined;
}

export function inlineToValue(inline: InlineValue, dm: SessionDataModel): unknown {
  switch (inline.kind) {
    case 'json': return dm.importValue(inline.value);
    case 'xml': return dm.xmlValue(inline.xml);
    case 'text': return inline.text;
  }
}

/** <param name expr|location>: evaluated in document order, duplicates kept. */
export function evaluateParams(params: readonly ParamDecl[], dm: SessionDataModel): [string, unknown][] {
  return params.map((p): [string, unknown] => {
    if (p.expr) return [p.name, dm.evaluate(p.expr)];
    if (p.location) return [p.name, dm.evaluate(p.location)];
    throw new EvaluationError(`<param name="${p.name}"> has neither expr nor location`);
  });
}

/** Folds name/value pairs into event data; a repeated name keeps its last value. */
export function pairsToObject(pairs: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of pairs) out[k] = v;
  return out;
}

/**
 * Classifies inline content the way W3C B.2 asks of an ECMAScript datamodel: JSON becomes a
 * value, XML a DOM, anything else a string with its whitespace normalised.
 */
export function classifyText(text: string): InlineValue {
  const trimmed = text.trim();
  if (trimmed !== '') {
    try {
      return { kind: 'json', value: JSON.parse(trimmed) };
    } catch {
      /* not JSON */
    }
  }
  return { kind: 'text', text: trimmed.replace(/\s+/g, ' ') };
}
