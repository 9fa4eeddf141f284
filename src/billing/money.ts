import { CURRENCY_EXPONENTS } from './currencies.js';
import { BillingError } from './errors.js';

/**
 * Amounts are counted in minor units (cents, fils, yen) as bigint, exactly: a decimal text is
 * split into its digits, never read as a floating-point number. Stored amounts are SQLite
 * INTEGERs, so every amount, balance and reservation must fit a signed 64-bit integer.
 */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** Decimal texts longer than this are refused before any arithmetic (they cannot fit 64 bits anyway). */
const MAX_TEXT_LENGTH = 64;
const DECIMAL = /^([+-])?([0-9]+)(?:\.([0-9]+))?$/;

/** The ISO 4217 code in upper case; 'unknown-currency' for anything else. */
export function normalizeCurrency(code: unknown): string {
  const text = typeof code === 'string' ? code.trim().toUpperCase() : '';
  if (!CURRENCY_EXPONENTS.has(text)) {
    throw new BillingError('unknown-currency', `'${String(code)}' is not an ISO 4217 currency code (e.g. EUR, USD, JPY)`, [String(code)]);
  }
  return text;
}

/** Decimal digits of the currency's minor unit (EUR 2, JPY 0, KWD 3, CLF 4). */
export function currencyExponent(code: string): number {
  return CURRENCY_EXPONENTS.get(normalizeCurrency(code))!;
}

export function fitsInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/** What an amount may be: strictly positive (charges), positive or zero, or any sign (adjustments). */
export type AmountSign = 'positive' | 'non-negative' | 'signed';

interface DecimalParts {
  readonly negative: boolean;
  readonly whole: string;
  readonly fraction: string;
}

function decimalParts(text: unknown, currency: string): DecimalParts {
  if (typeof text !== 'string') {
    throw new BillingError('invalid-amount', `the amount must be a decimal string such as "12.50", not ${describe(text)}`, [String(text), currency]);
  }
  const trimmed = text.trim();
  const m = trimmed.length <= MAX_TEXT_LENGTH ? DECIMAL.exec(trimmed) : null;
  if (!m) {
    throw new BillingError('invalid-amount', `'${text.length > MAX_TEXT_LENGTH ? `${text.slice(0, MAX_TEXT_LENGTH)}…` : text}' is not a decimal amount (digits, an optional sign and an optional '.' followed by digits)`, [text, currency]);
  }
  return { negative: m[1] === '-', whole: m[2], fraction: m[3] ?? '' };
}

/**
 * A decimal text as an exact count of the currency's minor units: "12.5" EUR → 1250n, "7" JPY →
 * 7n, "0.125" KWD → 125n. Fraction digits beyond the currency's exponent are accepted only when
 * they are zeros ("12.500" EUR is 1250n): nothing is ever rounded, so "12.505" EUR is refused.
 */
export function parseAmount(text: unknown, currency: string, sign: AmountSign = 'positive'): bigint {
  const code = normalizeCurrency(currency);
  const exponent = CURRENCY_EXPONENTS.get(code)!;
  const { negative, whole, fraction } = decimalParts(text, code);
  const kept = fraction.slice(0, exponent);
  if (/[^0]/.test(fraction.slice(exponent))) {
    throw new BillingError('invalid-amount',
      exponent === 0
        ? `${code} has no minor unit: '${text as string}' must be a whole number`
        : `${code} has ${exponent} decimal${exponent === 1 ? '' : 's'}: '${text as string}' has more`,
      [text as string, code]);
  }
  const magnitude = BigInt(whole + kept.padEnd(exponent, '0'));
  const value = negative ? -magnitude : magnitude;
  if (!fitsInt64(value)) {
    throw new BillingError('invalid-amount', `'${text as string}' ${code} is beyond the largest amount that can be counted (a signed 64-bit number of minor units)`, [text as string, code]);
  }
  if (sign === 'positive' && value <= 0n) throw new BillingError('invalid-amount', `the amount must be greater than zero, not '${text as string}'`, [text as string, code]);
  if (sign === 'non-negative' && value < 0n) throw new BillingError('invalid-amount', `the amount must not be negative, not '${text as string}'`, [text as string, code]);
  return value;
}

/** Minor units as the currency's decimal text: 1250n EUR → "12.50", -5n EUR → "-0.05", 7n JPY → "7". */
export function formatAmount(minor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? '-' : ''}${whole}${exponent ? `.${fraction}` : ''}`;
}

/**
 * The same decimal written one way ("+012.50" → "12.5", "-0.0" → "0"), without knowing the
 * currency: what a retried request is compared by, so "12.5" and "12.50" are the same amount.
 * Anything that is not a decimal text is returned as given (the request fails later anyway).
 */
export function canonicalDecimal(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  const m = DECIMAL.exec(text.trim());
  if (!m || text.length > MAX_TEXT_LENGTH) return text;
  const whole = m[2].replace(/^0+(?=.)/, '');
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const body = fraction ? `${whole}.${fraction}` : whole;
  return m[1] === '-' && body !== '0' ? `-${body}` : body;
}

/**
 * A chart value as an amount text: strings as they are; finite numbers by their shortest exact
 * decimal form (2.5 → "2.5"). Numbers JavaScript would print with an exponent (1e21, 1e-7) are
 * refused rather than guessed at.
 */
export function amountText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) {
    const text = String(value);
    if (!/e/i.test(text)) return text;
  }
  if (typeof value === 'bigint') return value.toString();
  throw new BillingError('invalid-amount', `the amount must be a decimal string or a plain number, not ${describe(value)}`, [String(value), '']);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  return `a value of type ${Array.isArray(value) ? 'array' : typeof value}`;
}
