// The trace: every record a varied run produces validates against schemas/trace.schema.json,
// the listener API and node:diagnostics_channel deliver the same records, and records come in
// the order the algorithm does things.
import assert from 'node:assert/strict';
import diagnostics_channel from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { createEngine, TRACE_CHANNEL, VirtualClock, type TraceEvent } from '../src/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const schema = JSON.parse(readFileSync(path.join(repo, 'schemas', 'trace.schema.json'), 'utf8')) as Schema;

/** The JSON Schema subset the trace schema uses: type, const, enum, properties, required, additionalProperties, items, oneOf. */
interface Schema {
  type?: string | string[]; const?: unknown; enum?: unknown[]; properties?: Record<string, Schema>;
  required?: string[]; additionalProperties?: boolean; items?: Schema; oneOf?: Schema[];
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'number' ? 'number' : typeof v;
}

/** Problems with `value` against `s` (empty when valid). */
function validate(value: unknown, s: Schema, at = '$'): string[] {
  if (s.oneOf) {
    const matching = s.oneOf.filter((alt) => validate(value, alt, at).length === 0);
    return matching.length === 1 ? [] : [`${at}: matches ${matching.length} of the oneOf alternatives`];
  }
  const problems: string[] = [];
  if (s.type) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.includes(typeOf(value))) return [`${at}: ${typeOf(value)} is not ${types.join('|')}`];
  }
  if ('const' in s && value !== s.const) problems.push(`${at}: not ${JSON.stringify(s.const)}`);
  if (s.enum && !s.enum.includes(value)) problems.push(`${at}: not one of ${JSON.stringify(s.enum)}`);
  if (s.properties && value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) problems.push(`${at}: missing ${r}`);
    for (const [k, v] of Object.entries(o)) {
      if (s.properties[k]) problems.push(...validate(v, s.properties[k], `${at}.${k}`));
      else if (s.additionalProperties === false) problems.push(`${at}: unexpected ${k}`);
    }
  }
  if (s.items && Array.isArray(value)) value.forEach((v, i) => problems.push(...validate(v, s.items!, `${at}[${i}]`)));
  return problems;
}

const CHART = `<scxml xmlns="http://www.w3.org/2005/07/scxml" xmlns:ixn="http://www.genesyslab.com/modules/interaction"
  version="1.0" datamodel="ecmascript" name="traced" initial="a">
  <datamodel><data id="n" expr="0"/></datamodel>
  <state id="a">
    <onentry>
      <log label="hello" expr="{ n: n }"/>
      <send id="later" event="tick" delay="1s"/>
      <send id="never" event="never" delay="5s"/>
      <cancel sendid="never"/>
      <ixn:createcall from="'1000'" to="'1001'"/>
      <assign location="nope.deeper" expr="1"/>
    </onentry>
    <invoke id="kid"><content><scxml version="1.0" datamodel="ecmascript"><final id="k"/></scxml></content></invoke>
    <transition event="tick" target="b"/>
  </state>
  <state id="b"><transition event="done.invoke.kid" target="end"/><transition event="tick2" target="end"/>
    <onentry><send event="tick2" delay="10ms"/></onentry>
  </state>
  <final id="end"/>
</scxml>`;

describe('trace', () => {
  test('every record of a varied run validates against schemas/trace.schema.json, and every type occurs', async () => {
    const engine = createEngine({ clock: new VirtualClock() });
    const records: TraceEvent[] = [];
    engine.onTrace((r) => records.push(r));
    const { chart, diagnostics } = engine.load({ xml: CHART, file: 'traced.scxml' });
    assert.ok(chart, JSON.stringify(diagnostics));
    const session = engine.start(chart);
    await session.done;
    await engine.whenIdle();
    for (const r of records) assert.deepEqual(validate(JSON.parse(JSON.stringify(r)), schema), [], JSON.stringify(r));
    const types = new Set(records.map((r) => r.type));
    for (const t of ['session.start', 'session.end', 'macrostep', 'microstep', 'enter', 'exit', 'error', 'log',
      'send.scheduled', 'send.fired', 'send.cancelled', 'invoke.start', 'invoke.done', 'adapter.request', 'adapter.response']) {
      assert.ok(types.has(t as TraceEvent['type']), `no ${t} record in ${[...types].join(', ')}`);
    }
    const error = records.find((r) => r.type === 'error')!;
    assert.match((error as { location: string }).location, /^traced\.scxml:\d+:\d+$/, 'errors carry the element location');
    const sched = records.find((r) => r.type === 'send.scheduled' && r.sendid === 'later') as { due: number };
    assert.equal(sched.due, 1000, 'absolute due time on the engine clock');
  });

  test('records come in algorithm order: exit before the transition content, enter after', async () => {
    const engine = createEngine({ clock: new VirtualClock() });
    const seen: string[] = [];
    engine.onTrace((r) => {
      if (r.type === 'enter' || r.type === 'exit') seen.push(`${r.type} ${r.state}`);
      if (r.type === 'microstep') seen.push(`microstep ${r.event ?? ''}`);
    });
    const { chart } = engine.load({ xml: `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" initial="p">
      <state id="p" initial="c"><state id="c"><transition event="go" target="d"/></state><state id="d"/></state></scxml>`, file: 'o.scxml' });
    const session = engine.start(chart!);
    session.send('go');
    await engine.whenIdle();
    assert.deepEqual(seen, ['enter p', 'enter c', 'microstep go', 'exit c', 'enter d']);
    session.stop();
  });

  test('node:diagnostics_channel and session.on() deliver the same records', async () => {
    const engine = createEngine({ clock: new VirtualClock() });
    const fromChannel: unknown[] = [];
    const onMessage = (m: unknown) => fromChannel.push(m);
    diagnostics_channel.subscribe(TRACE_CHANNEL, onMessage);
    try {
      const { chart } = engine.load({ xml: `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0"><final id="f"/></scxml>`, file: 'c.scxml' });
      const session = engine.start(chart!);
      const fromSession: unknown[] = [];
      session.on((r) => fromSession.push(r));
      await session.done;
      assert.ok(fromSession.length > 0);
      assert.deepEqual(fromSession, fromChannel.filter((r) => (r as TraceEvent).session === session.id));
    } finally {
      diagnostics_channel.unsubscribe(TRACE_CHANNEL, onMessage);
    }
  });

  test('a logger receives <log> entries and the engine warnings', async () => {
    const entries: { level: string; obj: object; msg?: string }[] = [];
    const logger = {
      info: (obj: object, msg?: string) => entries.push({ level: 'info', obj, msg }),
      warn: (obj: object, msg?: string) => entries.push({ level: 'warn', obj, msg }),
      error: (obj: object, msg?: string) => entries.push({ level: 'error', obj, msg }),
    };
    const engine = createEngine({ clock: new VirtualClock(), logger });
    const { chart } = engine.load({ xml: `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript"><final id="f"><onentry><log label="x" expr="1 + 1"/></onentry></final></scxml>`, file: 'l.scxml' });
    await engine.start(chart!).done;
    assert.deepEqual(entries.map((e) => [e.level, e.msg, (e.obj as { label: string }).label, (e.obj as { value: number }).value]), [['info', 'log', 'x', 2]]);
    engine.warn('something to know', { about: 'test' });
    assert.equal(entries.at(-1)!.level, 'warn');
  });
});
