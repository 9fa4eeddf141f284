// ParlayX Payment and Account Management end to end, through a real SOAP client (npm `soap` reading
// our WSDLs) and plain HTTP: every operation, retries that must not charge twice, and every fault.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../src/index.js';
import { rest, soapClient, soapFault, startTestService, type TestService } from './support/parlayx.js';

const DAY = 24 * 3600 * 1000;

describe('Payment and Account Management', () => {
  let t: TestService;
  let clock: VirtualClock;
  let charging: any;
  let reserve: any;
  let accounts: any;

  before(async () => {
    clock = new VirtualClock();
    t = await startTestService({
      clock,
      accounts: [
        { name: 'shop', password: 'alice-pw', settings: { billing: 'any' } },
        { name: 'alice', password: 'alice-pw', settings: { addresses: ['tel:+3311'], billing: 'own' } },
        { name: 'bob', password: 'bob-pw', settings: { billing: 'none' } },
      ],
    });
    const billing = t.service.billing;
    await billing.createAccount('tel:+3311', { currency: 'EUR', balances: ['bonus'] });
    await billing.createAccount('tel:+3312', { currency: 'EUR' });
    await billing.createAccount('tel:+3313', { currency: 'JPY' });
    for (const [who, amount] of [['tel:+3311', '50.00'], ['tel:+3312', '20.00'], ['tel:+3313', '1000']] as const) {
      await billing.balanceUpdate({ caller: 'operator', endUserIdentifier: who, referenceCode: `init-${who}`, amount });
    }
    await billing.provisionVoucher({ voucherIdentifier: 'V-10', amount: '10.00', currency: 'EUR', pin: '4321' });
    // The clients log in as the 'shop' application (billing: any), unless a test says otherwise.
    charging = await soapClient(t.url, 'amount_charging', 'shop', 'alice-pw');
    reserve = await soapClient(t.url, 'reserve_amount_charging', 'shop', 'alice-pw');
    accounts = await soapClient(t.url, 'account_management', 'shop', 'alice-pw');
  });
  after(() => t.close());

  const balances = async (who: string) => {
    const [r] = await accounts.getBalanceAsync({ endUserIdentifier: who });
    // node-soap reads xsd:decimal as a number
    return Object.fromEntries([r.result].flat().map((b: any) => [b.balanceType ?? '', Number(b.amount)]));
  };
  const charge = (amount: string, extra: Record<string, unknown> = {}) => ({ description: 'test', currency: 'EUR', amount, ...extra });

  test('chargeAmount and refundAmount; a retried referenceCode is applied once; a reused one with other parameters is refused', async () => {
    await charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3311', charge: charge('1.99'), referenceCode: 'c-1' });
    await charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3311', charge: charge('1.99'), referenceCode: 'c-1' });
    assert.equal((await balances('tel:+3311'))[''], 48.01);
    await charging.refundAmountAsync({ endUserIdentifier: 'tel:+3311', charge: charge('0.99'), referenceCode: 'r-1' });
    assert.equal((await balances('tel:+3311'))[''], 49.00);
    const conflict = await soapFault(charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3311', charge: charge('2.00'), referenceCode: 'c-1' }));
    assert.equal(conflict.messageId, 'SVC0002');
    assert.match(String(conflict.variables), /reference-conflict/);
    // balanceType names one of the account's balances (our extension of every Payment request)
    await charging.refundAmountAsync({ endUserIdentifier: 'tel:+3311', charge: charge('5.00'), referenceCode: 'b-1', balanceType: 'bonus' });
    await charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3311', charge: charge('1.50'), referenceCode: 'b-2', balanceType: 'bonus' });
    assert.deepEqual(await balances('tel:+3311'), { '': 49, bonus: 3.5 });
  });

  test('payment faults: insufficient funds, unknown end user or balance, bad charging information', async () => {
    const poor = await soapFault(charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3312', charge: charge('20.01'), referenceCode: 'p-1' }));
    assert.deepEqual([poor.kind, poor.messageId], ['PolicyException', 'POL1001']);
    assert.equal((await balances('tel:+3312'))[''], 20.00, 'nothing charged');
    assert.equal((await soapFault(charging.chargeAmountAsync({ endUserIdentifier: 'tel:+9999', charge: charge('1.00'), referenceCode: 'p-2' }))).messageId, 'SVC0002');
    assert.equal((await soapFault(charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3312', charge: charge('1.00'), referenceCode: 'p-3', balanceType: 'gold' }))).messageId, 'SVC0002');
    assert.equal((await soapFault(charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3312', charge: charge('1.00', { currency: 'USD' }), referenceCode: 'p-4' }))).messageId, 'SVC0007');
    assert.equal((await soapFault(charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3312', charge: charge('1.001'), referenceCode: 'p-5' }))).messageId, 'SVC0007');
    assert.equal((await soapFault(charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3312', charge: { description: 'by code', code: 'TARIFF-7' }, referenceCode: 'p-6' }))).messageId, 'SVC0007');
    assert.equal((await soapFault(charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3312', charge: charge('abc'), referenceCode: 'p-7' }))).messageId, 'SVC0002');
    assert.equal((await balances('tel:+3312'))[''], 20.00, 'no failed request charged anything');
  });

  test('permissions: an account moves only the money its billing setting allows', async () => {
    const alice = await soapClient(t.url, 'amount_charging', 'alice', 'alice-pw');
    await alice.chargeAmountAsync({ endUserIdentifier: 'tel:+3311', charge: charge('1.00'), referenceCode: 'own-1' });
    const other = await soapFault(alice.chargeAmountAsync({ endUserIdentifier: 'tel:+3312', charge: charge('1.00'), referenceCode: 'own-2' }));
    assert.deepEqual([other.kind, other.messageId], ['PolicyException', 'POL0001']);
    const bob = await soapClient(t.url, 'account_management', 'bob');
    assert.equal((await soapFault(bob.getBalanceAsync({ endUserIdentifier: 'tel:+3311' }))).messageId, 'POL0001');
  });

  test('chargeSplitAmount: all payers or none', async () => {
    await charging.chargeSplitAmountAsync({ endUsers: [{ endUserIdentifier: 'tel:+3311', percentage: 70 }, { endUserIdentifier: 'tel:+3312', percentage: 30 }], charge: charge('1.01'), referenceCode: 's-1' });
    assert.equal((await balances('tel:+3312'))[''], 19.70);
    const tooMuch = await soapFault(charging.chargeSplitAmountAsync({ endUsers: [{ endUserIdentifier: 'tel:+3311', percentage: 1 }, { endUserIdentifier: 'tel:+3312', percentage: 99 }], charge: charge('30.00'), referenceCode: 's-2' }));
    assert.equal(tooMuch.messageId, 'POL1001');
    assert.equal((await balances('tel:+3312'))[''], 19.70);
    const badSplit = await soapFault(charging.chargeSplitAmountAsync({ endUsers: [{ endUserIdentifier: 'tel:+3311', percentage: 60 }, { endUserIdentifier: 'tel:+3312', percentage: 30 }], charge: charge('1.00'), referenceCode: 's-3' }));
    assert.equal(badSplit.messageId, 'SVC0002');
  });

  test('reserved charging: reserve, reserve more, charge part, release the rest; reserved credit is not available', async () => {
    const before = (await balances('tel:+3312'))[''];
    const [r] = await reserve.reserveAmountAsync({ endUserIdentifier: 'tel:+3312', charge: charge('5.00') });
    const id = r.result;
    assert.equal((await balances('tel:+3312'))[''], Math.round((before! - 5) * 100) / 100);
    await reserve.reserveAdditionalAmountAsync({ reservationIdentifier: id, charge: charge('2.00') });
    await reserve.chargeReservationAsync({ reservationIdentifier: id, charge: charge('3.50'), referenceCode: 'cr-1' });
    await reserve.chargeReservationAsync({ reservationIdentifier: id, charge: charge('3.50'), referenceCode: 'cr-1' });
    const over = await soapFault(reserve.chargeReservationAsync({ reservationIdentifier: id, charge: charge('3.51'), referenceCode: 'cr-2' }));
    assert.equal(over.messageId, 'SVC0270');
    await reserve.releaseReservationAsync({ reservationIdentifier: id });
    assert.equal((await balances('tel:+3312'))[''], Math.round((before! - 3.5) * 100) / 100);
    assert.equal((await soapFault(reserve.chargeReservationAsync({ reservationIdentifier: id, charge: charge('0.10'), referenceCode: 'cr-3' }))).messageId, 'SVC0002');
    const alice = await soapClient(t.url, 'reserve_amount_charging', 'alice', 'alice-pw');
    const [own] = await reserve.reserveAmountAsync({ endUserIdentifier: 'tel:+3311', charge: charge('1.00') });
    assert.equal((await soapFault(alice.releaseReservationAsync({ reservationIdentifier: own.result }))).messageId, 'SVC0002', "another caller's reservation is unknown");
    await reserve.releaseReservationAsync({ reservationIdentifier: own.result });
  });

  test('account management: balance types, expiry, balanceUpdate with a period, vouchers, history', async () => {
    const [types] = await accounts.getBalanceTypesAsync({ endUserIdentifier: 'tel:+3311' });
    assert.deepEqual([types.result].flat().map((x: unknown) => x ?? ''), ['', 'bonus']);
    await accounts.balanceUpdateAsync({ endUserIdentifier: 'tel:+3313', referenceCode: 'u-1', balanceType: '', amount: '500', period: 10 });
    const [expiry] = await accounts.getCreditExpiryDateAsync({ endUserIdentifier: 'tel:+3313' });
    const date = new Date([expiry.result].flat()[0].date).getTime();
    assert.equal(date, clock.now() + 10 * DAY);
    assert.equal((await balances('tel:+3313'))[''], 1500);
    clock.advanceBy(11 * DAY);
    const expired = await soapFault(charging.chargeAmountAsync({ endUserIdentifier: 'tel:+3313', charge: charge('1', { currency: 'JPY' }), referenceCode: 'x-1' }));
    assert.deepEqual([expired.kind, expired.messageId], ['PolicyException', 'POL1002']);

    assert.equal((await soapFault(accounts.voucherUpdateAsync({ endUserIdentifier: 'tel:+3312', referenceCode: 'v-0', voucherIdentifier: 'V-10', voucherPin: '0000' }))).messageId, 'SVC0002');
    const before = (await balances('tel:+3312'))[''];
    await accounts.voucherUpdateAsync({ endUserIdentifier: 'tel:+3312', referenceCode: 'v-1', voucherIdentifier: 'V-10', voucherPin: '4321' });
    await accounts.voucherUpdateAsync({ endUserIdentifier: 'tel:+3312', referenceCode: 'v-1', voucherIdentifier: 'V-10', voucherPin: '4321' });
    assert.equal((await balances('tel:+3312'))[''], Math.round((before! + 10) * 100) / 100);
    const used = await soapFault(accounts.voucherUpdateAsync({ endUserIdentifier: 'tel:+3311', referenceCode: 'v-2', voucherIdentifier: 'V-10', voucherPin: '4321' }));
    assert.match(String(used.variables), /voucher-used/);

    const [history] = await accounts.getHistoryAsync({ endUserIdentifier: 'tel:+3312', maxEntries: 2 });
    const entries = [history.result].flat();
    assert.equal(entries.length, 2);
    assert.match(entries[0].transactionDetails, /10\.00 EUR/);
    assert.match(entries[0].transactionDetails, /reference v-1/);
    assert.equal((await soapFault(accounts.getHistoryAsync({ endUserIdentifier: 'tel:+3312', maxEntries: 0 }))).messageId, 'SVC0002');
  });

  test('the JSON mirror: the same operations and faults over plain HTTP', async () => {
    const ok = await rest(t.url, 'amount_charging/chargeAmount', { endUserIdentifier: 'tel:+3311', charge: { description: 'json', currency: 'EUR', amount: '0.50' }, referenceCode: 'j-1' }, null);
    assert.equal(ok.status, 401);
    const auth = { authorization: `Basic ${Buffer.from('shop:alice-pw').toString('base64')}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${t.url}/rest/${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() as any };
    };
    const before = (await post('account_management/getBalance', { endUserIdentifier: 'tel:+3311' })).body.result.find((b: any) => b.balanceType === '').amount;
    assert.deepEqual(await post('amount_charging/chargeAmount', { endUserIdentifier: 'tel:+3311', charge: { description: 'json', currency: 'EUR', amount: '0.50' }, referenceCode: 'j-1' }), { status: 200, body: {} });
    assert.deepEqual(await post('amount_charging/chargeAmount', { endUserIdentifier: 'tel:+3311', charge: { description: 'json', currency: 'EUR', amount: '0.50' }, referenceCode: 'j-1' }), { status: 200, body: {} });
    const after = (await post('account_management/getBalance', { endUserIdentifier: 'tel:+3311' })).body.result.find((b: any) => b.balanceType === '').amount;
    assert.equal(Number(after), Number(before) - 0.5);
    const poor = await post('amount_charging/chargeAmount', { endUserIdentifier: 'tel:+3311', charge: { description: 'json', currency: 'EUR', amount: '1000000' }, referenceCode: 'j-2' });
    assert.equal(poor.status, 403);
    assert.equal(poor.body.requestError.policyException.messageId, 'POL1001');
    const reserved = await post('reserve_amount_charging/reserveAmount', { endUserIdentifier: 'tel:+3311', charge: { description: 'json', amount: '1.00' } });
    assert.match(reserved.body.result, /\S/);
    assert.deepEqual(await post('reserve_amount_charging/releaseReservation', { reservationIdentifier: reserved.body.result }), { status: 200, body: {} });
  });
});
