// run-scxml billing through the built bin: accounts, credit, vouchers, balance, statement, audit,
// --json, the database path (--db, $ORCHESTRION_DB, ./orchestrion.db) and the exit codes.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { BillingManager, SqliteBillingStore } from '../src/index.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/billing-fixture.js';

const billing = (dir: string, ...args: string[]) => runCli(['billing', ...args], { cwd: dir });

describe('run-scxml billing', () => {
  test('create an account, credit it, provision a voucher, print balance and statement, audit', async () => {
    const dir = tempDir();
    let r = await billing(dir, 'create-account', 'tel:+33600000001', '--currency', 'eur', '--balance', 'data', '--balance', 'sms');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "created account tel:+33600000001 in EUR, balances: the default balance, balance 'data', balance 'sms'\n");
    assert.ok(existsSync(path.join(dir, 'orchestrion.db')), 'the default database is ./orchestrion.db');

    r = await billing(dir, 'credit', 'tel:+33600000001', '12.50', '--reference', 'topup-1', '--expires-days', '30', '--description', 'top-up');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^credited 12\.50 EUR to the default balance of tel:\+33600000001: now 12\.50 EUR, expires \d{4}-\d\d-\d\dT[^,]+ \(transaction 1\)\n$/);
    r = await billing(dir, 'credit', 'tel:+33600000001', '12.50', '--reference', 'topup-1', '--expires-days', '30', '--description', 'top-up');
    assert.equal(r.code, 0, 'the same --reference again: the first result, applied once');
    assert.match(r.stdout, /now 12\.50 EUR/);
    r = await billing(dir, 'credit', 'tel:+33600000001', '3', '--balance', 'data');
    assert.equal(r.code, 0, r.stderr);
    r = await billing(dir, 'credit', 'tel:+33600000001', '--', '-2.50');
    assert.match(r.stdout, /^debited 2\.50 EUR from the default balance of tel:\+33600000001: now 10\.00 EUR/);

    r = await billing(dir, 'voucher', 'V-100', '5', '--currency', 'EUR', '--pin', '4321', '--balance', 'sms', '--validity-days', '60');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "voucher V-100: 5.00 EUR for balance 'sms', with PIN, valid 60 days\n");

    r = await billing(dir, 'balance', 'tel:+33600000001');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines.slice(0, 2), ['tel:+33600000001 (EUR)', 'balance              amount  reserved  available  expires']);
    assert.match(r.lines[2], /^the default balance {2}10\.00 {3}0\.00 {6}10\.00 {6}\d{4}-/);
    assert.equal(r.lines[3], "balance 'data'       3.00    0.00      3.00       -");
    assert.equal(r.lines[4], "balance 'sms'        0.00    0.00      0.00       -");

    r = await billing(dir, 'statement', 'tel:+33600000001');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines[0], 'statement of tel:+33600000001 (EUR), oldest first');
    assert.deepEqual(r.lines.slice(2, 5).map((l) => l.split(/\s{2,}/).slice(1, 6)), [
      ['1', 'the default balance', 'credit', '12.50', '12.50'],
      ['2', "balance 'data'", 'credit', '3.00', '3.00'],
      ['3', 'the default balance', 'debit', '-2.50', '10.00'],
    ]);
    assert.match(r.lines[2], /topup-1 +top-up$/);
    r = await billing(dir, 'statement', 'tel:+33600000001', '--max', '1', '--json');
    const statement = JSON.parse(r.stdout);
    assert.deepEqual(statement.entries.map((e: { transactionId: string }) => e.transactionId), ['3']);
    r = await billing(dir, 'statement', 'tel:+33600000001', '--since', '2999-01-01');
    assert.equal(r.lines.length, 5, 'no entries since then: the title, the column names and the three balances');

    r = await billing(dir, 'accounts', '--json');
    assert.deepEqual(JSON.parse(r.stdout).map((a: { endUserIdentifier: string }) => a.endUserIdentifier), ['tel:+33600000001']);

    r = await billing(dir, 'audit');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 account\(s\), 3 balance\(s\), 3 journal entries, 0 reservation\(s\)\nOK: every balance equals the sum of its journal\n$/);
  });

  test('audit exits 1 and names each discrepancy', async () => {
    const dir = tempDir();
    await billing(dir, 'create-account', 'u', '--currency', 'JPY');
    await billing(dir, 'credit', 'u', '500');
    const db = new Database(path.join(dir, 'orchestrion.db'));
    db.prepare("UPDATE billing_balances SET amount = 499 WHERE account = 'u'").run();
    db.close();
    const r = await billing(dir, 'audit');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /discrepancy \(balance-journal-sum\): balance '' of u is 499 minor units but its journal adds up to 500\nFAILED: 1 discrepancy\n$/);
    const json = await billing(dir, 'audit', '--json');
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout).ok, false);
  });

  test('--db and $ORCHESTRION_DB choose the database; the result is the manager\'s', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'custom.db');
    let r = await billing(dir, 'create-account', 'a', '--currency', 'KWD', '--db', file, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).currency, 'KWD');
    const saved = process.env.ORCHESTRION_DB;
    process.env.ORCHESTRION_DB = file;
    try {
      r = await billing(dir, 'credit', 'a', '1.005', '--json');
    } finally {
      if (saved === undefined) delete process.env.ORCHESTRION_DB;
      else process.env.ORCHESTRION_DB = saved;
    }
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).balanceAfter, '1.005');
    assert.equal(existsSync(path.join(dir, 'orchestrion.db')), false);
    const m = new BillingManager({ store: new SqliteBillingStore(file) });
    try {
      assert.equal((await m.getBalance('a')).balances[0].amount, '1.005');
      assert.equal((await m.getHistory('a'))[0].caller, 'operator:cli');
    } finally {
      await m.close();
    }
  });

  test('add-balance: new empty balances on an existing account, which can then be credited', async () => {
    const dir = tempDir();
    await billing(dir, 'create-account', 'u', '--currency', 'EUR', '--balance', 'data');
    let r = await billing(dir, 'add-balance', 'u', '--balance', 'bonus', '--balance', 'roaming');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "account u now has the balances: the default balance, balance 'bonus', balance 'data', balance 'roaming'\n");
    r = await billing(dir, 'credit', 'u', '1', '--balance', 'bonus');
    assert.equal(r.code, 0, r.stderr);
    r = await billing(dir, 'add-balance', 'u', '--balance', 'data', '--json');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /u already has a balance named 'data' \(balance-exists\)/);
    r = await billing(dir, 'balance', 'u', '--json');
    assert.deepEqual(JSON.parse(r.stdout).balances.map((b: { name: string; amount: string }) => `${b.name}=${b.amount}`), ['=0.00', 'bonus=1.00', 'data=0.00', 'roaming=0.00']);
  });

  test('failures exit 1 with the reason; usage errors exit 2; --help exits 0', async () => {
    const dir = tempDir();
    let r = await billing(dir, 'balance', 'nobody');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no billing database at .*orchestrion\.db/);
    await billing(dir, 'create-account', 'u', '--currency', 'EUR');
    for (const [args, message] of [
      [['create-account', 'u', '--currency', 'EUR'], /u already has an account \(account-exists\)/],
      [['create-account', 'v', '--currency', 'EURO'], /'EURO' is not an ISO 4217 currency code.*\(unknown-currency\)/],
      [['credit', 'u', '1.001'], /EUR has 2 decimals: '1\.001' has more \(invalid-amount\)/],
      [['credit', 'u', '1', '--balance', 'data'], /no balance named 'data' \(it has ''\) \(unknown-balance\)/],
      [['credit', 'ghost', '1'], /no account for ghost \(unknown-account\)/],
      [['credit', 'u', '--', '-1'], /0\.00 EUR available, less than 1\.00 EUR \(insufficient-funds\)/],
      [['statement', 'u', '--since', 'last week'], /since must be a date/],
      [['add-balance', 'u', '--balance', ''], /u already has a balance named '' \(balance-exists\)/],
      [['add-balance', 'ghost', '--balance', 'x'], /no account for ghost \(unknown-account\)/],
    ] as const) {
      r = await billing(dir, ...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
    r = await billing(dir, 'credit', 'u', '-1');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown option '-1'[\s\S]*Try 'run-scxml billing --help'/);
    for (const [args, message] of [
      [[], /a command is required/],
      [['refund', 'u'], /unknown command 'refund'/],
      [['credit', 'u'], /credit takes <endUser> <amount>, got 1/],
      [['create-account', 'w'], /needs --currency/],
      [['credit', 'u', '1', '--expires-days', 'soon'], /--expires-days must be a whole number/],
      [['credit', 'u', '1', '--balance', 'a', '--balance', 'b'], /--balance may be given once/],
      [['voucher', 'V', '1'], /needs --currency/],
      [['add-balance', 'u'], /add-balance needs --balance/],
    ] as const) {
      r = await billing(dir, ...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
    r = await billing(dir, '--help');
    assert.equal(r.code, 0);
    for (const word of ['create-account', 'credit', 'voucher', 'balance', 'statement', 'accounts', 'audit', '--db', 'ORCHESTRION_DB', '--json', '--since', '--max', '--pin', '--expires-days', 'Exit codes']) {
      assert.ok(r.stdout.includes(word), `help mentions ${word}`);
    }
    r = await runCli(['--help']);
    assert.match(r.stdout, /run-scxml billing <command>/);
  });
});
