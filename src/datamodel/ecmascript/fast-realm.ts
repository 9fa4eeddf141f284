import vm from 'node:vm';
import { DOMParser } from '@xmldom/xmldom';
import type { CodeRef, CompiledChart } from '../../model/chart.js';
import type { ScxmlEvent } from '../../model/event.js';
import {
  EvaluationError, type ChartDataModel, type DataModelOptions, type SessionDataModel, type SystemVariables,
} from '../datamodel.js';
import { expressionText, locationRoot, rewriteTypeof, scriptDeclarations } from './analyse.js';
import { copyData, type ValueFactory } from '../copy-data.js';

type Compiled =
  | { kind: 'expr'; fn: (scope: object) => unknown }
  | { kind: 'location'; root: string; fn: (scope: object, value: unknown) => void }
  | { kind: 'script'; vars: string[]; fn: (scope: object) => void }
  | { kind: 'error'; message: string };

/** Identifiers the compiled wrappers use; the scope proxy never claims them. */
const INTERNAL = '__orx_';
const TYPEOF = `${INTERNAL}typeof`;
/** The proxy answers this key with its target (for the typeof helper). */
const TARGET = `${INTERNAL}target`;
const SYSTEM_VARIABLES = new Set(['_event', '_sessionid', '_name', '_ioprocessors']);

/**
 * The ECMAScript datamodel in `fast` mode: one node:vm realm per compiled chart; every
 * expression compiled once into a function of that realm; each session a scope object the code
 * runs against (through `with` and a proxy), so declared and undeclared variables alike land in
 * the session's own scope and never in the realm's global.
 */
export class FastEcmaScriptChartModel implements ChartDataModel {
  private readonly context: vm.Context;
  private readonly realmGlobal: Record<string, unknown>;
  private readonly compiled: (Compiled | undefined)[];
  private readonly handler: ProxyHandler<Record<string, unknown>>;
  /** Builds copies of incoming values out of the realm's own Object and Array. */
  readonly values: ValueFactory;

  constructor(private readonly chart: CompiledChart, _options: DataModelOptions) {
    this.context = vm.createContext({});
    this.realmGlobal = vm.runInContext('globalThis', this.context) as Record<string, unknown>;
    this.compiled = new Array(chart.code.length);
    vm.runInContext(`function ${TYPEOF}(s, name) { var t = s.${TARGET}; return name in t ? typeof t[name] : name in globalThis ? typeof globalThis[name] : 'undefined'; }`, this.context);
    const realmGlobal = this.realmGlobal;
    const RealmObject = realmGlobal.Object as ObjectConstructor;
    const RealmArray = realmGlobal.Array as ArrayConstructor;
    this.values = { newObject: () => new RealmObject() as Record<string, unknown>, newArray: () => new RealmArray() };
    const ReferenceErrorInRealm = realmGlobal.ReferenceError as ErrorConstructor;
    const TypeErrorInRealm = realmGlobal.TypeError as ErrorConstructor;
    this.handler = {
      has(target, key) {
        if (typeof key !== 'string') return false;
        if (key in target) return true;
        // Unknown names resolve to the scope (so undeclared writes stay in the session);
        // the realm's built-ins and the wrappers' own parameters resolve normally.
        return !key.startsWith(INTERNAL) && !(key in realmGlobal);
      },
      get(target, key) {
        if (key in target) return target[key as string];
        if (key === TARGET) return target;
        if (typeof key === 'symbol') return undefined;
        throw new ReferenceErrorInRealm(`${key} is not defined`);
      },
      set(target, key, value) {
        if (SYSTEM_VARIABLES.has(key as string)) throw new TypeErrorInRealm(`${String(key)} is a read-only system variable`);
        target[key as string] = value;
        return true;
      },
    };
  }

  compile(ref: CodeRef): Compiled {
    let c = this.compiled[ref.id];
    if (c) return c;
    try {
      const opts = { filename: ref.loc.file, lineOffset: ref.loc.line - 2, columnOffset: 0 };
      switch (ref.kind) {
        case 'expr': case 'cond':
          c = { kind: 'expr', fn: vm.runInContext(`(function(${INTERNAL}s){with(${INTERNAL}s){return (\n${rewriteTypeof(expressionText(ref.source), 'expr', TYPEOF, `${INTERNAL}s`)}\n);}})`, this.context, opts) };
          break;
        case 'location':
          c = { kind: 'location', root: locationRoot(ref.source), fn: vm.runInContext(`(function(${INTERNAL}s,${INTERNAL}v){with(${INTERNAL}s){(\n${ref.source}\n)=${INTERNAL}v;}})`, this.context, opts) };
          break;
        case 'script': {
          const { vars, functions } = scriptDeclarations(ref.source);
          // Top-level functions become datamodel variables: exported at block entry, where the
          // block-scoped function binding is already initialised.
          const exports = functions.map((f) => `${INTERNAL}s.${f}=${f};`).join('');
          c = { kind: 'script', vars, fn: vm.runInContext(`(function(${INTERNAL}s){with(${INTERNAL}s){${exports}\n${rewriteTypeof(ref.source, 'script', TYPEOF, `${INTERNAL}s`)}\n}})`, this.context, opts) };
          break;
        }
      }
    } catch (err) {
      c = { kind: 'error', message: errorMessage(err) };
    }
    this.compiled[ref.id] = c;
    return c;
  }

  createSession(system: SystemVariables): SessionDataModel {
    const target = vm.runInContext('Object.create(null)', this.context) as Record<string, unknown>;
    target._event = undefined; // unbound until the first event (W3C 5.10)
    target._sessionid = system.sessionid;
    target._name = system.name;
    target._ioprocessors = copyData(system.ioprocessors, this.values);
    target.In = system.In;
    return new FastSession(this, target, new Proxy(target, this.handler));
  }

  isRealmGlobal(name: string): boolean {
    return name in this.realmGlobal;
  }
}

class FastSession implements SessionDataModel {
  constructor(
    private readonly model: FastEcmaScriptChartModel,
    private readonly target: Record<string, unknown>,
    private readonly scope: Record<string, unknown>,
  ) {}

  evaluate(ref: CodeRef): unknown {
    const c = this.model.compile(ref);
    if (c.kind !== 'expr') throw new EvaluationError(c.kind === 'error' ? `'${ref.source}': ${c.message}` : 'not an expression', ref);
    try {
      return c.fn(this.scope);
    } catch (err) {
      throw new EvaluationError(`'${ref.source.trim()}': ${errorMessage(err)}`, ref);
    }
  }

  test(ref: CodeRef): boolean {
    return Boolean(this.evaluate(ref));
  }

  assign(location: CodeRef, value: unknown): void {
    const c = this.model.compile(location);
    if (c.kind !== 'location') throw new EvaluationError(c.kind === 'error' ? `'${location.source}' is not a valid location: ${c.message}` : 'not a location', location);
    if (!(c.root in this.target)) throw new EvaluationError(`cannot assign to '${location.source.trim()}': '${c.root}' is not declared`, location);
    try {
      c.fn(this.scope, value);
    } catch (err) {
      throw new EvaluationError(`assigning to '${location.source.trim()}': ${errorMessage(err)}`, location);
    }
  }

  runScript(ref: CodeRef): void {
    const c = this.model.compile(ref);
    if (c.kind !== 'script') throw new EvaluationError(c.kind === 'error' ? `script does not compile: ${c.message}` : 'not a script', ref);
    for (const v of c.vars) if (!(v in this.target)) this.target[v] = undefined;
    try {
      c.fn(this.scope);
    } catch (err) {
      throw new EvaluationError(`script: ${errorMessage(err)}`, ref);
    }
  }

  declare(id: string, value: unknown): void {
    this.target[id] = value;
  }

  isDeclared(id: string): boolean {
    return id in this.target;
  }

  setEvent(event: ScxmlEvent): void {
    this.target._event = Object.freeze({
      name: event.name, type: event.type, sendid: event.sendid, origin: event.origin,
      origintype: event.origintype, invokeid: event.invokeid, data: this.importValue(event.data), raw: event.raw,
    });
  }

  importValue(value: unknown): unknown {
    return copyData(value, this.model.values);
  }

  xmlValue(xml: string): unknown {
    return new DOMParser().parseFromString(xml, 'text/xml');
  }

  exportValue(value: unknown): unknown {
    return copyData(value);
  }

  variables(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this.target)) {
      if (!SYSTEM_VARIABLES.has(key) && key !== 'In') out[key] = this.target[key];
    }
    return out;
  }

  dispose(): void {
    for (const key of Object.keys(this.target)) delete this.target[key];
  }
}

/** Errors thrown in the realm are not host Errors: read their message structurally. */
export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) {
    const name = 'name' in err ? String((err as { name: unknown }).name) : 'Error';
    return `${name}: ${String((err as { message: unknown }).message)}`;
  }
  return String(err);
}
