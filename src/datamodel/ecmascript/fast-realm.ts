import vm from 'node:vm';
import type { CodeRef, CompiledChart } from '../../model/chart.js';
import type { ScxmlEvent } from '../../model/event.js';
import {
  EvaluationError, type ChartDataModel, type DataModelOptions, type ForeachSnapshot, type SessionDataModel, type SystemVariables,
} from '../datamodel.js';
import { expressionText, locationRoot, scriptDeclarations } from './analyse.js';
import { instrument } from './instrument.js';
import { copyData, isDomNode, type ValueFactory } from '../copy-data.js';
import { xmldomBundleSource } from './xmldom-bundle.js';
import { DEFAULT_SANDBOX_LIMITS, runawayMessage, SYSTEM_VARIABLES } from './sandbox-common.js';

type Compiled =
  | { kind: 'expr'; fn: (this: object, scope: object) => unknown }
  | { kind: 'location'; root: string; fn: (this: object, scope: object, value: unknown) => void }
  | { kind: 'script'; vars: string[]; fn: (this: object, scope: object) => void }
  | { kind: 'error'; message: string };

/** Identifiers of the engine's own helpers and wrapper parameters; the scope proxy never claims them. */
const INTERNAL = '__orx_';
const NAMES = { tick: `${INTERNAL}tick`, typeofName: `${INTERNAL}typeof`, scope: `${INTERNAL}s` } as const;
/** The proxy answers this key with its target (for the typeof helper). */
const TARGET = `${INTERNAL}target`;

/**
 * Runs inside each new realm, before any chart code: removes what is not ECMAScript (console),
 * installs the helpers, deep-freezes every intrinsic (reachable from the global or only through
 * syntax, like the async and generator function prototypes) and makes every global binding
 * read-only. `now` is the host's Date.now, captured in a closure chart code cannot reach.
 */
const HARDEN_REALM = `(function (now, budgetMessage) {
  'use strict';
  var gopd = Object.getOwnPropertyDescriptor, dp = Object.defineProperty, ownKeys = Reflect.ownKeys,
      getProto = Object.getPrototypeOf, freeze = Object.freeze;
  delete globalThis.console;
  var deadline = Infinity, count = 0, tripped = false, budgetMs = 0;
  function ${NAMES.tick}() {
    if (tripped) throw new RangeError(budgetMessage(budgetMs));
    if (++count >= 1024) {
      count = 0;
      if (now() > deadline) { tripped = true; throw new RangeError(budgetMessage(budgetMs)); }
    }
  }
  function arm(ms) { budgetMs = ms; deadline = now() + ms; count = 0; tripped = false; }
  function ${NAMES.typeofName}(s, name) {
    var t = s.${TARGET};
    return name in t ? typeof t[name] : name in globalThis ? typeof globalThis[name] : 'undefined';
  }
  dp(globalThis, '${NAMES.tick}', { value: ${NAMES.tick} });
  dp(globalThis, '${NAMES.typeofName}', { value: ${NAMES.typeofName} });
  // Frozen prototypes would make plain assignments such as obj.toString = f or
  // F.prototype.constructor = F fail (the "override mistake"); these properties become
  // accessors that define an own property on the object assigned to, as SES does.
  function enableOverride(obj, key) {
    var d = gopd(obj, key);
    if (!d || !('value' in d) || !d.configurable) return;
    var value = d.value;
    dp(obj, key, {
      get: function () { return value; },
      set: function (v) {
        if (this === obj) throw new TypeError('Cannot assign to read only property ' + String(key));
        dp(this, key, { value: v, writable: true, enumerable: true, configurable: true });
      },
      enumerable: d.enumerable, configurable: false,
    });
  }
  [Object.prototype, Function.prototype, Array.prototype, Error.prototype, TypeError.prototype, RangeError.prototype,
   SyntaxError.prototype, ReferenceError.prototype, EvalError.prototype, URIError.prototype, Promise.prototype]
    .forEach(function (proto) {
      ['constructor', 'toString', 'valueOf', 'toLocaleString', 'name', 'message', 'toJSON'].forEach(function (k) { enableOverride(proto, k); });
    });
  var seen = new WeakSet();
  function deepFreeze(o) {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) return;
    seen.add(o);
    freeze(o);
    ownKeys(o).forEach(function (k) {
      var d = gopd(o, k);
      if (!d) return;
      if ('value' in d) deepFreeze(d.value); else { deepFreeze(d.get); deepFreeze(d.set); }
    });
    deepFreeze(getProto(o));
  }
  ownKeys(globalThis).forEach(function (k) {
    var d = gopd(globalThis, k);
    if (d && 'value' in d) {
      if (d.value !== globalThis) deepFreeze(d.value);
      if (d.configurable) dp(globalThis, k, { value: d.value, writable: false, configurable: false });
    }
  });
  [async function () {}, function* () {}, async function* () {}, [][Symbol.iterator](), new Map()[Symbol.iterator](),
   new Set()[Symbol.iterator](), ''[Symbol.iterator](), /a/[Symbol.matchAll]('a'), new Uint8Array(0)]
    .forEach(function (x) { deepFreeze(getProto(x)); deepFreeze(x.constructor); });
  function makeIn(check) { return function In(id) { return check(String(id)) === true; }; }
  function makeEvent(name, type, sendid, origin, origintype, invokeid, data, raw) {
    return freeze({ name: name, type: type, sendid: sendid, origin: origin, origintype: origintype,
                    invokeid: invokeid, data: data, raw: raw });
  }
  return { arm: arm, makeIn: makeIn, makeEvent: makeEvent, deepFreeze: deepFreeze };
})`;

interface RealmApi {
  arm(ms: number): void;
  makeIn(check: (id: string) => boolean): (id: unknown) => boolean;
  makeEvent(...fields: unknown[]): object;
  deepFreeze(o: unknown): void;
}

/**
 * The ECMAScript datamodel in `fast` mode: one hardened node:vm realm per compiled chart; every
 * expression compiled once (instrumented) into a function of that realm; each session a scope
 * object the code runs against (through `with` and a proxy), so variables, declared or not,
 * land in the session and never in the realm's global.
 */
export class FastEcmaScriptChartModel implements ChartDataModel {
  private readonly context: vm.Context;
  private readonly realm: RealmApi;
  /** Names of the realm's global at creation; the proxy resolves only these to the global. */
  private readonly globalNames: ReadonlySet<string>;
  private readonly compiled: (Compiled | undefined)[];
  private readonly handler: ProxyHandler<Record<string, unknown>>;
  private domParser: { new(): { parseFromString(xml: string, type: string): unknown } } | null = null;
  readonly budgetMs: number;
  readonly values: ValueFactory;

  constructor(chart: CompiledChart, options: DataModelOptions) {
    this.budgetMs = options.limits?.timeMs ?? DEFAULT_SANDBOX_LIMITS.timeMs;
    this.context = vm.createContext(Object.create(null), {
      name: `orchestrion:${chart.file}`,
      // No eval/new Function: chart code can only be code the engine compiled (and instrumented).
      codeGeneration: { strings: false, wasm: false },
      // Promise jobs of chart code run inside the realm's own queue, never between host tasks.
      microtaskMode: 'afterEvaluate',
    });
    this.realm = (vm.runInContext(HARDEN_REALM, this.context) as (now: () => number, msg: (ms: number) => string) => RealmApi)(
      Date.now, runawayMessage);
    this.globalNames = new Set(vm.runInContext('Reflect.ownKeys(globalThis).filter(function (k) { return typeof k === "string"; })', this.context) as string[]);
    this.compiled = new Array(chart.code.length);
    const globalNames = this.globalNames;
    const RealmObject = vm.runInContext('Object', this.context) as ObjectConstructor;
    const RealmArray = vm.runInContext('Array', this.context) as ArrayConstructor;
    const RealmDate = vm.runInContext('Date', this.context) as DateConstructor;
    const ReferenceErrorInRealm = vm.runInContext('ReferenceError', this.context) as ErrorConstructor;
    const TypeErrorInRealm = vm.runInContext('TypeError', this.context) as ErrorConstructor;
    this.values = {
      newObject: () => new RealmObject() as Record<string, unknown>,
      newArray: () => new RealmArray(),
      foreign: (value) => {
        if (isDomNode(value)) return this.xmlValue(String(value));
        if (Object.prototype.toString.call(value) === '[object Date]') return new RealmDate((value as Date).getTime());
        // Any other foreign object arrives as plain data (its own enumerable properties).
        const out = new RealmObject() as Record<string, unknown>;
        for (const [k, v] of Object.entries(value)) out[k] = copyData(v, this.values);
        return out;
      },
    };
    this.handler = {
      has(target, key) {
        if (typeof key !== 'string') return false;
        if (key in target) return true;
        // Unknown names resolve to the scope (so undeclared writes stay in the session);
        // the realm's own built-ins and the engine's helpers resolve to the realm.
        return !key.startsWith(INTERNAL) && !globalNames.has(key);
      },
      get(target, key, receiver) {
        if (key in target) return target[key as string];
        if (key === TARGET) return target;
        if (typeof key === 'symbol') return undefined;
        // `globalThis` of chart code is its own session, never the realm global other sessions see.
        if (key === 'globalThis') return receiver;
        throw new ReferenceErrorInRealm(`${key} is not defined`);
      },
      set(target, key, value) {
        if (SYSTEM_VARIABLES.has(key as string)) throw new TypeErrorInRealm(`${String(key)} is a read-only system variable`);
        target[key as string] = value;
        return true;
      },
      defineProperty(target, key, descriptor) {
        if (SYSTEM_VARIABLES.has(key as string)) throw new TypeErrorInRealm(`${String(key)} is a read-only system variable`);
        return Reflect.defineProperty(target, key, descriptor);
      },
      deleteProperty(target, key) {
        if (SYSTEM_VARIABLES.has(key as string)) return false;
        return Reflect.deleteProperty(target, key);
      },
    };
  }

  compile(ref: CodeRef): Compiled {
    let c = this.compiled[ref.id];
    if (c) return c;
    try {
      const opts = { filename: ref.loc.file, lineOffset: ref.loc.line - 2, columnOffset: 0 };
      const s = NAMES.scope;
      switch (ref.kind) {
        case 'expr': case 'cond':
          c = { kind: 'expr', fn: vm.runInContext(`(function(${s}){with(${s}){return (\n${instrument(expressionText(ref.source), 'expr', NAMES)}\n);}})`, this.context, opts) };
          break;
        case 'location':
          c = { kind: 'location', root: locationRoot(ref.source), fn: vm.runInContext(`(function(${s},${INTERNAL}v){with(${s}){(\n${expressionText(ref.source)}\n)=${INTERNAL}v;}})`, this.context, opts) };
          break;
        case 'script': {
          const { vars, functions } = scriptDeclarations(ref.source);
          // Top-level functions become datamodel variables: exported at block entry, where the
          // block-scoped function binding is already initialised.
          const exports = functions.map((f) => `${s}.${f}=${f};`).join('');
          c = { kind: 'script', vars, fn: vm.runInContext(`(function(${s}){with(${s}){${exports}\n${instrument(ref.source, 'script', NAMES)}\n}})`, this.context, opts) };
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
    this.realm.deepFreeze(target._ioprocessors);
    target.In = this.realm.makeIn(system.In);
    return new FastSession(this, target, new Proxy(target, this.handler));
  }

  /** Start of a macrostep: the runaway budget starts again. */
  arm(): void {
    this.realm.arm(this.budgetMs);
  }

  makeEvent(event: ScxmlEvent, data: unknown): object {
    return this.realm.makeEvent(event.name, event.type, event.sendid, event.origin, event.origintype, event.invokeid, data, event.raw);
  }

  xmlValue(xml: string): unknown {
    if (!this.domParser) {
      const dom = vm.runInContext(xmldomBundleSource(), this.context) as { DOMParser: NonNullable<FastEcmaScriptChartModel['domParser']> };
      this.realm.deepFreeze(dom);
      this.domParser = dom.DOMParser;
    }
    return new this.domParser().parseFromString(xml, 'text/xml');
  }
}

class FastSession implements SessionDataModel {
  constructor(
    private readonly model: FastEcmaScriptChartModel,
    private readonly target: Record<string, unknown>,
    private readonly scope: Record<string, unknown>,
  ) {}

  beginMacrostep(): void {
    this.model.arm();
  }

  evaluate(ref: CodeRef): unknown {
    const c = this.model.compile(ref);
    if (c.kind !== 'expr') throw new EvaluationError(c.kind === 'error' ? `'${ref.source}': ${c.message}` : 'not an expression', ref);
    try {
      return c.fn.call(this.scope, this.scope);
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
      c.fn.call(this.scope, this.scope, value);
    } catch (err) {
      throw new EvaluationError(`assigning to '${location.source.trim()}': ${errorMessage(err)}`, location);
    }
  }

  assignExpression(location: CodeRef, expr: CodeRef): void {
    this.assign(location, this.evaluate(expr));
  }

  declareExpression(id: string, expr: CodeRef): void {
    this.declare(id, this.evaluate(expr));
  }

  foreachSnapshot(array: CodeRef): ForeachSnapshot {
    const value = this.evaluate(array);
    if (value === null || typeof value !== 'object' || typeof (value as { length?: unknown }).length !== 'number') {
      throw new EvaluationError(`foreach array '${array.source}' is not an array`, array);
    }
    const items = Array.from(value as ArrayLike<unknown>);
    return { length: items.length, assignItem: (i, location) => this.assign(location, items[i]), release() { /* nothing held */ } };
  }

  runScript(ref: CodeRef): void {
    const c = this.model.compile(ref);
    if (c.kind !== 'script') throw new EvaluationError(c.kind === 'error' ? `script does not compile: ${c.message}` : 'not a script', ref);
    for (const v of c.vars) if (!(v in this.target)) this.target[v] = undefined;
    try {
      c.fn.call(this.scope, this.scope);
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
    this.target._event = this.model.makeEvent(event, this.importValue(event.data));
  }

  importValue(value: unknown): unknown {
    return copyData(value, this.model.values);
  }

  xmlValue(xml: string): unknown {
    return this.model.xmlValue(xml);
  }

  exportValue(value: unknown): unknown {
    return copyData(value);
  }

  variables(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this.target)) {
      if (!SYSTEM_VARIABLES.has(key) && key !== 'In') out[key] = copyData(this.target[key]);
    }
    return out;
  }

  dispose(): void {
    for (const key of Object.keys(this.target)) delete this.target[key];
  }
}

/** Errors thrown in a sandbox are not host Errors: read their message structurally. */
export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) {
    const name = 'name' in err ? String((err as { name: unknown }).name) : 'Error';
    return `${name}: ${String((err as { message: unknown }).message)}`;
  }
  return String(err);
}
