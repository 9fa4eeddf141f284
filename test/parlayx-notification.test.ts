// Call Notification and Call Direction end to end: subscriptions through a SOAP client and the JSON
// mirror, call events from calls on the simulated switch, applications on loopback (node-soap
// serving our application-side WSDLs, and a JSON one) receiving notify…/handle… and answering Actions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rest, soapClient, soapFault, startJsonApplication, startSoapApplication, startTestService, waitFor, type TestService } from './support/parlayx.js';

describe('Call Notification and Call Direction', () => {
  let t: TestService;
  let app: Awaited<ReturnType<typeof startSoapApplication>>;
  let decisions: Record<string, { actionToPerform: string; routingAddress?: string }>;
  let tpc: any;
  let notificationManager: any;
  let directionManager: any;

  before(async () => {
    t = await startTestService();
    decisions = {};
    app = await startSoapApplication((operation, args) => decisions[`${operation} ${args.calledParty}`] ?? { actionToPerform: 'Continue' });
    tpc = await soapClient(t.url, 'third_party_call', 'alice');
    notificationManager = await soapClient(t.url, 'call_notification_manager', 'alice');
    directionManager = await soapClient(t.url, 'call_direction_manager', 'alice');
  });
  after(async () => {
    await t.close();
    await app.close();
  });

  const reference = (path: string, correlator: string) => ({ endpoint: `${app.url}${path}`, interfaceName: 'test', correlator });
  const callTo = async (calledParty: string) => (await tpc.makeCallAsync({ callingParty: 'tel:1001', calledParty }))[0].result as string;
  const finalInfo = (id: string) => waitFor(`call ${id} to end`, async () => {
    const [r] = await tpc.getCallInformationAsync({ callIdentifier: id });
    return r.result.callStatus === 'CallTerminated' ? r.result : undefined;
  });
  const connectedInfo = (id: string) => waitFor(`call ${id} to connect`, async () => {
    const [r] = await tpc.getCallInformationAsync({ callIdentifier: id });
    return r.result.callStatus === 'CallConnected' ? r.result : undefined;
  });
  const offered = (dn: string) => t.switchLog.filter((e) => e.type === 'request' && e.kind === 'addparty' && (e as any).payload.dn === dn).length;

  test('notifications: busy, not reachable and no answer reach the application with the parties', async () => {
    await notificationManager.startCallNotificationAsync({ reference: reference('/parlayx/call_notification', 'n-1'), addresses: ['tel:1100', 'tel:1101', 'tel:1102'], criteria: ['Busy', 'NotReachable', 'NoAnswer'] });
    for (const [dn, operation] of [['1100', 'notifyBusy'], ['1102', 'notifyNotReachable'], ['1101', 'notifyNoAnswer']] as const) {
      await finalInfo(await callTo(`tel:${dn}`));
      const event = await waitFor(operation, () => app.received.find((e) => e.operation === operation && e.args.calledParty === `tel:${dn}`));
      assert.equal(event.args.correlator, 'n-1');
      assert.equal(event.args.callingParty, 'tel:1001');
    }
    // stop: the addresses and criteria identify the rule, the correlator is ignored
    await notificationManager.stopCallNotificationAsync({ correlator: 'anything', addresses: ['tel:1102', 'tel:1100', 'tel:1101'], criteria: ['NoAnswer', 'Busy', 'NotReachable'] });
    const before = app.received.length;
    await finalInfo(await callTo('tel:1100'));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(app.received.length, before, 'no notification after stop');
    const again = await soapFault(notificationManager.stopCallNotificationAsync({ correlator: 'n-1', addresses: ['tel:1100'], criteria: ['Busy'] }));
    assert.equal(again.messageId, 'SVC0002');
  });

  test('direction: Route on busy connects the routing address', async () => {
    decisions['handleBusy tel:1100'] = { actionToPerform: 'Route', routingAddress: 'tel:2001' };
    await directionManager.startCallDirectionNotificationAsync({ reference: reference('/parlayx/call_direction', 'd-busy'), addresses: ['tel:1100'], criteria: ['Busy'] });
    const id = await callTo('tel:1100');
    await connectedInfo(id);
    assert.ok(app.received.some((e) => e.operation === 'handleBusy' && e.args.calledParty === 'tel:1100'));
    assert.equal(offered('2001'), 1);
    await tpc.endCallAsync({ callIdentifier: id });
    await directionManager.stopCallDirectionNotificationAsync({ correlator: '', addresses: ['tel:1100'], criteria: ['Busy'] });
  });

  test('direction: EndCall on not reachable, Continue on no answer', async () => {
    decisions['handleNotReachable tel:1102'] = { actionToPerform: 'EndCall' };
    await directionManager.startCallDirectionNotificationAsync({ reference: reference('/parlayx/call_direction', 'd-2'), addresses: ['tel:1102', 'tel:1101'], criteria: ['NotReachable', 'NoAnswer'] });
    const unreachable = await finalInfo(await callTo('tel:1102'));
    assert.equal(unreachable.terminationCause, 'CalledPartyNotReachable');
    const noAnswer = await finalInfo(await callTo('tel:1101'));
    assert.equal(noAnswer.terminationCause, 'CalledPartyNoAnswer');
    assert.ok(app.received.some((e) => e.operation === 'handleNoAnswer' && e.args.calledParty === 'tel:1101'));
    await directionManager.stopCallDirectionNotificationAsync({ correlator: '', addresses: ['tel:1101', 'tel:1102'], criteria: ['NotReachable', 'NoAnswer'] });
  });

  test('direction: Fork on the called number rings both; the first to answer is connected, the other stops ringing', async () => {
    decisions['handleCalledNumber tel:1003'] = { actionToPerform: 'Fork', routingAddress: 'tel:2002' };
    await directionManager.startCallDirectionNotificationAsync({ reference: reference('/parlayx/call_direction', 'd-fork'), addresses: ['tel:1003'], criteria: ['CalledNumber'] });
    const id = await callTo('tel:1003');
    await connectedInfo(id);
    assert.equal(offered('1003'), 1);
    assert.equal(offered('2002'), 1);
    await waitFor('the losing leg dropped', () => (t.switchLog.filter((e) => e.type === 'request' && e.kind === 'deleteparty' && ['1003', '2002'].includes((e as any).payload.dn)).length === 1 ? true : undefined));
    await tpc.endCallAsync({ callIdentifier: id });
  });

  test('direction: Route on no answer; an unreachable or silent application gets the default (Continue)', async () => {
    decisions['handleNoAnswer tel:1101'] = { actionToPerform: 'Route', routingAddress: 'tel:2003' };
    await directionManager.startCallDirectionNotificationAsync({ reference: reference('/parlayx/call_direction', 'd-na'), addresses: ['tel:1101'], criteria: ['NoAnswer'] });
    const routed = await callTo('tel:1101');
    await connectedInfo(routed);
    assert.equal(offered('2003'), 1);
    await tpc.endCallAsync({ callIdentifier: routed });

    await directionManager.startCallDirectionNotificationAsync({ reference: { endpoint: 'http://127.0.0.1:9/nobody', interfaceName: 'x', correlator: 'dead' }, addresses: ['tel:1100'], criteria: ['Busy'] });
    const busy = await finalInfo(await callTo('tel:1100'));
    assert.equal(busy.terminationCause, 'CalledPartyBusy');
  });

  test('subscription faults: duplicate correlator, overlapping criteria, addresses not owned, rules not allowed', async () => {
    await notificationManager.startCallNotificationAsync({ reference: reference('/parlayx/call_notification', 'dup'), addresses: ['tel:1003'], criteria: ['Busy'] });
    assert.equal((await soapFault(notificationManager.startCallNotificationAsync({ reference: reference('/parlayx/call_notification', 'dup'), addresses: ['tel:1101'], criteria: ['Busy'] }))).messageId, 'SVC0005');
    const overlap = await soapFault(notificationManager.startCallNotificationAsync({ reference: reference('/parlayx/call_notification', 'other'), addresses: ['tel:1003', 'tel:1100'], criteria: ['Busy', 'NoAnswer'] }));
    assert.equal(overlap.messageId, 'SVC0008');
    const notMine = await soapFault(notificationManager.startCallNotificationAsync({ reference: reference('/parlayx/call_notification', 'x'), addresses: ['tel:1050'], criteria: ['Busy'] }));
    assert.equal(notMine.kind, 'PolicyException');
    assert.match(String(notMine.variables), /tel:1050/);
    const bob = await soapClient(t.url, 'call_notification_manager', 'bob');
    const denied = await soapFault(bob.startCallNotificationAsync({ reference: reference('/parlayx/call_notification', 'b'), addresses: ['tel:1003'], criteria: ['Busy'] }));
    assert.equal(denied.messageId, 'POL0001');
    assert.match(String(denied.variables), /may not change its signal rules/);
    const badEndpoint = await soapFault(notificationManager.startCallNotificationAsync({ reference: { endpoint: 'ftp://x', interfaceName: 'x', correlator: 'e' }, addresses: ['tel:1003'], criteria: ['NoAnswer'] }));
    assert.equal(badEndpoint.messageId, 'SVC0002');
  });

  test('the JSON mirror: a direction subscription whose application answers in JSON', async () => {
    const jsonApp = await startJsonApplication((body) => ({ action: { actionToPerform: 'Route', routingAddress: 'sip:2004@example.com' }, seen: body }));
    try {
      const started = await rest(t.url, 'call_direction_manager/startCallDirectionNotification', {
        reference: { endpoint: jsonApp.url, interfaceName: 'json', correlator: 'j-1' }, addresses: ['sip:1004@example.com'], criteria: ['CalledNumber'],
      });
      assert.equal(started.status, 200);
      const id = await callTo('tel:1004');
      await connectedInfo(id);
      assert.equal(offered('2004'), 1);
      assert.equal(offered('1004'), 0, 'routed before the called number was offered');
      assert.deepEqual(jsonApp.received[0], { callEventNotification: { callingParticipant: 'tel:1001', calledParticipant: 'tel:1004', callEvent: 'CalledNumber', notificationType: 'CallDirection', callbackData: 'j-1' } });
      await tpc.endCallAsync({ callIdentifier: id });
      const stopped = await rest(t.url, 'call_direction_manager/stopCallDirectionNotification', { correlator: 'j-1', addresses: ['tel:1004'], criteria: ['CalledNumber'] });
      assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    } finally {
      await jsonApp.close();
    }
  });
});
