// Isolation in both ECMAScript sandboxes: what one session does (pollute built-ins, leak
// globals, run away, exhaust memory, leave promises behind) must not reach another session of the
// same chart, the host, or the engine's ability to go on. Every case runs a real chart in both
// modes; cases that could hang or crash the process run in a child process.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compile, describeOutcome, logged, MODES, newEngine, runChart, runInChild, script, scxml, within, type ChildOutcome, type Mode, type RunOptions,
} from './sandbox-harness.js';

const T = { timeout: 30_000 };

/* ---------- two sessions of one chart: the first attacks on "attack", the second checks on "check" ---------- */

async function attackThenCheck(mode: Mode, attack: string, check: string, datamodel = '') {
  const { engine, logs } = await newEngine(mode);
  const chart = compile(engine, scxml(`
<datamodel>${datamodel}<data id="out" expr="[]"/></datamodel>
<state id="s">
  <transition event="attack">${script(attack)}<log label="attacked" expr="JSON.stringify(out)"/></transition>
  <transition event="check">${script(check)}<log label="checked" expr="JSON.stringify(out)"/></transition>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`));
  const a = engine.start(chart, { sessionId: `attacker-${mode}` });
  a.send('attack');
  await within(engine.whenIdle(), 10_000, 'the engine');
  const b = engine.start(chart, { sessionId: `victim-${mode}` });
  b.send('check');
  await within(engine.whenIdle(), 10_000, 'the engine');
  a.send('done');
  b.send('done');
  await within(Promise.all([a.done, b.done]), 10_000);
  const checked = logged(logs, 'checked');
  assert.equal(checked.length, 1, `the check did not run: ${JSON.stringify(logged(logs, 'error'))}`);
  return { checked: JSON.parse(checked[0]) as string[], attacked: logged(logs, 'attacked'), logs };
}

/** `out.push(name + ': ' + (ok ? 'clean' : 'POLLUTED ' + detail))` for each [name, expression] — run in the victim. */
const expectClean = (checks: [string, string][]) => checks.map(([name, expr]) =>
  `try { var ok_ = (${expr}); out.push(${JSON.stringify(name)} + ': ' + (ok_ === true ? 'clean' : 'POLLUTED')); } catch (e) { out.push(${JSON.stringify(name)} + ': POLLUTED (threw ' + e + ')'); }`).join('\n');

function assertClean(checked: string[], count: number): void {
  assert.deepEqual(checked.filter((c) => !/: clean$/.test(c)), [], `another session saw the attacker's changes: ${JSON.stringify(checked)}`);
  assert.equal(checked.length, count, JSON.stringify(checked));
}

/* ---------- runaway charts (run in a child process, since a hole would hang this one) ---------- */

/** A chart running `runaway` in an <onentry> (or wherever `place` puts it), then proving on "next" that code runs normally again. */
function runawayChart(runaway: string, place: 'script' | 'cond' | 'expr' = 'script'): string {
  const onentry = place === 'script' ? script(runaway) : place === 'expr' ? `<log label="value" expr="${runaway}"/>` : '';
  const cond = place === 'cond' ? `<transition event="go" cond="${runaway}" target="fail"/>` : '';
  return scxml(`
<state id="s">
  <onentry>${onentry}</onentry>
  ${cond}
  <transition event="error.execution" target="recovered"><log label="error" expr="_event.data.message"/></transition>
</state>
<state id="recovered">
  <transition event="next" cond="(function () { var s = 0; for (var i = 0; i &lt; 10000; i++) s += i; return s; })() === 49995000" target="pass"/>
  <transition event="next" target="fail"/>
</state>
<final id="pass"/>
<final id="fail"/>`);
}

const RUNAWAY_MESSAGE = /limits\.timeMs|stack|recursion/i;

/**
 * For what breaks a QuickJS runtime itself (the host stack overflowing inside its WebAssembly):
 * the session ends with status error naming the broken sandbox; the host process and the
 * engine carry on (no uncaught exception, no hang).
 */
function assertSessionContained(o: ChildOutcome): void {
  assert.equal(o.killed, false, `the engine hung (killed): ${describeOutcome(o)}`);
  assert.equal(o.timedOut, false, `the session never ended: ${describeOutcome(o)}`);
  assert.deepEqual(o.hostErrors, [], `the host process saw errors: ${describeOutcome(o)}`);
  assert.ok(o.result?.final === 'pass' || (o.result?.status === 'error' && /isolated sandbox broke/.test(o.result.message ?? '')),
    `the session neither recovered nor ended with the sandbox failure: ${describeOutcome(o)}`);
}

function assertStoppedAndRecovered(o: ChildOutcome, maxBusyMs: number, message = RUNAWAY_MESSAGE): void {
  assert.equal(o.killed, false, `the engine hung (killed): ${describeOutcome(o)}`);
  assert.equal(o.timedOut, false, `the session never ended: ${describeOutcome(o)}`);
  assert.deepEqual(o.hostErrors, [], `the host process saw errors: ${describeOutcome(o)}`);
  assert.equal(o.result?.final, 'pass', `the session did not recover: ${describeOutcome(o)}`);
  const errors = o.logs.filter((l) => l.label === 'error').map((l) => l.value);
  assert.ok(errors.length >= 1, `no error.execution: ${describeOutcome(o)}`);
  assert.match(errors[0], message);
  assert.ok(o.busyMs < maxBusyMs, `took ${o.busyMs} ms (bound ${maxBusyMs}): ${describeOutcome(o)}`);
}

const SMALL = { timeMs: 100 };

for (const mode of MODES) {
  describe(`sandbox isolation [${mode}]`, () => {
    /* ---------- prototype pollution ---------- */

    test('prototype pollution in one session reaches neither another session nor the host', T, async () => {
      const hostPush = Array.prototype.push;
      const hostParse = JSON.parse;
      const hostRandom = Math.random;
      const hostMap = Array.prototype.map;
      const { checked } = await attackThenCheck(mode, `
        function tryIt(name, f) { try { f(); out.push(name + ': done'); } catch (e) { out.push(name + ': threw'); } }
        tryIt('Object.prototype.polluted', function () { Object.prototype.polluted = 1; });
        tryIt('__proto__.x', function () { ({}).__proto__.x = 1; });
        tryIt('Array.prototype.push', function () { Array.prototype.push = function () { return 'hijacked'; }; });
        tryIt('JSON.parse', function () { JSON.parse = function () { return 'hijacked'; }; });
        tryIt('Math.random', function () { Math.random = function () { return 4; }; });
        tryIt('defineProperty Object.prototype', function () { Object.defineProperty(Object.prototype, 'defined', { get: function () { return 'hijacked'; }, configurable: true }); });
        tryIt('delete Array.prototype.map', function () { delete Array.prototype.map; });
        tryIt('Function.prototype.call', function () { Function.prototype.call = function () { return 'hijacked'; }; });
        tryIt('String.prototype.trim', function () { String.prototype.trim = function () { return 'hijacked'; }; });
        tryIt('Object.prototype.toString via setter', function () { Object.prototype.toString = function () { return 'hijacked'; }; });
        tryIt('Symbol.iterator of arrays', function () { Array.prototype[Symbol.iterator] = function () { return [][Symbol.iterator](); }; });
        tryIt('Object.setPrototypeOf(Object.prototype)', function () { Object.setPrototypeOf(Object.prototype, { polluted2: 1 }); });`, expectClean([
        ['({}).polluted', '({}).polluted === undefined'],
        ['({}).x', '({}).x === undefined'],
        ['Array.prototype.push', 'typeof [].push === "function" && (function () { var a = []; a.push(1); return a.length === 1; })()'],
        ['JSON.parse', 'JSON.parse(\'{"a":1}\').a === 1'],
        ['Math.random', '(function () { var r = Math.random(); return r >= 0 && r < 1; })()'],
        ['Object.prototype.defined', '({}).defined === undefined && !("defined" in {})'],
        ['Array.prototype.map', 'typeof [].map === "function" && [1, 2].map(function (x) { return x * 2; })[1] === 4'],
        ['Function.prototype.call', '(function () { return 7; }).call(null) === 7'],
        ['String.prototype.trim', '" a ".trim() === "a"'],
        ['Object.prototype.toString', 'Object.prototype.toString.call([]) === "[object Array]"'],
        ['Array iteration', '(function () { var n = 0; for (var x of [1, 2, 3]) n += x; return n === 6; })()'],
        ['({}).polluted2', '({}).polluted2 === undefined'],
      ]));
      assertClean(checked, 12);
      // And the host's own built-ins are untouched.
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(({} as Record<string, unknown>).defined, undefined);
      assert.equal(({} as Record<string, unknown>).polluted2, undefined);
      assert.equal(Array.prototype.push, hostPush);
      assert.equal(JSON.parse, hostParse);
      assert.equal(Math.random, hostRandom);
      assert.equal(Array.prototype.map, hostMap);
      assert.equal(Object.prototype.toString.call([]), '[object Array]');
    });

    test('DOM prototypes: one session overriding getAttribute or adding to a node prototype', T, async () => {
      const { checked } = await attackThenCheck(mode, `
        var protos = [], p = d; while (p) { protos.push(p); p = Object.getPrototypeOf(p); }
        p = d.documentElement; while (p) { protos.push(p); p = Object.getPrototypeOf(p); }
        protos.forEach(function (x) { try { x.polluted = 'by the attacker'; } catch (e) {} });
        try { Object.getPrototypeOf(d.documentElement).getAttribute = function () { return 'hijacked'; }; } catch (e) {}
        try { Object.getPrototypeOf(d).getElementsByTagName = function () { return []; }; } catch (e) {}`, expectClean([
        ['d.polluted', 'd.polluted === undefined'],
        ['element.polluted', 'd.documentElement.polluted === undefined'],
        ['getAttribute', 'd.documentElement.getAttribute("x") === "1"'],
        ['getElementsByTagName', 'd.getElementsByTagName("b").length === 1'],
      ]), '<data id="d"><a x="1"><b/></a></data>');
      assertClean(checked, 4);
    });

    /* ---------- globals ---------- */

    test('what sessions share (the scope prototype, system variables, In, module variables) carries nothing across', T, async () => {
      const { checked, attacked } = await attackThenCheck(mode, `
        function tryIt(name, f) { try { f(); out.push(name + ': done'); } catch (e) { out.push(name + ': threw'); } }
        var scope = Object.getPrototypeOf(_data);
        tryIt('add to the scope prototype', function () { scope.leak = 1; });
        tryIt('define on the scope prototype', function () { Object.defineProperty(scope, 'leak', { value: 1 }); });
        tryIt('re-parent the scope prototype', function () { Object.setPrototypeOf(scope, { leak: 1 }); });
        tryIt('redefine _sessionid', function () { Object.defineProperty(scope, '_sessionid', { value: 'attacker' }); });
        tryIt('read _sessionid of another object', function () {
          var d = Object.getOwnPropertyDescriptor(scope, '_sessionid');
          if (d && d.get) out.push('foreign _sessionid: ' + d.get.call({}));
        });
        tryIt('replace In', function () { In = function () { return true; }; });
        tryIt('change _genesys', function () { _genesys.ixn.leak = 1; _genesys.ixn.interactions.push('x'); _genesys.ixn.setuData = 1; });
        tryIt('replace _data', function () { _data = 5; });`, expectClean([
        ['scope prototype', '!("leak" in _data) && Object.getPrototypeOf(_data) === null || !("leak" in Object.getPrototypeOf(_data))'],
        ['_sessionid', '_sessionid.indexOf("victim-") === 0'],
        ['In', 'In("s") === true && In("nope") === false'],
        ['_genesys', '_genesys.ixn.leak === undefined && _genesys.ixn.interactions.length === 0 && typeof _genesys.ixn.setuData === "function"'],
        ['_data', '_data.out === out'],
      ]));
      assertClean(checked, 5);
      // The foreign read, if the attacker got that far, found no session behind the object.
      assert.ok(!attacked.some((a) => /foreign _sessionid: (?!undefined)/.test(a) && /attacker-/.test(a)), JSON.stringify(attacked));
    });

    test('globals set by one session (globalThis.x, this.x, undeclared x, sloppy this, unscopables) are not seen by another', T, async () => {
      const { checked } = await attackThenCheck(mode, `
        try { globalThis.leak1 = 1; } catch (e) {}
        try { this.leak2 = 1; } catch (e) {}
        leak3 = 1;
        try { (function () { return this; })().leak4 = 1; } catch (e) {}
        try { (function (a = 0) { return this; })().leak5 = 1; } catch (e) {}
        try { Object.defineProperty(globalThis, 'leak6', { value: 1, configurable: true }); } catch (e) {}
        try { globalThis[Symbol.unscopables] = { leak7: true }; leak7 = 1; } catch (e) {}
        try { [0].forEach(function () { this.leak8 = 1; }); } catch (e) {}
        try { Reflect.set(globalThis, 'leak9', 1); } catch (e) {}
        var leak10 = 1;
        function leak11() {}`, expectClean(Array.from({ length: 11 }, (_, i) => {
        const n = `leak${i + 1}`;
        return [n, `typeof ${n} === "undefined" && globalThis.${n} === undefined && !(${JSON.stringify(n)} in globalThis)`] as [string, string];
      })));
      assertClean(checked, 11);
      assert.equal((globalThis as Record<string, unknown>).leak1, undefined);
      assert.equal((globalThis as Record<string, unknown>).leak3, undefined);
    });

    /* ---------- cross-session data ---------- */

    test('two sessions of one chart: same variable, undeclared variables, overridden methods stay apart', T, async () => {
      const { engine, logs } = await newEngine(mode);
      const chart = compile(engine, scxml(`
<datamodel><data id="who"/><data id="shared" expr="({ list: [] })"/></datamodel>
<state id="s">
  <onentry>${script(`
    shared.list.push(who);
    shared.owner = who;
    undeclaredFrom = who;
    this_is_new_in = who;
    shared.toString = function () { return 'overridden by ' + who; };
    var arr = [1, 2];
    Object.defineProperty(arr, 'map', { value: function () { return 'overridden map of ' + who; } });
    counter = who === 'A' ? 100 : 200;`)}</onentry>
  <transition event="report"><log label="report" expr="JSON.stringify({ who: who, list: shared.list, owner: shared.owner, undeclaredFrom: undeclaredFrom,
    newIn: this_is_new_in, str: String(shared), map: arr.map(function (x) { return x; }), counter: counter, plainMap: [1].map(function (x) { return x + 1; }) })"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`));
      const a = engine.start(chart, { data: { who: 'A' } });
      const b = engine.start(chart, { data: { who: 'B' } });
      await within(engine.whenIdle(), 10_000, 'the engine');
      a.send('report');
      b.send('report');
      await within(engine.whenIdle(), 10_000, 'the engine');
      a.send('done');
      b.send('done');
      await within(Promise.all([a.done, b.done]), 10_000);
      const reports = logged(logs, 'report').map((r) => JSON.parse(r) as Record<string, unknown>);
      const byWho = Object.fromEntries(reports.map((r) => [r.who, r]));
      for (const who of ['A', 'B']) {
        assert.deepEqual(byWho[who], {
          who, list: [who], owner: who, undeclaredFrom: who, newIn: who, str: `overridden by ${who}`,
          map: `overridden map of ${who}`, counter: who === 'A' ? 100 : 200, plainMap: [2],
        });
      }
    });

    test('engine.start({ data }) values are copies: host mutations after start, session mutations', T, async () => {
      const { engine, logs } = await newEngine(mode);
      const chart = compile(engine, scxml(`
<datamodel><data id="cfg"/></datamodel>
<state id="s">
  <onentry><log label="at start" expr="JSON.stringify(cfg)"/>${script(`cfg.v = 'changed inside'; cfg.list.push('inside'); cfg.nested.k = 'inside';`)}</onentry>
  <transition event="show"><log label="later" expr="JSON.stringify(cfg)"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`));
      const data = { cfg: { v: 'original', list: [1, 2] as unknown[], nested: { k: 'original' } } };
      const session = engine.start(chart, { data });
      data.cfg.v = 'mutated by the host right after start';
      await within(engine.whenIdle(), 10_000, 'the engine');
      data.cfg.list.push('host');
      data.cfg.nested.k = 'host';
      session.send('show');
      session.send('done');
      await within(session.done, 10_000);
      // The session does not see host mutations ...
      assert.deepEqual(logged(logs, 'at start').map((s) => JSON.parse(s)), [{ v: 'original', list: [1, 2], nested: { k: 'original' } }]);
      assert.deepEqual(logged(logs, 'later').map((s) => JSON.parse(s)), [{ v: 'changed inside', list: [1, 2, 'inside'], nested: { k: 'inside' } }]);
      // ... and the host object does not see the session's.
      assert.deepEqual(data, { cfg: { v: 'mutated by the host right after start', list: [1, 2, 'host'], nested: { k: 'host' } } });
    });

    test('engine.start({ data }) values are copies once the session runs', T, async () => {
      const { engine, logs } = await newEngine(mode);
      const chart = compile(engine, scxml(`
<datamodel><data id="cfg"/></datamodel>
<state id="s">
  <onentry>${script(`cfg.v = 'changed inside'; cfg.list.push('inside');`)}</onentry>
  <transition event="show"><log label="later" expr="JSON.stringify(cfg)"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`));
      const data = { cfg: { v: 'original', list: [1, 2] as unknown[] } };
      const session = engine.start(chart, { data });
      await within(engine.whenIdle(), 10_000, 'the engine');
      data.cfg.list.push('host');
      session.send('show');
      session.send('done');
      await within(session.done, 10_000);
      assert.deepEqual(logged(logs, 'later').map((s) => JSON.parse(s)), [{ v: 'changed inside', list: [1, 2, 'inside'] }]);
      assert.deepEqual(data, { cfg: { v: 'original', list: [1, 2, 'host'] } });
    });

    test('event data sent by one session is a copy for the receiver', T, async () => {
      const { engine, logs } = await newEngine(mode);
      const chart = compile(engine, scxml(`
<datamodel><data id="peer"/><data id="mine" expr="({ n: 1, list: [1] })"/></datamodel>
<state id="s">
  <transition event="give"><send event="take" targetexpr="'#_scxml_' + peer"><param name="obj" expr="mine"/></send></transition>
  <transition event="take">${script(`_event.data.obj.n = 99; _event.data.obj.list.push(99);`)}<log label="receiver" expr="JSON.stringify(_event.data.obj)"/></transition>
  <transition event="show"><log label="sender" expr="JSON.stringify(mine)"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`));
      const a = engine.start(chart, { sessionId: `giver-${mode}`, data: { peer: `taker-${mode}` } });
      const b = engine.start(chart, { sessionId: `taker-${mode}`, data: { peer: `giver-${mode}` } });
      a.send('give');
      await within(engine.whenIdle(), 10_000, 'the engine');
      a.send('show');
      a.send('done');
      b.send('done');
      await within(Promise.all([a.done, b.done]), 10_000);
      assert.deepEqual(logged(logs, 'receiver').map((s) => JSON.parse(s)), [{ n: 99, list: [1, 99] }]);
      assert.deepEqual(logged(logs, 'sender').map((s) => JSON.parse(s)), [{ n: 1, list: [1] }]);
    });

    test('assigning an own method that shadows a built-in (arr.map = f, o.hasOwnProperty = f) works as in plain JavaScript', T, async () => {
      const { result, logs } = await runChart(mode, scxml(`
<state id="s">
  <onentry>${script(`
    var arr = [1, 2]; arr.map = function () { return 'mine'; };
    var o = {}; o.hasOwnProperty = function () { return 'mine'; };
    var e = new Error('x'); e.stack = 'mine';
    var ok = arr.map() === 'mine' && o.hasOwnProperty() === 'mine' && e.stack === 'mine' && [3].map(function (x) { return x; })[0] === 3;`)}</onentry>
  <transition cond="ok === true" target="pass"/>
  <transition event="error.execution" target="fail"><log label="error" expr="_event.data.message"/></transition>
</state>
<final id="pass"/>
<final id="fail"/>`));
      assert.equal(result.final, 'pass', JSON.stringify(logged(logs, 'error')));
    });

    test('chart code pinning or freezing its own global does not crash the engine when the session ends', T, async () => {
      for (const pin of [
        "Object.defineProperty(globalThis, 'pinned', { value: 1, enumerable: true });",
        'var kept = 1; Object.defineProperty(globalThis, "kept", { configurable: false });',
        'Object.freeze(globalThis);',
        'Object.seal(globalThis);',
        'Object.preventExtensions(globalThis);',
      ]) {
        const xml = scxml(`
<state id="s">
  <onentry>${script(pin)}</onentry>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`);
        const o = await runInChild({ mode, xml, events: [['done']] });
        assert.equal(o.result?.final, 'pass', `${pin} ${describeOutcome(o)}`);
        assert.deepEqual(o.hostErrors, [], `${pin} ${describeOutcome(o)}`);
      }
    });

    /* ---------- host data the engine must copy without failing ---------- */

    const cyclicChart = scxml(`
<datamodel><data id="cfg"/></datamodel>
<state id="s">
  <onentry><log label="start" expr="typeof cfg"/></onentry>
  <transition event="data"><log label="event" expr="typeof _event.data"/></transition>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`);

    test('cyclic host data (plain objects) in start data and event data: the session goes on', T, async () => {
      const cyclic: Record<string, unknown> = { name: 'loop' };
      cyclic.self = cyclic;
      const { result, logs } = await runChart(mode, cyclicChart, { data: { cfg: cyclic }, events: [['data', cyclic], ['done']] });
      assert.equal(result.status, 'final', `${result.message?.split('\n')[0]}`);
      assert.equal(result.final, 'pass');
      assert.equal(logged(logs, 'start').length, 1);
    });

    test('cyclic host data through a class instance: the session goes on', T, async () => {
      class Node { self: Node = this; label = 'node'; }
      const { result, logs } = await runChart(mode, cyclicChart, { data: { cfg: new Node() }, events: [['done']] });
      assert.equal(result.status, 'final', `${result.message?.split('\n')[0]}`);
      assert.equal(logged(logs, 'start').length, 1);
    });

    /* ---------- runaway code ---------- */

    test('runaway: while(true){} in a <script>', T, async () => {
      assertStoppedAndRecovered(await runInChild({ mode, xml: runawayChart('while (true) {}'), limits: SMALL, events: [['next']] }), 5_000, /limits\.timeMs/);
    });

    test('runaway: an endless loop in a cond', T, async () => {
      assertStoppedAndRecovered(await runInChild({ mode, xml: runawayChart('(function () { for (;;) {} })()', 'cond'), limits: SMALL, events: [['go'], ['next']] }), 5_000, /limits\.timeMs/);
    });

    test('runaway: an endless loop in an expr', T, async () => {
      assertStoppedAndRecovered(await runInChild({ mode, xml: runawayChart('(function () { do {} while (true); })()', 'expr'), limits: SMALL, events: [['next']] }), 5_000, /limits\.timeMs/);
    });

    test('runaway: infinite recursion', T, async () => {
      assertStoppedAndRecovered(await runInChild({ mode, xml: runawayChart('function f() { return f(); } f();'), limits: SMALL, events: [['next']] }), 3_000);
    });

    test('runaway: infinite recursion caught at every level', { timeout: 90_000 }, async () => {
      const o = await runInChild({
        mode, xml: runawayChart('function f(n) { try { return f(n + 1); } catch (e) { return f(n + 1); } } f(0);'), limits: SMALL, events: [['next']],
        // Isolated mode is not stopped at timeMs here (docs/guides/sandbox.md, known limits): it
        // takes seconds of CPU to unwind, many more on a loaded machine. What is checked is that it ends, contained.
        ...(mode === 'isolated' ? { settleMs: 60_000, killMs: 75_000 } : {}),
      });
      // Fast mode stops it and goes on; in isolated mode the recursion can overflow the host stack
      // inside QuickJS, which breaks that runtime: the session then ends, contained.
      if (mode === 'fast') assertStoppedAndRecovered(o, 8_000);
      else assertSessionContained(o);
    });

    test('runaway: exponential recursion f(60)', T, async () => {
      assertStoppedAndRecovered(await runInChild({
        mode, xml: runawayChart('function f(n) { return n <= 0 ? 0 : f(n - 1) + f(n - 1); } f(60);'), limits: SMALL, events: [['next']],
      }), 5_000, /limits\.timeMs/);
    });

    test('runaway: a loop that catches the budget error and loops again', T, async () => {
      assertStoppedAndRecovered(await runInChild({
        mode, xml: runawayChart('var caught = 0; while (true) { try { while (true) {} } catch (e) { caught++; } }'), limits: SMALL, events: [['next']],
      }), 5_000, /limits\.timeMs/);
    });

    test('runaway: a loop that swallows the budget error with finally { continue }', T, async () => {
      assertStoppedAndRecovered(await runInChild({
        mode, xml: runawayChart('for (;;) { try { for (;;) {} } finally { continue; } }'), limits: SMALL, events: [['next']],
      }), 5_000, /limits\.timeMs/);
    });

    test('runaway: a loop in a getter, a toString, a sort comparator, a class field', T, async () => {
      for (const runaway of [
        'var o = { get x() { while (true) {} } }; o.x;',
        'String({ toString: function () { for (;;) {} } });',
        '[3, 2, 1].sort(function () { for (;;) {} });',
        'new (class { field = (() => { while (true) {} })(); })();',
      ]) {
        assertStoppedAndRecovered(await runInChild({ mode, xml: runawayChart(runaway), limits: SMALL, events: [['next']] }), 5_000, /limits\.timeMs/);
      }
    });

    test('runaway: the default limits also stop an endless loop', T, async () => {
      assertStoppedAndRecovered(await runInChild({ mode, xml: runawayChart('while (true) {}'), events: [['next']] }), 8_000, /limits\.timeMs/);
    });

    test('runaway: a helper name shadowed (a local __orx_tick bound to a built-in)', T, async () => {
      for (const runaway of [
        '(function (__orx_tick) { while (true) {} })(Math.random);',
        '{ let __orx_tick = String; for (;;) {} }',
        'try { throw Math.abs; } catch (__orx_tick) { while (true) {} }',
      ]) {
        // (An engine may instead refuse the reserved name at compile time.)
        assertStoppedAndRecovered(await runInChild({ mode, xml: runawayChart(runaway), limits: SMALL, events: [['next']], settleMs: 5_000, killMs: 6_000 }), 3_000, /limits\.timeMs|reserved|__orx_/i);
      }
    });

    test('runaway: Atomics.wait blocks the thread', T, async () => {
      const o = await runInChild({
        mode, xml: runawayChart('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000); throw new Error("waited past limits.timeMs");'),
        limits: SMALL, events: [['next']], settleMs: 6_000,
      });
      // Either Atomics is unavailable (error.execution) or the wait is cut short by the budget.
      assertStoppedAndRecovered(o, 2_000, /.*/);
    });

    test('runaway: catastrophic regular expression backtracking', T, async () => {
      const backtracking = "/(a+)+$/.test('a'.repeat(40) + '!')";
      if (mode === 'fast') {
        // V8 falls back to its linear-time engine: the match simply finishes, with the right answer.
        const o = await runInChild({
          mode, limits: SMALL, settleMs: 6_000,
          xml: scxml(`<state id="s"><transition cond="${backtracking} === false" target="pass"/></state><final id="pass"/>`),
        });
        assert.equal(o.killed, false, describeOutcome(o));
        assert.deepEqual(o.hostErrors, [], describeOutcome(o));
        assert.equal(o.result?.final, 'pass', describeOutcome(o));
        assert.ok(o.busyMs < 1_500, `took ${o.busyMs} ms: ${describeOutcome(o)}`);
      } else {
        // QuickJS's interrupt stops it.
        assertStoppedAndRecovered(await runInChild({
          mode, xml: runawayChart(`${backtracking};`), limits: SMALL, events: [['next']], settleMs: 6_000,
        }), 1_500, /limits\.timeMs/);
      }
    });

    test('runaway: a loop whose iterations are expensive built-in calls is stopped near limits.timeMs', T, async () => {
      assertStoppedAndRecovered(await runInChild({
        mode, xml: runawayChart('while (true) { JSON.stringify(new Array(6e4).fill("x")); }'), limits: SMALL, events: [['next']], settleMs: 8_000, killMs: 10_000,
      }), 4_000, /limits\.timeMs/);
    });

    test('runaway: chart code the engine itself runs (a toJSON, replaced built-ins) cannot hang it', T, async () => {
      const sabotage = (onentry: string, onData = '') => scxml(`
<state id="s">
  <onentry>${onentry}</onentry>
  <transition event="data" target="t">${onData}<log label="got" expr="typeof _event.data"/></transition>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
</state>
<state id="t"><transition event="next" target="pass"/></state>
<final id="pass"/>`);
      for (const xml of [
        // exporting the logged value runs its toJSON (isolated: inside the engine's JSON.stringify)
        sabotage('', '<log label="value" expr="({ toJSON: function () { while (true) {} } })"/>'),
        // built-ins the engine uses to bring event data in, replaced by endless loops
        sabotage(script(`var loop = function () { while (true) {} };
          try { JSON.parse = loop; } catch (e) {}
          try { Object.freeze = loop; } catch (e) {}
          try { Object.keys = loop; } catch (e) {}
          try { Array.prototype.forEach = loop; } catch (e) {}
          try { Array.prototype.push = loop; } catch (e) {}`)),
      ]) {
        const o = await runInChild({ mode, xml, limits: SMALL, events: [['data', { a: [1, 2], b: { c: 'd' } }], ['next']], settleMs: 6_000, killMs: 8_000 });
        assert.equal(o.killed, false, `the engine hung (killed): ${describeOutcome(o)}`);
        assert.equal(o.timedOut, false, `the session never ended: ${describeOutcome(o)}`);
        assert.deepEqual(o.hostErrors, [], describeOutcome(o));
        assert.ok(o.result?.final === 'pass' || (o.result?.status === 'error' && /limits\.timeMs/.test(o.result.message ?? '')),
          `the session neither went on nor ended with the runaway named: ${describeOutcome(o)}`);
        assert.ok(o.busyMs < 4_000, `took ${o.busyMs} ms: ${describeOutcome(o)}`);
      }
    });

    /* ---------- memory ---------- */

    const memorySkip = mode === 'fast'
      // The fast sandbox is a node:vm realm sharing the process heap: nothing bounds what a
      // chart allocates, so a memory bomb grows the process until V8 gives up (documented).
      ? { skip: 'fast mode cannot bound memory: documented in docs/guides/sandbox.md' }
      : {};
    test('memory bomb: stopped at limits.memoryBytes, another session of the engine keeps working', { ...T, timeout: 60_000, ...memorySkip }, async () => {
      // The bomb needs ~2,000 iterations of ~2.5 ms (QuickJS fills those arrays slowly) to reach
      // 8 MiB: about 4 s on an idle machine, so timeMs is far above that, and the time budget can
      // never be what stops it on a loaded one (the assertion below wants the memory limit).
      const { engine, logs } = await newEngine(mode, { limits: { memoryBytes: 8 * 1024 * 1024, timeMs: 60_000 } });
      const bomb = engine.start(compile(engine, runawayChart('var a = []; while (true) a.push(new Array(1e5).fill(1));')));
      const other = engine.start(compile(engine, scxml(`
<datamodel><data id="n" expr="0"/></datamodel>
<state id="s">
  <transition event="tick">${script('var list = []; for (var i = 0; i < 1000; i++) list.push({ i: i }); n = n + list.length;')}</transition>
  <transition event="done" cond="n === 3000" target="pass"/>
  <transition event="done" target="fail"/>
</state>
<final id="pass"/>
<final id="fail"/>`), 'other.scxml'));
      other.send('tick');
      await within(engine.whenIdle(), 20_000, 'the engine');
      bomb.send('next');
      other.send('tick');
      other.send('tick');
      other.send('done');
      const [bombResult, otherResult] = await within(Promise.all([bomb.done, other.done]), 45_000);
      const errors = logged(logs, 'error');
      assert.ok(errors.length >= 1, 'no error.execution for the bomb');
      assert.match(errors[0], /memory/i);
      assert.equal(bombResult.final, 'pass', 'the bombing session did not go on');
      assert.equal(otherResult.final, 'pass', 'the other session did not keep working');
    });

    /* ---------- promises and deferred jobs ---------- */

    test('Promise job with an endless loop: the engine neither hangs nor crashes, later events run', T, async () => {
      const xml = scxml(`
<datamodel><data id="seen" expr="0"/></datamodel>
<state id="s">
  <onentry>${script('Promise.resolve().then(function () { while (true) {} });')}</onentry>
  <transition event="ping">${script('seen = seen + 1;')}<log label="ping" expr="'ping ' + seen"/></transition>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`);
      const o = await runInChild({ mode, xml, limits: SMALL, events: [['ping'], ['ping'], ['done']] });
      assert.equal(o.killed, false, describeOutcome(o));
      assert.equal(o.timedOut, false, describeOutcome(o));
      assert.equal(o.result?.final, 'pass', describeOutcome(o));
      assert.deepEqual(o.logs.filter((l) => l.label === 'ping').map((l) => l.value), ['ping 1', 'ping 2']);
      assert.deepEqual(o.hostErrors, [], describeOutcome(o));
    });

    test('rejected promises left unhandled by chart code never reach the host process', T, async () => {
      const xml = scxml(`
<state id="s">
  <onentry>${script('Promise.reject(new Error("left unhandled"));')}</onentry>
  <onentry>${script('(async function () { throw new Error("async throw"); })();')}</onentry>
  <onentry>${script('new Promise(function (resolve, reject) { reject(42); });')}</onentry>
  <onentry>${script('var p = Promise.reject(1); Object.setPrototypeOf(p, null);')}</onentry>
  <onentry>${script('class P extends Promise {} P.reject(2); Object.setPrototypeOf(P.prototype, null); P.reject(3);')}</onentry>
  <onentry>${script('var q = Promise.reject(4); q.__proto__ = Object.create(null); Reflect.setPrototypeOf(Promise.reject(5), {});')}</onentry>
  <onentry>${script('function F() {} F.prototype = Object.create(null); Reflect.construct(Promise, [function (res, rej) { rej(6); }], F);')}</onentry>
  <onentry>${script('var shape = new Proxy({}, { getPrototypeOf: function () { while (true) {} } }); Object.setPrototypeOf(Promise.reject(7), shape);')}</onentry>
  <transition event="later"><log label="later" expr="'compiled later'"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`);
      const o = await runInChild({ mode, xml, limits: SMALL, events: [['later'], ['done']] });
      assert.equal(o.result?.final, 'pass', describeOutcome(o));
      assert.deepEqual(o.hostErrors, [], describeOutcome(o));
    });

    test('a HOST promise left unhandled still gets Node\'s default (the engine absorbs only chart promises)', T, async () => {
      const xml = scxml(`
<state id="s">
  <onentry>${script('Promise.reject(new Error("chart rejection"));')}</onentry>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`);
      const o = await runInChild({
        mode, xml, hostScript: 'Promise.reject(new Error("host rejection")); await new Promise((r) => setTimeout(r, 50));', laterEvents: [['done']],
      });
      assert.deepEqual(o.hostErrors.filter((e) => /host rejection/.test(e)).length, 1, describeOutcome(o));
      assert.deepEqual(o.hostErrors.filter((e) => /chart rejection/.test(e)), [], describeOutcome(o));
    });

    test('a FinalizationRegistry callback never runs chart code on the host\'s event loop', T, async () => {
      const xml = scxml(`
<datamodel><data id="registry"/></datamodel>
<state id="s">
  <onentry>${script('registry = new FinalizationRegistry(function (held) { throw new Error("finalizer ran: " + held); }); (function () { registry.register({ big: new Array(1000) }, "held"); })();')}</onentry>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`);
      const o = await runInChild({
        mode, xml, nodeArgs: ['--expose-gc'],
        hostScript: 'for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }',
        laterEvents: [['done']],
      });
      assert.equal(o.result?.final, 'pass', describeOutcome(o));
      assert.deepEqual(o.hostErrors, [], describeOutcome(o));
    });

    /* ---------- the engine survives whatever the chart leaves behind ---------- */

    test('a deeply nested value logged or exported does not crash the host', T, async () => {
      const xml = scxml(`
<datamodel><data id="o" expr="[]"/></datamodel>
<state id="s">
  <onentry>${script('for (var i = 0; i < 100000; i++) o = [o];')}<log label="deep" expr="o"/></onentry>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`);
      const o = await runInChild({ mode, xml, events: [['done']] });
      if (mode === 'fast') {
        assert.equal(o.killed, false, describeOutcome(o));
        assert.equal(o.timedOut, false, describeOutcome(o));
        assert.equal(o.result?.final, 'pass', describeOutcome(o));
        assert.deepEqual(o.hostErrors, [], describeOutcome(o));
      } else assertSessionContained(o);
    });
  });
}

/* ---------- semantics parity: the same chart, the same outcome in both modes ---------- */

describe('sandbox semantics parity (fast and isolated agree)', () => {
  const cases: { name: string; xml: string; events?: [string, unknown?][]; expect: string }[] = [
    {
      name: 'typeof an undeclared name is "undefined"',
      xml: scxml('<state id="s"><transition cond="typeof neverDeclared === \'undefined\'" target="pass"/><transition target="fail"/></state><final id="pass"/><final id="fail"/>'),
      expect: 'pass',
    },
    {
      name: 'reading an undeclared name raises error.execution',
      xml: scxml(`<state id="s"><onentry><log label="v" expr="neverDeclared"/></onentry>
        <transition event="error.execution" target="pass"/><transition event="*" target="fail"/></state><final id="pass"/><final id="fail"/>`),
      events: [['later']],
      expect: 'pass',
    },
    {
      name: 'var and function declarations of a <script> are visible in later conds',
      xml: scxml(`<state id="s"><onentry>${script('var declared = 41; function inc(x) { return x + 1; }')}</onentry>
        <transition cond="inc(declared) === 42 &amp;&amp; typeof inc === 'function'" target="pass"/><transition target="fail"/></state><final id="pass"/><final id="fail"/>`),
      expect: 'pass',
    },
    {
      name: 'assigning a system variable raises error.execution (<assign> and <script>)',
      xml: scxml(`<state id="s">
        <onentry><assign location="_sessionid" expr="'forged'"/></onentry>
        <onentry>${script('_event = { name: "forged" };')}</onentry>
        <onentry>${script('_name = "forged";')}</onentry>
        <onentry>${script('_ioprocessors = {};')}</onentry>
        <transition event="error.execution" target="t2"/><transition event="*" target="fail"/></state>
        <state id="t2"><transition event="error.execution" target="t3"/><transition event="*" target="fail"/></state>
        <state id="t3"><transition event="error.execution" target="t4"/><transition event="*" target="fail"/></state>
        <state id="t4"><transition event="error.execution" cond="_sessionid !== 'forged' &amp;&amp; _name !== 'forged'" target="pass"/><transition event="*" target="fail"/></state>
        <final id="pass"/><final id="fail"/>`),
      events: [['later']],
      expect: 'pass',
    },
    {
      name: '_event fields',
      xml: scxml(`<state id="s"><transition event="go" cond="_event.name === 'go' &amp;&amp; _event.type === 'external' &amp;&amp; _event.data.k === 1 &amp;&amp; _event.data.list[1] === 'b'
        &amp;&amp; _event.sendid === undefined &amp;&amp; _event.invokeid === undefined &amp;&amp; 'origin' in _event &amp;&amp; 'origintype' in _event" target="pass"/>
        <transition event="*" target="fail"/></state><final id="pass"/><final id="fail"/>`),
      events: [['go', { k: 1, list: ['a', 'b'] }]],
      expect: 'pass',
    },
    {
      name: 'In() of active and inactive states',
      xml: scxml(`<parallel id="p"><state id="a"><state id="a1"/></state><state id="b"/>
        <transition cond="In('a1') &amp;&amp; In('b') &amp;&amp; In('p') &amp;&amp; !In('nope') &amp;&amp; !In('pass')" target="pass"/><transition target="fail"/></parallel>
        <final id="pass"/><final id="fail"/>`),
      expect: 'pass',
    },
    {
      name: 'XML data queried with getElementsByTagName and getAttribute',
      xml: scxml(`<datamodel><data id="d"><books xmlns=""><book id="b1" title="One"/><book id="b2" title="Two"/></books></data></datamodel>
        <state id="s"><transition cond="d.getElementsByTagName('book').length === 2 &amp;&amp; d.getElementsByTagName('book')[1].getAttribute('title') === 'Two'
          &amp;&amp; d.documentElement.nodeName === 'books'" target="pass"/><transition target="fail"/></state><final id="pass"/><final id="fail"/>`),
      expect: 'pass',
    },
    {
      name: 'undeclared assignment in a <script> creates a variable later expressions read',
      xml: scxml(`<state id="s"><onentry>${script('created = 5;')}</onentry><transition cond="created === 5" target="pass"/><transition target="fail"/></state><final id="pass"/><final id="fail"/>`),
      expect: 'pass',
    },
    {
      name: '<assign> to an undeclared location raises error.execution',
      xml: scxml(`<state id="s"><onentry><assign location="notDeclared" expr="1"/></onentry>
        <transition event="error.execution" target="pass"/><transition event="*" target="fail"/></state><final id="pass"/><final id="fail"/>`),
      events: [['later']],
      expect: 'pass',
    },
  ];
  for (const c of cases) {
    test(c.name, T, async () => {
      const finals: Record<string, string | null> = {};
      for (const mode of MODES) {
        const { result } = await runChart(mode, c.xml, { events: c.events ?? [] });
        finals[mode] = result.final;
      }
      assert.deepEqual(finals, { fast: c.expect, isolated: c.expect });
    });
  }
});

/* ---------- <assign location expr>: one call into QuickJS, the same errors ---------- */

describe('<assign> errors name the part that failed (both modes)', () => {
  // Each assignment runs twice (on entry and on the event): the second run uses what the first compiled.
  const twice = (assign: string, setup = '') => scxml(`
<datamodel><data id="target" expr="({})"/><data id="v" expr="1"/></datamodel>
<state id="s">
  <onentry>${setup}${assign}</onentry>
  <transition event="again">${assign}</transition>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
  <transition event="stop" target="end"/>
</state>
<final id="end"/>`);
  const errors = async (mode: Mode, xml: string, limits?: RunOptions['limits']) => {
    const { logs } = await runChart(mode, xml, { events: [['again'], ['stop']], limits });
    return logged(logs, 'error');
  };

  for (const mode of MODES) {
    test(`${mode}: an exception in the expression names the expression`, T, async () => {
      const e = await errors(mode, twice('<assign location="target.slot" expr="missing.value"/>'));
      assert.equal(e.length, 2, e.join('\n'));
      for (const m of e) assert.ok(m.includes("'missing.value'") && !m.includes('target.slot'), m);
    });
    test(`${mode}: an undeclared root names the location`, T, async () => {
      const e = await errors(mode, twice('<assign location="nowhere.slot" expr="1"/>'));
      assert.deepEqual(e, ["cannot assign to 'nowhere.slot': 'nowhere' is not declared", "cannot assign to 'nowhere.slot': 'nowhere' is not declared"]);
    });
    test(`${mode}: an undeclared root whose expression throws names the expression (it runs first)`, T, async () => {
      const e = await errors(mode, twice('<assign location="nowhere.slot" expr="missing.value"/>'));
      assert.equal(e.length, 2, e.join('\n'));
      for (const m of e) assert.ok(m.includes("'missing.value'") && !m.includes('nowhere'), m);
    });
    test(`${mode}: an exception in the assignment names the location`, T, async () => {
      const e = await errors(mode, twice('<assign location="target.deep.slot" expr="\'value\'"/>'));
      assert.equal(e.length, 2, e.join('\n'));
      for (const m of e) assert.ok(m.includes("'target.deep.slot'") && !m.includes('value'), m);
    });
    test(`${mode}: a runaway setter names the location`, T, async () => {
      const e = await errors(mode, twice('<assign location="target.slot" expr="1 + 1"/>', script("Object.defineProperty(target, 'slot', { set: function (x) { for (;;) {} } });")), { timeMs: 100 });
      assert.equal(e.length, 2, e.join('\n'));
      for (const m of e) assert.ok(m.includes("'target.slot'") && /runaway/.test(m) && !m.includes('1 + 1'), m);
    });
    test(`${mode}: a location named v is assigned (not a parameter of the engine's function)`, T, async () => {
      const { result } = await runChart(mode, scxml(`<datamodel><data id="v" expr="1"/></datamodel>
        <state id="s"><onentry><assign location="v" expr="2"/></onentry><transition cond="v === 2" target="pass"/><transition target="fail"/></state>
        <final id="pass"/><final id="fail"/>`));
      assert.equal(result.final, 'pass');
    });
  }
});
