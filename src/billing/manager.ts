import { createHash, randomUUID } from 'node:crypto';
import { BillingError } from './errors.js';
import { canonicalDecimal, fitsInt64, formatAmount, normalizeCurrency, parseAmount } from './money.js';
import { formatPercent, HUNDRED_PERCENT, parsePercentage, splitAmount } from './split.js';
import type { AccountRow, AuditReport, BalanceRow, BillingStore, BillingTransaction, JournalKind, ReservationRow } from './store.js';
import type {
  AccountSummary, AccountView, AmountRequest, AmountResult, BalanceResult, BalanceUpdateRequest, BalanceUpdateResult, BalanceView,
  ChargeReservationRequest, ChargeReservationResult, CreateAccountOptions, CreditExpiry, HistoryEntry, HistoryOptions,
  ProvisionVoucherRequest, ReleaseRequest, ReleaseResult, ReservationView, ReserveAdditionalRequest, ReserveRequest, SplitRequest,
  SplitResult, VoucherUpdateRequest, VoucherUpdateResult, VoucherView,
} from './types.js';
import {
  balanceName, canonicalJson, optionalId, optionalInteger, optionalText, requiredId, timeValue,
} from './validate.js';
import { hashPin, pinMatches } from './voucher-pin.js';

const DAY_MS = 86_400_000;
export const DEFAULT_RESERVATION_MS = 30 * 60_000;
export const MAX_RESERVATION_MS = 30 * DAY_MS;
export const DEFAULT_HISTORY_ENTRIES = 100;
export const MAX_HISTORY_ENTRIES = 10_000;
/** Longest credit validity a balance update or a voucher may grant (100 years). */
export const MAX_PERIOD_DAYS = 36_500;
export const MAX_SPLIT_PAYERS = 100;

export interface BillingManagerOptions {
  readonly store: BillingStore;
  /** The clock (epoch ms); tests move it to expire credit and reservations. Default Date.now. */
  readonly now?: () => number;
  /** Identifiers of new reservations. Default `res-<uuid>`. */
  readonly newReservationId?: () => string;
  /** How long a reservation lives when the request does not say (default 30 minutes). */
  readonly defaultReservationMs?: number;
}

/** An account as one transaction sees it: balances by name, and what live reservations hold of each. */
interface LoadedAccount {
  readonly account: AccountRow;
  readonly balances: Map<string, BalanceRow>;
  readonly held: Map<string, bigint>;
}

interface Posting {
  readonly caller: string | null;
  readonly reference: string | null;
  readonly reservation?: string | null;
  readonly description?: string | null;
  readonly code?: string | null;
  /** New expiry of the balance (default: unchanged). */
  readonly expires?: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The billing core: accounts with named balances, charges and refunds, split charges,
 * reservations, balance updates, vouchers and the history, over a BillingStore. Every operation
 * is one store transaction. A mutating operation with a referenceCode is applied once per
 * (caller, operation, referenceCode): a retry with the same parameters gets the stored result
 * back and changes nothing; with other parameters it fails with 'reference-conflict'. The
 * check, the money movement and the record of the result are written in the same transaction,
 * so a crash leaves either all of them or none. Failures are never recorded: a request that
 * failed (insufficient funds, say) may be retried and succeed later.
 */
export class BillingManager {
  readonly store: BillingStore;
  private readonly clock: () => number;
  private readonly newReservationId: () => string;
  private readonly defaultReservationMs: number;

  constructor(options: BillingManagerOptions) {
    this.store = options.store;
    this.clock = options.now ?? Date.now;
    this.newReservationId = options.newReservationId ?? (() => `res-${randomUUID()}`);
    this.defaultReservationMs = options.defaultReservationMs ?? DEFAULT_RESERVATION_MS;
  }

  /** The manager's clock, in epoch milliseconds. */
  now(): number {
    const t = this.clock();
    if (!Number.isFinite(t)) throw new Error(`billing: the clock returned ${t}, not a time in milliseconds`);
    return Math.floor(t);
  }

  /* ---------- accounts ---------- */

  async createAccount(endUserIdentifier: string, options: CreateAccountOptions): Promise<AccountView> {
    const id = requiredId('endUserIdentifier', endUserIdentifier);
    const currency = normalizeCurrency(options?.currency);
    const names = [''];
    for (const raw of options.balances ?? []) {
      const name = balanceName(raw, 'balances');
      if (name === '') continue;
      if (names.includes(name)) throw new BillingError('invalid-request', `balance '${name}' is named twice`, ['balances', name]);
      names.push(name);
    }
    return this.store.transaction('write', async (tx) => {
      if (await tx.account(id)) throw new BillingError('account-exists', `${id} already has an account`, [id]);
      const now = this.now();
      await tx.insertAccount({ endUserIdentifier: id, currency, created: now });
      for (const name of names) await tx.insertBalance({ account: id, name, amount: 0n, expires: null });
      return this.accountView(await this.load(tx, id, now, false), now);
    });
  }

  /** A new, empty balance on an existing account (named balances hold, for instance, bonus credit apart from the default one). */
  async addBalance(endUserIdentifier: string, balanceType: string): Promise<AccountView> {
    const id = requiredId('endUserIdentifier', endUserIdentifier);
    const name = balanceName(balanceType, 'balanceType');
    return this.store.transaction('write', async (tx) => {
      const now = this.now();
      const loaded = await this.load(tx, id, now, false);
      if (loaded.balances.has(name)) throw new BillingError('balance-exists', `${id} already has a balance named '${name}'`, [id, name]);
      await tx.insertBalance({ account: id, name, amount: 0n, expires: null });
      return this.accountView(await this.load(tx, id, now, false), now);
    });
  }

  async getAccount(endUserIdentifier: string): Promise<AccountView> {
    const id = requiredId('endUserIdentifier', endUserIdentifier);
    return this.store.transaction('read', async (tx) => {
      const now = this.now();
      return this.accountView(await this.load(tx, id, now, false), now);
    });
  }

  async listAccounts(): Promise<AccountSummary[]> {
    return this.store.transaction('read', async (tx) => (await tx.accounts()).map((a) => ({
      endUserIdentifier: a.endUserIdentifier, currency: a.currency, created: iso(a.created),
    })));
  }

  /* ---------- account management ---------- */

  /** Every balance of the account, or only `balanceType` ('unknown-balance' if it has none of that name). */
  async getBalance(endUserIdentifier: string, balanceType?: string): Promise<BalanceResult> {
    const id = requiredId('endUserIdentifier', endUserIdentifier);
    const only = balanceType === undefined ? undefined : balanceName(balanceType);
    return this.store.transaction('read', async (tx) => {
      const now = this.now();
      const loaded = await this.load(tx, id, now, false);
      const balances = only === undefined ? [...loaded.balances.values()] : [this.balanceOf(loaded, only)];
      return { endUserIdentifier: id, currency: loaded.account.currency, balances: balances.map((b) => this.balanceView(loaded, b, now)) };
    });
  }

  async getCreditExpiryDate(endUserIdentifier: string, balanceType?: string): Promise<CreditExpiry> {
    const id = requiredId('endUserIdentifier', endUserIdentifier);
    const name = balanceName(balanceType);
    return this.store.transaction('read', async (tx) => {
      const now = this.now();
      const b = this.balanceOf(await this.load(tx, id, now, false), name);
      return { endUserIdentifier: id, balanceType: name, expires: b.expires === null ? null : iso(b.expires), expired: isExpired(b, now) };
    });
  }

  /** The names of the account's balances ("" is the default one). */
  async getBalanceTypes(endUserIdentifier: string): Promise<string[]> {
    const id = requiredId('endUserIdentifier', endUserIdentifier);
    return this.store.transaction('read', async (tx) => [...(await this.load(tx, id, this.now(), false)).balances.keys()]);
  }

  /** Journal entries of the account, newest first. */
  async getHistory(endUserIdentifier: string, options: HistoryOptions = {}): Promise<HistoryEntry[]> {
    const id = requiredId('endUserIdentifier', endUserIdentifier);
    const since = options.since === undefined || options.since === null ? undefined : timeValue('since', options.since);
    const limit = optionalInteger('maxEntries', options.maxEntries, 1, MAX_HISTORY_ENTRIES) ?? DEFAULT_HISTORY_ENTRIES;
    return this.store.transaction('read', async (tx) => {
      const account = await this.account(tx, id);
      return (await tx.journal(id, { since, limit })).map((e) => ({
        transactionId: String(e.id), date: iso(e.time), balanceType: e.balance, kind: e.kind,
        amount: formatAmount(e.amount, account.currency), balanceAfter: formatAmount(e.balanceAfter, account.currency),
        currency: account.currency, reservationIdentifier: e.reservation, caller: e.caller, referenceCode: e.reference,
        description: e.description, code: e.code,
      }));
    });
  }

  /**
   * Credit (positive amount) or debit (negative) a balance, and with periodDays extend its
   * validity: the expiry becomes the later of the current one and now + periodDays days (a
   * balance without expiry gets one). A debit may take only what is available.
   */
  async balanceUpdate(request: BalanceUpdateRequest): Promise<BalanceUpdateResult> {
    const r = requestObject(request);
    const caller = requiredId('caller', r.caller);
    const id = requiredId('endUserIdentifier', r.endUserIdentifier);
    const reference = requiredId('referenceCode', r.referenceCode);
    const name = balanceName(r.balanceType);
    const currency = optionalCurrency(r.currency);
    const periodDays = optionalInteger('periodDays', r.periodDays, 1, MAX_PERIOD_DAYS);
    const description = optionalText('description', r.description);
    const params = { endUserIdentifier: id, balanceType: name, amount: canonicalDecimal(r.amount), currency, periodDays: periodDays ?? null, description };
    return this.write(caller, 'balanceUpdate', reference, params, async (tx, now) => {
      const loaded = await this.load(tx, id, now, true);
      sameCurrency(currency, loaded.account);
      const amount = parseAmount(r.amount, loaded.account.currency, 'signed');
      if (amount === 0n && periodDays === undefined) {
        throw new BillingError('invalid-amount', 'a balance update of 0 changes nothing: give a non-zero amount or periodDays', [String(r.amount), loaded.account.currency]);
      }
      const b = this.balanceOf(loaded, name);
      if (amount < 0n) {
        const free = b.amount - (loaded.held.get(name) ?? 0n);
        if (-amount > free) throw insufficient(loaded, b, -amount, free);
      }
      const expires = periodDays === undefined ? b.expires : extendedExpiry(b.expires, now, periodDays);
      const posted = await this.post(tx, loaded, b, amount < 0n ? 'debit' : 'credit', amount, { caller, reference, description, expires }, now);
      return {
        operation: 'balanceUpdate', transactionId: posted.transactionId, endUserIdentifier: id, balanceType: name,
        amount: formatAmount(amount, loaded.account.currency), currency: loaded.account.currency,
        balanceAfter: formatAmount(posted.balance.amount, loaded.account.currency),
        expires: posted.balance.expires === null ? null : iso(posted.balance.expires), referenceCode: reference, time: iso(now),
      };
    });
  }

  /** An operator makes a voucher; voucherUpdate redeems it once, onto the balance it names. */
  async provisionVoucher(request: ProvisionVoucherRequest): Promise<VoucherView> {
    const r = requestObject(request);
    const id = requiredId('voucherIdentifier', r.voucherIdentifier);
    const currency = normalizeCurrency(r.currency);
    const amount = parseAmount(r.amount, currency, 'positive');
    const pin = r.pin === undefined || r.pin === null ? null : requiredId('pin', r.pin);
    const balance = balanceName(r.balanceType);
    const validityDays = optionalInteger('validityDays', r.validityDays, 1, MAX_PERIOD_DAYS) ?? null;
    return this.store.transaction('write', async (tx) => {
      if (await tx.voucher(id)) throw new BillingError('voucher-exists', `voucher ${id} is already provisioned`, [id]);
      const row = { id, pinHash: pin === null ? null : hashPin(pin), amount, currency, balance, validityDays, created: this.now(), usedBy: null, usedAt: null };
      await tx.insertVoucher(row);
      return voucherView(row);
    });
  }

  async getVoucher(voucherIdentifier: string): Promise<VoucherView> {
    const id = requiredId('voucherIdentifier', voucherIdentifier);
    return this.store.transaction('read', async (tx) => {
      const v = await tx.voucher(id);
      if (!v) throw new BillingError('unknown-voucher', `no voucher ${id}`, [id]);
      return voucherView(v);
    });
  }

  async voucherUpdate(request: VoucherUpdateRequest): Promise<VoucherUpdateResult> {
    const r = requestObject(request);
    const caller = requiredId('caller', r.caller);
    const id = requiredId('endUserIdentifier', r.endUserIdentifier);
    const reference = requiredId('referenceCode', r.referenceCode);
    const voucherId = requiredId('voucherIdentifier', r.voucherIdentifier);
    const pin = optionalId('voucherPin', r.voucherPin);
    // The PIN is left out of the fingerprint: it would be stored, and a retry by the caller who
    // already redeemed the voucher learns nothing new from the stored result.
    const params = { endUserIdentifier: id, voucherIdentifier: voucherId };
    return this.write(caller, 'voucherUpdate', reference, params, async (tx, now) => {
      const loaded = await this.load(tx, id, now, true);
      const v = await tx.voucher(voucherId);
      if (!v) throw new BillingError('unknown-voucher', `no voucher ${voucherId}`, [voucherId]);
      if (v.usedBy !== null) throw new BillingError('voucher-used', `voucher ${voucherId} was already redeemed`, [voucherId]);
      if (v.pinHash !== null && (pin === undefined || !pinMatches(pin, v.pinHash))) {
        throw new BillingError('voucher-pin', pin === undefined ? `voucher ${voucherId} needs its PIN` : `wrong PIN for voucher ${voucherId}`, [voucherId]);
      }
      sameCurrency(v.currency, loaded.account, `voucher ${voucherId}`);
      const b = this.balanceOf(loaded, v.balance);
      const expires = v.validityDays === null ? b.expires : extendedExpiry(b.expires, now, v.validityDays);
      const posted = await this.post(tx, loaded, b, 'voucher', v.amount, { caller, reference, description: `voucher ${voucherId}`, expires }, now);
      await tx.markVoucherUsed(voucherId, id, now);
      return {
        operation: 'voucherUpdate', transactionId: posted.transactionId, voucherIdentifier: voucherId, endUserIdentifier: id,
        balanceType: v.balance, amount: formatAmount(v.amount, v.currency), currency: v.currency,
        balanceAfter: formatAmount(posted.balance.amount, v.currency),
        expires: posted.balance.expires === null ? null : iso(posted.balance.expires), referenceCode: reference, time: iso(now),
      };
    });
  }

  /* ---------- payment ---------- */

  /** Takes the amount from the balance's available credit ('insufficient-funds', 'balance-expired'). */
  async chargeAmount(request: AmountRequest): Promise<AmountResult> {
    return this.amountOperation('chargeAmount', request);
  }

  /** Gives the amount back to the balance (also to an expired one: the credit stays expired). */
  async refundAmount(request: AmountRequest): Promise<AmountResult> {
    return this.amountOperation('refundAmount', request);
  }

  private async amountOperation(operation: 'chargeAmount' | 'refundAmount', request: AmountRequest): Promise<AmountResult> {
    const r = requestObject(request);
    const caller = requiredId('caller', r.caller);
    const id = requiredId('endUserIdentifier', r.endUserIdentifier);
    const reference = requiredId('referenceCode', r.referenceCode);
    const name = balanceName(r.balanceType);
    const currency = optionalCurrency(r.currency);
    const description = optionalText('description', r.description);
    const code = optionalText('code', r.code);
    const params = { endUserIdentifier: id, amount: canonicalDecimal(r.amount), currency, balanceType: name, description, code };
    return this.write(caller, operation, reference, params, async (tx, now) => {
      const loaded = await this.load(tx, id, now, true);
      sameCurrency(currency, loaded.account);
      const amount = parseAmount(r.amount, loaded.account.currency, 'positive');
      const b = this.balanceOf(loaded, name);
      if (operation === 'chargeAmount') this.checkChargeable(loaded, b, amount, now);
      const delta = operation === 'chargeAmount' ? -amount : amount;
      const posted = await this.post(tx, loaded, b, operation === 'chargeAmount' ? 'charge' : 'refund', delta, { caller, reference, description, code }, now);
      return {
        operation, transactionId: posted.transactionId, endUserIdentifier: id, balanceType: name,
        amount: formatAmount(amount, loaded.account.currency), currency: loaded.account.currency,
        balanceAfter: formatAmount(posted.balance.amount, loaded.account.currency), referenceCode: reference, time: iso(now),
      };
    });
  }

  /**
   * Charges several end users one amount, split by percentages (adding up to exactly 100), all
   * or nothing. Rounding: each share is rounded down to a minor unit and what is left over goes
   * to the first payer (see splitAmount).
   */
  async chargeSplitAmount(request: SplitRequest): Promise<SplitResult> {
    const r = requestObject(request);
    const caller = requiredId('caller', r.caller);
    const reference = requiredId('referenceCode', r.referenceCode);
    const name = balanceName(r.balanceType);
    const currency = optionalCurrency(r.currency);
    const description = optionalText('description', r.description);
    const code = optionalText('code', r.code);
    if (!Array.isArray(r.endUsers) || r.endUsers.length === 0 || r.endUsers.length > MAX_SPLIT_PAYERS) {
      throw new BillingError('invalid-request', `endUsers must be a list of 1 to ${MAX_SPLIT_PAYERS} payers`, ['endUsers', String(r.endUsers)]);
    }
    const payers = r.endUsers.map((p, i) => ({
      id: requiredId(`endUsers[${i}].endUserIdentifier`, p?.endUserIdentifier),
      percentage: parsePercentage(p?.percentage),
    }));
    const ids = payers.map((p) => p.id);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice !== undefined) throw new BillingError('split-percentages', `${twice} is named twice among the payers`, [twice]);
    const sum = payers.reduce((a, p) => a + p.percentage, 0n);
    if (sum !== HUNDRED_PERCENT) {
      throw new BillingError('split-percentages', `the percentages add up to ${formatPercent(sum)}, not 100`, payers.map((p) => formatPercent(p.percentage)));
    }
    const params = {
      endUsers: payers.map((p) => ({ endUserIdentifier: p.id, percentage: formatPercent(p.percentage) })),
      amount: canonicalDecimal(r.amount), currency, balanceType: name, description, code,
    };
    return this.write(caller, 'chargeSplitAmount', reference, params, async (tx, now) => {
      const accounts: LoadedAccount[] = [];
      for (const p of payers) accounts.push(await this.load(tx, p.id, now, true));
      const shared = currency ?? accounts[0].account.currency;
      for (const a of accounts) sameCurrency(shared, a.account);
      const total = parseAmount(r.amount, shared, 'positive');
      const shares = splitAmount(total, payers.map((p) => p.percentage));
      const balances = accounts.map((a) => this.balanceOf(a, name));
      accounts.forEach((a, i) => { if (shares[i] > 0n) this.checkChargeable(a, balances[i], shares[i], now); });
      const charges = [];
      for (const [i, a] of accounts.entries()) {
        const posted = shares[i] > 0n
          ? await this.post(tx, a, balances[i], 'split-charge', -shares[i], { caller, reference, description, code }, now)
          : { transactionId: null, balance: balances[i] };
        charges.push({
          endUserIdentifier: payers[i].id, percentage: formatPercent(payers[i].percentage), amount: formatAmount(shares[i], shared),
          balanceAfter: formatAmount(posted.balance.amount, shared), transactionId: posted.transactionId,
        });
      }
      return {
        operation: 'chargeSplitAmount', amount: formatAmount(total, shared), currency: shared, balanceType: name, charges,
        referenceCode: reference, time: iso(now),
      };
    });
  }

  /** Holds credit for a later chargeReservation: what it holds is not available to other charges. */
  async reserveAmount(request: ReserveRequest): Promise<ReservationView> {
    const r = requestObject(request);
    const caller = requiredId('caller', r.caller);
    const id = requiredId('endUserIdentifier', r.endUserIdentifier);
    const reference = optionalId('referenceCode', r.referenceCode);
    const name = balanceName(r.balanceType);
    const currency = optionalCurrency(r.currency);
    const description = optionalText('description', r.description);
    const lifetime = optionalInteger('expiresInMs', r.expiresInMs, 1, MAX_RESERVATION_MS) ?? this.defaultReservationMs;
    const params = { endUserIdentifier: id, amount: canonicalDecimal(r.amount), currency, balanceType: name, description, expiresInMs: r.expiresInMs ?? null };
    return this.write(caller, 'reserveAmount', reference, params, async (tx, now) => {
      const loaded = await this.load(tx, id, now, true);
      sameCurrency(currency, loaded.account);
      const amount = parseAmount(r.amount, loaded.account.currency, 'positive');
      const b = this.balanceOf(loaded, name);
      this.checkChargeable(loaded, b, amount, now);
      const reservation: ReservationRow = {
        id: this.newReservationId(), account: id, balance: name, caller, reserved: amount, charged: 0n,
        created: now, expires: now + lifetime, state: 'open', description,
      };
      await tx.insertReservation(reservation);
      return reservationView(reservation, loaded.account.currency, now);
    });
  }

  /** Adds to what a reservation holds (its expiry does not change). */
  async reserveAdditionalAmount(request: ReserveAdditionalRequest): Promise<ReservationView> {
    const r = requestObject(request);
    const caller = requiredId('caller', r.caller);
    const reservationId = requiredId('reservationIdentifier', r.reservationIdentifier);
    const reference = optionalId('referenceCode', r.referenceCode);
    const params = { reservationIdentifier: reservationId, amount: canonicalDecimal(r.amount) };
    return this.write(caller, 'reserveAdditionalAmount', reference, params, async (tx, now) => {
      const { reservation, loaded } = await this.liveReservation(tx, caller, reservationId, now);
      const amount = parseAmount(r.amount, loaded.account.currency, 'positive');
      const b = this.balanceOf(loaded, reservation.balance);
      this.checkChargeable(loaded, b, amount, now);
      const reserved = reservation.reserved + amount;
      if (!fitsInt64(reserved)) throw overflow(loaded, b);
      const updated = { ...reservation, reserved };
      await tx.updateReservation(reservationId, updated);
      return reservationView(updated, loaded.account.currency, now);
    });
  }

  /**
   * Takes `amount` of what the reservation holds from the balance; the rest stays reserved
   * until released, charged or expired. Allowed even if the balance expired since the
   * reservation was made: the credit was committed while it was valid.
   */
  async chargeReservation(request: ChargeReservationRequest): Promise<ChargeReservationResult> {
    const r = requestObject(request);
    const caller = requiredId('caller', r.caller);
    const reservationId = requiredId('reservationIdentifier', r.reservationIdentifier);
    const reference = requiredId('referenceCode', r.referenceCode);
    const description = optionalText('description', r.description);
    const code = optionalText('code', r.code);
    const params = { reservationIdentifier: reservationId, amount: canonicalDecimal(r.amount), description, code };
    return this.write(caller, 'chargeReservation', reference, params, async (tx, now) => {
      const { reservation, loaded } = await this.liveReservation(tx, caller, reservationId, now);
      const currency = loaded.account.currency;
      const amount = parseAmount(r.amount, currency, 'positive');
      const remaining = reservation.reserved - reservation.charged;
      if (amount > remaining) {
        throw new BillingError('reservation-exceeded', `reservation ${reservationId} holds ${formatAmount(remaining, currency)} ${currency}, less than ${formatAmount(amount, currency)}`,
          [reservationId, formatAmount(amount, currency), formatAmount(remaining, currency)]);
      }
      const b = this.balanceOf(loaded, reservation.balance);
      const posted = await this.post(tx, loaded, b, 'reservation-charge', -amount,
        { caller, reference, reservation: reservationId, description: description ?? reservation.description, code }, now);
      const updated = { ...reservation, charged: reservation.charged + amount };
      await tx.updateReservation(reservationId, updated);
      return {
        operation: 'chargeReservation', transactionId: posted.transactionId, amount: formatAmount(amount, currency), currency,
        balanceAfter: formatAmount(posted.balance.amount, currency), reservation: reservationView(updated, currency, now),
        referenceCode: reference, time: iso(now),
      };
    });
  }

  /** Closes the reservation: the part never charged is available again. */
  async releaseReservation(request: ReleaseRequest): Promise<ReleaseResult> {
    const r = requestObject(request);
    const caller = requiredId('caller', r.caller);
    const reservationId = requiredId('reservationIdentifier', r.reservationIdentifier);
    const reference = optionalId('referenceCode', r.referenceCode);
    return this.write(caller, 'releaseReservation', reference, { reservationIdentifier: reservationId }, async (tx, now) => {
      const { reservation, loaded } = await this.liveReservation(tx, caller, reservationId, now);
      const updated = { ...reservation, state: 'released' as const };
      await tx.updateReservation(reservationId, updated);
      const currency = loaded.account.currency;
      return {
        operation: 'releaseReservation', released: formatAmount(reservation.reserved - reservation.charged, currency), currency,
        reservation: reservationView(updated, currency, now), time: iso(now),
      };
    });
  }

  /** A reservation made by this caller, as it stands now. */
  async getReservation(caller: string, reservationIdentifier: string): Promise<ReservationView> {
    const who = requiredId('caller', caller);
    const id = requiredId('reservationIdentifier', reservationIdentifier);
    return this.store.transaction('read', async (tx) => {
      const reservation = await tx.reservation(id);
      if (!reservation || reservation.caller !== who) throw unknownReservation(id);
      const account = await this.account(tx, reservation.account);
      return reservationView(reservation, account.currency, this.now());
    });
  }

  /**
   * Marks every open reservation past its expiry as expired. Not needed for correctness (an
   * expired reservation holds nothing from the moment it expires, and is marked when its account
   * is next written); it keeps the stored states current for reports.
   */
  async sweepExpiredReservations(): Promise<{ expired: number }> {
    return this.store.transaction('write', async (tx) => ({ expired: await tx.expireReservations(this.now()) }));
  }

  /** The store's invariant check (see BillingStore.audit). */
  audit(): Promise<AuditReport> {
    return this.store.audit();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /* ---------- the parts ---------- */

  /**
   * One write transaction; with a reference, applied at most once per (caller, operation,
   * reference): the record of the request is read and written in the same transaction.
   */
  private write<T>(caller: string, operation: string, reference: string | undefined, params: unknown,
    apply: (tx: BillingTransaction, now: number) => Promise<T>): Promise<T> {
    // A hash, not the parameters: the fingerprint table then holds no request data.
    const fingerprint = createHash('sha256').update(canonicalJson(params)).digest('base64url');
    return this.store.transaction('write', async (tx) => {
      const now = this.now();
      if (reference === undefined) return apply(tx, now);
      const prior = await tx.idempotencyRecord(caller, operation, reference);
      if (prior) {
        if (prior.fingerprint !== fingerprint) {
          throw new BillingError('reference-conflict', `referenceCode '${reference}' was already used for another ${operation} request (with different parameters)`, [reference, operation]);
        }
        return JSON.parse(prior.result) as T;
      }
      const result = await apply(tx, now);
      await tx.saveIdempotencyRecord(caller, operation, reference, { fingerprint, result: JSON.stringify(result), time: now });
      return result;
    });
  }

  private async account(tx: BillingTransaction, id: string): Promise<AccountRow> {
    const account = await tx.account(id);
    if (!account) throw new BillingError('unknown-account', `no account for ${id}`, [id]);
    return account;
  }

  /** The account with its balances and live holds; `touch` also marks its reservations that expired. */
  private async load(tx: BillingTransaction, id: string, now: number, touch: boolean): Promise<LoadedAccount> {
    const account = await this.account(tx, id);
    if (touch) await tx.expireReservations(now, id);
    const balances = new Map((await tx.balances(id)).map((b) => [b.name, b] as const));
    const held = new Map<string, bigint>();
    for (const r of await tx.openReservations(id)) {
      if (r.expires > now) held.set(r.balance, (held.get(r.balance) ?? 0n) + r.reserved - r.charged);
    }
    return { account, balances, held };
  }

  /** The caller's reservation, still open and not expired, with its account. */
  private async liveReservation(tx: BillingTransaction, caller: string, id: string, now: number): Promise<{ reservation: ReservationRow; loaded: LoadedAccount }> {
    const reservation = await tx.reservation(id);
    // Another caller's reservation is reported as unknown: its existence is not theirs to learn.
    if (!reservation || reservation.caller !== caller) throw unknownReservation(id);
    if (reservation.state === 'released') {
      throw new BillingError('reservation-closed', `reservation ${id} was already released`, [id, reservation.state]);
    }
    if (reservation.state === 'expired' || reservation.expires <= now) {
      throw new BillingError('reservation-expired', `reservation ${id} expired at ${iso(reservation.expires)}`, [id, iso(reservation.expires)]);
    }
    return { reservation, loaded: await this.load(tx, reservation.account, now, true) };
  }

  private balanceOf(loaded: LoadedAccount, name: string): BalanceRow {
    const b = loaded.balances.get(name);
    if (!b) {
      const id = loaded.account.endUserIdentifier;
      throw new BillingError('unknown-balance', `${id} has no balance named '${name}' (it has ${[...loaded.balances.keys()].map((n) => `'${n}'`).join(', ')})`, [id, name]);
    }
    return b;
  }

  /** A charge or reservation may take `amount`: the credit has not expired and enough of it is free. */
  private checkChargeable(loaded: LoadedAccount, b: BalanceRow, amount: bigint, now: number): void {
    if (isExpired(b, now)) {
      throw new BillingError('balance-expired', `the credit of balance '${b.name}' of ${b.account} expired at ${iso(b.expires!)}`, [b.account, b.name, iso(b.expires!)]);
    }
    const free = b.amount - (loaded.held.get(b.name) ?? 0n);
    if (amount > free) throw insufficient(loaded, b, amount, free);
  }

  /** Changes a balance by `delta` and writes its journal entry (the one way amounts change). */
  private async post(tx: BillingTransaction, loaded: LoadedAccount, b: BalanceRow, kind: JournalKind, delta: bigint, posting: Posting, now: number) {
    const amount = b.amount + delta;
    if (!fitsInt64(amount)) throw overflow(loaded, b);
    const expires = posting.expires === undefined ? b.expires : posting.expires;
    await tx.updateBalance(b.account, b.name, amount, expires);
    const id = await tx.appendJournal({
      time: now, account: b.account, balance: b.name, kind, amount: delta, balanceAfter: amount,
      reservation: posting.reservation ?? null, caller: posting.caller, reference: posting.reference,
      description: posting.description ?? null, code: posting.code ?? null,
    });
    const balance = { ...b, amount, expires };
    loaded.balances.set(b.name, balance);
    return { transactionId: String(id), balance };
  }

  private balanceView(loaded: LoadedAccount, b: BalanceRow, now: number): BalanceView {
    const currency = loaded.account.currency;
    const reserved = loaded.held.get(b.name) ?? 0n;
    const expired = isExpired(b, now);
    const available = expired ? 0n : b.amount - reserved;
    return {
      name: b.name, currency, amount: formatAmount(b.amount, currency), reserved: formatAmount(reserved, currency),
      available: formatAmount(available, currency), expires: b.expires === null ? null : iso(b.expires), expired,
    };
  }

  private accountView(loaded: LoadedAccount, now: number): AccountView {
    const a = loaded.account;
    return {
      endUserIdentifier: a.endUserIdentifier, currency: a.currency, created: iso(a.created),
      balances: [...loaded.balances.values()].map((b) => this.balanceView(loaded, b, now)),
    };
  }
}

function isExpired(b: BalanceRow, now: number): boolean {
  return b.expires !== null && b.expires <= now;
}

/** The later of the current expiry and now + days (a balance without expiry gets one). */
function extendedExpiry(current: number | null, now: number, days: number): number {
  return Math.max(current ?? -Infinity, now + days * DAY_MS);
}

function requestObject<T>(request: T): T {
  if (!request || typeof request !== 'object') throw new BillingError('invalid-request', `the request must be an object, not ${String(request)}`, ['request', String(request)]);
  return request;
}

function optionalCurrency(value: unknown): string | null {
  return value === undefined || value === null ? null : normalizeCurrency(value);
}

function sameCurrency(requested: string | null, account: AccountRow, what = 'the request'): void {
  if (requested !== null && requested !== account.currency) {
    throw new BillingError('currency-mismatch', `${what} is in ${requested} but the account of ${account.endUserIdentifier} is in ${account.currency}`, [requested, account.currency]);
  }
}

function insufficient(loaded: LoadedAccount, b: BalanceRow, amount: bigint, free: bigint): BillingError {
  const c = loaded.account.currency;
  return new BillingError('insufficient-funds',
    `balance '${b.name}' of ${b.account} has ${formatAmount(free, c)} ${c} available, less than ${formatAmount(amount, c)} ${c}`,
    [b.account, b.name, formatAmount(amount, c), formatAmount(free, c)]);
}

function overflow(loaded: LoadedAccount, b: BalanceRow): BillingError {
  return new BillingError('amount-overflow', `balance '${b.name}' of ${loaded.account.endUserIdentifier} would go beyond a 64-bit count of minor units`, [b.account, b.name]);
}

function unknownReservation(id: string): BillingError {
  return new BillingError('unknown-reservation', `no reservation ${id}`, [id]);
}

function reservationView(r: ReservationRow, currency: string, now: number): ReservationView {
  const state = r.state === 'open' && r.expires <= now ? 'expired' : r.state;
  return {
    reservationIdentifier: r.id, endUserIdentifier: r.account, balanceType: r.balance, currency,
    reserved: formatAmount(r.reserved, currency), charged: formatAmount(r.charged, currency),
    remaining: formatAmount(r.reserved - r.charged, currency), state, created: iso(r.created), expires: iso(r.expires),
    description: r.description,
  };
}

function voucherView(v: { id: string; amount: bigint; currency: string; balance: string; pinHash: string | null; validityDays: number | null; created: number; usedBy: string | null; usedAt: number | null }): VoucherView {
  return {
    voucherIdentifier: v.id, amount: formatAmount(v.amount, v.currency), currency: v.currency, balanceType: v.balance,
    hasPin: v.pinHash !== null, validityDays: v.validityDays, created: iso(v.created), usedBy: v.usedBy,
    usedAt: v.usedAt === null ? null : iso(v.usedAt),
  };
}
