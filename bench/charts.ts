// The benchmark charts, in SCXML (Orchestrion and SCION run the same text) and as hand-written
// XState v5 machines that do the same work (XState has no SCXML loader).
import { assign, createMachine, type AnyStateMachine } from 'xstate';

const SCXML_NS = 'xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript"';

/**
 * ping/pong: two states toggling on one event. Each transition reads the counter in its cond
 * and increments it in an assign, so every event is one cond, one assign, one exit, one entry,
 * and after N events `count` is N (the benchmark checks it).
 */
export const PINGPONG_SCXML = `<scxml ${SCXML_NS} initial="ping">
  <datamodel><data id="count" expr="0"/><data id="limit" expr="1000000000000"/></datamodel>
  <state id="ping">
    <transition event="tick" cond="count &lt; limit" target="pong"><assign location="count" expr="count + 1"/></transition>
  </state>
  <state id="pong">
    <transition event="tick" cond="count &lt; limit" target="ping"><assign location="count" expr="count + 1"/></transition>
  </state>
</scxml>`;

export function pingPongMachine(): AnyStateMachine {
  const step = {
    guard: ({ context }: { context: { count: number; limit: number } }) => context.count < context.limit,
    actions: assign({ count: ({ context }: { context: { count: number } }) => context.count + 1 }),
  };
  return createMachine({
    id: 'pingpong',
    initial: 'ping',
    context: () => ({ count: 0, limit: 1e12 }),
    states: {
      ping: { on: { tick: { target: 'pong', ...step } } },
      pong: { on: { tick: { target: 'ping', ...step } } },
    },
  } as any);
}

/**
 * deep: a parallel of two regions, each three compound levels deep (a > a1 > a2 > a3). The
 * event, handled in the innermost state of both regions, targets a1: an external transition
 * whose domain is the region, so each event exits a3, a2, a1 and enters a1, a2, a3 in both
 * regions (12 state changes, two transitions selected in one microstep).
 */
export const DEEP_SCXML = `<scxml ${SCXML_NS} initial="p">
  <parallel id="p">
    <state id="a" initial="a1">
      <state id="a1" initial="a2"><state id="a2" initial="a3"><state id="a3"><transition event="go" target="a1"/></state></state></state>
    </state>
    <state id="b" initial="b1">
      <state id="b1" initial="b2"><state id="b2" initial="b3"><state id="b3"><transition event="go" target="b1"/></state></state></state>
    </state>
  </parallel>
</scxml>`;

/** The deep chart in XState; `onEntry` (verification only) is called with each state entered. */
export function deepMachine(onEntry?: (id: string) => void): AnyStateMachine {
  const entry = (id: string) => (onEntry ? { entry: () => onEntry(id) } : {});
  const region = (r: string) => ({
    initial: `${r}1`,
    states: {
      [`${r}1`]: {
        id: `${r}1`, ...entry(`${r}1`), initial: `${r}2`,
        states: {
          [`${r}2`]: {
            ...entry(`${r}2`), initial: `${r}3`,
            // reenter: exit and re-enter a1 (the SCXML external transition), not a targetless no-op.
            states: { [`${r}3`]: { ...entry(`${r}3`), on: { go: { target: `#${r}1`, reenter: true } } } },
          },
        },
      },
    },
  });
  return createMachine({ id: 'deep', type: 'parallel', states: { a: region('a'), b: region('b') } } as any);
}

/** start: a 10-state chart with a small datamodel (three variables); sessions rest in s0. */
export const START_SCXML = `<scxml ${SCXML_NS} initial="s0">
  <datamodel><data id="step" expr="0"/><data id="caller" expr="'1001'"/><data id="retries" expr="3"/></datamodel>
${Array.from({ length: 10 }, (_, i) => `  <state id="s${i}"><transition event="next" target="s${(i + 1) % 10}"><assign location="step" expr="step + 1"/></transition></state>`).join('\n')}
</scxml>`;

export function startMachine(): AnyStateMachine {
  const states: Record<string, unknown> = {};
  for (let i = 0; i < 10; i++) {
    states[`s${i}`] = { on: { next: { target: `s${(i + 1) % 10}`, actions: assign({ step: ({ context }: { context: { step: number } }) => context.step + 1 }) } } };
  }
  return createMachine({ id: 'start', initial: 's0', context: () => ({ step: 0, caller: '1001', retries: 3 }), states } as any);
}

/**
 * ixn:privateservice round trip: take the inbound call, route it to agent 9000 (answers at once
 * on the benchmark topology), then ask the SIP Server for Advice of Charge to 9000 again and
 * again, each request sent when the previous one's voice.privateservice.done arrived.
 */
export function privateServiceScxml(requests: number): string {
  return `<scxml ${SCXML_NS} xmlns:ixn="http://www.genesyslab.com/modules/interaction" initial="waiting">
  <datamodel><data id="ixnid"/><data id="reqid"/><data id="n" expr="0"/><data id="total" expr="${requests}"/>
    <data id="ext" expr="({'AOC-Destination-DN': '9000', 'AOC-Type': 'D', 'AOC-Currency': 'EUR', 'AOC-Amount': '150'})"/></datamodel>
  <state id="waiting">
    <transition event="interaction.present" target="routing"><assign location="ixnid" expr="_event.data.interactionid"/></transition>
  </state>
  <state id="routing">
    <onentry><ixn:redirect interactionid="ixnid" to="'9000'"/></onentry>
    <transition event="interaction.partychanged"
      cond="_genesys.ixn.interactions[0].parties.some(function (p) { return p.dn === '9000' &amp;&amp; p.state === 'established'; })" target="charging"/>
    <transition event="error.*" target="failed"/>
  </state>
  <state id="charging">
    <onentry><ixn:privateservice requestid="reqid" serviceid="1234" interactionid="ixnid" resource="'9000'" extensions="ext"/></onentry>
    <transition event="voice.privateservice.done" cond="n + 1 &lt; total" target="charging"><assign location="n" expr="n + 1"/></transition>
    <transition event="voice.privateservice.done" target="done"><assign location="n" expr="n + 1"/></transition>
    <transition event="error.voice.privateservice" target="failed"/>
  </state>
  <final id="done"/>
  <final id="failed"/>
</scxml>`;
}
