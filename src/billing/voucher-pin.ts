import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Voucher PINs are stored as salted scrypt hashes, never as given: whoever reads the database
 * cannot redeem a voucher. The cost is kept moderate (a PIN is checked once per redemption).
 * Format: `scrypt$<N>$<salt hex>$<hash hex>`.
 */
const COST = 4096;
const KEY_LENGTH = 32;

export function hashPin(pin: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(pin, salt, KEY_LENGTH, { N: COST });
  return `scrypt$${COST}$${salt.toString('hex')}$${hash.toString('hex')}`;
}

export function pinMatches(pin: string, stored: string): boolean {
  const [scheme, cost, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !cost || !salt || !hash) throw new Error('billing: a voucher PIN hash is not in the scrypt$N$salt$hash format');
  const expected = Buffer.from(hash, 'hex');
  const actual = scryptSync(pin, Buffer.from(salt, 'hex'), expected.length, { N: Number(cost) });
  return timingSafeEqual(actual, expected);
}
