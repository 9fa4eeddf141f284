import { BillingError } from './errors.js';

/** Percentages are exact decimals with at most this many fraction digits (33.333334 is fine). */
export const PERCENT_DECIMALS = 6;
const SCALE = 10n ** BigInt(PERCENT_DECIMALS);
export const HUNDRED_PERCENT = 100n * SCALE;

/** A percentage (number or decimal text) as an exact count of millionths of a percent. */
export function parsePercentage(value: unknown): bigint {
  const text = typeof value === 'number' && Number.isFinite(value) && !/e/i.test(String(value)) ? String(value) : value;
  const m = typeof text === 'string' ? /^\s*([0-9]{1,3})(?:\.([0-9]+))?\s*$/.exec(text) : null;
  if (!m || (m[2] ?? '').slice(PERCENT_DECIMALS).replace(/0/g, '') !== '') {
    throw new BillingError('split-percentages', `a percentage must be a number between 0 and 100 with at most ${PERCENT_DECIMALS} decimals, not ${JSON.stringify(value) ?? String(value)}`, [String(value)]);
  }
  const scaled = BigInt(m[1]) * SCALE + BigInt((m[2] ?? '').slice(0, PERCENT_DECIMALS).padEnd(PERCENT_DECIMALS, '0'));
  if (scaled <= 0n || scaled > HUNDRED_PERCENT) {
    throw new BillingError('split-percentages', `a percentage must be greater than 0 and at most 100, not ${String(value)}`, [String(value)]);
  }
  return scaled;
}

/**
 * Splits `total` minor units by percentages that add up to exactly 100. Each payer's share is
 * total × percentage / 100 rounded down to a whole minor unit; the minor units this leaves over
 * (fewer than the number of payers) go to the first payer, so the shares always add up to
 * `total` and nobody but the first payer ever pays more than their exact share.
 */
export function splitAmount(total: bigint, percentages: readonly bigint[]): bigint[] {
  const sum = percentages.reduce((a, b) => a + b, 0n);
  if (sum !== HUNDRED_PERCENT) {
    throw new BillingError('split-percentages', `the percentages add up to ${formatPercent(sum)}, not 100`, percentages.map(formatPercent));
  }
  const shares = percentages.map((p) => (total * p) / HUNDRED_PERCENT);
  shares[0] += total - shares.reduce((a, b) => a + b, 0n);
  return shares;
}

export function formatPercent(scaled: bigint): string {
  const whole = scaled / SCALE;
  const fraction = (scaled % SCALE).toString().padStart(PERCENT_DECIMALS, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}
