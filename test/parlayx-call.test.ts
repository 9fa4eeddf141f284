// ParlayX Third Party Call end to end: the service on loopback, driven by a real SOAP client
// (npm `soap` reading our WSDLs) and by plain HTTP (the JSON mirror), calls on the simulated switch.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rest, soapClient, soapFault, startTestService, waitFor, type TestService } from './support/parlayx.js';

describe('Third Party Call 2.x through a SOAP client', () => {
  let t: TestService;
  let tpc: any;
  before(async () => {
    t = await startTestService();
    tpc = await soapClient(t.url, 'third_party_call', 'alice');
  });
  after(() => t.close());

  const info = async (id: string) => (await tpc.getCallInformationAsync({ callIdentifier: id }))[0].result;

  test('a call is placed, answered, read, ended, read during the linger and unknown after it', async () => {
    const [made] = await tpc.makeCallAsync({ callingParty: 'tel:1001', calledParty: 'tel:1002', charging: { description: 'demo', currency: 'EUR', amount: '0.10' } });
    const id = made.result;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal((await info(id)).callStatus, 'CallInitial');
    const connected = await waitFor('CallConnected', async () => { const i = await info(id); return i.callStatus === 'CallConnected' ? i : undefined; });
    assert.ok(new Date(connected.startTime).getTime() <= Date.now());
    // The carrier model: the gateway trunk calls the calling party, then the called party joins, then the gateway leaves.
    const requests = t.switchLog.filter((e) => e.type === 'request').map((e) => [e.kind, (e as any).payload.to ?? (e as any).payload.dn ?? null]);
    assert.deepEqual(requests.slice(0, 3), [['makecall', '1001'], ['addparty', '1002'], ['deleteparty', '8000']]);
    await new Promise((r) => setTimeout(r, 1100));
    assert.ok(Number((await info(id)).duration) >= 1, 'duration counts seconds since the answer');
    await tpc.endCallAsync({ callIdentifier: id });
    const ended = await waitFor('CallTerminated', async () => { const i = await info(id); return i.callStatus === 'CallTerminated' ? i : undefined; });
    assert.equal(ended.terminationCause, 'CallHangUp');
    assert.equal(new Date(ended.startTime).getTime(), new Date(connected.startTime).getTime());
    const fault = await waitFor('the linger to end', async () => {
      try { await info(id); return undefined; } catch { return soapFault(info(id)); }
    }, 2000);
    assert.equal(fault.messageId, 'SVC0002');
    assert.equal(fault.kind, 'ServiceException');
  });

  test('cancelCall before the called party answers; cancelCall on a connected call is refused', async () => {
    const [slow] = await tpc.makeCallAsync({ callingParty: 'tel:1005', calledParty: 'tel:1103' });
    await waitFor('the called party ringing', () => t.switchLog.some((e) => e.type === 'request' && e.kind === 'addparty' && (e as any).payload.dn === '1103') || undefined);
    await tpc.cancelCallRequestAsync({ callIdentifier: slow.result });
    const ended = await waitFor('cancelled', async () => { const i = await info(slow.result); return i.callStatus === 'CallTerminated' ? i : undefined; });
    assert.equal(ended.terminationCause, 'CallAborted');
    assert.equal(ended.startTime, undefined);

    const [call] = await tpc.makeCallAsync({ callingParty: 'tel:1006', calledParty: 'tel:1007' });
    await waitFor('connected', async () => ((await info(call.result)).callStatus === 'CallConnected' ? true : undefined));
    const fault = await soapFault(tpc.cancelCallAsync({ callIdentifier: call.result }));
    assert.equal(fault.messageId, 'SVC0002');
    assert.match(String(fault.variables), /endCall/);
    await tpc.endCallAsync({ callIdentifier: call.result });
  });

  test('a busy, unreachable or unanswered called party ends the call with its cause', async () => {
    for (const [dn, cause] of [['1100', 'CalledPartyBusy'], ['1102', 'CalledPartyNotReachable'], ['1101', 'CalledPartyNoAnswer']] as const) {
      const [made] = await tpc.makeCallAsync({ callingParty: 'tel:1010', calledParty: `tel:${dn}` });
      const ended = await waitFor(cause, async () => { const i = await info(made.result); return i.callStatus === 'CallTerminated' ? i : undefined; });
      assert.equal(ended.terminationCause, cause, dn);
    }
  });

  test('a user reaches only their own calls; input is validated with located messages', async () => {
    const [made] = await tpc.makeCallAsync({ callingParty: 'tel:1020', calledParty: 'tel:1021' });
    const bob = await soapClient(t.url, 'third_party_call', 'bob');
    const fault = await soapFault(bob.getCallInformationAsync({ callIdentifier: made.result }));
    assert.equal(fault.messageId, 'SVC0002');
    assert.equal((await soapFault(bob.endCallAsync({ callIdentifier: made.result }))).messageId, 'SVC0002');
    assert.equal((await info(made.result)).callStatus === 'CallTerminated', false, "bob's endCall did not reach alice's call");
    await tpc.endCallAsync({ callIdentifier: made.result });

    const bad = await soapFault(tpc.makeCallAsync({ callingParty: 'mailto:x@y', calledParty: 'tel:1021' }));
    assert.equal(bad.messageId, 'SVC0002');
    assert.match(String(bad.variables), /callingParty: 'mailto:x@y' is not a tel: or sip: address/);
    const charging = await soapFault(tpc.makeCallAsync({ callingParty: 'tel:1022', calledParty: 'tel:1023', charging: { description: 'x', currency: 'euro' } }));
    assert.equal(charging.messageId, 'SVC0007');

    const carol = await soapClient(t.url, 'third_party_call', 'carol');
    const policy = await soapFault(carol.makeCallAsync({ callingParty: 'tel:1024', calledParty: 'tel:1025' }));
    assert.equal(policy.kind, 'PolicyException');
    assert.equal(policy.messageId, 'POL0001');
  });

  test('authentication: no credentials or a wrong password get 401 and no call is placed', async () => {
    const before = t.switchLog.length;
    for (const client of [await soapClient(t.url, 'third_party_call', null), await soapClient(t.url, 'third_party_call', 'alice', 'wrong')]) {
      await assert.rejects(client.makeCallAsync({ callingParty: 'tel:1030', calledParty: 'tel:1031' }), (err: any) => err.response?.status === 401);
    }
    const res = await fetch(`${t.url}/parlayx/third_party_call?wsdl`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.equal(t.switchLog.length, before);
  });
});

describe('Third Party Call 3.0 call sessions through a SOAP client', () => {
  let t: TestService;
  let tpc: any;
  before(async () => {
    t = await startTestService();
    tpc = await soapClient(t.url, 'third_party_call_v3', 'alice');
  });
  after(() => t.close());

  const participant = async (session: string, uri: string) => (await tpc.getCallParticipantInformationAsync({ callSessionIdentifier: session, callParticipant: uri }))[0].result;
  const connected = (session: string, uri: string) => waitFor(`${uri} connected`, async () => ((await participant(session, uri)).callParticipantStatus === 'CallParticipantConnected' ? true : undefined));

  test('participants are added, transferred to another session and deleted; the session ends', async () => {
    const [s1] = await tpc.makeCallSessionAsync({ callParticipants: ['tel:1040', 'tel:1041'], changeMediaNotAllowed: false });
    const [s2] = await tpc.makeCallSessionAsync({ callParticipants: ['tel:1042', 'tel:1043'], changeMediaNotAllowed: false });
    await connected(s1.result, 'tel:1041');
    await connected(s2.result, 'tel:1043');

    await tpc.addCallParticipantAsync({ callSessionIdentifier: s1.result, callParticipant: 'tel:1044' });
    await connected(s1.result, 'tel:1044');

    await tpc.transferCallParticipantAsync({ destinationCallSessionIdentifier: s2.result, sourceCallSessionIdentifier: s1.result, callParticipant: 'tel:1044' });
    await connected(s2.result, 'tel:1044');
    const left = await participant(s1.result, 'tel:1044');
    assert.equal(left.callParticipantStatus, 'CallParticipantTerminated');
    const [session2] = await tpc.getCallSessionInformationAsync({ callSessionIdentifier: s2.result });
    const statuses = Object.fromEntries([session2.result.callParticipantInformation].flat().map((p: any) => [p.callParticipantIdentifier, p.callParticipantStatus]));
    assert.deepEqual(statuses, { 'tel:1042': 'CallParticipantConnected', 'tel:1043': 'CallParticipantConnected', 'tel:1044': 'CallParticipantConnected' });

    await tpc.deleteCallParticipantAsync({ callSessionIdentifier: s2.result, callParticipant: 'tel:1043' });
    await waitFor('1043 gone', async () => ((await participant(s2.result, 'tel:1043')).callParticipantStatus === 'CallParticipantTerminated' ? true : undefined));

    await tpc.endCallSessionAsync({ callSessionIdentifier: s2.result });
    const ended = await waitFor('session 2 terminated', async () => {
      const p = await participant(s2.result, 'tel:1042');
      return p.callParticipantStatus === 'CallParticipantTerminated' ? p : undefined;
    });
    assert.equal(ended.callParticipantTerminationCause, 'CallParticipantHangUp');
    await tpc.endCallSessionAsync({ callSessionIdentifier: s1.result });

    const unknown = await soapFault(participant(s1.result, 'tel:1999'));
    assert.equal(unknown.messageId, 'SVC0002');
  });

  test('a participant deleted while it rings stops ringing (nobody left to offer: the session ends); the calling party transferred to another session', async () => {
    const [s1] = await tpc.makeCallSessionAsync({ callParticipants: ['tel:1045', 'tel:1103'], changeMediaNotAllowed: false });
    await connected(s1.result, 'tel:1045');
    await waitFor('1103 ringing', () => t.switchLog.some((e) => e.type === 'request' && e.kind === 'addparty' && (e as any).payload.dn === '1103') || undefined);
    await tpc.deleteCallParticipantAsync({ callSessionIdentifier: s1.result, callParticipant: 'tel:1103' });
    await waitFor('1103 dropped', () => t.switchLog.some((e) => e.type === 'request' && e.kind === 'deleteparty' && (e as any).payload.dn === '1103') || undefined);
    assert.equal((await participant(s1.result, 'tel:1103')).callParticipantStatus, 'CallParticipantTerminated');
    assert.equal((await soapFault(tpc.deleteCallParticipantAsync({ callSessionIdentifier: s1.result, callParticipant: 'tel:1103' }))).messageId, 'SVC0002', 'already left');
    await waitFor('session 1 ended', async () => ((await participant(s1.result, 'tel:1045')).callParticipantStatus === 'CallParticipantTerminated' ? true : undefined));

    const [s2] = await tpc.makeCallSessionAsync({ callParticipants: ['tel:1046', 'tel:1047'], changeMediaNotAllowed: false });
    const [s3] = await tpc.makeCallSessionAsync({ callParticipants: ['tel:1048', 'tel:1049'], changeMediaNotAllowed: false });
    await connected(s2.result, 'tel:1047');
    await connected(s3.result, 'tel:1049');
    await tpc.transferCallParticipantAsync({ destinationCallSessionIdentifier: s3.result, sourceCallSessionIdentifier: s2.result, callParticipant: 'tel:1046' });
    await connected(s3.result, 'tel:1046');
    const left = await participant(s2.result, 'tel:1046');
    assert.equal(left.callParticipantStatus, 'CallParticipantTerminated');
    await waitFor('session 2 ended', async () => ((await participant(s2.result, 'tel:1047')).callParticipantStatus === 'CallParticipantTerminated' ? true : undefined));
    await tpc.endCallSessionAsync({ callSessionIdentifier: s3.result });
  });
});

describe('Third Party Call through the JSON mirror (plain HTTP)', () => {
  let t: TestService;
  before(async () => { t = await startTestService(); });
  after(() => t.close());

  test('makeCall, getCallInformation, endCall; faults as requestError bodies', async () => {
    const made = await rest(t.url, 'third_party_call/makeCall', { callingParty: 'tel:1050', calledParty: 'tel:1051' });
    assert.equal(made.status, 200);
    const id = made.body.result;
    const connected = await waitFor('connected', async () => {
      const r = await rest(t.url, 'third_party_call/getCallInformation', { callIdentifier: id });
      return r.body.result.callStatus === 'CallConnected' ? r.body.result : undefined;
    });
    assert.ok(connected.startTime);
    assert.deepEqual((await rest(t.url, 'third_party_call/endCall', { callIdentifier: id })).body, {});

    const missing = await rest(t.url, 'third_party_call/makeCall', { callingParty: 'tel:1050' });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { requestError: { serviceException: { messageId: 'SVC0002', text: 'Invalid input value for message part %1', variables: ['makeCall.calledParty: missing'] } } });
    const extra = await rest(t.url, 'third_party_call/makeCall', { callingParty: 'tel:1050', calledParty: 'tel:1052', colour: 'red' });
    assert.match(extra.body.requestError.serviceException.variables[0], /makeCall\.colour: unknown property/);
    const notJson = await rest(t.url, 'third_party_call/makeCall', '{"callingParty":');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.requestError.serviceException.messageId, 'SVC0002');
    const bob = await rest(t.url, 'third_party_call/getCallInformation', { callIdentifier: id }, 'bob');
    assert.equal(bob.status, 400);
    assert.equal(bob.body.requestError.serviceException.messageId, 'SVC0002');
    const carol = await rest(t.url, 'third_party_call/makeCall', { callingParty: 'tel:1053', calledParty: 'tel:1054' }, 'carol');
    assert.equal(carol.status, 403);
    assert.equal(carol.body.requestError.policyException.messageId, 'POL0001');
    const anonymous = await rest(t.url, 'third_party_call/makeCall', { callingParty: 'tel:1053', calledParty: 'tel:1054' }, null);
    assert.equal(anonymous.status, 401);
    assert.equal((await rest(t.url, 'third_party_call/noSuchOperation', {})).status, 404);
  });

  test('SOAP over plain HTTP: any version of the namespace is accepted and answered in kind; envelope errors are Client faults', async () => {
    const auth = { authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`, 'content-type': 'text/xml' };
    const post = async (body: string, path = 'third_party_call') => {
      const res = await fetch(`${t.url}/parlayx/${path}`, { method: 'POST', headers: auth, body });
      return { status: res.status, text: await res.text() };
    };
    const env = (inner: string) => `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${inner}</s:Body></s:Envelope>`;
    const v20 = 'http://www.csapi.org/schema/parlayx/third_party_call/v2_0/local';
    const made = await post(env(`<m:makeCall xmlns:m="${v20}"><m:callingParty>tel:1060</m:callingParty><m:calledParty>tel:1061</m:calledParty></m:makeCall>`));
    assert.equal(made.status, 200);
    assert.match(made.text, new RegExp(`<makeCallResponse xmlns="${v20}"><result>[0-9a-f-]{36}</result>`));

    const malformed = await post('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><oops></s:Body>');
    assert.equal(malformed.status, 500);
    assert.match(malformed.text, /<faultcode>soapenv:Client<\/faultcode><faultstring>malformed XML at line 1, column/);
    const soap12 = await post('<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>');
    assert.match(soap12.text, /soapenv:VersionMismatch/);
    const doctype = await post(`<!DOCTYPE x [<!ENTITY a "aaaa">]>${env('<x/>')}`);
    assert.match(doctype.text, /soapenv:Client/);
    const wrongService = await post(env(`<m:makeCall xmlns:m="${v20}"><m:callingParty>tel:1</m:callingParty><m:calledParty>tel:2</m:calledParty></m:makeCall>`), 'third_party_call_v3');
    assert.match(wrongService.text, /third_party_call_v3 has no operation/);
    const badEnum = await post(env(`<m:startCallNotification xmlns:m="http://www.csapi.org/schema/parlayx/call_notification/notification_manager/v2_2/local"><m:reference><endpoint>http://127.0.0.1:1/x</endpoint><interfaceName>x</interfaceName><correlator>c</correlator></m:reference><m:addresses>tel:1100</m:addresses><m:criteria>Sometimes</m:criteria></m:startCallNotification>`), 'call_notification_manager');
    assert.match(badEnum.text, /<messageId xmlns="">SVC0003<\/messageId>/);
    assert.match(badEnum.text, /startCallNotification\/criteria\[0\] \(line 1, column \d+\): 'Sometimes' is not one of Busy, NotReachable, NoAnswer, CalledNumber/);
    const big = await post(env(`<m:makeCall xmlns:m="${v20}"><m:callingParty>${'x'.repeat(1_100_000)}</m:callingParty></m:makeCall>`));
    assert.equal(big.status, 413);
  });
});

describe('Third Party Call with the isolated sandbox', () => {
  let t: TestService;
  before(async () => { t = await startTestService({ sandbox: 'isolated' }); });
  after(() => t.close());

  test('the call chart runs in QuickJS as well: placed, connected, ended', async () => {
    const id = (await rest(t.url, 'third_party_call/makeCall', { callingParty: 'tel:1070', calledParty: 'tel:1071' })).body.result;
    const read = async () => (await rest(t.url, 'third_party_call/getCallInformation', { callIdentifier: id })).body.result;
    await waitFor('connected', async () => ((await read()).callStatus === 'CallConnected' ? true : undefined));
    await rest(t.url, 'third_party_call/endCall', { callIdentifier: id });
    const ended = await waitFor('ended', async () => { const r = await read(); return r.callStatus === 'CallTerminated' ? r : undefined; });
    assert.equal(ended.terminationCause, 'CallHangUp');
  });
});
