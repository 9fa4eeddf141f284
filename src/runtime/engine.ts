import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ActionDefinition, ActionNode, CompiledChart } from '../model/chart.js';
import type { ChartDataModel, DataModelDefinition } from '../datamodel/datamodel.js';
import { ecmascriptDataModel } from '../datamodel/ecmascript/index.js';
import { nullDataModel } from '../datamodel/null/index.js';
import { CORE_ACTIONS } from '../exec/core-actions.js';
import { actionKey } from '../compile/build-chart.js';
import { loadChart, type ChartSource, type LoadResult } from '../compile/load.js';
import { formatLocation, type SourceLocation } from '../model/location.js';
import { Tracer } from '../trace/tracer.js';
import type { TraceListener } from '../trace/trace-event.js';
import { copyData } from '../datamodel/copy-data.js';
import type { ScxmlEvent } from '../model/event.js';
import { RealClock, VirtualClock, type Clock } from './clock.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import type { EventIOProcessor } from './io-processor.js';
import type { Invoker } from './invoker.js';
import { Session, type ParentLink, type SessionResult } from './session.js';
import { createScxmlProcessor } from '../io/scxml-processor.js';
import { BasicHttpProcessor } from '../io/basichttp-processor.js';
import { createScxmlInvoker } from '../invoke/scxml-invoker.js';
import { loadQuickJs } from '../datamodel/ecmascript/isolated.js';

export interface EngineOptions {
  /** Sandbox of the ECMAScript datamodel: `fast` (default) or `isolated`. */
  readonly sandbox?: 'fast' | 'isolated';
  /** `real` (default), `virtual`, or a Clock of your own. */
  readonly clock?: 'real' | 'virtual' | Clock;
  readonly limits?: Partial<Limits>;
  /** Custom executable content (registered exactly like the core elements). */
  readonly actions?: readonly ActionDefinition<any>[];
  /** Modules to install (e.g. the ixn module). */
  readonly modules?: readonly EngineModule[];
  /** Receives every <log>; the default writes nothing. */
  readonly onLog?: (entry: LogEntry) => void;
}

export interface LogEntry {
  readonly sessionId: string;
  readonly label: string | undefined;
  readonly value: unknown;
  readonly location: SourceLocation;
}

/** Hooks a module (ixn, billing) attaches to every session's life. */
export interface SessionHooks {
  /** After the datamodel exists, before the first macrostep: define module objects (_genesys). */
  sessionCreated?(session: Session): void;
  /** Before the algorithm sees an external event (e.g. bring the interaction model up to date). */
  beforeEvent?(session: Session, event: ScxmlEvent): void;
  sessionEnded?(session: Session, result: SessionResult): void;
}

/** A module: actions, services and hooks installed on one engine (no process-wide state). */
export interface EngineModule {
  readonly name: string;
  install(engine: Engine): void;
}

export interface StartOptions {
  /** Values for top-level <data> ids, overriding their expressions. */
  readonly data?: Readonly<Record<string, unknown>>;
  readonly sessionId?: string;
  readonly parent?: ParentLink;
}

/**
 * The engine: registries (actions, datamodels, I/O processors, invokers), compiled-chart cache,
 * live sessions, the clock, and the run queue that feeds sessions their events in turn.
 */
export class Engine {
  readonly clock: Clock;
  readonly limits: Limits;
  readonly sandbox: 'fast' | 'isolated';
  readonly actions = new Map<string, ActionDefinition<unknown>>();
  readonly datamodels = new Map<string, DataModelDefinition>();
  private readonly ioProcessors = new Map<string, EventIOProcessor>();
  private readonly ioProcessorList: EventIOProcessor[] = [];
  private readonly invokers = new Map<string, Invoker>();
  private readonly services = new Map<string, unknown>();
  private readonly sessions = new Map<string, Session>();
  readonly hooks: SessionHooks[] = [];
  private readonly chartCache = new Map<string, LoadResult>();
  private readonly chartModels = new WeakMap<CompiledChart, ChartDataModel>();
  private readonly runQueue: Session[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private drainScheduled = false;
  private pendingOperations = 0;
  private idCounter = 0;
  private readonly idPrefix = randomUUID().slice(0, 8);
  private readonly onLog: ((entry: LogEntry) => void) | undefined;
  readonly basicHttp: BasicHttpProcessor;
  readonly tracer: Tracer;

  constructor(options: EngineOptions = {}) {
    this.clock = options.clock === 'virtual' ? new VirtualClock() : typeof options.clock === 'object' ? options.clock : new RealClock();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.tracer = new Tracer(() => this.clock.now());
    this.sandbox = options.sandbox ?? 'fast';
    this.onLog = options.onLog;
    for (const a of CORE_ACTIONS) this.registerAction(a);
    for (const a of options.actions ?? []) this.registerAction(a);
    this.registerDataModel(ecmascriptDataModel);
    this.registerDataModel(nullDataModel);
    this.registerIOProcessor(createScxmlProcessor());
    this.basicHttp = new BasicHttpProcessor(this);
    this.registerIOProcessor(this.basicHttp);
    this.registerInvoker(createScxmlInvoker(this));
    for (const m of options.modules ?? []) this.use(m);
  }

  use(module: EngineModule): this {
    module.install(this);
    return this;
  }

  addHooks(hooks: SessionHooks): void {
    this.hooks.push(hooks);
  }

  /* ---------- registries ---------- */

  registerAction(def: ActionDefinition<any>): void {
    this.actions.set(actionKey(def.namespace, def.name), def);
  }
  registerDataModel(def: DataModelDefinition): void {
    this.datamodels.set(def.name, def);
  }
  registerIOProcessor(p: EventIOProcessor): void {
    this.ioProcessorList.push(p);
    for (const name of [p.type, ...p.aliases]) this.ioProcessors.set(name, p);
  }
  registerInvoker(inv: Invoker): void {
    for (const t of inv.types) this.invokers.set(t.replace(/\/$/, ''), inv);
  }
  registerService(name: string, service: unknown): void {
    this.services.set(name, service);
  }
  ioProcessor(type: string): EventIOProcessor | undefined {
    return this.ioProcessors.get(type);
  }
  invoker(type: string): Invoker | undefined {
    return this.invokers.get(type.replace(/\/$/, ''));
  }
  service<T>(name: string): T | undefined {
    return this.services.get(name) as T | undefined;
  }

  /** _ioprocessors: each processor's location for `session`, under its type URI and aliases. */
  ioProcessorLocations(session: Session): Record<string, { location: string }> {
    const out: Record<string, { location: string }> = {};
    for (const p of this.ioProcessorList) {
      const location = p.location(session);
      if (location === undefined) continue;
      for (const name of [p.type, ...p.aliases]) out[name] = { location };
    }
    return out;
  }

  /* ---------- charts ---------- */

  /** Load and compile a chart (cached by path); diagnostics included, chart null on errors. */
  load(source: string | ChartSource): LoadResult {
    const src: ChartSource = typeof source === 'string'
      ? (/^\s*</.test(source) ? { xml: source } : { path: source })
      : source;
    if (!('path' in src)) return loadChart(src, this);
    const key = path.resolve(src.path);
    let result = this.chartCache.get(key);
    if (!result) this.chartCache.set(key, (result = loadChart(src, this)));
    return result;
  }

  chartDataModel(chart: CompiledChart): ChartDataModel {
    let model = this.chartModels.get(chart);
    if (!model) {
      model = this.datamodels.get(chart.datamodel)!.createChartModel(chart, { sandbox: chart.sandbox ?? this.sandbox, limits: this.limits });
      this.chartModels.set(chart, model);
    }
    return model;
  }

  /* ---------- sessions ---------- */

  /** Create a session and queue its start; it runs when the engine next drains. */
  start(chart: CompiledChart, options: StartOptions = {}): Session {
    const id = options.sessionId ?? randomUUID();
    if (this.sessions.has(id)) throw new Error(`a session with id '${id}' is already running`);
    const session = new Session(this, id, chart, options.data ?? {}, options.parent ?? null);
    this.sessions.set(id, session);
    this.schedule(session);
    return session;
  }

  session(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  sessionEnded(session: Session, result: SessionResult): void {
    this.sessions.delete(session.id);
    for (const h of this.hooks) h.sessionEnded?.(session, result);
    this.checkIdle();
  }

  uniqueId(prefix: string): string {
    return `${prefix}.${this.idPrefix}.${++this.idCounter}`;
  }

  log(session: Session, label: string | undefined, value: unknown, node: ActionNode): void {
    this.onLog?.({ sessionId: session.id, label, value, location: node.loc });
    if (this.tracer.active) this.tracer.emit(session.id, { type: 'log', label: label ?? null, value: copyData(value), location: formatLocation(node.loc) });
  }

  /** Listen to the trace of every session (also published on node:diagnostics_channel 'orchestrion:trace'). */
  onTrace(listener: TraceListener): () => void {
    return this.tracer.on(listener);
  }

  /* ---------- scheduling ---------- */

  schedule(session: Session): void {
    if (!session.queued) {
      session.queued = true;
      this.runQueue.push(session);
    }
    this.requestDrain();
  }

  /** Count an operation in flight (HTTP request, adapter call): virtual time waits for it. */
  async track<T>(operation: Promise<T>): Promise<T> {
    this.pendingOperations++;
    try {
      return await operation;
    } finally {
      this.pendingOperations--;
      this.requestDrain();
    }
  }

  private requestDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  /** Feed sessions one event each in turn; with virtual time, jump to the next timer when all wait. */
  private drain(): void {
    this.drainScheduled = false;
    for (let budget = 10_000; budget > 0; budget--) {
      const session = this.runQueue.shift();
      if (!session) {
        if (this.clock instanceof VirtualClock && this.pendingOperations === 0 && this.clock.advanceToNext()) continue;
        break;
      }
      session.queued = false;
      session.step();
      if (session.hasWork) this.schedule(session);
    }
    if (this.runQueue.length || (this.clock instanceof VirtualClock && this.clock.pendingTimers && !this.pendingOperations)) this.requestDrain();
    this.checkIdle();
  }

  /** Nothing queued, no timer pending, no operation in flight. */
  get isIdle(): boolean {
    return this.runQueue.length === 0 && this.clock.pendingTimers === 0 && this.pendingOperations === 0 && !this.drainScheduled;
  }

  whenIdle(): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (!this.isIdle || this.idleWaiters.length === 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /* ---------- lifecycle ---------- */

  /** Load what the isolated sandbox needs (QuickJS); await it before starting isolated sessions. */
  async ready(): Promise<void> {
    await loadQuickJs();
  }

  /** Open the BasicHTTP listener on loopback; its URL appears in _ioprocessors of later sessions. */
  listen(options: { host?: string; port?: number } = {}): Promise<string> {
    return this.basicHttp.listen(options);
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions.values()]) s.stop();
    await this.basicHttp.close();
  }
}

