// The BillingManager: accounts, charges and refunds, idempotent retries, named balances, credit
// expiry, split charges, vouchers, history — each with its error kinds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { BILLING_ERROR_KINDS, BillingError, type BillingManager } from '../src/index.js';
import { billingFixture, DAY, kind, T0 } from './support/billing-fixture.js';
import { REPO_ROOT } from './support/cli.js';

const APP = 'app-1';

async function funded(m: BillingManager, id = 'tel:+33600000001', amount = '10.00', options: { currency?: string; balances?: string[] } = {}) {
  await m.createAccount(id, { currency: options.currency ?? 'EUR', balances: options.balances });
  await m.balanceUpdate({ caller: 'operator', endUserIdentifier: id, referenceCode: `fund-${id}`, amount });
  return id;
}

const balanceOf = async (m: BillingManager, id: string, name = '') => (await m.getBalance(id, name)).balances[0];

describe('accounts', () => {
  test('createAccount: the default balance "" plus named ones, at zero, no expiry', async () => {
    const { manager } = billingFixture();
    const view = await manager.createAccount('tel:+33600000001', { currency: 'eur', balances: ['data', 'sms'] });
    assert.equal(view.currency, 'EUR');
    assert.equal(view.created, new Date(T0).toISOString());
    assert.deepEqual(view.balances.map((b) => [b.name, b.amount, b.reserved, b.available, b.expires]),
      [['', '0.00', '0.00', '0.00', null], ['data', '0.00', '0.00', '0.00', null], ['sms', '0.00', '0.00', '0.00', null]]);
    assert.deepEqual(await manager.getBalanceTypes('tel:+33600000001'), ['', 'data', 'sms']);
    assert.deepEqual(await manager.listAccounts(), [{ endUserIdentifier: 'tel:+33600000001', currency: 'EUR', created: new Date(T0).toISOString() }]);
    assert.deepEqual(await manager.getAccount('tel:+33600000001'), view);
  });

  test('errors: account-exists, unknown-account, unknown-currency, invalid-request', async () => {
    const { manager } = billingFixture();
    await manager.createAccount('a', { currency: 'EUR' });
    await assert.rejects(manager.createAccount('a', { currency: 'EUR' }), kind('account-exists', /a already has an account/));
    await assert.rejects(manager.getBalance('nobody'), kind('unknown-account', /no account for nobody/));
    await assert.rejects(manager.createAccount('b', { currency: 'EURO' }), kind('unknown-currency'));
    await assert.rejects(manager.createAccount('', { currency: 'EUR' }), kind('invalid-request', /endUserIdentifier is required/));
    await assert.rejects(manager.createAccount('c\n', { currency: 'EUR' }), kind('invalid-request', /control characters/));
    await assert.rejects(manager.createAccount('d', { currency: 'EUR', balances: ['x', 'x'] }), kind('invalid-request', /named twice/));
    await assert.rejects(manager.createAccount('e', { currency: 'EUR', balances: ['n'.repeat(65)] }), kind('invalid-request', /at most 64/));
    assert.deepEqual((await manager.listAccounts()).map((a) => a.endUserIdentifier), ['a']);
  });
});

describe('chargeAmount and refundAmount', () => {
  test('a charge takes from the balance and writes one journal entry; a refund gives back', async () => {
    const { manager } = billingFixture();
    const id = await funded(manager);
    const charge = await manager.chargeAmount({ caller: APP, endUserIdentifier: id, amount: '2.50', referenceCode: 'r1', description: 'ringtone', code: 'RT1' });
    assert.deepEqual({ ...charge, transactionId: typeof charge.transactionId }, {
      operation: 'chargeAmount', transactionId: 'string', endUserIdentifier: id, balanceType: '', amount: '2.50', currency: 'EUR',
      balanceAfter: '7.50', referenceCode: 'r1', time: new Date(T0).toISOString(),
    });
    const refund = await manager.refundAmount({ caller: APP, endUserIdentifier: id, amount: '1', currency: 'EUR', referenceCode: 'r2' });
    assert.equal(refund.balanceAfter, '8.50');
    assert.equal((await balanceOf(manager, id)).amount, '8.50');
    const history = await manager.getHistory(id);
    assert.deepEqual(history.map((h) => [h.kind, h.amount, h.balanceAfter, h.caller, h.referenceCode]),
      [['refund', '1.00', '8.50', APP, 'r2'], ['charge', '-2.50', '7.50', APP, 'r1'], ['credit', '10.00', '10.00', 'operator', `fund-${id}`]]);
    assert.equal(history[1].description, 'ringtone');
    assert.equal(history[1].code, 'RT1');
    assert.equal(history[1].transactionId, charge.transactionId);
    assert.deepEqual((await manager.audit()).discrepancies, []);
  });

  test('insufficient-funds, currency-mismatch, invalid-amount, unknown-balance: nothing changes', async () => {
    const { manager } = billingFixture();
    const id = await funded(manager, 'u', '5.00');
    const base = { caller: APP, endUserIdentifier: id, referenceCode: 'x' };
    await assert.rejects(manager.chargeAmount({ ...base, amount: '5.01' }), kind('insufficient-funds', /5\.00 EUR available, less than 5\.01 EUR/));
    await assert.rejects(manager.chargeAmount({ ...base, amount: '1', currency: 'USD' }), kind('currency-mismatch', /USD.*EUR/));
    await assert.rejects(manager.chargeAmount({ ...base, amount: '1', currency: 'XYZ' }), kind('unknown-currency'));
    await assert.rejects(manager.chargeAmount({ ...base, amount: '0.001' }), kind('invalid-amount'));
    await assert.rejects(manager.chargeAmount({ ...base, amount: '-1' }), kind('invalid-amount'));
    await assert.rejects(manager.refundAmount({ ...base, amount: '0' }), kind('invalid-amount'));
    await assert.rejects(manager.chargeAmount({ ...base, amount: '1', balanceType: 'data' }), kind('unknown-balance', /no balance named 'data'/));
    await assert.rejects(manager.chargeAmount({ ...base, endUserIdentifier: 'ghost', amount: '1' }), kind('unknown-account'));
    await assert.rejects(manager.chargeAmount({ ...base, referenceCode: '', amount: '1' }), kind('invalid-request', /referenceCode/));
    await assert.rejects(manager.chargeAmount({ ...base, caller: '', amount: '1' }), kind('invalid-request', /caller/));
    await assert.rejects(manager.chargeAmount(null as never), kind('invalid-request', /must be an object/));
    // A failed request is not remembered: the same reference works once the request is valid.
    const ok = await manager.chargeAmount({ ...base, amount: '5.00' });
    assert.equal(ok.balanceAfter, '0.00');
    assert.equal((await manager.getHistory(id)).length, 2);
  });

  test('a balance cannot go beyond 64 bits of minor units: amount-overflow', async () => {
    const { manager } = billingFixture();
    const id = await funded(manager, 'big', '92233720368547758.00');
    await assert.rejects(manager.refundAmount({ caller: APP, endUserIdentifier: id, amount: '0.08', referenceCode: 'o' }), kind('amount-overflow'));
    assert.equal((await manager.refundAmount({ caller: APP, endUserIdentifier: id, amount: '0.07', referenceCode: 'o' })).balanceAfter, '92233720368547758.07');
    assert.ok((await manager.audit()).ok);
  });
});

describe('idempotency', () => {
  test('a retry with the same parameters returns the original result and charges once', async () => {
    const { manager, ...f } = billingFixture();
    const id = await funded(manager);
    const req = { caller: APP, endUserIdentifier: id, amount: '3.00', referenceCode: 'pay-1' };
    const first = await manager.chargeAmount(req);
    f.advance(DAY);
    const again = await manager.chargeAmount({ ...req, amount: '3' });
    assert.deepEqual(again, first, 'the stored result, time included');
    assert.equal((await balanceOf(manager, id)).amount, '7.00');
    assert.equal((await manager.getHistory(id)).length, 2);
  });

  test('concurrent duplicates are applied once', async () => {
    const { manager } = billingFixture();
    const id = await funded(manager);
    const req = { caller: APP, endUserIdentifier: id, amount: '1.00', referenceCode: 'dup' };
    const results = await Promise.all(Array.from({ length: 10 }, () => manager.chargeAmount(req)));
    assert.equal(new Set(results.map((r) => r.transactionId)).size, 1);
    assert.equal((await balanceOf(manager, id)).amount, '9.00');
  });

  test('the same reference with other parameters: reference-conflict; scoped per caller and operation', async () => {
    const { manager } = billingFixture();
    const id = await funded(manager);
    await manager.chargeAmount({ caller: APP, endUserIdentifier: id, amount: '1.00', referenceCode: 'r' });
    await assert.rejects(manager.chargeAmount({ caller: APP, endUserIdentifier: id, amount: '2.00', referenceCode: 'r' }), kind('reference-conflict', /'r' was already used/));
    await assert.rejects(manager.chargeAmount({ caller: APP, endUserIdentifier: id, amount: '1.00', description: 'other', referenceCode: 'r' }), kind('reference-conflict'));
    // Another caller, or another operation, may use the same reference.
    await manager.chargeAmount({ caller: 'app-2', endUserIdentifier: id, amount: '1.00', referenceCode: 'r' });
    await manager.refundAmount({ caller: APP, endUserIdentifier: id, amount: '1.00', referenceCode: 'r' });
    assert.equal((await balanceOf(manager, id)).amount, '9.00');
  });
});

describe('named balances and balanceType', () => {
  test('each balance is charged and reported on its own', async () => {
    const { manager } = billingFixture();
    const id = await funded(manager, 'multi', '10.00', { balances: ['data'] });
    await manager.balanceUpdate({ caller: 'operator', endUserIdentifier: id, referenceCode: 'd', balanceType: 'data', amount: '4.00' });
    await manager.chargeAmount({ caller: APP, endUserIdentifier: id, amount: '1.50', balanceType: 'data', referenceCode: 'c' });
    assert.equal((await balanceOf(manager, id)).amount, '10.00');
    assert.equal((await balanceOf(manager, id, 'data')).amount, '2.50');
    await assert.rejects(manager.chargeAmount({ caller: APP, endUserIdentifier: id, amount: '3', balanceType: 'data', referenceCode: 'c2' }), kind('insufficient-funds'));
    assert.deepEqual((await manager.getBalance(id)).balances.map((b) => b.name), ['', 'data']);
    await assert.rejects(manager.getBalance(id, 'voice'), kind('unknown-balance'));
  });
});

describe('balanceUpdate and credit expiry', () => {
  test('periodDays sets and extends the expiry; an expired balance cannot be charged but can be refunded and credited', async () => {
    const f = billingFixture();
    const m = f.manager;
    await m.createAccount('p', { currency: 'EUR' });
    const credit = await m.balanceUpdate({ caller: 'op', endUserIdentifier: 'p', referenceCode: 'c1', amount: '20', periodDays: 30 });
    assert.equal(credit.expires, new Date(T0 + 30 * DAY).toISOString());
    assert.deepEqual(await m.getCreditExpiryDate('p'), { endUserIdentifier: 'p', balanceType: '', expires: credit.expires, expired: false });
    // A shorter period never shortens the expiry.
    const shorter = await m.balanceUpdate({ caller: 'op', endUserIdentifier: 'p', referenceCode: 'c2', amount: '1', periodDays: 5 });
    assert.equal(shorter.expires, credit.expires);
    f.advance(30 * DAY);
    assert.equal((await m.getCreditExpiryDate('p')).expired, true);
    const view = await balanceOf(m, 'p');
    assert.deepEqual([view.amount, view.available, view.expired], ['21.00', '0.00', true]);
    await assert.rejects(m.chargeAmount({ caller: APP, endUserIdentifier: 'p', amount: '1', referenceCode: 'x' }), kind('balance-expired', /expired at 2030-01-31/));
    await assert.rejects(m.reserveAmount({ caller: APP, endUserIdentifier: 'p', amount: '1' }), kind('balance-expired'));
    assert.equal((await m.refundAmount({ caller: APP, endUserIdentifier: 'p', amount: '1', referenceCode: 'x' })).balanceAfter, '22.00');
    // Zero amount with a period: only the validity changes (renewal).
    const renewed = await m.balanceUpdate({ caller: 'op', endUserIdentifier: 'p', referenceCode: 'c3', amount: '0', periodDays: 10 });
    assert.equal(renewed.expires, new Date(T0 + 40 * DAY).toISOString());
    assert.equal((await m.chargeAmount({ caller: APP, endUserIdentifier: 'p', amount: '2', referenceCode: 'y' })).balanceAfter, '20.00');
  });

  test('debits: only what is available; zero without period and bad periods refused', async () => {
    const { manager } = billingFixture();
    const id = await funded(manager, 'd', '5.00');
    await manager.reserveAmount({ caller: APP, endUserIdentifier: id, amount: '4.00' });
    await assert.rejects(manager.balanceUpdate({ caller: 'op', endUserIdentifier: id, referenceCode: 'd1', amount: '-1.01' }), kind('insufficient-funds'));
    const debit = await manager.balanceUpdate({ caller: 'op', endUserIdentifier: id, referenceCode: 'd1', amount: '-1.00' });
    assert.equal(debit.balanceAfter, '4.00');
    assert.equal((await manager.getHistory(id, { maxEntries: 1 }))[0].kind, 'debit');
    await assert.rejects(manager.balanceUpdate({ caller: 'op', endUserIdentifier: id, referenceCode: 'd2', amount: '0' }), kind('invalid-amount', /changes nothing/));
    await assert.rejects(manager.balanceUpdate({ caller: 'op', endUserIdentifier: id, referenceCode: 'd3', amount: '1', periodDays: 0 }), kind('invalid-request', /periodDays/));
    await assert.rejects(manager.balanceUpdate({ caller: 'op', endUserIdentifier: id, referenceCode: 'd4', amount: '1', periodDays: 1.5 }), kind('invalid-request', /periodDays/));
  });
});

describe('chargeSplitAmount', () => {
  test('all payers charged by percentage, the rounding remainder on the first', async () => {
    const { manager } = billingFixture();
    for (const id of ['a', 'b', 'c']) await funded(manager, id, '5.00');
    const r = await manager.chargeSplitAmount({
      caller: APP, referenceCode: 's1', amount: '1.00',
      endUsers: [{ endUserIdentifier: 'a', percentage: '33.333333' }, { endUserIdentifier: 'b', percentage: 33.333333 }, { endUserIdentifier: 'c', percentage: '33.333334' }],
    });
    assert.deepEqual(r.charges.map((c) => [c.endUserIdentifier, c.percentage, c.amount, c.balanceAfter]),
      [['a', '33.333333', '0.34', '4.66'], ['b', '33.333333', '0.33', '4.67'], ['c', '33.333334', '0.33', '4.67']]);
    assert.equal(r.amount, '1.00');
    assert.deepEqual((await manager.getHistory('b', { maxEntries: 1 })).map((h) => [h.kind, h.amount, h.referenceCode]), [['split-charge', '-0.33', 's1']]);
    assert.deepEqual(await manager.chargeSplitAmount({
      caller: APP, referenceCode: 's1', amount: '1',
      endUsers: [{ endUserIdentifier: 'a', percentage: '33.3333330' }, { endUserIdentifier: 'b', percentage: '33.333333' }, { endUserIdentifier: 'c', percentage: 33.333334 }],
    }), r, 'a retry returns the first result');
    assert.ok((await manager.audit()).ok);
  });

  test('all or nothing: one payer short, and nobody is charged', async () => {
    const { manager } = billingFixture();
    await funded(manager, 'rich', '100.00');
    await funded(manager, 'poor', '1.00');
    await assert.rejects(manager.chargeSplitAmount({
      caller: APP, referenceCode: 's', amount: '10.00', endUsers: [{ endUserIdentifier: 'rich', percentage: 50 }, { endUserIdentifier: 'poor', percentage: 50 }],
    }), kind('insufficient-funds', /poor/));
    assert.equal((await balanceOf(manager, 'rich')).amount, '100.00');
    assert.equal((await manager.getHistory('rich')).length, 1);
  });

  test('split-percentages and currency-mismatch', async () => {
    const { manager } = billingFixture();
    await funded(manager, 'e', '10');
    await funded(manager, 'u', '10', { currency: 'USD' });
    const split = (endUsers: { endUserIdentifier: string; percentage: number | string }[], amount = '1') =>
      manager.chargeSplitAmount({ caller: APP, referenceCode: 's', amount, endUsers });
    await assert.rejects(split([{ endUserIdentifier: 'e', percentage: 60 }, { endUserIdentifier: 'u', percentage: 30 }]), kind('split-percentages', /90, not 100/));
    await assert.rejects(split([{ endUserIdentifier: 'e', percentage: 50 }, { endUserIdentifier: 'e', percentage: 50 }]), kind('split-percentages', /named twice/));
    await assert.rejects(split([{ endUserIdentifier: 'e', percentage: 0 }, { endUserIdentifier: 'u', percentage: 100 }]), kind('split-percentages'));
    await assert.rejects(split([]), kind('invalid-request', /endUsers/));
    await assert.rejects(split([{ endUserIdentifier: 'e', percentage: 50 }, { endUserIdentifier: 'u', percentage: 50 }]), kind('currency-mismatch'));
  });
});

describe('vouchers', () => {
  test('a voucher credits its balance once, with its validity; the PIN is checked', async () => {
    const f = billingFixture();
    const m = f.manager;
    await m.createAccount('v', { currency: 'EUR', balances: ['bonus'] });
    const provisioned = await m.provisionVoucher({ voucherIdentifier: 'V-1', amount: '15', currency: 'EUR', pin: '1234', balanceType: 'bonus', validityDays: 90 });
    assert.deepEqual([provisioned.amount, provisioned.hasPin, provisioned.usedBy], ['15.00', true, null]);
    const req = { caller: APP, endUserIdentifier: 'v', referenceCode: 'vu1', voucherIdentifier: 'V-1' };
    await assert.rejects(m.voucherUpdate(req), kind('voucher-pin', /needs its PIN/));
    await assert.rejects(m.voucherUpdate({ ...req, voucherPin: '0000' }), kind('voucher-pin', /wrong PIN/));
    const used = await m.voucherUpdate({ ...req, voucherPin: '1234' });
    assert.deepEqual([used.balanceType, used.amount, used.balanceAfter, used.expires], ['bonus', '15.00', '15.00', new Date(T0 + 90 * DAY).toISOString()]);
    assert.deepEqual(await m.voucherUpdate({ ...req, voucherPin: '1234' }), used, 'a retry returns the first result');
    await assert.rejects(m.voucherUpdate({ ...req, referenceCode: 'vu2', voucherPin: '1234' }), kind('voucher-used'));
    assert.deepEqual([(await m.getVoucher('V-1')).usedBy, (await m.getVoucher('V-1')).usedAt], ['v', new Date(T0).toISOString()]);
    assert.equal((await balanceOf(m, 'v', 'bonus')).amount, '15.00');
    // The PIN is not stored as given.
    const row = f.store.db.prepare('SELECT pin_hash FROM billing_vouchers').get() as { pin_hash: string };
    assert.match(row.pin_hash, /^scrypt\$/);
    assert.doesNotMatch(row.pin_hash, /1234/);
  });

  test('unknown-voucher, voucher-exists, currency-mismatch, unknown-balance', async () => {
    const { manager: m } = billingFixture();
    await m.createAccount('v', { currency: 'EUR' });
    await m.provisionVoucher({ voucherIdentifier: 'USD-5', amount: '5', currency: 'USD' });
    await m.provisionVoucher({ voucherIdentifier: 'DATA-5', amount: '5', currency: 'EUR', balanceType: 'data' });
    await assert.rejects(m.provisionVoucher({ voucherIdentifier: 'USD-5', amount: '5', currency: 'USD' }), kind('voucher-exists'));
    await assert.rejects(m.provisionVoucher({ voucherIdentifier: 'bad', amount: '5.001', currency: 'EUR' }), kind('invalid-amount'));
    const req = { caller: APP, endUserIdentifier: 'v', referenceCode: 'r' };
    await assert.rejects(m.voucherUpdate({ ...req, voucherIdentifier: 'nope' }), kind('unknown-voucher'));
    await assert.rejects(m.getVoucher('nope'), kind('unknown-voucher'));
    await assert.rejects(m.voucherUpdate({ ...req, voucherIdentifier: 'USD-5' }), kind('currency-mismatch'));
    await assert.rejects(m.voucherUpdate({ ...req, voucherIdentifier: 'DATA-5' }), kind('unknown-balance'));
    assert.equal((await m.getVoucher('USD-5')).usedBy, null, 'a failed redemption leaves the voucher unused');
  });
});

describe('getHistory', () => {
  test('newest first, since a date, at most maxEntries', async () => {
    const f = billingFixture();
    const m = f.manager;
    const id = await funded(m, 'h', '100');
    for (let i = 1; i <= 5; i++) {
      f.advance(DAY);
      await m.chargeAmount({ caller: APP, endUserIdentifier: id, amount: `${i}`, referenceCode: `c${i}` });
    }
    const all = await m.getHistory(id);
    assert.deepEqual(all.map((h) => h.amount), ['-5.00', '-4.00', '-3.00', '-2.00', '-1.00', '100.00']);
    assert.deepEqual(all.map((h) => h.date), [5, 4, 3, 2, 1, 0].map((d) => new Date(T0 + d * DAY).toISOString()));
    assert.deepEqual((await m.getHistory(id, { maxEntries: 2 })).map((h) => h.amount), ['-5.00', '-4.00']);
    assert.deepEqual((await m.getHistory(id, { since: new Date(T0 + 3 * DAY) })).map((h) => h.amount), ['-5.00', '-4.00', '-3.00']);
    assert.deepEqual((await m.getHistory(id, { since: new Date(T0 + 3 * DAY).toISOString(), maxEntries: 1 })).map((h) => h.amount), ['-5.00']);
    assert.deepEqual(await m.getHistory(id, { since: T0 + 6 * DAY }), []);
    await assert.rejects(m.getHistory(id, { maxEntries: 0 }), kind('invalid-request', /maxEntries/));
    await assert.rejects(m.getHistory(id, { since: 'yesterday' }), kind('invalid-request', /since/));
    await assert.rejects(m.getHistory('ghost'), kind('unknown-account'));
  });
});

describe('error kinds', () => {
  test('every kind is documented with a meaning and its variables; errors carry them', () => {
    for (const [k, doc] of Object.entries(BILLING_ERROR_KINDS)) {
      assert.ok(doc.meaning.length > 20, k);
      assert.ok(doc.variables.length > 0, k);
    }
    // docs/reference/billing.md has exactly this table.
    const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'reference', 'billing.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Error kinds'), doc.indexOf('## The store'));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| (.+) \| (.+) \|$/gm)].map((m) => [m[1], m[2], m[3]]);
    assert.deepEqual(rows, Object.entries(BILLING_ERROR_KINDS).map(([k, d]) => [k, d.meaning, d.variables.join(', ')]));
    const e = new BillingError('unknown-account', 'no account for x', ['x']);
    assert.deepEqual(JSON.parse(JSON.stringify(e)), { kind: 'unknown-account', message: 'no account for x', variables: ['x'] });
  });
});
