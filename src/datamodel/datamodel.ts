import type { CodeRef, CompiledChart } from '../model/chart.js';
import type { ScxmlEvent } from '../model/event.js';

/**
 * The datamodel contract. A definition compiles a chart's code once (ChartDataModel, shared by
 * every session of the chart); each session gets its own SessionDataModel holding its data.
 * Both sandbox modes of the ECMAScript datamodel, and the null datamodel, plug in here.
 */
export interface DataModelDefinition {
  readonly name: string;
  /** Load-time syntax check: a message when `ref` cannot compile, otherwise null. */
  checkSyntax(ref: CodeRef): string | null;
  createChartModel(chart: CompiledChart, options: DataModelOptions): ChartDataModel;
}

export interface DataModelOptions {
  readonly sandbox: 'fast' | 'isolated';
  /** Budget of loop iterations / calls per macrostep before runaway code is stopped. */
  readonly limits?: { readonly timeMs?: number; readonly memoryBytes?: number; readonly stackBytes?: number };
  /**
   * Variables the engine's modules define in every session (_genesys, _data). A datamodel may
   * define them on first read (SystemVariables.defineModuleVariable) instead of at session start.
   */
  readonly moduleVariables?: readonly string[];
}

export interface ChartDataModel {
  createSession(system: SystemVariables): SessionDataModel;
  /** The module variables this datamodel defines on first read; the others are defined when a session is created. */
  readonly definesOnRead?: ReadonlySet<string>;
}

/**
 * What a session's datamodel asks of its session: the system variables (W3C 5.10) and the
 * module variables. One object per session, with methods rather than closures: an idle session
 * should cost as few objects as possible.
 */
export interface SystemVariables {
  readonly sessionid: string;
  readonly name: string | null;
  /** The value of _ioprocessors (made when chart code first reads it). */
  ioprocessors(): Record<string, { location: string }>;
  /** The In() predicate. */
  In(stateId: string): boolean;
  /** Has the modules define `name` (one of DataModelOptions.moduleVariables) in this session now. */
  defineModuleVariable(name: string): void;
}

/** Raised for every failure in evaluation: the runtime turns it into error.execution. */
export class EvaluationError extends Error {
  constructor(message: string, readonly ref: CodeRef | null = null, readonly sendid?: string) {
    super(message);
    this.name = 'EvaluationError';
  }
}

/** The sandbox itself broke (e.g. the host stack overflowed inside it): the session cannot go on. */
export class SandboxFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxFailure';
  }
}

export interface ForeachSnapshot {
  readonly length: number;
  assignItem(index: number, location: CodeRef): void;
  release(): void;
}

export interface SessionDataModel {
  /** A macrostep starts: runaway budgets start again. */
  beginMacrostep(): void;
  evaluate(ref: CodeRef): unknown;
  /** Cond: evaluate and convert to boolean, as the datamodel defines it. */
  test(ref: CodeRef): boolean;
  assign(location: CodeRef, value: unknown): void;
  /** location = expr, the value staying inside the datamodel (it may not survive a copy: functions, DOM). */
  assignExpression(location: CodeRef, expr: CodeRef): void;
  /** <data id expr>: declare with the value of expr, kept inside the datamodel. */
  declareExpression(id: string, expr: CodeRef): void;
  /** <foreach>: a shallow copy of the array taken now, its items assigned one by one (W3C 4.6). */
  foreachSnapshot(array: CodeRef): ForeachSnapshot;
  /** Is the location's root variable declared (an <assign> to an undeclared one is an error)? */
  runScript(ref: CodeRef): void;
  /** Create or overwrite a top-level variable (<data>, invoke params). */
  declare(id: string, value: unknown): void;
  isDeclared(id: string): boolean;
  setEvent(event: ScxmlEvent): void;
  /** Bring a value from outside (event data, params, DOM) into this datamodel. */
  importValue(value: unknown): unknown;
  /** Build the value of XML content (a DOM document) for this datamodel. */
  xmlValue(xml: string): unknown;
  /** A plain-data copy of a value for leaving the session (events to other sessions, JSON output). */
  exportValue(value: unknown): unknown;
  /**
   * A function for chart code, at `path` (e.g. ['_genesys', 'ixn', 'setuData']), intermediate
   * objects created as needed. Arguments and result cross as JSON copies, and a thrown error
   * arrives as the datamodel's own Error: host objects never become reachable.
   */
  defineFunction(path: readonly string[], fn: (args: unknown[]) => unknown): void;
  /** Set the value at `path` (a copy of `value`), intermediate objects created as needed. */
  setPath(path: readonly string[], value: unknown): void;
  /** A variable naming the datamodel's root itself (ORS strategies write `_data.x`). */
  aliasRoot(name: string): void;
  /** A snapshot of the top-level variables, for traces and the CLI. */
  variables(): Record<string, unknown>;
  dispose(): void;
}
