// The interaction object model (issue 4): _genesys.ixn.interactions filled and emptied only by
// the events a session processes, the interaction objects, indexing by id, setuData/deleteuData,
// and _data as the datamodel root — in both sandbox modes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdapterError } from '../src/index.js';
import { ixnChart, plain, rig, ScriptedAdapter, scriptedCall, type Rig, type RigOptions } from './ixn-harness.js';

const MODES = ['fast', 'isolated'] as const;

async function setup(mode: (typeof MODES)[number], options: RigOptions = {}): Promise<Rig> {
  const r = rig({ ...options, sandbox: mode });
  if (mode === 'isolated') await r.engine.ready();
  return r;
}

for (const mode of MODES) {
  describe(`_genesys.ixn (${mode} sandbox)`, () => {
    test('_genesys and _data are defined when first read (an idle session holds neither), then behave as variables', async () => {
      const r = await setup(mode);
      const idle = r.start(ixnChart(`<datamodel><data id="x" expr="1"/></datamodel><state id="s"/>`));
      const busy = r.start(ixnChart(`
  <datamodel><data id="x" expr="1"/></datamodel>
  <state id="s"><onentry>
    <log label="types" expr="typeof _genesys.ixn.setuData + ' ' + _genesys.ixn.interactions.length + ' ' + (_data.x === x)"/>
  </onentry></state>`));
      await r.settle();
      assert.deepEqual(Object.keys(idle.dm.variables()).sort(), ['x'], 'nothing was made for an idle session');
      assert.deepEqual(Object.keys(busy.dm.variables()).sort(), ['_genesys', 'x']);
      assert.deepEqual(r.logged('types'), ['function 0 true']);
      // Read from outside the chart (the CLI's eval), the idle session makes them too.
      assert.equal(idle.evaluateExpression('_genesys.ixn.interactions.length'), 0);
      assert.equal(idle.evaluateExpression('_data.x'), 1);
      assert.equal(idle.snapshot().modules?.ixn !== undefined, true);
      assert.deepEqual(Object.keys(idle.snapshot().datamodel), ['x'], 'module variables stay out of snapshots');
    });

    test('interactions is empty at start, fills when interaction.added is processed (not before), empties on interaction.deleted; the session goes on', async () => {
      const r = await setup(mode, {
        // Before the engine hears of the new call, the test queues "peek": the session processes
        // it after the module made the interaction the session's, before interaction.added.
        onSwitchEvent: (event, session) => { if (event.type === 'call.created') session?.send('peek'); },
      });
      const session = r.start(ixnChart(`
  <datamodel><data id="ixnid"/></datamodel>
  <state id="s">
    <onentry><log label="start" expr="_genesys.ixn.interactions.length"/></onentry>
    <transition event="peek"><log label="peek" expr="_genesys.ixn.interactions.length"/></transition>
    <transition event="interaction.added"><log label="added" expr="_genesys.ixn.interactions.length + ':' + _genesys.ixn.interactions[0].g_uid"/></transition>
    <transition event="interaction.present" target="have"><assign location="ixnid" expr="_event.data.interactionid"/></transition>
  </state>
  <state id="have">
    <onentry>
      <log label="objects" expr="_genesys.ixn.interactions"/>
      <log label="byid" expr="_genesys.ixn.interactions[ixnid]"/>
      <log label="sid" expr="_sessionid"/>
    </onentry>
    <transition event="interaction.deleted" target="gone"><log label="deleted" expr="_genesys.ixn.interactions.length"/></transition>
  </state>
  <state id="gone">
    <onentry><log label="gone" expr="_genesys.ixn.interactions.length + ':' + typeof _genesys.ixn.interactions[ixnid]"/></onentry>
    <transition event="more" target="end"/>
  </state>
  <final id="end"/>`));
      const call = r.call('1001', '5000');
      await r.settle();
      assert.deepEqual(r.logged('start'), [0]);
      assert.deepEqual(r.logged('peek'), [0], 'owned already, but interaction.added not processed yet');
      assert.equal(r.ixn.ownerOf(call.callId), session.id);
      assert.deepEqual(r.logged('added'), [`1:${call.callId}`]);
      const [objects] = r.logged('objects') as any[];
      assert.equal(objects.length, 1);
      const o = objects[0];
      assert.equal(o.g_uid, call.callId);
      assert.equal(o.type, 'voice');
      assert.equal(o.state, 'queued');
      assert.deepEqual(o.parties, [
        { dn: '1001', switch: 'SIP_Switch', role: 'origination', state: 'dialing' },
        { dn: '5000', switch: 'SIP_Switch', role: 'routingpoint', state: 'ringing' },
      ]);
      assert.deepEqual(o.udata, {});
      assert.equal(o.properties['OP-Session-ID'], session.id);
      assert.deepEqual(r.logged('sid'), [session.id]);
      assert.deepEqual(r.logged('byid'), [o], 'interactions[g_uid] is the same interaction');

      // The caller hangs up: the interaction is deleted, the session is not.
      await r.sim.release({ callId: call.callId, dn: null });
      await r.settle();
      assert.deepEqual(r.logged('deleted'), [0]);
      assert.deepEqual(r.logged('gone'), ['0:undefined']);
      assert.equal(session.isDone, false);
      assert.deepEqual(session.configuration, ['gone']);
      assert.equal(r.ixn.ownerOf(call.callId), undefined);
      for (const e of r.events.filter((x) => x.name.startsWith('interaction.'))) assert.equal(e.data.interactionid, call.callId, e.name);
      session.send('more');
      assert.equal((await session.done).final, 'end');
    });

    test('interaction objects follow the call: parties and state after routing to an agent', async () => {
      const r = await setup(mode);
      const session = r.start(ixnChart(`
  <datamodel><data id="ixnid"/></datamodel>
  <state id="s">
    <transition event="interaction.present" target="route"><assign location="ixnid" expr="_event.data.interactionid"/></transition>
  </state>
  <state id="route">
    <onentry><ixn:redirect interactionid="ixnid" to="'9000'"/></onentry>
    <transition event="interaction.partychanged" cond="_genesys.ixn.interactions[0].state === 'established'" target="end">
      <log label="obj" expr="_genesys.ixn.interactions[ixnid]"/>
    </transition>
  </state>
  <final id="end"/>`));
      r.call();
      assert.equal((await session.done).final, 'end');
      const [o] = r.logged('obj') as any[];
      assert.equal(o.state, 'established');
      assert.deepEqual(o.parties.map((p: any) => `${p.dn}:${p.role}:${p.state}`), ['1001:origination:established', '9000:destination:established']);
    });

    test('setuData updates the switch (interaction.udata.changed, udata on the object); deleteuData removes keys, or all', async () => {
      const r = await setup(mode);
      const session = r.start(ixnChart(`
  <datamodel><data id="ixnid"/><data id="ret"/></datamodel>
  <state id="s">
    <transition event="interaction.present" target="set"><assign location="ixnid" expr="_event.data.interactionid"/></transition>
  </state>
  <state id="set">
    <onentry><script>ret = _genesys.ixn.setuData(ixnid, {k: 'v', n: 1, nested: {a: [1, 2]}});</script><log label="ret" expr="ret"/></onentry>
    <transition event="interaction.udata.changed" target="del">
      <log label="event.udata" expr="_event.data.udata"/>
      <log label="object.udata" expr="_genesys.ixn.interactions[0].udata"/>
    </transition>
  </state>
  <state id="del">
    <onentry><script>_genesys.ixn.deleteuData(ixnid, 'k');</script></onentry>
    <transition event="interaction.udata.changed" target="clear"><log label="after.delete" expr="_genesys.ixn.interactions[ixnid].udata"/></transition>
  </state>
  <state id="clear">
    <onentry><script>_genesys.ixn.deleteuData(ixnid);</script></onentry>
    <transition event="interaction.udata.changed" target="end"><log label="after.clear" expr="_genesys.ixn.interactions[0].udata"/></transition>
  </state>
  <final id="end"/>`));
      const call = r.call();
      assert.equal((await session.done).final, 'end');
      assert.deepEqual(r.logged('ret'), [true]);
      const full = { k: 'v', n: 1, nested: { a: [1, 2] } };
      assert.deepEqual(r.logged('event.udata'), [full]);
      assert.deepEqual(r.logged('object.udata'), [full]);
      assert.deepEqual(r.logged('after.delete'), [{ n: 1, nested: { a: [1, 2] } }]);
      assert.deepEqual(r.logged('after.clear'), [{}]);
      assert.deepEqual(r.requests().map((e) => [e.kind, e.callId, plain(e.kind === 'updateuserdata' ? e.payload.udata : e.payload.keys)]), [
        ['updateuserdata', call.callId, full],
        ['deleteuserdata', call.callId, ['k']],
        ['deleteuserdata', call.callId, null],
      ]);
      assert.deepEqual(r.sim.call(call.callId)?.udata, {});
    });

    test('setuData fails as error.execution: an interaction the session does not control, data that is not an object, link down', async () => {
      const r = await setup(mode);
      const session = r.start(ixnChart(`
  <datamodel><data id="ixnid"/></datamodel>
  <state id="s">
    <transition event="interaction.present" target="a"><assign location="ixnid" expr="_event.data.interactionid"/></transition>
  </state>
  <state id="a">
    <onentry><script>_genesys.ixn.setuData('00000000000000ff', {k: 1});</script></onentry>
    <transition event="error.execution" target="b"><log label="err" expr="_event.data.message"/></transition>
  </state>
  <state id="b">
    <onentry><script>_genesys.ixn.setuData(ixnid, 'k=1');</script></onentry>
    <transition event="error.execution" target="c"><log label="err" expr="_event.data.message"/></transition>
  </state>
  <state id="c">
    <onentry><send event="down"/></onentry>
    <transition event="down" target="d"/>
  </state>
  <state id="d">
    <onentry><script>_genesys.ixn.deleteuData(ixnid, 'k');</script></onentry>
    <transition event="error.execution" target="end"><log label="err" expr="_event.data.message"/></transition>
  </state>
  <final id="end"/>`));
      r.engine.addHooks({ beforeEvent: (_s, e) => { if (e.name === 'down') r.sim.setConnected(false); } });
      r.call();
      assert.equal((await session.done).final, 'end');
      const [notOurs, notObject, linkDown] = r.logged('err') as string[];
      assert.match(notOurs, /setuData.*00000000000000ff is not controlled by this session/);
      assert.match(notObject, /setuData.*user data must be an object/);
      assert.match(linkDown, /deleteuData.*link to the T-Server of SIP_Switch is down/);
      assert.equal(r.requests().length, 0, 'nothing reached the switch');
    });

    test('a switch that rejects setuData later: error.execution reaches the session (no unhandled rejection)', async () => {
      const sip = new ScriptedAdapter('SIP_Server', [], ['5000']);
      sip.answer = (kind) => (kind === 'updateuserdata' ? new AdapterError('remote', 'attached data refused') : 'ok');
      const r = await setup(mode, { adapters: [sip] });
      const session = r.start(ixnChart(`
  <state id="s">
    <transition event="interaction.present" target="a"/>
  </state>
  <state id="a">
    <onentry><script>_genesys.ixn.setuData(_event.data.interactionid, {k: 1});</script><log label="returned" expr="'yes'"/></onentry>
    <transition event="error.execution" target="end"><log label="err" expr="_event.data.message"/></transition>
  </state>
  <final id="end"/>`));
      sip.addCall(scriptedCall('c1', ['1001@SIP_Server:origination:established', '5000@SIP_Server:routingpoint:ringing']));
      assert.equal((await session.done).final, 'end');
      assert.deepEqual(r.logged('returned'), ['yes']);
      assert.deepEqual(r.logged('err'), ['_genesys.ixn.setuData: remote: attached data refused']);
    });

    test('interaction events a chart sends itself do not change _genesys.ixn.interactions', async () => {
      const r = await setup(mode);
      const session = r.start(ixnChart(`
  <state id="s">
    <onentry><send event="interaction.added"><param name="interactionid" expr="'fake'"/></send></onentry>
    <transition event="interaction.added" target="end"><log label="n" expr="_genesys.ixn.interactions.length + ':' + _event.data.interactionid"/></transition>
  </state>
  <final id="end"/>`));
      assert.equal((await session.done).final, 'end');
      assert.deepEqual(r.logged('n'), ['0:fake']);
    });

    test('_data is the datamodel root: requestid="_data.reqid", <assign location="_data.y">, cond "_data.y == 1"', async () => {
      const r = await setup(mode);
      const session = r.start(ixnChart(`
  <datamodel><data id="reqid"/><data id="y" expr="0"/><data id="ixnid"/></datamodel>
  <state id="s">
    <transition event="interaction.present" target="a"><assign location="_data.ixnid" expr="_event.data.interactionid"/></transition>
  </state>
  <state id="a">
    <onentry>
      <assign location="_data.y" expr="1"/>
      <log label="y" expr="y + ':' + _data.y + ':' + (_data.ixnid === ixnid)"/>
      <ixn:privateservice requestid="_data.reqid" serviceid="5" interactionid="_data.ixnid"/>
    </onentry>
    <transition event="voice.privateservice.done" cond="_data.y == 1 &amp;&amp; _event.data.requestid === reqid" target="end">
      <log label="reqid" expr="_data.reqid"/>
    </transition>
    <transition event="voice.privateservice.done" target="wrong"/>
  </state>
  <final id="end"/>
  <final id="wrong"/>`));
      const call = r.call();
      assert.equal((await session.done).final, 'end');
      assert.deepEqual(r.logged('y'), [`1:1:true`]);
      const [reqid] = r.logged('reqid') as string[];
      assert.equal(r.find('voice.privateservice.done')[0].data.requestid, reqid);
      assert.equal(r.requests('privateservice')[0].callId, call.callId);
    });
  });
}
