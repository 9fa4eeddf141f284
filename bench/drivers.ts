// One interface over the three engines, so every workload runs the same loop on each.
//
// - Orchestrion `api`: session.send(), and the engine drains its run queue (setImmediate turns,
//   up to 10,000 steps each); settle() awaits engine.whenIdle().
// - Orchestrion `sync`: session.send() then session.step(), the run-queue entry point, at once:
//   the same macrostep as the drain runs, minus the run-queue hop. A fair equivalent of the
//   peers' synchronous send, but not a public way to drive sessions.
// - SCION (@scion-scxml/scxml 4.x, the Node build): one prepared model per session. Sessions
//   made from one prepared model share one vm context, so their datamodels are the same
//   variables; preparing per session is what isolation costs in SCION. `shared` (one model for
//   all sessions, datamodel NOT isolated) is measured for reference only.
// - XState v5: createActor(machine).start(), actor.send(); context made per actor.
import { createRequire } from 'node:module';
import { createActor, type AnyActor, type AnyStateMachine } from 'xstate';
import { createEngine, Engine, type CompiledChart, type Session } from '../src/index.js';

export type EngineName = 'orchestrion' | 'scion' | 'xstate';

export interface Driver<S = unknown> {
  readonly engine: EngineName;
  readonly variant: string;
  /** Create and start one session (Orchestrion: its first macrostep runs at the next settle()). */
  create(): S | Promise<S>;
  /** Deliver one event. */
  send(s: S, event: string): void;
  /** Let the engine process what was sent; null when send() already processed it. */
  settle(): Promise<void> | null;
  /** A datamodel variable of the session (to check the work was done). */
  read(s: S, variable: string): unknown;
  configuration(s: S): string[];
  /** The states entered while one event is processed (to check the deep workload's semantics). */
  enteredBy(s: S, event: string): Promise<string[]>;
  close(): Promise<void>;
}

/* ---------- Orchestrion ---------- */

export interface OrchestrionOptions {
  readonly mode: 'fast' | 'isolated';
  /** false: a bare Engine without the interaction module that createEngine() installs. */
  readonly modules?: boolean;
}

/** Both ways of driving one engine and chart (they share sessions). */
export async function orchestrionDrivers(scxml: string, o: OrchestrionOptions): Promise<{ api: Driver<Session>; sync: Driver<Session> }> {
  const engine = o.modules === false ? new Engine({ sandbox: o.mode, clock: 'virtual' }) : createEngine({ sandbox: o.mode, clock: 'virtual' });
  await engine.ready();
  const { chart, diagnostics } = engine.load({ xml: scxml, file: 'bench.scxml' });
  if (!chart) throw new Error(`bench chart does not load: ${JSON.stringify(diagnostics)}`);
  return { api: orchestrionOn(engine, chart, o, 'api'), sync: orchestrionOn(engine, chart, o, 'sync') };
}

function orchestrionOn(engine: Engine, chart: CompiledChart, o: OrchestrionOptions, path: 'api' | 'sync'): Driver<Session> {
  const sync = path === 'sync';
  const idle = () => engine.whenIdle();
  return {
    engine: 'orchestrion',
    variant: `${o.mode}${o.modules === false ? ', bare Engine' : ''}, ${path}`,
    create: sync ? () => { const s = engine.start(chart); s.startNow(); return s; } : () => engine.start(chart),
    send: sync ? (s, event) => { s.send(event); s.step(); } : (s, event) => s.send(event),
    settle: sync ? () => null : idle,
    read: (s, variable) => s.evaluateExpression(variable),
    configuration: (s) => s.configuration,
    async enteredBy(s, event) {
      const entered: string[] = [];
      const off = s.on((e) => { if (e.type === 'enter') entered.push(e.state); });
      s.send(event);
      if (sync) s.step();
      await idle();
      off();
      return entered;
    },
    close: () => engine.close(),
  };
}

/* ---------- SCION ---------- */

interface ScionStatechart {
  start(): void;
  gen(event: { name: string; data?: unknown }): void;
  getConfiguration(): string[];
  registerListener(l: { onEntry?: (id: string) => void }): void;
  unregisterListener(l: object): void;
}
interface ScionModelFactory { prepare(cb: (err: unknown, model: ScionModel) => void): void }
type ScionModel = ((...args: unknown[]) => unknown) & { _executionContext: Record<string, unknown> };
interface ScionModule {
  documentStringToModel(url: string, doc: string, cb: (err: unknown, factory: ScionModelFactory) => void): void;
  core: { Statechart: new (model: ScionModel) => ScionStatechart };
}

interface ScionSession { readonly sc: ScionStatechart; readonly model: ScionModel }

export async function scionDriver(scxml: string, shared = false): Promise<Driver<ScionSession>> {
  const scxmlModule = createRequire(import.meta.url)('@scion-scxml/scxml') as ScionModule;
  // documentStringToModel takes a document URL even for a string (used for error locations).
  const factory = await new Promise<ScionModelFactory>((resolve, reject) =>
    scxmlModule.documentStringToModel('bench.scxml', scxml, (err, f) => (err ? reject(err) : resolve(f))));
  const prepare = () => new Promise<ScionModel>((resolve, reject) => factory.prepare((err, m) => (err ? reject(err) : resolve(m))));
  const sharedModel = shared ? await prepare() : null;
  const start = (model: ScionModel): ScionSession => {
    const sc = new scxmlModule.core.Statechart(model);
    sc.start();
    return { sc, model };
  };
  return {
    engine: 'scion',
    variant: shared ? 'one shared model (datamodel NOT isolated)' : 'model per session',
    create: sharedModel ? () => start(sharedModel) : async () => start(await prepare()),
    send: (s, event) => s.sc.gen({ name: event }),
    settle: () => null,
    read: (s, variable) => s.model._executionContext[variable],
    configuration: (s) => s.sc.getConfiguration(),
    async enteredBy(s, event) {
      const entered: string[] = [];
      const listener = { onEntry: (id: string) => entered.push(id) };
      s.sc.registerListener(listener);
      s.sc.gen({ name: event });
      s.sc.unregisterListener(listener);
      return entered;
    },
    close: async () => {},
  };
}

/* ---------- XState ---------- */

interface XStateSession { readonly actor: AnyActor; readonly entered: string[] }

/** `machine(onEntry)`: onEntry, when given, is called with each state the machine enters. */
export function xstateDriver(machine: (onEntry?: (id: string) => void) => AnyStateMachine): Driver<XStateSession> {
  const m = machine();
  const flatten = (value: unknown, out: string[] = []): string[] => {
    if (typeof value === 'string') out.push(value);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) { out.push(k); flatten(v, out); }
    return out;
  };
  return {
    engine: 'xstate',
    variant: 'v5',
    create: () => ({ actor: createActor(m).start(), entered: [] }),
    send: (s, event) => s.actor.send({ type: event }),
    settle: () => null,
    read: (s, variable) => (s.actor.getSnapshot().context as Record<string, unknown>)[variable],
    configuration: (s) => flatten(s.actor.getSnapshot().value),
    async enteredBy(_s, event) {
      // A separate actor of the same machine with entry actions that record (the timed machine has none).
      const entered: string[] = [];
      const actor = createActor(machine((id) => entered.push(id))).start();
      entered.length = 0;
      actor.send({ type: event });
      actor.stop();
      return entered;
    },
    close: async () => {},
  };
}
