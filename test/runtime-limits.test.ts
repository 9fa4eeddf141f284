// Runaway protection (maxMicrosteps, maxQueueLength) and time: the virtual clock (delayed sends
// in due-time then document order, instantly in wall time), <cancel>, delayexpr, the real clock.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { createEngine, RealClock, VirtualClock, type CompiledChart, type Engine, type EngineOptions, type LogEntry } from '../src/index.js';

const scxml = (body: string, attrs = '') =>
  `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript" ${attrs}>\n${body}\n</scxml>\n`;

function compile(engine: Engine, xml: string): CompiledChart {
  const { chart, diagnostics } = engine.load(xml);
  assert.ok(chart, `chart did not load: ${JSON.stringify(diagnostics)}`);
  return chart;
}

/** Every engine of this file, closed at the end: a failed test must not leave a timer holding the process. */
const engines: Engine[] = [];
function newEngine(options?: EngineOptions): Engine {
  const engine = createEngine(options);
  engines.push(engine);
  return engine;
}
after(async () => {
  for (const engine of engines) await engine.close();
});

/** Generous: these are functional checks that a run ends, not performance measurements. */
const WALL_BOUND_MS = 5_000;

/**
 * Runs the chart to its end. busyMs is the shorter of the wall time and the CPU time this
 * process used meanwhile: a loaded machine stretches the one, not the other.
 */
async function runToEnd(xml: string, options: EngineOptions) {
  const engine = newEngine({ clock: 'virtual', ...options });
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  const session = engine.start(compile(engine, xml));
  const result = await session.done;
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Date.now() - started;
  return { engine, session, result, busyMs: Math.min(wallMs, Math.round((cpu.user + cpu.system) / 1000)) };
}

const PING_PONG = scxml(`
<state id="a"><transition target="b"/></state>
<state id="b"><transition target="a"/></state>`);

/** A targetless transition on an event that raises the same event again. */
const RAISE_FOREVER = scxml(`
<state id="a">
  <onentry><raise event="again"/></onentry>
  <transition event="again"><raise event="again"/></transition>
</state>`);

/** Each internal event raises two: the internal queue grows without bound. */
const RAISE_DOUBLING = scxml(`
<state id="a">
  <onentry><raise event="more"/></onentry>
  <transition event="more"><raise event="more"/><raise event="more"/></transition>
</state>`);

/** Each external event sends two to itself: the external queue grows without bound. */
const SEND_DOUBLING = scxml(`
<state id="a">
  <onentry><send event="more"/></onentry>
  <transition event="more"><send event="more"/><send event="more"/></transition>
</state>`);

const INDEX_URL = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'index.js')).href;

/**
 * Runs a chart in a child process killed after `killMs`: runaway code that escaped the budget
 * would block this process's event loop (and the test runner's timeouts) for good.
 */
function runInChildProcess(xml: string, limits: Record<string, number>, killMs = 10_000): Promise<{ result: { status: string; message?: string; final: string | null } | null; killed: boolean }> {
  const program = `
    import { createEngine } from ${JSON.stringify(INDEX_URL)};
    const engine = createEngine({ clock: 'virtual', limits: ${JSON.stringify(limits)} });
    const { chart, diagnostics } = engine.load(${JSON.stringify(xml)});
    if (!chart) { console.log(JSON.stringify({ status: 'unloadable', diagnostics })); process.exit(0); }
    const r = await engine.start(chart).done;
    console.log(JSON.stringify({ status: r.status, final: r.final, message: r.message }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, killMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', () => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop();
      resolve({ result: line ? JSON.parse(line) : null, killed });
    });
  });
}

describe('runaway protection', () => {
  test('limits given to createEngine are merged with the defaults', () => {
    const engine = newEngine({ clock: 'virtual', limits: { maxMicrosteps: 1000 } });
    assert.equal(engine.limits.maxMicrosteps, 1000);
    assert.ok(engine.limits.maxQueueLength > 0);
  });

  test('eventless transitions back and forth end with an error naming maxMicrosteps', async () => {
    const { result, busyMs, engine } = await runToEnd(PING_PONG, { limits: { maxMicrosteps: 1000 } });
    assert.equal(result.status, 'error');
    assert.equal(result.final, null);
    assert.match(result.message ?? '', /maxMicrosteps/);
    assert.match(result.message ?? '', /1000/);
    assert.ok(result.configuration.length > 0);
    assert.ok(busyMs < WALL_BOUND_MS, `took ${busyMs} ms`);
    await engine.whenIdle();
    assert.equal(engine.sessionCount, 0);
  });

  test('a targetless transition raising its own event forever ends with maxMicrosteps', async () => {
    const { result, busyMs } = await runToEnd(RAISE_FOREVER, { limits: { maxMicrosteps: 1000 } });
    assert.equal(result.status, 'error');
    assert.match(result.message ?? '', /maxMicrosteps/);
    assert.deepEqual(result.configuration, ['a']);
    assert.ok(busyMs < WALL_BOUND_MS, `took ${busyMs} ms`);
  });

  test('a growing internal queue ends with an error naming maxQueueLength', async () => {
    const { result, busyMs } = await runToEnd(RAISE_DOUBLING, { limits: { maxMicrosteps: 1_000_000, maxQueueLength: 100 } });
    assert.equal(result.status, 'error');
    assert.match(result.message ?? '', /internal queue/);
    assert.match(result.message ?? '', /maxQueueLength/);
    assert.ok(busyMs < WALL_BOUND_MS, `took ${busyMs} ms`);
  });

  test('a growing external queue ends with an error naming maxQueueLength', async () => {
    const { result, busyMs } = await runToEnd(SEND_DOUBLING, { limits: { maxQueueLength: 100 } });
    assert.equal(result.status, 'error');
    assert.match(result.message ?? '', /external queue/);
    assert.match(result.message ?? '', /maxQueueLength/);
    assert.ok(busyMs < WALL_BOUND_MS, `took ${busyMs} ms`);
  });

  test('events sent from outside count against maxQueueLength too', async () => {
    const engine = newEngine({ clock: 'virtual', limits: { maxQueueLength: 10 } });
    const session = engine.start(compile(engine, scxml('<state id="a"/>')));
    for (let i = 0; i < 11; i++) session.send('e');
    const result = await session.done;
    assert.equal(result.status, 'error');
    assert.match(result.message ?? '', /maxQueueLength/);
  });

  test('a runaway session does not stop the others', async () => {
    const engine = newEngine({ clock: 'virtual', limits: { maxMicrosteps: 500 } });
    const runaway = engine.start(compile(engine, PING_PONG));
    const fine = engine.start(compile(engine, scxml('<state id="a"><onentry><send event="t" delay="1s"/></onentry><transition event="t" target="f"/></state><final id="f"/>')));
    assert.equal((await runaway.done).status, 'error');
    assert.equal((await fine.done).status, 'final');
  });

  test('chart code that loops forever is stopped by limits.timeMs (error.execution)', { timeout: 30_000 }, async () => {
    const xml = scxml(`
<state id="a">
  <onentry><script>while (true) {}</script></onentry>
  <transition event="error.execution" cond="/timeMs/.test(_event.data.message)" target="stopped"/>
</state>
<final id="stopped"/>`);
    const { result, killed } = await runInChildProcess(xml, { timeMs: 200 });
    assert.equal(killed, false, 'the loop was not stopped');
    assert.deepEqual(result, { status: 'final', final: 'stopped' });
  });

  test('a loop inside a parenthesised expression is stopped too', { timeout: 30_000 }, async () => {
    const xml = scxml(`
<state id="a">
  <onentry><log expr="(function () { while (true) {} }())"/></onentry>
  <transition event="error.execution" target="stopped"/>
</state>
<final id="stopped"/>`);
    const { result, killed } = await runInChildProcess(xml, { timeMs: 200 }, 5_000);
    assert.equal(killed, false, 'the loop was not stopped');
    assert.deepEqual(result, { status: 'final', final: 'stopped' });
  });

  /** How long the default-limit runs below took (busyMs), for the speed check that follows them. */
  const defaultRunMs = new Map<string, number>();
  for (const [name, xml] of [['eventless loop', PING_PONG], ['raise loop', RAISE_FOREVER], ['internal queue growth', RAISE_DOUBLING], ['external queue growth', SEND_DOUBLING]] as const) {
    test(`default limits terminate: ${name}`, { timeout: 120_000 }, async () => {
      const { result, busyMs } = await runToEnd(xml, {});
      defaultRunMs.set(name, busyMs);
      assert.equal(result.status, 'error');
      assert.match(result.message ?? '', /maxMicrosteps|maxQueueLength/);
    });
  }

  test('default limits catch queue growth quickly', () => {
    for (const name of ['internal queue growth', 'external queue growth']) {
      const busyMs = defaultRunMs.get(name);
      assert.ok(busyMs !== undefined, `${name} did not run`);
      assert.ok(busyMs < 1_500, `${name}: took ${busyMs} ms`);
    }
  });
});

describe('virtual clock', () => {
  const DELAYS = scxml(`
<datamodel><data id="order" expr="[]"/><data id="half" expr="'.5s'"/><data id="fifth" expr="'200ms'"/></datamodel>
<state id="a">
  <onentry>
    <send event="late" delay="1h"/>
    <send event="t2a" delay="2s"/>
    <send event="t1" delay="1s"/>
    <send event="t2b" delay="2000ms"/>
    <send event="x500" delayexpr="half"/>
    <send event="x200" delayexpr="fifth"/>
    <send event="xnum" delayexpr="300"/>
    <send id="doomed" event="cancelled" delay="10s"/>
    <send event="now"/>
    <cancel sendid="doomed"/>
  </onentry>
  <transition event="late" target="f"><script>order.push(_event.name)</script><log label="at" expr="_event.name"/></transition>
  <transition event="*"><script>order.push(_event.name)</script><log label="at" expr="_event.name"/></transition>
</state>
<final id="f"><donedata><param name="order" expr="order"/></donedata></final>`);

  test('delayed sends fire in due-time order, then document order, instantly in wall time', async () => {
    const at: [unknown, number][] = [];
    let engine: Engine;
    const onLog = (e: LogEntry) => at.push([e.value, engine.clock.now()]);
    engine = newEngine({ clock: 'virtual', onLog });
    assert.ok(engine.clock instanceof VirtualClock);
    assert.equal(engine.clock.kind, 'virtual');
    const started = Date.now();
    const result = await engine.start(compile(engine, DELAYS)).done;
    const wallMs = Date.now() - started;
    assert.equal(result.status, 'final', result.message);
    assert.deepEqual(JSON.parse(JSON.stringify(result.doneData)), { order: ['now', 'x200', 'xnum', 'x500', 't1', 't2a', 't2b', 'late'] });
    // Virtual time stood at each event's due time when it was processed.
    assert.deepEqual(at, [['now', 0], ['x200', 200], ['xnum', 300], ['x500', 500], ['t1', 1000], ['t2a', 2000], ['t2b', 2000], ['late', 3_600_000]]);
    assert.equal(engine.clock.now(), 3_600_000);
    assert.ok(wallMs < WALL_BOUND_MS, `a one-hour chart took ${wallMs} ms of wall time`);
    await engine.whenIdle();
    assert.equal(engine.clock.pendingTimers, 0, 'the cancelled send left no timer behind');
  });

  test('<cancel> stops a pending delayed send (sendid and sendidexpr)', async () => {
    const engine = newEngine({ clock: 'virtual' });
    const result = await engine.start(compile(engine, scxml(`
<datamodel><data id="sid"/></datamodel>
<state id="a">
  <onentry>
    <send id="s1" event="bad" delay="1s"/>
    <send idlocation="sid" event="bad" delay="2s"/>
    <send event="good" delay="3s"/>
    <cancel sendid="s1"/>
    <cancel sendidexpr="sid"/>
  </onentry>
  <transition event="bad" target="failed"/>
  <transition event="good" target="passed"/>
</state>
<final id="failed"/><final id="passed"/>`))).done;
    assert.equal(result.final, 'passed');
  });

  test('a cancel after the send fired, or of an unknown id, is harmless', async () => {
    const engine = newEngine({ clock: 'virtual' });
    const result = await engine.start(compile(engine, scxml(`
<state id="a">
  <onentry><send id="s" event="first" delay="1s"/><cancel sendid="never-sent"/></onentry>
  <transition event="first" target="b"><cancel sendid="s"/></transition>
  <transition event="error.*" target="failed"/>
</state>
<state id="b"><onentry><send event="second" delay="1s"/></onentry><transition event="second" target="passed"/></state>
<final id="failed"/><final id="passed"/>`))).done;
    assert.equal(result.final, 'passed');
  });

  test('a delayexpr that is not a time value raises error.execution', async () => {
    const engine = newEngine({ clock: 'virtual' });
    const result = await engine.start(compile(engine, scxml(`
<state id="a">
  <onentry><send event="never" delayexpr="'soon'"/></onentry>
  <transition event="error.execution" target="passed"/>
  <transition event="never" target="failed"/>
</state>
<final id="failed"/><final id="passed"/>`))).done;
    assert.equal(result.final, 'passed');
  });

  test('an invalid delay attribute is a load error', () => {
    const { chart, diagnostics } = newEngine({ clock: 'virtual' }).load(scxml('<state id="a"><onentry><send event="e" delay="5 parsecs"/></onentry></state>'));
    assert.equal(chart, null);
    assert.equal(diagnostics[0].code, 'ORX0108');
  });

  test('VirtualClock: advanceToNext and advanceBy fire timers in (due, creation) order', () => {
    const clock = new VirtualClock(100);
    const fired: string[] = [];
    clock.setTimer(50, () => fired.push('b50'));
    clock.setTimer(10, () => fired.push('a10'));
    clock.setTimer(50, () => fired.push('c50'));
    const cleared = clock.setTimer(20, () => fired.push('cleared'));
    const late = clock.setTimer(1000, () => fired.push('late'));
    assert.equal(late.due, 1100);
    clock.clearTimer(cleared);
    assert.equal(clock.pendingTimers, 4);
    assert.equal(clock.advanceToNext(), true);
    assert.deepEqual(fired, ['a10']);
    assert.equal(clock.now(), 110);
    clock.advanceBy(100);
    assert.deepEqual(fired, ['a10', 'b50', 'c50']);
    assert.equal(clock.now(), 210);
    assert.equal(clock.advanceToNext(), true);
    assert.equal(clock.now(), 1100);
    assert.equal(clock.advanceToNext(), false);
    assert.equal(clock.pendingTimers, 0);
    assert.deepEqual(fired, ['a10', 'b50', 'c50', 'late']);
  });
});

describe('real clock', () => {
  test('RealClock fires timers by due time; clearTimer stops one', async () => {
    const clock = new RealClock();
    assert.equal(clock.kind, 'real');
    assert.ok(Math.abs(clock.now() - Date.now()) < 1000);
    const fired: string[] = [];
    let resolveLast!: () => void;
    const last = new Promise<void>((resolve) => { resolveLast = resolve; });
    clock.setTimer(40, () => { fired.push('40ms'); resolveLast(); });
    clock.setTimer(5, () => fired.push('5ms'));
    const cleared = clock.setTimer(10, () => fired.push('cleared'));
    assert.equal(clock.pendingTimers, 3);
    clock.clearTimer(cleared);
    clock.clearTimer(cleared); // twice is harmless
    assert.equal(clock.pendingTimers, 2);
    await last;
    assert.deepEqual(fired, ['5ms', '40ms']);
    assert.equal(clock.pendingTimers, 0);
  });

  test('an engine on real time delivers delayed sends after their delay', async () => {
    const engine = newEngine({ clock: 'real' });
    assert.ok(engine.clock instanceof RealClock);
    const started = Date.now();
    const session = engine.start(compile(engine, scxml(`
<state id="a">
  <onentry><send event="second" delay="40ms"/><send event="first" delay="10ms"/></onentry>
  <transition event="first" target="b"/>
</state>
<state id="b"><transition event="second" target="f"/></state>
<final id="f"/>`)));
    const result = await session.done;
    const wallMs = Date.now() - started;
    assert.equal(result.final, 'f');
    assert.ok(wallMs >= 30, `finished after ${wallMs} ms, before the 40 ms delay`);
    assert.ok(wallMs < WALL_BOUND_MS);
    await engine.whenIdle();
  });

  test('a custom Clock object is used as given', () => {
    const clock = new VirtualClock(5_000);
    const engine = newEngine({ clock });
    assert.equal(engine.clock, clock);
  });
});
