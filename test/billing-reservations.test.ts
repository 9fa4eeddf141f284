// Reservations: reserve, reserve more, charge in parts, release, expiry on the injected clock,
// reserved credit unavailable to other charges, ownership by caller, idempotent retries.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BillingManager } from '../src/index.js';
import { billingFixture, kind, MINUTE, T0 } from './support/billing-fixture.js';

const APP = 'app-1';

async function account(m: BillingManager, amount = '10.00', balances?: string[]) {
  await m.createAccount('sub', { currency: 'EUR', balances });
  await m.balanceUpdate({ caller: 'op', endUserIdentifier: 'sub', referenceCode: 'fund', amount });
  return 'sub';
}
const main = async (m: BillingManager) => (await m.getBalance('sub', '')).balances[0];

describe('reservations', () => {
  test('reserve, reserve more, charge in parts, release the rest', async () => {
    const { manager: m } = billingFixture({ reservationIds: true });
    await account(m);
    const r = await m.reserveAmount({ caller: APP, endUserIdentifier: 'sub', amount: '3.00', description: 'call to 1002' });
    assert.deepEqual(r, {
      reservationIdentifier: 'res-1', endUserIdentifier: 'sub', balanceType: '', currency: 'EUR', reserved: '3.00', charged: '0.00',
      remaining: '3.00', state: 'open', created: new Date(T0).toISOString(), expires: new Date(T0 + 30 * MINUTE).toISOString(), description: 'call to 1002',
    });
    assert.deepEqual([(await main(m)).amount, (await main(m)).reserved, (await main(m)).available], ['10.00', '3.00', '7.00']);
    const more = await m.reserveAdditionalAmount({ caller: APP, reservationIdentifier: 'res-1', amount: '2.00' });
    assert.deepEqual([more.reserved, more.remaining, more.expires], ['5.00', '5.00', r.expires]);
    const c1 = await m.chargeReservation({ caller: APP, reservationIdentifier: 'res-1', amount: '1.50', referenceCode: 'c1' });
    assert.deepEqual([c1.amount, c1.balanceAfter, c1.reservation.charged, c1.reservation.remaining, c1.reservation.state], ['1.50', '8.50', '1.50', '3.50', 'open']);
    const c2 = await m.chargeReservation({ caller: APP, reservationIdentifier: 'res-1', amount: '2.00', referenceCode: 'c2' });
    assert.equal(c2.reservation.remaining, '1.50');
    assert.deepEqual([(await main(m)).amount, (await main(m)).reserved, (await main(m)).available], ['6.50', '1.50', '5.00']);
    await assert.rejects(m.chargeReservation({ caller: APP, reservationIdentifier: 'res-1', amount: '1.51', referenceCode: 'c3' }),
      kind('reservation-exceeded', /holds 1\.50 EUR, less than 1\.51/));
    const released = await m.releaseReservation({ caller: APP, reservationIdentifier: 'res-1' });
    assert.deepEqual([released.released, released.reservation.state, released.reservation.charged], ['1.50', 'released', '3.50']);
    assert.deepEqual([(await main(m)).amount, (await main(m)).reserved, (await main(m)).available], ['6.50', '0.00', '6.50']);
    const history = await m.getHistory('sub');
    assert.deepEqual(history.map((h) => [h.kind, h.amount, h.reservationIdentifier, h.description]),
      [['reservation-charge', '-2.00', 'res-1', 'call to 1002'], ['reservation-charge', '-1.50', 'res-1', 'call to 1002'], ['credit', '10.00', null, null]]);
    await assert.rejects(m.releaseReservation({ caller: APP, reservationIdentifier: 'res-1' }), kind('reservation-closed', /already released/));
    await assert.rejects(m.chargeReservation({ caller: APP, reservationIdentifier: 'res-1', amount: '0.01', referenceCode: 'c4' }), kind('reservation-closed'));
    await assert.rejects(m.reserveAdditionalAmount({ caller: APP, reservationIdentifier: 'res-1', amount: '1' }), kind('reservation-closed'));
    assert.deepEqual((await m.audit()).discrepancies, []);
  });

  test('reserved credit is not available to charges, other reservations or debits', async () => {
    const { manager: m } = billingFixture({ reservationIds: true });
    await account(m, '5.00');
    await m.reserveAmount({ caller: APP, endUserIdentifier: 'sub', amount: '4.00' });
    await assert.rejects(m.chargeAmount({ caller: APP, endUserIdentifier: 'sub', amount: '1.01', referenceCode: 'x' }), kind('insufficient-funds', /1\.00 EUR available/));
    await assert.rejects(m.reserveAmount({ caller: APP, endUserIdentifier: 'sub', amount: '1.01' }), kind('insufficient-funds'));
    await assert.rejects(m.reserveAdditionalAmount({ caller: APP, reservationIdentifier: 'res-1', amount: '1.01' }), kind('insufficient-funds'));
    await assert.rejects(m.balanceUpdate({ caller: 'op', endUserIdentifier: 'sub', referenceCode: 'd', amount: '-1.01' }), kind('insufficient-funds'));
    assert.equal((await m.chargeAmount({ caller: APP, endUserIdentifier: 'sub', amount: '1.00', referenceCode: 'x' })).balanceAfter, '4.00');
    // The reservation can still take all it holds.
    assert.equal((await m.chargeReservation({ caller: APP, reservationIdentifier: 'res-1', amount: '4.00', referenceCode: 'c' })).balanceAfter, '0.00');
  });

  test('a reservation on a named balance holds only that balance', async () => {
    const { manager: m } = billingFixture({ reservationIds: true });
    await account(m, '5.00', ['data']);
    await m.balanceUpdate({ caller: 'op', endUserIdentifier: 'sub', referenceCode: 'd', balanceType: 'data', amount: '2' });
    const r = await m.reserveAmount({ caller: APP, endUserIdentifier: 'sub', amount: '2.00', balanceType: 'data' });
    assert.equal(r.balanceType, 'data');
    const balances = (await m.getBalance('sub')).balances;
    assert.deepEqual(balances.map((b) => [b.name, b.available, b.reserved]), [['', '5.00', '0.00'], ['data', '0.00', '2.00']]);
    await m.chargeReservation({ caller: APP, reservationIdentifier: 'res-1', amount: '0.50', referenceCode: 'c' });
    assert.equal((await m.getBalance('sub', 'data')).balances[0].amount, '1.50');
    assert.equal((await main(m)).amount, '5.00');
    await assert.rejects(m.reserveAmount({ caller: APP, endUserIdentifier: 'sub', amount: '1', balanceType: 'sms' }), kind('unknown-balance'));
  });

  test('expiry: an expired reservation holds nothing, cannot be used, and is marked when touched or swept', async () => {
    const f = billingFixture({ reservationIds: true });
    const m = f.manager;
    await account(m, '5.00');
    await m.reserveAmount({ caller: APP, endUserIdentifier: 'sub', amount: '4.00', expiresInMs: 10 * MINUTE });
    await m.reserveAmount({ caller: APP, endUserIdentifier: 'sub', amount: '1.00', expiresInMs: 20 * MINUTE });
    f.advance(10 * MINUTE - 1);
    assert.equal((await main(m)).available, '0.00');
    f.advance(1);
    assert.deepEqual([(await main(m)).reserved, (await main(m)).available], ['1.00', '4.00']);
    assert.equal((await m.getReservation(APP, 'res-1')).state, 'expired', 'reported expired before it is marked');
    await assert.rejects(m.chargeReservation({ caller: APP, reservationIdentifier: 'res-1', amount: '1', referenceCode: 'c' }), kind('reservation-expired', /expired at/));
    await assert.rejects(m.reserveAdditionalAmount({ caller: APP, reservationIdentifier: 'res-1', amount: '1' }), kind('reservation-expired'));
    await assert.rejects(m.releaseReservation({ caller: APP, reservationIdentifier: 'res-1' }), kind('reservation-expired'));
    const stored = () => (f.store.db.prepare('SELECT id, state FROM billing_reservations ORDER BY id').all() as { id: string; state: string }[]).map((r) => `${r.id}:${r.state}`);
    assert.deepEqual(stored(), ['res-1:open', 'res-2:open']);
    // Touching the account in a successful write marks its expired reservations.
    await m.chargeAmount({ caller: APP, endUserIdentifier: 'sub', amount: '4.00', referenceCode: 'x' });
    assert.deepEqual(stored(), ['res-1:expired', 'res-2:open']);
    f.advance(10 * MINUTE);
    assert.deepEqual(await m.sweepExpiredReservations(), { expired: 1 });
    assert.deepEqual(stored(), ['res-1:expired', 'res-2:expired']);
    assert.deepEqual(await m.sweepExpiredReservations(), { expired: 0 });
    assert.ok((await m.audit()).ok);
  });

  test('only the caller who reserved may use the reservation; others see it as unknown', async () => {
    const { manager: m } = billingFixture({ reservationIds: true });
    await account(m);
    await m.reserveAmount({ caller: APP, endUserIdentifier: 'sub', amount: '1.00' });
    await assert.rejects(m.chargeReservation({ caller: 'app-2', reservationIdentifier: 'res-1', amount: '1', referenceCode: 'c' }), kind('unknown-reservation', /no reservation res-1/));
    await assert.rejects(m.releaseReservation({ caller: 'app-2', reservationIdentifier: 'res-1' }), kind('unknown-reservation'));
    await assert.rejects(m.getReservation('app-2', 'res-1'), kind('unknown-reservation'));
    await assert.rejects(m.reserveAdditionalAmount({ caller: APP, reservationIdentifier: 'res-9', amount: '1' }), kind('unknown-reservation'));
    await assert.rejects(m.reserveAmount({ caller: APP, endUserIdentifier: 'sub', amount: '1', expiresInMs: 0 }), kind('invalid-request', /expiresInMs/));
  });

  test('retries: reserve, reserve more, charge and release with a referenceCode apply once', async () => {
    const { manager: m } = billingFixture({ reservationIds: true });
    await account(m);
    const reserve = { caller: APP, endUserIdentifier: 'sub', amount: '2.00', referenceCode: 'res-a' };
    const r = await m.reserveAmount(reserve);
    assert.deepEqual(await m.reserveAmount(reserve), r);
    await assert.rejects(m.reserveAmount({ ...reserve, amount: '3.00' }), kind('reference-conflict'));
    const more = { caller: APP, reservationIdentifier: r.reservationIdentifier, amount: '1.00', referenceCode: 'more-a' };
    const m1 = await m.reserveAdditionalAmount(more);
    assert.deepEqual(await m.reserveAdditionalAmount(more), m1);
    const charge = { caller: APP, reservationIdentifier: r.reservationIdentifier, amount: '2.50', referenceCode: 'charge-a' };
    const c = await m.chargeReservation(charge);
    assert.deepEqual(await m.chargeReservation(charge), c);
    const release = { caller: APP, reservationIdentifier: r.reservationIdentifier, referenceCode: 'rel-a' };
    const rel = await m.releaseReservation(release);
    assert.deepEqual(await m.releaseReservation(release), rel, 'a retried release returns its result, not reservation-closed');
    const view = await m.getReservation(APP, r.reservationIdentifier);
    assert.deepEqual([view.reserved, view.charged, view.state], ['3.00', '2.50', 'released']);
    assert.deepEqual([(await main(m)).amount, (await main(m)).available], ['7.50', '7.50']);
    assert.equal((await m.listAccounts()).length, 1);
    assert.equal((await m.getHistory('sub')).length, 2);
  });
});
