// Call control through the API (issue 4): createcall, redirect, terminate, attach/detach and
// ownership between sessions, hold/retrieve, single-step transfer, addparty/deleteparty — each
// with its done and error events, asserted on the events the session processed and on the
// simulated switch's request log.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEngine, type Session, type SessionResult } from '../src/index.js';
import { ixnChart, only, rig, type Rig } from './ixn-harness.js';

/**
 * A strategy that takes the inbound call (ixnid), optionally routes it to `route` and waits until
 * that party answered, then runs `body` (which starts with <state id="main">). Finals: end, failed.
 * Every error.* event the body does not handle is logged ("error") and ends in failed.
 */
function control(body: string, options: { route?: string } = {}): string {
  const route = options.route
    ? `<state id="route">
      <onentry><ixn:redirect interactionid="ixnid" to="'${options.route}'"/></onentry>
      <transition event="interaction.redirect.done" target="answer"/>
    </state>
    <state id="answer">
      <transition event="interaction.partychanged" target="main"
        cond="_genesys.ixn.interactions[0].parties.some(function (p) { return p.dn === '${options.route}' &amp;&amp; p.state === 'established'; })"/>
    </state>`
    : '';
  return ixnChart(`
  <datamodel><data id="ixnid"/><data id="reqid"/></datamodel>
  <state id="top" initial="wait">
    <state id="wait">
      <transition event="interaction.present" target="${options.route ? 'route' : 'main'}"><assign location="ixnid" expr="_event.data.interactionid"/></transition>
    </state>
    ${route}
    ${body}
    <transition event="error.*" target="failed"><log label="error" expr="_event.data"/></transition>
  </state>
  <final id="end"/>
  <final id="failed"/>`);
}

/** Start the chart, place the inbound call, wait until nothing more happens. */
async function run(r: Rig, xml: string, data?: Record<string, unknown>): Promise<{ session: Session; result: SessionResult | null; callId: string }> {
  const session = r.start(xml, data);
  const call = r.call('1001', '5000');
  await r.settle();
  return { session, result: session.isDone ? await session.done : null, callId: call.callId };
}

const parties = (r: Rig, callId: string) => r.sim.call(callId)?.parties.map((p) => `${p.dn}:${p.role}:${p.state}`) ?? 'released';

describe('ixn:createcall', () => {
  const chart = (attrs: string) => ixnChart(`
  <datamodel><data id="reqid"/><data id="made"/></datamodel>
  <state id="make">
    <onentry><ixn:createcall requestid="reqid" ${attrs}/></onentry>
    <transition event="voice.createcall.done" target="made">
      <log label="done" expr="_event.data"/><log label="reqid" expr="reqid"/>
      <assign location="made" expr="_event.data.interactionid"/>
    </transition>
    <transition event="error.voice.createcall" target="failed"><log label="error" expr="_event.data"/></transition>
  </state>
  <state id="made">
    <onentry>
      <log label="interactions" expr="_genesys.ixn.interactions.map(function (i) { return i.g_uid; })"/>
      <log label="owner" expr="_genesys.ixn.interactions[made].properties['OP-Session-ID']"/>
    </onentry>
    <transition event="interaction.partychanged" cond="_genesys.ixn.interactions[0].state === 'established'" target="end"/>
  </state>
  <final id="end"/>
  <final id="failed"/>`);

  test('from, to, type: voice.createcall.done with the new call, which becomes the session\'s interaction', async () => {
    const r = rig();
    const session = r.start(chart(`from="'1001'" to="'9000'" type="'regular'" udata="({campaign: 'spring'})"`));
    await r.settle();
    const result = await session.done;
    assert.equal(result.final, 'end');
    const [done] = r.logged('done') as any[];
    assert.equal(done.requestid, r.logged('reqid')[0]);
    const [request] = r.requests('makecall');
    assert.equal(request.result, 'accepted');
    assert.equal(done.interactionid, request.newCallId);
    assert.deepEqual([request.dn, request.payload.from, request.payload.to, request.payload.type], ['1001', '1001', '9000', 'regular']);
    assert.deepEqual(request.payload.udata, { campaign: 'spring' });
    assert.deepEqual(r.logged('interactions'), [[done.interactionid]]);
    assert.deepEqual(r.logged('owner'), [session.id]);
    assert.deepEqual(only(r.names(), ['interaction.added', 'interaction.present', 'voice.createcall.done']),
      ['interaction.added', 'interaction.present', 'voice.createcall.done']);
    assert.ok(r.find('interaction.added').every((e) => e.data.interactionid === done.interactionid));
  });

  test('type defaults to regular; every documented type is accepted', async () => {
    for (const type of ['', `type="'agent'"`, `type="'supervisor'"`, `type="'priority'"`, `type="'agentpriority'"`, `type="'predictive'"`]) {
      const r = rig();
      const session = r.start(chart(`from="'1002'" to="'9001'" ${type}`));
      await r.settle();
      assert.equal((await session.done).final, 'end', type);
      assert.equal(r.requests('makecall')[0].payload.type, type ? /'(\w+)'/.exec(type)![1] : 'regular');
    }
  });

  test('an invalid type: error.voice.createcall "invalidargument", nothing sent', async () => {
    const r = rig();
    const session = r.start(chart(`from="'1001'" to="'9000'" type="'urgent'"`));
    await r.settle();
    assert.equal((await session.done).final, 'failed');
    const [error] = r.logged('error') as any[];
    assert.equal(error.error, 'invalidargument');
    assert.match(error.description, /urgent/);
    assert.equal(typeof error.requestid, 'string');
    assert.equal(r.requests().length, 0);
  });

  test('an unknown destination, a busy one, an unknown origin: the switch\'s error code', async () => {
    for (const [attrs, code] of [[`from="'1001'" to="'4444'"`, 'invaliddestination'], [`from="'1001'" to="'9050'"`, 'busy'], [`from="'4444'" to="'9000'"`, 'invalidsource']]) {
      const r = rig();
      const session = r.start(chart(attrs));
      await r.settle();
      assert.equal((await session.done).final, 'failed', attrs);
      assert.equal((r.logged('error')[0] as any).error, code, attrs);
      assert.equal(r.requests('makecall')[0].result, 'rejected');
      assert.equal(r.sim.activeCalls().length, 0);
    }
  });
});

describe('ixn:redirect', () => {
  const chart = (to: string, extra = '') => control(`
    <state id="main">
      <onentry><ixn:redirect requestid="reqid" interactionid="ixnid" to="${to}" ${extra}/></onentry>
      <transition event="interaction.redirect.done" target="ringing"><log label="done" expr="_event.data"/></transition>
    </state>
    <state id="ringing">
      <transition event="interaction.partychanged" cond="_genesys.ixn.interactions[0].state === 'established'" target="end"/>
      <transition event="interaction.notcontrolled" target="end"/>
    </state>`);

  test('to an agent: interaction.redirect.done, the call leaves the routing point and the agent answers', async () => {
    const r = rig();
    const { result, callId } = await run(r, chart(`'9000'`));
    assert.equal(result?.final, 'end');
    const [done] = r.logged('done') as any[];
    assert.deepEqual([done.interactionid, typeof done.requestid], [callId, 'string']);
    const [request] = r.requests('redirect');
    assert.deepEqual([request.callId, request.dn, request.payload.to, request.result], [callId, '5000', '9000', 'accepted']);
    assert.deepEqual(parties(r, callId), ['1001:origination:established', '9000:destination:established']);
  });

  test('detach="true": redirected, then no longer this session\'s (interaction.deleted, interaction.notcontrolled)', async () => {
    const r = rig();
    const { result, callId } = await run(r, control(`
    <state id="main">
      <onentry><ixn:redirect interactionid="ixnid" to="'9000'" detach="true"/></onentry>
      <transition event="interaction.redirect.done" target="end"><log label="left" expr="_genesys.ixn.interactions.length"/></transition>
    </state>`));
    assert.deepEqual(r.logged('left'), [0]);
    assert.equal(r.requests('redirect')[0].result, 'accepted');
    assert.equal(result?.final, 'end');
    assert.deepEqual(only(r.names(), ['interaction.*']),
      ['interaction.added', 'interaction.present', 'interaction.deleted', 'interaction.notcontrolled', 'interaction.redirect.done']);
    assert.equal(r.ixn.ownerOf(callId), undefined);
  });

  test('from: redirect a party that is ringing (no answer) to another agent', async () => {
    const r = rig();
    const { result, callId } = await run(r, control(`
    <state id="main">
      <onentry><ixn:redirect interactionid="ixnid" to="'9051'"/></onentry>
      <transition event="interaction.partychanged" cond="_event.data.dn === '9051'" target="again"/>
    </state>
    <state id="again">
      <onentry><ixn:redirect interactionid="ixnid" from="'9051'" to="'9000'"/></onentry>
      <transition event="interaction.partychanged" cond="_genesys.ixn.interactions[0].state === 'established'" target="end"/>
    </state>`));
    assert.equal(result?.final, 'end');
    assert.deepEqual(r.requests('redirect').map((e) => [e.dn, e.payload.to, e.result]), [['5000', '9051', 'accepted'], ['9051', '9000', 'accepted']]);
    assert.deepEqual(parties(r, callId), ['1001:origination:established', '9000:destination:established']);
  });

  test('to a busy agent: error.interaction.redirect "busy"; the call stays at the routing point', async () => {
    const r = rig();
    const { result, callId } = await run(r, chart(`'9050'`));
    assert.equal(result?.final, 'failed');
    const [error] = r.logged('error') as any[];
    assert.deepEqual([error.error, error.interactionid], ['busy', callId]);
    assert.match(error.description, /9050/);
    assert.deepEqual(parties(r, callId), ['1001:origination:dialing', '5000:routingpoint:ringing']);
  });

  test('to an unknown destination: error.interaction.redirect "invaliddestination"', async () => {
    const r = rig();
    const { result } = await run(r, chart(`'4444'`));
    assert.equal(result?.final, 'failed');
    assert.equal((r.logged('error')[0] as any).error, 'invaliddestination');
    assert.equal(r.requests('redirect')[0].result, 'rejected');
  });

  test('an interaction that does not exist: "nointeraction"', async () => {
    const r = rig();
    const { result } = await run(r, control(`<state id="main"><onentry><ixn:redirect interactionid="'00000000000000ff'" to="'9000'"/></onentry></state>`));
    assert.equal(result?.final, 'failed');
    assert.equal((r.logged('error')[0] as any).error, 'nointeraction');
    assert.equal(r.requests().length, 0);
  });
});

describe('ixn:terminate', () => {
  test('the whole call: interaction.terminate.done, then interaction.deleted; the session goes on', async () => {
    const r = rig();
    const { session, result, callId } = await run(r, control(`
    <state id="main">
      <onentry><ixn:terminate requestid="reqid" interactionid="ixnid" reason="'done with it'"/></onentry>
      <transition event="interaction.terminate.done"><log label="done" expr="_event.data"/></transition>
      <transition event="interaction.deleted" target="after"><log label="left" expr="_genesys.ixn.interactions.length"/></transition>
    </state>
    <state id="after"><transition event="finish" target="end"/></state>`, { route: '9000' }));
    assert.equal(result, null, 'the session is still running');
    assert.deepEqual(session.configuration, ['top', 'after']);
    const [done] = r.logged('done') as any[];
    assert.equal(done.interactionid, callId);
    assert.deepEqual(r.logged('left'), [0]);
    const [request] = r.requests('release');
    assert.deepEqual([request.callId, request.dn, request.payload.reason], [callId, null, 'done with it']);
    assert.equal(r.sim.call(callId), undefined, 'the call is gone');
    session.send('finish');
    assert.equal((await session.done).final, 'end');
  });

  test('one party (resource): that party leaves, the call goes on', async () => {
    const r = rig();
    const { result, callId } = await run(r, control(`
    <state id="main">
      <onentry><ixn:addparty interactionid="ixnid" dn="'9001'"/></onentry>
      <transition event="interaction.partychanged" target="drop"
        cond="_genesys.ixn.interactions[0].parties.some(function (p) { return p.dn === '9001' &amp;&amp; p.state === 'established'; })"/>
    </state>
    <state id="drop">
      <onentry><ixn:terminate interactionid="ixnid" resource="'9001'"/></onentry>
      <transition event="interaction.terminate.done" target="end"/>
    </state>`, { route: '9000' }));
    assert.equal(result?.final, 'end');
    const [request] = r.requests('release');
    assert.deepEqual([request.callId, request.dn], [callId, '9001']);
    assert.deepEqual(parties(r, callId), ['1001:origination:established', '9000:destination:established']);
  });

  test('a resource that is no party: error.interaction.terminate "invaliddestination", nothing sent', async () => {
    const r = rig();
    const { result } = await run(r, control(`<state id="main"><onentry><ixn:terminate interactionid="ixnid" resource="'9009'"/></onentry></state>`, { route: '9000' }));
    assert.equal(result?.final, 'failed');
    assert.equal((r.logged('error')[0] as any).error, 'invaliddestination');
    assert.equal(r.requests('release').length, 0);
  });
});

describe('ixn:attach and ixn:detach; one session per interaction', () => {
  test('detach: interaction.detach.done with interaction.deleted and interaction.notcontrolled; attach brings it back (added, present)', async () => {
    const r = rig();
    const { result, callId, session } = await run(r, control(`
    <state id="main">
      <onentry><ixn:detach requestid="reqid" interactionid="ixnid"/></onentry>
      <transition event="interaction.detach.done" target="detached"><log label="detach.done" expr="_event.data.interactionid"/></transition>
    </state>
    <state id="detached">
      <onentry><log label="after.detach" expr="_genesys.ixn.interactions.length"/><ixn:detach interactionid="ixnid"/></onentry>
      <transition event="error.interaction.detach" target="attach"><log label="detach.error" expr="_event.data"/></transition>
    </state>
    <state id="attach">
      <onentry><ixn:attach interactionid="ixnid"/></onentry>
      <!-- interaction.added and interaction.present come before interaction.attach.done -->
      <transition event="interaction.attach.done" target="end"><log label="after.attach" expr="_genesys.ixn.interactions[0].g_uid"/></transition>
    </state>`));
    assert.equal(result?.final, 'end');
    assert.deepEqual(r.logged('detach.done'), [callId]);
    assert.deepEqual(r.logged('after.detach'), [0]);
    const [error] = r.logged('detach.error') as any[];
    assert.equal(error.error, 'invalidstate');
    assert.match(error.description, /not controlled by this session/);
    assert.deepEqual(r.logged('after.attach'), [callId]);
    assert.deepEqual(only(r.names(), ['interaction.*', 'error.*']), [
      'interaction.added', 'interaction.present',
      'interaction.deleted', 'interaction.notcontrolled', 'interaction.detach.done',
      'error.interaction.detach',
      'interaction.added', 'interaction.present', 'interaction.attach.done',
    ]);
    assert.equal(session.isDone, true);
    assert.equal(r.ixn.ownerOf(callId), undefined, 'a session that ends lets go of its interactions');
  });

  test('attach of an interaction the session already controls: interaction.attach.done only', async () => {
    const r = rig();
    const { result } = await run(r, control(`
    <state id="main">
      <onentry><ixn:attach interactionid="ixnid"/></onentry>
      <transition event="interaction.attach.done" target="end"/>
    </state>`));
    assert.equal(result?.final, 'end');
    assert.deepEqual(only(r.names(), ['interaction.*']), ['interaction.added', 'interaction.present', 'interaction.attach.done']);
  });

  test('attach of an interaction that does not exist: error.interaction.attach "nointeraction"', async () => {
    const r = rig();
    const { result } = await run(r, control(`<state id="main"><onentry><ixn:attach interactionid="'00000000000000ff'"/></onentry></state>`));
    assert.equal(result?.final, 'failed');
    assert.equal((r.logged('error')[0] as any).error, 'nointeraction');
  });

  test('attach from session B takes the interaction from session A (A: deleted + notcontrolled); A goes on', async () => {
    const r = rig();
    const a = r.start(ixnChart(`
  <state id="a">
    <transition event="interaction.present" target="owned"/>
  </state>
  <state id="owned">
    <transition event="interaction.notcontrolled" target="lost"><log label="a.left" expr="_genesys.ixn.interactions.length"/></transition>
  </state>
  <state id="lost">
    <onentry><ixn:detach interactionid="_event.data.interactionid"/></onentry>
    <transition event="error.interaction.detach" target="idle"><log label="a.detach" expr="_event.data.error"/></transition>
  </state>
  <state id="idle"><transition event="finish" target="end"/></state>
  <final id="end"/>`, 'name="A"'));
    const call = r.call();
    await r.settle();
    assert.equal(r.ixn.ownerOf(call.callId), a.id);
    const b = r.start(ixnChart(`
  <datamodel><data id="target"/></datamodel>
  <state id="b">
    <onentry><ixn:attach interactionid="target"/></onentry>
    <transition event="interaction.present" target="end">
      <log label="b.has" expr="_genesys.ixn.interactions[0].g_uid + ':' + _genesys.ixn.interactions[0].properties['OP-Session-ID']"/>
    </transition>
  </state>
  <final id="end"/>`, 'name="B"'), { target: call.callId });
    await r.settle();
    assert.equal((await b.done).final, 'end');
    assert.deepEqual(r.logged('b.has'), [`${call.callId}:${b.id}`]);
    assert.deepEqual(r.names(a), ['interaction.added', 'interaction.present', 'interaction.deleted', 'interaction.notcontrolled', 'error.interaction.detach']);
    assert.deepEqual(only(r.names(b), ['interaction.*']), ['interaction.added', 'interaction.present']);
    assert.deepEqual(r.logged('a.left'), [0]);
    assert.deepEqual(r.logged('a.detach'), ['invalidstate']);
    assert.equal(a.isDone, false);
    // B ended: it controls nothing any more, and A does not get the interaction back by itself.
    assert.equal(r.ixn.ownerOf(call.callId), undefined);
    a.send('finish');
    assert.equal((await a.done).final, 'end');
  });
});

describe('ixn:associate', () => {
  test('the owner hands the interaction to another session: B gets added + present, A deleted + notcontrolled, then associate.done', async () => {
    const r = rig();
    const b = r.start(ixnChart(`
  <state id="b">
    <transition event="interaction.present" target="has">
      <log label="b.has" expr="_genesys.ixn.interactions[0].g_uid + ':' + _genesys.ixn.interactions[0].properties['OP-Session-ID']"/>
    </transition>
  </state>
  <state id="has"><transition event="finish" target="end"/></state>
  <final id="end"/>`, 'name="B"'));
    const a = r.start(ixnChart(`
  <datamodel><data id="other"/><data id="reqid"/></datamodel>
  <state id="a">
    <transition event="interaction.present" target="owned"/>
  </state>
  <state id="owned">
    <onentry><ixn:associate requestid="reqid" interactionid="_genesys.ixn.interactions[0].g_uid" sessionid="other"/></onentry>
    <transition event="interaction.associate.done" target="handed">
      <log label="a.done" expr="(_event.data.requestid === reqid) + ' ' + _event.data.sessionid + ' ' + _genesys.ixn.interactions.length"/>
    </transition>
  </state>
  <state id="handed">
    <!-- no longer the owner: a second associate fails -->
    <onentry><ixn:associate interactionid="_event.data.interactionid" sessionid="other"/></onentry>
    <transition event="error.interaction.associate" target="end"><log label="a.again" expr="_event.data.error"/></transition>
  </state>
  <final id="end"/>`, 'name="A"'), { other: b.id });
    await r.settle();
    const call = r.call();
    await r.settle();
    assert.equal((await a.done).final, 'end');
    assert.equal(r.ixn.ownerOf(call.callId), b.id);
    assert.deepEqual(r.logged('b.has'), [`${call.callId}:${b.id}`]);
    assert.deepEqual(r.logged('a.done'), [`true ${b.id} 0`]);
    assert.deepEqual(r.logged('a.again'), ['invalidstate']);
    assert.deepEqual(only(r.names(a), ['interaction.*', 'error.*']), [
      'interaction.added', 'interaction.present', 'interaction.deleted', 'interaction.notcontrolled', 'interaction.associate.done',
      'error.interaction.associate',
    ]);
    assert.deepEqual(only(r.names(b), ['interaction.*']), ['interaction.added', 'interaction.present']);
    b.send('finish');
    assert.equal((await b.done).final, 'end');
  });

  test('to a session that does not run: error.interaction.associate "invalidargument", the interaction stays', async () => {
    const r = rig();
    const { result, session, callId } = await run(r, control(`
    <state id="main">
      <onentry><ixn:associate interactionid="ixnid" sessionid="'no-such-session'"/></onentry>
      <transition event="error.interaction.associate" target="end"><log label="error" expr="_event.data"/></transition>
    </state>`));
    assert.equal(result?.final, 'end');
    const [error] = r.logged('error') as any[];
    assert.equal(error.error, 'invalidargument');
    assert.match(error.description, /no-such-session/);
    assert.equal(session.isDone, true);
    assert.equal(r.ixn.ownerOf(callId), undefined, 'it stayed with the session until that ended');
  });
});

describe('ownership across a snapshot and a restore in another engine (the switch keeps its calls)', () => {
  const strategy = ixnChart(`
  <datamodel><data id="ixnid"/></datamodel>
  <state id="wait">
    <transition event="interaction.present" target="owned"><assign location="ixnid" expr="_event.data.interactionid"/></transition>
  </state>
  <state id="owned">
    <transition event="route"><ixn:redirect interactionid="ixnid" to="'9000'"/></transition>
    <transition event="interaction.redirect.done" target="routed"><log label="seen" expr="_genesys.ixn.interactions[0].g_uid"/></transition>
    <transition event="interaction.notcontrolled" target="lost"><log label="left" expr="_genesys.ixn.interactions.length"/></transition>
    <transition event="error.*" target="failed"><log label="error" expr="_event.data"/></transition>
  </state>
  <final id="routed"/><final id="lost"/><final id="failed"/>`);

  async function savedWhileOwning() {
    const r = rig();
    const session = r.start(strategy);
    const call = r.call();
    await r.settle();
    assert.deepEqual(session.configuration, ['owned']);
    const snapshot = JSON.parse(JSON.stringify(session.snapshot()));
    assert.deepEqual(snapshot.modules.ixn, { owned: [call.callId], visible: [call.callId] });
    session.detach(); // the first engine goes away without letting go of its interactions
    const b = createEngine({ clock: r.clock, adapters: r.sims });
    const chart = b.load(strategy).chart!;
    return { r, b, chart, snapshot, callId: call.callId };
  }

  test('the restored session controls its interaction again and can route it', async () => {
    const { r, b, chart, snapshot, callId } = await savedWhileOwning();
    const restored = b.restore(snapshot, { chart });
    assert.equal(b.service<{ ownerOf(id: string): string | undefined }>('ixn')!.ownerOf(callId), restored.id);
    assert.equal(restored.evaluateExpression('_genesys.ixn.interactions[0].g_uid'), callId);
    restored.send('route');
    const result = await restored.done;
    assert.equal(result.final, 'routed', JSON.stringify(r.logged('error')));
    assert.ok(r.requests('redirect').some((q) => q.callId === callId));
    await b.close();
  });

  test('an interaction that ended meanwhile: the restored session gets interaction.deleted and interaction.notcontrolled', async () => {
    const { r, b, chart, snapshot, callId } = await savedWhileOwning();
    await r.sim.release({ callId, dn: null });
    await r.settle();
    const restored = b.restore(snapshot, { chart });
    assert.equal(b.service<{ ownerOf(id: string): string | undefined }>('ixn')!.ownerOf(callId), undefined);
    const result = await restored.done;
    assert.equal(result.final, 'lost');
    await b.close();
  });
});

describe('ixn:hold and ixn:retrieve', () => {
  test('hold then retrieve a party: voice.hold.done, voice.retrieve.done, the call state follows', async () => {
    const r = rig();
    const { result, callId } = await run(r, control(`
    <state id="main">
      <onentry><ixn:hold requestid="reqid" interactionid="ixnid" resource="'9000'"/></onentry>
      <transition event="voice.hold.done" target="held"><log label="hold.done" expr="_event.data"/></transition>
    </state>
    <state id="held">
      <transition event="interaction.partychanged" cond="_genesys.ixn.interactions[0].state === 'held'" target="retrieve">
        <log label="partychanged" expr="_event.data"/>
      </transition>
    </state>
    <state id="retrieve">
      <onentry><ixn:retrieve interactionid="ixnid" resource="'9000'"/></onentry>
      <transition event="voice.retrieve.done" target="retrieved"/>
    </state>
    <state id="retrieved">
      <transition event="interaction.partychanged" cond="_genesys.ixn.interactions[0].state === 'established'" target="end"/>
    </state>`, { route: '9000' }));
    assert.equal(result?.final, 'end');
    const [done] = r.logged('hold.done') as any[];
    assert.equal(done.interactionid, callId);
    assert.deepEqual(r.logged('partychanged'), [{ interactionid: callId, dn: '9000', state: 'held' }]);
    assert.deepEqual(r.requests().filter((e) => e.kind === 'hold' || e.kind === 'retrieve').map((e) => [e.kind, e.dn, e.result]),
      [['hold', '9000', 'accepted'], ['retrieve', '9000', 'accepted']]);
  });

  test('without a resource: the switch picks the party (no thisDN sent)', async () => {
    const r = rig();
    const { result } = await run(r, control(`
    <state id="main">
      <onentry><ixn:hold interactionid="ixnid"/></onentry>
      <transition event="voice.hold.done" target="end"/>
    </state>`, { route: '9000' }));
    assert.equal(result?.final, 'end');
    assert.deepEqual(r.requests('hold').map((e) => [e.dn, e.result]), [[null, 'accepted']]);
  });

  test('hold with no established party, retrieve with nothing held: error.voice.hold / error.voice.retrieve "invalidstate"', async () => {
    const r = rig();
    const { result } = await run(r, control(`
    <state id="main">
      <onentry><ixn:hold interactionid="ixnid"/></onentry>
      <transition event="error.voice.hold" target="retrieve"><log label="hold.error" expr="_event.data.error"/></transition>
    </state>
    <state id="retrieve">
      <onentry><ixn:retrieve interactionid="ixnid"/></onentry>
      <transition event="error.voice.retrieve" target="end"><log label="retrieve.error" expr="_event.data.error"/></transition>
    </state>`));
    assert.equal(result?.final, 'end');
    assert.deepEqual([r.logged('hold.error'), r.logged('retrieve.error')], [['invalidstate'], ['invalidstate']]);
  });
});

describe('ixn:transfer (single step)', () => {
  test('the agent transfers the call to another agent: voice.transfer.done; the new agent answers, the first leaves', async () => {
    const r = rig();
    const { result, callId } = await run(r, control(`
    <state id="main">
      <onentry><ixn:transfer requestid="reqid" interactionid="ixnid" resource="'9000'" to="'9001'"/></onentry>
      <transition event="voice.transfer.done" target="transferred"/>
    </state>
    <state id="transferred">
      <transition event="interaction.partychanged" cond="_genesys.ixn.interactions[0].parties.some(function (p) { return p.dn === '9001' &amp;&amp; p.state === 'established'; })" target="end"/>
    </state>`, { route: '9000' }));
    assert.equal(result?.final, 'end');
    const [request] = r.requests('singlesteptransfer');
    assert.deepEqual([request.callId, request.dn, request.payload.to], [callId, '9000', '9001']);
    assert.deepEqual(parties(r, callId), ['1001:origination:established', '9001:transfer:established']);
  });

  test('to a busy agent: error.voice.transfer "busy"; the call stays with the first agent', async () => {
    const r = rig();
    const { result, callId } = await run(r, control(`<state id="main"><onentry><ixn:transfer interactionid="ixnid" resource="'9000'" to="'9050'"/></onentry></state>`, { route: '9000' }));
    assert.equal(result?.final, 'failed');
    assert.equal((r.logged('error')[0] as any).error, 'busy');
    assert.deepEqual(parties(r, callId), ['1001:origination:established', '9000:destination:established']);
  });
});

describe('ixn:addparty and ixn:deleteparty (conference)', () => {
  test('add a party, then delete it: voice.addparty.done, voice.deleteparty.done; the call goes on', async () => {
    const r = rig();
    const { result, callId } = await run(r, control(`
    <state id="main">
      <onentry><ixn:addparty requestid="reqid" interactionid="ixnid" dn="'9001'"/></onentry>
      <transition event="voice.addparty.done" target="adding"/>
    </state>
    <state id="adding">
      <transition event="interaction.partychanged" target="delete"
        cond="_genesys.ixn.interactions[0].parties.some(function (p) { return p.dn === '9001' &amp;&amp; p.state === 'established'; })">
        <log label="conference" expr="_genesys.ixn.interactions[0].parties.map(function (p) { return p.dn + ':' + p.role; })"/>
      </transition>
    </state>
    <state id="delete">
      <onentry><ixn:deleteparty interactionid="ixnid" dn="'9001'"/></onentry>
      <transition event="voice.deleteparty.done" target="end"/>
    </state>`, { route: '9000' }));
    assert.equal(result?.final, 'end');
    assert.deepEqual(r.logged('conference'), [['1001:origination', '9000:destination', '9001:conference']]);
    assert.deepEqual(r.requests().filter((e) => e.kind === 'addparty' || e.kind === 'deleteparty').map((e) => [e.kind, e.callId, e.dn]),
      [['addparty', callId, '9001'], ['deleteparty', callId, '9001']]);
    assert.deepEqual(parties(r, callId), ['1001:origination:established', '9000:destination:established']);
  });

  test('add a party to a call still at the routing point: error.voice.addparty "invalidstate"; delete a non-party: error.voice.deleteparty "invalidparty"', async () => {
    const r = rig();
    const { result } = await run(r, control(`
    <state id="main">
      <onentry><ixn:addparty interactionid="ixnid" dn="'9001'"/></onentry>
      <transition event="error.voice.addparty" target="delete"><log label="add.error" expr="_event.data.error"/></transition>
    </state>
    <state id="delete">
      <onentry><ixn:deleteparty interactionid="ixnid" dn="'9001'"/></onentry>
      <transition event="error.voice.deleteparty" target="end"><log label="delete.error" expr="_event.data.error"/></transition>
    </state>`));
    assert.equal(result?.final, 'end');
    assert.deepEqual([r.logged('add.error'), r.logged('delete.error')], [['invalidstate'], ['invalidparty']]);
  });
});

describe('call control on a link that is down', () => {
  test('every action fails with "linkdown" (here: redirect)', async () => {
    const r = rig();
    r.engine.addHooks({ beforeEvent: (_s, e) => { if (e.name === 'interaction.present') r.sim.setConnected(false); } });
    const { result } = await run(r, control(`<state id="main"><onentry><ixn:redirect interactionid="ixnid" to="'9000'"/></onentry></state>`));
    assert.equal(result?.final, 'failed');
    assert.equal((r.logged('error')[0] as any).error, 'linkdown');
  });
});

describe('acting on a switch after the engine went idle (virtual clock)', () => {
  test('engine.whenIdle() delivers the switch\'s events without the clock being advanced by hand', async () => {
    const r = rig();
    const session = r.start(control(`<state id="main"><transition event="interaction.deleted" target="end"/></state>`));
    const call = r.call();
    await r.settle();
    await r.sim.release({ callId: call.callId, dn: null });
    const outcome = await Promise.race([r.engine.whenIdle().then(() => 'idle'), new Promise((resolve) => setTimeout(() => resolve('stuck'), 300))]);
    if (outcome === 'stuck') await r.settle(); // let the session finish either way
    assert.equal((await session.done).final, 'end');
    assert.equal(outcome, 'idle');
  });
});
