// <ixn:privateservice> through the API (issue 4): the asynchronous action convention, every
// target-resolution rule (asserted on the switch's request log), every error path, the resource
// forms, load-time checks, and Advice of Charge. The same through the command line is in
// ixn-cli.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import { AdapterError, createEngine, type Session, type Topology } from '../src/index.js';
import { AOC_CONTENT_TYPE, AOC_NAMESPACE } from '../src/tserver/sim/index.js';
import { DEFAULT_ATTRS, ixnChart, psChart, rig, ScriptedAdapter, scriptedCall, TEST_TOPOLOGY, type PsChart, type Rig, type ScriptedRequest } from './ixn-harness.js';

interface PsOutcome {
  readonly r: Rig;
  readonly session: Session;
  readonly final: string | null;
  readonly done: any;
  readonly error: any;
  readonly callId: string;
}

/** Run psChart on a rig with an inbound call 1001 → 5000 (on the switch named `onSwitch`). */
async function runPs(o: PsChart & { rig?: Rig; onSwitch?: string; before?: (r: Rig) => void; sandbox?: 'fast' | 'isolated' } = {}): Promise<PsOutcome> {
  const r = o.rig ?? rig({ sandbox: o.sandbox ?? 'fast' });
  if (r.engine.sandbox === 'isolated' || o.sandbox === 'isolated') await r.engine.ready();
  o.before?.(r);
  const session = r.start(psChart(o));
  const sw = o.onSwitch ? r.sims.find((s) => s.switchName === o.onSwitch)! : r.sim;
  const call = sw.inboundCall('1001', '5000');
  const result = await session.done;
  return { r, session, final: result.final, done: r.logged('done')[0], error: r.logged('error')[0], callId: call.callId };
}

/** Two switches: "Other" (registered first) also has agent DNs 9000-9009; calls are on SIP_Switch. */
const TWO_SWITCHES: Topology = {
  switches: [
    { name: 'Other', dns: [{ range: '9000-9009', type: 'agent' }, { dn: '6000', type: 'routingpoint' }] },
    TEST_TOPOLOGY.switches[0],
  ],
};

describe('ixn:privateservice — the asynchronous action convention', () => {
  test('requestid gets a fresh id at once; voice.privateservice.done carries {requestid, interactionid} and the request', async () => {
    const { r, final, done, callId } = await runPs();
    assert.equal(final, 'ok');
    const [now] = r.logged('reqid.now');
    assert.equal(typeof now, 'string');
    assert.ok((now as string).length > 0);
    // The location held the id in the same macrostep as the action: before any outcome arrived.
    const i = r.names().indexOf('voice.privateservice.done');
    assert.ok(i > 0, r.names().join());
    assert.equal(done.requestid, now);
    assert.equal(done.interactionid, callId);
    assert.equal(done.serviceid, 1234);
    assert.equal(done.switch, 'SIP_Switch');
    assert.equal(done.thisdn, null);
    assert.equal(typeof done.referenceid, 'string');
    const [entry] = r.requests('privateservice');
    assert.equal(entry.result, 'accepted');
    assert.equal(entry.referenceId, done.referenceid);
    assert.equal(entry.payload.serviceId, 1234);
  });

  test('the id is in the datamodel before the outcome: it can be read in the same onentry, and it is unique per request', async () => {
    const r = rig();
    const session = r.start(ixnChart(`
  <datamodel><data id="ixnid"/><data id="a"/><data id="b"/></datamodel>
  <state id="wait"><transition event="interaction.present" target="act"><assign location="ixnid" expr="_event.data.interactionid"/></transition></state>
  <state id="act">
    <onentry>
      <ixn:privateservice requestid="a" serviceid="1" interactionid="ixnid"/>
      <log label="a.before" expr="typeof a + ':' + a"/>
      <ixn:privateservice requestid="_data.b" serviceid="2" interactionid="ixnid"/>
    </onentry>
    <transition event="voice.privateservice.done" cond="_event.data.requestid === b" target="end"/>
  </state>
  <final id="end"/>`));
    r.call();
    assert.equal((await session.done).final, 'end');
    const [before] = r.logged('a.before') as string[];
    assert.match(before, /^string:./);
    const done = r.find('voice.privateservice.done').map((e) => e.data.requestid);
    assert.equal(done.length, 2);
    assert.notEqual(done[0], done[1]);
    assert.equal(`string:${done[0]}`, before);
  });

  test('udata, reasons and extensions reach the T-Server as given; hints are not sent', async () => {
    const { r, final } = await runPs({
      script: 'var ud = {details: {name: "Smith, John", age: 45}}; var rs = {code: "New Update"}; var ex = {keyname: "Its value"};',
      attrs: `${DEFAULT_ATTRS} udata="ud" reasons="rs" extensions="ex" hints="{handle_responses: 'false'}"`,
    });
    assert.equal(final, 'ok');
    const [entry] = r.requests('privateservice');
    assert.deepEqual(entry.payload.udata, { details: { name: 'Smith, John', age: 45 } });
    assert.deepEqual(entry.payload.reasons, { code: 'New Update' });
    assert.deepEqual(entry.payload.extensions, { keyname: 'Its value' });
    assert.equal('hints' in entry.payload, false);
  });

  test('the T-Server answer arrives later as voice.privateinfo with the request id', async () => {
    const r = rig();
    const session = r.start(ixnChart(`
  <datamodel><data id="reqid"/></datamodel>
  <state id="wait"><transition event="interaction.present" target="act"/></state>
  <state id="act">
    <onentry><ixn:privateservice requestid="reqid" serviceid="77" interactionid="_genesys.ixn.interactions[0].g_uid"/></onentry>
    <transition event="voice.privateinfo" cond="_event.data.requestid === reqid" target="end"><log label="info" expr="_event.data"/></transition>
  </state>
  <final id="end"/>`));
    const call = r.call();
    assert.equal((await session.done).final, 'end');
    const names = r.names();
    assert.ok(names.indexOf('voice.privateservice.done') < names.indexOf('voice.privateinfo'), names.join());
    const [info] = r.logged('info') as any[];
    assert.equal(info.interactionid, call.callId);
    assert.equal(info.serviceid, 77);
    assert.equal(info.referenceid, r.requests('privateservice')[0].referenceId);
    assert.deepEqual(info.data, { result: 'accepted' });
  });
});

describe('ixn:privateservice — target resolution (asserted on the switch request log)', () => {
  test('switch and DN ("9000@SIP_Switch"): that switch, thisDN 9000', async () => {
    const { r, final, done, callId } = await runPs({ route: '9000', attrs: `${DEFAULT_ATTRS} resource="'9000@SIP_Switch'"` });
    assert.equal(final, 'ok');
    const [entry] = r.requests('privateservice');
    assert.deepEqual([entry.switch, entry.dn, entry.callId, entry.payload.thisDn], ['SIP_Switch', '9000', callId, '9000']);
    assert.deepEqual([done.switch, done.thisdn], ['SIP_Switch', '9000']);
  });

  test('switch and DN as an object {dn, switch}: the switch named, even when another switch also has the DN', async () => {
    const r = rig({ topology: TWO_SWITCHES });
    const { final } = await runPs({ rig: r, onSwitch: 'SIP_Switch', route: '9000', attrs: `${DEFAULT_ATTRS} resource="({dn: '9000', switch: 'SIP_Switch'})"` });
    assert.equal(final, 'ok');
    const [other, sip] = r.sims;
    assert.equal(r.requests('privateservice', other).length, 0);
    const [entry] = r.requests('privateservice', sip);
    assert.deepEqual([entry.switch, entry.dn], ['SIP_Switch', '9000']);
  });

  test('the switch named by the resource gets the request even when the call is on another switch', async () => {
    const r = rig({ topology: TWO_SWITCHES });
    const { final, error, callId } = await runPs({ rig: r, onSwitch: 'SIP_Switch', attrs: `${DEFAULT_ATTRS} resource="({switch: 'Other'})"` });
    // The simulated "Other" switch does not know the call: its rejection is the request's outcome.
    assert.equal(final, 'failed');
    const [entry] = r.requests('privateservice', r.sims[0]);
    assert.deepEqual([entry.switch, entry.dn, entry.callId, entry.result], ['Other', null, callId, 'rejected']);
    assert.equal(error.error, 'invalidcall');
  });

  test('only the switch ({switch}): that switch, thisDN not populated', async () => {
    const { r, final, done } = await runPs({ route: '9000', attrs: `${DEFAULT_ATTRS} resource="({switch: 'SIP_Switch'})"` });
    assert.equal(final, 'ok');
    const [entry] = r.requests('privateservice');
    assert.deepEqual([entry.switch, entry.dn, entry.payload.thisDn], ['SIP_Switch', null, null]);
    assert.equal(done.thisdn, null);
  });

  test('only the switch ("@SIP_Switch"): that switch, thisDN not populated', async () => {
    const { r, final } = await runPs({ attrs: `${DEFAULT_ATTRS} resource="'@SIP_Switch'"` });
    assert.equal(final, 'ok');
    const [entry] = r.requests('privateservice');
    assert.deepEqual([entry.switch, entry.dn], ['SIP_Switch', null]);
  });

  test('only a DN ("9000"): the switch of the first party with that DN, not the first switch that has the DN', async () => {
    const r = rig({ topology: TWO_SWITCHES });
    const { final, done } = await runPs({ rig: r, onSwitch: 'SIP_Switch', route: '9000', attrs: `${DEFAULT_ATTRS} resource="'9000'"` });
    assert.equal(final, 'ok');
    const [other, sip] = r.sims;
    assert.equal(r.requests('privateservice', other).length, 0, 'Other also has DN 9000 and is registered first');
    const [entry] = r.requests('privateservice', sip);
    assert.deepEqual([entry.switch, entry.dn], ['SIP_Switch', '9000']);
    assert.deepEqual([done.switch, done.thisdn], ['SIP_Switch', '9000']);
  });

  test('only a DN as an object {dn} (the routing point, a party while the call waits there)', async () => {
    const { r, final } = await runPs({ attrs: `${DEFAULT_ATTRS} resource="({dn: '5000'})"` });
    assert.equal(final, 'ok');
    const [entry] = r.requests('privateservice');
    assert.deepEqual([entry.switch, entry.dn], ['SIP_Switch', '5000']);
  });

  test('only a DN, given as a number', async () => {
    const { r, final } = await runPs({ route: '9000', attrs: `${DEFAULT_ATTRS} resource="9000"` });
    assert.equal(final, 'ok');
    assert.equal(r.requests('privateservice')[0].dn, '9000');
  });

  test('no resource: the switch of the last party, no thisDN', async () => {
    const r = rig({ topology: TWO_SWITCHES });
    const { final, done } = await runPs({ rig: r, onSwitch: 'SIP_Switch', route: '9000' });
    assert.equal(final, 'ok');
    assert.equal(r.requests('privateservice', r.sims[0]).length, 0);
    const [entry] = r.requests('privateservice', r.sims[1]);
    assert.deepEqual([entry.switch, entry.dn], ['SIP_Switch', null]);
    assert.deepEqual([done.switch, done.thisdn], ['SIP_Switch', null]);
  });

  test('no resource, a call diverted from the routing point to an external number and answered: the SIP Server of the call', async () => {
    const { r, final, done, callId } = await runPs({ route: '+33123456789' });
    assert.equal(final, 'ok');
    // The simulated switch is the SIP Server that diverted the call.
    assert.deepEqual(r.sim.call(callId)?.divertedTo, { sipServer: 'SIP_Switch', dn: '+33123456789' });
    const [entry] = r.requests('privateservice');
    assert.deepEqual([entry.switch, entry.dn, entry.callId], ['SIP_Switch', null, callId]);
    assert.deepEqual([done.switch, done.thisdn], ['SIP_Switch', null]);
  });

  describe('with scripted adapters (parties on several switches)', () => {
    function scripted() {
      const log: ScriptedRequest[] = [];
      const sip = new ScriptedAdapter('SIP_Server', log, ['5000']);
      const media = new ScriptedAdapter('Media_Switch', log, ['7000']);
      const r = rig({ adapters: [sip, media] });
      return { r, sip, media, log };
    }
    const chart = (attrs: string) => psChart({ attrs: `${DEFAULT_ATTRS} ${attrs}` });

    test('diverted and answered: the SIP Server of the call, not the switch of the last party', async () => {
      const { r, sip, log } = scripted();
      const session = r.start(chart(''));
      sip.addCall(scriptedCall('c1', ['+331@SIP_Server:origination:established', '5000@SIP_Server:routingpoint:released', '+332@Media_Switch:destination:established'],
        { divertedTo: { sipServer: 'SIP_Server', dn: '+332' } }));
      assert.equal((await session.done).final, 'ok');
      assert.deepEqual(log.map((e) => [e.kind, e.switch, e.dn]), [['privateservice', 'SIP_Server', null]]);
    });

    test('not diverted: the switch of the last party', async () => {
      const { r, sip, log } = scripted();
      const session = r.start(chart(''));
      sip.addCall(scriptedCall('c1', ['1001@SIP_Server:origination:established', '5000@SIP_Server:routingpoint:ringing', '7000@Media_Switch:destination:established']));
      assert.equal((await session.done).final, 'ok');
      assert.deepEqual(log.map((e) => [e.kind, e.switch, e.dn]), [['privateservice', 'Media_Switch', null]]);
    });

    test('only a DN: the first party with that DN decides the switch', async () => {
      const { r, sip, log } = scripted();
      const session = r.start(chart(`resource="'7000'"`));
      sip.addCall(scriptedCall('c1', ['1001@SIP_Server:origination:established', '5000@SIP_Server:routingpoint:ringing', '7000@Media_Switch:destination:established', '7000@SIP_Server:conference:established']));
      assert.equal((await session.done).final, 'ok');
      assert.deepEqual(log.map((e) => [e.kind, e.switch, e.dn]), [['privateservice', 'Media_Switch', '7000']]);
    });

    test('nothing determinable (no party): error.voice.privateservice "invaliddestination", nothing sent', async () => {
      const { r, sip, log } = scripted();
      const session = r.start(chart(''));
      sip.addCall(scriptedCall('c1', ['5000@SIP_Server:routingpoint:ringing']));
      // The call loses its parties before the strategy acts.
      r.engine.addHooks({ beforeEvent: (_s, e) => { if (e.name === 'interaction.present') sip.calls.set('c1', scriptedCall('c1', [])); } });
      assert.equal((await session.done).final, 'failed');
      const [error] = r.logged('error') as any[];
      assert.equal(error.error, 'invaliddestination');
      assert.match(error.description, /no party/);
      assert.equal(error.interactionid, 'c1');
      assert.deepEqual(log, []);
    });

    test('a non-voice interaction: "invalidinteraction"', async () => {
      const { r, sip, log } = scripted();
      const session = r.start(chart(''));
      sip.addCall({ ...scriptedCall('c1', ['1001@SIP_Server:origination:established', '5000@SIP_Server:routingpoint:ringing']), type: 'chat' as 'voice' });
      assert.equal((await session.done).final, 'failed');
      assert.equal((r.logged('error')[0] as any).error, 'invalidinteraction');
      assert.deepEqual(log, []);
    });

    test('an adapter error: its code and description are the event\'s', async () => {
      const { r, sip } = scripted();
      sip.answer = () => new AdapterError('remote', 'the T-Server refused the service');
      const session = r.start(chart(''));
      sip.addCall(scriptedCall('c1', ['1001@SIP_Server:origination:established', '5000@SIP_Server:routingpoint:ringing']));
      assert.equal((await session.done).final, 'failed');
      const [error] = r.logged('error') as any[];
      assert.deepEqual([error.error, error.description, error.interactionid], ['remote', 'the T-Server refused the service', 'c1']);
      assert.equal(typeof error.requestid, 'string');
    });

    test('link down (adapter not connected): "linkdown"', async () => {
      const { r, sip } = scripted();
      sip.answer = () => new AdapterError('linkdown', 'no link');
      const session = r.start(chart(''));
      sip.addCall(scriptedCall('c1', ['1001@SIP_Server:origination:established', '5000@SIP_Server:routingpoint:ringing']));
      assert.equal((await session.done).final, 'failed');
      assert.equal((r.logged('error')[0] as any).error, 'linkdown');
    });
  });
});

describe('ixn:privateservice — resource forms and requestid in both sandboxes', () => {
  for (const sandbox of ['fast', 'isolated'] as const) {
    const forms: [string, string, string | null][] = [
      [`'9000'`, 'SIP_Switch', '9000'],
      [`'9000@SIP_Switch'`, 'SIP_Switch', '9000'],
      [`{dn: '9000', switch: 'SIP_Switch'}`, 'SIP_Switch', '9000'],
      [`{switch: 'SIP_Switch'}`, 'SIP_Switch', null],
      [`{dn: '9000'}`, 'SIP_Switch', '9000'],
    ];
    for (const [resource, sw, dn] of forms) {
      test(`${sandbox}: resource="${resource}" → ${sw} / ${dn ?? 'no thisDN'}`, async () => {
        const { r, final, done } = await runPs({ sandbox, route: '9000', attrs: `${DEFAULT_ATTRS} resource="${resource}"` });
        assert.equal(final, 'ok', JSON.stringify(r.logged('error')));
        const [entry] = r.requests('privateservice');
        assert.deepEqual([entry.switch, entry.dn], [sw, dn]);
        assert.equal(done.requestid, r.logged('reqid.now')[0]);
        assert.match(done.requestid, /./);
      });
    }
    test(`${sandbox}: an attribute that fails to evaluate is "invalidargument"`, async () => {
      const { final, error } = await runPs({ sandbox, attrs: `${DEFAULT_ATTRS} reasons="nothing.here"` });
      assert.equal(final, 'failed');
      assert.equal(error.error, 'invalidargument');
      assert.match(error.description, /^reasons: /);
    });
  }
});

describe('ixn:privateservice — error paths', () => {
  const failsWith = async (o: Parameters<typeof runPs>[0], code: string, description?: RegExp) => {
    const out = await runPs(o);
    assert.equal(out.final, 'failed', JSON.stringify(out.done));
    assert.equal(out.error.error, code, JSON.stringify(out.error));
    assert.equal(typeof out.error.description, 'string');
    if (description) assert.match(out.error.description, description);
    assert.equal(out.error.requestid, out.r.logged('reqid.now')[0], 'the requestid of the failed request');
    return out;
  };

  test('no interaction id: "nointeraction", nothing sent', async () => {
    const { r } = await failsWith({ attrs: 'serviceid="1" interactionid="null"' }, 'nointeraction');
    assert.equal(r.requests().length, 0);
  });

  test('unknown interaction id: "nointeraction", with the id in the data', async () => {
    const { r, error } = await failsWith({ attrs: `serviceid="1" interactionid="'00000000000000ff'"` }, 'nointeraction', /00000000000000ff/);
    assert.equal(error.interactionid, '00000000000000ff');
    assert.equal(r.requests().length, 0);
  });

  test('a DN that is no party of the interaction: "invaliddestination", nothing sent', async () => {
    const { r } = await failsWith({ attrs: `${DEFAULT_ATTRS} resource="'9005'"` }, 'invaliddestination', /9005/);
    assert.equal(r.requests('privateservice').length, 0);
  });

  test('a switch nobody configured: "invaliddestination"', async () => {
    await failsWith({ attrs: `${DEFAULT_ATTRS} resource="'9000@Nowhere'"` }, 'invaliddestination', /Nowhere/);
  });

  test('a resource that is neither DN, "dn@switch" nor {dn, switch}: "invalidresource"', async () => {
    await failsWith({ attrs: `${DEFAULT_ATTRS} resource="[9000]"` }, 'invalidresource');
  });

  test('link down (sim.setConnected(false)): "linkdown", the switch logs the rejection', async () => {
    const { r } = await failsWith({
      attrs: DEFAULT_ATTRS,
      before: (rg) => rg.engine.addHooks({ beforeEvent: (_s, e) => { if (e.name === 'interaction.present') rg.sim.setConnected(false); } }),
    }, 'linkdown');
    const [entry] = r.requests('privateservice');
    assert.equal(entry.result, 'rejected');
    assert.equal(entry.error?.code, 'linkdown');
  });

  test('an adapter error (the switch rejects a DN it does not have): its code', async () => {
    const { r } = await failsWith({ attrs: `${DEFAULT_ATTRS} resource="'7777@SIP_Switch'"` }, 'invaliddn', /7777/);
    assert.equal(r.requests('privateservice')[0].result, 'rejected');
  });

  for (const [serviceid, label] of [[`'abc'`, 'a word'], ['1.5', 'a fraction'], ['null', 'null'], [`''`, 'an empty string'], ['true', 'a boolean'], ['({})', 'an object'], ['NaN', 'NaN']]) {
    test(`a serviceid that is not an integer (${label}): "invalidargument", nothing sent`, async () => {
      const { r } = await failsWith({ attrs: `serviceid="${serviceid}" interactionid="ixnid"` }, 'invalidargument', /serviceid/);
      assert.equal(r.requests().length, 0);
    });
  }

  test('a serviceid given as a numeric string is that integer', async () => {
    const { r, final } = await runPs({ attrs: `serviceid="'4321'" interactionid="ixnid"` });
    assert.equal(final, 'ok');
    assert.equal(r.requests('privateservice')[0].payload.serviceId, 4321);
  });

  test('an attribute that fails to evaluate: "invalidargument" naming it, nothing sent', async () => {
    const { r } = await failsWith({ attrs: `${DEFAULT_ATTRS} udata="noSuchVariable.field"` }, 'invalidargument', /^udata: /);
    assert.equal(r.requests().length, 0);
  });

  test('an interactionid that fails to evaluate (no interaction yet): "invalidargument"', async () => {
    const r = rig();
    const session = r.start(ixnChart(`
  <datamodel><data id="reqid"/></datamodel>
  <state id="act">
    <onentry><ixn:privateservice requestid="reqid" serviceid="1" interactionid="_genesys.ixn.interactions[0].g_uid"/></onentry>
    <transition event="error.voice.privateservice" target="end"><log label="error" expr="_event.data"/></transition>
  </state>
  <final id="end"/>`));
    assert.equal((await session.done).final, 'end');
    const [error] = r.logged('error') as any[];
    assert.equal(error.error, 'invalidargument');
    assert.match(error.description, /^interactionid: /);
  });

  test('udata (or reasons, extensions) that is not an object: "invalidargument"', async () => {
    await failsWith({ attrs: `${DEFAULT_ATTRS} extensions="'AOC-Destination-DN=9000'"` }, 'invalidargument', /extensions/);
  });

  test('timeout: an adapter that never answers fails with "timeout" after ixn.requestTimeoutMs of virtual time', async () => {
    const sip = new ScriptedAdapter('SIP_Server', [], ['5000']);
    sip.answer = (kind) => (kind === 'privateservice' ? 'hang' : 'ok');
    const r = rig({ adapters: [sip], requestTimeoutMs: 500 });
    const session = r.start(psChart());
    sip.addCall(scriptedCall('c1', ['1001@SIP_Server:origination:established', '5000@SIP_Server:routingpoint:ringing']));
    // Let the strategy send the request.
    for (let i = 0; i < 100 && sip.requests.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sip.requests.length, 1);
    const sentAt = r.clock.now();
    // Virtual time does not move on its own while an adapter request is in flight (see the todo
    // below); move it to the deadline.
    r.clock.advanceBy(499);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(session.isDone, false, 'not before the deadline');
    r.clock.advanceBy(1);
    const result = await session.done;
    assert.equal(result.final, 'failed');
    const [error] = r.logged('error') as any[];
    assert.equal(error.error, 'timeout');
    assert.match(error.description, /500 ms/);
    assert.equal(r.clock.now() - sentAt, 500);
  });

  test('timeout under the virtual clock without help: the engine moves virtual time to the request deadline', async () => {
    const sip = new ScriptedAdapter('SIP_Server', [], ['5000']);
    sip.answer = (kind) => (kind === 'privateservice' ? 'hang' : 'ok');
    const r = rig({ adapters: [sip], requestTimeoutMs: 500 });
    const session = r.start(psChart());
    sip.addCall(scriptedCall('c1', ['1001@SIP_Server:origination:established', '5000@SIP_Server:routingpoint:ringing']));
    const outcome = await Promise.race([session.done.then((d) => d.final), new Promise((resolve) => setTimeout(() => resolve('stuck'), 300))]);
    if (outcome === 'stuck') r.clock.advanceBy(1000); // let the session end so the test leaves nothing behind
    await session.done;
    assert.equal(outcome, 'failed');
  });
});

describe('ixn:privateservice — Advice of Charge', () => {
  const AOC = '"AOC-Destination-DN": "9000", "AOC-Type": "D", "AOC-Currency": "EUR", "AOC-Amount": "150", "AOC-Multiplier": "0.01"';

  test('AOC-Destination-DN names an established party: the SIP INFO to it carries the TS 24.647 XML', async () => {
    const { r, final, done, callId } = await runPs({
      route: '9000', script: `var ex = {keyname: "Its value", ${AOC}};`, attrs: `${DEFAULT_ATTRS} resource="'9000'" extensions="ex"`,
    });
    assert.equal(final, 'ok');
    const [info] = r.sipInfos();
    assert.ok(info, 'a SIP INFO was recorded');
    assert.deepEqual([info.method, info.dn, info.callId, info.contentType, info.aocType, info.referenceId], ['INFO', '9000', callId, AOC_CONTENT_TYPE, 'D', done.referenceid]);
    assert.equal(info.contentType, 'application/vnd.etsi.aoc+xml');
    const doc = new DOMParser().parseFromString(info.body, 'text/xml');
    const root = doc.documentElement!;
    assert.equal(root.localName, 'aoc');
    assert.equal(root.namespaceURI, AOC_NAMESPACE);
    assert.equal(AOC_NAMESPACE, 'http://uri.etsi.org/ngn/params/xml/simservs/aoc');
    const aocD = root.getElementsByTagNameNS(AOC_NAMESPACE, 'aoc-d');
    assert.equal(aocD.length, 1);
    assert.equal(root.getElementsByTagNameNS(AOC_NAMESPACE, 'currency-id')[0]?.textContent, 'EUR');
    assert.equal(root.getElementsByTagNameNS(AOC_NAMESPACE, 'currency-amount')[0]?.textContent, '1.5');
    // The request is logged before the SIP INFO it caused.
    const kinds = r.sim.log.map((e) => (e.type === 'request' ? e.kind : e.type));
    assert.ok(kinds.indexOf('privateservice') < kinds.indexOf('sipinfo'), kinds.join());
  });

  test('AOC-Destination-DN names a DN that is no party of the call: error, no SIP INFO', async () => {
    const { r, final, error } = await runPs({
      route: '9000', script: `var ex = {${AOC.replace('"9000"', '"9001"')}};`, attrs: `${DEFAULT_ATTRS} extensions="ex"`,
    });
    assert.equal(final, 'failed');
    assert.equal(error.error, 'invaliddestination');
    assert.match(error.description, /9001/);
    assert.equal(r.sipInfos().length, 0);
  });

  test('AOC-Destination-DN names a party still ringing: error, no SIP INFO', async () => {
    const { r, final, error } = await runPs({
      route: '9000', waitAnswer: false, script: `var ex = {${AOC}};`, attrs: `${DEFAULT_ATTRS} extensions="ex"`,
    });
    assert.equal(final, 'failed');
    assert.equal(error.error, 'invaliddestination');
    assert.match(error.description, /ringing/);
    assert.equal(r.sipInfos().length, 0);
    assert.equal(r.requests('privateservice')[0].result, 'rejected');
  });

  test('the vendor spelling extentions carries the AoC keys as well', async () => {
    const { r, final } = await runPs({
      route: '9000', script: `var ex = {${AOC}};`, attrs: `${DEFAULT_ATTRS} resource="'9000'" extentions="ex"`,
    });
    assert.equal(final, 'ok');
    assert.equal(r.sipInfos().length, 1);
    assert.equal(r.requests('privateservice')[0].payload.extensions && (r.requests('privateservice')[0].payload.extensions as any)['AOC-Destination-DN'], '9000');
  });
});

describe('ixn:privateservice — load-time checks (Engine.load diagnostics)', () => {
  const load = (element: string) => {
    const text = ixnChart(`<state id="s"><onentry>\n${element}\n</onentry></state>`);
    return { text, diagnostics: createEngine({ clock: 'virtual' }).load(text).diagnostics, chartLoaded: (x: string) => createEngine({ clock: 'virtual' }).load(x).chart !== null };
  };

  test('extentions: accepted with warning ORX0401', () => {
    const { text, diagnostics, chartLoaded } = load('<ixn:privateservice serviceid="1" interactionid="x" extentions="ext"/>');
    const d = diagnostics.find((x) => x.code === 'ORX0401');
    assert.ok(d, JSON.stringify(diagnostics));
    assert.equal(d.severity, 'warning');
    assert.match(d.message, /extentions.*extensions/);
    assert.equal(d.line, 3);
    assert.ok(chartLoaded(text));
  });

  test('extensions and extentions together: error ORX0107, the chart does not load', () => {
    const { text, diagnostics, chartLoaded } = load('<ixn:privateservice serviceid="1" interactionid="x" extensions="ext" extentions="ext"/>');
    const d = diagnostics.find((x) => x.code === 'ORX0107');
    assert.ok(d, JSON.stringify(diagnostics));
    assert.equal(d.severity, 'error');
    assert.ok(!chartLoaded(text));
  });

  test('an unknown attribute: ORX0109 with the closest name suggested', () => {
    const { diagnostics } = load('<ixn:privateservice serviceId="1" interactionid="x"/>');
    const d = diagnostics.find((x) => x.code === 'ORX0109');
    assert.ok(d, JSON.stringify(diagnostics));
    assert.match(d.message, /'serviceId'.*did you mean 'serviceid'/);
  });

  test('serviceid and interactionid missing: ORX0106 for each', () => {
    const { diagnostics } = load('<ixn:privateservice/>');
    const missing = diagnostics.filter((x) => x.code === 'ORX0106').map((x) => x.message);
    assert.equal(missing.length, 2, JSON.stringify(diagnostics));
    assert.ok(missing.some((m) => m.includes("'serviceid'")));
    assert.ok(missing.some((m) => m.includes("'interactionid'")));
  });

  test('a requestid that is not a location: warning ORX0202', () => {
    const { diagnostics } = load('<ixn:privateservice requestid="1 + 1" serviceid="1" interactionid="x"/>');
    const d = diagnostics.find((x) => x.code === 'ORX0202');
    assert.ok(d, JSON.stringify(diagnostics));
    assert.equal(d.line, 3);
  });

  test('an expression that does not parse: warning ORX0201 at the attribute', () => {
    const { diagnostics } = load('<ixn:privateservice serviceid="1" interactionid="x"\n    udata="{a: "/>');
    const d = diagnostics.find((x) => x.code === 'ORX0201');
    assert.ok(d, JSON.stringify(diagnostics));
    assert.equal(d.severity, 'warning');
    assert.equal(d.line, 4);
    assert.equal(d.column, 5);
  });
});
