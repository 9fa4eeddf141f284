// The BasicHTTP Event I/O Processor through the embedding API, on real time and loopback only.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import type { CompiledChart, Engine, LogEntry } from '../src/index.js';
import { newEngine } from './support/engines.js';


const BASICHTTP = 'http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor';
const TEST_TIMEOUT = { timeout: 20_000 };

const scxml = (body: string) =>
  `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript">\n${body}\n</scxml>\n`;

function compile(engine: Engine, xml: string): CompiledChart {
  const { chart, diagnostics } = engine.load(xml);
  assert.ok(chart, `chart did not load: ${JSON.stringify(diagnostics)}`);
  return chart;
}

const plain = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** Resolves with the first log entry with `label` (polling the array the engine appends to). */
async function waitForLog(logs: LogEntry[], label: string, ms = 5_000): Promise<LogEntry> {
  const deadline = Date.now() + ms;
  for (;;) {
    const entry = logs.find((l) => l.label === label);
    if (entry) return entry;
    if (Date.now() > deadline) throw new Error(`no log '${label}' within ${ms} ms; got ${JSON.stringify(logs.map((l) => l.label))}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function isLoopbackUrl(text: string): boolean {
  const url = new URL(text);
  return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
}

/** A loopback port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** POST with a fresh connection (no keep-alive pool), resolving to the status; rejects on a connection error. */
function rawPost(url: string, body: string, contentType = 'application/x-www-form-urlencoded'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': contentType, connection: 'close' }, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('BasicHTTP event I/O processor', () => {
  test('listen(): a loopback location in _ioprocessors, under the short name and the full URI', TEST_TIMEOUT, async () => {
    const logs: LogEntry[] = [];
    const engine = newEngine({ clock: 'real', onLog: (e) => logs.push(e) });
    try {
      const chartXml = scxml(`
<state id="a">
  <onentry>
    <log label="short" expr="_ioprocessors.basichttp ? _ioprocessors.basichttp.location : 'none'"/>
    <log label="full" expr="_ioprocessors['${BASICHTTP}'] ? _ioprocessors['${BASICHTTP}'].location : 'none'"/>
    <log label="scxml" expr="_ioprocessors.scxml.location"/>
  </onentry>
</state>`);
      const chart = compile(engine, chartXml);
      // A session started before listen() has no BasicHTTP location.
      const before = engine.start(chart, { sessionId: 'before' });
      await engine.whenIdle();
      assert.equal(logs.find((l) => l.label === 'short')?.value, 'none');
      before.stop();
      logs.length = 0;

      const base = await engine.listen();
      assert.ok(isLoopbackUrl(base), base);
      assert.equal(await engine.listen(), base, 'listening twice gives the same address');
      const session = engine.start(chart, { sessionId: 'with/slash' });
      await engine.whenIdle();
      const short = String(logs.find((l) => l.label === 'short')?.value);
      assert.ok(isLoopbackUrl(short), short);
      assert.ok(short.startsWith(`${base}/`));
      assert.equal(logs.find((l) => l.label === 'full')?.value, short);
      assert.equal(logs.find((l) => l.label === 'scxml')?.value, '#_scxml_with/slash');
      assert.equal(short, `${base}/scxml/${encodeURIComponent('with/slash')}`);
      session.stop();
    } finally {
      await engine.close();
    }
  });

  test('an external POST becomes an event: _scxmleventname, form fields as _event.data, origintype', TEST_TIMEOUT, async () => {
    const logs: LogEntry[] = [];
    const engine = newEngine({ clock: 'real', onLog: (e) => logs.push(e) });
    try {
      await engine.listen();
      const session = engine.start(compile(engine, scxml(`
<datamodel><data id="loc" expr="_ioprocessors.basichttp.location"/></datamodel>
<state id="a">
  <onentry><log label="location" expr="loc"/></onentry>
  <transition event="order.placed" target="b">
    <log label="event" expr="({ name: _event.name, type: _event.type, data: _event.data, origintype: _event.origintype })"/>
  </transition>
</state>
<state id="b">
  <transition event="HTTP.POST" target="f"><log label="unnamed" expr="({ name: _event.name, data: _event.data })"/></transition>
</state>
<final id="f"/>`)));
      const location = String((await waitForLog(logs, 'location')).value);

      const res = await fetch(location, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ _scxmleventname: 'order.placed', item: 'book', qty: '2' }),
      });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      assert.deepEqual(plain((await waitForLog(logs, 'event')).value), {
        name: 'order.placed', type: 'external', data: { item: 'book', qty: '2' }, origintype: BASICHTTP,
      });

      // No _scxmleventname: the event is HTTP.POST.
      const res2 = await fetch(location, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ x: 'y' }),
      });
      assert.equal(res2.status, 200);
      await res2.arrayBuffer();
      assert.deepEqual(plain((await waitForLog(logs, 'unnamed')).value), { name: 'HTTP.POST', data: { x: 'y' } });
      assert.equal((await session.done).final, 'f');
    } finally {
      await engine.close();
    }
  });

  test('a POST to an unknown session is answered 404', TEST_TIMEOUT, async () => {
    const engine = newEngine({ clock: 'real' });
    try {
      const base = await engine.listen();
      assert.equal(await rawPost(`${base}/scxml/no-such-session`, form({ _scxmleventname: 'e' })), 404);
      assert.equal(await rawPost(`${base}/elsewhere`, ''), 404);
    } finally {
      await engine.close();
    }
  });

  test('a <send type="basichttp"> reaches a session through the listener', TEST_TIMEOUT, async () => {
    const engine = newEngine({ clock: 'real' });
    try {
      await engine.listen();
      const session = engine.start(compile(engine, scxml(`
<datamodel><data id="got"/></datamodel>
<state id="a">
  <onentry>
    <send type="basichttp" targetexpr="_ioprocessors.basichttp.location" event="echo"><param name="n" expr="7"/><param name="s" expr="'text'"/></send>
    <send event="giveup" delay="5s"/>
  </onentry>
  <transition event="echo" target="f">
    <assign location="got" expr="({ data: _event.data, origintype: _event.origintype, fromSelf: _event.origin === _ioprocessors.basichttp.location })"/>
  </transition>
  <transition event="giveup" target="failed"/>
  <transition event="error.*" target="failed"/>
</state>
<final id="f"><donedata><param name="got" expr="got"/></donedata></final>
<final id="failed"/>`)));
      const result = await session.done;
      assert.equal(result.final, 'f');
      // Form fields travel as strings: a number param arrives as its text.
      assert.deepEqual(plain(result.doneData), { got: { data: { n: '7', s: 'text' }, origintype: BASICHTTP, fromSelf: true } });
    } finally {
      await engine.close();
    }
  });

  test('a <send type="basichttp"> to an unreachable loopback port raises error.communication', TEST_TIMEOUT, async () => {
    const engine = newEngine({ clock: 'real' });
    try {
      const port = await deadPort();
      const session = engine.start(compile(engine, scxml(`
<datamodel><data id="target"/><data id="err"/></datamodel>
<state id="a">
  <onentry><send id="out" type="basichttp" targetexpr="target" event="hello"/><send event="giveup" delay="5s"/></onentry>
  <transition event="error.communication" target="f"><assign location="err" expr="({ sendid: _event.sendid, message: _event.data.message })"/></transition>
  <transition event="giveup" target="failed"/>
</state>
<final id="f"><donedata><param name="err" expr="err"/></donedata></final>
<final id="failed"/>`)), { data: { target: `http://127.0.0.1:${port}/scxml/nobody` } });
      const result = await session.done;
      assert.equal(result.final, 'f');
      const err = plain(result.doneData) as { err: { sendid: string; message: string } };
      assert.equal(err.err.sendid, 'out');
      assert.match(err.err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    } finally {
      await engine.close();
    }
  });

  test('a basichttp target that is not an http: URL raises error.execution', TEST_TIMEOUT, async () => {
    const engine = newEngine({ clock: 'real' });
    try {
      const result = await engine.start(compile(engine, scxml(`
<state id="a">
  <onentry><send type="basichttp" target="ftp://127.0.0.1/x" event="e"/></onentry>
  <transition event="error.execution" target="f"/>
  <transition event="error.communication" target="failed"/>
</state>
<final id="f"/><final id="failed"/>`))).done;
      assert.equal(result.final, 'f');
    } finally {
      await engine.close();
    }
  });

  test('engine.close() closes the listener and stops the sessions', TEST_TIMEOUT, async () => {
    const engine = newEngine({ clock: 'real' });
    const base = await engine.listen();
    const session = engine.start(compile(engine, scxml('<state id="waiting"/>')), { sessionId: 'waiter' });
    await engine.whenIdle();
    const location = `${base}/scxml/waiter`;
    assert.equal(await rawPost(location, form({ _scxmleventname: 'ping' })), 200);
    await engine.close();
    assert.equal((await session.done).status, 'stopped');
    await assert.rejects(rawPost(location, form({ _scxmleventname: 'ping' })), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
    // Closing twice is harmless; listening again opens a new listener.
    await engine.close();
    const again = await engine.listen();
    assert.ok(isLoopbackUrl(again));
    await engine.close();
  });
});
