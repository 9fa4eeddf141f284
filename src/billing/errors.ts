/**
 * The billing core's failures: a stable `kind` that callers branch on, a message for people, and
 * `variables` (the values the message is about, in the documented order). ParlayX fault codes are
 * not chosen here: the ParlayX layer maps each kind to its SVC/POL fault, so the core stays
 * usable by other front ends (the chart actions report the kind itself).
 */
export const BILLING_ERROR_KINDS = {
  'invalid-request': { meaning: 'A parameter is missing, of the wrong type or malformed (not an amount).', variables: ['parameter', 'value'] },
  'invalid-amount': { meaning: 'An amount is not a plain decimal number, has more (non-zero) fraction digits than its currency allows, is zero or negative where only a positive amount makes sense, or is beyond a signed 64-bit count of minor units.', variables: ['amount', 'currency'] },
  'unknown-currency': { meaning: 'The currency is not an ISO 4217 alphabetic code of money (codes with no minor unit, such as XAU or XTS, are refused too).', variables: ['currency'] },
  'amount-overflow': { meaning: 'The operation would take a balance or a reservation beyond a signed 64-bit count of minor units.', variables: ['endUserIdentifier', 'balanceType'] },
  'account-exists': { meaning: 'createAccount for an end user who already has an account.', variables: ['endUserIdentifier'] },
  'unknown-account': { meaning: 'No account for this end user.', variables: ['endUserIdentifier'] },
  'balance-exists': { meaning: 'addBalance with a name the account already has a balance under.', variables: ['endUserIdentifier', 'balanceType'] },
  'unknown-balance': { meaning: 'The account has no balance of this name (the default balance is named "").', variables: ['endUserIdentifier', 'balanceType'] },
  'currency-mismatch': { meaning: 'The request (or voucher) names a currency other than the account\'s, or split payers hold different currencies.', variables: ['requested currency', 'account currency'] },
  'insufficient-funds': { meaning: 'The balance\'s available credit (its amount less what open reservations hold) does not cover the amount.', variables: ['endUserIdentifier', 'balanceType', 'requested', 'available'] },
  'balance-expired': { meaning: 'The balance\'s credit has expired: it cannot be charged or reserved (refunds and credits are still accepted).', variables: ['endUserIdentifier', 'balanceType', 'expiry (ISO 8601)'] },
  'unknown-reservation': { meaning: 'No reservation with this identifier made by this caller.', variables: ['reservationIdentifier'] },
  'reservation-expired': { meaning: 'The reservation passed its expiry: what it held is available again, it can no longer be charged or extended.', variables: ['reservationIdentifier', 'expiry (ISO 8601)'] },
  'reservation-closed': { meaning: 'The reservation was already released (or swept as expired).', variables: ['reservationIdentifier', 'state'] },
  'reservation-exceeded': { meaning: 'chargeReservation for more than the reservation still holds.', variables: ['reservationIdentifier', 'requested', 'remaining'] },
  'unknown-voucher': { meaning: 'No voucher with this identifier was provisioned.', variables: ['voucherIdentifier'] },
  'voucher-exists': { meaning: 'provisionVoucher with an identifier that is already provisioned.', variables: ['voucherIdentifier'] },
  'voucher-used': { meaning: 'The voucher was already redeemed (by another request).', variables: ['voucherIdentifier'] },
  'voucher-pin': { meaning: 'The voucher has a PIN and the request gave none or a wrong one.', variables: ['voucherIdentifier'] },
  'reference-conflict': { meaning: 'The caller already used this referenceCode for this operation with different parameters.', variables: ['referenceCode', 'operation'] },
  'split-percentages': { meaning: 'chargeSplitAmount percentages are not positive, do not add up to exactly 100, or name a payer twice.', variables: ['percentages'] },
} as const satisfies Record<string, { readonly meaning: string; readonly variables: readonly string[] }>;

export type BillingErrorKind = keyof typeof BILLING_ERROR_KINDS;

export class BillingError extends Error {
  constructor(readonly kind: BillingErrorKind, message: string, readonly variables: readonly string[] = []) {
    super(message);
    this.name = 'BillingError';
  }

  /** The error as plain data (what a chart action or an HTTP body carries). */
  toJSON(): { kind: BillingErrorKind; message: string; variables: string[] } {
    return { kind: this.kind, message: this.message, variables: [...this.variables] };
  }
}

export function isBillingError(value: unknown): value is BillingError {
  return value instanceof BillingError;
}
