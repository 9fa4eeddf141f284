/**
 * `run-scxml serve`: the ParlayX service, configured by a JSON file and/or flags (flags win).
 * Runs until SIGINT or SIGTERM, then closes: no new requests, sessions stopped, stores closed.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startParlayxService, type ParlayxServiceOptions } from '../parlayx/server.js';

export const SERVE_HELP = `run-scxml serve — the ParlayX web services (SOAP and a JSON mirror)

Usage:
  run-scxml serve [--config serve.json] [options]

Options (each overrides the same key of the config file):
  --config <file.json>     configuration: host, port, db, accounts, makeCallChart, gateway,
                           lingerMs, applicationTimeoutMs, defaultAction, switchTopology,
                           bodyLimit, requestTimeoutMs, trustProxy, logLevel, sandbox
                           (docs/reference/cli.md); paths in it are relative to the file
  --host <address>         listen address (default 127.0.0.1)
  --port <n>               port (default 8080; 0 picks a free one)
  --db <file>              SQLite file of accounts, signal rules and billing (default orchestrion.db)
  --account NAME:PASSWORD  create or update an account with default settings (repeatable)
  --make-call-chart <file> the chart each third-party call runs (default examples/parlayx/parlayMakeCall.scxml)
  --gateway <dn>           trunk DN third-party calls start from (default 8000)
  --linger <ms>            how long a finished call answers status reads (default 30000)
  --switch <topology.json> the simulated switch's topology
  --log-level <level>      pino level: fatal|error|warn|info|debug|trace|silent (default info)
  -h, --help               show this help

Example:
  run-scxml serve --port 8080 --account app:secret
  curl -u app:secret -H 'content-type: application/json' \\
       -d '{"callingParty":"tel:1001","calledParty":"tel:1002"}' \\
       http://127.0.0.1:8080/rest/third_party_call/makeCall
`;

const CONFIG_KEYS = ['host', 'port', 'db', 'accounts', 'makeCallChart', 'gateway', 'lingerMs', 'applicationTimeoutMs', 'defaultAction', 'switchTopology', 'bodyLimit', 'requestTimeoutMs', 'trustProxy', 'logLevel', 'sandbox'] as const;

/** The JSON type each key must have (a topology may be given inline or as a file name). */
const CONFIG_TYPES: Record<(typeof CONFIG_KEYS)[number], string> = {
  host: 'string', port: 'number', db: 'string', accounts: 'array', makeCallChart: 'string', gateway: 'string', lingerMs: 'number',
  applicationTimeoutMs: 'number', defaultAction: 'string', switchTopology: 'string|object', bodyLimit: 'number', requestTimeoutMs: 'number',
  trustProxy: 'boolean', logLevel: 'string', sandbox: 'string',
};

class ServeUsageError extends Error {}

function readConfig(file: string): ParlayxServiceOptions {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ServeUsageError(`--config ${file}: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ServeUsageError(`--config ${file}: expected a JSON object`);
  const config = value as Record<string, unknown>;
  for (const key of Object.keys(config)) {
    if (key === '$schema') continue;
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) throw new ServeUsageError(`--config ${file}: unknown key '${key}' (known: ${CONFIG_KEYS.join(', ')})`);
    const expected = CONFIG_TYPES[key as keyof typeof CONFIG_TYPES];
    const actual = Array.isArray(config[key]) ? 'array' : typeof config[key];
    if (expected && !expected.split('|').includes(actual)) throw new ServeUsageError(`--config ${file}: '${key}' must be ${expected.replace('|', ' or ')}, not ${actual}`);
  }
  // Files named in the configuration are relative to it, not to wherever the service is started.
  const base = dirname(resolve(file));
  for (const key of ['db', 'makeCallChart'] as const) {
    if (typeof config[key] === 'string' && config[key] !== ':memory:') config[key] = resolve(base, config[key] as string);
  }
  if (typeof config.switchTopology === 'string' && !config.switchTopology.trimStart().startsWith('{')) config.switchTopology = resolve(base, config.switchTopology);
  return config as ParlayxServiceOptions;
}

function nonNegative(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new ServeUsageError(`--${name} must be a non-negative integer, not '${text}'`);
  return n;
}

/** Resolves with the exit code once the service has stopped (or could not start). */
export async function serveMain(argv: readonly string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  let options: ParlayxServiceOptions;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, db: { type: 'string' },
        account: { type: 'string', multiple: true }, 'make-call-chart': { type: 'string' }, gateway: { type: 'string' },
        linger: { type: 'string' }, switch: { type: 'string' }, 'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      out(SERVE_HELP.trimEnd());
      return 0;
    }
    const config = values.config ? readConfig(values.config) : {};
    const accounts = [...(config.accounts ?? []), ...(values.account ?? []).map((a) => {
      const colon = a.indexOf(':');
      if (colon <= 0) throw new ServeUsageError(`--account ${a}: expected NAME:PASSWORD`);
      return { name: a.slice(0, colon), password: a.slice(colon + 1) };
    })];
    options = {
      ...config,
      ...(values.host !== undefined ? { host: values.host } : {}),
      ...(values.port !== undefined ? { port: nonNegative('port', values.port) } : {}),
      ...(values.db !== undefined ? { db: values.db } : {}),
      ...(values['make-call-chart'] !== undefined ? { makeCallChart: values['make-call-chart'] } : {}),
      ...(values.gateway !== undefined ? { gateway: values.gateway } : {}),
      ...(values.linger !== undefined ? { lingerMs: nonNegative('linger', values.linger) } : {}),
      ...(values.switch !== undefined ? { switchTopology: values.switch } : {}),
      ...(values['log-level'] !== undefined ? { logLevel: values['log-level'] } : {}),
      accounts,
    };
  } catch (e) {
    if (e instanceof ServeUsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`run-scxml serve: ${(e as Error).message}\nTry 'run-scxml serve --help'.`);
      return 2;
    }
    throw e;
  }
  let service;
  try {
    service = await startParlayxService(options);
  } catch (e) {
    err(`run-scxml serve: ${(e as Error).message}`);
    return 1;
  }
  out(`ParlayX service on ${service.url} (WSDLs: ${service.url}/parlayx/<service>?wsdl, JSON: ${service.url}/rest/<service>/<operation>)`);
  if (service.accounts.accounts().length === 0) err('run-scxml serve: no accounts yet: every request will be refused (add one with --account NAME:PASSWORD)');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await service.close();
  return 0;
}
