import type { Engine, EngineModule } from '../runtime/engine.js';
import { ActionError, runAsyncAction } from '../runtime/async-action.js';
import { parseDuration } from '../exec/duration.js';
import { billingActionDefinitions, type BillingRequest } from './actions.js';
import { BillingError } from './errors.js';
import type { BillingManager } from './manager.js';
import { amountText } from './money.js';
import type { ReservationView } from './types.js';

export interface BillingOptions {
  /** The manager the chart actions call (the same one the ParlayX service uses, if any). */
  readonly manager: BillingManager;
  /** How long an operation may take before it fails with "timeout" (ms, engine clock; default 10 000). */
  readonly requestTimeoutMs?: number;
}

/**
 * The billing actions for charts: `<billing:reserve>`, `charge`, `release`, … call the
 * BillingManager outside the microstep and answer with `billing.<action>.done` or
 * `error.billing.<action>` (`_event.data.error` is the BillingError kind), the asynchronous
 * convention of the ixn module. The caller of every operation is `chart:<chart name>` (the
 * `name` attribute of `<scxml>`, or the session id for a chart without one), so referenceCodes
 * of charts never collide with those of ParlayX applications.
 */
export class BillingModule implements EngineModule {
  readonly name = 'billing';
  private engine!: Engine;
  private readonly timeoutMs: number;

  constructor(private readonly options: BillingOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  get manager(): BillingManager {
    return this.options.manager;
  }

  install(engine: Engine): void {
    this.engine = engine;
    for (const def of billingActionDefinitions()) engine.registerAction(def);
    engine.registerService('billing', this);
  }

  dispatch(request: BillingRequest): void {
    runAsyncAction(this.engine, {
      prefix: 'billing', action: request.spec.element, sessionId: request.sessionId,
      requestid: request.requestid, timeoutMs: this.timeoutMs, data: request.values,
    }, async () => {
      if (request.evaluationError) throw new ActionError('invalid-request', request.evaluationError);
      try {
        return await this.perform(request);
      } catch (err) {
        if (err instanceof BillingError) throw new ActionError(err.kind, err.message);
        throw err;
      }
    });
  }

  private async perform(request: BillingRequest): Promise<Record<string, unknown>> {
    const v = request.values;
    const m = this.manager;
    const caller = request.caller;
    // Without a referencecode a charge is still recorded under one (the request id), unique to
    // this execution; give one to make a re-executed action (after a restart) charge only once.
    const reference = optional(v.referencecode, 'referencecode') ?? request.requestid;
    switch (request.spec.element) {
      case 'reserve': {
        const r = await m.reserveAmount({
          caller, endUserIdentifier: text(v.account, 'account'), amount: amountText(v.amount),
          currency: optional(v.currency, 'currency'), balanceType: optional(v.balancetype, 'balancetype'),
          description: optional(v.description, 'description'), referenceCode: optional(v.referencecode, 'referencecode'),
          expiresInMs: milliseconds(v.expiresin),
        });
        return reservationData(r);
      }
      case 'reserveadditional': {
        const r = await m.reserveAdditionalAmount({
          caller, reservationIdentifier: text(v.reservationid, 'reservationid'), amount: amountText(v.amount),
          referenceCode: optional(v.referencecode, 'referencecode'),
        });
        return reservationData(r);
      }
      case 'charge': {
        const r = await m.chargeReservation({
          caller, reservationIdentifier: text(v.reservationid, 'reservationid'), amount: amountText(v.amount), referenceCode: reference,
          description: optional(v.description, 'description'), code: optional(v.code, 'code'),
        });
        return {
          reservationid: r.reservation.reservationIdentifier, transactionid: r.transactionId, amount: r.amount, currency: r.currency,
          balanceafter: r.balanceAfter, charged: r.reservation.charged, remaining: r.reservation.remaining, referencecode: r.referenceCode,
        };
      }
      case 'release': {
        const r = await m.releaseReservation({
          caller, reservationIdentifier: text(v.reservationid, 'reservationid'), referenceCode: optional(v.referencecode, 'referencecode'),
        });
        return { reservationid: r.reservation.reservationIdentifier, released: r.released, charged: r.reservation.charged, currency: r.currency };
      }
      case 'chargeamount': case 'refund': {
        const req = {
          caller, endUserIdentifier: text(v.account, 'account'), amount: amountText(v.amount), currency: optional(v.currency, 'currency'),
          balanceType: optional(v.balancetype, 'balancetype'), description: optional(v.description, 'description'),
          code: optional(v.code, 'code'), referenceCode: reference,
        };
        const r = request.spec.element === 'chargeamount' ? await m.chargeAmount(req) : await m.refundAmount(req);
        return {
          account: r.endUserIdentifier, balancetype: r.balanceType, transactionid: r.transactionId, amount: r.amount,
          currency: r.currency, balanceafter: r.balanceAfter, referencecode: r.referenceCode,
        };
      }
      case 'balance': {
        const r = await m.getBalance(text(v.account, 'account'), optional(v.balancetype, 'balancetype'));
        return {
          account: r.endUserIdentifier, currency: r.currency,
          balances: r.balances.map((b) => ({ name: b.name, amount: b.amount, reserved: b.reserved, available: b.available, expires: b.expires, expired: b.expired })),
        };
      }
    }
  }
}

function reservationData(r: ReservationView): Record<string, unknown> {
  return {
    reservationid: r.reservationIdentifier, account: r.endUserIdentifier, balancetype: r.balanceType, currency: r.currency,
    reserved: r.reserved, charged: r.charged, remaining: r.remaining, expires: r.expires,
  };
}

/** A chart value used as an identifier: a string, or a number written as one (account="1001"). */
function text(value: unknown, attribute: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new ActionError('invalid-request', `${attribute} must be a string, not ${value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value)}`);
}

function optional(value: unknown, attribute: string): string | undefined {
  return value === undefined || value === null ? undefined : text(value, attribute);
}

/** expiresin: milliseconds, or a time such as "90s" or "5m". */
function milliseconds(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? parseDuration(value) : null;
  if (ms === null || !Number.isSafeInteger(ms) || ms <= 0) {
    throw new ActionError('invalid-request', `expiresin must be a positive number of milliseconds or a time such as '90s', not ${JSON.stringify(value) ?? String(value)}`);
  }
  return ms;
}
