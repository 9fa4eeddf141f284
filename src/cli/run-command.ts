import { createWriteStream, type WriteStream } from 'node:fs';
import { createEngine } from '../create-engine.js';
import type { Engine } from '../runtime/engine.js';
import type { Session } from '../runtime/session.js';
import type { IxnModule } from '../ixn/module.js';
import { SimulatedSwitch, type SimLogEntry } from '../tserver/sim/index.js';
import type { SessionResult } from '../runtime/session.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import { formatValue } from './format-value.js';

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
}

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
export async function runCommand(options: RunOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  let session: Session | undefined;
  let engine: Engine;
  try {
    engine = createEngine({
      clock: options.clock,
      sandbox: options.sandbox,
      onLog: (entry) => out(entry.label ? `${entry.label}: ${formatValue(entry.value)}` : formatValue(entry.value)),
      ...(options.switchTopology ? { switchTopology: options.switchTopology } : {}),
      // Calls placed with --call go to the one session this command runs.
      ixn: { onInbound: () => session ?? null },
    });
  } catch (e) {
    err(`run-scxml: ${(e as Error).message}`);
    return EXIT_LOAD_ERROR;
  }
  const traceSink = options.trace === null ? null : options.trace === '-' ? process.stderr : createWriteStream(options.trace);
  if (traceSink) engine.onTrace((record) => traceSink.write(`${JSON.stringify(record)}\n`));
  const switches = engine.service<IxnModule>('ixn')?.registry.all() ?? [];
  for (const sw of switches) if (sw instanceof SimulatedSwitch) sw.onLog((entry) => out(describeSwitchEntry(entry)));
  const loaded = engine.load(options.chart);
  for (const d of loaded.diagnostics) err(formatDiagnostic(d));
  if (!loaded.chart) {
    if (options.json) out(JSON.stringify({ status: 'error', final: null, configuration: [], message: 'the chart could not be loaded' }));
    return EXIT_LOAD_ERROR;
  }
  if (options.sandbox === 'isolated' || loaded.chart.sandbox === 'isolated') await engine.ready();
  if (options.http) {
    try {
      await engine.listen();
    } catch (e) {
      err(`warning: the BasicHTTP processor could not listen on loopback: ${(e as Error).message}`);
    }
  }
  session = engine.start(loaded.chart);
  for (const e of options.events) session.send(e.name, e.data);
  for (const call of options.calls) {
    const sw = engine.service<IxnModule>('ixn')?.registry.switchOfDn(call.to);
    if (!(sw instanceof SimulatedSwitch)) {
      err(`run-scxml: --call ${call.from}:${call.to}: no simulated switch has DN ${call.to}`);
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
  const running = session;

  let timer: NodeJS.Timeout | undefined;
  const ended = (r: SessionResult): RunOutcome => ({
    status: r.status === 'final' ? 'final' : 'error', final: r.final, configuration: r.configuration, message: r.message,
  });
  const outcome = await Promise.race<RunOutcome>([
    running.done.then(ended),
    // The session may end in the same turn the engine goes idle: its own result wins.
    engine.whenIdle().then(async (): Promise<RunOutcome> => (running.isDone
      ? ended(await running.done)
      : { status: 'idle', final: null, configuration: running.configuration })),
    new Promise<RunOutcome>((resolve) => {
      if (options.timeoutMs !== null) {
        timer = setTimeout(() => resolve({ status: 'timeout', final: null, configuration: running.configuration }), options.timeoutMs);
      }
    }),
  ]);
  clearTimeout(timer);
  await engine.close();
  if (traceSink && traceSink !== process.stderr) await new Promise<void>((resolve) => (traceSink as WriteStream).end(resolve));
  if (outcome.status === 'error' && outcome.message) err(`error: ${outcome.message}`);
  if (options.json) {
    out(JSON.stringify({ status: outcome.status, final: outcome.final, configuration: outcome.configuration, ...(outcome.message ? { message: outcome.message } : {}) }));
  } else if (outcome.status !== 'final') {
    err(`session ended: ${outcome.status} in [${outcome.configuration.join(', ')}]`);
  }
  return outcome.status === 'final' ? EXIT_FINAL : EXIT_NOT_FINAL;
}

/** One line per switch log entry; a SIP INFO is followed by its body. */
function describeSwitchEntry(entry: SimLogEntry): string {
  if (entry.type === 'sipinfo') {
    return `switch ${entry.switch}: SIP INFO to ${entry.dn} (${entry.contentType}, AoC-${entry.aocType}, reference ${entry.referenceId}, call ${entry.callId})\n${entry.body.trimEnd()}`;
  }
  const outcome = entry.result === 'accepted' ? 'accepted' : `rejected ${entry.error?.code ?? ''}: ${entry.error?.description ?? ''}`;
  return `switch ${entry.switch}: ${entry.kind}${entry.dn ? ` on ${entry.dn}` : ''}${entry.callId ? ` (call ${entry.callId})` : ''} ${outcome}`;
}
