// The simulated switch (src/tserver/sim): calls, parties and states, DN behaviours on a virtual
// clock, event order and timing, the link, the request log, private service with Advice of Charge
// (TS 24.647 XML), and the topology loader.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOMParser, type Element as XmlElement } from '@xmldom/xmldom';
import { VirtualClock } from '../src/runtime/clock.js';
import { AdapterError, type CallEvent, type CallInfo, type PrivateServiceRequest } from '../src/tserver/adapter.js';
import {
  AOC_CONTENT_TYPE, AOC_NAMESPACE, createSimulatedSwitches, DEFAULT_TOPOLOGY, loadTopology, shiftDecimal, SimulatedSwitch,
  switchConfig, TopologyError, validateTopology, type SimRequestEntry, type SimSipInfoEntry, type Topology,
} from '../src/tserver/sim/index.js';
import { realTimer } from '../src/tserver/timer.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'orx-tserver-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The default topology plus a few DNs with special behaviours. */
const TEST_TOPOLOGY: Topology = {
  switches: [{
    name: 'SIP_Switch',
    externalPrefixes: ['+', '00'],
    dns: [
      ...DEFAULT_TOPOLOGY.switches[0].dns,
      { dn: '9001', type: 'agent', behaviour: 'busy' },
      { dn: '9002', type: 'agent', behaviour: 'unreachable' },
      { dn: '9003', type: 'agent', behaviour: 'noanswer', noAnswerTimeoutMs: 5000 },
      { dn: '9004', type: 'agent', behaviour: 'noanswer' },
      { dn: '6000', type: 'queue' },
      { dn: '7000', type: 'trunk', answerAfterMs: 10 },
    ],
  }],
};

function setup(topology: Topology = TEST_TOPOLOGY, options?: Parameters<typeof createSimulatedSwitches>[2]) {
  const clock = new VirtualClock();
  const [sim] = createSimulatedSwitches(topology, clock, options);
  const events: CallEvent[] = [];
  sim.onEvent((e) => events.push(e));
  /** Events so far as short strings, and forget them. */
  const take = (): string[] => events.splice(0).map(summary);
  return { clock, sim, events, take };
}

function parties(call: CallInfo): string {
  return call.parties.map((p) => `${p.dn}:${p.role}:${p.state}`).join(' ');
}

function summary(e: CallEvent): string {
  switch (e.type) {
    case 'call.created': return `created ${e.call.state} [${parties(e.call)}]`;
    case 'call.changed': return `changed ${e.dn} ${e.call.state} [${parties(e.call)}]`;
    case 'call.released': return `released [${parties(e.call)}]`;
    case 'udata.changed': return `udata ${JSON.stringify(e.call.udata)}`;
    case 'privateinfo': return `privateinfo ${e.serviceId} ${e.referenceId} ${e.call?.callId ?? 'nocall'}`;
    case 'link': return `link ${e.connected}`;
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string, match?: RegExp): Promise<AdapterError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof AdapterError, `expected an AdapterError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (match) assert.match(e.description, match);
    return e;
  }
  assert.fail(`expected a rejection with ${code}`);
}

function throwsWith(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof AdapterError && e.code === code);
}

const requests = (sim: SimulatedSwitch) => sim.log.filter((e): e is SimRequestEntry => e.type === 'request');
const infos = (sim: SimulatedSwitch) => sim.log.filter((e): e is SimSipInfoEntry => e.type === 'sipinfo');

/** An inbound call 1001 → 5000 routed to agent 9000 and answered. */
async function answeredCall(s: ReturnType<typeof setup>, agent = '9000'): Promise<string> {
  const call = s.sim.inboundCall('1001', '5000');
  await s.sim.redirect({ callId: call.callId, dn: null, to: agent });
  s.clock.advanceBy(1000);
  assert.equal(s.sim.call(call.callId)?.state, 'established');
  s.take();
  return call.callId;
}

function privateRequest(overrides: Partial<PrivateServiceRequest> = {}): PrivateServiceRequest {
  return { serviceId: 1234, callId: null, thisDn: null, udata: {}, reasons: {}, extensions: {}, ...overrides };
}

describe('inbound calls and redirect', () => {
  test('an inbound call waits at the routing point; events come after the clock moves', () => {
    const s = setup();
    const call = s.sim.inboundCall('1001', '5000');
    assert.match(call.callId, /^[0-9a-f]{16}$/);
    assert.equal(call.state, 'queued');
    assert.equal(call.switch, 'SIP_Switch');
    assert.equal(call.type, 'voice');
    assert.equal(parties(call), '1001:origination:dialing 5000:routingpoint:ringing');
    assert.deepEqual(s.events, [], 'no event is delivered synchronously');
    s.clock.advanceBy(0);
    assert.deepEqual(s.take(), ['created queued [1001:origination:dialing 5000:routingpoint:ringing]']);
    assert.deepEqual(s.sim.call(call.callId), call);
    assert.ok(Object.isFrozen(call) && Object.isFrozen(call.parties[0]), 'snapshots are frozen');
  });

  test('from an external number, to a queue, or straight to an extension', () => {
    const s = setup();
    const a = s.sim.inboundCall('+33123456789', '5001', { udata: { lang: 'fr' } });
    assert.equal(a.parties[0].dn, '+33123456789');
    assert.deepEqual(a.udata, { lang: 'fr' });
    const q = s.sim.inboundCall('1002', '6000');
    assert.equal(q.state, 'queued');
    assert.equal(q.parties[1].role, 'routingpoint');
    const d = s.sim.inboundCall('+441234', '1500');
    assert.equal(d.state, 'ringing');
    s.clock.advanceBy(2000);
    assert.equal(s.sim.call(d.callId)?.state, 'established');
    assert.equal(parties(s.sim.call(d.callId)!), '+441234:origination:established 1500:destination:established');
    assert.notEqual(a.callId, q.callId);
  });

  test('inbound call errors', () => {
    const s = setup();
    throwsWith(() => s.sim.inboundCall('1001', '4444'), 'invaliddestination');
    throwsWith(() => s.sim.inboundCall('1001', '+4912'), 'invaliddestination');
    throwsWith(() => s.sim.inboundCall('5000', '5001'), 'invalidsource');
    throwsWith(() => s.sim.inboundCall('', '5001'), 'invalidsource');
    throwsWith(() => s.sim.inboundCall('1001', '9001'), 'busy');
    throwsWith(() => s.sim.inboundCall('1001', '9002'), 'unreachable');
    throwsWith(() => s.sim.inboundCall('1001', '1001'), 'invaliddestination');
    assert.equal(s.sim.activeCalls().length, 0);
  });

  test('redirect from the routing point rings the agent, then it answers after its delay', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000');
    s.clock.advanceBy(0);
    s.take();
    await s.sim.redirect({ callId, dn: null, to: '9000' });
    assert.deepEqual(s.events, [], 'the promise settles before the events');
    assert.equal(s.sim.call(callId)?.state, 'ringing', 'the state changed already');
    s.clock.advanceBy(0);
    assert.deepEqual(s.take(), [
      'changed 9000 ringing [1001:origination:dialing 5000:routingpoint:ringing 9000:destination:ringing]',
      'changed 5000 ringing [1001:origination:dialing 5000:routingpoint:released 9000:destination:ringing]',
    ]);
    s.clock.advanceBy(999);
    assert.deepEqual(s.take(), []);
    s.clock.advanceBy(1);
    assert.deepEqual(s.take(), ['changed 9000 established [1001:origination:established 9000:destination:established]']);
    assert.equal(s.sim.call(callId)?.divertedTo, undefined);
    const entry = requests(s.sim)[0];
    assert.deepEqual(
      { kind: entry.kind, callId: entry.callId, dn: entry.dn, result: entry.result, to: entry.payload.to, time: entry.time, switch: entry.switch },
      { kind: 'redirect', callId, dn: null, result: 'accepted', to: '9000', time: 0, switch: 'SIP_Switch' },
    );
  });

  test('extensions answer after 2000 ms by default, agents after 1000 ms', async () => {
    const s = setup(DEFAULT_TOPOLOGY);
    const a = s.sim.inboundCall('1001', '5000');
    const b = s.sim.inboundCall('1002', '5000');
    await s.sim.redirect({ callId: a.callId, dn: '5000', to: '1003' });
    await s.sim.redirect({ callId: b.callId, dn: '5000', to: '9050' });
    s.clock.advanceBy(1000);
    assert.equal(s.sim.call(a.callId)?.state, 'ringing');
    assert.equal(s.sim.call(b.callId)?.state, 'established');
    s.clock.advanceBy(1000);
    assert.equal(s.sim.call(a.callId)?.state, 'established');
  });

  test('redirect to a routing point or queue moves the waiting call', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000');
    await s.sim.redirect({ callId, dn: null, to: '6000' });
    assert.equal(s.sim.call(callId)?.state, 'queued');
    assert.equal(parties(s.sim.call(callId)!), '1001:origination:dialing 6000:routingpoint:ringing');
  });

  test('a redirect to an external number is a divert: divertedTo once answered', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000');
    await s.sim.redirect({ callId, dn: null, to: '+33999' });
    assert.equal(s.sim.call(callId)?.divertedTo, undefined, 'not before it is answered');
    s.clock.advanceBy(2000);
    const call = s.sim.call(callId)!;
    assert.equal(call.state, 'established');
    assert.deepEqual(call.divertedTo, { sipServer: 'SIP_Switch', dn: '+33999' });
    s.clock.advanceBy(0);
    const last = s.events.at(-1)!;
    assert.ok(last.type === 'call.changed' && last.call.divertedTo?.dn === '+33999');
    // a configured external prefix counts too
    const other = s.sim.inboundCall('1002', '5001');
    await s.sim.redirect({ callId: other.callId, dn: null, to: '0044123' });
    s.clock.advanceBy(2000);
    assert.deepEqual(s.sim.call(other.callId)?.divertedTo, { sipServer: 'SIP_Switch', dn: '0044123' });
  });

  test('redirect errors leave the call as it was', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000');
    s.clock.advanceBy(0);
    s.take();
    await rejectsWith(s.sim.redirect({ callId, dn: null, to: '9001' }), 'busy', /9001/);
    await rejectsWith(s.sim.redirect({ callId, dn: null, to: '9002' }), 'unreachable');
    await rejectsWith(s.sim.redirect({ callId, dn: null, to: '4321' }), 'invaliddestination', /not on switch SIP_Switch/);
    await rejectsWith(s.sim.redirect({ callId, dn: null, to: '' }), 'invaliddestination');
    await rejectsWith(s.sim.redirect({ callId, dn: null, to: '1001' }), 'invaliddestination', /already a party/);
    await rejectsWith(s.sim.redirect({ callId: 'nope', dn: null, to: '9000' }), 'invalidcall');
    await rejectsWith(s.sim.redirect({ callId, dn: '9000', to: '9005' }), 'invalidparty');
    await rejectsWith(s.sim.redirect({ callId, dn: '1001', to: '9005' }), 'invalidstate');
    s.clock.advanceBy(0);
    assert.deepEqual(s.take(), []);
    assert.equal(parties(s.sim.call(callId)!), '1001:origination:dialing 5000:routingpoint:ringing');
    assert.deepEqual(requests(s.sim).map((e) => `${e.result} ${e.error?.code}`), [
      'rejected busy', 'rejected unreachable', 'rejected invaliddestination', 'rejected invaliddestination',
      'rejected invaliddestination', 'rejected invalidcall', 'rejected invalidparty', 'rejected invalidstate',
    ]);
    // an established party cannot be redirected
    const established = await answeredCall(s);
    await rejectsWith(s.sim.redirect({ callId: established, dn: '9000', to: '9005' }), 'invalidstate', /single-step transfer/);
    await rejectsWith(s.sim.redirect({ callId: established, dn: null, to: '9005' }), 'invalidstate');
  });

  test('redirecting a ringing party deflects the call', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000');
    await s.sim.redirect({ callId, dn: null, to: '9004' });
    await s.sim.redirect({ callId, dn: '9004', to: '9005' });
    s.clock.advanceBy(1000);
    assert.equal(parties(s.sim.call(callId)!), '1001:origination:established 9005:destination:established');
  });

  test('no answer: rings until the timeout, then the call returns to its routing point', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000');
    await s.sim.redirect({ callId, dn: null, to: '9003' });
    s.clock.advanceBy(4999);
    s.take();
    assert.equal(s.sim.call(callId)?.state, 'ringing');
    s.clock.advanceBy(1);
    assert.deepEqual(s.take(), [
      'changed 5000 ringing [1001:origination:dialing 9003:destination:ringing 5000:routingpoint:ringing]',
      'changed 9003 queued [1001:origination:dialing 9003:destination:released 5000:routingpoint:ringing]',
    ]);
    assert.equal(s.sim.call(callId)?.state, 'queued');
    // the strategy can route it again
    await s.sim.redirect({ callId, dn: null, to: '9000' });
    s.clock.advanceBy(1000);
    assert.equal(s.sim.call(callId)?.state, 'established');
  });

  test('no answer without a timeout rings forever', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000');
    await s.sim.redirect({ callId, dn: null, to: '9004' });
    s.clock.advanceBy(24 * 3600 * 1000);
    assert.equal(s.sim.call(callId)?.state, 'ringing');
    assert.equal(s.clock.pendingTimers, 0);
  });

  test('no answer on a made call drops the ringing party and so ends the call', async () => {
    const s = setup();
    s.sim.setBehaviour('1200', { behaviour: 'noanswer', noAnswerTimeoutMs: 3000 });
    const { callId } = await s.sim.makeCall({ from: '1001', to: '1200', type: 'regular' });
    s.clock.advanceBy(3000);
    assert.equal(s.sim.call(callId), undefined);
    assert.equal(s.take().at(-1), 'released [1001:origination:released]');
  });
});

describe('call control', () => {
  test('release a party: a two-party call ends', async () => {
    const s = setup();
    const callId = await answeredCall(s);
    await s.sim.release({ callId, dn: '9000', reason: 'done' });
    assert.equal(s.sim.call(callId), undefined, 'the switch forgets a released call');
    s.clock.advanceBy(0);
    assert.deepEqual(s.take(), [
      'changed 9000 released [1001:origination:established 9000:destination:released]',
      'released [1001:origination:released]',
    ]);
    await rejectsWith(s.sim.release({ callId, dn: null }), 'invalidcall');
  });

  test('release the whole call, at the routing point', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000');
    await s.sim.release({ callId, dn: null });
    s.clock.advanceBy(0);
    assert.deepEqual(s.take(), ['created queued [1001:origination:dialing 5000:routingpoint:ringing]', 'released [1001:origination:released 5000:routingpoint:released]']);
    const other = s.sim.inboundCall('1001', '5000');
    await rejectsWith(s.sim.release({ callId: other.callId, dn: '9000' }), 'invalidparty');
  });

  test('releasing stops a pending answer', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000');
    await s.sim.redirect({ callId, dn: null, to: '9000' });
    await s.sim.release({ callId, dn: null });
    s.clock.advanceBy(0);
    s.take();
    assert.equal(s.clock.pendingTimers, 0);
    s.clock.advanceBy(5000);
    assert.deepEqual(s.take(), []);
  });

  test('hold and retrieve', async () => {
    const s = setup();
    const callId = await answeredCall(s);
    await s.sim.hold({ callId, dn: null });
    assert.equal(s.sim.call(callId)?.state, 'held');
    await rejectsWith(s.sim.hold({ callId, dn: '9000' }), 'invalidstate', /held/);
    await rejectsWith(s.sim.retrieve({ callId, dn: '1001' }), 'invalidstate');
    await s.sim.retrieve({ callId, dn: '9000' });
    await s.sim.hold({ callId, dn: '1001' });
    await s.sim.retrieve({ callId, dn: null });
    await rejectsWith(s.sim.retrieve({ callId, dn: null }), 'invalidstate');
    await rejectsWith(s.sim.hold({ callId, dn: '9099' }), 'invalidparty');
    s.clock.advanceBy(0);
    assert.deepEqual(s.take(), [
      'changed 9000 held [1001:origination:established 9000:destination:held]',
      'changed 9000 established [1001:origination:established 9000:destination:established]',
      'changed 1001 held [1001:origination:held 9000:destination:established]',
      'changed 1001 established [1001:origination:established 9000:destination:established]',
    ]);
    const queued = s.sim.inboundCall('1002', '5000');
    await rejectsWith(s.sim.hold({ callId: queued.callId, dn: null }), 'invalidstate');
  });

  test('single-step transfer', async () => {
    const s = setup();
    const callId = await answeredCall(s);
    await rejectsWith(s.sim.singleStepTransfer({ callId, dn: '9000', to: '9001' }), 'busy');
    await rejectsWith(s.sim.singleStepTransfer({ callId, dn: '9000', to: '1001' }), 'invaliddestination');
    await s.sim.singleStepTransfer({ callId, dn: null, to: '9010' });
    s.clock.advanceBy(0);
    assert.deepEqual(s.take(), [
      'changed 9010 established [1001:origination:established 9000:destination:established 9010:transfer:ringing]',
      'changed 9000 ringing [1001:origination:established 9000:destination:released 9010:transfer:ringing]',
    ]);
    await rejectsWith(s.sim.singleStepTransfer({ callId, dn: '9010', to: '9011' }), 'invalidstate', /ringing/);
    s.clock.advanceBy(1000);
    assert.deepEqual(s.take(), ['changed 9010 established [1001:origination:established 9010:transfer:established]']);
    // to an external number: not a divert (that is only from a routing point)
    await s.sim.singleStepTransfer({ callId, dn: '9010', to: '+3312' });
    s.clock.advanceBy(2000);
    assert.equal(s.sim.call(callId)?.divertedTo, undefined);
    assert.equal(parties(s.sim.call(callId)!), '1001:origination:established +3312:transfer:established');
  });

  test('add and delete a party (conference)', async () => {
    const s = setup();
    const callId = await answeredCall(s);
    await s.sim.addParty({ callId, dn: '1002' });
    s.clock.advanceBy(2000);
    assert.deepEqual(s.take(), [
      'changed 1002 established [1001:origination:established 9000:destination:established 1002:conference:ringing]',
      'changed 1002 established [1001:origination:established 9000:destination:established 1002:conference:established]',
    ]);
    await rejectsWith(s.sim.addParty({ callId, dn: '1002' }), 'invaliddestination', /already/);
    await rejectsWith(s.sim.addParty({ callId, dn: '5001' }), 'invaliddestination', /routingpoint/);
    await rejectsWith(s.sim.addParty({ callId, dn: '9001' }), 'busy');
    await s.sim.deleteParty({ callId, dn: '9000' });
    s.clock.advanceBy(0);
    assert.deepEqual(s.take(), ['changed 9000 established [1001:origination:established 9000:destination:released 1002:conference:established]']);
    await rejectsWith(s.sim.deleteParty({ callId, dn: '9000' }), 'invalidparty');
    await s.sim.deleteParty({ callId, dn: '1002' });
    assert.equal(s.sim.call(callId), undefined, 'down to one party: the call ends');
    const queued = s.sim.inboundCall('1003', '5000');
    await rejectsWith(s.sim.addParty({ callId: queued.callId, dn: '1004' }), 'invalidstate', /queued/);
  });

  test('make call: dialing, ringing, established', async () => {
    const s = setup();
    const { callId } = await s.sim.makeCall({ from: '1001', to: '9000', type: 'regular', udata: { campaign: 'x' } });
    assert.deepEqual(s.events, []);
    s.clock.advanceBy(1000);
    assert.deepEqual(s.take(), [
      'created ringing [1001:origination:dialing 9000:destination:ringing]',
      'changed 9000 established [1001:origination:established 9000:destination:established]',
    ]);
    assert.deepEqual(s.sim.call(callId)?.udata, { campaign: 'x' });
    const entry = requests(s.sim)[0];
    assert.equal(entry.kind, 'makecall');
    assert.equal(entry.dn, '1001');
    assert.equal(entry.newCallId, callId);
    const ext = await s.sim.makeCall({ from: '9010', to: '+1555', type: 'agent' });
    s.clock.advanceBy(2000);
    assert.equal(s.sim.call(ext.callId)?.state, 'established');
    assert.equal(s.sim.call(ext.callId)?.divertedTo, undefined);
    const trunk = await s.sim.makeCall({ from: '1005', to: '7000', type: 'regular' });
    s.clock.advanceBy(10);
    assert.equal(s.sim.call(trunk.callId)?.state, 'established');
  });

  test('make call errors', async () => {
    const s = setup();
    await rejectsWith(s.sim.makeCall({ from: '5000', to: '9000', type: 'regular' }), 'invalidsource');
    await rejectsWith(s.sim.makeCall({ from: '+3312', to: '9000', type: 'regular' }), 'invalidsource');
    await rejectsWith(s.sim.makeCall({ from: '1001', to: '9001', type: 'regular' }), 'busy');
    await rejectsWith(s.sim.makeCall({ from: '1001', to: '9002', type: 'regular' }), 'unreachable');
    await rejectsWith(s.sim.makeCall({ from: '1001', to: '1001', type: 'regular' }), 'invaliddestination');
    await rejectsWith(s.sim.makeCall({ from: '1001', to: '8888', type: 'regular' }), 'invaliddestination');
    await rejectsWith(s.sim.makeCall({ from: '1001', to: '9000', type: 'urgent' as 'regular' }), 'invalidrequest');
    assert.equal(s.sim.activeCalls().length, 0);
  });

  test('user data: update merges, delete removes keys or everything', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000', { udata: { a: 1 } });
    const data = { b: { nested: [1, 2] }, c: 'x' };
    await s.sim.updateUserData({ callId, udata: data });
    data.c = 'changed later';
    assert.deepEqual(s.sim.call(callId)?.udata, { a: 1, b: { nested: [1, 2] }, c: 'x' }, 'the switch keeps a copy');
    await s.sim.deleteUserData({ callId, keys: ['a', 'missing'] });
    await s.sim.deleteUserData({ callId, keys: null });
    await rejectsWith(s.sim.updateUserData({ callId, udata: null as unknown as Record<string, unknown> }), 'invalidrequest');
    await rejectsWith(s.sim.updateUserData({ callId: 'x', udata: {} }), 'invalidcall');
    await rejectsWith(s.sim.deleteUserData({ callId: 'x', keys: null }), 'invalidcall');
    s.clock.advanceBy(0);
    assert.deepEqual(s.take().slice(1), ['udata {"a":1,"b":{"nested":[1,2]},"c":"x"}', 'udata {"b":{"nested":[1,2]},"c":"x"}', 'udata {}']);
    const snapshot = s.sim.call(callId)!;
    assert.throws(() => { (snapshot.udata as Record<string, unknown>).z = 1; }, TypeError);
  });

  test('request latency: the switch answers later, events still follow the answer', async () => {
    const s = setup({ switches: [{ ...TEST_TOPOLOGY.switches[0], requestLatencyMs: 50 }] });
    const { callId } = s.sim.inboundCall('1001', '5000');
    let settled = false;
    const p = s.sim.redirect({ callId, dn: null, to: '9000' }).then(() => { settled = true; });
    await Promise.resolve();
    s.clock.advanceBy(49);
    await Promise.resolve();
    assert.equal(settled, false);
    assert.equal(requests(s.sim).length, 0, 'not processed yet');
    s.clock.advanceBy(1);
    await p;
    assert.equal(requests(s.sim)[0].time, 50);
    const names = s.take();
    assert.deepEqual(names, ['created queued [1001:origination:dialing 5000:routingpoint:ringing]'], 'the redirect events wait for the next tick');
    s.clock.advanceBy(0);
    assert.equal(s.take().length, 2);
    s.sim.setConnected(false);
    const late = s.sim.hold({ callId, dn: null });
    s.clock.advanceBy(50);
    await rejectsWith(late, 'linkdown');
    s.sim.dispose();
  });

  test('a request made inside a virtual-clock timer: its events wait for the next advance', async () => {
    const s = setup();
    const { callId } = s.sim.inboundCall('1001', '5000');
    s.clock.advanceBy(0);
    s.take();
    const order: string[] = [];
    s.sim.onEvent((e) => order.push(e.type));
    let request: Promise<void> | undefined;
    s.clock.setTimer(10, () => {
      request = s.sim.redirect({ callId, dn: null, to: '9000' }).then(() => { order.push('resolved'); });
    });
    s.clock.advanceBy(10);
    assert.deepEqual(s.events, [], 'not delivered within the advance that made the request');
    await request;
    s.clock.advanceBy(0);
    assert.deepEqual(order, ['resolved', 'call.changed', 'call.changed']);
  });

  test('with the real clock the caller continues before the events arrive', async () => {
    const [sim] = createSimulatedSwitches({
      switches: [{ name: 'Fast', dns: [{ range: '100-101', type: 'routingpoint' }, { dn: '200', type: 'agent', answerAfterMs: 0 }] }],
    }, realTimer());
    const order: string[] = [];
    const answered = new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`not answered: ${order.join(', ')}`)), 5000);
      sim.onEvent((e) => {
        order.push(e.type === 'call.changed' ? `${e.type} ${e.dn} ${e.call.state}` : e.type);
        if (e.type === 'call.changed' && e.call.state === 'established') {
          clearTimeout(deadline);
          resolve();
        }
      });
    });
    const call = sim.inboundCall('+1', '100');
    await sim.redirect({ callId: call.callId, dn: null, to: '200' });
    order.push('redirect resolved');
    await answered;
    assert.deepEqual(order, ['redirect resolved', 'call.created', 'call.changed 200 ringing', 'call.changed 100 ringing', 'call.changed 200 established']);
    sim.dispose();
  });
});

describe('link state', () => {
  test('requests on a down link reject with linkdown; events are lost while it is down', async () => {
    const s = setup();
    const callId = await answeredCall(s);
    const ringing = s.sim.inboundCall('1002', '5000');
    await s.sim.redirect({ callId: ringing.callId, dn: null, to: '9010' });
    s.clock.advanceBy(0);
    s.take();
    s.sim.setConnected(false);
    s.sim.setConnected(false);
    assert.equal(s.sim.connected, false);
    const calls: [string, () => Promise<unknown>][] = [
      ['privateservice', () => s.sim.privateService(privateRequest({ callId }))],
      ['makecall', () => s.sim.makeCall({ from: '1001', to: '9000', type: 'regular' })],
      ['redirect', () => s.sim.redirect({ callId, dn: null, to: '9000' })],
      ['release', () => s.sim.release({ callId, dn: null })],
      ['hold', () => s.sim.hold({ callId, dn: null })],
      ['retrieve', () => s.sim.retrieve({ callId, dn: null })],
      ['singlesteptransfer', () => s.sim.singleStepTransfer({ callId, dn: null, to: '9011' })],
      ['addparty', () => s.sim.addParty({ callId, dn: '1003' })],
      ['deleteparty', () => s.sim.deleteParty({ callId, dn: '9000' })],
      ['updateuserdata', () => s.sim.updateUserData({ callId, udata: { a: 1 } })],
      ['deleteuserdata', () => s.sim.deleteUserData({ callId, keys: null })],
    ];
    for (const [, make] of calls) await rejectsWith(make(), 'linkdown', /SIP_Switch/);
    const rejected = requests(s.sim).filter((e) => e.error?.code === 'linkdown');
    assert.deepEqual(rejected.map((e) => e.kind), calls.map(([k]) => k));
    // the switch goes on: the agent answers, but nobody hears of it
    s.clock.advanceBy(1000);
    assert.equal(s.sim.call(ringing.callId)?.state, 'established');
    assert.deepEqual(s.take(), ['link false']);
    s.sim.setConnected(true);
    await s.sim.hold({ callId, dn: null });
    s.clock.advanceBy(0);
    assert.deepEqual(s.take(), ['link true', 'changed 9000 held [1001:origination:established 9000:destination:held]']);
  });
});

describe('private service', () => {
  test('accepted: a reference id at once, the privateinfo event after', async () => {
    const s = setup();
    const callId = await answeredCall(s);
    const order: string[] = [];
    s.sim.onEvent((e) => order.push(e.type));
    const { referenceId } = await s.sim.privateService(privateRequest({ callId, thisDn: '9000', udata: { details: { name: 'Smith, John', age: 45 } }, reasons: { code: 'New Update' }, extensions: { keyname: 'Its value' } }));
    order.push('resolved');
    assert.equal(referenceId, '1');
    s.clock.advanceBy(0);
    assert.deepEqual(order, ['resolved', 'privateinfo']);
    const event = s.events.at(-1)!;
    assert.ok(event.type === 'privateinfo');
    assert.equal(event.call?.callId, callId);
    assert.equal(event.serviceId, 1234);
    assert.equal(event.referenceId, '1');
    assert.deepEqual(event.data, { result: 'accepted' });
    const entry = requests(s.sim).at(-1)!;
    assert.equal(entry.kind, 'privateservice');
    assert.equal(entry.dn, '9000');
    assert.equal(entry.referenceId, '1');
    assert.deepEqual(entry.payload.reasons, { code: 'New Update' });
    assert.deepEqual(infos(s.sim), [], 'no AoC asked: no SIP INFO');
    const second = await s.sim.privateService(privateRequest());
    assert.equal(second.referenceId, '2');
    s.clock.advanceBy(0);
    assert.deepEqual(s.take().at(-1), 'privateinfo 1234 2 nocall');
  });

  test('validation', async () => {
    const s = setup();
    const callId = await answeredCall(s);
    await rejectsWith(s.sim.privateService(privateRequest({ serviceId: 12.5 })), 'invalidrequest', /integer/);
    await rejectsWith(s.sim.privateService(privateRequest({ serviceId: '7' as unknown as number })), 'invalidrequest');
    await rejectsWith(s.sim.privateService(privateRequest({ thisDn: '4242' })), 'invaliddn', /4242/);
    await rejectsWith(s.sim.privateService(privateRequest({ callId: 'unknown' })), 'invalidcall');
    await rejectsWith(s.sim.privateService(privateRequest({ extensions: { 'AOC-Destination-DN': '9000' } })), 'invaliddestination', /needs a call/);
    await rejectsWith(s.sim.privateService(privateRequest({ callId, extensions: { 'AOC-Destination-DN': '9050' } })), 'invaliddestination', /not a party/);
    const ringing = s.sim.inboundCall('1002', '5000');
    await s.sim.redirect({ callId: ringing.callId, dn: null, to: '9020' });
    await rejectsWith(s.sim.privateService(privateRequest({ callId: ringing.callId, extensions: { 'AOC-Destination-DN': '9020' } })), 'invaliddestination', /ringing, not established/);
    await rejectsWith(s.sim.privateService(privateRequest({ callId, extensions: { 'AOC-Destination-DN': '9000', 'AOC-Type': 'X' } })), 'invalidrequest', /AOC-Type/);
    s.clock.advanceBy(0);
    assert.ok(!s.events.some((e) => e.type === 'privateinfo'), 'a rejected request sends no private info');
    assert.deepEqual(infos(s.sim), []);
  });

  test('a custom private info responder', async () => {
    const s = setup(TEST_TOPOLOGY, { privateInfo: (req, defaults) => (req.serviceId === 1 ? null : { ...defaults, echo: req.extensions.key }) });
    await s.sim.privateService(privateRequest({ serviceId: 1 }));
    await s.sim.privateService(privateRequest({ serviceId: 2, extensions: { key: 'v' } }));
    s.clock.advanceBy(0);
    const pis = s.events.filter((e) => e.type === 'privateinfo');
    assert.equal(pis.length, 1);
    assert.deepEqual(pis[0].type === 'privateinfo' && pis[0].data, { result: 'accepted', echo: 'v' });
  });
});

describe('Advice of Charge', () => {
  const parser = new DOMParser({ onError: (level, message) => { throw new Error(`${level}: ${message}`); } });

  function parse(xml: string): XmlElement {
    const doc = parser.parseFromString(xml, 'text/xml');
    const root = doc.documentElement!;
    assert.equal(root.localName, 'aoc');
    assert.equal(root.namespaceURI, AOC_NAMESPACE);
    return root;
  }

  /** The element tree as nested arrays: [name, text | children…]; checks every element is in the AoC namespace. */
  function tree(el: XmlElement): unknown {
    assert.equal(el.namespaceURI, AOC_NAMESPACE, `${el.localName} is in the AoC namespace`);
    const children: XmlElement[] = [];
    for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) children.push(n as XmlElement);
    if (children.length === 0) return (el.textContent ?? '') === '' ? [el.localName] : [el.localName, el.textContent];
    return [el.localName, ...children.map(tree)];
  }

  async function aoc(extensions: Record<string, unknown>, udata: Record<string, unknown> = {}): Promise<{ entry: SimSipInfoEntry; tree: unknown; sim: SimulatedSwitch }> {
    const s = setup();
    const callId = await answeredCall(s);
    const { referenceId } = await s.sim.privateService(privateRequest({ callId, extensions: { 'AOC-Destination-DN': '9000', ...extensions }, udata }));
    const [entry] = infos(s.sim);
    assert.ok(entry, 'a SIP INFO was recorded');
    assert.equal(entry.referenceId, referenceId);
    assert.equal(entry.callId, callId);
    assert.equal(entry.dn, '9000');
    assert.equal(entry.method, 'INFO');
    assert.equal(entry.contentType, AOC_CONTENT_TYPE);
    assert.equal(entry.contentType, 'application/vnd.etsi.aoc+xml');
    assert.equal(s.sim.log.at(-1), entry, 'the INFO follows the request in the log');
    assert.equal(s.sim.log.at(-2)?.type, 'request');
    assert.ok(entry.body.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
    s.clock.advanceBy(0);
    const pi = s.events.at(-1)!;
    assert.ok(pi.type === 'privateinfo');
    assert.deepEqual(pi.data, { result: 'sent', aocType: entry.aocType, destinationDn: '9000', contentType: AOC_CONTENT_TYPE });
    return { entry, tree: tree(parse(entry.body)), sim: s.sim };
  }

  test('AoC-D by default, currency amount with multiplier, subtotal', async () => {
    const { entry, tree: t } = await aoc({ 'AOC-Currency': 'EUR', 'AOC-Amount': 150, 'AOC-Multiplier': 0.01 });
    assert.equal(entry.aocType, 'D');
    assert.deepEqual(t, ['aoc', ['aoc-d',
      ['charging-info', 'subtotal'],
      ['recorded-charges', ['recorded-currency-units', ['currency-id', 'EUR'], ['currency-amount', '1.5']]],
    ]]);
  });

  test('AoC-D total with billing id; charging units; free; not available', async () => {
    assert.deepEqual((await aoc({ 'AOC-Type': 'D', 'AOC-Total-Type': 'total', 'AOC-Amount': '2.75', 'AOC-Billing-Id': 'normal-charging' })).tree,
      ['aoc', ['aoc-d', ['charging-info', 'total'], ['recorded-charges', ['recorded-currency-units', ['currency-amount', '2.75']]], ['billing-id', 'normal-charging']]]);
    assert.deepEqual((await aoc({ 'AOC-Units': 12 })).tree,
      ['aoc', ['aoc-d', ['charging-info', 'subtotal'], ['recorded-charges', ['recorded-currency-units', ['currency-id', 'UNIT'], ['currency-amount', '12']]]]]);
    assert.deepEqual((await aoc({ 'AOC-Free': true })).tree,
      ['aoc', ['aoc-d', ['charging-info', 'subtotal'], ['recorded-charges', ['free-charge']]]]);
    assert.deepEqual((await aoc({})).tree,
      ['aoc', ['aoc-d', ['charging-info', 'subtotal'], ['recorded-charges', ['not-available']]]]);
  });

  test('AoC-E', async () => {
    const { entry, tree: t } = await aoc({ 'AOC-Type': 'E', 'AOC-Currency': 'USD', 'AOC-Amount': 3, 'AOC-Multiplier': '1000', 'AOC-Billing-Id': 'call-transfer' });
    assert.equal(entry.aocType, 'E');
    assert.deepEqual(t, ['aoc', ['aoc-e', ['recorded-charges', ['recorded-currency-units', ['currency-id', 'USD'], ['currency-amount', '3000']]], ['billing-id', 'call-transfer']]]);
    assert.deepEqual((await aoc({ 'AOC-Type': 'aoc-e' })).tree, ['aoc', ['aoc-e', ['recorded-charges', ['not-available']]]]);
  });

  test('AoC-S: flat rate, price per time, free, not available, charged item', async () => {
    assert.deepEqual((await aoc({ 'AOC-Type': 'S', 'AOC-Currency': 'EUR', 'AOC-Amount': 50, 'AOC-Multiplier': '1/100' })).tree,
      ['aoc', ['aoc-s', ['charged-items', ['basic', ['flat-rate', ['currency-id', 'EUR'], ['currency-amount', '0.5']]]]]]);
    assert.deepEqual((await aoc({ 'AOC-Type': 's', 'AOC-Currency': 'EUR', 'AOC-Amount': 0.1, 'AOC-Rate-Type': 'duration', 'AOC-Time-Unit': 30, 'AOC-Time-Scale': 'one-second', 'AOC-Charging-Type': 'step-function' })).tree,
      ['aoc', ['aoc-s', ['charged-items', ['basic', ['price-time', ['currency-id', 'EUR'], ['currency-amount', '0.1'],
        ['length-time-unit', ['time-unit', '30'], ['scale', 'one-second']], ['charging-type', 'step-function']]]]]]);
    assert.deepEqual((await aoc({ 'AOC-Type': 'S', 'AOC-Amount': 1, 'AOC-Rate-Type': 'duration' })).tree,
      ['aoc', ['aoc-s', ['charged-items', ['basic', ['price-time', ['currency-amount', '1'],
        ['length-time-unit', ['time-unit', '1'], ['scale', 'one-minute']], ['charging-type', 'continuous']]]]]]);
    assert.deepEqual((await aoc({ 'AOC-Type': 'S', 'AOC-Free': 'yes', 'AOC-Charged-Item': 'communication-setup' })).tree,
      ['aoc', ['aoc-s', ['charged-items', ['communication-setup', ['free-charge']]]]]);
    assert.deepEqual((await aoc({ 'AOC-Type': 'S', 'AOC-Rate-Type': 'free' })).tree,
      ['aoc', ['aoc-s', ['charged-items', ['basic', ['free-charge']]]]]);
    assert.deepEqual((await aoc({ 'AOC-Type': 'S' })).tree,
      ['aoc', ['aoc-s', ['charged-items', ['basic', ['not-available']]]]]);
  });

  test('keys come from extensions first, then user data, in any letter case', async () => {
    const { tree: t } = await aoc({ 'aoc-amount': 7 }, { 'AOC-Amount': 99, 'AOC-CURRENCY': 'GBP', 'AOC-Type': 'E' });
    assert.deepEqual(t, ['aoc', ['aoc-e', ['recorded-charges', ['recorded-currency-units', ['currency-id', 'GBP'], ['currency-amount', '7']]]]]);
  });

  test('text is escaped', async () => {
    const { entry, tree: t } = await aoc({ 'AOC-Currency': '<&"\'>', 'AOC-Amount': 1 });
    assert.match(entry.body, /<currency-id>&lt;&amp;&quot;&apos;&gt;<\/currency-id>/);
    assert.deepEqual(t, ['aoc', ['aoc-d', ['charging-info', 'subtotal'], ['recorded-charges', ['recorded-currency-units', ['currency-id', '<&"\'>'], ['currency-amount', '1']]]]]);
  });

  test('the AoC destination can be the caller, given as a number', async () => {
    const s = setup();
    const callId = await answeredCall(s);
    await s.sim.privateService(privateRequest({ callId, extensions: { 'AOC-Destination-DN': 1001, 'AOC-Amount': 1 } }));
    assert.equal(infos(s.sim)[0].dn, '1001');
  });

  test('malformed charge keys reject with invalidrequest, naming the key', async () => {
    const s = setup();
    const callId = await answeredCall(s);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ 'AOC-Amount': -1 }, /AOC-Amount/],
      [{ 'AOC-Amount': 'ten' }, /AOC-Amount/],
      [{ 'AOC-Amount': 1, 'AOC-Multiplier': 3 }, /AOC-Multiplier/],
      [{ 'AOC-Multiplier': 10 }, /needs AOC-Amount/],
      [{ 'AOC-Currency': 'EUR' }, /needs AOC-Amount/],
      [{ 'AOC-Amount': 1, 'AOC-Currency': 'ABCDEFGHIJK' }, /AOC-Currency/],
      [{ 'AOC-Amount': 1, 'AOC-Units': 2 }, /contradict/],
      [{ 'AOC-Units': 1.5 }, /AOC-Units/],
      [{ 'AOC-Type': 'S', 'AOC-Units': 2 }, /AoC-S/],
      [{ 'AOC-Total-Type': 'grand' }, /AOC-Total-Type/],
      [{ 'AOC-Billing-Id': 'weekly' }, /AOC-Billing-Id/],
      [{ 'AOC-Type': 'S', 'AOC-Rate-Type': 'duration' }, /needs AOC-Amount/],
      [{ 'AOC-Type': 'S', 'AOC-Rate-Type': 'free', 'AOC-Amount': 1 }, /contradicts/],
      [{ 'AOC-Type': 'S', 'AOC-Amount': 1, 'AOC-Rate-Type': 'duration', 'AOC-Time-Scale': 'fortnight' }, /AOC-Time-Scale/],
      [{ 'AOC-Type': 'S', 'AOC-Amount': 1, 'AOC-Rate-Type': 'duration', 'AOC-Time-Unit': 0 }, /AOC-Time-Unit/],
      [{ 'AOC-Type': 'S', 'AOC-Charged-Item': 'snacks' }, /AOC-Charged-Item/],
    ];
    for (const [keys, message] of bad) {
      await rejectsWith(s.sim.privateService(privateRequest({ callId, extensions: { 'AOC-Destination-DN': '9000', ...keys } })), 'invalidrequest', message);
    }
    assert.deepEqual(infos(s.sim), []);
  });

  test('decimal shifting is exact', () => {
    assert.equal(shiftDecimal('150', -2), '1.5');
    assert.equal(shiftDecimal('0.1', -3), '0.0001');
    assert.equal(shiftDecimal('0.5', 2), '50');
    assert.equal(shiftDecimal('12.345', 1), '123.45');
    assert.equal(shiftDecimal('0', 3), '0');
    assert.equal(shiftDecimal('007', 0), '7');
  });
});

describe('topology', () => {
  test('the default topology', () => {
    assert.deepEqual(validateTopology(DEFAULT_TOPOLOGY), []);
    const config = switchConfig(DEFAULT_TOPOLOGY.switches[0]);
    assert.equal(config.name, 'SIP_Switch');
    assert.equal(config.dns.size, 100 + 1000 + 100 + 100);
    assert.deepEqual(config.dns.get('5042'), { dn: '5042', type: 'routingpoint', behaviour: 'answer', answerAfterMs: 0, noAnswerTimeoutMs: null });
    assert.deepEqual(config.dns.get('1999'), { dn: '1999', type: 'extension', behaviour: 'answer', answerAfterMs: 2000, noAnswerTimeoutMs: null });
    assert.deepEqual(config.dns.get('9099'), { dn: '9099', type: 'agent', behaviour: 'answer', answerAfterMs: 1000, noAnswerTimeoutMs: null });
    assert.equal(config.dns.get('9100'), undefined);
    assert.equal(config.dns.get('8042')?.type, 'trunk', 'gateway trunks for third-party calls');
    assert.deepEqual(config.externalPrefixes, ['+']);
    assert.deepEqual(config.external, { behaviour: 'answer', answerAfterMs: 2000, noAnswerTimeoutMs: null });
    const [sim] = createSimulatedSwitches(DEFAULT_TOPOLOGY, new VirtualClock());
    assert.ok(sim.hasDn('5000') && sim.hasDn('1000') && sim.hasDn('9000') && !sim.hasDn('+331') && !sim.hasDn('4000'));
    assert.deepEqual(sim.dn('+331'), { dn: '+331', type: null, behaviour: 'answer', answerAfterMs: 2000, noAnswerTimeoutMs: null });
    assert.equal(sim.dn('4000'), undefined);
  });

  test('a later entry replaces an earlier one; defaults by type; leading zeros kept', () => {
    const config = switchConfig(loadTopology({
      switches: [{ name: 'S', dns: [
        { range: '0900-0910', type: 'agent' }, { dn: '0905', type: 'agent', behaviour: 'busy' },
        { dn: 'T1', type: 'trunk' }, { dn: 'x', type: 'extension', behaviour: 'noanswer', noAnswerTimeoutMs: 10 },
      ], external: { behaviour: 'unreachable' }, externalPrefixes: ['9'] }],
    }).switches[0]);
    assert.equal(config.dns.size, 13);
    assert.equal(config.dns.get('0900')?.answerAfterMs, 1000);
    assert.equal(config.dns.get('0905')?.behaviour, 'busy');
    assert.equal(config.dns.get('T1')?.answerAfterMs, 2000);
    assert.equal(config.dns.get('x')?.noAnswerTimeoutMs, 10);
    assert.equal(config.external.behaviour, 'unreachable');
    assert.deepEqual(config.externalPrefixes, ['9']);
  });

  test('problems name their JSON path, all at once', () => {
    const problems = (value: unknown) => validateTopology(value).map((p) => `${p.path}: ${p.message}`);
    assert.deepEqual(problems([]), ['$: a topology must be an object with "switches", not an array']);
    assert.deepEqual(problems({}), ['$.switches: is required (an array of switches)']);
    assert.deepEqual(problems({ switches: [] }), ['$.switches: must list at least one switch']);
    const many = problems({
      extra: 1,
      switches: [
        { name: 'A', dns: [
          { range: '1000-1999', type: 'extension' },
          { range: '200-1', type: 'agent' },
          { range: '10-09', type: 'agent' },
          { range: '5000_5099', type: 'routingpoint' },
          { dn: '1', range: '1-2', type: 'agent' },
          { type: 'agent' },
          { dn: 'a b', type: 'phone' },
          { dn: '5', type: 'routingpoint', behaviour: 'busy' },
          { dn: '6', type: 'agent', behaviour: 'busy', answerAfterMs: 10 },
          { dn: '7', type: 'agent', noAnswerTimeoutMs: 10 },
          { dn: '8', type: 'agent', answerAfterMs: -1, color: 'red' },
          { dn: '9', type: 'agent', behaviour: 'sleepy' },
          { range: '0-100000', type: 'agent' },
          'x',
        ] },
        { name: 'A', dns: {} },
        { name: 'x@y', dns: [], externalPrefixes: ['', 3], external: { behaviour: 'answer', when: 1 }, requestLatencyMs: 1.5 },
        { dns: [] },
      ],
    });
    assert.deepEqual(many, [
      '$.extra: unknown property (allowed: $schema, switches)',
      '$.switches[0].dns[1].range: both ends must have the same number of digits ("200" and "1")',
      '$.switches[0].dns[2].range: the first DN (10) is after the last (09)',
      '$.switches[0].dns[3].range: must be "first-last" (digits), e.g. "1000-1999", not "5000_5099"',
      '$.switches[0].dns[4]: give either "dn" or "range", not both',
      '$.switches[0].dns[5]: needs "dn" (one DN) or "range" ("first-last")',
      '$.switches[0].dns[6].dn: must be a non-empty string without spaces or "@", not "a b"',
      '$.switches[0].dns[6].type: must be one of extension, routingpoint, trunk, queue, agent, not "phone"',
      '$.switches[0].dns[7].behaviour: does not apply to a routingpoint (calls wait there)',
      '$.switches[0].dns[8].answerAfterMs: applies only to behaviour "answer" (this DN is "busy")',
      '$.switches[0].dns[9].noAnswerTimeoutMs: applies only to behaviour "noanswer" (this DN is "answer")',
      '$.switches[0].dns[10].color: unknown property (allowed: dn, range, type, behaviour, answerAfterMs, noAnswerTimeoutMs)',
      '$.switches[0].dns[10].answerAfterMs: must be a non-negative integer (ms), not number -1',
      '$.switches[0].dns[11].behaviour: must be one of answer, busy, noanswer, unreachable, not "sleepy"',
      '$.switches[0].dns[12].range: both ends must have the same number of digits ("0" and "100000")',
      '$.switches[0].dns[13]: must be an object, not "x"',
      '$.switches[1].name: duplicate switch name "A" (also $.switches[0])',
      '$.switches[1].dns: must be an array of DN entries, not an object',
      '$.switches[2].name: must be a non-empty string without spaces or "@", not "x@y"',
      '$.switches[2].requestLatencyMs: must be a non-negative integer (ms), not number 1.5',
      '$.switches[2].externalPrefixes[0]: must be a non-empty string without spaces, not ""',
      '$.switches[2].externalPrefixes[1]: must be a non-empty string without spaces, not number 3',
      '$.switches[2].external.when: unknown property (allowed: behaviour, answerAfterMs, noAnswerTimeoutMs)',
      '$.switches[3].name: is required',
    ]);
    assert.deepEqual(problems({ switches: [{ name: 'A', dns: [{ range: '000000-100000', type: 'agent' }] }] }),
      ['$.switches[0].dns[0].range: describes more than 100000 DNs']);
  });

  test('loadTopology: objects, JSON text, files; TopologyError lists the problems', () => {
    assert.equal(loadTopology(JSON.stringify(DEFAULT_TOPOLOGY)).switches[0].name, 'SIP_Switch');
    const file = path.join(tmp, 'topology.json');
    writeFileSync(file, JSON.stringify({ $schema: '../schemas/switch-topology.schema.json', switches: [{ name: 'Other', dns: [{ dn: '1', type: 'agent' }] }] }));
    const [sim] = createSimulatedSwitches(file, new VirtualClock());
    assert.equal(sim.switchName, 'Other');

    const bad = path.join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ switches: [{ name: 'S', dns: [{ dn: '1' }] }] }));
    assert.throws(() => loadTopology(bad), (e: unknown) => {
      assert.ok(e instanceof TopologyError);
      assert.deepEqual(e.problems, [{ path: '$.switches[0].dns[0].type', message: 'is required (one of extension, routingpoint, trunk, queue, agent)' }]);
      assert.equal(e.message, `invalid switch topology (${bad}):\n  $.switches[0].dns[0].type: is required (one of extension, routingpoint, trunk, queue, agent)`);
      return true;
    });
    assert.throws(() => loadTopology('{ "switches": [ }'), (e: unknown) => e instanceof TopologyError && e.problems[0].path === '$' && /not valid JSON/.test(e.message));
    assert.throws(() => loadTopology(path.join(tmp, 'missing.json')), (e: unknown) => e instanceof TopologyError && /cannot read the topology file/.test(e.message));
    assert.throws(() => createSimulatedSwitches({ switches: 'none' }, new VirtualClock()), TopologyError);
  });

  test('the JSON Schema describes the same format', () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const schema = JSON.parse(readFileSync(path.join(here, '..', '..', 'schemas', 'switch-topology.schema.json'), 'utf8'));
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual(schema.required, ['switches']);
    assert.deepEqual(Object.keys(schema.$defs.switch.properties).sort(), ['dns', 'external', 'externalPrefixes', 'name', 'requestLatencyMs']);
    assert.deepEqual(Object.keys(schema.$defs.dnEntry.properties).sort(), ['answerAfterMs', 'behaviour', 'dn', 'noAnswerTimeoutMs', 'range', 'type']);
    assert.deepEqual(schema.$defs.dnEntry.properties.type.enum, ['extension', 'routingpoint', 'trunk', 'queue', 'agent']);
    assert.deepEqual(schema.$defs.behaviourFields.properties.behaviour.enum, ['answer', 'busy', 'noanswer', 'unreachable']);
    assert.deepEqual(schema.examples[0], JSON.parse(JSON.stringify(DEFAULT_TOPOLOGY)), 'the schema example is the default topology');
    for (const example of schema.examples) assert.deepEqual(validateTopology(example), []);
  });

  test('setBehaviour changes a DN or an external number from now on', async () => {
    const s = setup();
    s.sim.setBehaviour('9000', { behaviour: 'busy' });
    s.sim.setBehaviour('+4930', { behaviour: 'unreachable' });
    const { callId } = s.sim.inboundCall('1001', '5000');
    await rejectsWith(s.sim.redirect({ callId, dn: null, to: '9000' }), 'busy');
    await rejectsWith(s.sim.redirect({ callId, dn: null, to: '+4930' }), 'unreachable');
    s.sim.setExternalBehaviour({ answerAfterMs: 10 });
    await s.sim.redirect({ callId, dn: null, to: '+4931' });
    s.clock.advanceBy(10);
    assert.equal(s.sim.call(callId)?.state, 'established');
    assert.throws(() => s.sim.setBehaviour('5000', { behaviour: 'busy' }), /routingpoint/);
    assert.throws(() => s.sim.setBehaviour('4444', { behaviour: 'busy' }), /neither/);
  });

  test('switches from one topology have distinct call ids; dispose stops timers', async () => {
    const clock = new VirtualClock();
    const sims = createSimulatedSwitches({ switches: [
      { name: 'A', dns: [{ dn: '1', type: 'routingpoint' }, { dn: '2', type: 'agent' }] },
      { name: 'B', dns: [{ dn: '1', type: 'routingpoint' }, { dn: '2', type: 'agent' }] },
    ] }, clock);
    assert.deepEqual(sims.map((x) => x.switchName), ['A', 'B']);
    const a = sims[0].inboundCall('+1', '1');
    const b = sims[1].inboundCall('+1', '1');
    assert.notEqual(a.callId, b.callId);
    await sims[0].redirect({ callId: a.callId, dn: null, to: '2' });
    const r1 = await sims[0].privateService(privateRequest());
    const r2 = await sims[1].privateService(privateRequest());
    assert.notEqual(r1.referenceId, r2.referenceId);
    assert.ok(clock.pendingTimers > 0);
    for (const x of sims) x.dispose();
    assert.equal(clock.pendingTimers, 0);
  });

  test('a listener that throws does not starve the others; the error surfaces', () => {
    const s = setup();
    const seen: string[] = [];
    s.sim.onEvent(() => { throw new Error('listener bug'); });
    const off = s.sim.onEvent((e) => seen.push(e.type));
    s.sim.inboundCall('1001', '5000');
    assert.throws(() => s.clock.advanceBy(0), /listener bug/);
    assert.deepEqual(seen, ['call.created']);
    off();
  });

  test('onLog and clearLog', async () => {
    const s = setup();
    const seen: string[] = [];
    s.sim.onLog((e) => seen.push(`${e.type} ${e.kind}`));
    const callId = await answeredCall(s);
    await s.sim.privateService(privateRequest({ callId, extensions: { 'AOC-Destination-DN': '9000' } }));
    assert.deepEqual(seen, ['request redirect', 'request privateservice', 'sipinfo aoc']);
    assert.ok(Object.isFrozen(s.sim.log[0]));
    s.sim.clearLog();
    assert.equal(s.sim.log.length, 0);
  });
});
