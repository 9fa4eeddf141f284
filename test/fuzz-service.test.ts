// Service input fuzzing: malformed SOAP, wrong and mixed namespaces, garbled bytes, oversized
// bodies and slow clients against the ParlayX service. Every request ends in an answer (a ParlayX
// fault, a SOAP Client fault or an HTTP error), the service keeps serving, and money moves only
// for requests answered 200: never a partial charge. FUZZ_RUNS / FUZZ_SEED replay a campaign.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import fc from 'fast-check';
import { startTestService, type TestService } from './support/parlayx.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);
const LOCAL = 'http://www.csapi.org/schema/parlayx/payment/amount_charging/v2_1/local';
const AUTH = `Basic ${Buffer.from('shop:shop-pw').toString('base64')}`;

const envelope = (ref: string, amount: string, ns = LOCAL) =>
  `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><c:chargeAmount xmlns:c="${ns}"><c:endUserIdentifier>tel:+3399</c:endUserIdentifier><c:charge><description>fuzz</description><currency>EUR</currency><amount>${amount}</amount></c:charge><c:referenceCode>${ref}</c:referenceCode></c:chargeAmount></s:Body></s:Envelope>`;

/** Ways of breaking a valid request. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('garble' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('namespace' as const), ns: fc.constantFrom('', 'urn:other', 'http://www.csapi.org/schema/parlayx/payment/amount_charging/v9_9/local', 'http://www.csapi.org/schema/parlayx/third_party_call/v2_3/local') }),
  fc.record({ kind: fc.constant('amount' as const), amount: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('-1', '1e3', '0.001', '99999999999999999999', 'NaN', '')) }),
  fc.record({ kind: fc.constant('duplicate' as const), element: fc.constantFrom('c:referenceCode', 'c:charge', 'amount') }),
  fc.record({ kind: fc.constant('inject' as const), text: fc.constantFrom('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', '<?xml-stylesheet href="x"?>', '<![CDATA[', '&e;', '\u0000', '<a xmlns:a="urn:a" a:b="1" a:b="2"/>') }),
  fc.record({ kind: fc.constant('valid' as const) }),
);

function mutate(ref: string, m: typeof mutation extends fc.Arbitrary<infer T> ? T : never): Buffer {
  const base = envelope(ref, '0.01');
  switch (m.kind) {
    case 'truncate': return Buffer.from(base.slice(0, m.at % base.length));
    case 'garble': {
      const b = Buffer.from(base);
      const at = m.at % b.length;
      return Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at + m.bytes.length)]);
    }
    case 'namespace': return Buffer.from(envelope(ref, '0.01', m.ns));
    case 'amount': return Buffer.from(envelope(ref, m.amount.replace(/[<&]/g, '')));
    case 'duplicate': {
      const open = base.indexOf(`<${m.element}>`);
      const close = base.indexOf(`</${m.element}>`) + m.element.length + 3;
      return Buffer.from(base.slice(0, close) + base.slice(open, close) + base.slice(close));
    }
    case 'inject': return Buffer.from(m.text.startsWith('<!DOCTYPE') || m.text.startsWith('<?') ? m.text + base : base.replace('<description>fuzz', `<description>fuzz${m.text}`));
    case 'valid': return Buffer.from(base);
  }
}

describe('ParlayX service input fuzzing', () => {
  let t: TestService;
  before(async () => {
    t = await startTestService({ bodyLimit: 64 * 1024, accounts: [{ name: 'shop', password: 'shop-pw', settings: { billing: 'any' } }] });
    await t.service.billing.createAccount('tel:+3399', { currency: 'EUR' });
    await t.service.billing.balanceUpdate({ caller: 'operator', endUserIdentifier: 'tel:+3399', referenceCode: 'init', amount: '1000.00' });
  });
  after(() => t.close());

  const balance = async () => (await t.service.billing.getBalance('tel:+3399')).balances[0]!.amount;

  test(`mutated chargeAmount envelopes (${RUNS} runs, seed ${SEED}): an answer every time, money only for 200s`, async () => {
    let accepted = 0;
    let n = 0;
    await fc.assert(fc.asyncProperty(mutation, async (m) => {
      const ref = `fz-${n++}`;
      const res = await fetch(`${t.url}/parlayx/amount_charging`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/xml' }, body: new Uint8Array(mutate(ref, m)) });
      const text = await res.text();
      assert.ok([200, 400, 413, 415, 500].includes(res.status), `HTTP ${res.status}: ${text.slice(0, 200)}`);
      if (res.status === 200) accepted++;
      else assert.match(text, /<soapenv:Fault>/, 'a failure is a SOAP fault');
      // The journal has this reference exactly when the request was answered 200.
      const applied = (await t.service.billing.getHistory('tel:+3399', { maxEntries: 10_000 })).filter((e) => e.referenceCode === ref).length;
      assert.equal(applied, res.status === 200 ? 1 : 0, `${m.kind}: applied ${applied} times, answered ${res.status}`);
    }), { numRuns: RUNS, seed: SEED });
    assert.equal(Number(await balance()), Math.round((1000 - accepted * 0.01) * 100) / 100);
    assert.deepEqual((await t.service.billing.audit()).discrepancies, []);
  });

  test('an oversized body is refused with 413 before it is parsed; the service goes on', async () => {
    const big = envelope('big', '0.01').replace('fuzz', 'x'.repeat(70 * 1024));
    const res = await fetch(`${t.url}/parlayx/amount_charging`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/xml' }, body: big });
    assert.equal(res.status, 413);
    assert.match(await res.text(), /larger than 65536 bytes/);
    const ok = await fetch(`${t.url}/parlayx/amount_charging`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/xml' }, body: envelope('after-big', '0.01') });
    assert.equal(ok.status, 200);
  });

  test('a slow client that stops half-way: nothing is charged, other clients are served meanwhile', async () => {
    const before = await balance();
    const body = envelope('slow', '0.01');
    const { port } = new URL(t.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`POST /parlayx/amount_charging HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    socket.write(body.slice(0, body.length / 2));
    const other = await fetch(`${t.url}/parlayx/amount_charging`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/xml' }, body: envelope('meanwhile', '0.01') });
    assert.equal(other.status, 200);
    socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(Number(await balance()), Math.round((Number(before) - 0.01) * 100) / 100, 'only the complete request was charged');
    const applied = (await t.service.billing.getHistory('tel:+3399', { maxEntries: 10_000 })).filter((e) => e.referenceCode === 'slow');
    assert.deepEqual(applied, []);
  });
});
