/**
 * ParlayX Payment (amount and reserved charging) and Account Management on the Billing Manager.
 * The authenticated account is the billing caller (its referenceCodes and reservations are its
 * own); which end users' money it may move is its `billing` setting. Billing failures become
 * ParlayX faults here, and nowhere else.
 */
import { BillingError, type BillingErrorKind } from '../billing/errors.js';
import type { BillingManager } from '../billing/manager.js';
import { ownsAddress, type Account } from './accounts.js';
import { ParlayxFault, type FaultId } from './faults.js';
import type { ChargingInformation } from './third-party-call.js';

/** Which fault each billing failure is; the first variable names the message part where that helps. */
const FAULT_OF: Record<BillingErrorKind, FaultId> = {
  'invalid-request': 'SVC0002',
  'invalid-amount': 'SVC0007',
  'unknown-currency': 'SVC0007',
  'currency-mismatch': 'SVC0007',
  'amount-overflow': 'SVC0270',
  'account-exists': 'SVC0002',
  'unknown-account': 'SVC0002',
  'unknown-balance': 'SVC0002',
  'balance-exists': 'SVC0002',
  'insufficient-funds': 'POL1001',
  'balance-expired': 'POL1002',
  'unknown-reservation': 'SVC0002',
  'reservation-expired': 'SVC0002',
  'reservation-closed': 'SVC0002',
  'reservation-exceeded': 'SVC0270',
  'unknown-voucher': 'SVC0002',
  'voucher-exists': 'SVC0002',
  'voucher-used': 'SVC0002',
  'voucher-pin': 'SVC0002',
  'reference-conflict': 'SVC0002',
  'split-percentages': 'SVC0002',
};

/** Runs a billing operation; its failures as ParlayX faults (anything unexpected: the charge was not applied). */
async function billing<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (err instanceof BillingError) {
      const id = FAULT_OF[err.kind];
      // SVC0007 has no variables in its text; the others say what went wrong.
      throw new ParlayxFault(id, id === 'SVC0007' ? [] : [`${err.kind}: ${err.message}`]);
    }
    if (err instanceof ParlayxFault) throw err;
    throw new ParlayxFault('SVC0270', [`the charge was not applied (${(err as Error).message})`]);
  }
}

interface ChargeInput {
  readonly endUserIdentifier: string;
  readonly charge: ChargingInformation;
  readonly referenceCode: string;
  readonly balanceType?: string;
}

export class PaymentService {
  constructor(private readonly manager: BillingManager) {}

  /** May this account move this end user's money? */
  private allow(account: Account, endUser: string): void {
    const mode = account.settings.billing;
    if (mode === 'any' || (mode === 'own' && ownsAddress(account, endUser))) return;
    throw new ParlayxFault('POL0001', [mode === 'none' ? `account '${account.name}' may not use the payment services` : `end user '${endUser}' is not one of account '${account.name}''s addresses`]);
  }

  private static amountOf(charge: ChargingInformation): string {
    // Charging by tariff code is not supported: an amount must be given.
    if (charge.amount === undefined) throw new ParlayxFault('SVC0007');
    return charge.amount;
  }

  private amountRequest(account: Account, i: ChargeInput) {
    this.allow(account, i.endUserIdentifier);
    return {
      caller: account.name, endUserIdentifier: i.endUserIdentifier, amount: PaymentService.amountOf(i.charge), currency: i.charge.currency,
      balanceType: i.balanceType, description: i.charge.description, code: i.charge.code, referenceCode: i.referenceCode,
    };
  }

  chargeAmount = (account: Account, i: ChargeInput) => billing(() => this.manager.chargeAmount(this.amountRequest(account, i))).then(() => undefined);
  refundAmount = (account: Account, i: ChargeInput) => billing(() => this.manager.refundAmount(this.amountRequest(account, i))).then(() => undefined);

  chargeSplitAmount = (account: Account, i: { endUsers: { endUserIdentifier: string; percentage: number }[]; charge: ChargingInformation; referenceCode: string; balanceType?: string }) => {
    for (const u of i.endUsers) this.allow(account, u.endUserIdentifier);
    return billing(() => this.manager.chargeSplitAmount({
      caller: account.name, endUsers: i.endUsers.map((u) => ({ endUserIdentifier: u.endUserIdentifier, percentage: u.percentage })),
      amount: PaymentService.amountOf(i.charge), currency: i.charge.currency, balanceType: i.balanceType,
      description: i.charge.description, code: i.charge.code, referenceCode: i.referenceCode,
    })).then(() => undefined);
  };

  reserveAmount = (account: Account, i: { endUserIdentifier: string; charge: ChargingInformation; balanceType?: string }) => {
    this.allow(account, i.endUserIdentifier);
    return billing(() => this.manager.reserveAmount({
      caller: account.name, endUserIdentifier: i.endUserIdentifier, amount: PaymentService.amountOf(i.charge), currency: i.charge.currency,
      balanceType: i.balanceType, description: i.charge.description,
    })).then((r) => r.reservationIdentifier);
  };

  reserveAdditionalAmount = (account: Account, i: { reservationIdentifier: string; charge: ChargingInformation }) =>
    billing(() => this.manager.reserveAdditionalAmount({ caller: account.name, reservationIdentifier: i.reservationIdentifier, amount: PaymentService.amountOf(i.charge) })).then(() => undefined);

  chargeReservation = (account: Account, i: { reservationIdentifier: string; charge: ChargingInformation; referenceCode: string }) =>
    billing(() => this.manager.chargeReservation({
      caller: account.name, reservationIdentifier: i.reservationIdentifier, amount: PaymentService.amountOf(i.charge),
      description: i.charge.description, code: i.charge.code, referenceCode: i.referenceCode,
    })).then(() => undefined);

  releaseReservation = (account: Account, i: { reservationIdentifier: string }) =>
    billing(() => this.manager.releaseReservation({ caller: account.name, reservationIdentifier: i.reservationIdentifier })).then(() => undefined);

  /* ---------- Account Management ---------- */

  /** Balance: what can be spent now (reserved credit is not). */
  getBalance = async (account: Account, i: { endUserIdentifier: string }) => {
    this.allow(account, i.endUserIdentifier);
    const r = await billing(() => this.manager.getBalance(i.endUserIdentifier));
    return r.balances.map((b) => ({ balanceType: b.name, amount: b.available }));
  };

  getCreditExpiryDate = async (account: Account, i: { endUserIdentifier: string }) => {
    this.allow(account, i.endUserIdentifier);
    const r = await billing(() => this.manager.getBalance(i.endUserIdentifier));
    return r.balances.map((b) => ({ balanceType: b.name, date: b.expires ?? undefined }));
  };

  getBalanceTypes = async (account: Account, i: { endUserIdentifier: string }) => {
    this.allow(account, i.endUserIdentifier);
    return billing(() => this.manager.getBalanceTypes(i.endUserIdentifier));
  };

  getHistory = async (account: Account, i: { endUserIdentifier: string; date?: string; maxEntries?: number }) => {
    this.allow(account, i.endUserIdentifier);
    if (i.maxEntries !== undefined && i.maxEntries < 1) throw new ParlayxFault('SVC0002', [`maxEntries: must be at least 1, not ${i.maxEntries}`]);
    const entries = await billing(() => this.manager.getHistory(i.endUserIdentifier, { since: i.date === undefined ? undefined : new Date(i.date), maxEntries: i.maxEntries }));
    return entries.map((e) => ({
      transactionDate: e.date,
      transactionDetails: [
        `${e.kind} ${e.amount} ${e.currency}`, `balance "${e.balanceType}" ${e.balanceAfter}`,
        e.referenceCode ? `reference ${e.referenceCode}` : '', e.description ?? '',
      ].filter(Boolean).join('; '),
    }));
  };

  balanceUpdate = (account: Account, i: { endUserIdentifier: string; referenceCode: string; balanceType: string; amount: string; period?: number }) => {
    this.allow(account, i.endUserIdentifier);
    return billing(() => this.manager.balanceUpdate({
      caller: account.name, endUserIdentifier: i.endUserIdentifier, referenceCode: i.referenceCode, balanceType: i.balanceType, amount: i.amount, periodDays: i.period,
    })).then(() => undefined);
  };

  voucherUpdate = (account: Account, i: { endUserIdentifier: string; referenceCode: string; voucherIdentifier: string; voucherPin?: string }) => {
    this.allow(account, i.endUserIdentifier);
    return billing(() => this.manager.voucherUpdate({
      caller: account.name, endUserIdentifier: i.endUserIdentifier, referenceCode: i.referenceCode, voucherIdentifier: i.voucherIdentifier, voucherPin: i.voucherPin,
    })).then(() => undefined);
  };
}
