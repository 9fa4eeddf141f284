import type { ActionDefinition } from '../model/chart.js';
import type { ExecContext } from '../exec/context.js';
import { compileRequest, evaluateRequest, type CompiledRequest } from '../exec/request-action.js';
import { IXN_NS } from './namespace.js';
import type { IxnModule } from './module.js';

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
  { element: 'associate', prefix: 'interaction', action: 'associate', required: ['interactionid', 'sessionid'], optional: ['hints'] },
  { element: 'hold', prefix: 'voice', action: 'hold', required: ['interactionid'], optional: ['resource', 'hints'] },
  { element: 'retrieve', prefix: 'voice', action: 'retrieve', required: ['interactionid'], optional: ['resource', 'hints'] },
  { element: 'transfer', prefix: 'voice', action: 'transfer', required: ['interactionid', 'to'], optional: ['resource', 'hints'] },
  { element: 'addparty', prefix: 'voice', action: 'addparty', required: ['interactionid', 'dn'], optional: ['hints'] },
  { element: 'deleteparty', prefix: 'voice', action: 'deleteparty', required: ['interactionid', 'dn'], optional: ['hints'] },
];

interface CompiledIxnAction extends CompiledRequest {
  readonly spec: IxnActionSpec;
}

function executeIxnAction(c: CompiledIxnAction, ctx: ExecContext): void {
  const { requestid, values, evaluationError } = evaluateRequest(c, ctx, 'req');
  const module = ctx.service<IxnModule>('ixn');
  if (!module) throw new Error('the interaction module is not installed on this engine');
  module.dispatch({ spec: c.spec, sessionId: ctx.sessionId, requestid, values, evaluationError });
}

export function ixnActionDefinitions(): ActionDefinition<CompiledIxnAction>[] {
  return IXN_ACTIONS.map((spec) => ({
    namespace: IXN_NS,
    name: spec.element,
    compile: (el, ctx) => ({ spec, ...compileRequest(el, ctx, spec) }),
    execute: (c, ctx) => executeIxnAction(c, ctx),
  }));
}
