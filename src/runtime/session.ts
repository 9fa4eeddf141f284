import type { CompiledChart, DoneData, ExecBlock, InvokeDef, StateNode } from '../model/chart.js';
import { externalEvent, platformEvent, type ScxmlEvent } from '../model/event.js';
import type { SessionDataModel } from '../datamodel/datamodel.js';
import { EvaluationError, SandboxFailure, type SystemVariables } from '../datamodel/datamodel.js';
import type { ExecContext, SendRequest } from '../exec/context.js';
import { evaluateContent, evaluateParams, inlineToValue, pairsToObject } from '../exec/values.js';
import { enteredFlag, type AlgorithmHost, type InterpreterState } from '../semantics/state.js';
import { activeStateIds, exitInterpreter, interpret, processExternalEvent, RunawayError } from '../semantics/interpreter.js';
import { errorExecution } from '../semantics/select-transitions.js';
import { chartPlans } from '../semantics/plans.js';
import type { SourceLocation } from '../model/location.js';
import type { TimerHandle } from './clock.js';
import type { Engine } from './engine.js';
import type { Invocation } from './invoker.js';
import { LimitExceededError } from './limits.js';
import { Fifo } from '../model/fifo.js';
import { copyData, DataDepthError } from '../datamodel/copy-data.js';
import { SessionObserver } from '../trace/session-observer.js';
import {
  decodeEvent, decodeValue, encodeEvent, encodeValue, SNAPSHOT_VERSION, SnapshotError, type PendingAction, type SessionSnapshot,
} from './snapshot.js';
import type { TraceBody, TraceEvent } from '../trace/trace-event.js';

export type SessionStatus = 'starting' | 'running' | 'final' | 'error' | 'cancelled' | 'stopped';

export interface SessionResult {
  readonly status: 'final' | 'error' | 'cancelled' | 'stopped';
  /** Id of the top-level final state reached, or null. */
  readonly final: string | null;
  /** Active states when the session ended (before the final exit). */
  readonly configuration: readonly string[];
  /** Data of the done event (<donedata> of the top-level final). */
  readonly doneData: unknown;
  readonly message?: string;
}

export interface ParentLink {
  readonly session: Session;
  readonly invokeid: string;
}

/** The chart a (possibly embedded) chart was loaded with. */
export function rootChart(chart: CompiledChart): CompiledChart {
  let c = chart;
  while (c.embeddedIn) c = c.embeddedIn.chart;
  return c;
}

/** An invocation of one of this engine's sessions, found by id when used (restore order does not matter). */
export function childInvocation(engine: Engine, sessionId: string): Invocation {
  return {
    sessionId,
    deliver: (event) => engine.session(sessionId)?.enqueue(event),
    cancel: () => engine.session(sessionId)?.stop('cancelled'),
  };
}

/** The history values and states to invoke of sessions whose chart has no history state (no invoke): never written. */
class ReadOnlyMap<K, V> extends Map<K, V> {
  override set(): this { throw new Error('this chart has no history states'); }
}
class ReadOnlySet<T> extends Set<T> {
  override add(): this { throw new Error('this chart has no invokes'); }
}
const NO_HISTORY = new ReadOnlyMap<number, StateNode[]>();
const NO_STATES = new ReadOnlySet<StateNode>();

/** A session's system variables, as its datamodel asks for them. */
class SessionSystem implements SystemVariables {
  constructor(private readonly session: Session) {}
  get sessionid(): string { return this.session.id; }
  get name(): string | null { return this.session.chart.name; }
  ioprocessors(): Record<string, { location: string }> { return this.session.engine.ioProcessorLocations(this.session); }
  In(stateId: string): boolean { return this.session.isIn(String(stateId)); }
  defineModuleVariable(name: string): void { this.session.engine.moduleVariables.get(name)?.(this.session); }
}

const NOT_STARTED: Invocation = { deliver() { /* not running yet */ }, cancel() { /* nothing to stop */ } };

/** A failure inside nested executable content, carrying the innermost element's location. */
class ActionFailure extends Error {
  constructor(readonly reason: unknown, readonly loc: SourceLocation) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

/**
 * One running instance of a chart: the stateful shell around the pure algorithm. It owns the
 * external queue, delayed sends and invocations, and carries out the effects of executable
 * content through the engine's I/O processors and invokers.
 */
export class Session implements AlgorithmHost {
  status: SessionStatus = 'starting';
  readonly dm: SessionDataModel;
  readonly state: InterpreterState;
  /** Set while the algorithm runs, so platform errors go to the internal queue. */
  private inMacrostep = false;
  private readonly externalQueue = new Fifo<ScxmlEvent>();
  /*
   * Made on first use, through the getters below: most sessions never invoke, delay a send or
   * wait for an action, and an empty Map costs 150-190 bytes of every idle session.
   */
  private invocationsMade: Map<string, Invocation> | null = null;
  private invokeIdsMade: Map<InvokeDef, string> | null = null;
  private cancelledInvokesMade: Set<string> | null = null;
  private delayedMade: Map<TimerHandle, SendRequest> | null = null;
  private pendingActionsMade: Map<string, PendingAction> | null = null;
  /** Changed since the engine's store last saved it. */
  dirty = false;
  /** Made on first use too: a session whose chart has no executable content never needs them. */
  private execMade: ExecContext | null = null;
  private observerMade: SessionObserver | null = null;
  /** The result once ended, and the done promise once asked for (it resolves with the result). */
  private result: SessionResult | null = null;
  private donePromise: Promise<SessionResult> | null = null;
  private resolveDone: ((r: SessionResult) => void) | null = null;
  /** Queued in the engine's run queue. */
  queued = false;
  /** Sends still on the wire, and deliveries held back until they complete. */
  private outgoing = 0;
  private heldDeliveries: (() => void)[] | null = null;

  constructor(
    readonly engine: Engine,
    readonly id: string,
    readonly chart: CompiledChart,
    private readonly initialData: Readonly<Record<string, unknown>>,
    readonly parent: ParentLink | null,
  ) {
    const plans = chartPlans(chart);
    const model = engine.chartDataModel(chart);
    this.dm = model.createSession(new SessionSystem(this));
    // Active flags, then entered flags: one typed array (each costs ~200 bytes of an idle session).
    const flags = new Uint8Array(2 * chart.states.length);
    this.state = {
      chart, plans, dm: this.dm, host: this, active: flags, enteredOffset: chart.states.length,
      // The algorithm touches these only in charts with history states (invokes): others share empty ones.
      historyValue: plans.hasHistory ? new Map() : NO_HISTORY, internalQueue: new Fifo<ScxmlEvent>(),
      statesToInvoke: plans.hasInvokes ? new Set() : NO_STATES, running: false,
      finalState: null, maxMicrosteps: engine.limits.maxMicrosteps, observer: null,
    };
    for (const [name, define] of engine.moduleVariables) if (!model.definesOnRead?.has(name)) define(this);
    for (const h of engine.hooks) h.sessionCreated?.(this);
  }

  /** Resolves with the session's result when it ends. */
  get done(): Promise<SessionResult> {
    if (!this.donePromise) {
      const result = this.result;
      this.donePromise = result ? Promise.resolve(result) : new Promise((resolve) => { this.resolveDone = resolve; });
    }
    return this.donePromise;
  }

  private get invocations(): Map<string, Invocation> { return (this.invocationsMade ??= new Map()); }
  private get invokeIds(): Map<InvokeDef, string> { return (this.invokeIdsMade ??= new Map()); }
  private get cancelledInvokes(): Set<string> { return (this.cancelledInvokesMade ??= new Set()); }
  /** Pending delayed sends: their timer and the request (kept for cancel by id and for snapshots). */
  private get delayed(): Map<TimerHandle, SendRequest> { return (this.delayedMade ??= new Map()); }
  /** Asynchronous actions waiting for their outcome (for snapshots). */
  private get pendingActions(): Map<string, PendingAction> { return (this.pendingActionsMade ??= new Map()); }
  private get exec(): ExecContext { return (this.execMade ??= this.createExecContext()); }
  private get observer(): SessionObserver { return (this.observerMade ??= new SessionObserver(this.engine.tracer, this.id)); }

  /* ---------- public surface ---------- */

  get configuration(): string[] {
    return activeStateIds(this.state);
  }

  isIn(stateId: string): boolean {
    const s = this.chart.stateById.get(stateId);
    return s !== undefined && this.state.active[s.index] === 1;
  }

  get isDone(): boolean {
    return this.status !== 'starting' && this.status !== 'running';
  }

  /** Queue an external event (W3C external queue). */
  enqueue(event: ScxmlEvent): void {
    if (this.isDone) return;
    if (this.externalQueue.length >= this.engine.limits.maxQueueLength) {
      this.fail(`the external queue exceeded ${this.engine.limits.maxQueueLength} events (limit maxQueueLength)`);
      return;
    }
    this.externalQueue.push(event);
    this.dirty = true;
    this.engine.schedule(this);
  }

  /** Send a named external event from outside the engine (API, CLI). */
  send(name: string, data?: unknown): void {
    let copy: unknown;
    try {
      copy = copyData(data);
    } catch (err) {
      // Data that cannot cross (nested deeper than MAX_DATA_DEPTH): as for a <send> whose data
      // cannot be evaluated, the event is discarded and the session gets error.execution.
      if (!(err instanceof DataDepthError)) throw err;
      this.raisePlatformError('error.execution', `event '${name}' discarded: ${err.message}`);
      return;
    }
    this.enqueue(externalEvent(name, copy));
  }

  /**
   * Evaluate an expression in this session's datamodel, outside any macrostep (the CLI prompt's
   * `eval`, debugging). Returns a plain-data copy of the value. Throws an EvaluationError when the
   * expression does not compile or fails, and an Error when the session has ended.
   */
  evaluateExpression(source: string): unknown {
    if (this.isDone) throw new Error(`the session has ended (${this.status})`);
    this.dm.beginMacrostep();
    return this.dm.exportValue(this.dm.evaluate(Session.adHocExpression(this.chart, source)));
  }

  /**
   * A CodeRef for an expression that is not in the chart. Datamodels cache compiled code by
   * CodeRef id per chart, so ad hoc ids are negative (the chart's own are 0..code.length-1) and
   * allocated per chart: the same source gets the same id in every session of the chart.
   */
  private static adHocExpression(chart: CompiledChart, source: string): import('../model/chart.js').CodeRef {
    let refs = Session.adHocRefs.get(chart);
    if (!refs) Session.adHocRefs.set(chart, (refs = new Map()));
    let ref = refs.get(source);
    if (!ref) refs.set(source, (ref = { id: -(refs.size + 1), kind: 'expr', source, loc: { file: chart.file, line: 0, column: 0 } }));
    return ref;
  }
  private static readonly adHocRefs = new WeakMap<CompiledChart, Map<string, import('../model/chart.js').CodeRef>>();

  get hasWork(): boolean {
    return this.status === 'starting' || (this.status === 'running' && this.externalQueue.length > 0);
  }

  get runningInvocations(): number {
    return this.invocationsMade?.size ?? 0;
  }

  /** Run the initial macrostep now rather than when the engine next drains (invoked children). */
  startNow(): void {
    if (this.status !== 'starting') return;
    this.status = 'running';
    if (this.engine.tracer.active) this.trace({ type: 'session.start', chart: this.chart.file, name: this.chart.name, parent: this.parent?.session.id ?? null });
    this.runAlgorithm(null);
  }

  /**
   * Listen to this session's trace records (state entered/exited, macrosteps, errors, logs,
   * sends, invokes, adapter requests, its end). Returns the unsubscribe function; listening
   * stops by itself when the session ends.
   */
  on(listener: (event: TraceEvent) => void): () => void {
    const off = this.engine.onTrace((event) => {
      if (event.session !== this.id) return;
      listener(event);
      if (event.type === 'session.end') off();
    });
    return off;
  }

  /** A trace record for this session, when anyone listens. */
  trace(body: TraceBody): void {
    if (this.engine.tracer.active) this.engine.tracer.emit(this.id, body);
  }

  /** Engine run-queue entry point: start, or process one external event. */
  step(): void {
    if (this.status === 'starting') return this.startNow();
    if (this.status !== 'running') return;
    const event = this.externalQueue.shift();
    if (!event) return;
    // Events from an invocation cancelled meanwhile are dropped (W3C 6.4).
    if (event.invokeid !== undefined && this.cancelledInvokesMade?.has(event.invokeid)) return;
    this.runAlgorithm(event);
  }

  /** Stop from outside: exits every state (onexit runs), cancels invocations, no done event. */
  stop(status: 'cancelled' | 'stopped' = 'stopped'): void {
    if (this.isDone) return;
    const configuration = this.configuration;
    this.inMacrostep = true;
    try {
      if (this.status === 'running') exitInterpreter(this.state);
    } finally {
      this.inMacrostep = false;
    }
    this.end({ status, final: null, configuration, doneData: undefined });
  }

  /** Let go of the session without ending it (engine shutting down with a store): timers off, nothing runs. */
  detach(): void {
    this.clearDelayedSends();
    this.status = 'stopped';
    this.dm.dispose();
  }

  /** A platform error for this session: internal queue while a macrostep runs, external otherwise. */
  raisePlatformError(name: 'error.communication' | 'error.execution', message: string, sendid?: string): void {
    const event = platformEvent(name, { message }, sendid);
    if (this.inMacrostep) this.state.internalQueue.push(event);
    else this.enqueue({ ...event, type: 'platform' });
  }

  /**
   * Events one session sends are delivered in the order it sent them, whatever the processor:
   * a local delivery made while a network send is still on the wire waits for it.
   */
  deliverInOrder(deliver: () => void): void {
    if (this.outgoing === 0) deliver();
    else (this.heldDeliveries ??= []).push(deliver);
  }

  /** A processor put a send on the wire; call the returned function once it has arrived or failed. */
  beginOutgoing(): () => void {
    this.outgoing++;
    let finished = false;
    return () => {
      if (finished) return;
      finished = true;
      if (--this.outgoing > 0) return;
      for (const deliver of this.heldDeliveries?.splice(0) ?? []) deliver();
    };
  }

  /** An invoked child session ended on its own (done.invoke follows as an event). */
  invocationEnded(invokeid: string): void {
    this.invocationsMade?.delete(invokeid);
  }

  invocation(invokeid: string): Invocation | undefined {
    return this.invocationsMade?.get(invokeid);
  }

  /* ---------- asynchronous actions and snapshots ---------- */

  /** An asynchronous action is waiting for its outcome (kept in snapshots). */
  actionStarted(action: PendingAction): void {
    this.pendingActions.set(action.requestid, action);
  }

  actionEnded(requestid: string): void {
    this.pendingActionsMade?.delete(requestid);
  }

  /**
   * The session as versioned JSON, between macrosteps: configuration, history, datamodel, queues,
   * delayed sends with absolute due times, invocations and pending asynchronous actions.
   */
  snapshot(): SessionSnapshot {
    if (this.isDone) throw new SnapshotError(`session ${this.id} has ended (${this.status})`);
    if (this.inMacrostep) throw new SnapshotError('a snapshot is taken between macrosteps, not during one');
    const reserved = this.engine.reservedVariables;
    const datamodel: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(this.dm.variables())) if (!reserved.has(name)) datamodel[name] = encodeValue(value);
    const history: Record<string, string[]> = {};
    for (const [index, states] of this.state.historyValue) history[this.chart.states[index].id] = states.map((x) => x.id);
    const embedded = this.chart.embeddedIn;
    const root = embedded ? rootChart(this.chart) : this.chart;
    return {
      version: SNAPSHOT_VERSION,
      sessionId: this.id,
      savedAt: this.engine.clock.now(),
      chart: {
        file: root.file, name: this.chart.name, fingerprint: root.fingerprint,
        embedded: embedded ? { state: embedded.state, invoke: embedded.invoke } : null,
      },
      status: this.status as 'starting' | 'running',
      parent: this.parent ? { sessionId: this.parent.session.id, invokeid: this.parent.invokeid } : null,
      configuration: this.configuration,
      entered: this.chart.states.filter((x) => this.state.active[enteredFlag(this.state, x)]).map((x) => x.id),
      history,
      datamodel,
      internalQueue: this.state.internalQueue.toArray().map(encodeEvent),
      externalQueue: this.externalQueue.toArray().map(encodeEvent),
      delayedSends: [...this.delayed].map(([handle, r]) => ({
        due: handle.due,
        request: {
          event: r.event ?? null, target: r.target ?? null, type: r.type, sendid: r.sendid, anonymous: r.anonymous,
          data: encodeValue(r.data), pairs: r.pairs.map(([k, v]) => [k, encodeValue(v)] as const),
        },
      })),
      invocations: [...this.invokeIds].map(([inv, invokeid]) => ({
        invokeid, state: inv.state.id, invoke: inv.state.invokes.indexOf(inv), child: this.invocations.get(invokeid)?.sessionId ?? null,
      })),
      cancelledInvokes: [...this.cancelledInvokes],
      pendingActions: [...this.pendingActions.values()],
      modules: this.moduleSnapshots(),
    };
  }

  private moduleSnapshots(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const h of this.engine.hooks) if (h.persist) out[h.persist.key] = h.persist.save(this);
    return out;
  }

  /**
   * Resume from a snapshot (the session was just created for it, nothing has run). Functions in
   * the datamodel come back by re-running the top-level scripts, then every saved variable is
   * set. Overdue delayed sends fire now, in due order ('fire') or are dropped ('drop'); actions
   * whose outcome never arrived fail with error "interrupted".
   */
  restore(snapshot: SessionSnapshot, overdueSends: 'fire' | 'drop'): void {
    const stateOf = (id: string) => {
      const state = this.chart.stateById.get(id);
      if (!state) throw new SnapshotError(`snapshot names state '${id}', which the chart does not have`);
      return state;
    };
    for (const id of snapshot.configuration) this.state.active[stateOf(id).index] = 1;
    for (const id of snapshot.entered) this.state.active[enteredFlag(this.state, stateOf(id))] = 1;
    for (const [id, states] of Object.entries(snapshot.history)) {
      const history = stateOf(id);
      if (history.kind !== 'history') throw new SnapshotError(`snapshot gives a history value to '${id}', which is not a history state`);
      this.state.historyValue.set(history.index, states.map(stateOf));
    }
    if (snapshot.status === 'running') {
      this.status = 'running';
      this.state.running = true;
      this.inMacrostep = true;
      try {
        if (this.chart.script.length) this.execute(this.chart.script);
      } finally {
        this.inMacrostep = false;
        this.state.internalQueue.clear();
      }
      for (const [name, value] of Object.entries(snapshot.datamodel)) this.dm.declare(name, this.dm.importValue(decodeValue(value)));
    }
    this.state.internalQueue.push(...snapshot.internalQueue.map(decodeEvent));
    this.externalQueue.push(...snapshot.externalQueue.map(decodeEvent));
    const now = this.engine.clock.now();
    for (const { due, request } of [...snapshot.delayedSends].sort((a, b) => a.due - b.due)) {
      if (due < now && overdueSends === 'drop') continue;
      this.schedule({
        event: request.event ?? undefined, target: request.target ?? undefined, type: request.type, sendid: request.sendid,
        anonymous: request.anonymous, delayMs: 0, data: decodeValue(request.data),
        pairs: request.pairs.map(([k, v]) => [k, decodeValue(v)] as const),
      }, Math.max(due, now));
    }
    for (const inv of snapshot.invocations) {
      const def = stateOf(inv.state).invokes[inv.invoke];
      if (!def) throw new SnapshotError(`snapshot names invoke ${inv.invoke} of state '${inv.state}', which the chart does not have`);
      this.invokeIds.set(def, inv.invokeid);
      if (inv.child) this.invocations.set(inv.invokeid, childInvocation(this.engine, inv.child));
    }
    for (const id of snapshot.cancelledInvokes) this.cancelledInvokes.add(id);
    for (const action of snapshot.pendingActions) {
      this.enqueue(externalEvent(`error.${action.prefix}.${action.action}`, {
        requestid: action.requestid, interactionid: action.interactionid ?? undefined, error: 'interrupted',
        description: 'the engine restarted before the outcome of this request arrived',
      }));
    }
    for (const h of this.engine.hooks) if (h.persist) h.persist.restore(this, snapshot.modules?.[h.persist.key]);
    this.dirty = false;
    // Scheduled even with nothing queued: a virtual clock advances only while the engine drains.
    this.engine.schedule(this);
  }

  /* ---------- running the algorithm ---------- */

  /** One macrostep: the initial one (event null, W3C interpret) or one external event's. */
  private runAlgorithm(event: ScxmlEvent | null): void {
    const tracing = this.engine.tracer.active;
    this.state.observer = tracing ? this.observer : null;
    this.inMacrostep = true;
    this.dm.beginMacrostep();
    try {
      if (event === null) interpret(this.state);
      else {
        for (const h of this.engine.hooks) h.beforeEvent?.(this, event);
        processExternalEvent(this.state, event);
      }
    } catch (err) {
      this.inMacrostep = false;
      if (err instanceof RunawayError || err instanceof LimitExceededError || err instanceof SandboxFailure) this.fail(err.message);
      else this.fail(`internal error: ${(err as Error).stack ?? String(err)}`);
      return;
    } finally {
      this.inMacrostep = false;
    }
    this.dirty = true;
    if (tracing) this.trace({ type: 'macrostep', event: event?.name ?? null, configuration: this.configuration });
    if (!this.state.running && this.status === 'running') this.complete();
  }

  /** W3C exitInterpreter after a top-level final: exit, then done.invoke to the parent. */
  private complete(): void {
    const final = this.state.finalState;
    const configuration = this.configuration;
    this.inMacrostep = true;
    try {
      exitInterpreter(this.state);
    } finally {
      this.inMacrostep = false;
    }
    const doneData = final?.donedata ? this.dm.exportValue(this.doneData(final.donedata)) : undefined;
    this.end({ status: 'final', final: final?.id ?? null, configuration, doneData });
    if (this.parent) {
      const { session, invokeid } = this.parent;
      session.trace({ type: 'invoke.done', invokeid });
      session.invocationEnded(invokeid);
      session.enqueue(externalEvent(`done.invoke.${invokeid}`, doneData, { invokeid }));
    }
  }

  private fail(message: string): void {
    if (this.isDone) return;
    const configuration = this.configuration;
    if (this.invocationsMade) {
      for (const inv of [...this.invocationsMade.values()]) inv.cancel();
      this.invocationsMade.clear();
    }
    this.end({ status: 'error', final: null, configuration, doneData: undefined, message });
    if (this.parent) {
      // An invoked session that fails will never send done.invoke: its parent learns it ended.
      const { session, invokeid } = this.parent;
      session.invocationEnded(invokeid);
      session.enqueue({ ...externalEvent('error.communication', { invokeid, message: `invoked session ${invokeid} failed: ${message}` }, { invokeid }), type: 'platform' });
    }
  }

  private end(result: SessionResult): void {
    this.trace({ type: 'session.end', status: result.status, final: result.final, ...(result.message ? { message: result.message } : {}) });
    this.status = result.status;
    this.state.running = false;
    this.clearDelayedSends();
    this.externalQueue.clear();
    try {
      this.dm.dispose();
    } catch {
      // A sandbox that cannot be taken apart (its code froze its own scope) is left to the GC.
    }
    this.result = result;
    this.resolveDone?.(result);
    this.engine.sessionEnded(this, result);
  }

  /** error.execution (and kin) raised while the algorithm runs: internal queue, and the trace. */
  private raiseError(event: ScxmlEvent): void {
    this.state.observer?.error(event);
    this.state.internalQueue.push(event);
  }

  /* ---------- AlgorithmHost ---------- */

  execute(block: ExecBlock): void {
    for (const node of block) {
      try {
        node.action.execute(node.compiled, this.exec, node);
      } catch (err) {
        if (err instanceof LimitExceededError || err instanceof SandboxFailure) throw err;
        const failure = err instanceof ActionFailure ? err : null;
        this.raiseError(errorExecution(failure ? failure.reason : err, failure ? failure.loc : node.loc));
        return;
      }
    }
  }

  doneData(donedata: DoneData): unknown {
    try {
      if (donedata.content) return evaluateContent(donedata.content, this.dm);
      return pairsToObject(evaluateParams(donedata.params, this.dm));
    } catch (err) {
      this.raiseError(errorExecution(err, donedata.content?.loc ?? donedata.params[0]?.loc ?? this.chart.root.loc));
      return undefined;
    }
  }

  initializeData(state: StateNode): void {
    for (const d of state.data) {
      if (Object.prototype.hasOwnProperty.call(this.initialData, d.id)) {
        this.dm.declare(d.id, this.dm.importValue(this.initialData[d.id]));
        continue;
      }
      try {
        if (d.expr) this.dm.declareExpression(d.id, d.expr);
        else this.dm.declare(d.id, d.inline ? inlineToValue(d.inline, this.dm) : undefined);
      } catch (err) {
        this.dm.declare(d.id, undefined);
        this.raiseError(errorExecution(err, d.loc));
      }
    }
  }

  startInvoke(inv: InvokeDef): void {
    const invokeid = inv.id ?? `${inv.state.id}.${this.engine.uniqueId('invoke')}`;
    try {
      if (inv.idlocation) this.dm.assign(inv.idlocation, invokeid);
      const type = inv.typeexpr ? String(this.dm.evaluate(inv.typeexpr)) : inv.type ?? 'scxml';
      const invoker = this.engine.invoker(type);
      if (!invoker) throw new EvaluationError(`no invoker for type '${type}'`);
      const srcText = inv.srcexpr ? String(this.dm.evaluate(inv.srcexpr)) : inv.src;
      const pairs: [string, unknown][] = inv.namelist.map((ref) => [ref.source, this.dm.evaluate(ref)]);
      pairs.push(...evaluateParams(inv.params, this.dm));
      const content = inv.content && !inv.inlineChart ? evaluateContent(inv.content, this.dm) : undefined;
      // Registered before it starts: a child may run to completion inside start(), and then
      // invocationEnded() must find (and remove) it.
      this.invokeIds.set(inv, invokeid);
      this.invocations.set(invokeid, NOT_STARTED);
      this.trace({ type: 'invoke.start', invokeid, invoketype: type, src: srcText ?? null });
      const invocation = invoker.start({
        invokeid, type,
        src: srcText ? new URL(srcText, this.chart.baseUrl) : null,
        chart: inv.inlineChart, content,
        data: this.dm.exportValue(pairsToObject(pairs)) as Record<string, unknown>,
        parent: this,
      });
      if (this.invocations.get(invokeid) === NOT_STARTED) this.invocations.set(invokeid, invocation);
    } catch (err) {
      this.invokeIds.delete(inv);
      this.invocations.delete(invokeid);
      this.raiseError(errorExecution(err, inv.loc));
    }
  }

  cancelInvoke(inv: InvokeDef): void {
    const invokeid = this.invokeIds.get(inv);
    if (invokeid === undefined) return;
    this.invokeIds.delete(inv);
    const invocation = this.invocations.get(invokeid);
    if (!invocation) return; // it already ended: its done.invoke is still to be delivered
    this.invocations.delete(invokeid);
    this.cancelledInvokes.add(invokeid);
    this.trace({ type: 'invoke.cancel', invokeid });
    invocation.cancel();
  }

  beforeExternalEvent(event: ScxmlEvent, active: readonly StateNode[]): void {
    for (const state of active) {
      for (const inv of state.invokes) {
        const invokeid = this.invokeIds.get(inv);
        if (invokeid === undefined) continue;
        if (invokeid === event.invokeid && inv.finalize.length) this.execute(inv.finalize);
        if (inv.autoforward) this.invocations.get(invokeid)?.deliver({ ...event, data: this.dm.exportValue(event.data) });
      }
    }
  }

  /* ---------- executable content ---------- */

  private createExecContext(): ExecContext {
    const session = this;
    return {
      sessionId: this.id,
      chart: this.chart,
      datamodel: this.dm,
      raise(name, data) {
        const q = session.state.internalQueue;
        if (q.length >= session.engine.limits.maxQueueLength) {
          throw new LimitExceededError(`the internal queue exceeded ${session.engine.limits.maxQueueLength} events (limit maxQueueLength)`);
        }
        q.push({ name, type: 'internal', sendid: undefined, origin: undefined, origintype: undefined, invokeid: undefined, data });
      },
      send: (request) => this.dispatchSend(request),
      cancel: (sendid) => this.cancelDelayedSend(sendid),
      log: (label, value, node) => this.engine.log(this, label, value, node),
      run(block) {
        for (const node of block) {
          try {
            node.action.execute(node.compiled, session.exec, node);
          } catch (err) {
            if (err instanceof ActionFailure || err instanceof LimitExceededError || err instanceof SandboxFailure) throw err;
            throw new ActionFailure(err, node.loc);
          }
        }
      },
      uniqueId: (prefix) => this.engine.uniqueId(prefix),
      evaluate: (ref) => this.dm.evaluate(ref),
      service: (name) => this.engine.service(name),
    };
  }

  private dispatchSend(request: SendRequest): void {
    const processor = this.engine.ioProcessor(request.type);
    const sendid = request.anonymous ? undefined : request.sendid;
    if (!processor) throw new EvaluationError(`<send> type '${request.type}' is not supported`, null, sendid);
    const fired: TraceBody = { type: 'send.fired', sendid: request.sendid, event: request.event ?? null, target: request.target ?? null };
    if (request.delayMs <= 0) {
      this.trace(fired);
      try {
        processor.send(this, request);
      } catch (err) {
        // Errors caused by a send carry its id (W3C 5.10.1, sendid of error events).
        throw err instanceof EvaluationError ? new EvaluationError(err.message, err.ref, sendid) : err;
      }
      return;
    }
    this.schedule(request, this.engine.clock.now() + request.delayMs);
  }

  /** Put a send on the clock, due at an absolute time (new sends, and sends restored from a snapshot). */
  private schedule(request: SendRequest, due: number): void {
    const processor = this.engine.ioProcessor(request.type);
    const handle = this.engine.clock.setTimer(due - this.engine.clock.now(), () => {
      this.delayed.delete(handle);
      if (this.isDone || !processor) return;
      this.dirty = true;
      this.trace({ type: 'send.fired', sendid: request.sendid, event: request.event ?? null, target: request.target ?? null });
      try {
        processor.send(this, request);
      } catch (err) {
        this.raisePlatformError('error.execution', (err as Error).message, request.sendid);
      }
    });
    this.delayed.set(handle, request);
    this.trace({ type: 'send.scheduled', sendid: request.sendid, event: request.event ?? null, target: request.target ?? null, sendtype: request.type, due: handle.due });
  }

  private cancelDelayedSend(sendid: string): void {
    let cancelled = false;
    for (const [t, request] of this.delayed) {
      if (request.sendid !== sendid) continue;
      this.engine.clock.clearTimer(t);
      this.delayed.delete(t);
      cancelled = true;
    }
    if (cancelled) this.trace({ type: 'send.cancelled', sendid });
  }

  private clearDelayedSends(): void {
    if (!this.delayedMade) return;
    for (const t of this.delayedMade.keys()) this.engine.clock.clearTimer(t);
    this.delayedMade.clear();
  }

  get pendingDelayedSends(): number {
    return this.delayedMade?.size ?? 0;
  }
}
