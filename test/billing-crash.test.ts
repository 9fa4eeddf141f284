// Crash safety at the manager level: a child process performs a stream of concurrent charges and
// refunds with referenceCodes (and client retries), printing each acknowledged reference; it is
// killed with SIGKILL mid-stream. After a restart the audit is clean, every acknowledged request
// was applied exactly once, and re-running every request (acknowledged or not) applies nothing
// twice: the balances end up exactly as if each request had been applied once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { BillingManager, SqliteBillingStore, parseAmount } from '../src/index.js';
import { tempDir } from './support/billing-fixture.js';
import { REPO_ROOT } from './support/cli.js';
import {
  CRASH_CURRENCY, createCrashAccounts, crashAccounts, crashPlan, assertBalancesAsPlanned, parseAcks, type Acknowledgement,
} from './support/billing-crash.js';

const WORKER = path.join(REPO_ROOT, 'dist', 'test', 'support', 'billing-crash-worker.js');
const OPERATIONS = 4000;
const ACCOUNTS = 4;
const CALLER = 'crash-client';

interface WorkerRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Runs the worker; with `killAfterAcks`, SIGKILLs it once that many acks were printed, after a
 * random 0–20 ms more, so the kill lands anywhere: in a transaction, in its fsync, between the
 * commit and the ack.
 */
function runWorker(db: string, killAfterAcks?: number): Promise<WorkerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, '--db', db, '--operations', String(OPERATIONS), '--accounts', String(ACCOUNTS), '--caller', CALLER],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let acks = 0;
    let killing = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // Every complete line before "done" is an ack.
      for (const c of chunk) if (c === '\n') acks++;
      if (killAfterAcks !== undefined && acks >= killAfterAcks && !killing) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), Math.random() * 20);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ stdout, stderr, code, signal });
    });
  });
}

/** Journal entries the crash client wrote, by referenceCode. */
function journalByReference(store: SqliteBillingStore): Map<string, { id: number; balanceAfter: bigint; account: string; amount: bigint }[]> {
  const rows = store.db.prepare('SELECT id, reference, account, amount, balance_after FROM billing_journal WHERE caller = ? ORDER BY id')
    .safeIntegers(true).all(CALLER) as { id: bigint; reference: string; account: string; amount: bigint; balance_after: bigint }[];
  const byReference = new Map<string, { id: number; balanceAfter: bigint; account: string; amount: bigint }[]>();
  for (const r of rows) {
    const list = byReference.get(r.reference) ?? [];
    list.push({ id: Number(r.id), balanceAfter: r.balance_after, account: r.account, amount: r.amount });
    byReference.set(r.reference, list);
  }
  return byReference;
}

describe('billing crash safety', () => {
  test('SIGKILL in the middle of concurrent charges and refunds: nothing lost after acknowledgement, nothing applied twice', { timeout: 300_000 }, async (t) => {
    const db = path.join(tempDir(), 'crash.db');
    const accounts = crashAccounts(ACCOUNTS);
    const plan = crashPlan(OPERATIONS, accounts);
    await createCrashAccounts(db, accounts);

    // 1. The stream, killed mid-way.
    const killed = await runWorker(db, 300);
    assert.equal(killed.signal, 'SIGKILL', `the worker was not killed (exit ${killed.code}): ${killed.stderr}`);
    assert.doesNotMatch(killed.stdout, /^done/m, 'killed before the end of the stream');
    const acked = parseAcks(killed.stdout);
    assert.ok(acked.length >= 300 && acked.length < OPERATIONS, `${acked.length} acknowledgements`);

    // 2. After the restart: the audit is clean and every acknowledged request is applied exactly once.
    let store = new SqliteBillingStore(db);
    let manager = new BillingManager({ store });
    const audit = await manager.audit();
    assert.deepEqual(audit.discrepancies, []);
    let journal = journalByReference(store);
    for (const ack of acked) {
      const entries = journal.get(ack.referenceCode) ?? [];
      assert.equal(entries.length, 1, `${ack.referenceCode} is applied ${entries.length} times`);
      assert.equal(String(entries[0].id), ack.transactionId, `${ack.referenceCode}: the acknowledged transaction`);
      assert.equal(entries[0].balanceAfter, parseAmount(ack.balanceAfter, CRASH_CURRENCY, 'non-negative'));
    }
    for (const [reference, entries] of journal) assert.equal(entries.length, 1, `${reference} applied ${entries.length} times`);
    const appliedBeforeRestart = journal.size;
    assert.ok(appliedBeforeRestart >= acked.length, 'everything acknowledged was applied');
    // Applied but never acknowledged: at most the requests in flight when the kill came.
    assert.ok(appliedBeforeRestart - acked.length <= 8, `${appliedBeforeRestart - acked.length} applied without acknowledgement`);
    t.diagnostic(`killed after ${acked.length} acknowledgements; ${appliedBeforeRestart} requests applied`);
    const records = store.db.prepare('SELECT COUNT(*) AS n FROM billing_idempotency WHERE caller = ?').get(CALLER) as { n: number };
    assert.equal(records.n, appliedBeforeRestart, 'each applied request has its idempotency record (same transaction)');
    await manager.close();

    // 3. The clients retry everything: acknowledged requests get their first answer, the rest are applied once.
    const rerun = await runWorker(db);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, new RegExp(`^done ${OPERATIONS}$`, 'm'));
    const second = new Map(parseAcks(rerun.stdout).map((a) => [a.referenceCode, a] as const));
    assert.equal(second.size, OPERATIONS);
    for (const ack of acked) assert.deepEqual(second.get(ack.referenceCode), ack, `${ack.referenceCode}: the retry got the first answer`);

    store = new SqliteBillingStore(db);
    manager = new BillingManager({ store });
    try {
      assert.deepEqual((await manager.audit()).discrepancies, []);
      journal = journalByReference(store);
      assert.equal(journal.size, OPERATIONS);
      for (const p of plan) {
        const entries = journal.get(p.referenceCode) ?? [];
        assert.equal(entries.length, 1, `${p.referenceCode} applied ${entries.length} times`);
        const minor = parseAmount(p.amount, CRASH_CURRENCY);
        assert.deepEqual([entries[0].account, entries[0].amount], [p.endUserIdentifier, p.op === 'charge' ? -minor : minor], p.referenceCode);
      }
      await assertBalancesAsPlanned(manager, plan, accounts);
      const acks: Acknowledgement[] = [...second.values()];
      assert.ok(acks.every((a) => /^\d+$/.test(a.transactionId)));
    } finally {
      await manager.close();
    }
  });
});
