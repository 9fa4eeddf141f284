import * as acorn from 'acorn';
import { getQuickJS, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime, type QuickJSWASMModule } from 'quickjs-emscripten';
import type { CodeRef, CompiledChart } from '../../model/chart.js';
import type { ScxmlEvent } from '../../model/event.js';
import {
  EvaluationError, SandboxFailure, type ChartDataModel, type DataModelOptions, type ForeachSnapshot, type SessionDataModel, type SystemVariables,
} from '../datamodel.js';
import { expressionText, locationRoot, parseExpression, scriptDeclarations } from './analyse.js';
import { DEFAULT_SANDBOX_LIMITS, hostAnswer, MAX_STACK_BYTES, runawayMessage, type SandboxLimits } from './sandbox-common.js';
import { xmldomBundleSource } from './xmldom-bundle.js';
import { XmlDocumentValue } from '../xml-value.js';
import { acyclicCopy, isDomNode } from '../copy-data.js';


let quickjs: QuickJSWASMModule | null = null;

/** Loads the QuickJS WebAssembly module once per process (isolated mode needs it before sessions start). */
export async function loadQuickJs(): Promise<void> {
  quickjs ??= await getQuickJS();
}

export function isQuickJsLoaded(): boolean {
  return quickjs !== null;
}

const XML_MARK = '__orx_xml';
/** A BigInt crosses as {"__orx_bigint": "decimal digits"} (JSON has no BigInt). */
const BIGINT_MARK = '__orx_bigint';

/**
 * Runs once in every session's context. Keeps the engine's helpers in a closure, defines the
 * system variables as accessors that refuse assignment (error.execution, as W3C 5.10 asks), and
 * converts values crossing as JSON (XML travels as {"__orx_xml": text} and becomes a DOM).
 */
export const BOOTSTRAP = `(function (host, budgetMessage) {
  var dp = Object.defineProperty, gopd = Object.getOwnPropertyDescriptor, isExtensible = Object.isExtensible, global = globalThis, dom = null, event = undefined, system = {}, io = undefined;
  // QuickJS polls its interrupt handler only every ~10,000 internal ticks (backward jumps,
  // calls), so a loop whose every iteration is one long built-in call (JSON.stringify of a large
  // array: milliseconds) would overrun the deadline by thousands of those calls. The built-ins
  // whose cost grows with their input are wrapped: a call during which the millisecond clock
  // moved (or every 256th call) asks the host whether the deadline has passed; once it has,
  // every wrapped call throws at once, so the loop spins fast and QuickJS's own interrupt (which
  // chart code cannot catch) ends it.
  var apply = Reflect.apply, now = Date.now, calls = 0, tripped = false;
  // The engine's own work below uses the built-ins as they are now: chart code may replace the
  // globals (JSON.parse = …), never what the engine calls.
  var jsonParse = JSON.parse, jsonStringify = JSON.stringify, freeze = Object.freeze, keysOf = Object.keys,
      slice = Array.prototype.slice, reTest = RegExp.prototype.test, makeBigInt = BigInt, DIGITS = /^-?[0-9]+$/;
  // (one function refers to the message: QuickJS's memory estimate counts a string once per closure that refers to it)
  function budgetError() { return new RangeError(budgetMessage); }
  function guard(owner, key) {
    var d = owner && Object.getOwnPropertyDescriptor(owner, key);
    if (!d || typeof d.value !== 'function') return;
    var original = d.value;
    var guarded = ({ [key]() {
      if (tripped) { if (host(0)) throw budgetError(); tripped = false; }
      var t0 = now();
      try { return apply(original, this, arguments); } finally {
        if (now() !== t0 || ++calls >= 256) { calls = 0; if (host(0)) { tripped = true; throw budgetError(); } }
      }
    } })[key];
    dp(guarded, 'length', { value: original.length });
    dp(owner, key, { value: guarded, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable });
  }
  function guardAll(owner, keys) { keys.forEach((k) => guard(owner, k)); }
  guardAll(JSON, ['stringify', 'parse']);
  guardAll(Array, ['from', 'of']);
  guardAll(Array.prototype, ['join', 'toString', 'toLocaleString', 'sort', 'fill', 'indexOf', 'lastIndexOf', 'includes', 'slice',
    'concat', 'splice', 'reverse', 'flat', 'copyWithin', 'toReversed', 'toSorted', 'toSpliced', 'with']);
  guardAll(String.prototype, ['repeat', 'padStart', 'padEnd', 'split', 'replace', 'replaceAll', 'indexOf', 'lastIndexOf', 'includes',
    'concat', 'normalize', 'toUpperCase', 'toLowerCase', 'localeCompare', 'match', 'matchAll', 'search']);
  guardAll(String, ['fromCharCode', 'fromCodePoint']);
  guardAll(Object, ['keys', 'values', 'entries', 'assign', 'getOwnPropertyNames', 'fromEntries']);
  guardAll(Object.getPrototypeOf(Uint8Array.prototype), ['fill', 'set', 'sort', 'join', 'indexOf', 'lastIndexOf', 'includes', 'slice', 'reverse']);
  guardAll(Function.prototype, ['apply']);
  guardAll(Reflect, ['apply']);
  // The system variables: accessors whose setter throws. _event comes from the host when chart
  // code reads it: host(2) gives the event as JSON the first time it is read, undefined while it
  // is unchanged (and null if it cannot cross). _ioprocessors too, once (host(4)).
  // One setter for the four (each function is memory in every session): the engine's message
  // names the location assigned to.
  function readOnly() { throw new TypeError('the system variables are read-only'); }
  ['_event', '_sessionid', '_name', '_ioprocessors'].forEach((name) => dp(globalThis, name, {
    get: name === '_ioprocessors' ? () => {
      if (io === undefined) { io = freeze(parse(host(4))); keysOf(io).forEach((k) => freeze(io[k])); }
      return io;
    } : name !== '_event' ? () => system[name] : () => {
      var json = host(2);
      if (json === null) throw new TypeError('_event is not available');
      if (json !== undefined) {
        var e = parse(json), fields = ['name', 'type', 'sendid', 'origin', 'origintype', 'invokeid', 'data', 'raw'];
        for (var i = 0; i < fields.length; i++) if (!(fields[i] in e)) e[fields[i]] = undefined;
        event = freeze(e);
      }
      return event;
    },
    set: readOnly,
    configurable: false,
  }));
  dp(globalThis, 'In', { value: function In(id) { return host(1, String(id)) === true; }, writable: false, configurable: false });
  // JSON.parse reviver: a single-key {"__orx_xml": text} becomes a DOM, {"__orx_bigint": digits} a BigInt.
  function revive(key, value) {
    var k;
    if (value && typeof value === 'object') {
      if (typeof value.${XML_MARK} === 'string' && (k = keysOf(value)).length === 1 && k[0] === '${XML_MARK}') {
        return new dom.DOMParser().parseFromString(value.${XML_MARK}, 'text/xml');
      }
      if (typeof value.${BIGINT_MARK} === 'string' && (k = keysOf(value)).length === 1 && k[0] === '${BIGINT_MARK}' && apply(reTest, DIGITS, [value.${BIGINT_MARK}])) {
        return makeBigInt(value.${BIGINT_MARK});
      }
    }
    return value;
  }
  function replace(key, value) {
    if (value && typeof value === 'object' && typeof value.nodeType === 'number' && dom) {
      var o = {}; o.${XML_MARK} = new dom.XMLSerializer().serializeToString(value); return o;
    }
    if (typeof value === 'bigint') { var b = {}; b.${BIGINT_MARK} = '' + value; return b; }
    return value;
  }
  function parse(json) { return json === undefined ? undefined : jsonParse(json, revive); }
  // Functions made for the API live on, each with its own source text (QuickJS keeps it), so
  // they are defined out here: inside the API function their text would be kept twice.
  // A function that calls the host (host(op, JSON of its arguments)).
  function bridge(name, op) {
    return function () {
      var answer = jsonParse(host(op, jsonStringify(apply(slice, arguments, []))));
      if (!answer.ok) throw new Error(name + ': ' + answer.error);
      return answer.value;
    };
  }
  // A module variable, defined by the host (host(3, name)) when chart code first reads it.
  function defineOnRead(name) {
    var own = (v) => dp(global, name, { value: v, writable: true, enumerable: true, configurable: true });
    dp(global, name, {
      get() {
        if (!isExtensible(global)) throw new TypeError(name + ' is not available: chart code made the datamodel not extensible before first reading it');
        own(undefined);
        if (!host(3, name)) throw new TypeError(name + ' is not available'); // and stays undefined
        return global[name];
      },
      set: own, enumerable: false, configurable: true,
    });
  }
  // The engine's API: one function (one is smaller than fifteen), the operation first (OP in isolated.ts).
  return (op, a, b, c) => {
    var path, o, i;
    switch (op) {
      case 0: dom = a; return;
      case 1: system = freeze(parse(a)); return;
      case 2: return a === undefined ? undefined : jsonStringify(a, replace);
      case 3: return parse(a);
      case 4: globalThis[a] = parse(b); return;
      case 5: return a in globalThis ? 1 : 0;
      case 6:
        if (a === null || typeof a !== 'object' || typeof a.length !== 'number') throw new TypeError('not an array');
        return apply(slice, a, []);
      case 7: return a[b];
      case 8: return a.length;
      case 9: case 10:
        // a value, or a function that calls the host (host(c, JSON of its arguments)), at a path of names
        path = jsonParse(a); o = globalThis;
        for (i = 0; i < path.length - 1; i++) {
          if (o[path[i]] === null || typeof o[path[i]] !== 'object') o[path[i]] = {};
          o = o[path[i]];
        }
        o[path[i]] = op === 9 ? parse(b) : bridge(b, c);
        return;
      case 11: jsonParse(a).forEach(defineOnRead); return;
      case 12: return gopd(global, a).get ? 0 : 1; // a module variable: defined yet?
    }
  };
})`;

/**
 * `source` without its comments and the spaces it does not need: QuickJS keeps the source text
 * of every function it compiles (Function.prototype.toString), in every session's runtime.
 * Tokens are joined as they are; a space is kept only where two tokens would otherwise run into
 * one (a name after a name, + +, - -, / /). The code must not rely on automatic semicolons.
 */
export function compactSource(source: string): string {
  let out = '';
  let end = 0;
  for (const t of acorn.tokenizer(source, { ecmaVersion: 'latest' })) {
    const text = source.slice(t.start, t.end);
    if (t.start > end && out) {
      const a = out[out.length - 1], b = text[0];
      if ((/[\w$]/.test(a) && /[\w$]/.test(b)) || (a === b && (a === '+' || a === '-' || a === '/'))) out += ' ';
    }
    out += text;
    end = t.end;
  }
  return out;
}

/** The bootstrap as each session's runtime compiles it. */
export const BOOTSTRAP_SOURCE = compactSource(BOOTSTRAP);

/** The operations of the bootstrap's API function, by name (the name is for messages). */
const OP = {
  setDom: 0, setSystem: 1, exportValue: 2, importValue: 3, declare: 4, has: 5, copyArray: 6, item: 7, length: 8, setPath: 9, bridge: 10,
  defineOnRead: 11, isDefined: 12,
} as const;

/** The host operation of the first defineFunction function (see the host function in IsolatedSession). */
const FIRST_HOST_FUNCTION = 5;
type OpName = keyof typeof OP;

/**
 * What a CodeRef becomes in every session of the chart, worked out once per chart: the code
 * QuickJS compiles (a function), or why it cannot be compiled; for a location, its root.
 */
interface Source {
  readonly code: string | null;
  readonly error: string | null;
  readonly root?: string;
}

/** `<assign location expr>` as one function: see IsolatedEcmaScriptChartModel.fusedSource. */
interface FusedSource {
  readonly exprId: number;
  readonly code: string | null;
}

/** The global names of a session's context before any chart code ran: the same in every session of the process. */
let builtinNames: ReadonlySet<string> | null = null;

/** The parameter of a location's function: names starting with __orx_ are the engine's (as in the fast sandbox). */
const VALUE = '__orx_v';
const STAGE = '__orx_s';

/**
 * The ECMAScript datamodel in `isolated` mode: one QuickJS runtime per session, with a memory
 * limit, a stack limit and an interrupt deadline per macrostep. The datamodel lives inside the
 * runtime (its global object is the session's scope); data crosses as JSON.
 */
export class IsolatedEcmaScriptChartModel implements ChartDataModel {
  readonly limits: SandboxLimits;
  readonly definesOnRead: ReadonlySet<string>;
  private readonly sources = new Map<number, Source>();
  private readonly fused = new Map<number, FusedSource>();
  constructor(readonly chart: CompiledChart, options: DataModelOptions) {
    if (!quickjs) throw new Error('the isolated sandbox is not loaded: await engine.ready() before starting sessions');
    this.limits = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits };
    this.definesOnRead = new Set(options.moduleVariables);
  }
  createSession(system: SystemVariables): SessionDataModel {
    return new IsolatedSession(this, quickjs!, system);
  }

  /**
   * The function a CodeRef compiles to. Functions are arrows (no prototype object to allocate,
   * and `this` is the global object, as it was in the function called without one):
   *  - expr: its value; cond: 1 or 0 (a number is cheaper to read across than a boolean);
   *  - location: `(v) => root declared ? (location = v, 0) : 1`: the declared check and the
   *    assignment in one call.
   * The code of expressions is wrapped in parentheses on lines of their own, so that a trailing
   * `// comment` cannot swallow the rest.
   */
  source(ref: CodeRef): Source {
    let s = this.sources.get(ref.id);
    if (s) return s;
    try {
      const text = expressionText(ref.source);
      switch (ref.kind) {
        case 'expr': s = { code: `(() => (\n${text}\n))`, error: null }; break;
        case 'cond': s = { code: `(() => (\n${text}\n) ? 1 : 0)`, error: null }; break;
        case 'location': {
          const root = locationRoot(ref.source);
          // `this`, in an arrow at the top level, is the global object itself (chart code can
          // rebind the name globalThis, not this).
          s = { code: `((${VALUE}) => ${JSON.stringify(root)} in this ? ((\n${text}\n) = ${VALUE}, 0) : 1)`, error: null, root };
          break;
        }
        case 'script':
          scriptDeclarations(ref.source); // a syntax check: the script itself is run as it is
          s = { code: null, error: null };
          break;
      }
    } catch (err) {
      s = { code: null, error: (err as Error).message };
    }
    this.sources.set(ref.id, s);
    return s;
  }

  /**
   * `<assign location expr>` as one function, so that an event's assignment is one call into
   * QuickJS, not three (evaluate, is the root declared, assign): it evaluates the expression,
   * checks the root and assigns, and answers 0, or 1 when the root is not declared. A closure
   * variable tells which of the two ran when it threw (read by a second function, only then),
   * so that the error names the expression or the location, as separate calls did. Only when
   * both are single expressions (acorn says so): their text is then safe to put side by side;
   * otherwise the separate functions are used (and report whatever is wrong, as they always did).
   */
  fusedSource(location: CodeRef, expr: CodeRef): string | null {
    let f = this.fused.get(location.id);
    if (f && f.exprId === expr.id) return f.code;
    let code: string | null = null;
    const loc = this.source(location);
    if (loc.code !== null && this.source(expr).code !== null) {
      try {
        parseExpression(expr.source);
        const value = expressionText(expr.source), target = expressionText(location.source);
        code = `((${STAGE}) => [() => { ${STAGE} = 0; const ${VALUE} = (\n${value}\n); ${STAGE} = 1; ` +
          `return ${JSON.stringify(loc.root)} in this ? ((\n${target}\n) = ${VALUE}, 0) : 1; }, () => ${STAGE}])(0)`;
      } catch {
        code = null;
      }
    }
    f = { exprId: expr.id, code };
    this.fused.set(location.id, f);
    return code;
  }
}

interface Fused {
  readonly exprId: number;
  /** Evaluates, checks the root, assigns: 0, or 1 when the root is not declared. */
  readonly fn: QuickJSHandle;
  /** After `fn` threw: 0 when the expression threw, 1 when the assignment did. */
  readonly stage: QuickJSHandle;
}

class IsolatedSession implements SessionDataModel {
  private readonly runtime: QuickJSRuntime;
  private readonly vm: QuickJSContext;
  private readonly api: QuickJSHandle;
  /** Each CodeRef's function in this runtime (by CodeRef id), or why it does not compile. */
  private compiled: Map<number, QuickJSHandle | string> | null = null; // made on first use, as the two below
  /** The fused `<assign location expr>` functions, by location id: see IsolatedEcmaScriptChartModel.fusedSource. */
  private fused: Map<number, Fused | null> | null = null;
  private deadline = Infinity;
  /** Why the runtime broke, once it has; it is then neither used nor disposed. */
  private broken: string | null = null;
  /** Why the runtime may not be used again (chart code ran away inside the engine's work); it is still disposed. */
  private runaway: string | null = null;
  private domLoaded = false;
  /** The functions of defineFunction: JSON of the arguments in, JSON of the answer out. */
  private hostFunctions: ((json: string) => string)[] | null = null;
  /** The current event, and whether the VM has it already (it asks for it when chart code reads _event). */
  private event: ScxmlEvent | null = null;
  private eventPulled = false;

  constructor(private readonly model: IsolatedEcmaScriptChartModel, module: QuickJSWASMModule, system: SystemVariables) {
    const { limits } = model;
    this.runtime = module.newRuntime();
    this.runtime.setMemoryLimit(limits.memoryBytes);
    this.runtime.setMaxStackSize(Math.min(limits.stackBytes, MAX_STACK_BYTES));
    this.runtime.setInterruptHandler(() => Date.now() > this.deadline);
    this.vm = this.runtime.newContext();
    const vm = this.vm;
    // The one host function the bootstrap calls: host(0) is the deadline passed, host(1, id) In(id),
    // host(2) the current event, host(3, name) defines a module variable, host(4) _ioprocessors
    // as JSON, host(FIRST_HOST_FUNCTION + i, json) the i-th function of defineFunction.
    const host = vm.newFunction('host', (opHandle, argHandle) => {
      const op = vm.getNumber(opHandle);
      switch (op) {
        case 0: return Date.now() > this.deadline ? vm.true : vm.false;
        case 1: return system.In(vm.getString(argHandle)) ? vm.true : vm.false;
        case 2: return this.pullEvent();
        case 3:
          // A host exception is not for chart code to see: the variable is just not available.
          try { system.defineModuleVariable(vm.getString(argHandle)); return vm.true; } catch { return vm.false; }
        case 4: return vm.newString(this.toJson(system.ioprocessors())!);
        default: return vm.newString(this.hostFunctions![op - FIRST_HOST_FUNCTION](vm.getString(argHandle)));
      }
    });
    const message = vm.newString(runawayMessage(limits.timeMs));
    const bootstrap = vm.unwrapResult(vm.evalCode(BOOTSTRAP_SOURCE, 'orchestrion-bootstrap.js'));
    this.api = vm.unwrapResult(vm.callFunction(bootstrap, vm.undefined, host, message));
    bootstrap.dispose();
    host.dispose();
    message.dispose();
    if (!builtinNames) {
      const namesHandle = vm.unwrapResult(vm.evalCode('Object.getOwnPropertyNames(globalThis)'));
      builtinNames = new Set(vm.dump(namesHandle) as string[]);
      namesHandle.dispose();
    }
    this.callApi('setSystem', this.toJson({ _sessionid: system.sessionid, _name: system.name })).dispose();
    if (model.definesOnRead.size > 0) this.callApi('defineOnRead', JSON.stringify([...model.definesOnRead])).dispose();
  }

  beginMacrostep(): void {
    this.deadline = Date.now() + this.model.limits.timeMs;
  }

  /* ---------- code ---------- */

  /** The function `ref` compiles to in this runtime, or why it does not compile. */
  private compile(ref: CodeRef): QuickJSHandle | string {
    let c = (this.compiled ??= new Map()).get(ref.id);
    if (c !== undefined) return c;
    const source = this.model.source(ref);
    if (source.code === null) c = source.error ?? 'not an expression';
    else {
      const r = this.guard(() => this.vm.evalCode(source.code!, ref.loc.file));
      if (r.error) {
        c = this.errorText(r.error);
        r.error.dispose();
      } else c = r.value;
    }
    this.compiled.set(ref.id, c);
    return c;
  }

  /** Call into the VM, turning an exception, an interrupt or an out-of-memory into an EvaluationError. */
  private call(fn: QuickJSHandle, ref: CodeRef | null, arg?: QuickJSHandle): QuickJSHandle {
    const r = this.enter(fn, arg);
    if (r.error) throw this.failure(r.error, ref);
    return r.value;
  }

  /** One call into the VM, as `guard` (below) does it, without a closure per call. */
  private enter(fn: QuickJSHandle, arg?: QuickJSHandle, args?: QuickJSHandle[]): ReturnType<QuickJSContext['callFunction']> {
    if (this.broken || this.runaway) this.refuse();
    try {
      return args ? this.vm.callFunction(fn, this.vm.undefined, args)
        : arg ? this.vm.callFunction(fn, this.vm.undefined, arg) : this.vm.callFunction(fn, this.vm.undefined);
    } catch (err) {
      throw this.breaks(err);
    }
  }

  /**
   * Every entry into QuickJS: an exception of the host itself (not a QuickJS error result)
   * means the runtime broke — e.g. the host stack overflowed inside the WebAssembly — so the
   * session ends and the runtime is never touched again.
   */
  private guard<T>(enter: () => T): T {
    if (this.broken || this.runaway) this.refuse();
    try {
      return enter();
    } catch (err) {
      throw this.breaks(err);
    }
  }

  private refuse(): never {
    if (this.broken) throw new SandboxFailure(`the isolated sandbox of this session broke earlier: ${this.broken}`);
    throw new SandboxFailure(`the isolated sandbox of this session was stopped earlier: ${this.runaway}`);
  }

  private breaks(err: unknown): SandboxFailure {
    this.broken = (err as Error)?.message ?? String(err);
    return new SandboxFailure(`the isolated sandbox broke (${this.broken}); the session cannot continue`);
  }

  private failure(errorHandle: QuickJSHandle, ref: CodeRef | null): EvaluationError {
    let text = this.errorText(errorHandle);
    errorHandle.dispose();
    if (/interrupted/.test(text)) text = runawayMessage(this.model.limits.timeMs);
    else if (/out of memory/i.test(text)) text = `${text} (the session's datamodel exceeded limits.memoryBytes = ${this.model.limits.memoryBytes})`;
    return new EvaluationError(ref ? `'${ref.source.trim()}': ${text}` : text, ref);
  }

  private errorText(handle: QuickJSHandle): string {
    const e = this.vm.dump(handle) as { name?: string; message?: string } | string;
    return typeof e === 'object' && e ? `${e.name ?? 'Error'}: ${e.message ?? ''}` : String(e);
  }

  private callApi(name: OpName, ...args: (string | number | undefined | QuickJSHandle)[]): QuickJSHandle {
    // The engine's own work inside the runtime (setting _event, copying values) is not chart
    // code, so the macrostep's deadline (perhaps spent already) does not apply to it; but chart
    // code can still run during it (a toJSON, a getter, a proxy trap, a patched DOM method), so
    // it has a deadline of its own. A runaway there is sabotage of the engine's work: the session
    // cannot go on (and the total time it can take is bounded by one limits.timeMs).
    const deadline = this.deadline;
    this.deadline = Date.now() + this.model.limits.timeMs;
    try {
      return this.callApiNow(name, ...args);
    } catch (err) {
      if (err instanceof EvaluationError && Date.now() > this.deadline) {
        this.runaway = `chart code (a toJSON, getter, proxy trap or patched built-in) ran longer than limits.timeMs = ${this.model.limits.timeMs} ms during the engine's own work (${name})`;
        throw new SandboxFailure(`${this.runaway}; the session cannot continue`);
      }
      throw err;
    } finally {
      this.deadline = deadline;
    }
  }

  private callApiNow(name: OpName, ...args: (string | number | undefined | QuickJSHandle)[]): QuickJSHandle {
    const vm = this.vm;
    const handles = [OP[name], ...args].map((a) => (typeof a === 'string' ? vm.newString(a) : typeof a === 'number' ? vm.newNumber(a) : a === undefined ? vm.undefined : a));
    try {
      const r = this.enter(this.api, undefined, handles);
      if (r.error) throw this.failure(r.error, null);
      return r.value;
    } finally {
      for (let i = 0; i < handles.length; i++) if (i === 0 || typeof args[i - 1] === 'string' || typeof args[i - 1] === 'number') handles[i].dispose();
    }
  }

  /* ---------- values across the boundary ---------- */

  private toJson(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    // JSON carries no cycles: a value referring back to an ancestor is left out.
    const text = JSON.stringify(acyclicCopy(value), (_k, v: unknown) => {
      if (v instanceof XmlDocumentValue) return { [XML_MARK]: v.xml };
      if (isDomNode(v)) return { [XML_MARK]: String(v) };
      if (typeof v === 'bigint') return { [BIGINT_MARK]: v.toString() };
      return v;
    });
    if (text && text.includes(XML_MARK)) this.loadDom();
    return text;
  }

  private fromVm(handle: QuickJSHandle): unknown {
    const json = this.callApi('exportValue', handle);
    try {
      const text = this.vm.typeof(json) === 'string' ? this.vm.getString(json) : undefined;
      return text === undefined ? undefined : JSON.parse(text, (_k, v: unknown) => {
        if (!v || typeof v !== 'object' || Object.keys(v).length !== 1) return v;
        const o = v as Record<string, unknown>;
        if (typeof o[XML_MARK] === 'string') return new XmlDocumentValue(o[XML_MARK]);
        if (typeof o[BIGINT_MARK] === 'string' && /^-?[0-9]+$/.test(o[BIGINT_MARK])) return BigInt(o[BIGINT_MARK]);
        return v;
      });
    } finally {
      json.dispose();
    }
  }

  private toVm(value: unknown): QuickJSHandle {
    return this.callApi('importValue', this.toJson(value));
  }

  private loadDom(): void {
    if (this.domLoaded) return;
    const dom = this.guard(() => this.vm.unwrapResult(this.vm.evalCode(xmldomBundleSource(), "xmldom.js")));
    this.callApi('setDom', dom).dispose();
    dom.dispose();
    this.domLoaded = true;
  }

  /* ---------- SessionDataModel ---------- */

  evaluate(ref: CodeRef): unknown {
    const handle = this.evaluateHandle(ref);
    try {
      return this.fromVm(handle);
    } finally {
      handle.dispose();
    }
  }

  private evaluateHandle(ref: CodeRef): QuickJSHandle {
    const fn = this.compile(ref);
    if (typeof fn === 'string') throw new EvaluationError(`'${ref.source}': ${fn}`, ref);
    return this.call(fn, ref);
  }

  test(ref: CodeRef): boolean {
    if (ref.kind !== 'cond') {
      const h = this.evaluateHandle(ref);
      try {
        return Boolean(this.fromVm(h));
      } finally {
        h.dispose();
      }
    }
    const h = this.evaluateHandle(ref);
    const result = this.vm.getNumber(h) === 1;
    h.dispose();
    return result;
  }

  assign(location: CodeRef, value: unknown): void {
    const handle = this.toVm(value);
    try {
      this.assignHandle(location, handle);
    } finally {
      handle.dispose();
    }
  }

  assignExpression(location: CodeRef, expr: CodeRef): void {
    const f = this.fusedFor(location, expr);
    if (!f) {
      const handle = this.evaluateHandle(expr);
      try {
        this.assignHandle(location, handle);
      } finally {
        handle.dispose();
      }
      return;
    }
    const r = this.enter(f.fn);
    if (r.error) throw this.failure(r.error, this.stageOf(f) === 0 ? expr : location);
    const answer = this.vm.getNumber(r.value);
    r.value.dispose();
    if (answer === 1) throw this.undeclared(location);
  }

  /** The fused function of this assignment (compiled on first use), or null when it has none. */
  private fusedFor(location: CodeRef, expr: CodeRef): Fused | null {
    let f = (this.fused ??= new Map()).get(location.id);
    if (f !== undefined && (f === null || f.exprId === expr.id)) return f;
    if (f) { // the location was assigned another expression (charts do not do this): replaced
      f.fn.dispose();
      f.stage.dispose();
    }
    f = null;
    const code = this.model.fusedSource(location, expr);
    if (code !== null) {
      const r = this.guard(() => this.vm.evalCode(code, location.loc.file));
      if (r.error) r.error.dispose(); // the separate functions will tell what is wrong
      else {
        const pair = r.value;
        f = { exprId: expr.id, fn: this.guard(() => this.vm.getProp(pair, 0)), stage: this.guard(() => this.vm.getProp(pair, 1)) };
        pair.dispose();
      }
    }
    this.fused.set(location.id, f);
    return f;
  }

  /** Which part of a fused assignment threw: 0 the expression, 1 the location (the expression, if that cannot be told). */
  private stageOf(f: Fused): number {
    // The deadline may have passed (an interrupt is what threw): this read is not chart code.
    const deadline = this.deadline;
    this.deadline = Infinity;
    try {
      const r = this.enter(f.stage);
      if (r.error) {
        r.error.dispose();
        return 0;
      }
      const stage = this.vm.getNumber(r.value);
      r.value.dispose();
      return stage;
    } catch {
      return 0;
    } finally {
      this.deadline = deadline;
    }
  }

  private assignHandle(location: CodeRef, handle: QuickJSHandle): void {
    const fn = this.compile(location);
    if (typeof fn === 'string') throw new EvaluationError(`'${location.source}' is not a valid location: ${fn}`, location);
    const h = this.call(fn, location, handle);
    const answer = this.vm.getNumber(h);
    h.dispose();
    if (answer === 1) throw this.undeclared(location);
  }

  private undeclared(location: CodeRef): EvaluationError {
    return new EvaluationError(`cannot assign to '${location.source.trim()}': '${this.model.source(location).root}' is not declared`, location);
  }

  foreachSnapshot(array: CodeRef): ForeachSnapshot {
    const value = this.evaluateHandle(array);
    let copy: QuickJSHandle;
    try {
      copy = this.callApi('copyArray', value);
    } catch (err) {
      throw new EvaluationError(`foreach array '${array.source}' is not an array`, array);
    } finally {
      value.dispose();
    }
    let length: number;
    try {
      const lengthHandle = this.callApi('length', copy);
      length = this.vm.getNumber(lengthHandle);
      lengthHandle.dispose();
    } catch (err) {
      copy.dispose();
      throw err;
    }
    return {
      length,
      assignItem: (index, location) => {
        const item = this.callApi('item', copy, index);
        try {
          this.assignHandle(location, item);
        } finally {
          item.dispose();
        }
      },
      // (a broken runtime is left alone, as in dispose)
      release: () => { if (copy.alive && !this.broken) copy.dispose(); },
    };
  }

  runScript(ref: CodeRef): void {
    const error = this.model.source(ref).error;
    if (error !== null) throw new EvaluationError(`script does not compile: ${error}`, ref);
    const r = this.guard(() => this.vm.evalCode(ref.source, ref.loc.file));
    if (r.error) throw this.failure(r.error, null);
    r.value.dispose();
  }

  declare(id: string, value: unknown): void {
    this.callApi('declare', id, this.toJson(value)).dispose();
  }

  declareExpression(id: string, expr: CodeRef): void {
    if (!this.isDeclared(id)) this.declare(id, undefined);
    this.assignHandleToGlobal(id, this.evaluateHandle(expr));
  }

  private assignHandleToGlobal(id: string, handle: QuickJSHandle): void {
    this.guard(() => this.vm.setProp(this.vm.global, id, handle));
    handle.dispose();
  }

  isDeclared(id: string): boolean {
    return this.apiNumber('has', id) === 1;
  }

  /** An API operation whose answer is a number. */
  private apiNumber(name: OpName, ...args: (string | number | undefined)[]): number {
    const h = this.callApi(name, ...args);
    try {
      return this.vm.getNumber(h);
    } finally {
      h.dispose();
    }
  }

  setEvent(event: ScxmlEvent): void {
    this.event = event;
    this.eventPulled = false;
  }

  /** The VM's _event getter asks: the event as JSON once per event, undefined while unchanged. */
  private pullEvent(): QuickJSHandle {
    const vm = this.vm, event = this.event;
    if (this.eventPulled || !event) return vm.undefined;
    this.eventPulled = true;
    try {
      return vm.newString(this.toJson({
        name: event.name, type: event.type, sendid: event.sendid, origin: event.origin, origintype: event.origintype,
        invokeid: event.invokeid, data: event.data, raw: event.raw,
      })!);
    } catch {
      return vm.null;
    }
  }

  importValue(value: unknown): unknown {
    return value; // converted when it enters the VM (declare, assign)
  }

  xmlValue(xml: string): unknown {
    return new XmlDocumentValue(xml);
  }

  exportValue(value: unknown): unknown {
    return value; // evaluate() already returns plain data
  }

  defineFunction(path: readonly string[], fn: (args: unknown[]) => unknown): void {
    const functions = (this.hostFunctions ??= []);
    functions.push((json) => hostAnswer(() => fn(JSON.parse(json) as unknown[])));
    this.callApi('bridge', JSON.stringify(path), path.join('.'), FIRST_HOST_FUNCTION + functions.length - 1).dispose();
  }

  setPath(path: readonly string[], value: unknown): void {
    this.callApi('setPath', JSON.stringify(path), this.toJson(value)).dispose();
  }

  aliasRoot(name: string): void {
    const r = this.guard(() => this.vm.evalCode(`globalThis[${JSON.stringify(name)}] = globalThis;`));
    if (r.error) throw this.failure(r.error, null);
    r.value.dispose();
  }

  variables(): Record<string, unknown> {
    const vm = this.vm;
    const out: Record<string, unknown> = {};
    const names = this.guard(() => vm.getOwnPropertyNames(vm.global));
    if (names.error) {
      names.error.dispose();
      return out;
    }
    try {
      for (const nameHandle of names.value) {
        const name = vm.getString(nameHandle);
        if (builtinNames!.has(name)) continue;
        // A module variable not read yet is not made for the listing.
        if (this.model.definesOnRead.has(name) && this.apiNumber('isDefined', name) === 0) continue;
        const h = vm.getProp(vm.global, name);
        try {
          // Functions are code, not data (snapshots re-create them by re-running the scripts);
          // an alias of the root (_data) is not data either.
          if (vm.typeof(h) === 'function' || vm.eq(h, vm.global)) continue;
          out[name] = this.fromVm(h);
        } catch {
          out[name] = '[not serialisable]';
        } finally {
          h.dispose();
        }
      }
    } finally {
      names.value.dispose();
    }
    return out;
  }

  dispose(): void {
    // A broken runtime is left alone: disposing it would abort the process.
    if (this.broken) return;
    for (const c of this.compiled?.values() ?? []) if (typeof c !== 'string') c.dispose();
    this.compiled = null;
    for (const f of this.fused?.values() ?? []) {
      f?.fn.dispose();
      f?.stage.dispose();
    }
    this.fused = null;

    this.api.dispose();
    this.vm.dispose();
    this.runtime.dispose();
  }
}
