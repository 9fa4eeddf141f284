import { BillingError } from './errors.js';

/** Identifiers (end users, callers, references, reservations, vouchers) and free texts have bounded lengths. */
export const MAX_IDENTIFIER_LENGTH = 256;
export const MAX_BALANCE_NAME_LENGTH = 64;
export const MAX_DESCRIPTION_LENGTH = 1024;

function invalid(parameter: string, value: unknown, why: string): BillingError {
  const shown = typeof value === 'string' ? `'${value.length > 80 ? `${value.slice(0, 80)}…` : value}'` : String(value);
  return new BillingError('invalid-request', `${parameter} ${why}, not ${shown}`, [parameter, String(value)]);
}

/** A required non-empty identifier (no control characters). */
export function requiredId(parameter: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(parameter, value, 'is required (a non-empty string)');
  if (value.length > MAX_IDENTIFIER_LENGTH) throw invalid(parameter, value, `must be at most ${MAX_IDENTIFIER_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(parameter, value, 'must not contain control characters');
  return value;
}

export function optionalId(parameter: string, value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : requiredId(parameter, value);
}

/** A balance name: "" (the default balance) or up to 64 characters; absent means "". */
export function balanceName(value: unknown, parameter = 'balanceType'): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalid(parameter, value, 'must be a string');
  if (value.length > MAX_BALANCE_NAME_LENGTH) throw invalid(parameter, value, `must be at most ${MAX_BALANCE_NAME_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(parameter, value, 'must not contain control characters');
  return value;
}

export function optionalText(parameter: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(parameter, value, 'must be a string');
  if (value.length > MAX_DESCRIPTION_LENGTH) throw invalid(parameter, value, `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  return value;
}

/** An optional whole number within [min, max]. */
export function optionalInteger(parameter: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(parameter, value, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** A point in time given as a Date, epoch milliseconds or ISO 8601 text. */
export function timeValue(parameter: string, value: Date | number | string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw invalid(parameter, value, 'must be a date (a Date, epoch milliseconds or ISO 8601 text)');
  return ms;
}

/** JSON with object keys sorted: two requests with the same parameters give the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}
