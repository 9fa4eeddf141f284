/**
 * Executable content that starts an asynchronous request (the ixn, billing and parlayx actions):
 * every attribute but `requestid` is a value expression, evaluated when the element runs;
 * `requestid` is a location that receives the request's id, so the chart can match the
 * `<prefix>.<action>.done` / `error.<prefix>.<action>` answer to it.
 */
import type { CodeRef } from '../model/chart.js';
import type { CompileContext } from '../compile/compile-context.js';
import type { ExecContext } from './context.js';
import { attrNode, type XmlElement } from '../parse/xml-tree.js';

export interface RequestAttributes {
  readonly required: readonly string[];
  readonly optional: readonly string[];
  /** Accepted misspellings (alias → proper name), with a warning. */
  readonly aliases?: Readonly<Record<string, string>>;
}

export interface CompiledRequest {
  readonly requestid: CodeRef | null;
  readonly args: readonly { readonly name: string; readonly expr: CodeRef }[];
}

export function compileRequest(el: XmlElement, ctx: CompileContext, attrs: RequestAttributes): CompiledRequest {
  const aliases = attrs.aliases ?? {};
  ctx.allowOnly(el, ['requestid', ...attrs.required, ...attrs.optional, ...Object.keys(aliases)]);
  const args: { name: string; expr: CodeRef }[] = [];
  for (const [alias, proper] of Object.entries(aliases)) {
    const a = attrNode(el, alias);
    if (!a) continue;
    if (attrNode(el, proper)) ctx.sink.error('ORX0107', a.loc, `<${el.name}> may not have both '${proper}' and '${alias}'`);
    else {
      ctx.sink.warning('ORX0401', a.loc, `'${alias}' is accepted as the vendor's spelling of '${proper}'; write '${proper}'`);
      args.push({ name: proper, expr: ctx.code('expr', a.value, a.loc) });
    }
  }
  for (const name of [...attrs.required, ...attrs.optional]) {
    const ref = ctx.codeAttr(el, name, 'expr', attrs.required.includes(name) && !Object.values(aliases).includes(name));
    if (ref) args.push({ name, expr: ref });
  }
  return { requestid: ctx.codeAttr(el, 'requestid', 'location'), args };
}

export interface EvaluatedRequest {
  readonly requestid: string;
  /** The attribute values, as plain data. */
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * Set when an attribute could not be evaluated. It is reported as the request's own failure
   * (error.<prefix>.<action>), so a strategy handles every failure of a request in one place.
   */
  readonly evaluationError: string | null;
}

/** Gives the request its id (assigned to `requestid`) and evaluates its attributes. */
export function evaluateRequest(c: CompiledRequest, ctx: ExecContext, idPrefix: string): EvaluatedRequest {
  const requestid = ctx.uniqueId(idPrefix);
  if (c.requestid) ctx.datamodel.assign(c.requestid, requestid);
  const values: Record<string, unknown> = {};
  let evaluationError: string | null = null;
  for (const { name, expr } of c.args) {
    try {
      values[name] = ctx.datamodel.exportValue(ctx.datamodel.evaluate(expr));
    } catch (err) {
      evaluationError ??= `${name}: ${(err as Error).message}`;
    }
  }
  return { requestid, values, evaluationError };
}
