import { createWriteStream, fstatSync, type WriteStream } from 'node:fs';
import { isatty } from 'node:tty';
import { createEngine, STANDALONE_PARLAYX } from '../create-engine.js';
import { BillingManager } from '../billing/manager.js';
import { SqliteBillingStore } from '../billing/sqlite-billing-store.js';
import type { Engine } from '../runtime/engine.js';
import type { Session } from '../runtime/session.js';
import type { IxnModule } from '../ixn/module.js';
import { SimulatedSwitch, type SimLogEntry } from '../tserver/sim/index.js';
import type { SessionResult } from '../runtime/session.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import { formatValue } from './format-value.js';
import { EventsFileError, EventTimeline, readEventLines, readEventsFile, type EventLine, type ScriptedEvent } from './event-sources.js';
import { InteractivePrompt, SteppedVirtualClock } from './interactive.js';
import { colorWanted, levelAtLeast, TraceSummary, type LogLevel } from './summary.js';

export interface RunOptions {
  readonly chart: string;
  readonly json: boolean;
  readonly clock: 'real' | 'virtual';
  readonly timeoutMs: number | null;
  readonly sandbox: 'fast' | 'isolated';
  readonly events: readonly { name: string; data: unknown }[];
  readonly http: boolean;
  /** --call FROM:TO: inbound calls placed on the simulated switch, given to the session. */
  readonly calls: readonly { from: string; to: string }[];
  /** --switch: topology of the simulated switch (JSON file). */
  readonly switchTopology: string | null;
  /** --trace: where the JSONL trace goes (a file path, or '-' for stderr); null for none. */
  readonly trace: string | null;
  /** --events: a JSON Lines file of events, each with an optional delay (event-sources.ts). */
  readonly eventsFile?: string | null;
  /** SQLite file of the Billing Manager for the chart's billing actions (none: billing actions are not available). */
  readonly billingDb?: string | null;
  /**
   * --stdin: `auto` (default): a prompt when stdin is a terminal, event lines when it is a shell
   * pipe (FIFO) or a file, ignored otherwise (a socket: the stdin a parent process leaves open
   * when it spawns us, /dev/null); `events`: event lines whatever stdin is; `off`: ignored.
   */
  readonly stdin?: 'auto' | 'events' | 'off';
  /** --log-level: how much readable output (default info; the --json line is always printed). */
  readonly logLevel?: LogLevel;
}

/** The process's terminals and environment, as runCommand sees them (tests can substitute them). */
export interface RunIo {
  readonly stdin: NodeJS.ReadStream;
  /** What kind of file stdin is, without touching process.stdin (which would start reading). */
  readonly stdinKind: () => 'tty' | 'fifo' | 'file' | 'other';
  /** Where the interactive prompt writes. */
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
}

const PROCESS_IO: RunIo = {
  get stdin() { return process.stdin; },
  stdinKind: () => {
    if (isatty(0)) return 'tty';
    try {
      const st = fstatSync(0);
      return st.isFIFO() ? 'fifo' : st.isFile() ? 'file' : 'other';
    } catch {
      return 'other';
    }
  },
  stdout: process.stdout, stderr: process.stderr, env: process.env,
};

export interface RunOutcome {
  readonly status: 'final' | 'idle' | 'timeout' | 'error';
  readonly final: string | null;
  readonly configuration: readonly string[];
  readonly message?: string;
}

export const EXIT_FINAL = 0;
export const EXIT_NOT_FINAL = 1;
export const EXIT_LOAD_ERROR = 2;

/**
 * `run-scxml run`: run a chart until a top-level final, until nothing more can happen, or
 * until the timeout. The exit code and the --json line are a contract automation relies on.
 */
export async function runCommand(options: RunOptions, out: (line: string) => void, err: (line: string) => void, io: RunIo = PROCESS_IO): Promise<number> {
  const level = options.logLevel ?? 'info';
  const at = (wanted: LogLevel) => levelAtLeast(level, wanted);
  // Everything readable goes through these two, so the interactive prompt can keep itself
  // below what is printed. The --json line and usage errors are not subject to --log-level.
  let print = { out, err };
  const say = (line: string) => print.out(line);
  const complain = (line: string) => print.err(line);

  let scripted: ScriptedEvent[] = [];
  if (options.eventsFile) {
    try {
      scripted = readEventsFile(options.eventsFile);
    } catch (e) {
      if (!(e instanceof EventsFileError)) throw e;
      err(`run-scxml: ${e.message}`);
      return EXIT_LOAD_ERROR;
    }
  }
  // stdin: a prompt on a terminal, event lines from a pipe or file, nothing with --stdin off.
  const stdinMode = chooseStdinMode(options.stdin ?? 'auto', io.stdinKind());
  // The prompt on virtual time: time stands still until `advance` (interactive.ts).
  const steppedClock = stdinMode === 'prompt' && options.clock === 'virtual' ? new SteppedVirtualClock() : null;

  let session: Session | undefined;
  let engine: Engine;
  try {
    const billing = options.billingDb ? new BillingManager({ store: new SqliteBillingStore(options.billingDb) }) : null;
    engine = createEngine({
      clock: steppedClock ?? options.clock,
      sandbox: options.sandbox,
      onLog: (entry) => { if (at('info')) say(entry.label ? `${entry.label}: ${formatValue(entry.value)}` : formatValue(entry.value)); },
      ...(options.switchTopology ? { switchTopology: options.switchTopology } : {}),
      // Calls placed with --call go to the one session this command runs.
      ixn: { onInbound: () => session ?? null },
      parlayx: STANDALONE_PARLAYX,
      ...(billing ? { billing: { manager: billing } } : {}),
    });
    if (billing) engine.onClose(() => billing.close());
  } catch (e) {
    err(`run-scxml: ${(e as Error).message}`);
    return EXIT_LOAD_ERROR;
  }
  steppedClock?.holdFor(engine);
  const traceSink = options.trace === null ? null : options.trace === '-' ? process.stderr : createWriteStream(options.trace);
  if (traceSink) engine.onTrace((record) => traceSink.write(`${JSON.stringify(record)}\n`));

  // The readable summary: on a terminal (stdout), never with --json or --trace; in a pipe only
  // when asked for with --log-level debug. Coloured on a terminal unless NO_COLOR is set.
  const summary = new TraceSummary({
    write: say, level, color: colorWanted(io.stdout.isTTY, io.env), isRoot: (id) => id === session?.id,
  });
  let stopSummary: (() => void) | null = null;
  const setSummary = (on: boolean) => {
    if (on && !stopSummary) stopSummary = engine.onTrace(summary.listener);
    if (!on && stopSummary) {
      stopSummary();
      stopSummary = null;
    }
  };
  setSummary(!options.json && options.trace === null && (io.stdout.isTTY ? at('error') : at('debug')));

  const switches = engine.service<IxnModule>('ixn')?.registry.all() ?? [];
  for (const sw of switches) if (sw instanceof SimulatedSwitch) sw.onLog((entry) => { if (at('info')) say(describeSwitchEntry(entry)); });
  const loaded = engine.load(options.chart);
  for (const d of loaded.diagnostics) if (at(d.severity === 'error' ? 'error' : 'warn')) err(formatDiagnostic(d));
  if (!loaded.chart) {
    if (options.json) out(JSON.stringify({ status: 'error', final: null, configuration: [], message: 'the chart could not be loaded' }));
    return EXIT_LOAD_ERROR;
  }
  if (options.sandbox === 'isolated' || loaded.chart.sandbox === 'isolated') await engine.ready();
  if (options.http) {
    try {
      await engine.listen();
    } catch (e) {
      if (at('warn')) err(`warning: the BasicHTTP processor could not listen on loopback: ${(e as Error).message}`);
    }
  }
  session = engine.start(loaded.chart);
  const running = session;
  const deliver = (e: EventLine) => running.send(e.name, e.data);
  for (const e of options.events) running.send(e.name, e.data);
  // --events: after the --event events; each delay counts from the previous line, on the engine clock.
  const fileTimeline = new EventTimeline(engine.clock, deliver);
  for (const e of scripted) fileTimeline.add(e);
  for (const call of options.calls) {
    const sw = engine.service<IxnModule>('ixn')?.registry.switchOfDn(call.to);
    const type = sw instanceof SimulatedSwitch ? sw.dn(call.to)?.type : undefined;
    if (!(sw instanceof SimulatedSwitch) || (type !== 'routingpoint' && type !== 'queue')) {
      err(`run-scxml: --call ${call.from}:${call.to}: ${sw ? `DN ${call.to} is a ${type ?? 'DN'}, not a routing point or queue` : `no simulated switch has DN ${call.to}`} (inbound calls reach the session at a routing point)`);
      await engine.close();
      return EXIT_LOAD_ERROR;
    }
    try {
      sw.inboundCall(call.from, call.to);
    } catch (e) {
      err(`run-scxml: --call ${call.from}:${call.to}: ${(e as Error).message}`);
      await engine.close();
      return EXIT_LOAD_ERROR;
    }
  }

  let prompt: InteractivePrompt | null = null;
  let stopLines: (() => void) | null = null;
  const stdinTimeline = new EventTimeline(engine.clock, deliver);
  if (stdinMode === 'lines') {
    // Piped events: while stdin is open the run is not idle (an event may still come); under
    // virtual time this also means time stands still until stdin ends.
    const lines = readEventLines(io.stdin, (e) => stdinTimeline.add(e), (message) => { if (at('error')) complain(`run-scxml: ${message}`); });
    stopLines = lines.stop;
    void engine.track(lines.ended);
  } else if (stdinMode === 'prompt') {
    // The prompt talks on the terminal: stdout, or stderr when stdout is redirected.
    const terminal = io.stdout.isTTY ? io.stdout : io.stderr;
    prompt = new InteractivePrompt({
      input: io.stdin,
      output: terminal,
      color: colorWanted(terminal.isTTY, io.env),
      engine, session: running, clock: steppedClock,
      summary: { get on() { return stopSummary !== null; }, set: setSummary },
    });
    print = { out: prompt.wrap(out), err: prompt.wrap(err) };
    prompt.start();
  }

  let timer: NodeJS.Timeout | undefined;
  const ended = (r: SessionResult): RunOutcome => ({
    status: r.status === 'final' ? 'final' : 'error', final: r.final, configuration: r.configuration, message: r.message,
  });
  let quit = false;
  const outcome = await Promise.race<RunOutcome>([
    running.done.then(ended),
    // With the prompt the run does not end on idle (the user may still send), only on quit.
    prompt
      ? prompt.quit.then((): RunOutcome => {
        quit = true;
        return { status: 'idle', final: null, configuration: running.configuration };
      })
      // The session may end in the same turn the engine goes idle: its own result wins.
      : engine.whenIdle().then(async (): Promise<RunOutcome> => (running.isDone
        ? ended(await running.done)
        : { status: 'idle', final: null, configuration: running.configuration })),
    new Promise<RunOutcome>((resolve) => {
      if (options.timeoutMs !== null) {
        timer = setTimeout(() => resolve({ status: 'timeout', final: null, configuration: running.configuration }), options.timeoutMs);
      }
    }),
  ]);
  clearTimeout(timer);
  fileTimeline.cancel();
  stdinTimeline.cancel();
  stopLines?.();
  if (prompt) {
    prompt.close(describeEnd(outcome, quit));
    print = { out, err };
  }
  await engine.close();
  if (traceSink && traceSink !== process.stderr) await new Promise<void>((resolve) => (traceSink as WriteStream).end(resolve));
  if (outcome.status === 'error' && outcome.message && at('error')) err(`error: ${outcome.message}`);
  if (options.json) {
    out(JSON.stringify({ status: outcome.status, final: outcome.final, configuration: outcome.configuration, ...(outcome.message ? { message: outcome.message } : {}) }));
  } else if (outcome.status !== 'final' && at('warn')) {
    err(`session ended: ${quit ? 'quit' : outcome.status} in [${outcome.configuration.join(', ')}]`);
  }
  return outcome.status === 'final' ? EXIT_FINAL : EXIT_NOT_FINAL;
}

/**
 * What stdin is for. Automatically only a terminal (the prompt), a shell pipe or a redirected
 * file: a parent process that spawns the CLI usually leaves a socket on stdin that it never
 * closes, and waiting for it would keep the run from ever going idle.
 */
function chooseStdinMode(wanted: 'auto' | 'events' | 'off', kind: ReturnType<RunIo['stdinKind']>): 'prompt' | 'lines' | 'off' {
  if (wanted === 'off') return 'off';
  if (wanted === 'events') return 'lines';
  return kind === 'tty' ? 'prompt' : kind === 'fifo' || kind === 'file' ? 'lines' : 'off';
}

/** What the prompt says when the run is over. */
function describeEnd(outcome: RunOutcome, quit: boolean): string {
  if (quit) return 'quit';
  switch (outcome.status) {
    case 'final': return `the session reached the top-level final state '${outcome.final}'`;
    case 'error': return `the session ended with an error: ${outcome.message ?? ''}`;
    case 'timeout': return 'the --timeout ran out';
    default: return `the session ended (${outcome.status})`;
  }
}

/** One line per switch log entry; a SIP INFO is followed by its body. */
function describeSwitchEntry(entry: SimLogEntry): string {
  if (entry.type === 'sipinfo') {
    return `switch ${entry.switch}: SIP INFO to ${entry.dn} (${entry.contentType}, AoC-${entry.aocType}, reference ${entry.referenceId}, call ${entry.callId})\n${entry.body.trimEnd()}`;
  }
  const outcome = entry.result === 'accepted' ? 'accepted' : `rejected ${entry.error?.code ?? ''}: ${entry.error?.description ?? ''}`;
  return `switch ${entry.switch}: ${entry.kind}${entry.dn ? ` on ${entry.dn}` : ''}${entry.callId ? ` (call ${entry.callId})` : ''} ${outcome}`;
}
