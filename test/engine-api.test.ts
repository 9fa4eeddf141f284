// The embedding API: createEngine, Engine.load/start/whenIdle, Session, logs, errors, invoke,
// and resources (<script src>, <data src>) resolved against the chart file.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createEngine, EvaluationError, type ActionDefinition, type CodeRef, type CompiledChart, type Engine, type EventIOProcessor, type Invoker, type LogEntry, type ScxmlEvent,
} from '../src/index.js';
import { newEngine } from './support/engines.js';
import { randomSessionId } from '../src/runtime/session-id.js';

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'orx-engine-api-'));


after(() => rmSync(tmpRoot, { recursive: true, force: true }));

let dirCounter = 0;
/** A fresh directory holding the given files (relative paths, subfolders created). */
function writeFiles(files: Record<string, string>): string {
  const dir = path.join(tmpRoot, `case${++dirCounter}`);
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return dir;
}

const scxml = (body: string, attrs = '') =>
  `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript" ${attrs}>\n${body}\n</scxml>\n`;

/** 1-based line of the first line of `text` containing `marker`. */
function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `marker ${marker} not found`);
  return i + 1;
}

function engineWithLogs(options: Parameters<typeof createEngine>[0] = {}): { engine: Engine; logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  const engine = newEngine({ clock: 'virtual', ...options, onLog: (e) => logs.push(e) });
  return { engine, logs };
}

function compile(engine: Engine, source: Parameters<Engine['load']>[0]): CompiledChart {
  const { chart, diagnostics } = engine.load(source);
  assert.ok(chart, `chart did not load: ${JSON.stringify(diagnostics)}`);
  return chart;
}

/**
 * Values made by chart code live in the datamodel's realm (their prototypes are not this realm's),
 * so they are compared as plain data.
 */
const plain = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const values = (logs: LogEntry[], label?: string) => logs.filter((l) => label === undefined || l.label === label).map((l) => plain(l.value));

describe('Engine.load', () => {
  test('an XML string gives {chart, diagnostics}', () => {
    const engine = newEngine({ clock: 'virtual' });
    const result = engine.load(scxml('<state id="a"/>', 'name="hello"'));
    assert.ok(result.chart);
    assert.deepEqual(result.diagnostics, []);
    assert.equal(result.chart.name, 'hello');
    assert.equal(result.chart.file, '<inline>');
    assert.ok(result.chart.stateById.has('a'));
  });

  test('a chart with errors gives chart null and located diagnostics', () => {
    const engine = newEngine({ clock: 'virtual' });
    const bad = engine.load(scxml('<state id="a"><transition event="e" target="nowhere"/></state>'));
    assert.equal(bad.chart, null);
    const d = bad.diagnostics.find((x) => x.code === 'ORX0104');
    assert.ok(d, JSON.stringify(bad.diagnostics));
    assert.equal(d.severity, 'error');
    assert.equal(d.line, 2);

    const malformed = engine.load('<scxml xmlns="http://www.w3.org/2005/07/scxml"><state>');
    assert.equal(malformed.chart, null);
    assert.ok(malformed.diagnostics.some((x) => x.code === 'ORX0002'));

    const missing = engine.load(path.join(tmpRoot, 'does-not-exist.scxml'));
    assert.equal(missing.chart, null);
    assert.equal(missing.diagnostics[0].code, 'ORX0001');
  });

  test('charts loaded by path are cached: the same result and chart object twice', () => {
    const dir = writeFiles({ 'c.scxml': scxml('<state id="a"/>') });
    const engine = newEngine({ clock: 'virtual' });
    const file = path.join(dir, 'c.scxml');
    const first = engine.load(file);
    const second = engine.load(file);
    assert.ok(first.chart);
    assert.equal(second, first);
    assert.equal(second.chart, first.chart);
    // The cache key is the resolved path: a relative spelling of the same file hits it too.
    assert.equal(engine.load(path.relative(process.cwd(), file)).chart, first.chart);
    assert.equal(engine.load({ path: file }).chart, first.chart);
    // Another engine compiles its own.
    assert.notEqual(newEngine({ clock: 'virtual' }).load(file).chart, first.chart);
  });

  test('a chart that failed to load is read again next time', () => {
    const dir = writeFiles({});
    const file = path.join(dir, 'later.scxml');
    const engine = newEngine({ clock: 'virtual' });
    assert.equal(engine.load(file).chart, null);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, scxml('<state id="a"/>'));
    assert.ok(engine.load(file).chart, 'the file exists now');
  });

  test('XML strings are not cached; {xml, file} names the file used in locations', () => {
    const engine = newEngine({ clock: 'virtual' });
    const xml = scxml('<state id="a"/>');
    assert.notEqual(engine.load(xml).chart, engine.load(xml).chart);
    const named = compile(engine, { xml, file: 'virtual/named.scxml' });
    assert.equal(named.file, 'virtual/named.scxml');
    assert.equal(named.root.loc.file, 'virtual/named.scxml');
  });
});

describe('Engine.start and Session', () => {
  const chartXml = scxml(`
<datamodel><data id="x" expr="1"/><data id="label" expr="'default'"/><data id="cfg" expr="({ n: 0 })"/></datamodel>
<state id="a">
  <transition event="go" target="b"><assign location="x" expr="_event.data.n"/></transition>
</state>
<state id="b">
  <transition event="finish" target="end"/>
</state>
<final id="end"><donedata><param name="x" expr="x"/><param name="label" expr="label"/><param name="n" expr="cfg.n"/></donedata></final>`);

  test('data overrides top-level <data> values; sessionId is used', async () => {
    const engine = newEngine({ clock: 'virtual' });
    const chart = compile(engine, chartXml);
    const session = engine.start(chart, { data: { label: 'from host', cfg: { n: 42 } }, sessionId: 'my-session' });
    assert.equal(session.id, 'my-session');
    assert.equal(engine.session('my-session'), session);
    assert.throws(() => engine.start(chart, { sessionId: 'my-session' }), /already running/);
    session.send('go', { n: 5 });
    session.send('finish');
    const result = await session.done;
    assert.deepEqual({ ...result, doneData: plain(result.doneData) }, { status: 'final', final: 'end', configuration: ['end'], doneData: { x: 5, label: 'from host', n: 42 } });
    assert.equal(session.status, 'final');
    assert.equal(engine.session('my-session'), undefined, 'an ended session is forgotten');
  });

  test('without a sessionId each session gets a unique id', () => {
    const engine = newEngine({ clock: 'virtual' });
    const chart = compile(engine, chartXml);
    const a = engine.start(chart);
    const b = engine.start(chart);
    assert.ok(a.id.length > 0);
    assert.notEqual(a.id, b.id);
    a.stop();
    b.stop();
  });

  test('generated session ids are random version 4 UUIDs, distinct over several random pools', () => {
    const ids = new Set(Array.from({ length: 1_000 }, () => randomSessionId()));
    assert.equal(ids.size, 1_000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Every hex digit position that is random takes more than one value.
    const list = [...ids];
    for (const at of [0, 9, 15, 20, 35]) assert.ok(new Set(list.map((id) => id[at])).size > 4, `position ${at} hardly varies`);
  });

  test('send(name, data) reaches the chart as _event.data, copied from the host object', async () => {
    const { engine, logs } = engineWithLogs();
    const chart = compile(engine, scxml(`
<state id="a">
  <transition event="msg" target="b"><log label="data" expr="_event.data"/><log label="type" expr="_event.name + '/' + _event.type"/></transition>
</state>
<state id="b"><transition event="check" target="f"><log label="again" expr="_event.data.nested.list.length"/></transition></state>
<final id="f"/>`));
    const session = engine.start(chart);
    const payload = { text: 'hi', nested: { list: [1, 2] } };
    session.send('msg', payload);
    // Mutating the host object after send() must not reach the session.
    payload.text = 'changed';
    payload.nested.list.push(3);
    await engine.whenIdle();
    assert.deepEqual(values(logs, 'data'), [{ text: 'hi', nested: { list: [1, 2] } }]);
    assert.deepEqual(values(logs, 'type'), ['msg/external']);
    session.send('check', payload);
    await session.done;
    assert.deepEqual(values(logs, 'again'), [3]);
  });

  test('start data is copied when start() is called', async () => {
    const { engine, logs } = engineWithLogs();
    const chart = compile(engine, scxml(`
<datamodel><data id="cfg" expr="({ n: 0 })"/></datamodel>
<state id="a"><onentry><log label="n" expr="cfg.n"/></onentry></state>`));
    const data = { cfg: { n: 1 } };
    const session = engine.start(chart, { data });
    data.cfg.n = 2; // after start(), before the session has run
    await engine.whenIdle();
    assert.deepEqual(values(logs, 'n'), [1]);
    session.stop();
  });

  test('configuration, isIn and whenIdle', async () => {
    const engine = newEngine({ clock: 'virtual' });
    const chart = compile(engine, scxml(`
<parallel id="p">
  <state id="r1"><state id="r1a"><transition event="next" target="r1b"/></state><state id="r1b"/></state>
  <state id="r2"/>
</parallel>`));
    const session = engine.start(chart);
    assert.equal(session.status, 'starting');
    await engine.whenIdle();
    assert.equal(session.status, 'running');
    assert.deepEqual(session.configuration, ['p', 'r1', 'r1a', 'r2']);
    assert.ok(session.isIn('r1a'));
    assert.ok(session.isIn('p'));
    assert.ok(!session.isIn('r1b'));
    assert.ok(!session.isIn('no-such-state'));
    session.send('next');
    await engine.whenIdle();
    assert.ok(session.isIn('r1b'));
    assert.ok(!session.isIn('r1a'));
    // Idle already: resolves at once.
    await engine.whenIdle();
    assert.equal(engine.isIdle, true);
    session.stop();
  });

  test('done resolves with the id and donedata of the top-level final', async () => {
    const engine = newEngine({ clock: 'virtual' });
    const chart = compile(engine, scxml(`
<state id="outer">
  <state id="inner"><transition event="e" target="innerDone"/></state>
  <final id="innerDone"/>
  <transition event="done.state.outer" target="top"/>
</state>
<final id="top"><donedata><content expr="({ answer: 42, list: [1, 'two'] })"/></donedata></final>`));
    const session = engine.start(chart);
    session.send('e');
    const result = await session.done;
    assert.equal(result.status, 'final');
    assert.equal(result.final, 'top');
    assert.deepEqual(result.configuration, ['top']);
    assert.deepEqual(plain(result.doneData), { answer: 42, list: [1, 'two'] });
  });

  test('doneData is plain data of the host realm', async () => {
    const engine = newEngine({ clock: 'virtual' });
    const chart = compile(engine, scxml(`
<state id="a"><transition target="f"/></state>
<final id="f"><donedata><content expr="({ answer: 42, list: [1, 'two'] })"/></donedata></final>`));
    const result = await engine.start(chart).done;
    assert.deepEqual(result.doneData, { answer: 42, list: [1, 'two'] });
    assert.ok(result.doneData instanceof Object);
  });

  test('log values are plain data of the host realm', async () => {
    const { engine, logs } = engineWithLogs();
    const session = engine.start(compile(engine, scxml('<state id="a"><onentry><log label="obj" expr="({ k: [1] })"/></onentry></state>')));
    await engine.whenIdle();
    assert.deepEqual(logs[0].value, { k: [1] });
    assert.ok(logs[0].value instanceof Object);
    session.stop();
  });

  test('stop() runs onexit handlers (innermost first) and resolves status stopped', async () => {
    const { engine, logs } = engineWithLogs();
    const chart = compile(engine, scxml(`
<state id="outer">
  <onexit><log label="exit" expr="'outer'"/></onexit>
  <state id="inner"><onexit><log label="exit" expr="'inner'"/></onexit></state>
</state>`));
    const session = engine.start(chart);
    await engine.whenIdle();
    session.stop();
    const result = await session.done;
    assert.equal(result.status, 'stopped');
    assert.equal(result.final, null);
    assert.deepEqual(result.configuration, ['outer', 'inner']);
    assert.deepEqual(values(logs, 'exit'), ['inner', 'outer']);
    assert.equal(session.isDone, true);
    // Later calls are harmless; events sent to an ended session are dropped.
    session.stop();
    session.send('anything');
    await engine.whenIdle();
    assert.equal(values(logs, 'exit').length, 2);
    assert.equal(engine.sessionCount, 0);
  });

  test('stop() cancels delayed sends', async () => {
    // Real time: the virtual clock would fire the timer as soon as the engine has nothing else to do.
    const engine = newEngine({ clock: 'real' });
    const chart = compile(engine, scxml('<state id="a"><onentry><send event="later" delay="1h"/></onentry></state>'));
    const session = engine.start(chart);
    // The session starts on the engine's next turn; whenIdle() would wait for the hour.
    for (let turns = 0; session.status === 'starting' && turns < 1000; turns++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(session.status, 'running');
    assert.equal(session.pendingDelayedSends, 1);
    assert.equal(engine.clock.pendingTimers, 1);
    session.stop();
    assert.equal(session.pendingDelayedSends, 0);
    assert.equal(engine.clock.pendingTimers, 0);
    await engine.whenIdle();
  });

  test('two sessions of one chart share the compiled chart, not their data', async () => {
    const { engine, logs } = engineWithLogs();
    const chart = compile(engine, scxml(`
<datamodel><data id="v" expr="'initial'"/><data id="obj" expr="({ list: [] })"/></datamodel>
<state id="a">
  <transition event="set"><assign location="v" expr="_event.data"/><script>obj.list.push(_event.data)</script></transition>
  <transition event="read"><log label="read" expr="v + ':' + obj.list.length"/></transition>
</state>`));
    const one = engine.start(chart, { sessionId: 'one' });
    const two = engine.start(chart, { sessionId: 'two' });
    assert.equal(one.chart, two.chart);
    one.send('set', 'changed');
    await engine.whenIdle();
    two.send('read');
    one.send('read');
    await engine.whenIdle();
    const reads = logs.filter((l) => l.label === 'read').map((l) => `${l.sessionId}=${String(l.value)}`).sort();
    assert.deepEqual(reads, ['one=changed:1', 'two=initial:0']);
    one.stop();
    two.stop();
  });
});

describe('logs and errors', () => {
  test('<log> goes to onLog with sessionId, label, value and location', async () => {
    const xml = scxml(`
<state id="a">
  <onentry>
    <log label="plain" expr="'text'"/>
    <log expr="({ k: [1, 2] })"/>
    <log label="only label"/>
  </onentry>
</state>`);
    const dir = writeFiles({ 'log.scxml': xml });
    const file = path.join(dir, 'log.scxml');
    const { engine, logs } = engineWithLogs();
    const session = engine.start(compile(engine, file), { sessionId: 'logger' });
    await engine.whenIdle();
    assert.equal(logs.length, 3);
    assert.deepEqual(logs.map((l) => [l.sessionId, l.label, plain(l.value)]), [
      ['logger', 'plain', 'text'],
      ['logger', undefined, { k: [1, 2] }],
      ['logger', 'only label', undefined],
    ]);
    assert.equal(logs[0].location.file, file);
    assert.equal(logs[0].location.line, lineOf(xml, 'label="plain"'));
    assert.equal(logs[1].location.line, lineOf(xml, '<log expr='));
    assert.ok(logs[0].location.column >= 1);
    session.stop();
  });

  test('without onLog, <log> writes nothing and does not fail', async () => {
    const engine = newEngine({ clock: 'virtual' });
    const session = engine.start(compile(engine, scxml('<state id="a"><onentry><log label="x" expr="1"/></onentry><transition target="f"/></state><final id="f"/>')));
    assert.equal((await session.done).status, 'final');
  });

  test('In() in conditions', async () => {
    const { engine, logs } = engineWithLogs();
    const chart = compile(engine, scxml(`
<parallel id="p">
  <state id="left">
    <state id="l1"><transition event="flip" target="l2"/></state>
    <state id="l2"/>
  </state>
  <state id="right">
    <state id="r1">
      <transition event="test" cond="In('l2')" target="r2"><log label="in" expr="'l2'"/></transition>
      <transition event="test" cond="In('l1')"><log label="in" expr="'l1'"/></transition>
    </state>
    <state id="r2"/>
  </state>
</parallel>`));
    const session = engine.start(chart);
    session.send('test');
    session.send('flip');
    session.send('test');
    await engine.whenIdle();
    assert.deepEqual(values(logs, 'in'), ['l1', 'l2']);
    assert.ok(session.isIn('r2'));
    session.stop();
  });

  test('error.execution carries data.message and data.location', async () => {
    const xml = scxml(`
<datamodel><data id="ok" expr="1"/></datamodel>
<state id="a">
  <onentry>
    <assign location="undeclared.deep" expr="1"/>
    <log label="not reached" expr="1"/>
  </onentry>
  <transition event="error.execution" target="b"><log label="error" expr="_event.data"/><log label="type" expr="_event.type"/></transition>
</state>
<state id="b">
  <onentry><log label="bad expr" expr="ok.missing.property"/></onentry>
  <transition event="error.execution" target="f"><log label="error" expr="_event.data"/></transition>
</state>
<final id="f"/>`);
    const dir = writeFiles({ 'err.scxml': xml });
    const file = path.join(dir, 'err.scxml');
    const { engine, logs } = engineWithLogs();
    const result = await engine.start(compile(engine, file)).done;
    assert.equal(result.final, 'f');
    assert.deepEqual(values(logs, 'not reached'), [], 'an error stops the rest of its block');
    assert.deepEqual(values(logs, 'type'), ['platform']);
    const errors = values(logs, 'error') as { message: string; location: string }[];
    assert.equal(errors.length, 2);
    assert.match(errors[0].message, /undeclared/);
    assert.equal(errors[0].location.replace(/:\d+$/, ''), `${file}:${lineOf(xml, '<assign')}`);
    assert.match(errors[1].message, /ok\.missing\.property/);
    assert.equal(errors[1].location.replace(/:\d+$/, ''), `${file}:${lineOf(xml, 'bad expr')}`);
  });

  test('a parenthesised expression is a valid expression', async () => {
    const { engine, logs } = engineWithLogs();
    const { chart, diagnostics } = engine.load(scxml(`
<state id="a">
  <onentry><log label="v" expr="({ a: 1 })"/><log label="v" expr="(typeof notDeclared)"/></onentry>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
</state>`));
    assert.deepEqual(diagnostics, []);
    assert.ok(chart);
    const session = engine.start(chart);
    await engine.whenIdle();
    assert.deepEqual(values(logs), [{ a: 1 }, 'undefined']);
    session.stop();
  });
});

describe('invoke', () => {
  const childXml = scxml(`
<datamodel><data id="greeting" expr="'none'"/></datamodel>
<state id="c1">
  <onentry><send target="#_parent" event="child.ready"><param name="greeting" expr="greeting"/><param name="sid" expr="_sessionid"/></send></onentry>
  <onexit><log label="child exit" expr="'c1'"/></onexit>
  <transition event="ping" target="c2"/>
</state>
<state id="c2">
  <onexit><log label="child exit" expr="'c2'"/></onexit>
  <transition event="go"><send target="#_parent" event="child.sawgo"><param name="k" expr="_event.data.k"/></send></transition>
  <transition event="finish" target="cf"/>
</state>
<final id="cf"><donedata><param name="result" expr="'ok-' + greeting"/></donedata></final>`, 'initial="c1" name="child"');

  const parentXml = scxml(`
<datamodel><data id="trail" expr="[]"/><data id="result" expr="null"/></datamodel>
<state id="p">
  <invoke id="kid" src="sub/child.scxml" autoforward="true">
    <param name="greeting" expr="'hello'"/>
    <finalize><script>trail.push('finalize:' + _event.name)</script></finalize>
  </invoke>
  <transition event="child.ready">
    <script>trail.push('ready:' + _event.data.greeting + ':' + _event.invokeid)</script>
    <log label="child sid" expr="_event.data.sid"/>
    <send target="#_kid" event="ping"/>
  </transition>
  <transition event="child.sawgo"><script>trail.push('sawgo:' + _event.data.k)</script><send target="#_kid" event="finish"/></transition>
  <transition event="done.invoke.kid" target="done"><assign location="result" expr="_event.data.result"/></transition>
</state>
<final id="done"><donedata><param name="trail" expr="trail"/><param name="result" expr="result"/></donedata></final>`);

  test('a child chart by relative src: #_parent, #_<invokeid>, autoforward, finalize, done.invoke with donedata', async () => {
    const dir = writeFiles({ 'parent.scxml': parentXml, 'sub/child.scxml': childXml });
    const { engine, logs } = engineWithLogs();
    const session = engine.start(compile(engine, path.join(dir, 'parent.scxml')));
    await engine.whenIdle();
    assert.equal(engine.sessionCount, 2, 'parent and child are running');
    const child = engine.session(String(values(logs, 'child sid')[0]));
    assert.ok(child, 'the child session is registered with the engine');
    assert.equal(child.chart.name, 'child');
    assert.deepEqual(child.configuration, ['c2'], 'the child received ping through #_kid');
    // An external event of the parent is forwarded to the child (autoforward), which answers through #_parent.
    session.send('go', { k: 7 });
    const result = await session.done;
    assert.equal(result.final, 'done');
    assert.deepEqual(plain(result.doneData), {
      trail: ['finalize:child.ready', 'ready:hello:kid', 'finalize:child.sawgo', 'sawgo:7', 'finalize:done.invoke.kid'],
      result: 'ok-hello',
    });
    const childResult = await child.done;
    assert.equal(childResult.status, 'final');
    assert.deepEqual(plain(childResult.doneData), { result: 'ok-hello' });
    assert.equal(engine.sessionCount, 0);
  });

  test('stopping the parent cancels the child, whose onexit handlers run', async () => {
    const dir = writeFiles({ 'parent.scxml': parentXml, 'sub/child.scxml': childXml });
    const { engine, logs } = engineWithLogs();
    const session = engine.start(compile(engine, path.join(dir, 'parent.scxml')));
    await engine.whenIdle();
    const child = engine.session(String(values(logs, 'child sid')[0]));
    assert.ok(child);
    assert.deepEqual(values(logs, 'child exit'), ['c1'], 'c1 was left for c2 on ping');
    session.stop();
    assert.equal((await session.done).status, 'stopped');
    assert.equal((await child.done).status, 'cancelled');
    assert.deepEqual(values(logs, 'child exit'), ['c1', 'c2']);
    assert.equal(engine.sessionCount, 0);
  });

  test('a child session that ends in error is no longer running, and its parent is told', async () => {
    const { engine, logs } = engineWithLogs({ limits: { maxMicrosteps: 100 } });
    const session = engine.start(compile(engine, scxml(`
<state id="p">
  <invoke id="kid">
    <content>
      <scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0">
        <state id="x"><transition event="go" target="y"/></state>
        <state id="y"><transition target="z"/></state>
        <state id="z"><transition target="y"/></state>
      </scxml>
    </content>
  </invoke>
  <onentry><send event="go" target="#_kid" delay="1s"/></onentry>
  <transition event="*"><log label="parent got" expr="_event.name + ' ' + _event.invokeid"/></transition>
</state>`)));
    await engine.whenIdle();
    assert.equal(session.runningInvocations, 0);
    assert.ok(values(logs, 'parent got').some((v) => String(v).endsWith(' kid')), 'the parent received an event about kid');
    session.stop();
  });

  test('a src that cannot be loaded raises error.execution in the parent', async () => {
    const { engine, logs } = engineWithLogs();
    const dir = writeFiles({
      'p.scxml': scxml(`
<state id="a">
  <invoke id="gone" src="missing/child.scxml"/>
  <transition event="error.execution" target="f"><log label="error" expr="_event.data.message"/></transition>
</state>
<final id="f"/>`),
    });
    const result = await engine.start(compile(engine, path.join(dir, 'p.scxml'))).done;
    assert.equal(result.final, 'f');
    assert.match(String(values(logs, 'error')[0]), /cannot be loaded|ORX0001/);
  });

  test('inline <content> child and params', async () => {
    const engine = newEngine({ clock: 'virtual' });
    const chart = compile(engine, scxml(`
<datamodel><data id="out"/></datamodel>
<state id="a">
  <invoke id="inl">
    <param name="n" expr="20"/>
    <content>
      <scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript">
        <datamodel><data id="n" expr="0"/></datamodel>
        <final id="cf"><donedata><param name="twice" expr="n * 2"/></donedata></final>
      </scxml>
    </content>
  </invoke>
  <transition event="done.invoke.inl" target="f"><assign location="out" expr="_event.data.twice"/></transition>
</state>
<final id="f"><donedata><param name="out" expr="out"/></donedata></final>`));
    const result = await engine.start(chart).done;
    assert.deepEqual(plain(result.doneData), { out: 40 });
  });
});

describe('resources relative to the chart file', () => {
  test('<script src> and <data src> resolve against the chart location', async () => {
    const dir = writeFiles({
      'charts/main.scxml': scxml(`
<datamodel>
  <data id="settings" src="../data/settings.json"/>
  <data id="words" src="words.txt"/>
</datamodel>
<script src="lib/helpers.js"/>
<state id="a"><onentry><log label="r" expr="describe(settings) + ' / ' + words"/></onentry></state>`),
      'charts/lib/helpers.js': 'function describe(s) { return s.name + "=" + s.values.join("+"); }\n',
      'charts/words.txt': '  plain   text  \n',
      'data/settings.json': '{ "name": "cfg", "values": [1, 2, 3] }\n',
    });
    const { engine, logs } = engineWithLogs();
    // Load from another working directory's point of view: resolution must not depend on cwd.
    const session = engine.start(compile(engine, path.join(dir, 'charts', 'main.scxml')));
    await engine.whenIdle();
    assert.deepEqual(values(logs, 'r'), ['cfg=1+2+3 / plain text']);
    session.stop();
  });

  test('{xml, file} resolves resources against file', async () => {
    const dir = writeFiles({ 'lib/x.js': 'var fromScript = "loaded";\n' });
    const { engine, logs } = engineWithLogs();
    const chart = compile(engine, {
      xml: scxml('<script src="lib/x.js"/><state id="a"><onentry><log label="r" expr="fromScript"/></onentry></state>'),
      file: path.join(dir, 'virtual.scxml'),
    });
    const session = engine.start(chart);
    await engine.whenIdle();
    assert.deepEqual(values(logs, 'r'), ['loaded']);
    session.stop();
  });

  test('a missing src is a load error (ORX0004) at the attribute', () => {
    const dir = writeFiles({ 'm.scxml': scxml('<datamodel><data id="d" src="nope.json"/></datamodel><state id="a"/>') });
    const result = newEngine({ clock: 'virtual' }).load(path.join(dir, 'm.scxml'));
    assert.equal(result.chart, null);
    assert.equal(result.diagnostics[0].code, 'ORX0004');
    assert.equal(result.diagnostics[0].line, 2);
  });
});

describe('custom actions', () => {
  // The example of docs/reference/api.md: <c:incr location="count" by="2"/>.
  const NS = 'urn:example:counter';
  const incr: ActionDefinition<{ read: CodeRef; write: CodeRef; by: number } | null> = {
    namespace: NS,
    name: 'incr',
    compile(el, ctx) {
      ctx.allowOnly(el, ['location', 'by']);
      const location = ctx.attr(el, 'location', true);
      const byText = ctx.attr(el, 'by') ?? '1';
      const by = Number(byText);
      if (!Number.isFinite(by)) ctx.sink.error('ORX0108', el.loc, `<incr> by must be a number, not '${byText}'`);
      if (location === undefined) return null; // ORX0106 reported: the chart will not load
      return { read: ctx.code('expr', location, el.loc), write: ctx.code('location', location, el.loc), by };
    },
    execute(c, ctx) {
      if (!c) return;
      const current = Number(ctx.datamodel.evaluate(c.read));
      ctx.datamodel.assign(c.write, current + c.by);
    },
  };

  test('an action registered through the actions option compiles and runs like a core element', async () => {
    const { engine, logs } = engineWithLogs({ actions: [incr] });
    const chart = compile(engine, scxml(`
<datamodel><data id="count" expr="1"/></datamodel>
<state id="a">
  <onentry><c:incr location="count" by="2"/><c:incr location="count"/><log label="count" expr="count"/></onentry>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
  <transition event="bad"><c:incr location="undeclaredVariable"/></transition>
</state>`, `xmlns:c="${NS}"`));
    const session = engine.start(chart);
    session.send('bad');
    await engine.whenIdle();
    assert.deepEqual(values(logs, 'count'), [4]);
    assert.equal(values(logs, 'error').length, 1, 'a throwing execute raises error.execution');
    session.stop();

    const bad = engine.load(scxml('<state id="a"><onentry><c:incr by="x"/></onentry></state>', `xmlns:c="${NS}"`));
    assert.equal(bad.chart, null);
    assert.deepEqual(bad.diagnostics.map((d) => d.code).sort(), ['ORX0106', 'ORX0108']);
  });

  test('an unregistered namespace is ORX0102', () => {
    const result = newEngine({ clock: 'virtual' }).load(scxml(`<state id="a"><onentry><c:incr location="x"/></onentry></state>`, `xmlns:c="${NS}"`));
    assert.equal(result.chart, null);
    assert.equal(result.diagnostics[0].code, 'ORX0102');
  });
});

describe('I/O processors, invokers and services', () => {
  // The examples of docs/reference/api.md.
  test('a registered I/O processor receives <send type> by its type URI or alias', async () => {
    const outbox: { from: string; event: string | undefined; target: string; data: unknown; delayed: boolean }[] = [];
    const processor: EventIOProcessor = {
      type: 'urn:example:outbox',
      aliases: ['outbox'],
      location: () => undefined, // nothing can send to a session through it
      send(from, request) {
        if (!request.target) throw new EvaluationError('an outbox <send> needs a target');
        outbox.push({ from: from.id, event: request.event, target: request.target, data: from.dm.exportValue(request.data), delayed: request.delayMs > 0 });
      },
    };
    const { engine, logs } = engineWithLogs();
    engine.registerIOProcessor(processor);
    assert.equal(engine.ioProcessor('outbox'), processor);
    const chart = compile(engine, scxml(`
<state id="a">
  <onentry>
    <send type="outbox" target="audit" event="call.started"><param name="n" expr="1"/></send>
    <send type="urn:example:outbox" target="audit" event="later" delay="5s"/>
    <send id="bad" type="outbox" event="no.target"/>
    <log label="ioprocessors" expr="Object.keys(_ioprocessors).sort().join(' ')"/>
  </onentry>
  <transition event="error.execution" target="f"><log label="error" expr="_event.sendid + ': ' + _event.data.message"/></transition>
</state>
<final id="f"/>`));
    const result = await engine.start(chart, { sessionId: 'sender' }).done;
    assert.equal(result.final, 'f');
    assert.deepEqual(outbox, [{ from: 'sender', event: 'call.started', target: 'audit', data: { n: 1 }, delayed: false }]);
    assert.deepEqual(values(logs, 'error'), ['bad: an outbox <send> needs a target']);
    assert.ok(!String(values(logs, 'ioprocessors')[0]).includes('outbox'), 'no location, no _ioprocessors entry');
  });

  test('a registered invoker: <invoke type>, events both ways, done.invoke, cancel', async () => {
    const cancelled: string[] = [];
    const echo: Invoker = {
      types: ['urn:example:echo', 'echo'],
      start(request) {
        const { parent, invokeid } = request;
        const toParent = (name: string, data?: unknown) => {
          const event: ScxmlEvent = { name, type: 'external', sendid: undefined, origin: undefined, origintype: 'urn:example:echo', invokeid, data };
          parent.enqueue(event);
        };
        toParent('echo.ready', { greeting: request.data.greeting });
        return {
          deliver(event) {
            if (event.name === 'bye') {
              parent.invocationEnded(invokeid); // no longer running: no cancel() when its state is left
              toParent(`done.invoke.${invokeid}`, { said: 'bye' });
            } else toParent(`echo.${event.name}`, event.data);
          },
          cancel() { cancelled.push(invokeid); },
        };
      },
    };
    const { engine, logs } = engineWithLogs();
    engine.registerInvoker(echo);
    const chart = compile(engine, scxml(`
<state id="talk">
  <invoke id="e1" type="echo"><param name="greeting" expr="'hi'"/></invoke>
  <transition event="echo.ready"><log label="got" expr="_event.name + ' ' + _event.data.greeting"/><send target="#_e1" event="ping"><param name="n" expr="1"/></send></transition>
  <transition event="echo.ping"><log label="got" expr="_event.name + ' ' + _event.data.n + ' ' + _event.invokeid"/><send target="#_e1" event="bye"/></transition>
  <transition event="done.invoke.e1" target="other"><log label="got" expr="_event.name + ' ' + _event.data.said"/></transition>
</state>
<state id="other">
  <invoke id="e2" type="urn:example:echo"/>
  <transition event="leave" target="f"/>
</state>
<final id="f"/>`));
    const session = engine.start(chart);
    await engine.whenIdle();
    assert.deepEqual(values(logs, 'got'), ['echo.ready hi', 'echo.ping 1 e1', 'done.invoke.e1 bye']);
    assert.deepEqual(cancelled, []);
    session.send('leave');
    await session.done;
    assert.deepEqual(cancelled, ['e2'], 'leaving the invoking state cancels a running invocation');
  });

  test('services registered on the engine are reachable from actions', async () => {
    const calls: string[] = [];
    const notify: ActionDefinition<{ text: string }> = {
      namespace: 'urn:example:notify',
      name: 'notify',
      compile(el, ctx) {
        ctx.allowOnly(el, ['text']);
        return { text: ctx.attr(el, 'text', true) ?? '' };
      },
      execute(c, ctx) {
        const notifier = ctx.service<{ notify(text: string): void }>('notifier');
        if (!notifier) throw new Error('no notifier service is registered');
        notifier.notify(`${ctx.sessionId}: ${c.text}`);
      },
    };
    const engine = newEngine({ clock: 'virtual', actions: [notify] });
    engine.registerService('notifier', { notify: (text: string) => calls.push(text) });
    const chart = compile(engine, scxml('<state id="a"><onentry><n:notify text="hello"/></onentry><transition target="f"/></state><final id="f"/>', 'xmlns:n="urn:example:notify"'));
    await engine.start(chart, { sessionId: 's1' }).done;
    assert.deepEqual(calls, ['s1: hello']);
  });
});
