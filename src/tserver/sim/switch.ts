/**
 * The simulated switch: the engine's embedded default T-Server. One instance per switch; it keeps
 * calls with parties and states, plays each DN's behaviour (answer after N ms, busy, no answer,
 * not reachable) on the injected timer, logs every request it receives and every SIP INFO it
 * would send, and produces Advice of Charge bodies for private service requests.
 *
 * Timing contract:
 *  - a request is processed (validated, applied, logged) when it is made, or `requestLatencyMs`
 *    later when the switch is configured with a latency; its promise then settles;
 *  - every CallEvent is delivered by a 0 ms timer on the injected timer, in the order the state
 *    changes happened. Events a request causes are handed to that timer only in a microtask
 *    queued when the request settles, so they are never delivered inside the synchronous stretch
 *    (or virtual-clock advance) that answered the request: a caller's promise continuation runs
 *    before the events of its request (real clock: microtasks before the timer; virtual clock:
 *    the events wait for the next advance, e.g. advanceBy(0));
 *  - each event carries a snapshot of the call taken when the change happened.
 */
import {
  AdapterError,
  type CallEvent, type CallInfo, type CallState, type DnType, type MakeCallRequest, type Party, type PartyRequest,
  type PartyRole, type PartyState, type PrivateServiceRequest, type TServerAdapter,
} from '../adapter.js';
import type { SwitchTimer } from '../timer.js';
import { AOC_CONTENT_TYPE, AOC_DESTINATION_KEY, aocFromKeys, aocXml, type AocType } from './aoc.js';
import { WAITING_TYPES, type DnBehaviour, type DnConfig, type SwitchConfig } from './topology.js';

export type SimRequestKind =
  | 'privateservice' | 'makecall' | 'redirect' | 'release' | 'hold' | 'retrieve' | 'singlesteptransfer'
  | 'addparty' | 'deleteparty' | 'updateuserdata' | 'deleteuserdata';

/** A request the switch received, with its outcome. */
export interface SimRequestEntry {
  readonly type: 'request';
  readonly time: number;
  readonly switch: string;
  readonly kind: SimRequestKind;
  readonly callId: string | null;
  /** The DN the request acts on (thisDn, the party, or the origin of a make call). */
  readonly dn: string | null;
  /** The request as received (a copy). */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly result: 'accepted' | 'rejected';
  readonly error?: { readonly code: string; readonly description: string };
  /** privateservice: the reference id it was given; makecall: the new call's id. */
  readonly referenceId?: string;
  readonly newCallId?: string;
}

/** A SIP INFO the switch (as SIP Server) would send to a party. */
export interface SimSipInfoEntry {
  readonly type: 'sipinfo';
  readonly time: number;
  readonly switch: string;
  readonly kind: 'aoc';
  readonly callId: string;
  /** The party it is sent to. */
  readonly dn: string;
  /** The private service request that caused it. */
  readonly referenceId: string;
  readonly method: 'INFO';
  readonly contentType: string;
  readonly body: string;
  readonly aocType: AocType;
}

export type SimLogEntry = SimRequestEntry | SimSipInfoEntry;

/** Ids for calls and private service references; share one source among switches to keep ids unique across them. */
export interface IdSource {
  nextCallId(): string;
  nextReferenceId(): string;
}

/** ConnID-like call ids (16 lowercase hex digits) and decimal reference ids, counting from 1. */
export function createIdSource(): IdSource {
  let calls = 0;
  let refs = 0;
  return {
    nextCallId: () => (++calls).toString(16).padStart(16, '0'),
    nextReferenceId: () => String(++refs),
  };
}

export interface SimulatedSwitchOptions {
  readonly ids?: IdSource;
  /**
   * The data of the 'privateinfo' event that answers a private service request (null: send no
   * event). `defaults` is what the switch would send by itself.
   */
  readonly privateInfo?: (request: PrivateServiceRequest, defaults: Readonly<Record<string, unknown>>) => Readonly<Record<string, unknown>> | null;
}

/** What the switch knows of a DN (or an external number). */
export interface SimDnInfo extends DnBehaviour {
  readonly dn: string;
  /** null for an external number. */
  readonly type: DnType | null;
}

interface SimParty {
  readonly dn: string;
  role: PartyRole;
  state: PartyState;
  timer: object | null;
  /** The routing point a no-answer sends the call back to. */
  readonly returnTo: string | null;
  /** Diverted from a routing point to an external destination: answering sets the call's divertedTo. */
  readonly divert: boolean;
}

interface SimCall {
  readonly id: string;
  parties: SimParty[];
  udata: Record<string, unknown>;
  divertedTo: { sipServer: string; dn: string } | null;
  /** A party left and too few remain: the call is ending (its state reads "released"). */
  ending: boolean;
  released: boolean;
}

interface Destination {
  readonly dn: string;
  readonly type: DnType | null;
  readonly behaviour: DnBehaviour;
}

const MAKE_CALL_TYPES: readonly MakeCallRequest['type'][] = ['regular', 'agent', 'supervisor', 'priority', 'agentpriority', 'predictive'];
const ORIGINATING_TYPES: readonly DnType[] = ['extension', 'agent', 'trunk'];

/** A detached copy of plain data (structured clone; JSON for what it refuses; the value itself as a last resort). */
function copy<T>(value: T): T {
  try {
    return structuredClone(value);
  } catch {
    try {
      return JSON.parse(JSON.stringify(value ?? null)) as T;
    } catch {
      return value;
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class SimulatedSwitch implements TServerAdapter {
  readonly switchName: string;
  /** Every request received and every SIP INFO sent, in order. */
  readonly log: SimLogEntry[] = [];

  private readonly dns: Map<string, DnConfig>;
  private readonly externalPrefixes: readonly string[];
  private externalDefault: DnBehaviour;
  private readonly externalOverrides = new Map<string, DnBehaviour>();
  private readonly requestLatencyMs: number;
  private readonly ids: IdSource;
  private readonly privateInfo: SimulatedSwitchOptions['privateInfo'];
  private readonly calls = new Map<string, SimCall>();
  private readonly listeners = new Set<(event: CallEvent) => void>();
  private readonly logListeners = new Set<(entry: SimLogEntry) => void>();
  private readonly pendingRequests = new Set<object>();
  private outbox: CallEvent[] = [];
  /** Events of requests being answered: released to the outbox once the request's promise settled. */
  private held: CallEvent[] = [];
  private holding = 0;
  private flushHandle: object | null = null;
  private linkUp = true;

  constructor(config: SwitchConfig, private readonly timer: SwitchTimer, options: SimulatedSwitchOptions = {}) {
    this.switchName = config.name;
    this.dns = new Map(config.dns);
    this.externalPrefixes = config.externalPrefixes;
    this.externalDefault = config.external;
    this.requestLatencyMs = config.requestLatencyMs;
    this.ids = options.ids ?? createIdSource();
    this.privateInfo = options.privateInfo;
  }

  /* ---------- the adapter: state ---------- */

  get connected(): boolean {
    return this.linkUp;
  }

  hasDn(dn: string): boolean {
    return this.dns.has(dn);
  }

  call(callId: string): CallInfo | undefined {
    const call = this.calls.get(callId);
    return call ? this.snapshot(call) : undefined;
  }

  onEvent(listener: (event: CallEvent) => void): () => void {
    const wrapped = (event: CallEvent) => listener(event);
    this.listeners.add(wrapped);
    return () => {
      this.listeners.delete(wrapped);
    };
  }

  /* ---------- simulation controls (not part of the adapter interface) ---------- */

  /** Every call the switch currently has. */
  activeCalls(): CallInfo[] {
    return [...this.calls.values()].map((c) => this.snapshot(c));
  }

  /** What the switch knows of a DN on it, or of an external number; undefined for anything else. */
  dn(dn: string): SimDnInfo | undefined {
    const config = this.dns.get(dn);
    if (config) return { ...config };
    if (this.isExternal(dn)) return { dn, type: null, ...(this.externalOverrides.get(dn) ?? this.externalDefault) };
    return undefined;
  }

  /** Is this number outside the switch but reachable (it starts with an external prefix)? */
  isExternal(dn: string): boolean {
    return !this.dns.has(dn) && this.externalPrefixes.some((p) => dn.startsWith(p));
  }

  /**
   * Change how a DN (or one external number) behaves from now on; calls already ringing keep
   * their behaviour. Throws for a DN the switch does not know, or a routing point / queue.
   */
  setBehaviour(dn: string, behaviour: Partial<DnBehaviour>): void {
    const config = this.dns.get(dn);
    if (config) {
      if (WAITING_TYPES.includes(config.type)) throw new Error(`${dn} is a ${config.type}: calls wait there, it has no behaviour`);
      this.dns.set(dn, { ...config, ...behaviour });
    } else if (this.isExternal(dn)) {
      this.externalOverrides.set(dn, { ...(this.externalOverrides.get(dn) ?? this.externalDefault), ...behaviour });
    } else {
      throw new Error(`DN '${dn}' is neither on switch ${this.switchName} nor an external number`);
    }
  }

  /** Change how every external number without its own behaviour acts. */
  setExternalBehaviour(behaviour: Partial<DnBehaviour>): void {
    this.externalDefault = { ...this.externalDefault, ...behaviour };
  }

  /**
   * Take the link to the T-Server down or up. Emits a 'link' event. While the link is down,
   * requests reject with "linkdown" and call events are lost (the switch goes on without us).
   */
  setConnected(connected: boolean): void {
    if (connected === this.linkUp) return;
    this.linkUp = connected;
    this.emit({ type: 'link', connected });
  }

  /** Listen to the log as it grows; returns the unsubscribe function. */
  onLog(listener: (entry: SimLogEntry) => void): () => void {
    this.logListeners.add(listener);
    return () => {
      this.logListeners.delete(listener);
    };
  }

  /** Forget the log. */
  clearLog(): void {
    this.log.length = 0;
  }

  /**
   * A call arrives at the switch: from FROM (an external number, or a DN of the switch) to TO (a
   * routing point or queue, where it waits in state "queued"; or a device, which rings and
   * answers by its behaviour). Emits call.created. Works whatever the link state (the call
   * reaches the switch, not us). Throws AdapterError: "invalidsource" for a FROM that is a
   * routing point or queue, "invaliddestination" for a TO not on the switch, "busy",
   * "unreachable".
   */
  inboundCall(from: string, to: string, options: { readonly udata?: Readonly<Record<string, unknown>> } = {}): CallInfo {
    if (typeof from !== 'string' || from === '') throw new AdapterError('invalidsource', 'an inbound call needs a calling number');
    const source = this.dns.get(from);
    if (source && !ORIGINATING_TYPES.includes(source.type)) throw new AdapterError('invalidsource', `${from} is a ${source.type} on ${this.switchName}: calls cannot come from it`);
    const config = this.dns.get(to);
    if (!config) throw new AdapterError('invaliddestination', `DN '${to}' is not on switch ${this.switchName}`);
    if (to === from) throw new AdapterError('invaliddestination', `${from} cannot call itself`);
    const destination = this.reachable({ dn: to, type: config.type, behaviour: config });
    const call = this.newCall(options.udata);
    call.parties.push(this.party(from, 'origination', 'dialing'));
    this.ring(call, destination, 'destination', { emit: false });
    this.emit({ type: 'call.created', call: this.snapshot(call) });
    return this.snapshot(call);
  }

  /** Stop every timer and drop pending events and listeners (end of a test or a run). */
  dispose(): void {
    for (const call of this.calls.values()) for (const p of call.parties) this.stopTimer(p);
    for (const handle of this.pendingRequests) this.timer.clearTimer(handle);
    this.pendingRequests.clear();
    if (this.flushHandle) this.timer.clearTimer(this.flushHandle);
    this.flushHandle = null;
    this.outbox = [];
    this.held = [];
    this.listeners.clear();
    this.logListeners.clear();
  }

  /* ---------- the adapter: requests ---------- */

  privateService(request: PrivateServiceRequest): Promise<{ readonly referenceId: string }> {
    return this.handle('privateservice', request.callId, request.thisDn, request, (post) => {
      if (typeof request.serviceId !== 'number' || !Number.isInteger(request.serviceId)) {
        throw new AdapterError('invalidrequest', `serviceId must be an integer, not ${JSON.stringify(request.serviceId)}`);
      }
      if (request.thisDn !== null && !this.dns.has(request.thisDn)) {
        throw new AdapterError('invaliddn', `DN '${request.thisDn}' is not on switch ${this.switchName}`);
      }
      const call = request.callId !== null ? this.getCall(request.callId) : null;
      const extensions = isRecord(request.extensions) ? request.extensions : {};
      const udata = isRecord(request.udata) ? request.udata : {};
      const destRaw = Object.entries(extensions).find(([k]) => k.toLowerCase() === AOC_DESTINATION_KEY.toLowerCase())?.[1];
      let aoc: { dn: string; type: AocType; body: string } | null = null;
      if (destRaw !== undefined && destRaw !== null && destRaw !== '') {
        const dn = String(destRaw);
        if (!call) throw new AdapterError('invaliddestination', `${AOC_DESTINATION_KEY} ${dn}: Advice of Charge needs a call`);
        const party = this.active(call).find((p) => p.dn === dn);
        if (!party) throw new AdapterError('invaliddestination', `${AOC_DESTINATION_KEY} ${dn} is not a party of call ${call.id}`);
        if (party.state !== 'established') throw new AdapterError('invaliddestination', `${AOC_DESTINATION_KEY} ${dn} is ${party.state}, not established, in call ${call.id}`);
        const message = aocFromKeys(extensions, udata);
        aoc = { dn, type: message.type, body: aocXml(message) };
      }
      const referenceId = this.ids.nextReferenceId();
      const time = this.timer.now();
      post(() => {
        if (aoc && call) {
          this.record({
            type: 'sipinfo', time, switch: this.switchName, kind: 'aoc', callId: call.id, dn: aoc.dn, referenceId,
            method: 'INFO', contentType: AOC_CONTENT_TYPE, body: aoc.body, aocType: aoc.type,
          });
        }
      });
      const defaults: Record<string, unknown> = aoc
        ? { result: 'sent', aocType: aoc.type, destinationDn: aoc.dn, contentType: AOC_CONTENT_TYPE }
        : { result: 'accepted' };
      const data = this.privateInfo ? this.privateInfo(request, defaults) : defaults;
      if (data !== null) {
        this.emit({ type: 'privateinfo', call: call ? this.snapshot(call) : null, serviceId: request.serviceId, referenceId, data: deepFreeze(copy(data)) });
      }
      return { value: { referenceId }, referenceId };
    });
  }

  makeCall(request: MakeCallRequest): Promise<{ readonly callId: string }> {
    return this.handle('makecall', null, request.from ?? null, request, () => {
      if (!MAKE_CALL_TYPES.includes(request.type)) throw new AdapterError('invalidrequest', `type must be one of ${MAKE_CALL_TYPES.join(', ')}, not ${JSON.stringify(request.type)}`);
      const source = this.dns.get(request.from);
      if (!source) throw new AdapterError('invalidsource', `DN '${request.from}' is not on switch ${this.switchName}`);
      if (!ORIGINATING_TYPES.includes(source.type)) throw new AdapterError('invalidsource', `${request.from} is a ${source.type}: it cannot make calls`);
      if (request.to === request.from) throw new AdapterError('invaliddestination', `${request.from} cannot call itself`);
      const destination = this.destination(request.to);
      if (request.udata !== undefined && !isRecord(request.udata)) throw new AdapterError('invalidrequest', 'udata must be an object of key/value pairs');
      const call = this.newCall(request.udata);
      call.parties.push(this.party(request.from, 'origination', 'dialing'));
      this.ring(call, destination, 'destination', { emit: false });
      this.emit({ type: 'call.created', call: this.snapshot(call) });
      return { value: { callId: call.id }, newCallId: call.id };
    });
  }

  redirect(request: PartyRequest & { readonly to: string }): Promise<void> {
    return this.handle('redirect', request.callId, request.dn, request, () => {
      const call = this.getCall(request.callId);
      let source: SimParty | undefined;
      if (request.dn === null) {
        source = this.active(call).find((p) => p.role === 'routingpoint') ?? this.active(call).filter((p) => p.state === 'ringing').pop();
        if (!source) throw new AdapterError('invalidstate', `call ${call.id} is neither at a routing point nor ringing anywhere`);
      } else {
        source = this.partyOf(call, request.dn);
        if (source.role !== 'routingpoint' && source.state !== 'ringing') {
          throw new AdapterError('invalidstate', `${source.dn} is ${source.state}: only a call at a routing point or a ringing party can be redirected (use single-step transfer)`);
        }
      }
      const destination = this.newPartyDestination(call, request.to);
      const fromRp = source.role === 'routingpoint';
      this.ring(call, destination, 'destination', {
        returnTo: fromRp ? source.dn : source.returnTo,
        divert: fromRp && destination.type === null,
      });
      this.drop(call, source);
      return { value: undefined };
    });
  }

  release(request: PartyRequest & { readonly reason?: string }): Promise<void> {
    return this.handle('release', request.callId, request.dn, request, () => {
      const call = this.getCall(request.callId);
      if (request.dn === null) this.releaseCall(call);
      else this.drop(call, this.partyOf(call, request.dn));
      return { value: undefined };
    });
  }

  hold(request: PartyRequest): Promise<void> {
    return this.handle('hold', request.callId, request.dn, request, () => {
      const call = this.getCall(request.callId);
      const party = this.pick(call, request.dn, 'established', 'hold');
      party.state = 'held';
      this.emitChanged(call, party.dn);
      return { value: undefined };
    });
  }

  retrieve(request: PartyRequest): Promise<void> {
    return this.handle('retrieve', request.callId, request.dn, request, () => {
      const call = this.getCall(request.callId);
      const party = this.pick(call, request.dn, 'held', 'retrieve');
      party.state = 'established';
      this.emitChanged(call, party.dn);
      return { value: undefined };
    });
  }

  singleStepTransfer(request: PartyRequest & { readonly to: string }): Promise<void> {
    return this.handle('singlesteptransfer', request.callId, request.dn, request, () => {
      const call = this.getCall(request.callId);
      const party = this.pick(call, request.dn, 'established', 'transfer');
      const destination = this.newPartyDestination(call, request.to);
      this.ring(call, destination, 'transfer', {});
      this.drop(call, party);
      return { value: undefined };
    });
  }

  addParty(request: { readonly callId: string; readonly dn: string }): Promise<void> {
    return this.handle('addparty', request.callId, request.dn, request, () => {
      const call = this.getCall(request.callId);
      const state = this.stateOf(call);
      if (state !== 'established' && state !== 'held') throw new AdapterError('invalidstate', `call ${call.id} is ${state}: a party can only be added to an established call`);
      const destination = this.newPartyDestination(call, request.dn);
      if (destination.type !== null && WAITING_TYPES.includes(destination.type)) {
        throw new AdapterError('invaliddestination', `${request.dn} is a ${destination.type}: it cannot join a conference`);
      }
      this.ring(call, destination, 'conference', {});
      return { value: undefined };
    });
  }

  deleteParty(request: { readonly callId: string; readonly dn: string }): Promise<void> {
    return this.handle('deleteparty', request.callId, request.dn, request, () => {
      const call = this.getCall(request.callId);
      this.drop(call, this.partyOf(call, request.dn));
      return { value: undefined };
    });
  }

  updateUserData(request: { readonly callId: string; readonly udata: Readonly<Record<string, unknown>> }): Promise<void> {
    return this.handle('updateuserdata', request.callId, null, request, () => {
      const call = this.getCall(request.callId);
      if (!isRecord(request.udata)) throw new AdapterError('invalidrequest', 'udata must be an object of key/value pairs');
      Object.assign(call.udata, copy(request.udata));
      this.emit({ type: 'udata.changed', call: this.snapshot(call) });
      return { value: undefined };
    });
  }

  deleteUserData(request: { readonly callId: string; readonly keys: readonly string[] | null }): Promise<void> {
    return this.handle('deleteuserdata', request.callId, null, request, () => {
      const call = this.getCall(request.callId);
      if (request.keys !== null && !Array.isArray(request.keys)) throw new AdapterError('invalidrequest', 'keys must be an array of key names, or null for all');
      if (request.keys === null) call.udata = {};
      else for (const key of request.keys) delete call.udata[String(key)];
      this.emit({ type: 'udata.changed', call: this.snapshot(call) });
      return { value: undefined };
    });
  }

  /* ---------- request plumbing ---------- */

  /**
   * Run a request now (or after the configured latency): check the link, apply it, log it, then
   * run what must follow the log entry (the SIP INFO of an AoC). `work` validates before it
   * changes anything, so a rejected request leaves the switch as it was.
   */
  private handle<T>(
    kind: SimRequestKind, callId: string | null, dn: string | null, request: object,
    work: (post: (after: () => void) => void) => { value: T; referenceId?: string; newCallId?: string },
  ): Promise<T> {
    const run = (): T => {
      this.holding++;
      try {
        return attempt();
      } finally {
        // Hand the request's events to the delivery timer only after this synchronous stretch:
        // never inside the timer loop that answered the request, always after the caller's
        // continuation (which runs in microtasks, before any timer).
        queueMicrotask(() => this.releaseHeld());
      }
    };
    const attempt = (): T => {
      const payload = copy({ ...request }) as Record<string, unknown>;
      const time = this.timer.now();
      const base = { type: 'request' as const, time, switch: this.switchName, kind, callId, dn, payload };
      const after: (() => void)[] = [];
      let outcome: { value: T; referenceId?: string; newCallId?: string };
      try {
        if (!this.linkUp) throw new AdapterError('linkdown', `the link to the T-Server of ${this.switchName} is down`);
        outcome = work((fn) => after.push(fn));
      } catch (e) {
        const error = e instanceof AdapterError ? e : new AdapterError('internal', (e as Error)?.message ?? String(e));
        this.record({ ...base, result: 'rejected', error: { code: error.code, description: error.description } });
        throw error;
      }
      this.record({
        ...base, result: 'accepted',
        ...(outcome.referenceId !== undefined ? { referenceId: outcome.referenceId } : {}),
        ...(outcome.newCallId !== undefined ? { newCallId: outcome.newCallId } : {}),
      });
      for (const fn of after) fn();
      return outcome.value;
    };
    if (this.requestLatencyMs <= 0) {
      try {
        return Promise.resolve(run());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise<T>((resolve, reject) => {
      const handle = this.timer.setTimer(this.requestLatencyMs, () => {
        this.pendingRequests.delete(handle);
        try {
          resolve(run());
        } catch (e) {
          reject(e);
        }
      });
      this.pendingRequests.add(handle);
    });
  }

  /** One request finished: when none is in progress, its held events join the delivery queue. */
  private releaseHeld(): void {
    if (--this.holding > 0 || this.held.length === 0) return;
    const events = this.held;
    this.held = [];
    for (const event of events) this.queue(event);
  }

  private record(entry: SimLogEntry): void {
    deepFreeze(entry);
    this.log.push(entry);
    for (const listener of [...this.logListeners]) listener(entry);
  }

  /* ---------- calls and parties ---------- */

  private newCall(udata: Readonly<Record<string, unknown>> | undefined): SimCall {
    const call: SimCall = { id: this.ids.nextCallId(), parties: [], udata: udata ? copy({ ...udata }) : {}, divertedTo: null, ending: false, released: false };
    this.calls.set(call.id, call);
    return call;
  }

  private party(dn: string, role: PartyRole, state: PartyState): SimParty {
    return { dn, role, state, timer: null, returnTo: null, divert: false };
  }

  private getCall(callId: string): SimCall {
    const call = typeof callId === 'string' ? this.calls.get(callId) : undefined;
    if (!call) throw new AdapterError('invalidcall', `switch ${this.switchName} has no call '${callId}'`);
    return call;
  }

  private active(call: SimCall): SimParty[] {
    return call.parties.filter((p) => p.state !== 'released');
  }

  private partyOf(call: SimCall, dn: string): SimParty {
    const party = this.active(call).find((p) => p.dn === dn);
    if (!party) throw new AdapterError('invalidparty', `${dn} is not a party of call ${call.id}`);
    return party;
  }

  /** The party a hold/retrieve/transfer acts on: the given DN, or the last party in the needed state. */
  private pick(call: SimCall, dn: string | null, state: PartyState, what: string): SimParty {
    if (dn === null) {
      const party = this.active(call).filter((p) => p.state === state).pop();
      if (!party) throw new AdapterError('invalidstate', `call ${call.id} has no ${state} party to ${what}`);
      return party;
    }
    const party = this.partyOf(call, dn);
    if (party.state !== state) throw new AdapterError('invalidstate', `${dn} is ${party.state}, not ${state}: cannot ${what}`);
    return party;
  }

  /** The destination of a request, rejected when unknown or not reachable. */
  private destination(to: string): Destination {
    if (typeof to !== 'string' || to === '') throw new AdapterError('invaliddestination', 'no destination given');
    const config = this.dns.get(to);
    if (config) return this.reachable({ dn: to, type: config.type, behaviour: config });
    if (this.isExternal(to)) return this.reachable({ dn: to, type: null, behaviour: this.externalOverrides.get(to) ?? this.externalDefault });
    throw new AdapterError('invaliddestination', `DN '${to}' is not on switch ${this.switchName} and is not an external number (external numbers start with ${this.externalPrefixes.map((p) => `"${p}"`).join(' or ') || 'nothing: none configured'})`);
  }

  /** A destination that must not already be in the call. */
  private newPartyDestination(call: SimCall, to: string): Destination {
    if (this.active(call).some((p) => p.dn === to)) throw new AdapterError('invaliddestination', `${to} is already a party of call ${call.id}`);
    return this.destination(to);
  }

  private reachable(d: Destination): Destination {
    if (d.type !== null && WAITING_TYPES.includes(d.type)) return d;
    if (d.behaviour.behaviour === 'busy') throw new AdapterError('busy', `${d.dn} is busy`);
    if (d.behaviour.behaviour === 'unreachable') throw new AdapterError('unreachable', `${d.dn} is not reachable`);
    return d;
  }

  /**
   * Offer the call to a destination: a routing point or queue takes it at once (the call waits
   * there); a device rings, and answers or stops ringing by its behaviour.
   */
  private ring(call: SimCall, d: Destination, role: PartyRole, opts: { returnTo?: string | null; divert?: boolean; emit?: boolean }): SimParty {
    const waiting = d.type !== null && WAITING_TYPES.includes(d.type);
    const party: SimParty = { dn: d.dn, role: waiting ? 'routingpoint' : role, state: 'ringing', timer: null, returnTo: opts.returnTo ?? null, divert: opts.divert ?? false };
    call.parties.push(party);
    if (!waiting) {
      const b = d.behaviour;
      if (b.behaviour === 'answer') {
        party.timer = this.timer.setTimer(b.answerAfterMs, () => {
          party.timer = null;
          this.answer(call, party);
        });
      } else if (b.behaviour === 'noanswer' && b.noAnswerTimeoutMs !== null) {
        party.timer = this.timer.setTimer(b.noAnswerTimeoutMs, () => {
          party.timer = null;
          this.noAnswer(call, party);
        });
      }
    }
    if (opts.emit !== false) this.emitChanged(call, party.dn);
    return party;
  }

  private answer(call: SimCall, party: SimParty): void {
    if (call.released || party.state !== 'ringing') return;
    party.state = 'established';
    for (const p of call.parties) if (p.role === 'origination' && p.state === 'dialing') p.state = 'established';
    if (party.divert) call.divertedTo = { sipServer: this.switchName, dn: party.dn };
    this.emitChanged(call, party.dn);
  }

  /** Nobody answered: the call goes back to the routing point it came from, or the party is dropped. */
  private noAnswer(call: SimCall, party: SimParty): void {
    if (call.released || party.state !== 'ringing') return;
    const rp = party.returnTo !== null ? this.dns.get(party.returnTo) : undefined;
    if (rp && !this.active(call).some((p) => p.dn === rp.dn)) this.ring(call, { dn: rp.dn, type: rp.type, behaviour: rp }, 'routingpoint', {});
    this.drop(call, party);
  }

  private stopTimer(party: SimParty): void {
    if (party.timer) this.timer.clearTimer(party.timer);
    party.timer = null;
  }

  /** A party leaves; with fewer than two parties left the call ends. */
  private drop(call: SimCall, party: SimParty): void {
    this.stopTimer(party);
    party.state = 'released';
    if (call.divertedTo && call.divertedTo.dn === party.dn) call.divertedTo = null;
    call.ending = this.active(call).length < 2;
    this.emitChanged(call, party.dn);
    call.parties = call.parties.filter((p) => p !== party);
    if (call.ending) this.releaseCall(call);
  }

  private releaseCall(call: SimCall): void {
    for (const p of call.parties) {
      this.stopTimer(p);
      p.state = 'released';
    }
    call.released = true;
    this.calls.delete(call.id);
    this.emit({ type: 'call.released', call: this.snapshot(call) });
  }

  /**
   * The call's state from its parties: released (ending, or nobody left), held (a party holds), established
   * (a party other than the caller answered), queued (waiting at a routing point or queue, no
   * device ringing), otherwise ringing.
   */
  private stateOf(call: SimCall): CallState {
    const active = this.active(call);
    if (call.released || call.ending || active.length === 0) return 'released';
    if (active.some((p) => p.state === 'held')) return 'held';
    if (active.some((p) => p.state === 'established' && p.role !== 'origination')) return 'established';
    const deviceRinging = active.some((p) => p.state === 'ringing' && p.role !== 'routingpoint' && p.role !== 'origination');
    if (!deviceRinging && active.some((p) => p.role === 'routingpoint')) return 'queued';
    return 'ringing';
  }

  private snapshot(call: SimCall): CallInfo {
    const parties: Party[] = call.parties.map((p) => ({ dn: p.dn, switch: this.switchName, role: p.role, state: p.state }));
    const info: CallInfo = {
      callId: call.id,
      switch: this.switchName,
      type: 'voice',
      state: this.stateOf(call),
      parties,
      udata: copy(call.udata),
      ...(call.divertedTo ? { divertedTo: { ...call.divertedTo } } : {}),
    };
    return deepFreeze(info);
  }

  /* ---------- events ---------- */

  private emitChanged(call: SimCall, dn: string | null): void {
    this.emit({ type: 'call.changed', call: this.snapshot(call), dn });
  }

  private emit(event: CallEvent): void {
    if (!this.linkUp && event.type !== 'link') return;
    if (this.holding > 0) this.held.push(event);
    else this.queue(event);
  }

  private queue(event: CallEvent): void {
    this.outbox.push(event);
    if (!this.flushHandle) this.flushHandle = this.timer.setTimer(0, () => this.flush());
  }

  /** Deliver queued events in order to every listener; a listener's exception is rethrown after all were served. */
  private flush(): void {
    this.flushHandle = null;
    const events = this.outbox;
    this.outbox = [];
    let failure: { error: unknown } | null = null;
    for (const event of events) {
      for (const listener of [...this.listeners]) {
        try {
          listener(event);
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    if (failure) throw failure.error;
  }
}
