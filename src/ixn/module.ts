import type { Engine, EngineModule } from '../runtime/engine.js';
import type { Session } from '../runtime/session.js';
import { externalEvent, type ScxmlEvent } from '../model/event.js';
import { ActionError, runAsyncAction } from '../runtime/async-action.js';
import type { AdapterRegistry } from '../tserver/registry.js';
import type { CallEvent, CallInfo, MakeCallRequest, TServerAdapter } from '../tserver/adapter.js';
import { ixnActionDefinitions, type IxnActionSpec } from './actions.js';
import { parseResource, resolveTarget } from './resolve-target.js';

export interface IxnOptions {
  readonly registry: AdapterRegistry;
  /**
   * A call arrived at a routing point and no session controls it: return the session that takes
   * it (or null to leave it). The CLI gives it its one session; a server starts one per call.
   */
  readonly onInbound?: (call: CallInfo) => Session | null;
  /** How long an adapter may take to accept a request before it fails with "timeout" (ms). */
  readonly requestTimeoutMs?: number;
}

/** An ixn action as executed: its attribute values (plain data) and the request id it was given. */
export interface IxnRequest {
  readonly spec: IxnActionSpec;
  readonly sessionId: string;
  readonly requestid: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** Set when an attribute could not be evaluated: the request fails with "invalidargument". */
  readonly evaluationError: string | null;
}

/** What a session sees of its interactions, kept in step with the events it has processed. */
interface SessionView {
  /** g_uids, in the order they were added. */
  readonly visible: string[];
}

/**
 * The interaction (voice) module: ixn:* actions, the _genesys object, interaction ownership
 * (one session per interaction at a time), and the translation of switch events into
 * interaction.* events for the owning session.
 */
export class IxnModule implements EngineModule {
  readonly name = 'ixn';
  private engine!: Engine;
  private readonly owner = new Map<string, string>();
  private readonly views = new WeakMap<Session, SessionView>();
  private readonly privateRequests = new Map<string, { sessionId: string; requestid: string; interactionid: string | null; serviceid: number }>();
  private readonly timeoutMs: number;

  constructor(private readonly options: IxnOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  get registry(): AdapterRegistry {
    return this.options.registry;
  }

  install(engine: Engine): void {
    this.engine = engine;
    for (const def of ixnActionDefinitions()) engine.registerAction(def);
    engine.registerService('ixn', this);
    engine.addHooks({
      variables: {
        _data: (session) => { if (session.chart.datamodel === 'ecmascript') session.dm.aliasRoot('_data'); },
        _genesys: (session) => this.defineGenesys(session),
      },
      beforeEvent: (session, event) => this.beforeEvent(session, event),
      persist: { key: 'ixn', save: (session) => this.saveOwnership(session), restore: (session, saved) => this.restoreOwnership(session, saved) },
      sessionEnded: (session) => {
        for (const [callId, sid] of this.owner) if (sid === session.id) this.owner.delete(callId);
        for (const [ref, r] of this.privateRequests) if (r.sessionId === session.id) this.privateRequests.delete(ref);
      },
    });
    this.registry.onEvent((event, adapter) => {
      // A switch's event loop must never see an exception from here.
      try {
        this.onSwitchEvent(event, adapter);
      } catch (err) {
        this.engine.warn(`ixn: handling ${event.type} from ${adapter.switchName} failed: ${(err as Error).message}`, { switch: adapter.switchName });
      }
    });
  }

  /** The session that controls an interaction, if any. */
  ownerOf(interactionid: string): string | undefined {
    return this.owner.get(interactionid);
  }

  /* ---------- the _genesys object ---------- */

  private defineGenesys(session: Session): void {
    if (session.chart.datamodel !== 'ecmascript') return;
    const dm = session.dm;
    dm.setPath(['_genesys', 'ixn', 'interactions'], []);
    dm.defineFunction(['_genesys', 'ixn', 'setuData'], ([id, data]) => this.setuData(session, id, data));
    dm.defineFunction(['_genesys', 'ixn', 'deleteuData'], ([id, keys]) => this.deleteuData(session, id, keys));
  }

  private controlled(session: Session, id: unknown): { adapter: TServerAdapter; call: CallInfo } {
    const callId = String(id);
    if (this.owner.get(callId) !== session.id) throw new Error(`interaction ${callId} is not controlled by this session`);
    const found = this.findCall(callId);
    if (!found) throw new Error(`interaction ${callId} no longer exists`);
    if (!found.adapter.connected) throw new Error(`the link to the T-Server of ${found.adapter.switchName} is down`);
    return found;
  }

  private setuData(session: Session, id: unknown, data: unknown): boolean {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('user data must be an object of key/value pairs');
    const { adapter, call } = this.controlled(session, id);
    this.inBackground(session, 'setuData', adapter.updateUserData({ callId: call.callId, udata: data as Record<string, unknown> }));
    return true;
  }

  private deleteuData(session: Session, id: unknown, keys: unknown): boolean {
    const { adapter, call } = this.controlled(session, id);
    const list = keys === undefined || keys === null ? null : (Array.isArray(keys) ? keys : [keys]).map(String);
    this.inBackground(session, 'deleteuData', adapter.deleteUserData({ callId: call.callId, keys: list }));
    return true;
  }

  /**
   * A module function's request to the switch: the function has returned already, so a failure
   * reaches the session as error.execution (an unobserved rejection would end the process).
   */
  private inBackground(session: Session, fn: string, request: Promise<void>): void {
    this.engine.track(request).catch((err: unknown) => {
      const e = err as { code?: unknown; description?: unknown; message?: unknown };
      const why = e && typeof e === 'object' && e.description !== undefined ? `${String(e.code)}: ${String(e.description)}` : String(e?.message ?? err);
      this.engine.session(session.id)?.raisePlatformError('error.execution', `_genesys.ixn.${fn}: ${why}`);
    });
  }

  /** interaction.* events change what _genesys.ixn.interactions shows, when the chart processes them. */
  private beforeEvent(session: Session, event: ScxmlEvent): void {
    // Only this module's events (they have no origin type) change the view: a chart cannot fake
    // interaction.added with <send>. The test survives a snapshot of the queue, unlike object identity.
    if (session.chart.datamodel !== 'ecmascript' || !event.name.startsWith('interaction.') || event.origintype !== undefined) return;
    const id = (event.data as { interactionid?: unknown } | undefined)?.interactionid;
    if (typeof id !== 'string') return;
    let view = this.views.get(session);
    if (!view) this.views.set(session, (view = { visible: [] }));
    if (event.name === 'interaction.added' && !view.visible.includes(id)) view.visible.push(id);
    if (event.name === 'interaction.deleted' || event.name === 'interaction.notcontrolled') {
      const i = view.visible.indexOf(id);
      if (i >= 0) view.visible.splice(i, 1);
    }
    this.publish(session, view);
  }

  private publish(session: Session, view: SessionView): void {
    const objects = view.visible.map((id) => interactionObject(id, this.findCall(id)?.call, session.id));
    session.dm.setPath(['_genesys', 'ixn', 'interactions'], objects);
    // ORS strategies index interactions by id as well as by position.
    objects.forEach((o) => session.dm.setPath(['_genesys', 'ixn', 'interactions', o.g_uid], o));
  }

  /* ---------- ownership ---------- */

  /** For the session's snapshot: the interactions it controls, and those its chart has seen (_genesys.ixn.interactions). */
  private saveOwnership(session: Session): { owned: string[]; visible: string[] } {
    const owned = [...this.owner].filter(([, sid]) => sid === session.id).map(([callId]) => callId);
    return { owned, visible: [...(this.views.get(session)?.visible ?? [])] };
  }

  /**
   * A restored session controls its interactions again, if they still exist and no other
   * session took them meanwhile; it learns of those it lost (interaction.deleted, then
   * interaction.notcontrolled), and its _genesys.ixn.interactions shows what it had seen.
   */
  private restoreOwnership(session: Session, saved: unknown): void {
    if (saved === undefined || session.chart.datamodel !== 'ecmascript') return;
    const strings = (v: unknown): string[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null);
    const owned = strings((saved as { owned?: unknown } | null)?.owned);
    const visible = strings((saved as { visible?: unknown } | null)?.visible);
    if (!owned || !visible) {
      this.engine.warn(`ixn: the snapshot of session ${session.id} has no valid interaction list; it controls none`, { session: session.id });
      return;
    }
    const lost: string[] = [];
    for (const callId of owned) {
      const current = this.owner.get(callId);
      if (this.findCall(callId) && (current === undefined || current === session.id)) this.owner.set(callId, session.id);
      else lost.push(callId);
    }
    const view: SessionView = { visible: visible.filter((id) => this.owner.get(id) === session.id) };
    this.views.set(session, view);
    if (view.visible.length > 0) this.publish(session, view);
    for (const callId of lost) this.tellLost(session, callId);
  }

  /** Give an interaction to a session: it gets interaction.added and interaction.present. */
  attach(session: Session, callId: string): void {
    const previous = this.owner.get(callId);
    if (previous === session.id) return;
    if (previous) this.release(callId, previous);
    this.owner.set(callId, session.id);
    this.notify(session, 'interaction.added', { interactionid: callId });
    this.notify(session, 'interaction.present', { interactionid: callId });
  }

  /** The session no longer controls the interaction: deleted, then notcontrolled. */
  release(callId: string, sessionId = this.owner.get(callId)): void {
    if (!sessionId) return;
    this.owner.delete(callId);
    this.tellLost(this.engine.session(sessionId), callId);
  }

  /** An action only the session that controls the interaction may take (detach, associate). */
  private requireOwner(callId: string, sessionId: string): void {
    if (this.owner.get(callId) !== sessionId) throw new ActionError('invalidstate', `interaction ${callId} is not controlled by this session`);
  }

  /** What a session learns when an interaction is no longer its own: deleted, then notcontrolled. */
  private tellLost(session: Session | undefined, callId: string): void {
    this.notify(session, 'interaction.deleted', { interactionid: callId });
    this.notify(session, 'interaction.notcontrolled', { interactionid: callId });
  }

  private findCall(callId: string): { adapter: TServerAdapter; call: CallInfo } | undefined {
    const adapter = this.registry.adapterOfCall(callId);
    const call = adapter?.call(callId);
    return adapter && call ? { adapter, call } : undefined;
  }

  /* ---------- switch events ---------- */

  private onSwitchEvent(event: CallEvent, adapter: TServerAdapter): void {
    switch (event.type) {
      case 'call.created': {
        if (this.owner.has(event.call.callId)) return;
        if (!event.call.parties.some((p) => p.role === 'routingpoint')) return;
        const session = this.options.onInbound?.(event.call);
        if (session) this.attach(session, event.call.callId);
        return;
      }
      case 'call.changed':
        return this.toOwner(event.call.callId, 'interaction.partychanged', { dn: event.dn, state: event.call.state });
      case 'udata.changed':
        return this.toOwner(event.call.callId, 'interaction.udata.changed', { udata: event.call.udata });
      case 'call.released': {
        const sessionId = this.owner.get(event.call.callId);
        this.owner.delete(event.call.callId);
        if (sessionId) this.notify(this.engine.session(sessionId), 'interaction.deleted', { interactionid: event.call.callId });
        return;
      }
      case 'privateinfo': {
        const request = this.privateRequests.get(`${adapter.switchName}:${event.referenceId}`);
        if (!request) return;
        this.engine.session(request.sessionId)?.enqueue(externalEvent('voice.privateinfo', {
          requestid: request.requestid, interactionid: request.interactionid, serviceid: request.serviceid,
          referenceid: event.referenceId, data: event.data,
        }));
        return;
      }
      case 'link':
        return;
    }
  }

  private toOwner(callId: string, name: string, extra: Record<string, unknown>): void {
    const sessionId = this.owner.get(callId);
    if (sessionId) this.notify(this.engine.session(sessionId), name, { interactionid: callId, ...extra });
  }

  /** An event of this module to a session. */
  private notify(session: Session | undefined, name: string, data: Record<string, unknown>): void {
    session?.enqueue(externalEvent(name, data));
  }

  /* ---------- actions ---------- */

  dispatch(request: IxnRequest): void {
    const v = request.values;
    const interactionid = v.interactionid === undefined || v.interactionid === null ? null : String(v.interactionid);
    runAsyncAction(this.engine, {
      prefix: request.spec.prefix, action: request.spec.action, sessionId: request.sessionId,
      requestid: request.requestid, interactionid, timeoutMs: this.timeoutMs, data: request.values,
    }, async () => {
      if (request.evaluationError) throw new ActionError('invalidargument', request.evaluationError);
      return this.perform(request, interactionid);
    });
  }

  private voiceCall(interactionid: string | null): { adapter: TServerAdapter; call: CallInfo } {
    if (interactionid === null || interactionid === '') throw new ActionError('nointeraction', 'no interaction id was given');
    const found = this.findCall(interactionid);
    if (!found) throw new ActionError('nointeraction', `interaction ${interactionid} does not exist`);
    if (found.call.type !== 'voice') throw new ActionError('invalidinteraction', `interaction ${interactionid} is not a voice interaction`);
    return found;
  }

  private adapterFor(interactionid: string | null, resource: unknown): { adapter: TServerAdapter; call: CallInfo; thisDn: string | null } {
    const { call } = this.voiceCall(interactionid);
    const target = resolveTarget(parseResource(resource), call, (name) => this.registry.get(name) !== undefined);
    const adapter = this.registry.get(target.switchName);
    if (!adapter) throw new ActionError('invaliddestination', `no T-Server is configured for switch '${target.switchName}'`);
    return { adapter, call, thisDn: target.thisDn };
  }

  private async perform(request: IxnRequest, interactionid: string | null): Promise<Record<string, unknown> | void> {
    const v = request.values;
    const session = this.engine.session(request.sessionId);
    switch (request.spec.element) {
      case 'privateservice': {
        const serviceId = integerValue(v.serviceid);
        if (serviceId === null) throw new ActionError('invalidargument', `serviceid must be an integer, not ${JSON.stringify(v.serviceid) ?? String(v.serviceid)}`);
        const { adapter, call, thisDn } = this.adapterFor(interactionid, v.resource);
        const { referenceId } = await adapter.privateService({
          serviceId, callId: call.callId, thisDn,
          udata: keyValues(v.udata, 'udata'), reasons: keyValues(v.reasons, 'reasons'), extensions: keyValues(v.extensions, 'extensions'),
        });
        this.privateRequests.set(`${adapter.switchName}:${referenceId}`, { sessionId: request.sessionId, requestid: request.requestid, interactionid, serviceid: serviceId });
        return { serviceid: serviceId, referenceid: referenceId, switch: adapter.switchName, thisdn: thisDn };
      }
      case 'createcall': {
        const from = String(v.from);
        const adapter = this.registry.switchOfDn(from) ?? this.registry.all()[0];
        if (!adapter) throw new ActionError('invalidsource', 'no switch is configured');
        const type = (v.type === undefined ? 'regular' : String(v.type)) as MakeCallRequest['type'];
        if (!['regular', 'agent', 'supervisor', 'priority', 'agentpriority', 'predictive'].includes(type)) {
          throw new ActionError('invalidargument', `type must be regular, agent, supervisor, priority, agentpriority or predictive, not '${type}'`);
        }
        const { callId } = await adapter.makeCall({ from, to: String(v.to), type, udata: v.udata === undefined ? undefined : keyValues(v.udata, 'udata') });
        if (session) this.attach(session, callId);
        return { interactionid: callId };
      }
      case 'redirect': {
        const { adapter, call } = this.voiceCall(interactionid);
        const from = v.from !== undefined ? String(v.from) : call.parties.find((p) => p.role === 'routingpoint' && p.state !== 'released')?.dn ?? null;
        await adapter.redirect({ callId: call.callId, dn: from, to: String(v.to) });
        if (v.detach === true || v.detach === 'true') this.release(call.callId);
        return;
      }
      case 'terminate': {
        const { adapter, call, thisDn } = v.resource === undefined
          ? { ...this.voiceCall(interactionid), thisDn: null }
          : this.adapterFor(interactionid, v.resource);
        await adapter.release({ callId: call.callId, dn: thisDn, reason: v.reason === undefined ? undefined : String(v.reason) });
        return;
      }
      case 'attach': {
        const { call } = this.voiceCall(interactionid);
        if (!session) throw new ActionError('unknown', 'the session has ended');
        this.attach(session, call.callId);
        return;
      }
      case 'detach': {
        const { call } = this.voiceCall(interactionid);
        this.requireOwner(call.callId, request.sessionId);
        this.release(call.callId);
        return;
      }
      case 'associate': {
        // ORS: the owning session hands the interaction to another one: an attach by that
        // session (this one gets deleted and notcontrolled, the other added and present).
        const { call } = this.voiceCall(interactionid);
        this.requireOwner(call.callId, request.sessionId);
        const target = this.engine.session(String(v.sessionid));
        if (!target || target.isDone) throw new ActionError('invalidargument', `no running session has the id '${String(v.sessionid)}'`);
        this.attach(target, call.callId);
        return { sessionid: target.id };
      }
      case 'hold': case 'retrieve': {
        const { adapter, call, thisDn } = this.adapterFor(interactionid, v.resource);
        await adapter[request.spec.element]({ callId: call.callId, dn: thisDn });
        return;
      }
      case 'transfer': {
        const { adapter, call, thisDn } = this.adapterFor(interactionid, v.resource);
        await adapter.singleStepTransfer({ callId: call.callId, dn: thisDn, to: String(v.to) });
        return;
      }
      case 'addparty': case 'deleteparty': {
        const { adapter, call } = this.voiceCall(interactionid);
        const dn = String(v.dn);
        await (request.spec.element === 'addparty' ? adapter.addParty({ callId: call.callId, dn }) : adapter.deleteParty({ callId: call.callId, dn }));
        return;
      }
      default:
        throw new ActionError('unknown', `no handler for ixn:${request.spec.element}`);
    }
  }
}

/** An integer given as a number or as a string of digits; null for anything else (null, '', true, 1.5, 'abc'). */
function integerValue(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^\s*[+-]?[0-9]+\s*$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

function keyValues(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ActionError('invalidargument', `${name} must be an object of key/value pairs`);
  return value as Record<string, unknown>;
}

/** The interaction as strategies see it in _genesys.ixn.interactions. */
function interactionObject(id: string, call: CallInfo | undefined, sessionId: string) {
  return {
    g_uid: id,
    type: call?.type ?? 'voice',
    state: call?.state ?? 'released',
    parties: (call?.parties ?? []).map((p) => ({ dn: p.dn, switch: p.switch, role: p.role, state: p.state })),
    udata: { ...(call?.udata ?? {}) },
    properties: { 'OP-Session-ID': sessionId },
  };
}
