#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runCommand, EXIT_LOAD_ERROR } from './run-command.js';
import { checkCommand } from './check-command.js';
import { vizMain } from './viz-command.js';
import { serveMain } from './serve-command.js';
import { billingMain } from './billing-command.js';
import { LOG_LEVELS } from './summary.js';

const HELP = `run-scxml — run and check SCXML charts

Usage:
  run-scxml [run] <chart.scxml> [options]   run a chart
  run-scxml check <chart.scxml>             report every diagnostic (exit 0: none are errors, 2: errors)
  run-scxml viz <chart.scxml> [options]     the chart as a diagram (run-scxml viz --help for more)
  run-scxml serve [options]                 the ParlayX web services (run-scxml serve --help for more)
  run-scxml billing <command> [options]     accounts, credit, vouchers, statements, audit of the billing
                                            database (run-scxml billing --help for more)

Run options:
  --json                   last line of stdout: {"status","final","configuration","message"}
  --clock real|virtual     real time (default) or virtual time (delays fire at once, in order)
  --timeout <ms>           stop after this many milliseconds of wall time (status "timeout")
  --sandbox fast|isolated  ECMAScript sandbox mode (default fast)
  --event name[=json]      send an external event after start (repeatable, in order)
  --events <file.jsonl>    send the events of a JSON Lines file, one per line:
                           {"name":"go","data":{...},"delay":"2s"} (delay: ms or a time, counted
                           from the previous line, on the engine clock, so virtual time works)
  --stdin auto|events|off  auto (default): on a terminal an interactive prompt (send, config,
                           eval, vars, advance, trace, help, quit); from a shell pipe or file,
                           each line is an event (JSON as in --events, or name[=json]); events:
                           read event lines whatever stdin is; off: ignore stdin
  --log-level <level>      silent|error|warn|info|debug: how much readable output (default info;
                           on a terminal, info adds a coloured summary of states and events)
  --no-http                do not open the BasicHTTP listener on loopback
  --call FROM:TO           place an inbound call from FROM to routing point TO on the simulated
                           switch and give it to the session (repeatable)
  --switch <topology.json> the simulated switch's topology (default: SIP_Switch, routing points
                           5000-5099, extensions 1000-1999, agents 9000-9099, trunks 8000-8099)
  --billing-db <file>      the Billing Manager's SQLite file, for charts with billing actions
                           (accounts made with run-scxml billing)
  --trace[=<file>]         write the JSONL trace (docs/reference/trace-format.md) to the file,
                           or to stderr with a bare --trace
  -h, --help               show this help and exit 0

Viz options:
  --format dot|mermaid|svg Graphviz DOT (default), Mermaid stateDiagram-v2, or SVG (WebAssembly Graphviz)
  --trace <file>           highlight a JSONL trace: states entered, active at the end, transitions taken
  -o, --output <file>      write the diagram to the file (default: stdout)

Exit codes: 0 top-level final reached; 1 ended otherwise (idle, timeout, error); 2 chart not loadable or usage error.

Examples:
  run-scxml examples/hello.scxml
  run-scxml run chart.scxml --json --clock virtual --timeout 5000
  run-scxml chart.scxml --event start --event 'dial={"number":"5000"}'
  run-scxml examples/advice-of-charge.scxml --clock virtual --call 1001:5000
  run-scxml chart.scxml --clock virtual --trace=run.jsonl
  run-scxml chart.scxml --clock virtual --events script.jsonl --json
  printf 'start\ndial={"number":"5000"}\n' | run-scxml chart.scxml
  run-scxml chart.scxml --clock virtual      (on a terminal: the prompt; try 'help')
  run-scxml check chart.scxml
  run-scxml viz chart.scxml --format mermaid
  run-scxml viz chart.scxml --trace run.jsonl --format svg --output run.svg
  run-scxml serve --port 8080 --account app:secret
`;

class UsageError extends Error {}

function parseEvent(text: string): { name: string; data: unknown } {
  const eq = text.indexOf('=');
  if (eq < 0) return { name: text, data: undefined };
  const json = text.slice(eq + 1);
  try {
    return { name: text.slice(0, eq), data: JSON.parse(json) };
  } catch (e) {
    throw new UsageError(`--event ${text}: the data is not JSON (${(e as Error).message})`);
  }
}

function parseCall(text: string): { from: string; to: string } {
  const m = /^([^:\s]+):([^:\s]+)$/.exec(text);
  if (!m) throw new UsageError(`--call ${text}: expected FROM:TO, e.g. --call 1001:5000`);
  return { from: m[1], to: m[2] };
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, not '${value}'`);
  return value as T;
}

export async function main(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  // Subcommands with options of their own (--trace takes a file in viz): they parse their own arguments.
  const subcommandAt = argv.findIndex((a) => !a.startsWith('-'));
  const subcommands: Record<string, typeof vizMain> = { viz: vizMain, serve: serveMain, billing: billingMain };
  const subcommand = subcommandAt >= 0 ? subcommands[argv[subcommandAt]!] : undefined;
  if (subcommand) return subcommand([...argv.slice(0, subcommandAt), ...argv.slice(subcommandAt + 1)], out, err);
  try {
    const { values, positionals } = parseArgs({
      // A bare --trace (no file) means the trace goes to stderr.
      args: argv.map((a) => (a === '--trace' ? '--trace=-' : a)),
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        clock: { type: 'string' },
        timeout: { type: 'string' },
        sandbox: { type: 'string' },
        event: { type: 'string', multiple: true },
        'no-http': { type: 'boolean', default: false },
        call: { type: 'string', multiple: true },
        switch: { type: 'string' },
        trace: { type: 'string' },
        events: { type: 'string' },
        stdin: { type: 'string' },
        'log-level': { type: 'string' },
        'billing-db': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      out(HELP.trimEnd());
      return 0;
    }
    // No chart: a usage error, so the help goes to stderr with exit 2.
    if (positionals.length === 0) {
      err(HELP.trimEnd());
      return EXIT_LOAD_ERROR;
    }
    const [first, ...rest] = positionals;
    const command = first === 'run' || first === 'check' ? first : 'run';
    const args = command === first ? rest : positionals;
    if (args.length !== 1) throw new UsageError(`${command} takes exactly one chart, got ${args.length}`);
    if (command === 'check') return checkCommand(args[0], out, err);
    let timeoutMs: number | null = null;
    if (values.timeout !== undefined) {
      timeoutMs = Number(values.timeout);
      if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new UsageError(`--timeout must be a number of milliseconds, not '${values.timeout}'`);
    }
    return await runCommand({
      chart: args[0],
      json: values.json ?? false,
      clock: oneOf('clock', values.clock, ['real', 'virtual'] as const, 'real'),
      sandbox: oneOf('sandbox', values.sandbox, ['fast', 'isolated'] as const, 'fast'),
      timeoutMs,
      events: (values.event ?? []).map(parseEvent),
      http: !values['no-http'],
      calls: (values.call ?? []).map(parseCall),
      switchTopology: values.switch ?? null,
      trace: values.trace ?? null,
      eventsFile: values.events ?? null,
      stdin: oneOf('stdin', values.stdin, ['auto', 'events', 'off'] as const, 'auto'),
      logLevel: oneOf('log-level', values['log-level'], LOG_LEVELS, 'info'),
      billingDb: values['billing-db'] ?? null,
    }, out, err);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`run-scxml: ${(e as Error).message}\nTry 'run-scxml --help'.`);
      return EXIT_LOAD_ERROR;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; setImmediate(() => process.exit(code)); },
  (e) => { process.stderr.write(`run-scxml: internal error: ${(e as Error).stack ?? e}\n`); process.exit(1); },
);
