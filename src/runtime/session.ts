import type { CompiledChart, DoneData, ExecBlock, InvokeDef, StateNode } from '../model/chart.js';
import { externalEvent, platformEvent, type ScxmlEvent } from '../model/event.js';
import type { SessionDataModel } from '../datamodel/datamodel.js';
import { EvaluationError } from '../datamodel/datamodel.js';
import type { ExecContext, SendRequest } from '../exec/context.js';
import { evaluateContent, evaluateParams, inlineToValue, pairsToObject } from '../exec/values.js';
import type { AlgorithmHost, InterpreterState } from '../semantics/state.js';
import { activeStateIds, exitInterpreter, interpret, processExternalEvent, RunawayError } from '../semantics/interpreter.js';
import { errorExecution } from '../semantics/select-transitions.js';
import type { SourceLocation } from '../model/location.js';
import type { TimerHandle } from './clock.js';
import type { Engine } from './engine.js';
import type { Invocation } from './invoker.js';
import { LimitExceededError } from './limits.js';
import { copyData } from '../datamodel/copy-data.js';
import { SessionObserver } from '../trace/session-observer.js';
import type { TraceBody } from '../trace/trace-event.js';

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
  readonly done: Promise<SessionResult>;
  /** Set while the algorithm runs, so platform errors go to the internal queue. */
  private inMacrostep = false;
  private readonly externalQueue: ScxmlEvent[] = [];
  private readonly invocations = new Map<string, Invocation>();
  private readonly invokeIds = new Map<InvokeDef, string>();
  private readonly cancelledInvokes = new Set<string>();
  private readonly delayed = new Map<string, Set<TimerHandle>>();
  private readonly exec: ExecContext;
  private readonly observer: SessionObserver;
  private resolveDone!: (r: SessionResult) => void;
  /** Queued in the engine's run queue. */
  queued = false;
  /** Sends still on the wire, and deliveries held back until they complete. */
  private outgoing = 0;
  private readonly heldDeliveries: (() => void)[] = [];

  constructor(
    readonly engine: Engine,
    readonly id: string,
    readonly chart: CompiledChart,
    private readonly initialData: Readonly<Record<string, unknown>>,
    readonly parent: ParentLink | null,
  ) {
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
    const active = new Uint8Array(chart.states.length);
    this.dm = engine.chartDataModel(chart).createSession({
      sessionid: id,
      name: chart.name,
      ioprocessors: engine.ioProcessorLocations(this),
      In: (stateId: string) => {
        const s = chart.stateById.get(String(stateId));
        return s !== undefined && active[s.index] === 1;
      },
    });
    this.state = {
      chart, dm: this.dm, host: this, active, entered: new Uint8Array(chart.states.length),
      historyValue: new Map(), internalQueue: [], statesToInvoke: new Set(), running: false,
      finalState: null, maxMicrosteps: engine.limits.maxMicrosteps, observer: null,
    };
    this.observer = new SessionObserver(engine.tracer, id);
    this.exec = this.createExecContext();
    for (const h of engine.hooks) h.sessionCreated?.(this);
  }

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
    this.engine.schedule(this);
  }

  /** Send a named external event from outside the engine (API, CLI). */
  send(name: string, data?: unknown): void {
    this.enqueue(externalEvent(name, copyData(data)));
  }

  get hasWork(): boolean {
    return this.status === 'starting' || (this.status === 'running' && this.externalQueue.length > 0);
  }

  get runningInvocations(): number {
    return this.invocations.size;
  }

  /** Run the initial macrostep now rather than when the engine next drains (invoked children). */
  startNow(): void {
    if (this.status !== 'starting') return;
    this.status = 'running';
    this.trace({ type: 'session.start', chart: this.chart.file, name: this.chart.name, parent: this.parent?.session.id ?? null });
    this.runAlgorithm(null, () => interpret(this.state));
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
    if (event.invokeid !== undefined && this.cancelledInvokes.has(event.invokeid)) return;
    this.runAlgorithm(event, () => {
      for (const h of this.engine.hooks) h.beforeEvent?.(this, event);
      processExternalEvent(this.state, event);
    });
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
    else this.heldDeliveries.push(deliver);
  }

  /** A processor put a send on the wire; call the returned function once it has arrived or failed. */
  beginOutgoing(): () => void {
    this.outgoing++;
    let finished = false;
    return () => {
      if (finished) return;
      finished = true;
      if (--this.outgoing > 0) return;
      for (const deliver of this.heldDeliveries.splice(0)) deliver();
    };
  }

  /** An invoked child session ended on its own (done.invoke follows as an event). */
  invocationEnded(invokeid: string): void {
    this.invocations.delete(invokeid);
  }

  invocation(invokeid: string): Invocation | undefined {
    return this.invocations.get(invokeid);
  }

  /* ---------- running the algorithm ---------- */

  private runAlgorithm(event: ScxmlEvent | null, run: () => void): void {
    const tracing = this.engine.tracer.active;
    this.state.observer = tracing ? this.observer : null;
    this.inMacrostep = true;
    this.dm.beginMacrostep();
    try {
      run();
    } catch (err) {
      this.inMacrostep = false;
      if (err instanceof RunawayError || err instanceof LimitExceededError) this.fail(err.message);
      else this.fail(`internal error: ${(err as Error).stack ?? String(err)}`);
      return;
    } finally {
      this.inMacrostep = false;
    }
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
    for (const inv of [...this.invocations.values()]) inv.cancel();
    this.invocations.clear();
    this.end({ status: 'error', final: null, configuration, doneData: undefined, message });
  }

  private end(result: SessionResult): void {
    this.trace({ type: 'session.end', status: result.status, final: result.final, ...(result.message ? { message: result.message } : {}) });
    this.status = result.status;
    this.state.running = false;
    for (const timers of this.delayed.values()) for (const t of timers) this.engine.clock.clearTimer(t);
    this.delayed.clear();
    this.externalQueue.length = 0;
    this.dm.dispose();
    this.resolveDone(result);
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
        if (err instanceof LimitExceededError) throw err;
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
      const invocation = invoker.start({
        invokeid, type,
        src: srcText ? new URL(srcText, this.chart.baseUrl) : null,
        chart: inv.inlineChart, content,
        data: this.dm.exportValue(pairsToObject(pairs)) as Record<string, unknown>,
        parent: this,
      });
      if (this.invocations.get(invokeid) === NOT_STARTED) this.invocations.set(invokeid, invocation);
      this.trace({ type: 'invoke.start', invokeid, invoketype: type, src: srcText ?? null });
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
            if (err instanceof ActionFailure || err instanceof LimitExceededError) throw err;
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
    let timers = this.delayed.get(request.sendid);
    if (!timers) this.delayed.set(request.sendid, (timers = new Set()));
    const set = timers;
    const handle = this.engine.clock.setTimer(request.delayMs, () => {
      set.delete(handle);
      if (set.size === 0) this.delayed.delete(request.sendid);
      if (this.isDone) return;
      this.trace(fired);
      try {
        processor.send(this, request);
      } catch (err) {
        this.raisePlatformError('error.execution', (err as Error).message, request.sendid);
      }
    });
    set.add(handle);
    this.trace({ type: 'send.scheduled', sendid: request.sendid, event: request.event ?? null, target: request.target ?? null, sendtype: request.type, due: handle.due });
  }

  private cancelDelayedSend(sendid: string): void {
    const timers = this.delayed.get(sendid);
    if (!timers) return;
    for (const t of timers) this.engine.clock.clearTimer(t);
    this.delayed.delete(sendid);
    this.trace({ type: 'send.cancelled', sendid });
  }

  get pendingDelayedSends(): number {
    let n = 0;
    for (const t of this.delayed.values()) n += t.size;
    return n;
  }
}
