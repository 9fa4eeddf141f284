// The adapter registry (src/tserver/registry.ts): switches by name, DN → switch, calls across
// switches, and one event stream over every adapter.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../src/runtime/clock.js';
import type { CallEvent, TServerAdapter } from '../src/tserver/adapter.js';
import { AdapterRegistry } from '../src/tserver/registry.js';
import { createSimulatedSwitches } from '../src/tserver/sim/index.js';

function twoSwitches() {
  const clock = new VirtualClock();
  const [a, b] = createSimulatedSwitches({
    switches: [
      { name: 'SIP_Switch', dns: [{ range: '5000-5001', type: 'routingpoint' }, { range: '9000-9001', type: 'agent' }, { dn: '7777', type: 'extension' }] },
      { name: 'Other', dns: [{ dn: '6000', type: 'routingpoint' }, { dn: '7777', type: 'extension' }, { dn: '8000', type: 'agent' }] },
    ],
  }, clock);
  return { clock, a, b };
}

describe('AdapterRegistry', () => {
  test('register, get, has, all (registration order), duplicates refused', () => {
    const { a, b } = twoSwitches();
    const registry = new AdapterRegistry([a]);
    registry.register(b);
    assert.equal(registry.get('SIP_Switch'), a);
    assert.equal(registry.get('Other'), b);
    assert.equal(registry.get('Nope'), undefined);
    assert.ok(registry.has('Other') && !registry.has('Nope'));
    assert.deepEqual(registry.all(), [a, b]);
    assert.throws(() => registry.register(a), /already registered/);
  });

  test('switchOfDn: the first registered switch that has the DN', () => {
    const { a, b } = twoSwitches();
    const registry = new AdapterRegistry([a, b]);
    assert.equal(registry.switchOfDn('9000'), a);
    assert.equal(registry.switchOfDn('8000'), b);
    assert.equal(registry.switchOfDn('7777'), a, 'both have it: registration order decides');
    assert.equal(registry.switchOfDn('+331'), undefined, 'external numbers belong to no switch');
    assert.equal(registry.switchOfDn('1234'), undefined);
  });

  test('call and adapterOfCall across adapters', () => {
    const { a, b } = twoSwitches();
    const registry = new AdapterRegistry([a, b]);
    const onA = a.inboundCall('+1', '5000');
    const onB = b.inboundCall('+1', '6000');
    assert.deepEqual(registry.call(onA.callId), onA);
    assert.deepEqual(registry.call(onB.callId), onB);
    assert.equal(registry.adapterOfCall(onB.callId), b);
    assert.equal(registry.call('0000000000000099'), undefined);
    assert.equal(registry.adapterOfCall('nope'), undefined);
  });

  test('onEvent: one stream over every adapter, with the adapter; later registrations included; unregister stops it', async () => {
    const { clock, a, b } = twoSwitches();
    const registry = new AdapterRegistry([a]);
    const seen: [string, string][] = [];
    const off = registry.onEvent((event: CallEvent, adapter: TServerAdapter) => seen.push([event.type, adapter.switchName]));
    registry.register(b);
    a.inboundCall('+1', '5000');
    b.inboundCall('+1', '6000');
    clock.advanceBy(0);
    assert.deepEqual(seen, [['call.created', 'SIP_Switch'], ['call.created', 'Other']]);
    assert.ok(registry.unregister('Other'));
    assert.ok(!registry.unregister('Other'));
    assert.deepEqual(registry.all(), [a]);
    b.inboundCall('+2', '6000');
    a.setConnected(false);
    clock.advanceBy(0);
    assert.deepEqual(seen.slice(2), [['link', 'SIP_Switch']]);
    off();
    a.setConnected(true);
    clock.advanceBy(0);
    assert.equal(seen.length, 3);
  });
});
