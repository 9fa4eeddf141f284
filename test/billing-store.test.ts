// The SQLite billing store: durable settings, a shared database file, the append-only journal,
// rollback of a failed operation, and an audit that finds every kind of discrepancy.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { BillingManager, SqliteBillingStore, SqliteSessionStore } from '../src/index.js';
import { billingFixture, kind, tempDir } from './support/billing-fixture.js';

describe('SqliteBillingStore', () => {
  test('WAL and synchronous=FULL; tables prefixed billing_; data survives reopening', async () => {
    const f = billingFixture();
    await f.manager.createAccount('a', { currency: 'EUR' });
    const credit = { caller: 'op', endUserIdentifier: 'a', referenceCode: 'r', amount: '3' };
    const first = await f.manager.balanceUpdate(credit);
    assert.equal(f.store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(f.store.db.pragma('synchronous', { simple: true }), 2);
    const tables = (f.store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((t) => t.name);
    assert.ok(tables.length >= 6 && tables.every((t) => t.startsWith('billing_')), tables.join());
    await f.manager.close();
    const again = new BillingManager({ store: new SqliteBillingStore(f.file) });
    try {
      assert.equal((await again.getBalance('a')).balances[0].amount, '3.00');
      assert.deepEqual(await again.balanceUpdate(credit), first, 'the idempotency record survived: the retry gets the first result');
      assert.equal((await again.getHistory('a')).length, 1);
    } finally {
      await again.close();
    }
    await assert.rejects(f.manager.getBalance('a'), /closed/);
  });

  test('an open database is shared: other tables stay, the connection stays open', async () => {
    const file = path.join(tempDir(), 'shared.db');
    const sessions = new SqliteSessionStore(file);
    const db = new Database(file);
    db.exec('CREATE TABLE other (x INTEGER)');
    const store = new SqliteBillingStore(db);
    const m = new BillingManager({ store });
    await m.createAccount('a', { currency: 'JPY' });
    await m.close();
    assert.equal(db.open, true, 'a database the store did not open is not closed by it');
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM billing_accounts').get() as { n: number }).n, 1);
    assert.equal(typeof (db.prepare('SELECT 1 AS one').get() as { one: unknown }).one, 'number', 'the connection keeps its own integer mode');
    db.close();
    await sessions.close();
  });

  test('the journal is append-only', async () => {
    const f = billingFixture();
    await f.manager.createAccount('a', { currency: 'EUR' });
    await f.manager.balanceUpdate({ caller: 'op', endUserIdentifier: 'a', referenceCode: 'r', amount: '3' });
    assert.throws(() => f.store.db.prepare('UPDATE billing_journal SET amount = 1').run(), /append-only/);
    assert.throws(() => f.store.db.prepare('DELETE FROM billing_journal').run(), /append-only/);
  });

  test('a failing operation leaves nothing behind (rollback), and transactions queue', async () => {
    const f = billingFixture();
    await f.manager.createAccount('a', { currency: 'EUR' });
    await assert.rejects(f.store.transaction('write', async (tx) => {
      await tx.insertBalance({ account: 'a', name: 'x', amount: 5n, expires: null });
      throw new Error('boom');
    }), /boom/);
    assert.deepEqual(await f.manager.getBalanceTypes('a'), ['']);
    let leaked: Parameters<Parameters<typeof f.store.transaction>[1]>[0] | undefined;
    await f.store.transaction('read', async (tx) => { leaked = tx; });
    await assert.rejects(leaked!.accounts(), /used after it ended/);
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((n) => f.store.transaction('write', async (tx) => {
      order.push(n);
      await tx.accounts();
      order.push(n);
    })));
    assert.deepEqual(order, [1, 1, 2, 2, 3, 3], 'one transaction at a time');
  });

  test('group commit: transactions requested together share one commit, yet each succeeds or fails alone', async () => {
    const f = billingFixture();
    await f.manager.createAccount('a', { currency: 'EUR' });
    const commits = countCommits(f.store);
    const credits = Array.from({ length: 20 }, (_, i) => f.manager.balanceUpdate({ caller: 'op', endUserIdentifier: 'a', referenceCode: `c${i}`, amount: '1' }));
    // One of the group fails half-way: its own writes are rolled back, the others' are not.
    const failing = f.store.transaction('write', async (tx) => {
      await tx.insertBalance({ account: 'a', name: 'half-way', amount: 5n, expires: null });
      throw new Error('boom');
    });
    const results = await Promise.allSettled([...credits, failing]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 20);
    assert.match(String((results[20] as PromiseRejectedResult).reason), /boom/);
    assert.equal(commits(), 1, 'the 21 transactions were committed by one COMMIT');
    assert.equal((await f.manager.getBalance('a')).balances[0].amount, '20.00');
    assert.deepEqual(await f.manager.getBalanceTypes('a'), ['']);
    assert.equal((await f.store.audit()).ok, true);
  });

  test('group commit: when the commit itself fails, every transaction of the group fails and none is applied', async () => {
    const f = billingFixture();
    await f.manager.createAccount('a', { currency: 'EUR' });
    f.store.db.pragma('foreign_keys = ON');
    const credits = Array.from({ length: 5 }, (_, i) => f.manager.balanceUpdate({ caller: 'op', endUserIdentifier: 'a', referenceCode: `c${i}`, amount: '1' }));
    // A foreign key checked only at COMMIT (deferred) makes the group's commit fail.
    const dangling = f.store.transaction('write', async (tx) => {
      f.store.db.pragma('defer_foreign_keys = ON');
      await tx.insertBalance({ account: 'nobody', name: 'x', amount: 1n, expires: null });
    });
    const results = await Promise.allSettled([...credits, dangling]);
    assert.deepEqual(results.map((r) => r.status), Array(6).fill('rejected'), JSON.stringify(results.map((r) => r.status)));
    assert.match(String((results[0] as PromiseRejectedResult).reason), /FOREIGN KEY/i);
    f.store.db.pragma('foreign_keys = OFF');
    assert.equal((await f.manager.getBalance('a')).balances[0].amount, '0.00');
    // The store goes on: a retry of the same request is applied now.
    await f.manager.balanceUpdate({ caller: 'op', endUserIdentifier: 'a', referenceCode: 'c0', amount: '1' });
    assert.equal((await f.manager.getBalance('a')).balances[0].amount, '1.00');
  });

  test('audit finds balances that differ from their journal, broken running sums, negative balances, bad reservations', async () => {
    const f = billingFixture({ reservationIds: true });
    const m = f.manager;
    await m.createAccount('a', { currency: 'EUR', balances: ['data'] });
    await m.balanceUpdate({ caller: 'op', endUserIdentifier: 'a', referenceCode: 'r', amount: '10' });
    await m.reserveAmount({ caller: 'app', endUserIdentifier: 'a', amount: '5' });
    await m.chargeReservation({ caller: 'app', reservationIdentifier: 'res-1', amount: '2', referenceCode: 'c' });
    const clean = await m.audit();
    assert.deepEqual({ ...clean, discrepancies: clean.discrepancies.length }, { ok: true, accounts: 1, balances: 2, journalEntries: 2, reservations: 1, discrepancies: 0 });
    const db = f.store.db;
    db.prepare("UPDATE billing_balances SET amount = amount + 1 WHERE account = 'a' AND name = ''").run();
    db.prepare("UPDATE billing_balances SET amount = -1 WHERE account = 'a' AND name = 'data'").run();
    db.prepare("UPDATE billing_reservations SET charged = 600 WHERE id = 'res-1'").run();
    db.prepare(`INSERT INTO billing_journal (time, account, balance, kind, amount, balance_after, reservation) VALUES (0, 'a', 'gone', 'charge', -1, 5, NULL)`).run();
    db.prepare(`INSERT INTO billing_journal (time, account, balance, kind, amount, balance_after, reservation) VALUES (0, 'a', 'data', 'reservation-charge', 0, 0, 'res-x')`).run();
    const report = await m.audit();
    assert.equal(report.ok, false);
    const checks = report.discrepancies.map((d) => `${d.check}:${d.balance ?? ''}:${d.reservation ?? ''}`).sort();
    assert.deepEqual(checks, [
      'balance-journal-sum::', 'balance-journal-sum:data:', 'journal-running-balance:gone:', 'journal-unknown-balance:gone:',
      'negative-balance:data:', 'reservation-bounds::res-1', 'reservation-journal-account:data:res-x', 'reservation-journal-sum::res-1',
    ]);
    assert.match(report.discrepancies.find((d) => d.check === 'balance-journal-sum' && d.balance === '')!.message, /is 801 minor units but its journal adds up to 800/);
  });

  test('the store refuses work once closed', async () => {
    const store = new SqliteBillingStore(':memory:');
    await store.close();
    await assert.rejects(store.transaction('read', async () => 1), /closed/);
    const m = new BillingManager({ store: new SqliteBillingStore(':memory:') });
    await assert.rejects(m.getAccount('x'), kind('unknown-account'));
    await m.close();
  });
});

/** Counts the COMMITs the store's connection runs from now on. */
function countCommits(store: SqliteBillingStore): () => number {
  let n = 0;
  const exec = store.db.exec.bind(store.db);
  store.db.exec = ((sql: string) => { if (/^\s*COMMIT/i.test(sql)) n++; return exec(sql); }) as typeof store.db.exec;
  return () => n;
}
