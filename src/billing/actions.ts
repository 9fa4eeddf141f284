import type { ActionDefinition, CodeRef } from '../model/chart.js';
import type { CompileContext } from '../compile/compile-context.js';
import type { ExecContext } from '../exec/context.js';
import type { XmlElement } from '../parse/xml-tree.js';
import { BILLING_NS } from './namespace.js';
import type { BillingModule } from './module.js';

/**
 * One billing action: its element (also the `<action>` of `billing.<action>.done` /
 * `error.billing.<action>`) and its attributes. Every attribute but requestid is a value
 * expression (`account="subscriber"`, `amount="'2.50'"`), as in the ixn module.
 */
export interface BillingActionSpec {
  readonly element: 'reserve' | 'reserveadditional' | 'charge' | 'release' | 'chargeamount' | 'refund' | 'balance';
  readonly required: readonly string[];
  readonly optional: readonly string[];
}

export const BILLING_ACTIONS: readonly BillingActionSpec[] = [
  { element: 'reserve', required: ['account', 'amount'], optional: ['currency', 'balancetype', 'description', 'referencecode', 'expiresin'] },
  { element: 'reserveadditional', required: ['reservationid', 'amount'], optional: ['referencecode'] },
  { element: 'charge', required: ['reservationid', 'amount'], optional: ['referencecode', 'description', 'code'] },
  { element: 'release', required: ['reservationid'], optional: ['referencecode'] },
  { element: 'chargeamount', required: ['account', 'amount'], optional: ['currency', 'balancetype', 'description', 'code', 'referencecode'] },
  { element: 'refund', required: ['account', 'amount'], optional: ['currency', 'balancetype', 'description', 'code', 'referencecode'] },
  { element: 'balance', required: ['account'], optional: ['balancetype'] },
];

/** A billing action as executed: its attribute values (plain data) and the request id it was given. */
export interface BillingRequest {
  readonly spec: BillingActionSpec;
  readonly sessionId: string;
  /** `chart:<chart name>`, or `chart:<session id>` for a chart without a name. */
  readonly caller: string;
  readonly requestid: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** Set when an attribute could not be evaluated: the request fails with "invalid-request". */
  readonly evaluationError: string | null;
}

interface CompiledBillingAction {
  readonly spec: BillingActionSpec;
  readonly requestid: CodeRef | null;
  readonly args: readonly { readonly name: string; readonly expr: CodeRef }[];
}

function compileBillingAction(spec: BillingActionSpec, el: XmlElement, ctx: CompileContext): CompiledBillingAction {
  ctx.allowOnly(el, ['requestid', ...spec.required, ...spec.optional]);
  const args: { name: string; expr: CodeRef }[] = [];
  for (const name of [...spec.required, ...spec.optional]) {
    const ref = ctx.codeAttr(el, name, 'expr', spec.required.includes(name));
    if (ref) args.push({ name, expr: ref });
  }
  return { spec, requestid: ctx.codeAttr(el, 'requestid', 'location'), args };
}

function executeBillingAction(c: CompiledBillingAction, ctx: ExecContext): void {
  const requestid = ctx.uniqueId('bill');
  if (c.requestid) ctx.datamodel.assign(c.requestid, requestid);
  const module = ctx.service<BillingModule>('billing');
  if (!module) throw new Error('the billing module is not installed on this engine (createEngine({ billing: { manager } }))');
  // Attribute values are evaluated now; a failure is reported like any other failure of the
  // request (error.billing.<action>), so a strategy handles every failure in one place.
  const values: Record<string, unknown> = {};
  let evaluationError: string | null = null;
  for (const { name, expr } of c.args) {
    try {
      values[name] = ctx.datamodel.exportValue(ctx.datamodel.evaluate(expr));
    } catch (err) {
      evaluationError ??= `${name}: ${(err as Error).message}`;
    }
  }
  const caller = `chart:${ctx.chart.name ?? ctx.sessionId}`;
  module.dispatch({ spec: c.spec, sessionId: ctx.sessionId, caller, requestid, values, evaluationError });
}

export function billingActionDefinitions(): ActionDefinition<CompiledBillingAction>[] {
  return BILLING_ACTIONS.map((spec) => ({
    namespace: BILLING_NS,
    name: spec.element,
    compile: (el, ctx) => compileBillingAction(spec, el, ctx),
    execute: (c, ctx) => executeBillingAction(c, ctx),
  }));
}
