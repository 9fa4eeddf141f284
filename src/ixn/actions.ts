import type { ActionDefinition, CodeRef } from '../model/chart.js';
import type { CompileContext } from '../compile/compile-context.js';
import type { ExecContext } from '../exec/context.js';
import { attrNode, type XmlElement } from '../parse/xml-tree.js';
import { IXN_NS } from './namespace.js';
import type { IxnModule, IxnRequest } from './module.js';

/**
 * One ixn action: its element, the event names it answers with, its attributes. Every attribute
 * but requestid is a value expression, as in ORS (`resource="'9000'"`, `serviceid="1234"`).
 */
export interface IxnActionSpec {
  readonly element: string;
  /** `<prefix>.<action>.done` / `error.<prefix>.<action>`. */
  readonly prefix: 'voice' | 'interaction';
  readonly action: string;
  readonly required: readonly string[];
  readonly optional: readonly string[];
  /** Accepted misspellings (the vendor's own documentation spells `extentions`), with a warning. */
  readonly aliases?: Readonly<Record<string, string>>;
}

export const IXN_ACTIONS: readonly IxnActionSpec[] = [
  { element: 'privateservice', prefix: 'voice', action: 'privateservice', required: ['serviceid', 'interactionid'],
    optional: ['resource', 'udata', 'reasons', 'extensions', 'hints'], aliases: { extentions: 'extensions' } },
  { element: 'createcall', prefix: 'voice', action: 'createcall', required: ['from', 'to'], optional: ['type', 'udata', 'hints'] },
  { element: 'redirect', prefix: 'interaction', action: 'redirect', required: ['interactionid', 'to'], optional: ['from', 'detach', 'hints'] },
  { element: 'terminate', prefix: 'interaction', action: 'terminate', required: ['interactionid'], optional: ['reason', 'resource', 'hints'] },
  { element: 'attach', prefix: 'interaction', action: 'attach', required: ['interactionid'], optional: ['hints'] },
  { element: 'detach', prefix: 'interaction', action: 'detach', required: ['interactionid'], optional: ['hints'] },
  { element: 'hold', prefix: 'voice', action: 'hold', required: ['interactionid'], optional: ['resource', 'hints'] },
  { element: 'retrieve', prefix: 'voice', action: 'retrieve', required: ['interactionid'], optional: ['resource', 'hints'] },
  { element: 'transfer', prefix: 'voice', action: 'transfer', required: ['interactionid', 'to'], optional: ['resource', 'hints'] },
  { element: 'addparty', prefix: 'voice', action: 'addparty', required: ['interactionid', 'dn'], optional: ['hints'] },
  { element: 'deleteparty', prefix: 'voice', action: 'deleteparty', required: ['interactionid', 'dn'], optional: ['hints'] },
];

interface CompiledIxnAction {
  readonly spec: IxnActionSpec;
  readonly requestid: CodeRef | null;
  readonly args: readonly { readonly name: string; readonly expr: CodeRef }[];
}

function compileIxnAction(spec: IxnActionSpec, el: XmlElement, ctx: CompileContext): CompiledIxnAction {
  const aliases = spec.aliases ?? {};
  ctx.allowOnly(el, ['requestid', ...spec.required, ...spec.optional, ...Object.keys(aliases)]);
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
  for (const name of [...spec.required, ...spec.optional]) {
    const ref = ctx.codeAttr(el, name, 'expr', spec.required.includes(name) && !Object.values(aliases).includes(name));
    if (ref) args.push({ name, expr: ref });
  }
  return { spec, requestid: ctx.codeAttr(el, 'requestid', 'location'), args };
}

function executeIxnAction(c: CompiledIxnAction, ctx: ExecContext): void {
  const requestid = ctx.uniqueId('req');
  if (c.requestid) ctx.datamodel.assign(c.requestid, requestid);
  const module = ctx.service<IxnModule>('ixn');
  if (!module) throw new Error('the interaction module is not installed on this engine');
  // Attribute values are evaluated now; a failure is reported like any other failure of the
  // request (error.<prefix>.<action>), so a strategy handles every failure in one place.
  const values: Record<string, unknown> = {};
  let evaluationError: string | null = null;
  for (const { name, expr } of c.args) {
    try {
      values[name] = ctx.datamodel.exportValue(ctx.datamodel.evaluate(expr));
    } catch (err) {
      evaluationError ??= `${name}: ${(err as Error).message}`;
    }
  }
  const request: IxnRequest = { spec: c.spec, sessionId: ctx.sessionId, requestid, values, evaluationError };
  module.dispatch(request);
}

export function ixnActionDefinitions(): ActionDefinition<CompiledIxnAction>[] {
  return IXN_ACTIONS.map((spec) => ({
    namespace: IXN_NS,
    name: spec.element,
    compile: (el, ctx) => compileIxnAction(spec, el, ctx),
    execute: (c, ctx) => executeIxnAction(c, ctx),
  }));
}
