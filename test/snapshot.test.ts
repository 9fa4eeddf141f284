// Snapshots and restore: round trips (datamodel, functions, history, queues, delayed sends with
// absolute due times, invocations, pending asynchronous actions), chart-change refusal, overdue
// policies, and a kill -9 restart through the SQLite store.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { createEngine, MemorySessionStore, SnapshotError, VirtualClock, type Session, type SessionSnapshot } from '../src/index.js';

const SCXML = 'xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript"';

/** The counter chart with its top-level timeout transition placed in a state of its own. */
const CHART = `<scxml ${SCXML} initial="main">
  <datamodel><data id="count" expr="0"/><data id="items" expr="['a']"/></datamodel>
  <script>function twice(x) { return x * 2; }</script>
  <state id="top" initial="main">
    <transition event="timeout" cond="twice(count) === 4" target="done"/>
    <transition event="timeout" target="failed"/>
    <state id="main" initial="idle">
      <history id="h" type="deep"><transition target="idle"/></history>
      <state id="idle"><transition event="go" target="busy"><assign location="count" expr="count + 1"/></transition></state>
      <state id="busy"><transition event="go" target="idle"><assign location="items" expr="items.concat(['b'])"/></transition></state>
      <transition event="pause" target="paused"/>
    </state>
    <state id="paused"><transition event="resume" target="h"/></state>
    <onentry><send id="t" event="timeout" delay="5s"/></onentry>
  </state>
  <final id="done"/>
  <final id="failed"/>
</scxml>`;

async function settle(engine: ReturnType<typeof createEngine>, clock: VirtualClock, ms: number): Promise<void> {
  // Let queued events run without letting virtual time jump to the pending timeout.
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  clock.advanceBy(ms);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Virtual time that moves only when the test says so (advanceBy). A plain VirtualClock jumps to
 * the next timer when the engine waits, and even a tracked operation holds it back only for a
 * moment of real time (the engine's stall watchdog), which a loaded machine can exceed. This one
 * never jumps, and shows the engine no pending timer, so the engine is idle between steps.
 */
class HandDrivenClock extends VirtualClock {
  override advanceToNext(): boolean {
    return false;
  }
  override get pendingTimers(): number {
    return 0;
  }
}

function started(xml: string, clock: VirtualClock = new HandDrivenClock()) {
  const engine = createEngine({ clock });
  const { chart, diagnostics } = engine.load({ xml, file: 'snapshot-chart.scxml' });
  assert.ok(chart, diagnostics.map((d) => d.message).join('\n'));
  return { engine, chart, clock };
}

describe('snapshot round trip', () => {
  test('configuration, history, datamodel, functions and a pending delayed send survive, due time kept', async () => {
    const a = started(CHART);
    const session = a.engine.start(a.chart);
    await settle(a.engine, a.clock, 0);
    session.send('go');
    session.send('go');
    session.send('go');
    await settle(a.engine, a.clock, 1000);
    session.send('pause');
    await settle(a.engine, a.clock, 0);
    assert.deepEqual(session.configuration, ['top', 'paused']);
    const snapshot = JSON.parse(JSON.stringify(session.snapshot())) as SessionSnapshot;
    assert.equal(snapshot.version, 1);
    assert.equal(snapshot.delayedSends.length, 1);
    assert.equal(snapshot.delayedSends[0].due, 5000, 'absolute due time on the engine clock');
    assert.deepEqual(snapshot.history.h, ['busy']);
    assert.equal(snapshot.datamodel.count, 2);

    const b = started(CHART, new HandDrivenClock(snapshot.savedAt));
    const restored = b.engine.restore(snapshot);
    assert.equal(restored.id, session.id);
    assert.deepEqual(restored.configuration, ['top', 'paused']);
    restored.send('resume');
    await settle(b.engine, b.clock, 0);
    assert.deepEqual(restored.configuration, ['top', 'main', 'busy'], 'deep history restored');
    await settle(b.engine, b.clock, 3999);
    assert.equal(restored.isDone, false, 'the timeout is not due before 5 s');
    await settle(b.engine, b.clock, 1);
    const result = await restored.done;
    assert.equal(result.final, 'done', 'twice() came back and count is 2');
  });

  test('a snapshot is plain JSON and the queues come back', async () => {
    const a = started(CHART);
    const session = a.engine.start(a.chart);
    await settle(a.engine, a.clock, 0);
    // Events still queued when the snapshot is taken are resumed.
    (session as Session).enqueue({ name: 'go', type: 'external', sendid: undefined, origin: undefined, origintype: undefined, invokeid: undefined, data: { n: [1, 2] } });
    const snapshot = session.snapshot();
    assert.equal(snapshot.externalQueue.length, 1);
    assert.deepEqual(snapshot.externalQueue[0].data, { n: [1, 2] });
    const b = started(CHART, new HandDrivenClock(snapshot.savedAt));
    const restored = b.engine.restore(JSON.parse(JSON.stringify(snapshot)));
    await settle(b.engine, b.clock, 0);
    assert.deepEqual(restored.configuration, ['top', 'main', 'busy']);
  });

  test('a changed chart is refused unless told to use the current one', async () => {
    const a = started(CHART);
    const session = a.engine.start(a.chart);
    await settle(a.engine, a.clock, 0);
    const snapshot = session.snapshot();
    const b = started(CHART.replace('count + 1', 'count + 2'));
    assert.throws(() => b.engine.restore(snapshot, { chart: b.chart }), SnapshotError);
    assert.throws(() => b.engine.restore(snapshot, { chart: b.chart }), /changed since session/);
    const restored = b.engine.restore(snapshot, { chart: b.chart, ifChartChanged: 'use-current' });
    assert.deepEqual(restored.configuration, ['top', 'main', 'idle']);
  });

  test('overdue delayed sends fire at once by default, or are dropped', async () => {
    const a = started(CHART);
    const session = a.engine.start(a.chart);
    await settle(a.engine, a.clock, 0);
    const snapshot = session.snapshot();
    const late = new VirtualClock(snapshot.savedAt + 60_000);
    const fire = createEngine({ clock: late });
    const fired = fire.restore(snapshot, { chart: a.chart });
    assert.equal((await fired.done).final, 'failed', 'the overdue timeout fired (count is 0, so the cond fails)');
    const drop = createEngine({ clock: new VirtualClock(snapshot.savedAt + 60_000), overdueSends: 'drop' });
    const dropped = drop.restore(snapshot, { chart: a.chart });
    await drop.whenIdle();
    assert.equal(dropped.isDone, false);
    assert.equal(dropped.pendingDelayedSends, 0);
  });

  test('an invoked child is restored and linked to its parent both ways', async () => {
    const xml = `<scxml ${SCXML} initial="s">
      <state id="s">
        <invoke id="kid"><content><scxml ${SCXML} initial="wait">
          <state id="wait"><transition event="ping" target="end"><send target="#_parent" event="pong"/></transition></state>
          <final id="end"/>
        </scxml></content></invoke>
        <transition event="kick"><send target="#_kid" event="ping"/></transition>
        <transition event="pong" target="ok"/>
      </state>
      <final id="ok"/>
    </scxml>`;
    const store = new MemorySessionStore();
    const clock = new VirtualClock();
    const a = createEngine({ clock, store });
    const { chart } = a.load({ xml, file: 'parent.scxml' });
    const parent = a.start(chart!);
    await a.whenIdle();
    assert.equal(a.sessionCount, 2, 'parent and child');
    await a.close(); // with a store, sessions stay saved
    const b = createEngine({ clock: new VirtualClock(clock.now()), store });
    b.load({ xml, file: 'parent.scxml' });
    const resumed = await b.resume();
    assert.equal(resumed.length, 2);
    const p = resumed.find((s) => s.id === parent.id)!;
    p.send('kick');
    assert.equal((await p.done).final, 'ok');
  });

  test('an asynchronous action pending at the snapshot fails with "interrupted" after restore', async () => {
    const xml = `<scxml ${SCXML} xmlns:ixn="http://www.genesyslab.com/modules/interaction" initial="s">
      <datamodel><data id="req"/></datamodel>
      <state id="s">
        <transition event="call"><ixn:createcall requestid="req" from="'1000'" to="'1001'"/></transition>
        <transition event="error.voice.createcall" cond="_event.data.error === 'interrupted' &amp;&amp; _event.data.requestid === req" target="ok"/>
      </state>
      <final id="ok"/>
    </scxml>`;
    const slow = { makeCall: () => new Promise(() => {}) };
    const a = started(xml);
    const session = a.engine.start(a.chart);
    await settle(a.engine, a.clock, 0);
    // Keep the request pending: the default simulated switch answers after a timer we never run.
    const sw = (a.engine.service('ixn') as { registry: { all(): { makeCall: unknown }[] } }).registry.all()[0];
    Object.assign(sw, slow);
    session.send('call');
    await settle(a.engine, a.clock, 0);
    const snapshot = session.snapshot();
    assert.equal(snapshot.pendingActions.length, 1);
    const b = createEngine({ clock: new VirtualClock(snapshot.savedAt) });
    const restored = b.restore(snapshot, { chart: a.chart });
    assert.equal((await restored.done).final, 'ok');
  });
});

describe('kill -9 and restart with the SQLite store', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const index = path.resolve(here, '..', 'src', 'index.js');

  test('a session saved before SIGKILL resumes in a new process and fires its delayed send on time', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrion-kill9-'));
    const chartFile = path.join(dir, 'chart.scxml');
    writeFileSync(chartFile, `<scxml ${SCXML} initial="waiting">
      <datamodel><data id="calls" expr="0"/></datamodel>
      <state id="waiting">
        <onentry><assign location="calls" expr="calls + 1"/><send event="tick" delay="1500ms"/></onentry>
        <transition event="tick" target="done"/>
      </state>
      <final id="done"><onentry><log label="calls" expr="calls"/></onentry></final>
    </scxml>`);
    const db = path.join(dir, 'sessions.db');
    const first = `
      import { createEngine, SqliteSessionStore } from ${JSON.stringify(index)};
      const engine = createEngine({ store: new SqliteSessionStore(${JSON.stringify(db)}) });
      const session = engine.start(engine.load(${JSON.stringify(chartFile)}).chart);
      setTimeout(() => console.log('ready ' + session.id + ' ' + Date.now()), 300);
      setInterval(() => {}, 1000);`;
    const second = `
      import { createEngine, SqliteSessionStore } from ${JSON.stringify(index)};
      const engine = createEngine({ store: new SqliteSessionStore(${JSON.stringify(db)}), onLog: (e) => console.log('log ' + e.label + '=' + e.value) });
      const [session] = await engine.resume();
      const result = await session.done;
      console.log('result ' + JSON.stringify({ id: session.id, final: result.final, at: Date.now() }));
      await engine.close();`;
    const run = (code: string, onLine: (line: string, kill: () => void) => void) => new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) onLine(line, () => child.kill('SIGKILL'));
      });
      const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (code, signal) => { clearTimeout(guard); resolve(signal === 'SIGKILL' ? -9 : code); });
    });
    let sessionId = '';
    let startedAt = 0;
    const killed = await run(first, (line, kill) => {
      if (!line.startsWith('ready ')) return;
      [, sessionId, startedAt] = line.split(' ') as unknown as [string, string, number];
      startedAt = Number(startedAt) - 300;
      kill();
    });
    assert.equal(killed, -9, 'the first engine was killed with SIGKILL');
    const lines: string[] = [];
    const code = await run(second, (line) => lines.push(line));
    assert.equal(code, 0, lines.join('\n'));
    assert.ok(lines.includes('log calls=1'), `the datamodel came back and onentry did not run again: ${lines.join(' | ')}`);
    const result = JSON.parse(lines.find((l) => l.startsWith('result '))!.slice(7)) as { id: string; final: string; at: number };
    assert.equal(result.id, sessionId);
    assert.equal(result.final, 'done');
    assert.ok(result.at - startedAt >= 1400, `the delayed send kept its absolute due time (fired ${result.at - startedAt} ms after start)`);
  });
});
