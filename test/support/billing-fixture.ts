// A billing manager on a SQLite file in a fresh temporary directory, with a clock the test moves.
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BillingManager, SqliteBillingStore, type BillingErrorKind } from '../../src/index.js';

export const T0 = Date.parse('2030-01-01T00:00:00.000Z');
export const MINUTE = 60_000;
export const DAY = 86_400_000;

const dirs: string[] = [];
const managers: BillingManager[] = [];

after(async () => {
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orx-billing-'));
  dirs.push(dir);
  return dir;
}

export interface BillingFixture {
  readonly manager: BillingManager;
  readonly store: SqliteBillingStore;
  readonly file: string;
  /** The manager's clock (epoch ms). */
  time: number;
  advance(ms: number): void;
}

export function billingFixture(options: { file?: string; reservationIds?: boolean } = {}): BillingFixture {
  const file = options.file ?? path.join(tempDir(), 'billing.db');
  const store = new SqliteBillingStore(file);
  let n = 0;
  const fixture: BillingFixture = {
    file, store, time: T0,
    manager: undefined as unknown as BillingManager,
    advance(ms) { this.time += ms; },
  };
  const manager = new BillingManager({
    store, now: () => fixture.time,
    ...(options.reservationIds ? { newReservationId: () => `res-${++n}` } : {}),
  });
  (fixture as { manager: BillingManager }).manager = manager;
  managers.push(manager);
  return fixture;
}

/** assert.rejects matcher: a BillingError of this kind (and, optionally, a message matching `message`). */
export function kind(expected: BillingErrorKind, message?: RegExp) {
  return (err: unknown) => {
    const e = err as { name?: string; kind?: string; message?: string };
    if (e?.name !== 'BillingError' || e.kind !== expected) throw new Error(`expected BillingError '${expected}', got ${e?.name} '${e?.kind}': ${e?.message}`);
    if (message && !message.test(e.message ?? '')) throw new Error(`message '${e.message}' does not match ${message}`);
    return true;
  };
}
