import { randomUUID } from 'node:crypto';
import { randomSessionId } from './session-id.js';
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
import { rootChart, Session, type ParentLink, type SessionResult } from './session.js';
import { Fifo } from '../model/fifo.js';
import { SNAPSHOT_VERSION, SnapshotError, type SessionSnapshot, type SessionStore } from './snapshot.js';
import { createScxmlProcessor } from '../io/scxml-processor.js';
import { BasicHttpProcessor } from '../io/basichttp-processor.js';
import { createScxmlInvoker } from '../invoke/scxml-invoker.js';
import { loadQuickJs } from '../datamodel/ecmascript/isolated.js';

/** Real time an operation in flight may hold virtual time still without progress (see watchForStall). */
const STALL_MS = 50;

/** What the engine reports about itself; pino's logger fits, and so does `console`. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EngineOptions {
  /** Sandbox of the ECMAScript datamodel: `fast` (default) or `isolated`. */
  readonly sandbox?: 'fast' | 'isolated';
  /** `real` (default), `virtual`, or a Clock of your own. */
  readonly clock?: 'real' | 'virtual' | Clock;
  readonly limits?: Partial<Limits>;
  /** Custom executable content (registered exactly like the core elements). */
  readonly actions?: readonly ActionDefinition<any>[];
  /**
   * Where sessions are saved between macrosteps, so a restarted engine resumes them
   * (`await engine.resume()`). Default: none (sessions live in memory only).
   */
  readonly store?: SessionStore;
  /** On restore, delayed sends whose due time has passed: 'fire' them now, in due order (default), or 'drop' them. */
  readonly overdueSends?: 'fire' | 'drop';
  /** Modules to install (e.g. the ixn module). */
  readonly modules?: readonly EngineModule[];
  /**
   * The engine's own warnings and errors (a session that could not be saved or resumed, a module
   * that failed to handle a switch event) go here, and every <log> as info. Default: warnings as
   * process warnings, <log> nowhere (unless onLog is given).
   */
  readonly logger?: Logger;
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
  /**
   * Variables the module defines in every session, each by its function (through the session's
   * datamodel: aliasRoot, setPath, defineFunction). A datamodel may call it when chart code first
   * reads the variable rather than when the session is created, so that idle sessions cost less.
   */
  readonly variables?: Readonly<Record<string, (session: Session) => void>>;
  /**
   * Variables the module defines in every session (snapshots leave them out; the module makes
   * them again). The names of `variables` are reserved too.
   */
  readonly reservedVariables?: readonly string[];
  /**
   * What the module keeps of a session across a snapshot: `save` returns JSON-compatible data
   * (stored under `key` in the snapshot's `modules`), `restore` gets it back once the restored
   * session has its datamodel, configuration and queues (undefined when the snapshot has none).
   */
  readonly persist?: {
    readonly key: string;
    save(session: Session): unknown;
    restore(session: Session, saved: unknown): void;
  };
}

/** A module: actions, services and hooks installed on one engine (no process-wide state). */
export interface EngineModule {
  readonly name: string;
  install(engine: Engine): void;
}

/** The start data of sessions started without any (never written: sessions only read it). */
const NO_DATA: Readonly<Record<string, unknown>> = Object.freeze({});

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
  private readonly reserved = new Set<string>();
  private readonly moduleVariableDefs = new Map<string, (session: Session) => void>();
  private readonly closers: (() => void | Promise<void>)[] = [];
  private readonly chartCache = new Map<string, LoadResult>();
  /**
   * Charts this engine compiled, by fingerprint (snapshots name their chart so); held weakly, so
   * a chart compiled from a string goes (with its realm) once nothing uses it.
   */
  private readonly chartsByFingerprint = new Map<string, WeakRef<CompiledChart>>();
  private readonly store: SessionStore | null;
  private readonly overdueSends: 'fire' | 'drop';
  private readonly chartModels = new WeakMap<CompiledChart, ChartDataModel>();
  private readonly runQueue = new Fifo<Session>();
  private readonly idleWaiters: (() => void)[] = [];
  private drainScheduled = false;
  private stallTimer: NodeJS.Timeout | null = null;
  /** Sessions stepped so far (progress, as the stall watch sees it). */
  private stepsRun = 0;
  private pendingOperations = 0;
  private idCounter = 0;
  private readonly idPrefix = randomUUID().slice(0, 8);
  private readonly onLog: ((entry: LogEntry) => void) | undefined;
  private readonly logger: Logger | undefined;
  readonly basicHttp: BasicHttpProcessor;
  readonly tracer: Tracer;

  constructor(options: EngineOptions = {}) {
    this.clock = options.clock === 'virtual' ? new VirtualClock() : typeof options.clock === 'object' ? options.clock : new RealClock();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.tracer = new Tracer(() => this.clock.now());
    this.sandbox = options.sandbox ?? 'fast';
    this.onLog = options.onLog;
    this.logger = options.logger;
    this.store = options.store ?? null;
    this.overdueSends = options.overdueSends ?? 'fire';
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
    for (const name of hooks.reservedVariables ?? []) this.reserved.add(name);
    for (const [name, define] of Object.entries(hooks.variables ?? {})) {
      if (this.moduleVariableDefs.has(name)) throw new Error(`two modules define the variable ${name}`);
      this.moduleVariableDefs.set(name, define);
      this.reserved.add(name);
    }
  }

  /** Variables modules define in every session. */
  get reservedVariables(): ReadonlySet<string> {
    return this.reserved;
  }

  /** The modules' variables, each with the function that defines it in a session (SessionHooks.variables). */
  get moduleVariables(): ReadonlyMap<string, (session: Session) => void> {
    return this.moduleVariableDefs;
  }

  /** Run `fn` when the engine closes (modules release what they hold: timers, connections). */
  onClose(fn: () => void | Promise<void>): void {
    this.closers.push(fn);
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
    if (!('path' in src)) return this.remember(loadChart(src, this));
    const key = path.resolve(src.path);
    const cached = this.chartCache.get(key);
    if (cached) return cached;
    const result = this.remember(loadChart(src, this));
    // Only charts that loaded are cached: a file fixed or created later is read again.
    if (result.chart) this.chartCache.set(key, result);
    return result;
  }

  private remember(result: LoadResult): LoadResult {
    if (result.chart) {
      for (const [key, ref] of this.chartsByFingerprint) if (!ref.deref()) this.chartsByFingerprint.delete(key);
      this.chartsByFingerprint.set(result.chart.fingerprint, new WeakRef(result.chart));
    }
    return result;
  }

  chartDataModel(chart: CompiledChart): ChartDataModel {
    let model = this.chartModels.get(chart);
    if (!model) {
      model = this.datamodels.get(chart.datamodel)!.createChartModel(chart, {
        sandbox: chart.sandbox ?? this.sandbox, limits: this.limits, moduleVariables: [...this.moduleVariableDefs.keys()],
      });
      this.chartModels.set(chart, model);
    }
    return model;
  }

  /* ---------- sessions ---------- */

  /** Create a session and queue its start; it runs when the engine next drains. */
  start(chart: CompiledChart, options: StartOptions = {}): Session {
    const id = options.sessionId ?? randomSessionId();
    if (this.sessions.has(id)) throw new Error(`a session with id '${id}' is already running`);
    // A copy, taken now: later changes to the caller's object never reach the session.
    const data = options.data === undefined ? NO_DATA : (copyData(options.data) ?? NO_DATA) as Record<string, unknown>;
    const session = new Session(this, id, chart, data, options.parent ?? null);
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
    if (this.store) void this.track(this.store.delete(session.id));
    for (const h of this.hooks) h.sessionEnded?.(session, result);
    this.checkIdle();
  }

  uniqueId(prefix: string): string {
    return `${prefix}.${this.idPrefix}.${++this.idCounter}`;
  }

  log(session: Session, label: string | undefined, value: unknown, node: ActionNode): void {
    if (!this.onLog && !this.logger && !this.tracer.active) return;
    // The host only ever sees plain data, never a sandbox object whose methods it might call.
    const plain = session.dm.exportValue(value);
    this.onLog?.({ sessionId: session.id, label, value: plain, location: node.loc });
    this.logger?.info({ session: session.id, label, value: plain, location: formatLocation(node.loc) }, 'log');
    if (this.tracer.active) this.tracer.emit(session.id, { type: 'log', label: label ?? null, value: plain, location: formatLocation(node.loc) });
  }

  /** A warning about the engine's own work: to the logger, or as a process warning. */
  warn(message: string, context: object = {}): void {
    if (this.logger) this.logger.warn(context, message);
    else process.emitWarning(message);
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
      this.stepsRun++;
      session.step();
      if (session.hasWork) this.schedule(session);
    }
    if (this.runQueue.length || (this.clock instanceof VirtualClock && this.clock.pendingTimers && !this.pendingOperations)) this.requestDrain();
    else if (this.clock instanceof VirtualClock && this.clock.pendingTimers && this.pendingOperations) this.watchForStall();
    if (this.store) this.saveChangedSessions(this.store);
    this.checkIdle();
  }

  /* ---------- persistence ---------- */

  /** Save every session changed since its last save (between macrosteps: the drain loop's end). */
  private saveChangedSessions(store: SessionStore): void {
    for (const session of this.sessions.values()) {
      if (!session.dirty || session.isDone) continue;
      session.dirty = false;
      let snapshot: SessionSnapshot;
      try {
        snapshot = session.snapshot();
      } catch (err) {
        this.warn(`session ${session.id} could not be saved: ${(err as Error).message}`, { session: session.id });
        continue;
      }
      void this.track(store.save(snapshot));
    }
  }

  /**
   * Resume a session from a snapshot. Its chart is found among the charts this engine loaded
   * (by fingerprint) or loaded from the snapshot's file; a chart that changed since the snapshot
   * was taken is refused unless `ifChartChanged: 'use-current'`.
   */
  restore(snapshot: SessionSnapshot, options: { chart?: CompiledChart; ifChartChanged?: 'refuse' | 'use-current' } = {}): Session {
    if (snapshot.version !== SNAPSHOT_VERSION) throw new SnapshotError(`snapshot version ${String(snapshot.version)} is not supported (this engine reads ${SNAPSHOT_VERSION})`);
    if (this.sessions.has(snapshot.sessionId)) throw new SnapshotError(`session ${snapshot.sessionId} is already running`);
    const chart = options.chart ?? this.chartOf(snapshot);
    if (rootChart(chart).fingerprint !== snapshot.chart.fingerprint && options.ifChartChanged !== 'use-current') {
      throw new SnapshotError(`the chart ${snapshot.chart.file} changed since session ${snapshot.sessionId} was saved; restore with ifChartChanged: 'use-current' to resume it on the current chart`);
    }
    const parent = snapshot.parent ? this.sessions.get(snapshot.parent.sessionId) : undefined;
    const session = new Session(this, snapshot.sessionId, chart, {}, parent && snapshot.parent ? { session: parent, invokeid: snapshot.parent.invokeid } : null);
    this.sessions.set(session.id, session);
    session.restore(snapshot, this.overdueSends);
    return session;
  }

  /** The snapshot's chart: one this engine loaded (same fingerprint), else its file; then the embedded chart in it. */
  private chartOf(snapshot: SessionSnapshot): CompiledChart {
    let root = this.chartsByFingerprint.get(snapshot.chart.fingerprint)?.deref();
    if (!root) {
      const loaded = this.load(snapshot.chart.file);
      if (!loaded.chart) throw new SnapshotError(`the chart ${snapshot.chart.file} of session ${snapshot.sessionId} cannot be loaded`);
      root = loaded.chart;
    }
    const embedded = snapshot.chart.embedded;
    if (!embedded) return root;
    const inline = root.stateById.get(embedded.state)?.invokes[embedded.invoke]?.inlineChart;
    if (!inline) throw new SnapshotError(`the chart ${snapshot.chart.file} has no inline chart at state '${embedded.state}', invoke ${embedded.invoke}`);
    return inline;
  }

  /** Restore every session of the store (parents before the sessions they invoked). */
  async resume(): Promise<Session[]> {
    if (!this.store) throw new Error('this engine has no session store');
    const snapshots = await this.store.loadAll();
    const byId = new Map(snapshots.map((s) => [s.sessionId, s]));
    const depth = (s: SessionSnapshot): number => (s.parent && byId.has(s.parent.sessionId) ? 1 + depth(byId.get(s.parent.sessionId)!) : 0);
    const restored: Session[] = [];
    for (const snapshot of [...snapshots].sort((a, b) => depth(a) - depth(b))) {
      try {
        restored.push(this.restore(snapshot));
      } catch (err) {
        this.warn(`session ${snapshot.sessionId} could not be resumed: ${(err as Error).message}`, { session: snapshot.sessionId });
      }
    }
    return restored;
  }

  /**
   * Virtual time waits for operations in flight (an HTTP send, an adapter request) — but not
   * forever: when one has made no progress for a little real time (an adapter that never
   * answers), time moves to the next timer, so request timeouts still fire.
   */
  private watchForStall(): void {
    if (this.stallTimer) return;
    const steps = this.stepsRun;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      if (this.stepsRun !== steps || this.runQueue.length || !this.pendingOperations) return this.requestDrain();
      if (this.clock instanceof VirtualClock) this.clock.advanceToNext();
      this.requestDrain();
    }, STALL_MS);
  }

  /** Nothing queued, no timer pending, no operation in flight. */
  get isIdle(): boolean {
    return this.runQueue.length === 0 && this.clock.pendingTimers === 0 && this.pendingOperations === 0 && !this.drainScheduled;
  }

  whenIdle(): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    // Something may have been queued or timed from outside a drain (a switch's timers): look.
    this.requestDrain();
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

  /** Open the BasicHTTP listener on loopback; its URL appears in _ioprocessors read from then on. */
  listen(options: { host?: string; port?: number } = {}): Promise<string> {
    return this.basicHttp.listen(options);
  }

  /**
   * Stop every session and release the engine's resources. With a store, sessions are left
   * saved (so another engine can resume them) unless `{ stopSessions: true }`.
   */
  async close(options: { stopSessions?: boolean } = {}): Promise<void> {
    if (this.store && !options.stopSessions) {
      this.saveChangedSessions(this.store);
      for (const s of this.sessions.values()) s.detach();
      this.sessions.clear();
    } else for (const s of [...this.sessions.values()]) s.stop();
    await this.basicHttp.close();
    if (this.stallTimer) clearTimeout(this.stallTimer);
    for (const fn of this.closers.splice(0)) await fn();
  }
}

