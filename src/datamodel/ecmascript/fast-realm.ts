import vm from 'node:vm';
import v8 from 'node:v8';
import util from 'node:util';
import type { CodeRef, CompiledChart } from '../../model/chart.js';
import type { ScxmlEvent } from '../../model/event.js';
import {
  EvaluationError, type ChartDataModel, type DataModelOptions, type ForeachSnapshot, type SessionDataModel, type SystemVariables,
} from '../datamodel.js';
import { locationRoot } from './analyse.js';
import { compileForSession, HELPERS, topLevelDeclarations, type RewriteContext } from './scope-rewrite.js';
import { copyData, COPY_AS_PLAIN, isDomNode, type ValueFactory } from '../copy-data.js';
import { XmlDocumentValue } from '../xml-value.js';
import { xmldomBundleSource } from './xmldom-bundle.js';
import { DEFAULT_SANDBOX_LIMITS, hostAnswer, runawayMessage, SYSTEM_VARIABLES } from './sandbox-common.js';

type Compiled =
  | { kind: 'expr'; fn: (variables: object) => unknown }
  | { kind: 'location'; root: string; fn: (variables: object, value: unknown) => void }
  | { kind: 'script'; vars: string[]; fn: (variables: object) => void }
  | { kind: 'error'; message: string };


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
  // Not ECMAScript, or a way around the budget or out of the macrostep: console; cross-thread
  // blocking (Atomics.wait); callbacks the host would run later (FinalizationRegistry, WeakRef).
  ['console', 'Atomics', 'SharedArrayBuffer', 'FinalizationRegistry', 'WeakRef'].forEach(function (name) { delete globalThis[name]; });
  // The macrostep's time budget, written by the host (arming it is a store, not a call into
  // the realm): [deadline (ms since the epoch), budget (ms), tripped (0 or 1)].
  var budget = new Float64Array(3), count = 0;
  budget[0] = Infinity;
  function ${HELPERS.tick}() {
    if (budget[2] !== 0) throw new RangeError(budgetMessage(budget[1]));
    if (++count >= 128) {
      count = 0;
      if (now() > budget[0]) { budget[2] = 1; throw new RangeError(budgetMessage(budget[1])); }
    }
  }
  function ${HELPERS.undeclared}(name) { throw new ReferenceError(name + ' is not defined'); }
  // globalThis of chart code: its own session's variables over the realm's built-ins, never
  // the realm global that the chart's other sessions share.
  var globalViews = new WeakMap();
  function ${HELPERS.globalView}(t) {
    var view = globalViews.get(t);
    if (!view) {
      view = new Proxy(t, {
        get: function (target, key) { return key in target ? target[key] : globalThis[key]; },
        has: function (target, key) { return key in target || key in globalThis; },
      });
      globalViews.set(t, view);
    }
    return view;
  }
  dp(globalThis, '${HELPERS.tick}', { value: ${HELPERS.tick} });
  dp(globalThis, '${HELPERS.undeclared}', { value: ${HELPERS.undeclared} });
  dp(globalThis, '${HELPERS.globalView}', { value: ${HELPERS.globalView} });
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
  // Every property of the prototypes chart objects commonly inherit from, so that giving an
  // object its own method of the same name (arr.map = f, o.hasOwnProperty = f) works as in
  // unfrozen JavaScript (and as in the isolated sandbox).
  [Object.prototype, Function.prototype, Array.prototype, String.prototype, Number.prototype, Boolean.prototype,
   Date.prototype, RegExp.prototype, Map.prototype, Set.prototype, WeakMap.prototype, WeakSet.prototype,
   Error.prototype, TypeError.prototype, RangeError.prototype, SyntaxError.prototype, ReferenceError.prototype,
   EvalError.prototype, URIError.prototype, Promise.prototype]
    .forEach(function (proto) {
      ownKeys(proto).forEach(function (k) { if (typeof k === 'string') enableOverride(proto, k); });
    });
  // For libraries loaded into the realm (xmldom): every data property of every prototype they
  // expose becomes an accessor as above, then everything is frozen.
  function tameAndFreeze(root) {
    var tamed = new WeakSet();
    (function walk(o) {
      if (o === null || (typeof o !== 'object' && typeof o !== 'function') || tamed.has(o) || seen.has(o)) return;
      tamed.add(o);
      if (typeof o === 'function' && o.prototype && typeof o.prototype === 'object') {
        ownKeys(o.prototype).forEach(function (k) { enableOverride(o.prototype, k); });
      }
      ownKeys(o).forEach(function (k) { var d = gopd(o, k); if (d && 'value' in d) walk(d.value); });
      walk(getProto(o));
      if (typeof o === 'function') walk(o.prototype);
    })(root);
    deepFreeze(root);
  }
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
  // A session's variables object. What every session of the chart shares is on one frozen
  // prototype: the system variables (W3C 5.10: accessors that refuse assignment; _event and
  // _ioprocessors are made when chart code reads them), In, and the module variables (defined
  // on the session's object when first read). The accessors find their session's host through a
  // private field of the session's object, which no reflection or proxy reveals to chart code
  // (and which costs less than a WeakMap entry); whatever the host throws is never seen by chart
  // code. So a session is one object with only its own data, and no closures.
  var create = Object.create, scope = create(null);
  // A base constructor that returns its argument lets the subclass add a private field to any object.
  class Returning { constructor(o) { return o; } }
  class Stamped extends Returning {
    #host;
    constructor(o, host) { super(o); this.#host = host; }
    static hostOf(o) { return #host in o ? o.#host : undefined; }
  }
  var stampedHostOf = Stamped.hostOf;
  function hostOf(t) {
    var h = t !== null && typeof t === 'object' ? stampedHostOf(t) : undefined;
    if (h === undefined) throw new TypeError('not a session scope');
    return h;
  }
  // What the host does for a variable: a host exception must never reach chart code (its
  // constructor would be the host's Function).
  function fromHost(h, key) {
    try {
      if (key === '_event') return h.currentEvent();
      if (key === '_ioprocessors') return h.ioprocessors();
      h.defineModuleVariable(key);
    } catch (err) {
      throw new TypeError(key + ' is not available');
    }
  }
  function own(t, key, value, enumerable) {
    dp(t, key, { value: value, writable: true, enumerable: enumerable, configurable: true });
  }
  function system(key, get) {
    dp(scope, key, { get: get, set: function () { throw new TypeError(key + ' is a read-only system variable'); }, enumerable: false, configurable: false });
  }
  system('_sessionid', function () { return hostOf(this).sessionid; });
  system('_name', function () { return hostOf(this).name; });
  system('_ioprocessors', function () { return fromHost(hostOf(this), '_ioprocessors'); });
  system('_event', function () { return fromHost(hostOf(this), '_event'); });
  // In is the session's own function once read (or replaced, as any writable variable can be).
  dp(scope, 'In', {
    get: function () {
      var h = hostOf(this), f = function In(id) { return h.isIn(String(id)) === true; };
      // Kept as the session's own (unless chart code has frozen its variables object).
      if (Object.isExtensible(this)) own(this, 'In', f, false);
      return f;
    },
    set: function (v) { own(this, 'In', v, false); },
    enumerable: false, configurable: false,
  });
  function sealScope(moduleVariables) {
    moduleVariables.forEach(function (name) {
      dp(scope, name, {
        get: function () {
          var h = hostOf(this);
          if (!Object.isExtensible(this)) throw new TypeError(name + ' is not available: chart code made the datamodel not extensible before first reading it');
          own(this, name, undefined, true);
          fromHost(h, name); // if the module fails, the variable stays undefined
          return this[name];
        },
        set: function (v) { own(this, name, v, true); },
        enumerable: false, configurable: false,
      });
    });
    freeze(scope);
  }
  function createVariables(host) {
    return new Stamped(create(scope), host);
  }
  function makeEvent(name, type, sendid, origin, origintype, invokeid, data, raw) {
    return freeze({ name: name, type: type, sendid: sendid, origin: origin, origintype: origintype,
                    invokeid: invokeid, data: data, raw: raw });
  }
  // Host services for chart code (module functions such as _genesys.ixn.setuData): only strings
  // cross, and the host's answer is re-thrown as this realm's Error.
  function makeBridge(name, hostCall) {
    return function () {
      var answer = JSON.parse(hostCall(JSON.stringify(Array.prototype.slice.call(arguments))));
      if (!answer.ok) throw new Error(name + ': ' + answer.error);
      return answer.value;
    };
  }
  function setPath(t, path, value) {
    var o = t;
    for (var i = 0; i < path.length - 1; i++) {
      if (o[path[i]] === null || typeof o[path[i]] !== 'object') o[path[i]] = {};
      o = o[path[i]];
    }
    o[path[path.length - 1]] = value;
  }
  return { budget: budget, sealScope: sealScope, createVariables: createVariables, makeEvent: makeEvent, deepFreeze: deepFreeze, tameAndFreeze: tameAndFreeze, makeBridge: makeBridge, setPath: setPath };
})`;

/**
 * A promise chart code rejects and never handles would reach Node's default handler and end
 * the process. One process listener (installed with the first realm) ignores rejections of
 * promises that are not objects of the host's own realm, and keeps Node's default for every
 * other promise.
 *
 * The test is "no host object in its prototype chain", not "a realm's Promise.prototype in
 * its chain": chart code can give its promises any prototype of its realm, or none
 * (Object.setPrototypeOf(p, null), a subclass whose prototype it re-parents,
 * Reflect.construct(Promise, [f], F) with F.prototype = Object.create(null), a Proxy as
 * new.target), but it can never reach a host object to put there.
 */
const realmPrototypes = new WeakSet<object>();
let rejectionGuardInstalled = false;

/** Is `o` an object of the host's main realm? Walks its prototype chain without running chart code (proxies stop the walk). */
function isHostRealmObject(o: object): boolean {
  for (let p: object | null = o; p !== null;) {
    if (p === Object.prototype) return true;
    if (realmPrototypes.has(p) || util.types.isProxy(p)) return false;
    p = Object.getPrototypeOf(p) as object | null;
  }
  return false;
}

/**
 * A regular expression that backtracks catastrophically runs inside V8's regexp engine, where
 * no budget tick can stop it. This V8 flag makes such a match fall back to V8's linear-time
 * engine after a bounded number of backtracks (same result; patterns with backreferences or
 * lookarounds cannot fall back). Process-wide, set once with the first realm.
 */
let linearRegexpFallback = false;
function enableLinearRegexpFallback(): void {
  if (linearRegexpFallback) return;
  linearRegexpFallback = true;
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
}

function ignoreRealmRejections(...prototypes: object[]): void {
  for (const p of prototypes) realmPrototypes.add(p);
  if (rejectionGuardInstalled) return;
  rejectionGuardInstalled = true;
  process.on('unhandledRejection', (reason, promise) => {
    if (!isHostRealmObject(promise)) return; // a chart realm's promise (or another node:vm context's)
    if (process.listenerCount('unhandledRejection') === 1) throw reason; // nobody else listens: Node's default
  });
}

interface RealmApi {
  /** [deadline, budget ms, tripped]: see HARDEN_REALM. */
  readonly budget: Float64Array;
  /** Adds the module variables to the sessions' shared prototype, and freezes it: once, before any session. */
  sealScope(moduleVariables: readonly string[]): void;
  /** A session's variables object, whose system variables ask `host`. */
  createVariables(host: FastSession): Record<string, unknown>;
  makeEvent(...fields: unknown[]): object;
  deepFreeze(o: unknown): void;
  tameAndFreeze(o: unknown): void;
  makeBridge(name: string, hostCall: (json: string) => string): unknown;
  setPath(target: object, path: unknown[], value: unknown): void;
}

/**
 * The ECMAScript datamodel in `fast` mode: one hardened node:vm realm per compiled chart; every
 * expression compiled once (rewritten by scope-rewrite.ts) into a strict function of that realm
 * taking the session's variables object; so a session is one null-prototype object, variables
 * declared or not land in it, and nothing a session does reaches the realm's global.
 */
export class FastEcmaScriptChartModel implements ChartDataModel {
  private readonly context: vm.Context;
  private readonly realm: RealmApi;
  private readonly compiled: (Compiled | undefined)[];
  private readonly rewrite: RewriteContext;
  private domParser: { new(): { parseFromString(xml: string, type: string): unknown } } | null = null;
  readonly budgetMs: number;
  readonly values: ValueFactory;
  readonly definesOnRead: ReadonlySet<string>;
  /**
   * Compiled code can loop (it calls the budget tick: a loop or a function). Until then no
   * chart code can run long, so macrosteps need no budget armed.
   */
  private canLoop = false;

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
    this.realm.budget[1] = this.budgetMs;
    this.definesOnRead = new Set(options.moduleVariables);
    this.realm.sealScope([...this.definesOnRead]);
    this.compiled = new Array(chart.code.length);
    this.rewrite = {
      realmGlobals: new Set(vm.runInContext('Reflect.ownKeys(globalThis).filter(function (k) { return typeof k === "string"; })', this.context) as string[]),
      declared: new Set(chart.states.flatMap((state) => state.data.map((d) => d.id))),
    };
    const RealmObject = vm.runInContext('Object', this.context) as ObjectConstructor;
    const RealmArray = vm.runInContext('Array', this.context) as ArrayConstructor;
    const RealmDate = vm.runInContext('Date', this.context) as DateConstructor;
    ignoreRealmRejections(...(vm.runInContext('[Object.prototype, Promise.prototype]', this.context) as object[]));
    enableLinearRegexpFallback();
    this.values = {
      newObject: () => new RealmObject() as Record<string, unknown>,
      newArray: () => new RealmArray(),
      foreign: (value) => {
        if (value instanceof XmlDocumentValue) return this.xmlValue(value.xml);
        if (isDomNode(value)) return this.xmlValue(String(value));
        if (Object.prototype.toString.call(value) === '[object Date]') return new RealmDate(Date.prototype.getTime.call(value));
        // Any other foreign object arrives as plain data (its own enumerable properties).
        return COPY_AS_PLAIN;
      },
    };
  }

  compile(ref: CodeRef): Compiled {
    let c = this.compiled[ref.id];
    if (c) return c;
    try {
      const opts = { filename: ref.loc.file };
      const kind = ref.kind === 'cond' ? 'expr' : ref.kind;
      const source = compileForSession(ref.source, kind, this.rewrite);
      const fn = vm.runInContext(source, this.context, opts);
      if (!this.canLoop && source.includes(HELPERS.tick)) {
        this.canLoop = true;
        // Compiled in the middle of a macrostep, whose start armed nothing.
        this.armNow();
      }
      switch (ref.kind) {
        case 'expr': case 'cond': c = { kind: 'expr', fn }; break;
        case 'location': c = { kind: 'location', root: locationRoot(ref.source), fn }; break;
        case 'script': c = { kind: 'script', vars: topLevelDeclarations(ref.source), fn }; break;
      }
    } catch (err) {
      c = { kind: 'error', message: errorMessage(err) };
    }
    this.compiled[ref.id] = c;
    return c;
  }

  createSession(system: SystemVariables): SessionDataModel {
    return new FastSession(this, system);
  }

  /** A session's variables object (see HARDEN_REALM). */
  newVariables(host: FastSession): Record<string, unknown> {
    return this.realm.createVariables(host);
  }

  /** _ioprocessors as chart code sees it: a frozen copy in the realm. */
  frozenCopy(value: unknown): unknown {
    const copy = copyData(value, this.values);
    this.realm.deepFreeze(copy);
    return copy;
  }

  /** Start of a macrostep: the runaway budget starts again (only needed once code can loop). */
  arm(): void {
    if (this.canLoop) this.armNow();
  }

  private armNow(): void {
    const budget = this.realm.budget;
    budget[0] = Date.now() + this.budgetMs;
    budget[2] = 0;
  }

  makeEvent(event: ScxmlEvent, data: unknown): object {
    return this.realm.makeEvent(event.name, event.type, event.sendid, event.origin, event.origintype, event.invokeid, data, event.raw);
  }

  bridge(name: string, fn: (args: unknown[]) => unknown): unknown {
    return this.realm.makeBridge(name, (json) => hostAnswer(() => fn(JSON.parse(json) as unknown[])));
  }

  setPath(target: object, path: readonly string[], value: unknown): void {
    this.realm.setPath(target, copyData([...path], this.values) as unknown[], value);
  }

  xmlValue(xml: string): unknown {
    if (!this.domParser) {
      const dom = vm.runInContext(xmldomBundleSource(), this.context) as { DOMParser: NonNullable<FastEcmaScriptChartModel['domParser']> };
      // Every DOM class is shared by the chart's sessions: tamed (assignments that shadow a
      // prototype property still work on instances) and frozen, so no session can change them.
      this.realm.tameAndFreeze(dom);
      this.domParser = dom.DOMParser;
    }
    return new this.domParser().parseFromString(xml, 'text/xml');
  }
}

class FastSession implements SessionDataModel {
  /** The session's variables: an object of the chart's realm over the chart's shared scope prototype. */
  private readonly store: Record<string, unknown>;
  /** The current event, and its _event object once chart code has read it (made at most once per event). */
  private event: ScxmlEvent | null = null;
  private eventValue: object | undefined = undefined;
  private ioprocessorsValue: unknown = undefined;

  constructor(private readonly model: FastEcmaScriptChartModel, private readonly system: SystemVariables) {
    this.store = model.newVariables(this);
  }

  /* What the realm's scope accessors ask (never reachable by chart code). */
  get sessionid(): string { return this.system.sessionid; }
  get name(): string | null { return this.system.name; }
  isIn(stateId: string): boolean { return this.system.In(stateId); }
  defineModuleVariable(name: string): void { this.system.defineModuleVariable(name); }
  ioprocessors(): unknown {
    return (this.ioprocessorsValue ??= this.model.frozenCopy(this.system.ioprocessors()));
  }

  /** The value of _event. */
  currentEvent(): object | undefined {
    if (this.eventValue === undefined && this.event) this.eventValue = this.model.makeEvent(this.event, this.importValue(this.event.data));
    return this.eventValue;
  }

  beginMacrostep(): void {
    this.model.arm();
  }

  evaluate(ref: CodeRef): unknown {
    const c = this.model.compile(ref);
    if (c.kind !== 'expr') throw new EvaluationError(c.kind === 'error' ? `'${ref.source}': ${c.message}` : 'not an expression', ref);
    try {
      const fn = c.fn; // called without a receiver: `this` in chart code is never a host object
      return fn(this.store);
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
    if (!(c.root in this.store)) throw new EvaluationError(`cannot assign to '${location.source.trim()}': '${c.root}' is not declared`, location);
    try {
      const fn = c.fn;
      fn(this.store, value);
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
    for (const v of c.vars) if (!(v in this.store)) this.store[v] = undefined;
    try {
      const fn = c.fn;
      fn(this.store);
    } catch (err) {
      throw new EvaluationError(`script: ${errorMessage(err)}`, ref);
    }
  }

  declare(id: string, value: unknown): void {
    if (SYSTEM_VARIABLES.has(id)) throw new EvaluationError(`${id} is a read-only system variable`);
    this.store[id] = value;
  }

  isDeclared(id: string): boolean {
    return id in this.store;
  }

  setEvent(event: ScxmlEvent): void {
    this.event = event;
    this.eventValue = undefined;
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

  defineFunction(path: readonly string[], fn: (args: unknown[]) => unknown): void {
    this.model.setPath(this.store, path, this.model.bridge(path.join('.'), fn));
  }

  setPath(path: readonly string[], value: unknown): void {
    this.model.setPath(this.store, path, this.importValue(value));
  }

  aliasRoot(name: string): void {
    this.store[name] = this.store;
  }

  variables(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this.store)) {
      const value = this.store[key];
      // Functions are code, not data: snapshots re-create them by re-running the scripts.
      if (typeof value !== 'function' && value !== this.store) out[key] = copyData(value);
    }
    return out;
  }

  dispose(): void {
    // Chart code may have frozen its own variables object: nothing here may throw.
    for (const key of Object.keys(this.store)) Reflect.deleteProperty(this.store, key);
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
