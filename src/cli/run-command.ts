import { createEngine } from '../runtime/engine.js';
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
  const engine = createEngine({
    clock: options.clock,
    sandbox: options.sandbox,
    onLog: (entry) => out(entry.label ? `${entry.label}: ${formatValue(entry.value)}` : formatValue(entry.value)),
  });
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
  const session = engine.start(loaded.chart);
  for (const e of options.events) session.send(e.name, e.data);

  let timer: NodeJS.Timeout | undefined;
  const ended = (r: SessionResult): RunOutcome => ({
    status: r.status === 'final' ? 'final' : 'error', final: r.final, configuration: r.configuration, message: r.message,
  });
  const outcome = await Promise.race<RunOutcome>([
    session.done.then(ended),
    // The session may end in the same turn the engine goes idle: its own result wins.
    engine.whenIdle().then(async (): Promise<RunOutcome> => (session.isDone
      ? ended(await session.done)
      : { status: 'idle', final: null, configuration: session.configuration })),
    new Promise<RunOutcome>((resolve) => {
      if (options.timeoutMs !== null) {
        timer = setTimeout(() => resolve({ status: 'timeout', final: null, configuration: session.configuration }), options.timeoutMs);
      }
    }),
  ]);
  clearTimeout(timer);
  await engine.close();
  if (outcome.status === 'error' && outcome.message) err(`error: ${outcome.message}`);
  if (options.json) {
    out(JSON.stringify({ status: outcome.status, final: outcome.final, configuration: outcome.configuration, ...(outcome.message ? { message: outcome.message } : {}) }));
  } else if (outcome.status !== 'final') {
    err(`session ended: ${outcome.status} in [${outcome.configuration.join(', ')}]`);
  }
  return outcome.status === 'final' ? EXIT_FINAL : EXIT_NOT_FINAL;
}
