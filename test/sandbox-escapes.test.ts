// Escape attempts against both ECMAScript sandboxes: chart code must never obtain a host
// capability (process, require, the host's global object, a host Function constructor) nor read
// a marker set on the host's global. Every case runs a real chart in both modes; an attempt may
// throw (error.execution is fine), it must never reach the host.
import assert from 'node:assert/strict';
import util from 'node:util';
import { describe, test } from 'node:test';
import {
  assertAllBlocked, compile, HOST_MARKER, logged, MODES, newEngine, probeChart, runChart, script, scxml, within, PROBE_LIB,
} from './sandbox-harness.js';

const T = { timeout: 30_000 };

/** Host capabilities the probes must not change either. */
function assertHostIntact(): void {
  assert.equal((globalThis as Record<string, unknown>).__hostMarker, HOST_MARKER);
  assert.equal(typeof process.env, 'object');
}

for (const mode of MODES) {
  describe(`sandbox escapes [${mode}]`, () => {
    /* ---------- constructor chains from everything the chart is given ---------- */

    test('constructor chains from `this` (script, expression, function)', T, async () => {
      const { logs } = await runChart(mode, probeChart({
        attempts: `
          var topThis = this;
          attempt('this in a script', function () { return topThis; });
          attempt('this in a plain call', function () { return (function () { return this; })(); });
          attempt('this in an arrow', function () { return (() => this)(); });
          attempt('this in a method', function () { return ({ m: function () { return this; } }).m(); });`,
      }), { events: [['done']] });
      assertAllBlocked(logs, ['this in a script', 'this in a plain call', 'this in an arrow', 'this in a method']);
    });

    test('constructor chains from an expression\'s `this`', T, async () => {
      const xml = scxml(`
<datamodel><data id="viaExpr" expr="this"/></datamodel>
<state id="s">
  <onentry>${script(PROBE_LIB)}${script(`attempt('this in a data expr', function () { return viaExpr; });`)}<log label="out" expr="JSON.stringify(out)"/></onentry>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`);
      const { logs } = await runChart(mode, xml, { events: [['done']] });
      assertAllBlocked(logs, ['this in a data expr']);
    });

    test('constructor chains from _event, before and after an event', T, async () => {
      const { logs, result } = await runChart(mode, probeChart({
        attempts: `attempt('_event before any event', function () { return _event; });`,
        onProbe: `
          attempt('_event', function () { return _event; });
          attempt('_event.name', function () { return _event.name; });
          attempt('_event.data', function () { return _event.data; });`,
      }), { events: [['probe', { k: 1 }], ['done']] });
      assert.equal(result.final, 'pass', JSON.stringify(logged(logs, 'error')));
      assertAllBlocked(logs, ['_event before any event', '_event', '_event.name', '_event.data']);
    });

    test('constructor chains from _event.data: objects, arrays, nested, functions dropped', T, async () => {
      class Widget { secret = 'w'; method() { return process; } }
      const hostData = {
        obj: { a: 1 }, arr: [1, { x: 2 }, [3]], nested: { deep: { deeper: { leaf: 'x' } } },
        fn: () => process, bound: process.exit.bind(process), date: new Date(0), err: new Error('host error'),
        map: new Map([[1, 2]]), widget: new Widget(), buffer: Buffer.from('abc'), env: process.env,
      };
      const { logs, result } = await runChart(mode, probeChart({
        onProbe: `
          var d = _event.data;
          ['obj', 'arr', 'nested', 'date', 'err', 'map', 'widget', 'buffer', 'env'].forEach(function (k) { attempt('data.' + k, function () { return d[k]; }); });
          attempt('data.arr[1]', function () { return d.arr[1]; });
          attempt('data.arr[2]', function () { return d.arr[2]; });
          attempt('data.nested.deep.deeper', function () { return d.nested.deep.deeper; });
          attempt('data.widget.method', function () { return d.widget.method; });
          out.push('functions dropped: ' + (typeof d.fn === 'undefined' && typeof d.bound === 'undefined' ? 'yes' : 'NO'));`,
      }), { events: [['probe', hostData], ['done']] });
      assert.equal(result.final, 'pass', JSON.stringify(logged(logs, 'error')));
      const verdicts = assertAllBlocked(logs, ['data.obj', 'data.arr', 'data.nested', 'data.arr[1]', 'data.nested.deep.deeper', 'data.widget', 'data.err']);
      assert.ok(verdicts.includes('functions dropped: yes'), JSON.stringify(verdicts));
    });

    test('constructor chains from initial data passed with engine.start({ data })', T, async () => {
      const p = {
        obj: { a: 1 }, arr: [{ b: 2 }], fn: () => process, date: new Date(0), err: new TypeError('x'),
        cls: new (class K { y = 1; get z() { return process; } })(), map: new Map([['k', process]]), env: process.env,
      };
      const { logs, result } = await runChart(mode, probeChart({
        datamodel: '<data id="p"/><data id="scalar"/>',
        attempts: `
          attempt('p', function () { return p; });
          ['obj', 'arr', 'date', 'err', 'cls', 'map', 'env'].forEach(function (k) { attempt('p.' + k, function () { return p[k]; }); });
          attempt('p.cls.z', function () { return p.cls.z; });
          attempt('p.arr[0]', function () { return p.arr[0]; });
          attempt('scalar', function () { return scalar; });
          out.push('fn dropped: ' + (typeof p.fn === 'undefined' ? 'yes' : 'NO'));`,
      }), { data: { p, scalar: 'text' }, events: [['done']] });
      assert.equal(result.final, 'pass', JSON.stringify(logged(logs, 'error')));
      const verdicts = assertAllBlocked(logs, ['p', 'p.obj', 'p.arr', 'p.arr[0]', 'p.cls', 'p.map', 'p.env', 'scalar']);
      assert.ok(verdicts.includes('fn dropped: yes'), JSON.stringify(verdicts));
    });

    test('host objects themselves passed as data (process, globalThis, a host function) give no capability', T, async () => {
      // Whether the engine copies them as inert data or refuses them, chart code must not get a
      // capability. (The session may fail: see 'cyclic host data' in sandbox-isolation.test.ts.)
      // (Not globalThis: a copy of it would carry the host marker as plain data, handed over by the host.)
      for (const [name, value] of [['process', process], ['require-like', { require: () => process, load: () => globalThis }]] as const) {
        const { logs } = await runChart(mode, probeChart({
          datamodel: '<data id="p"/>',
          attempts: `attempt('p', function () { return p; });
            if (p && typeof p === 'object') Object.keys(p).slice(0, 200).forEach(function (k) { attempt('p.' + k, function () { return p[k]; }); });`,
        }), { data: { p: value }, events: [['done']] });
        const outs = logged(logs, 'out');
        if (outs.length) assert.deepEqual((JSON.parse(outs[outs.length - 1]) as string[]).filter((v) => /REACHED/.test(v)), [], `data '${name}' gave a capability`);
      }
    });

    test('constructor chains from In (and In called with odd arguments)', T, async () => {
      const { logs, result } = await runChart(mode, probeChart({
        attempts: `
          attempt('In', function () { return In; });
          attempt('In.call', function () { return In.call; });
          attempt('In.bind', function () { return In.bind(null); });
          attempt('In(object with toString)', function () { return In({ toString: function () { return 's'; } }); });
          attempt('In(symbol)', function () { return In(Symbol('s')); });
          attempt('In(no argument)', function () { return In(); });
          attempt('In result', function () { return In('s'); });`,
      }), { events: [['done']] });
      assert.equal(result.final, 'pass', JSON.stringify(logged(logs, 'error')));
      assertAllBlocked(logs, ['In', 'In.call', 'In.bind', 'In(object with toString)', 'In result']);
    });

    test('constructor chains from _ioprocessors', T, async () => {
      const { logs, result } = await runChart(mode, probeChart({
        attempts: `
          attempt('_ioprocessors', function () { return _ioprocessors; });
          Object.keys(_ioprocessors).forEach(function (k) {
            attempt('_ioprocessors[' + k + ']', function () { return _ioprocessors[k]; });
            attempt('_ioprocessors[' + k + '].location', function () { return _ioprocessors[k].location; });
          });`,
      }), { events: [['done']] });
      assert.equal(result.final, 'pass', JSON.stringify(logged(logs, 'error')));
      const verdicts = assertAllBlocked(logs, ['_ioprocessors']);
      assert.ok(verdicts.length >= 3, `no processors listed: ${JSON.stringify(verdicts)}`);
    });

    test('constructor chains from a DOM (<data> with XML content)', T, async () => {
      const { logs, result } = await runChart(mode, probeChart({
        datamodel: '<data id="d"><a x="1"><b/>text<!-- c --></a></data>',
        attempts: `
          attempt('d', function () { return d; });
          attempt('d.constructor.constructor', function () { return d.constructor.constructor; });
          attempt('d.documentElement', function () { return d.documentElement; });
          attempt('d.documentElement.constructor', function () { return d.documentElement.constructor; });
          attempt('attributes', function () { return d.documentElement.attributes; });
          attempt('an attribute', function () { return d.documentElement.attributes[0]; });
          attempt('childNodes', function () { return d.documentElement.childNodes; });
          attempt('a text node', function () { return d.documentElement.childNodes[1]; });
          attempt('a comment', function () { return d.documentElement.childNodes[2]; });
          attempt('implementation', function () { return d.implementation; });
          attempt('ownerDocument', function () { return d.documentElement.ownerDocument; });
          attempt('getElementsByTagName', function () { return d.getElementsByTagName('b'); });
          out.push('is a DOM: ' + d.documentElement.getAttribute('x'));`,
      }), { events: [['done']] });
      assert.equal(result.final, 'pass', JSON.stringify(logged(logs, 'error')));
      const verdicts = assertAllBlocked(logs, ['d', 'd.constructor.constructor', 'd.documentElement', 'attributes', 'childNodes', 'implementation', 'getElementsByTagName']);
      assert.ok(verdicts.includes('is a DOM: 1'), JSON.stringify(verdicts));
    });

    test('constructor chains from a DOM sent by another session (<send><content><x/></content></send>)', T, async () => {
      const { engine, logs } = await newEngine(mode);
      const receiverId = `receiver-${mode}`;
      const receiver = engine.start(compile(engine, probeChart({
        onProbe: `
          attempt('_event.data (DOM)', function () { return _event.data; });
          attempt('_event.data.documentElement', function () { return _event.data.documentElement; });
          attempt('_event.data.documentElement.firstChild', function () { return _event.data.documentElement.firstChild; });
          out.push('received: ' + _event.data.documentElement.nodeName + ' ' + _event.data.documentElement.getAttribute('a'));`,
      })), { sessionId: receiverId });
      const sender = engine.start(compile(engine, scxml(`
<datamodel><data id="peer"/></datamodel>
<state id="s">
  <onentry><send event="probe" targetexpr="'#_scxml_' + peer"><content><x a="1"><y/></x></content></send></onentry>
  <transition event="done" target="end"/>
</state>
<final id="end"/>`), 'sender.scxml'), { data: { peer: receiverId } });
      await within(engine.whenIdle(), 10_000, 'the engine');
      receiver.send('done');
      sender.send('done');
      const result = await within(receiver.done, 10_000);
      assert.equal(result.final, 'pass', JSON.stringify(logged(logs, 'error')));
      const verdicts = assertAllBlocked(logs, ['_event.data (DOM)', '_event.data.documentElement']);
      assert.ok(verdicts.some((v) => /^received: x 1/.test(v)), JSON.stringify(verdicts));
    });

    test('a module variable whose definition fails on the host: chart code gets its own TypeError, never the host error', T, async () => {
      const { engine, logs } = await newEngine(mode);
      engine.addHooks({ variables: { _boom: () => { throw new Error('host failure'); } } });
      const session = engine.start(compile(engine, probeChart({
        attempts: `
          attempt('the error of _boom', function () { try { return _boom; } catch (e) { return e; } });
          out.push('then: ' + typeof _boom);`,
      })));
      session.send('done');
      const result = await within(session.done, 10_000);
      assert.equal(result.final, 'pass', JSON.stringify(logged(logs, 'error')));
      const verdicts = assertAllBlocked(logs, ['the error of _boom']);
      assert.ok(verdicts.includes('then: undefined'), JSON.stringify(verdicts));
      // What the first read threw: this sandbox's own TypeError, with the variable's name.
      const probe = engine.start(compile(engine, scxml(`
<state id="s"><onentry><script>try { _boom; } catch (e) { _data.seen = (e instanceof TypeError) + ' ' + e.message; }</script>
  <log label="seen" expr="_data.seen"/></onentry></state>`)));
      await within(engine.whenIdle(), 10_000, 'the engine');
      probe.stop();
      assert.deepEqual(logged(logs, 'seen'), ['true _boom is not available']);
    });

    /* ---------- code generation ---------- */

    const codegen: [string, string][] = [
      ['Function("return this")()', `attempt('Function return this', function () { return Function('return this')(); });
        attempt('Function return process', function () { return Function('return process')(); });`],
      ['new Function(...)', `attempt('new Function', function () { return new Function('return process')(); });
        attempt('new Function globalThis', function () { return new Function('return globalThis')(); });`],
      ['eval (direct)', `attempt('eval process', function () { return eval('process'); });
        attempt('eval this', function () { return eval('this'); });
        attempt('eval globalThis', function () { return eval('globalThis'); });`],
      ['indirect eval', `attempt('(0, eval)', function () { return (0, eval)('this'); });
        attempt('globalThis.eval', function () { return globalThis.eval('process'); });
        attempt('eval via call', function () { return eval.call(null, 'globalThis'); });`],
      ['setTimeout / setInterval with a string', `attempt('setTimeout string', function () { return setTimeout('globalThis.__leak = process', 0); });
        attempt('setInterval string', function () { return setInterval('globalThis.__leak = process', 0); });
        attempt('queueMicrotask', function () { return queueMicrotask(function () {}); });`],
      ['(async function(){}).constructor', `attempt('AsyncFunction', function () { return (async function () {}).constructor; });
        attempt('AsyncFunction made', function () { return (async function () {}).constructor('return process'); });`],
      ['(function*(){}).constructor', `attempt('GeneratorFunction', function () { return (function* () {}).constructor; });
        attempt('GeneratorFunction run', function () { return (function* () {}).constructor('yield process')().next().value; });`],
      ['(async function*(){}).constructor', `attempt('AsyncGeneratorFunction', function () { return (async function* () {}).constructor; });
        attempt('AsyncGeneratorFunction made', function () { return (async function* () {}).constructor('yield process'); });`],
      ['Reflect.construct(Function, ...)', `attempt('Reflect.construct', function () { return Reflect.construct(Function, ['return this'])(); });
        attempt('Reflect.apply', function () { return Reflect.apply(Function, null, ['return process'])(); });`],
      ['Function.prototype.constructor of built-ins', `attempt('Math.max.constructor', function () { return Math.max.constructor('return process')(); });
        attempt('[].map.constructor', function () { return [].map.constructor('return this')(); });
        attempt('Symbol.constructor', function () { return Symbol.constructor('return this')(); });`],
    ];
    for (const [technique, attempts] of codegen) {
      test(`code generation: ${technique}`, T, async () => {
        const { logs } = await runChart(mode, probeChart({ attempts }), { events: [['done']] });
        const names = [...attempts.matchAll(/attempt\('([^']+)'/g)].map((m) => m[1]);
        assertAllBlocked(logs, names);
        assertHostIntact();
      });
    }

    /* ---------- stack-trace machinery ---------- */

    test('Error.prepareStackTrace returning frames, then frame.getThis()/getFunction()', T, async () => {
      const { logs } = await runChart(mode, probeChart({
        attempts: `
          function framesOf(e) {
            var frames = e.stack, found = null;
            if (frames && typeof frames === 'object' && typeof frames.length === 'number') {
              for (var i = 0; i < frames.length; i++) {
                try { var t = frames[i].getThis(); found = found || hostish(t) || chains(t); } catch (x) {}
                try { var f = frames[i].getFunction(); found = found || hostish(f) || chains(f); } catch (x) {}
              }
            }
            return found;
          }
          attempt('assign Error.prepareStackTrace', function () { Error.prepareStackTrace = function (e, frames) { return frames; }; return Error.prepareStackTrace; });
          attempt('defineProperty Error.prepareStackTrace', function () { Object.defineProperty(Error, 'prepareStackTrace', { value: function (e, frames) { return frames; } }); return null; });
          attempt('frames of a chart error', function () { return framesOf(new Error('x')); });
          attempt('frames of an engine error', function () { try { undeclaredName; } catch (e) { return framesOf(e); } });
          ${mode === 'fast' ? "attempt('frames of a stack overflow', function () { function r() { return r(); } try { r(); } catch (e) { return framesOf(e); } });" : '// (isolated: a stack overflow corrupts QuickJS, see the runaway tests)'}`,
      }), { events: [['done']] });
      assertAllBlocked(logs, ['frames of a chart error', 'frames of an engine error']);
    });

    test('Error.captureStackTrace and the stack string', T, async () => {
      const { logs } = await runChart(mode, probeChart({
        attempts: `
          attempt('captureStackTrace', function () { var o = {}; Error.captureStackTrace(o); return o.stack; });
          attempt('captureStackTrace with a function', function () { var o = {}; Error.captureStackTrace(o, attempt); return o; });
          attempt('stack of an engine ReferenceError', function () { try { notDeclaredAnywhere; } catch (e) { return e.stack; } });`,
      }), { events: [['done']] });
      assertAllBlocked(logs, ['captureStackTrace', 'stack of an engine ReferenceError']);
    });

    test('getters on a thrown value (message, name, stack) read by the engine', T, async () => {
      const xml = scxml(`
<state id="s">
  <onentry>${script(PROBE_LIB)}</onentry>
  <onentry>${script(`
    function record(what, self, args) {
      attempt(what + ' this', function () { return self; });
      attempt(what + ' arguments', function () { return args; });
      for (var i = 0; i < args.length; i++) { var a = args[i]; attempt(what + ' argument ' + i, function () { return a; }); }
    }
    var thrown = {
      get message() { record('message getter', this, arguments); return 'thrown by the chart'; },
      get name() { record('name getter', this, arguments); return 'ChartError'; },
      get stack() { record('stack getter', this, arguments); return 'no stack'; },
      toString: function () { record('toString', this, arguments); return 'ChartError: thrown'; }
    };
    var err = new Error('with a stack getter');
    Object.defineProperty(err, 'stack', { get: function () { record('Error stack getter', this, arguments); return 's'; } });
    var which = 0;`)}</onentry>
  <onentry>${script('throw thrown;')}</onentry>
  <onentry>${script('throw err;')}</onentry>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
  <transition event="done" target="pass"><log label="out" expr="JSON.stringify(out)"/></transition>
</state>
<final id="pass"/>`);
      const { logs, result } = await runChart(mode, xml, { events: [['done']] });
      assert.equal(result.final, 'pass');
      const outs = logged(logs, 'out');
      const verdicts = JSON.parse(outs[outs.length - 1]) as string[];
      assert.deepEqual(verdicts.filter((v) => /REACHED/.test(v)), []);
      assert.equal(logged(logs, 'error').length, 2, 'both throws become error.execution');
    });

    /* ---------- the host itself ---------- */

    test('host globals are not in scope: process, require, module, Buffer, global, the host marker', T, async () => {
      const { logs } = await runChart(mode, probeChart({
        attempts: `
          attempt('process', function () { return process; });
          attempt('process.env', function () { return process.env; });
          attempt('globalThis.process', function () { return globalThis.process; });
          attempt('require', function () { return require('fs'); });
          attempt('module', function () { return module.constructor; });
          attempt('Buffer', function () { return Buffer.from('x'); });
          attempt('global', function () { return global; });
          attempt('__hostMarker', function () { return __hostMarker; });
          attempt('globalThis.__hostMarker', function () { return globalThis.__hostMarker; });
          attempt('globalThis["__hostMarker"] by key', function () { return globalThis['__host' + 'Marker']; });
          out.push('typeof: ' + [typeof process, typeof require, typeof module, typeof Buffer, typeof global, typeof __hostMarker,
            typeof globalThis.__hostMarker, typeof setTimeout, typeof setImmediate].join(','));`,
      }), { events: [['done']] });
      const verdicts = assertAllBlocked(logs, ['process', 'process.env', 'globalThis.process', 'require', '__hostMarker', 'globalThis.__hostMarker']);
      assert.ok(verdicts.includes('typeof: undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined'), JSON.stringify(verdicts));
    });

    test('dynamic import("fs") and its rejection reason', T, async () => {
      // Each attempt is its own script: an engine may refuse import() at compile time.
      const { engine, logs } = await newEngine(mode);
      const session = engine.start(compile(engine, probeChart({
        tolerateErrors: true,
        attempts: [
          `attempt('import() itself', function () { var pending = import('fs'); pending.catch(function () {}); return pending; });`,
          `import('fs').then(function (m) { out.push('import resolved: ' + (hostish(m) || 'REACHED a module')); },
            function (e) { out.push('import rejection reason: ' + (hostish(e) || chains(e) || 'blocked')); });`,
          `import('node:process').catch(function (e) { out.push('import node:process rejection: ' + (hostish(e) || chains(e) || 'blocked')); });`,
          `(async function () { try { await import('fs'); } catch (e) { out.push('awaited import rejection: ' + (hostish(e) || chains(e) || 'blocked')); } })();`,
        ],
        // Compiling another piece of code lets the fast realm run its pending promise jobs; the
        // probe waits a few host turns first, so that a rejection Node delivers later has arrived.
        onProbe: `out.push('probed');`,
      })));
      await engine.whenIdle();
      await new Promise((resolve) => setTimeout(resolve, 50));
      session.send('probe');
      session.send('done');
      await within(session.done, 10_000);
      const verdicts = assertAllBlocked(logs, []);
      assert.ok(verdicts.includes('probed'), JSON.stringify(verdicts));
    });

    test('Symbol.unscopables and `with` against the scope', T, async () => {
      const xml = scxml(`
<state id="s">
  <onentry>${script(PROBE_LIB)}</onentry>
  <onentry>${script(`
    attempt('unscopables on globalThis', function () { globalThis[Symbol.unscopables] = { process: true, require: true, leak: true }; return process; });
    attempt('unscopables then require', function () { return require; });
    attempt('Object.prototype unscopables', function () { Object.prototype[Symbol.unscopables] = { process: true }; return process; });`)}</onentry>
  <onentry>${script(`with (globalThis) { attempt('with (globalThis)', function () { return process; }); }`)}</onentry>
  <onentry>${script(`with ({}) { attempt('with ({}) then this', function () { return (function () { return this; })(); }); }`)}</onentry>
  <onentry>${script(`with (new Proxy({}, { has: function () { return true; }, get: function (t, k) { return k === Symbol.unscopables ? undefined : undefined; } })) { attempt('with (proxy)', function () { return globalThis; }); }`)}</onentry>
  <onentry><log label="out" expr="JSON.stringify(out)"/></onentry>
  <transition event="error.execution"><log label="error" expr="_event.data.message"/></transition>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`);
      const { logs, result } = await runChart(mode, xml, { events: [['done']] });
      assert.equal(result.final, 'pass');
      assertAllBlocked(logs, ['unscopables on globalThis', 'unscopables then require']);
      // `with` is a syntax error in the fast mode (strict code); in the isolated mode it runs.
      if (mode === 'fast') for (const e of logged(logs, 'error')) assert.match(e, /strict|with|syntax/i);
    });

    test('engine helper names (__orx_*): reassigning, calling with odd arguments, shadowing', T, async () => {
      // Each attempt is its own script: an engine may refuse the reserved names at compile time.
      const { logs, result } = await runChart(mode, probeChart({
        tolerateErrors: true,
        attempts: [
          `['__orx_t', '__orx_v', '__orx_u', '__orx_g', '__orx_tick', '__orx_s', '__orx_typeof', '__orx_target', '__orx_xml'].forEach(function (name) {
            attempt('read ' + name, function () { return globalThis[name]; });
          });`,
          `attempt('__orx_tick = null', function () { __orx_tick = null; return null; });`,
          `attempt('__orx_tick()', function () { return __orx_tick(); });`,
          `attempt('__orx_u("x")', function () { return __orx_u('x'); });`,
          `attempt('__orx_g(null)', function () { return __orx_g(null); });`,
          `attempt('__orx_g({}).process', function () { return __orx_g({}).process; });`,
          `attempt('__orx_g({}) view', function () { return __orx_g({}); });`,
          `attempt('__orx_g(Object.prototype)', function () { return __orx_g(Object.prototype).constructor; });`,
          `attempt('__orx_g(In)', function () { return __orx_g(In); });`,
          `attempt('__orx_t', function () { return __orx_t; });`,
          `attempt('__orx_typeof(odd)', function () { return __orx_typeof({ __orx_target: { process: 1 } }, 'process'); });`,
          `attempt('shadowed __orx_t', function () { return (function (__orx_t) { return probeTarget; })({ probeTarget: globalThis }); });`,
          `attempt('var __orx_t', function () { var __orx_t = null; return typeof someUndeclaredName; });`,
          `attempt('__orx_xml revival', function () { var o = {}; o.__orx_xml = '<a/>'; return o; });`,
        ],
      }), { events: [['done']] });
      assert.equal(result.final, 'pass', JSON.stringify(logged(logs, 'error')));
      assertAllBlocked(logs, ['read __orx_t']);
    });

    /* ---------- chart values reaching host code ---------- */

    test('a <log> value the host inspects (util.inspect, as console.log does)', T, async () => {
      const inspected: string[] = [];
      const { logs } = await runChart(mode, scxml(`
<state id="s">
  <onentry>${script(PROBE_LIB)}</onentry>
  <onentry>${script(`
    var custom = {};
    custom[Symbol.for('nodejs.util.inspect.custom')] = function (depth, options, inspect) {
      var found = null;
      for (var i = 0; i < arguments.length; i++) { var a = arguments[i]; found = found || hostish(a) || chains(a); }
      try { found = found || hostish(options.stylize) || chains(options.stylize); } catch (e) {}
      out.push('custom inspect: ' + (found || 'blocked'));
      return found || 'blocked';
    };`)}<log label="value" expr="custom"/><log label="out" expr="JSON.stringify(out)"/></onentry>
  <transition event="done" target="pass"/>
</state>
<final id="pass"/>`), { events: [['done']], onLog: (e) => { if (e.label === 'value') inspected.push(util.inspect(e.value)); } });
      assert.ok(inspected.length === 1);
      assert.doesNotMatch(inspected[0], /REACHED/, `the host's inspect handed chart code a capability: ${inspected[0]}`);
      assert.deepEqual(logged(logs, 'out').filter((v) => /REACHED/.test(v)), []);
    });

    test('doneData the host inspects: a DOM and a class instance', T, async () => {
      for (const content of ['d', 'new Widget()']) {
        const { result } = await runChart(mode, scxml(`
<datamodel><data id="d"><a/></data></datamodel>
<state id="s">
  <onentry>${script(PROBE_LIB)}</onentry>
  <onentry>${script(`
    // Self-contained: the host inspects doneData after the session (and its variables) are gone.
    function customInspect(depth, options, inspect) {
      var found = 'blocked';
      for (var i = 0; i < arguments.length; i++) {
        var a = arguments[i];
        [function () { return a.constructor('return process')(); }, function () { return a.constructor.constructor('return process')(); },
         function () { return a.stylize.constructor('return process')(); }].forEach(function (get) {
          try { var p = get(); if (p && typeof p.pid === 'number') found = 'REACHED process'; } catch (e) {}
        });
      }
      return found;
    }
    d[Symbol.for('nodejs.util.inspect.custom')] = customInspect;
    class Widget { constructor() { this.x = 1; } }
    Widget.prototype[Symbol.for('nodejs.util.inspect.custom')] = customInspect;`)}</onentry>
  <transition event="done" target="end"/>
</state>
<final id="end"><donedata><content expr="${content}"/></donedata></final>`), { events: [['done']] });
        assert.equal(result.final, 'end');
        const text = util.inspect(result.doneData, { depth: 5 });
        assert.doesNotMatch(text, /REACHED/, `doneData (${content}) handed chart code a capability when inspected: ${text}`);
      }
      assertHostIntact();
    });
  });
}
