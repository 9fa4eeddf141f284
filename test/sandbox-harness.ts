// Shared by sandbox-escapes.test.ts and sandbox-isolation.test.ts: run real charts in either
// sandbox mode, in this process or (for anything that could hang or crash it) in a child process,
// and the chart-side probe library that tries to reach host capabilities.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createEngine, type CompiledChart, type Engine, type EngineOptions, type LogEntry, type SessionResult } from '../src/index.js';

export type Mode = 'fast' | 'isolated';
export const MODES: readonly Mode[] = ['fast', 'isolated'];

/** A marker on the host's global object: chart code must never be able to read it. */
export const HOST_MARKER = 42;
(globalThis as Record<string, unknown>).__hostMarker = HOST_MARKER;

export const scxml = (body: string, attrs = '') =>
  `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript" ${attrs}>\n${body}\n</scxml>\n`;

/** A <script> whose code needs no XML escaping. */
export const script = (code: string) => `<script><![CDATA[\n${code}\n]]></script>`;

export function compile(engine: Engine, xml: string, file = 'sandbox-test.scxml'): CompiledChart {
  const { chart, diagnostics } = engine.load({ xml, file });
  assert.ok(chart, `chart did not load: ${JSON.stringify(diagnostics)}`);
  return chart;
}

export async function newEngine(mode: Mode, options: Omit<EngineOptions, 'sandbox'> = {}): Promise<{ engine: Engine; logs: LogEntry[] }> {
  const logs: LogEntry[] = [];
  const engine = createEngine({ ...options, sandbox: mode, onLog: (e) => { logs.push(e); options.onLog?.(e); } });
  await engine.ready();
  return { engine, logs };
}

/** Rejects when `promise` has not settled within `ms` (an asynchronous wall bound). */
export function within<T>(promise: Promise<T>, ms: number, what = 'the session'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface RunOptions {
  readonly limits?: EngineOptions['limits'];
  readonly data?: Record<string, unknown>;
  readonly events?: readonly (readonly [string, unknown?])[];
  readonly wallMs?: number;
  readonly onLog?: (entry: LogEntry) => void;
}

/** One session of `xml` in a fresh engine; events are queued at once. */
export async function runChart(mode: Mode, xml: string, options: RunOptions = {}): Promise<{ result: SessionResult; logs: LogEntry[]; engine: Engine }> {
  const { engine, logs } = await newEngine(mode, { limits: options.limits, onLog: options.onLog });
  const session = engine.start(compile(engine, xml), { data: options.data });
  for (const [name, data] of options.events ?? []) session.send(name, data);
  const result = await within(session.done, options.wallMs ?? 10_000);
  return { result, logs, engine };
}

/** Values logged under `label`, as strings (charts log strings, so both modes compare alike). */
export const logged = (logs: readonly LogEntry[], label: string): string[] =>
  logs.filter((l) => l.label === label).map((l) => (typeof l.value === 'string' ? l.value : JSON.stringify(l.value) ?? String(l.value)));

/**
 * Chart-side probe library (one <script>): `attempt(name, get)` runs `get`, then asks whether its
 * value is a host capability (process, the host global, require, the host marker), and whether
 * any constructor chain from it leads to a Function constructor that can produce one. Each
 * attempt appends "name: blocked" or "name: REACHED …" to the datamodel variable `out`.
 */
export const PROBE_LIB = `
var out = [];
// A live process object, not a copy of one (copies carry no functions): it can tell its cwd.
function isProcess(v) {
  try {
    return v !== null && v !== undefined && (typeof v === 'object' || typeof v === 'function') &&
      typeof v.pid === 'number' && typeof v.cwd === 'function' && typeof v.cwd() === 'string';
  } catch (e) { return false; }
}
function hostish(v) {
  try {
    if (isProcess(v)) return 'REACHED process';
    if (v === ${HOST_MARKER}) return 'REACHED host marker';
    if (v !== null && v !== undefined && (typeof v === 'object' || typeof v === 'function')) {
      if (isProcess(v.process)) return 'REACHED process (via a global)';
      if (v.__hostMarker === ${HOST_MARKER}) return 'REACHED host marker (via a global)';
      if (typeof v.require === 'function') return 'REACHED require';
      if (typeof v.readFileSync === 'function') return 'REACHED fs';
    }
  } catch (e) {}
  return null;
}
var BODIES = ['return process', 'return globalThis', 'return this', 'return globalThis.__hostMarker',
  'return typeof require === "function" ? require("fs") : null', 'return typeof module === "object" ? module : null'];
function viaFunction(F) {
  var found = null;
  BODIES.forEach(function (body) {
    if (found) return;
    try { found = hostish(F(body)()); } catch (e) {}
    if (found) return;
    try { found = hostish(new F(body)()); } catch (e) {}
    if (found) return;
    try { var it = F(body)(); if (it && typeof it.next === 'function') found = hostish(it.next().value); } catch (e) {}
  });
  return found;
}
function chains(x) {
  var found = null, candidates = [];
  try { candidates.push(x.constructor); } catch (e) {}
  try { candidates.push(x.constructor.constructor); } catch (e) {}
  try { candidates.push(Object.getPrototypeOf(x).constructor); } catch (e) {}
  try { candidates.push(Object.getPrototypeOf(x).constructor.constructor); } catch (e) {}
  try { candidates.push(x.__proto__.constructor.constructor); } catch (e) {}
  try { if (typeof x === 'function') candidates.push(x); } catch (e) {}
  candidates.forEach(function (F) { if (!found && typeof F === 'function') found = viaFunction(F); });
  return found;
}
function attempt(name, get) {
  var verdict = null;
  try { var v = get(); verdict = hostish(v) || chains(v); } catch (e) { verdict = null; }
  out.push(name + ': ' + (verdict || 'blocked'));
}
`;

/**
 * A chart that loads the probe library, runs `attempts` (a script calling attempt(...)) on entry
 * and, if given, `onProbe` (another script) on the event "probe", logs `out` (label "out") and ends
 * in "pass" on "done"; any error.execution on the way ends in "fail" (its message logged as "error").
 * With `tolerateErrors`, `attempts` may be several scripts, each in its own <onentry> (one that does
 * not compile stops only itself), and error.execution is only logged.
 */
export function probeChart(options: { datamodel?: string; attempts?: string | readonly string[]; onProbe?: string; extraStates?: string; tolerateErrors?: boolean }): string {
  const attempts = typeof options.attempts === 'string' || options.attempts === undefined ? [options.attempts ?? ''] : options.attempts;
  return scxml(`
<datamodel>${options.datamodel ?? ''}</datamodel>
<state id="s">
  <onentry>${script(PROBE_LIB)}</onentry>
  ${attempts.map((a) => `<onentry>${script(a)}</onentry>`).join('\n  ')}
  <onentry><log label="out" expr="JSON.stringify(out)"/></onentry>
  <transition event="probe">${script(options.onProbe ?? '')}<log label="out" expr="JSON.stringify(out)"/></transition>
  <transition event="done" target="pass"/>
  <transition event="error.execution"${options.tolerateErrors ? '' : ' target="fail"'}><log label="error" expr="_event.data.message"/></transition>
</state>
${options.extraStates ?? ''}
<final id="pass"/>
<final id="fail"/>`);
}

/** The last `out` logged: each attempt's verdict. Asserts that no attempt reached the host and that all of `expected` ran. */
export function assertAllBlocked(logs: readonly LogEntry[], expected: readonly string[]): string[] {
  const outs = logged(logs, 'out');
  assert.ok(outs.length > 0, `nothing logged; errors: ${JSON.stringify(logged(logs, 'error'))}`);
  const verdicts = JSON.parse(outs[outs.length - 1]) as string[];
  const reached = verdicts.filter((v) => /REACHED/.test(v));
  assert.deepEqual(reached, [], `chart code reached a host capability:\n${reached.join('\n')}`);
  for (const name of expected) assert.ok(verdicts.some((v) => v.startsWith(`${name}: `)), `attempt '${name}' did not run: ${JSON.stringify(verdicts)}`);
  return verdicts;
}

/* ---------- child processes: for anything that could hang or crash the test process ---------- */

export interface ChildSpec {
  readonly mode: Mode;
  readonly xml: string;
  readonly limits?: EngineOptions['limits'];
  readonly data?: Record<string, unknown>;
  /** Sent right after start. */
  readonly events?: readonly (readonly [string, unknown?])[];
  /** Host code (an async function body, `engine` and `session` in scope) run once the engine is idle. */
  readonly hostScript?: string;
  /** Sent after hostScript. */
  readonly laterEvents?: readonly (readonly [string, unknown?])[];
  /** The child gives up waiting for the session after this long (it then reports timedOut). */
  readonly settleMs?: number;
  /** The child is killed after this long (a synchronous hang). */
  readonly killMs?: number;
  readonly nodeArgs?: readonly string[];
}

export interface ChildOutcome {
  /** Killed by the parent: the child's thread never came back (a synchronous hang). */
  readonly killed: boolean;
  /** The session did not end within settleMs. */
  readonly timedOut: boolean;
  readonly result: { status: string; final: string | null; message?: string } | null;
  readonly logs: { label: string | null; value: string }[];
  /** uncaughtException / unhandledRejection seen by the host process. */
  readonly hostErrors: string[];
  /** Wall time from start to the session's end (or to the child's exit). */
  readonly wallMs: number;
  /**
   * The shorter of that wall time and the CPU time the child used meanwhile: the time the work
   * took, which a loaded machine stretches in wall time but not in CPU time (bounds on how fast
   * runaway code is stopped are checked on it).
   */
  readonly busyMs: number;
  readonly stderr: string;
}

const INDEX_URL = new URL('../src/index.js', import.meta.url).href;

const CHILD_PROGRAM = `
import { createEngine } from ${JSON.stringify(INDEX_URL)};
const spec = JSON.parse(process.env.ORX_SANDBOX_SPEC);
const out = { logs: [], hostErrors: [], result: null, timedOut: false, wallMs: 0, cpuMs: 0 };
const t0 = Date.now(), cpu0 = process.cpuUsage();
const cpuMs = () => { const c = process.cpuUsage(cpu0); return Math.round((c.user + c.system) / 1000); };
const text = (e) => { try { return e && e.message !== undefined ? String(e.name) + ': ' + String(e.message) : String(e); } catch { return '[unprintable]'; } };
// After an uncaught exception the engine may never settle the session: report soon rather than wait.
process.on('uncaughtException', (e) => { out.hostErrors.push('uncaughtException: ' + text(e)); setTimeout(() => process.exit(0), 500); });
// No unhandledRejection listener of our own: like a host that has none, a rejection nobody
// handles becomes an uncaughtException (Node's default) — unless it is a chart realm's promise,
// which the engine's own listener absorbs.
process.on('exit', () => { if (!out.wallMs) { out.wallMs = Date.now() - t0; out.cpuMs = cpuMs(); } process.stdout.write('\\n@@ORX@@' + JSON.stringify(out) + '\\n'); });
const show = (v) => { if (typeof v === 'string') return v; try { return JSON.stringify(v) ?? String(v); } catch { return String(v); } };
const engine = createEngine({ sandbox: spec.mode, limits: spec.limits, onLog: (e) => out.logs.push({ label: e.label ?? null, value: show(e.value) }) });
await engine.ready();
const { chart, diagnostics } = engine.load({ xml: spec.xml, file: 'sandbox-child.scxml' });
if (!chart) { out.hostErrors.push('chart did not load: ' + JSON.stringify(diagnostics)); process.exit(0); }
const session = engine.start(chart, { data: spec.data });
for (const [name, data] of spec.events) session.send(name, data);
setTimeout(() => { out.timedOut = true; process.exit(0); }, spec.settleMs);
if (spec.hostScript) {
  await engine.whenIdle();
  await (new Function('engine', 'session', 'return (async () => {' + spec.hostScript + '})()'))(engine, session);
  for (const [name, data] of spec.laterEvents) session.send(name, data);
}
const r = await session.done;
out.wallMs = Date.now() - t0;
out.cpuMs = cpuMs();
out.result = { status: r.status, final: r.final, message: r.message };
// Give stray promise rejections and finalizers a chance to surface.
await new Promise((resolve) => setTimeout(resolve, 100));
process.exit(0);
`;

export function runInChild(spec: ChildSpec): Promise<ChildOutcome> {
  const settleMs = spec.settleMs ?? 10_000;
  const killMs = spec.killMs ?? settleMs + 4_000;
  const env = {
    ...process.env,
    ORX_SANDBOX_SPEC: JSON.stringify({
      mode: spec.mode, xml: spec.xml, limits: spec.limits ?? {}, data: spec.data, events: spec.events ?? [],
      hostScript: spec.hostScript ?? null, laterEvents: spec.laterEvents ?? [], settleMs,
    }),
  };
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), '--input-type=module', '-e', CHILD_PROGRAM], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, killMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', () => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('@@ORX@@'));
      const parsed = line ? JSON.parse(line.slice('@@ORX@@'.length)) as Omit<ChildOutcome, 'killed' | 'stderr' | 'busyMs'> & { cpuMs: number } : null;
      const wallMs = parsed?.wallMs ?? Date.now() - started;
      resolve({
        killed,
        timedOut: parsed?.timedOut ?? false,
        result: parsed?.result ?? null,
        logs: parsed?.logs ?? [],
        hostErrors: parsed?.hostErrors ?? [],
        wallMs,
        busyMs: parsed ? Math.min(wallMs, parsed.cpuMs) : wallMs,
        stderr: stderr.slice(0, 2000),
      });
    });
  });
}

/** A readable summary of a child outcome for assertion messages. */
export const describeOutcome = (o: ChildOutcome) =>
  JSON.stringify({ killed: o.killed, timedOut: o.timedOut, wallMs: o.wallMs, busyMs: o.busyMs, result: o.result, logs: o.logs.slice(0, 10), hostErrors: o.hostErrors, stderr: o.stderr.slice(0, 300) });

/** `{ todo }` for the modes listed in `known` (a found hole, reported), otherwise no option. */
export function known(mode: Mode, holes: Partial<Record<Mode, string>>): { todo?: string } {
  const reason = holes[mode];
  return reason ? { todo: reason } : {};
}
