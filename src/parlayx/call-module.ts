/**
 * What a call chart (examples/parlayx/parlayMakeCall.scxml) reports to the ParlayX service, and
 * what it asks of it:
 *  - `_parlayx.status({callStatus, terminationCause, …})` and `_parlayx.participant(uri, {…})`
 *    keep the call's application-status dictionary, which status reads return; start time and
 *    duration are stamped here from the engine clock;
 *  - `_parlayx.dn(uri)` turns a ParlayX address into the switch's number;
 *  - `<parlayx:callevent criterion callingparty calledparty/>` reports a call event (Busy,
 *    NotReachable, NoAnswer, CalledNumber) and answers `parlayx.callevent.done` with the Action
 *    the subscribed application chose (or the default).
 * After a session ends its dictionary stays readable for the linger period, then is forgotten.
 */
import type { ActionDefinition } from '../model/chart.js';
import { compileRequest, evaluateRequest, type CompiledRequest } from '../exec/request-action.js';
import type { Engine, EngineModule } from '../runtime/engine.js';
import type { Session } from '../runtime/session.js';
import type { TimerHandle } from '../runtime/clock.js';
import { ActionError, runAsyncAction } from '../runtime/async-action.js';
import { CALL_CRITERIA, normaliseAddress, type CallCriterion } from './accounts.js';

export const PARLAYX_NS = 'http://orchestrion.dev/scxml/parlayx';

export type CallStatus = 'CallInitial' | 'CallConnected' | 'CallTerminated';
export const CALL_STATUSES: readonly CallStatus[] = ['CallInitial', 'CallConnected', 'CallTerminated'];
export const TERMINATION_CAUSES = [
  'CallingPartyNoAnswer', 'CalledPartyNoAnswer', 'CallingPartyBusy', 'CalledPartyBusy',
  'CallingPartyNotReachable', 'CalledPartyNotReachable', 'CallHangUp', 'CallAborted',
] as const;

/** The status of a call or of one participant: what the chart said, with times stamped here. */
export interface StatusEntry {
  status: CallStatus;
  /** When it first became CallConnected (engine clock, ms). */
  startedAt: number | null;
  /** When it became CallTerminated. */
  endedAt: number | null;
  terminationCause: string | null;
  /** Anything else the chart put in the dictionary. */
  extra: Record<string, unknown>;
}

export interface CallRecord {
  readonly sessionId: string;
  readonly owner: string;
  readonly call: StatusEntry;
  /** By participant URI, in the order they were reported. */
  readonly participants: Map<string, StatusEntry>;
  /** Set once the session has ended; the record lingers until `forgetAt`. */
  sessionEnded: boolean;
}

export type ActionToPerform = 'Route' | 'Continue' | 'EndCall' | 'Fork';

/** What the application (or the default) decided for a call event. */
export interface CallAction {
  readonly actionToPerform: ActionToPerform;
  readonly routingAddresses: readonly string[];
  /** Who decided: the application's endpoint, or "default" with the reason. */
  readonly decidedBy: string;
}

export interface CallEventReport {
  readonly sessionId: string;
  readonly owner: string | null;
  readonly criterion: CallCriterion;
  readonly callingParty: string;
  readonly calledParty: string;
}

export interface ParlayxCallModuleOptions {
  /** How long a call's status stays readable after its session ends (ms). Default 30 000. */
  readonly lingerMs?: number;
  /** Notify subscribers and ask a direction subscriber what to do. */
  readonly onCallEvent: (report: CallEventReport) => Promise<CallAction>;
  /** How long a chart waits for onCallEvent before its action fails with "timeout" (ms). Default 30 000. */
  readonly callEventTimeoutMs?: number;
}

const newEntry = (): StatusEntry => ({ status: 'CallInitial', startedAt: null, endedAt: null, terminationCause: null, extra: {} });

export class ParlayxCallModule implements EngineModule {
  readonly name = 'parlayx';
  private engine!: Engine;
  private readonly records = new Map<string, CallRecord>();
  private readonly lingerTimers = new Set<TimerHandle>();
  readonly lingerMs: number;

  constructor(private readonly options: ParlayxCallModuleOptions) {
    this.lingerMs = options.lingerMs ?? 30_000;
  }

  install(engine: Engine): void {
    this.engine = engine;
    engine.registerAction(this.callEventAction());
    engine.registerService('parlayx', this);
    engine.addHooks({
      variables: { _parlayx: (session) => this.defineParlayx(session) },
      sessionEnded: (session) => this.sessionEnded(session),
    });
    engine.onClose(() => {
      for (const t of this.lingerTimers) engine.clock.clearTimer(t);
      this.lingerTimers.clear();
    });
  }

  /** Starts keeping a record for a session the service started on behalf of `owner`. */
  track(sessionId: string, owner: string): CallRecord {
    const record: CallRecord = { sessionId, owner, call: newEntry(), participants: new Map(), sessionEnded: false };
    this.records.set(sessionId, record);
    return record;
  }

  /** The record, if it exists and belongs to `owner` (others' calls look unknown). */
  record(sessionId: string, owner: string): CallRecord | undefined {
    const r = this.records.get(sessionId);
    return r && r.owner === owner ? r : undefined;
  }

  private defineParlayx(session: Session): void {
    if (session.chart.datamodel !== 'ecmascript') return;
    const dm = session.dm;
    dm.defineFunction(['_parlayx', 'status'], ([dict]) => this.report(session.id, null, dict));
    dm.defineFunction(['_parlayx', 'participant'], ([uri, dict]) => {
      if (typeof uri !== 'string' || uri === '') throw new Error('_parlayx.participant(uri, status): uri must be a non-empty string');
      return this.report(session.id, uri, dict);
    });
    dm.defineFunction(['_parlayx', 'dn'], ([uri]) => {
      if (typeof uri !== 'string') throw new Error('_parlayx.dn(uri): uri must be a string');
      return normaliseAddress(uri);
    });
  }

  /** Merges what a chart reports into the call's (or a participant's) dictionary. */
  private report(sessionId: string, participant: string | null, dict: unknown): boolean {
    const record = this.records.get(sessionId);
    if (!record) return false; // a session the service did not start: nobody reads its status
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) throw new Error('_parlayx status: expected an object such as {callStatus: "CallConnected"}');
    let entry = participant === null ? record.call : record.participants.get(participant);
    if (!entry) {
      entry = newEntry();
      record.participants.set(participant!, entry);
    }
    const { callStatus, terminationCause, ...extra } = dict as Record<string, unknown>;
    if (callStatus !== undefined) {
      if (!CALL_STATUSES.includes(callStatus as CallStatus)) throw new Error(`_parlayx status: callStatus must be one of ${CALL_STATUSES.join(', ')}, not ${JSON.stringify(callStatus)}`);
      this.moveTo(entry, callStatus as CallStatus);
    }
    if (terminationCause !== undefined) {
      if (!(TERMINATION_CAUSES as readonly unknown[]).includes(terminationCause)) throw new Error(`_parlayx status: terminationCause must be one of ${TERMINATION_CAUSES.join(', ')}, not ${JSON.stringify(terminationCause)}`);
      entry.terminationCause = terminationCause as string;
    }
    Object.assign(entry.extra, JSON.parse(JSON.stringify(extra)) as Record<string, unknown>);
    return true;
  }

  private moveTo(entry: StatusEntry, status: CallStatus): void {
    const now = this.engine.clock.now();
    if (status === 'CallConnected' && entry.startedAt === null) entry.startedAt = now;
    if (status === 'CallTerminated' && entry.endedAt === null) entry.endedAt = now;
    entry.status = status;
  }

  private sessionEnded(session: Session): void {
    const record = this.records.get(session.id);
    if (!record) return;
    record.sessionEnded = true;
    // A chart that ended without saying how: the call is over all the same.
    const close = (e: StatusEntry) => {
      if (e.status === 'CallTerminated') return;
      this.moveTo(e, 'CallTerminated');
      e.terminationCause ??= 'CallAborted';
    };
    close(record.call);
    record.participants.forEach(close);
    const timer = this.engine.clock.setTimer(this.lingerMs, () => {
      this.lingerTimers.delete(timer);
      this.records.delete(session.id);
    });
    this.lingerTimers.add(timer);
  }

  /** Seconds between start and end (or now); undefined when the call never connected. */
  durationOf(entry: StatusEntry): number | undefined {
    if (entry.startedAt === null) return undefined;
    return Math.max(0, Math.round(((entry.endedAt ?? this.engine.clock.now()) - entry.startedAt) / 1000));
  }

  /* ---------- <parlayx:callevent> ---------- */

  private callEventAction(): ActionDefinition<CompiledRequest> {
    return {
      namespace: PARLAYX_NS,
      name: 'callevent',
      compile: (el, ctx) => compileRequest(el, ctx, { required: ['criterion', 'callingparty', 'calledparty'], optional: [] }),
      execute: (c, ctx) => {
        const { requestid, values, evaluationError } = evaluateRequest(c, ctx, 'req');
        const sessionId = ctx.sessionId;
        runAsyncAction(this.engine, {
          prefix: 'parlayx', action: 'callevent', sessionId, requestid, timeoutMs: this.options.callEventTimeoutMs ?? 30_000, data: values,
        }, async () => {
          if (evaluationError) throw new ActionError('invalidargument', evaluationError);
          const criterion = values.criterion as CallCriterion;
          if (!CALL_CRITERIA.includes(criterion)) throw new ActionError('invalidargument', `criterion must be one of ${CALL_CRITERIA.join(', ')}, not ${JSON.stringify(values.criterion)}`);
          const action = await this.options.onCallEvent({
            sessionId, owner: this.records.get(sessionId)?.owner ?? null, criterion,
            callingParty: String(values.callingparty), calledParty: String(values.calledparty),
          });
          return { criterion, action: action.actionToPerform, routingAddresses: [...action.routingAddresses], decidedBy: action.decidedBy };
        });
      },
    };
  }
}
