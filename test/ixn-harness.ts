// Shared by the ixn-*.test.ts files: an engine on simulated (or scripted) switches under a
// virtual clock, a record of every event sessions process, the switches' request logs, and a
// runner for the run-scxml command line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli as runSupportCli, type CliRun } from './support/cli.js';
import {
  AdapterError, AdapterRegistry, createEngine, createSimulatedSwitches, DEFAULT_TOPOLOGY, IxnModule, VirtualClock,
  type CallEvent, type CallInfo, type Engine, type LogEntry, type MakeCallRequest, type PartyRequest, type PrivateServiceRequest,
  type Session, type SimLogEntry, type TServerAdapter, type Topology,
} from '../src/index.js';
import type { SimRequestEntry, SimSipInfoEntry, SimulatedSwitch } from '../src/tserver/sim/index.js';

export const IXN_NS = 'http://www.genesyslab.com/modules/interaction';

/** A chart in the ECMAScript datamodel with the ixn namespace declared (prefix `ixn`). */
export function ixnChart(body: string, attrs = ''): string {
  return `<scxml xmlns="http://www.w3.org/2005/07/scxml" xmlns:ixn="${IXN_NS}" version="1.0" datamodel="ecmascript" ${attrs}>\n${body}\n</scxml>\n`;
}

/** Values made by chart code may come from the datamodel's realm: compare them as plain data. */
export const plain = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** The default topology plus DNs with special behaviours. */
export const TEST_TOPOLOGY: Topology = {
  switches: [{
    name: 'SIP_Switch',
    dns: [
      ...DEFAULT_TOPOLOGY.switches[0].dns,
      { dn: '9050', type: 'agent', behaviour: 'busy' },
      { dn: '9051', type: 'agent', behaviour: 'noanswer' },
      { dn: '9052', type: 'agent', behaviour: 'unreachable' },
    ],
  }],
};

export interface ProcessedEvent {
  readonly session: string;
  readonly name: string;
  readonly data: any;
}

export interface RigOptions {
  readonly topology?: Topology;
  /** Adapters instead of simulated switches (or a registry). */
  readonly adapters?: readonly TServerAdapter[] | AdapterRegistry;
  readonly sandbox?: 'fast' | 'isolated';
  readonly requestTimeoutMs?: number;
  /** Who takes inbound calls; default: the session started last. */
  readonly onInbound?: (call: CallInfo) => Session | null;
  /** A listener on the switches' events that runs before the engine's (the session started last). */
  readonly onSwitchEvent?: (event: CallEvent, session: Session | null) => void;
}

export interface Rig {
  readonly engine: Engine;
  readonly clock: VirtualClock;
  readonly ixn: IxnModule;
  /** The simulated switches (empty when adapters were given). */
  readonly sims: readonly SimulatedSwitch[];
  /** The first simulated switch. */
  readonly sim: SimulatedSwitch;
  /** Every external event any session processed, in order (name and data). */
  readonly events: ProcessedEvent[];
  readonly logs: LogEntry[];
  /** Start a chart (XML text); it becomes the session inbound calls go to. */
  start(xml: string, data?: Record<string, unknown>): Session;
  /** An inbound call on the first simulated switch. */
  call(from?: string, to?: string): CallInfo;
  /** Wait until nothing more can happen (also after the test acted on a switch itself). */
  settle(): Promise<void>;
  /** Names of the events a session processed. */
  names(session?: Session): string[];
  /** Processed events of one name (of one session). */
  find(name: string, session?: Session): ProcessedEvent[];
  /** Values of the <log>s with this label, as plain data. */
  logged(label: string, session?: Session): unknown[];
  /** Request entries of a switch's log (the first simulated switch by default), of one kind. */
  requests(kind?: SimRequestEntry['kind'], sim?: SimulatedSwitch): SimRequestEntry[];
  sipInfos(sim?: SimulatedSwitch): SimSipInfoEntry[];
}

export function rig(options: RigOptions = {}): Rig {
  const clock = new VirtualClock();
  const sims = options.adapters ? [] : createSimulatedSwitches(options.topology ?? TEST_TOPOLOGY, clock);
  let current: Session | null = null;
  const logs: LogEntry[] = [];
  const events: ProcessedEvent[] = [];
  const registry = options.adapters instanceof AdapterRegistry ? options.adapters : new AdapterRegistry(options.adapters ?? sims);
  if (options.onSwitchEvent) {
    const listener = options.onSwitchEvent;
    registry.onEvent((event) => listener(event, current));
  }
  const engine = createEngine({
    clock,
    sandbox: options.sandbox ?? 'fast',
    adapters: registry,
    ixn: { onInbound: options.onInbound ?? (() => current), ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}) },
    onLog: (entry) => logs.push(entry),
  });
  engine.addHooks({ beforeEvent: (session, event) => events.push({ session: session.id, name: event.name, data: plain(event.data) }) });
  const ixn = engine.service<IxnModule>('ixn');
  assert.ok(ixn instanceof IxnModule);
  const sim = sims[0] as SimulatedSwitch;
  return {
    engine, clock, ixn, sims, sim, events, logs,
    start(xml, data) {
      const { chart, diagnostics } = engine.load(xml);
      assert.ok(chart, `chart did not load: ${JSON.stringify(diagnostics, null, 1)}`);
      current = engine.start(chart, data ? { data } : {});
      return current;
    },
    call: (from = '1001', to = '5000') => sim.inboundCall(from, to),
    settle: () => {
      // Switch events wait on a 0 ms timer of the virtual clock, and the engine moves virtual
      // time only while it drains: after the test acted on a switch directly, fire what is due.
      clock.advanceBy(0);
      return engine.whenIdle();
    },
    names: (session) => events.filter((e) => !session || e.session === session.id).map((e) => e.name),
    find: (name, session) => events.filter((e) => e.name === name && (!session || e.session === session.id)),
    logged: (label, session) => logs.filter((l) => l.label === label && (!session || l.sessionId === session.id)).map((l) => plain(l.value)),
    requests: (kind, s = sim) => s.log.filter((e): e is SimRequestEntry => e.type === 'request' && (!kind || e.kind === kind)),
    sipInfos: (s = sim) => s.log.filter((e): e is SimSipInfoEntry => e.type === 'sipinfo'),
  };
}

/** The names of `events` with those of `only` kept, in order. */
export function only(names: readonly string[], keep: readonly string[]): string[] {
  return names.filter((n) => keep.some((k) => n === k || (k.endsWith('*') && n.startsWith(k.slice(0, -1)))));
}

/* ---------- a privateservice strategy ---------- */

export interface PsChart {
  /** Attributes of <ixn:privateservice> besides requestid (default: serviceid and interactionid). */
  readonly attrs?: string;
  /** Bring this destination into the call first (redirect from the routing point). */
  readonly route?: string;
  /** After routing, wait until the destination answered (default) or go on at once. */
  readonly waitAnswer?: boolean;
  /** Script run in <onentry> before the action. */
  readonly script?: string;
}

export const DEFAULT_ATTRS = 'serviceid="1234" interactionid="ixnid"';

/**
 * A strategy: take the interaction, optionally route it, then one privateservice; the outcome is
 * logged (label "done" or "error") and ends the session (ok / failed). The request id the
 * location holds right after the action is logged as "reqid.now".
 */
export function psChart(o: PsChart = {}): string {
  const route = o.route
    ? `<state id="route">
    <onentry><ixn:redirect interactionid="ixnid" to="'${o.route}'"/></onentry>
    <transition event="interaction.redirect.done" target="${o.waitAnswer === false ? 'act' : 'answer'}"/>
    <transition event="error.interaction.redirect" target="failed"><log label="route.error" expr="_event.data"/></transition>
  </state>
  <state id="answer">
    <transition event="interaction.partychanged" target="act"
      cond="_genesys.ixn.interactions[0].parties.some(function (p) { return p.dn === '${o.route}' &amp;&amp; p.state === 'established'; })"/>
  </state>`
    : '';
  return ixnChart(`
  <datamodel><data id="ixnid"/><data id="reqid"/></datamodel>
  <state id="wait">
    <transition event="interaction.present" target="${o.route ? 'route' : 'act'}"><assign location="_data.ixnid" expr="_event.data.interactionid"/></transition>
  </state>
  ${route}
  <state id="act">
    <onentry>
      ${o.script ? `<script>${o.script}</script>` : ''}
      <ixn:privateservice requestid="_data.reqid" ${o.attrs ?? DEFAULT_ATTRS}/>
      <log label="reqid.now" expr="reqid"/>
    </onentry>
    <transition event="voice.privateservice.done" target="ok"><log label="done" expr="_event.data"/></transition>
    <transition event="error.voice.privateservice" target="failed"><log label="error" expr="_event.data"/></transition>
  </state>
  <final id="ok"/>
  <final id="failed"/>`, 'name="ps"');
}

/* ---------- a scripted adapter: calls and answers chosen by the test ---------- */

export interface ScriptedRequest {
  readonly kind: string;
  readonly switch: string;
  readonly callId: string | null;
  readonly dn: string | null;
  readonly request: unknown;
}

/**
 * An adapter whose calls the test writes (CallInfo as given) and whose answers the test chooses:
 * `answer` decides what each request does (resolve, reject, or never settle). Requests are
 * recorded in `requests` (shared among adapters when the same array is given).
 */
export class ScriptedAdapter implements TServerAdapter {
  connected = true;
  readonly calls = new Map<string, CallInfo>();
  private readonly listeners = new Set<(event: CallEvent) => void>();
  private refs = 0;
  answer: (kind: string, request: unknown) => 'ok' | 'hang' | AdapterError = () => 'ok';

  constructor(readonly switchName: string, readonly requests: ScriptedRequest[] = [], private readonly dns: readonly string[] = []) {}

  hasDn(dn: string): boolean {
    return this.dns.includes(dn);
  }
  call(callId: string): CallInfo | undefined {
    return this.calls.get(callId);
  }
  onEvent(listener: (event: CallEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Put a call on this adapter and tell the engine (call.created). */
  addCall(call: CallInfo): void {
    this.calls.set(call.callId, call);
    for (const l of this.listeners) l({ type: 'call.created', call });
  }

  private handle<T>(kind: string, callId: string | null, dn: string | null, request: unknown, value: () => T): Promise<T> {
    this.requests.push({ kind, switch: this.switchName, callId, dn, request });
    const a = this.answer(kind, request);
    if (a === 'hang') return new Promise<T>(() => { /* never settles */ });
    if (a instanceof AdapterError) return Promise.reject(a);
    return Promise.resolve(value());
  }

  privateService(r: PrivateServiceRequest) {
    return this.handle('privateservice', r.callId, r.thisDn, r, () => ({ referenceId: `${this.switchName}-${++this.refs}` }));
  }
  makeCall(r: MakeCallRequest) {
    return this.handle('makecall', null, r.from, r, () => ({ callId: `made-${++this.refs}` }));
  }
  redirect(r: PartyRequest & { to: string }) { return this.handle('redirect', r.callId, r.dn, r, () => undefined); }
  release(r: PartyRequest & { reason?: string }) { return this.handle('release', r.callId, r.dn, r, () => undefined); }
  hold(r: PartyRequest) { return this.handle('hold', r.callId, r.dn, r, () => undefined); }
  retrieve(r: PartyRequest) { return this.handle('retrieve', r.callId, r.dn, r, () => undefined); }
  singleStepTransfer(r: PartyRequest & { to: string }) { return this.handle('singlesteptransfer', r.callId, r.dn, r, () => undefined); }
  addParty(r: { callId: string; dn: string }) { return this.handle('addparty', r.callId, r.dn, r, () => undefined); }
  deleteParty(r: { callId: string; dn: string }) { return this.handle('deleteparty', r.callId, r.dn, r, () => undefined); }
  updateUserData(r: { callId: string; udata: Readonly<Record<string, unknown>> }) { return this.handle('updateuserdata', r.callId, null, r, () => undefined); }
  deleteUserData(r: { callId: string; keys: readonly string[] | null }) { return this.handle('deleteuserdata', r.callId, null, r, () => undefined); }
}

/** A CallInfo for scripted adapters: parties as "dn@switch:role:state". */
export function scriptedCall(callId: string, parties: readonly string[], extra: Partial<CallInfo> = {}): CallInfo {
  return {
    callId,
    switch: extra.switch ?? 'SIP_Switch',
    type: 'voice',
    state: 'established',
    udata: {},
    parties: parties.map((p) => {
      const m = /^([^@]+)@([^:]+):([^:]+):([^:]+)$/.exec(p);
      assert.ok(m, `bad party ${p}`);
      return { dn: m[1], switch: m[2], role: m[3] as CallInfo['parties'][number]['role'], state: m[4] as CallInfo['parties'][number]['state'] };
    }),
    ...extra,
  };
}

/* ---------- the command line ---------- */

export { CLI_PATH as CLI } from './support/cli.js';
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export type { CliRun } from './support/cli.js';

/** Run run-scxml with these arguments (killed after `killMs`). */
export function runCli(args: readonly string[], options: { cwd?: string; killMs?: number } = {}): Promise<CliRun> {
  return runSupportCli([...args], options);
}

/** A temporary directory for chart and topology files; remove() at the end. */
export function tempDir(prefix: string): { dir: string; write(name: string, text: string): string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    write(name, text) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type { SimLogEntry };
