import type { ActionDefinition } from '../model/chart.js';
import type { ExecContext } from '../exec/context.js';
import { compileRequest, evaluateRequest, type CompiledRequest } from '../exec/request-action.js';
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

interface CompiledBillingAction extends CompiledRequest {
  readonly spec: BillingActionSpec;
}

function executeBillingAction(c: CompiledBillingAction, ctx: ExecContext): void {
  const { requestid, values, evaluationError } = evaluateRequest(c, ctx, 'bill');
  const module = ctx.service<BillingModule>('billing');
  if (!module) throw new Error('the billing module is not installed on this engine (createEngine({ billing: { manager } }))');
  const caller = `chart:${ctx.chart.name ?? ctx.sessionId}`;
  module.dispatch({ spec: c.spec, sessionId: ctx.sessionId, caller, requestid, values, evaluationError });
}

export function billingActionDefinitions(): ActionDefinition<CompiledBillingAction>[] {
  return BILLING_ACTIONS.map((spec) => ({
    namespace: BILLING_NS,
    name: spec.element,
    compile: (el, ctx) => ({ spec, ...compileRequest(el, ctx, spec) }),
    execute: (c, ctx) => executeBillingAction(c, ctx),
  }));
}
