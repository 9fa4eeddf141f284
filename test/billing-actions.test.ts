// The billing actions in charts: the prepaid-call example on the simulated switch (credit used
// up, callee hangs up, no credit), and every action's done and error events.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  AdapterRegistry, BILLING_NS, BillingManager, createSimulatedSwitches, DEFAULT_TOPOLOGY, SqliteBillingStore, VirtualClock,
  type LogEntry, type Session, type SimulatedSwitch,
} from '../src/index.js';
import { newEngine } from './support/engines.js';
import { REPO_ROOT } from './support/cli.js';
import { tempDir } from './support/billing-fixture.js';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'prepaid-call.scxml');
const SUBSCRIBER = 'tel:+33600000001';
const plain = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

async function billingRig(credit = '10.00') {
  const clock = new VirtualClock();
  const sims = createSimulatedSwitches(DEFAULT_TOPOLOGY, clock) as SimulatedSwitch[];
  const registry = new AdapterRegistry(sims);
  const manager = new BillingManager({ store: new SqliteBillingStore(path.join(tempDir(), 'billing.db')), now: () => clock.now() });
  await manager.createAccount(SUBSCRIBER, { currency: 'EUR' });
  await manager.balanceUpdate({ caller: 'operator', endUserIdentifier: SUBSCRIBER, referenceCode: 'topup', amount: credit });
  const logs: LogEntry[] = [];
  const events: { name: string; data: any }[] = [];
  const engine = newEngine({ clock, adapters: registry, billing: { manager }, onLog: (e) => logs.push(e) });
  engine.onClose(() => { sims.forEach((s) => s.dispose()); return manager.close(); });
  engine.addHooks({ beforeEvent: (_s, e) => { events.push({ name: e.name, data: plain(e.data) }); } });
  const run = async (chart: string, data?: Record<string, unknown>): Promise<Session> => {
    const { chart: compiled, diagnostics } = engine.load(chart);
    assert.ok(compiled, `chart did not load: ${JSON.stringify(diagnostics)}`);
    const session = engine.start(compiled, data ? { data } : {});
    await engine.whenIdle();
    return session;
  };
  return {
    clock, sim: sims[0], registry, manager, engine, logs, events, run,
    logged: (label: string) => logs.filter((l) => l.label === label).map((l) => plain(l.value)),
    balance: async () => (await manager.getBalance(SUBSCRIBER)).balances[0],
  };
}

describe('examples/prepaid-call.scxml', () => {
  test('the call lasts until the reserved credit is used: charged 5 minutes, nothing left to release', async () => {
    const r = await billingRig();
    const session = await r.run(EXAMPLE);
    assert.equal((await session.done).final, 'done');
    assert.deepEqual(r.logged('reserved'), ['2.50 EUR']);
    assert.deepEqual(r.logged('credit used'), ['5 minutes']);
    assert.deepEqual(r.logged('charged'), ['5 minutes: 2.50 EUR, balance 7.50']);
    assert.deepEqual(r.logged('released'), ['0.00 EUR']);
    const [makecall] = r.sim.log.filter((e: any) => e.type === 'request' && e.kind === 'makecall') as any[];
    assert.deepEqual([makecall.payload.from, makecall.payload.to], ['1001', '1002']);
    assert.ok(r.sim.log.some((e: any) => e.type === 'request' && e.kind === 'release'), 'the chart hung up');
    const b = await r.balance();
    assert.deepEqual([b.amount, b.reserved, b.available], ['7.50', '0.00', '7.50']);
    const [charge] = await r.manager.getHistory(SUBSCRIBER, { maxEntries: 1 });
    assert.deepEqual([charge.kind, charge.amount, charge.caller, charge.description], ['reservation-charge', '-2.50', 'chart:prepaid-call', 'call from 1001 to 1002']);
    assert.ok((await r.manager.audit()).ok);
  });

  test('the callee hangs up after 2.5 minutes: 3 started minutes charged, the rest released', async () => {
    const r = await billingRig();
    let scheduled = false;
    r.registry.onEvent((event) => {
      if (!scheduled && event.type === 'call.changed' && event.call.state === 'established') {
        scheduled = true;
        // The hang-up is an operation the engine tracks, so virtual time waits for the switch's
        // events (delivered on a 0 ms timer once the request settled) instead of running ahead.
        r.clock.setTimer(150_000, () => {
          void r.engine.track(r.sim.release({ callId: event.call.callId, dn: '1002' }).then(() => new Promise((resolve) => setImmediate(resolve))));
        });
      }
    });
    const session = await r.run(EXAMPLE);
    assert.equal((await session.done).final, 'done');
    assert.deepEqual(r.logged('credit used'), []);
    assert.ok(r.events.some((e) => e.name === 'interaction.deleted'));
    assert.deepEqual(r.logged('charged'), ['3 minutes: 1.50 EUR, balance 8.50']);
    assert.deepEqual(r.logged('released'), ['1.00 EUR']);
    const b = await r.balance();
    assert.deepEqual([b.amount, b.available], ['8.50', '8.50']);
  });

  test('not enough credit: the reservation is refused and no call is placed', async () => {
    const r = await billingRig('2.49');
    const session = await r.run(EXAMPLE);
    assert.equal((await session.done).final, 'refused');
    assert.match(String(r.logged('refused')[0]), /^insufficient-funds: .*2\.49 EUR available, less than 2\.50 EUR/);
    assert.equal(r.sim.log.filter((e: any) => e.type === 'request').length, 0);
    assert.equal((await r.balance()).amount, '2.49');
  });
});

const chart = (body: string, name = 'billing-test') =>
  `<scxml xmlns="http://www.w3.org/2005/07/scxml" xmlns:b="${BILLING_NS}" version="1.0" datamodel="ecmascript" name="${name}" initial="s">
  <datamodel><data id="req"/><data id="rid"/></datamodel>
  ${body}
  <final id="end"/>
</scxml>`;

describe('billing actions', () => {
  test('chargeamount, refund, balance, reserve, reserveadditional: done events with the results', async () => {
    const r = await billingRig();
    const session = await r.run(chart(`
  <state id="s">
    <onentry>
      <b:chargeamount requestid="req" account="'${SUBSCRIBER}'" amount="1.25" description="'sms'" code="'SMS'" referencecode="'ref-1'"/>
      <log label="req" expr="req"/>
    </onentry>
    <transition event="billing.chargeamount.done" target="again"><log label="charge" expr="_event.data"/></transition>
  </state>
  <state id="again">
    <onentry><b:chargeamount account="'${SUBSCRIBER}'" amount="'1.25'" description="'sms'" code="'SMS'" referencecode="'ref-1'"/></onentry>
    <transition event="billing.chargeamount.done" target="refund"><log label="retry" expr="_event.data.transactionid"/></transition>
  </state>
  <state id="refund">
    <onentry><b:refund account="'${SUBSCRIBER}'" amount="'0.25'"/></onentry>
    <transition event="billing.refund.done" target="reserve"><log label="refund" expr="_event.data.balanceafter"/></transition>
  </state>
  <state id="reserve">
    <onentry><b:reserve account="'${SUBSCRIBER}'" amount="'1'" expiresin="'90s'"/></onentry>
    <transition event="billing.reserve.done" target="more"><assign location="rid" expr="_event.data.reservationid"/><log label="reserve" expr="_event.data"/></transition>
  </state>
  <state id="more">
    <onentry><b:reserveadditional reservationid="rid" amount="'0.50'"/></onentry>
    <transition event="billing.reserveadditional.done" target="balance"><log label="more" expr="_event.data.reserved"/></transition>
  </state>
  <state id="balance">
    <onentry><b:balance account="'${SUBSCRIBER}'"/></onentry>
    <transition event="billing.balance.done" target="end"><log label="balance" expr="_event.data"/></transition>
  </state>`));
    assert.equal((await session.done).final, 'end');
    const [charge] = r.logged('charge') as any[];
    assert.equal(charge.requestid, r.logged('req')[0]);
    assert.deepEqual({ ...charge, requestid: 'x', transactionid: typeof charge.transactionid },
      { requestid: 'x', account: SUBSCRIBER, balancetype: '', transactionid: 'string', amount: '1.25', currency: 'EUR', balanceafter: '8.75', referencecode: 'ref-1' });
    assert.deepEqual(r.logged('retry'), [charge.transactionid], 'the same referencecode charged once');
    assert.deepEqual(r.logged('refund'), ['9.00']);
    const [reserve] = r.logged('reserve') as any[];
    assert.deepEqual([reserve.reserved, reserve.remaining, reserve.expires], ['1.00', '1.00', new Date(r.clock.now() + 90_000).toISOString()]);
    assert.deepEqual(r.logged('more'), ['1.50']);
    const [balance] = r.logged('balance') as any[];
    assert.deepEqual(balance.balances, [{ name: '', amount: '9.00', reserved: '1.50', available: '7.50', expires: null, expired: false }]);
    const history = await r.manager.getHistory(SUBSCRIBER);
    assert.deepEqual(history.map((h) => [h.kind, h.caller, h.code]), [['refund', 'chart:billing-test', null], ['charge', 'chart:billing-test', 'SMS'], ['credit', 'operator', null]]);
  });

  test('failures: error.billing.<action> with the BillingError kind and its message', async () => {
    const r = await billingRig('1.00');
    const cases: [string, string, RegExp][] = [
      [`<b:chargeamount account="'${SUBSCRIBER}'" amount="'5'"/>`, 'insufficient-funds', /available/],
      [`<b:chargeamount account="'nobody'" amount="'1'"/>`, 'unknown-account', /nobody/],
      [`<b:refund account="'${SUBSCRIBER}'" amount="'1.001'"/>`, 'invalid-amount', /2 decimals/],
      [`<b:refund account="'${SUBSCRIBER}'" amount="1e21"/>`, 'invalid-amount', /decimal string or a plain number/],
      [`<b:reserve account="'${SUBSCRIBER}'" amount="'1'" balancetype="'data'"/>`, 'unknown-balance', /data/],
      [`<b:reserve account="'${SUBSCRIBER}'" amount="'1'" expiresin="'soon'"/>`, 'invalid-request', /expiresin/],
      [`<b:charge reservationid="'res-nope'" amount="'1'"/>`, 'unknown-reservation', /res-nope/],
      [`<b:release reservationid="'res-nope'"/>`, 'unknown-reservation', /res-nope/],
      [`<b:reserveadditional reservationid="'res-nope'" amount="'1'"/>`, 'unknown-reservation', /res-nope/],
      [`<b:balance account="{}"/>`, 'invalid-request', /account must be a string/],
      [`<b:balance account="undefinedVariable"/>`, 'invalid-request', /account: .*undefinedVariable/],
    ];
    for (const [action, kind, message] of cases) {
      const element = /<b:(\w+)/.exec(action)![1];
      r.logs.length = 0;
      const session = await r.run(chart(`
  <state id="s">
    <onentry>${action.replace('<b:', '<b:').replace('/>', ' requestid="req"/>')}</onentry>
    <transition event="error.billing.${element}" target="end"><log label="error" expr="_event.data"/><log label="req" expr="req"/></transition>
  </state>`));
      assert.equal((await session.done).final, 'end', action);
      const [error] = r.logged('error') as any[];
      assert.equal(error.error, kind, action);
      assert.match(error.description, message, action);
      assert.equal(error.requestid, r.logged('req')[0], action);
    }
    assert.equal((await r.balance()).amount, '1.00');
    assert.equal((await r.manager.getHistory(SUBSCRIBER)).length, 1);
  });

  test('a chart without a name is the caller chart:<session id>; a reservation is its caller\'s', async () => {
    const r = await billingRig();
    const first = await r.run(chart(`
  <state id="s">
    <onentry><b:reserve account="'${SUBSCRIBER}'" amount="'1'"/></onentry>
    <transition event="billing.reserve.done" target="end"><log label="rid" expr="_event.data.reservationid"/></transition>
  </state>`, 'owner'));
    await first.done;
    const [rid] = r.logged('rid') as string[];
    assert.equal((await r.manager.getReservation('chart:owner', rid)).state, 'open');
    const other = await r.run(chart(`
  <state id="s">
    <onentry><b:release reservationid="'${rid}'"/></onentry>
    <transition event="error.billing.release" target="end"><log label="other" expr="_event.data.error"/></transition>
  </state>`).replace(' name="billing-test"', ''));
    await other.done;
    assert.deepEqual(r.logged('other'), ['unknown-reservation']);
    await assert.rejects(r.manager.getReservation(`chart:${other.id}`, rid), /no reservation/);
  });

  test('without a billing manager on the engine the actions do not exist (ORX0102); unknown or missing attributes are load errors', async () => {
    const engine = newEngine({ clock: 'virtual' });
    const plainEngine = engine.load(chart(`<state id="s"><onentry><b:balance account="'x'"/></onentry></state>`));
    assert.equal(plainEngine.chart, null);
    assert.deepEqual(plainEngine.diagnostics.map((d) => [d.code, /no action is registered for <b:balance>/.test(d.message)]), [['ORX0102', true]]);
    const r = await billingRig();
    const bad = r.engine.load(chart(`<state id="s"><onentry><b:balance account="'x'" colour="'red'"/><b:reserve account="'x'"/></onentry></state>`));
    assert.equal(bad.chart, null);
    const errors = bad.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.ok(errors.some((m) => m.includes('colour')) && errors.some((m) => m.includes('amount')), errors.join('\n'));
  });
});
