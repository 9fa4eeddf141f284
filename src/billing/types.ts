/**
 * Requests and results of the BillingManager. Results are plain JSON (what an HTTP body or a chart
 * event carries, and what is stored for retries): amounts are decimal strings in the account's
 * currency ("12.50"), times ISO 8601 strings. `parseAmount(result.amount, result.currency)` gives
 * the exact minor units back as a bigint.
 */

/** Who asks: the authenticated application account (HTTP) or `chart:<name>` (chart actions). */
export interface CallerRequest {
  readonly caller: string;
}

export interface CreateAccountOptions {
  readonly currency: string;
  /** Named balances besides the default one (named ""). */
  readonly balances?: readonly string[];
}

export interface AccountSummary {
  readonly endUserIdentifier: string;
  readonly currency: string;
  readonly created: string;
}

export interface BalanceView {
  /** "" for the default balance. */
  readonly name: string;
  readonly currency: string;
  /** What the balance holds (reserved credit included). */
  readonly amount: string;
  /** Held by open reservations that have not expired. */
  readonly reserved: string;
  /** amount − reserved: what a charge or a new reservation can take (0 once expired). */
  readonly available: string;
  /** ISO 8601, or null when no expiry is set. */
  readonly expires: string | null;
  readonly expired: boolean;
}

export interface AccountView extends AccountSummary {
  readonly balances: readonly BalanceView[];
}

export interface BalanceResult {
  readonly endUserIdentifier: string;
  readonly currency: string;
  readonly balances: readonly BalanceView[];
}

export interface AmountRequest extends CallerRequest {
  readonly endUserIdentifier: string;
  /** Positive decimal text in the account's currency ("12.50"). */
  readonly amount: string;
  /** When given it must be the account's currency. */
  readonly currency?: string;
  /** Default: the default balance (""). */
  readonly balanceType?: string;
  readonly description?: string;
  /** The charging code (ParlayX ChargingInformation.code), recorded in the journal. */
  readonly code?: string;
  /** Retrying with the same referenceCode returns the first result and charges nothing. */
  readonly referenceCode: string;
}

export interface AmountResult {
  readonly operation: 'chargeAmount' | 'refundAmount';
  readonly transactionId: string;
  readonly endUserIdentifier: string;
  readonly balanceType: string;
  /** The amount moved (positive). */
  readonly amount: string;
  readonly currency: string;
  readonly balanceAfter: string;
  readonly referenceCode: string;
  readonly time: string;
}

export interface SplitPayer {
  readonly endUserIdentifier: string;
  /** Number or decimal text, at most 6 decimals; all percentages add up to exactly 100. */
  readonly percentage: number | string;
}

export interface SplitRequest extends CallerRequest {
  readonly endUsers: readonly SplitPayer[];
  readonly amount: string;
  readonly currency?: string;
  readonly balanceType?: string;
  readonly description?: string;
  readonly code?: string;
  readonly referenceCode: string;
}

export interface SplitCharge {
  readonly endUserIdentifier: string;
  readonly percentage: string;
  readonly amount: string;
  readonly balanceAfter: string;
  /** null when the share rounded down to nothing (no journal entry is written for it). */
  readonly transactionId: string | null;
}

export interface SplitResult {
  readonly operation: 'chargeSplitAmount';
  readonly amount: string;
  readonly currency: string;
  readonly balanceType: string;
  readonly charges: readonly SplitCharge[];
  readonly referenceCode: string;
  readonly time: string;
}

export interface ReserveRequest extends CallerRequest {
  readonly endUserIdentifier: string;
  readonly amount: string;
  readonly currency?: string;
  readonly balanceType?: string;
  readonly description?: string;
  /** Optional: with it, a retried reservation returns the first one instead of reserving again. */
  readonly referenceCode?: string;
  /** Default 30 minutes. */
  readonly expiresInMs?: number;
}

export interface ReservationView {
  readonly reservationIdentifier: string;
  readonly endUserIdentifier: string;
  readonly balanceType: string;
  readonly currency: string;
  readonly reserved: string;
  readonly charged: string;
  /** reserved − charged: what the reservation still holds. */
  readonly remaining: string;
  readonly state: 'open' | 'released' | 'expired';
  readonly created: string;
  readonly expires: string;
  readonly description: string | null;
}

export interface ReserveAdditionalRequest extends CallerRequest {
  readonly reservationIdentifier: string;
  readonly amount: string;
  readonly referenceCode?: string;
}

export interface ChargeReservationRequest extends CallerRequest {
  readonly reservationIdentifier: string;
  readonly amount: string;
  readonly description?: string;
  readonly code?: string;
  readonly referenceCode: string;
}

export interface ChargeReservationResult {
  readonly operation: 'chargeReservation';
  readonly transactionId: string;
  readonly amount: string;
  readonly currency: string;
  readonly balanceAfter: string;
  readonly reservation: ReservationView;
  readonly referenceCode: string;
  readonly time: string;
}

export interface ReleaseRequest extends CallerRequest {
  readonly reservationIdentifier: string;
  /** Optional: with it, a retried release returns the first result instead of 'reservation-closed'. */
  readonly referenceCode?: string;
}

export interface ReleaseResult {
  readonly operation: 'releaseReservation';
  /** What became available again (the part never charged). */
  readonly released: string;
  readonly currency: string;
  readonly reservation: ReservationView;
  readonly time: string;
}

export interface BalanceUpdateRequest extends CallerRequest {
  readonly endUserIdentifier: string;
  readonly referenceCode: string;
  readonly balanceType?: string;
  /** Signed decimal text: a credit ("10") or a debit ("-2.50"); "0" only with periodDays. */
  readonly amount: string;
  readonly currency?: string;
  /** Extend the credit's validity: expiry becomes at least now + periodDays days. */
  readonly periodDays?: number;
  readonly description?: string;
}

export interface BalanceUpdateResult {
  readonly operation: 'balanceUpdate';
  readonly transactionId: string;
  readonly endUserIdentifier: string;
  readonly balanceType: string;
  readonly amount: string;
  readonly currency: string;
  readonly balanceAfter: string;
  readonly expires: string | null;
  readonly referenceCode: string;
  readonly time: string;
}

export interface VoucherUpdateRequest extends CallerRequest {
  readonly endUserIdentifier: string;
  readonly referenceCode: string;
  readonly voucherIdentifier: string;
  readonly voucherPin?: string;
}

export interface VoucherUpdateResult {
  readonly operation: 'voucherUpdate';
  readonly transactionId: string;
  readonly voucherIdentifier: string;
  readonly endUserIdentifier: string;
  readonly balanceType: string;
  readonly amount: string;
  readonly currency: string;
  readonly balanceAfter: string;
  readonly expires: string | null;
  readonly referenceCode: string;
  readonly time: string;
}

export interface ProvisionVoucherRequest {
  readonly voucherIdentifier: string;
  readonly amount: string;
  readonly currency: string;
  readonly pin?: string;
  readonly balanceType?: string;
  /** Days of validity the credit gets when redeemed (extends the balance's expiry). */
  readonly validityDays?: number;
}

export interface VoucherView {
  readonly voucherIdentifier: string;
  readonly amount: string;
  readonly currency: string;
  readonly balanceType: string;
  readonly hasPin: boolean;
  readonly validityDays: number | null;
  readonly created: string;
  readonly usedBy: string | null;
  readonly usedAt: string | null;
}

export interface HistoryOptions {
  /** Only entries at or after this time (Date, epoch ms or ISO 8601 text). */
  readonly since?: Date | number | string;
  /** At most this many entries (default 100, at most 10,000). */
  readonly maxEntries?: number;
}

export interface HistoryEntry {
  readonly transactionId: string;
  readonly date: string;
  readonly balanceType: string;
  readonly kind: string;
  /** Signed: a charge is negative. */
  readonly amount: string;
  readonly balanceAfter: string;
  readonly currency: string;
  readonly reservationIdentifier: string | null;
  readonly caller: string | null;
  readonly referenceCode: string | null;
  readonly description: string | null;
  readonly code: string | null;
}

export interface CreditExpiry {
  readonly endUserIdentifier: string;
  readonly balanceType: string;
  readonly expires: string | null;
  readonly expired: boolean;
}
