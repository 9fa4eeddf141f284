// Crash safety through the service: `run-scxml serve` takes a stream of concurrent charges and
// refunds over HTTP (with client retries) and is killed with SIGKILL mid-stream. After a restart
// every balance equals the sum of its journal, every acknowledged request was applied exactly once,
// and re-sending every request (acknowledged or not) applies none twice.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { BillingManager, SqliteBillingStore } from '../src/index.js';
import { tempDir } from './support/billing-fixture.js';
import { startServe } from './support/serve.js';
import { CRASH_CURRENCY, createCrashAccounts, crashAccounts, crashPlan, assertBalancesAsPlanned, runPlan, type PlannedOperation } from './support/billing-crash.js';

const OPERATIONS = 1500;
const CALLER = 'crash-client';
const PASSWORD = 'crash-pw';

const serve = (db: string, config: string) => startServe(['--port', '0', '--db', db, '--config', config, '--log-level', 'error']);

function perform(url: string) {
  const authorization = `Basic ${Buffer.from(`${CALLER}:${PASSWORD}`).toString('base64')}`;
  return async (p: PlannedOperation) => {
    const res = await fetch(`${url}/rest/amount_charging/${p.op === 'charge' ? 'chargeAmount' : 'refundAmount'}`, {
      method: 'POST', headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ endUserIdentifier: p.endUserIdentifier, charge: { description: 'crash', currency: CRASH_CURRENCY, amount: p.amount }, referenceCode: p.referenceCode }),
    });
    if (res.status !== 200) throw new Error(`${p.referenceCode}: HTTP ${res.status} ${await res.text()}`);
    // ParlayX answers a charge with nothing: the acknowledgement is the 200 itself.
    return { referenceCode: p.referenceCode, transactionId: '', balanceAfter: '' };
  };
}

function journalByReference(store: SqliteBillingStore): Map<string, number> {
  const rows = store.db.prepare('SELECT reference FROM billing_journal WHERE caller = ?').all(CALLER) as { reference: string }[];
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.reference, (counts.get(r.reference) ?? 0) + 1);
  return counts;
}

describe('ParlayX payment crash safety', () => {
  test('SIGKILL of run-scxml serve during concurrent charges and refunds over HTTP', { timeout: 240_000 }, async (t) => {
    const dir = tempDir();
    const db = path.join(dir, 'service.db');
    const config = path.join(dir, 'serve.json');
    writeFileSync(config, JSON.stringify({ accounts: [{ name: CALLER, password: PASSWORD, settings: { billing: 'any' } }] }));
    const accounts = crashAccounts(4);
    const plan = crashPlan(OPERATIONS, accounts);
    await createCrashAccounts(db, accounts);

    // 1. The stream, and the kill once 300 requests were acknowledged.
    const first = await serve(db, config);
    const acked: string[] = [];
    const stream = runPlan(plan, perform(first.url), {
      concurrency: 8, duplicateEvery: 7,
      onAck: (p) => {
        acked.push(p.referenceCode);
        if (acked.length === 300) setTimeout(() => first.child.kill('SIGKILL'), Math.random() * 10);
      },
    });
    await assert.rejects(stream, 'requests in flight fail when the service dies');
    const ended = await first.exited;
    assert.equal(ended.signal, 'SIGKILL');
    assert.ok(acked.length >= 300 && acked.length < OPERATIONS, `${acked.length} acknowledgements`);

    // 2. The database after the kill: the audit is clean, each acknowledged request applied exactly once.
    let store = new SqliteBillingStore(db);
    let manager = new BillingManager({ store });
    assert.deepEqual((await manager.audit()).discrepancies, []);
    let journal = journalByReference(store);
    for (const ref of acked) assert.equal(journal.get(ref), 1, `${ref} acknowledged and applied ${journal.get(ref) ?? 0} times`);
    for (const [ref, n] of journal) assert.equal(n, 1, `${ref} applied ${n} times`);
    t.diagnostic(`killed after ${acked.length} acknowledgements; ${journal.size} requests applied`);
    await manager.close();

    // 3. Restart; the clients send everything again: nothing is applied twice, nothing is missing.
    const second = await serve(db, config);
    await runPlan(plan, perform(second.url), { concurrency: 8, duplicateEvery: 7, onAck: () => {} });
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, 'a clean shutdown on SIGTERM');

    store = new SqliteBillingStore(db);
    manager = new BillingManager({ store });
    try {
      assert.deepEqual((await manager.audit()).discrepancies, []);
      journal = journalByReference(store);
      assert.equal(journal.size, OPERATIONS);
      for (const p of plan) assert.equal(journal.get(p.referenceCode), 1, p.referenceCode);
      await assertBalancesAsPlanned(manager, plan, accounts);
    } finally {
      await manager.close();
    }
  });
});
