/**
 * The ParlayX service: SOAP endpoints described by our WSDLs (schemas/parlayx/) and a JSON mirror
 * of the same operations, on fastify, every request authenticated (HTTP Basic) against the
 * accounts store. Calls run as engine sessions; subscriptions are the accounts' Signal Rules.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import Database from 'better-sqlite3';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../runtime/engine.js';
import type { Clock } from '../runtime/clock.js';
import { createEngine } from '../create-engine.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import type { TServerAdapter } from '../tserver/adapter.js';
import { AccountStore, type Account, type AccountSettings } from './accounts.js';
import { ApplicationClient } from './app-client.js';
import { CallNotificationService } from './call-notification.js';
import type { ParlayxCallModule } from './call-module.js';
import { inputFault, ParlayxFault } from './faults.js';
import { EnvelopeError, readEnvelope, writeEnvelope, writeFault } from './soap.js';
import { ThirdPartyCallService } from './third-party-call.js';
import { PaymentService } from './payment.js';
import { BillingManager } from '../billing/manager.js';
import { SqliteBillingStore } from '../billing/sqlite-billing-store.js';
import { ParlayxCatalog, PARLAYX_SCHEMA_DIR, type Operation } from './wsdl.js';
import { decodeJson, decodeXml, encodeXml, InputError, versionless } from './xsd.js';

/** The call chart shipped with the package. */
export const DEFAULT_MAKE_CALL_CHART = fileURLToPath(new URL('../../../examples/parlayx/parlayMakeCall.scxml', import.meta.url));

export interface ParlayxServiceOptions {
  /** Loopback by default: exposing the service is a deliberate choice. */
  readonly host?: string;
  /** 0 picks a free port. Default 8080. */
  readonly port?: number;
  /** The SQLite file of accounts, signal rules and billing (`:memory:` for none kept). Default `orchestrion.db`. */
  readonly db?: string;
  /** Accounts to create or update at start (passwords in clear, hashed when stored). */
  readonly accounts?: readonly { readonly name: string; readonly password: string; readonly settings?: Partial<AccountSettings> }[];
  /** The chart each third-party call runs. Default examples/parlayx/parlayMakeCall.scxml. */
  readonly makeCallChart?: string;
  /** The trunk DN calls start from (the chart's `gateway`). Default 8000. */
  readonly gateway?: string;
  /** How long a finished call answers status reads (ms). Default 30 000. */
  readonly lingerMs?: number;
  /** How long an application may take to answer handle…/notify… (ms). Default 5000. */
  readonly applicationTimeoutMs?: number;
  /** The Action when no application decides. Default Continue. */
  readonly defaultAction?: 'Continue' | 'EndCall';
  /** T-Server adapters; default the simulated switch from `switchTopology`. */
  readonly adapters?: readonly TServerAdapter[];
  readonly switchTopology?: unknown;
  /** Largest request body accepted (bytes). Default 1 MiB. */
  readonly bodyLimit?: number;
  /** A request not received in full within this time is dropped (slow clients hold no connection for ever). Default 30 000 ms. */
  readonly requestTimeoutMs?: number;
  /**
   * Behind a reverse proxy (TLS termination): trust its X-Forwarded-Proto/-Host, so the address
   * in the WSDLs served is the one clients use. Default false.
   */
  readonly trustProxy?: boolean;
  /** pino level for the request log, or false for none. Default 'info'. */
  readonly logLevel?: string | false;
  readonly sandbox?: 'fast' | 'isolated';
  /** The engine's clock, also the billing clock (expiries). Default real time. */
  readonly clock?: 'real' | 'virtual' | Clock;
}

type Handler = (account: Account, input: any, protocol: 'soap' | 'json') => unknown;

export interface ParlayxService {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly engine: Engine;
  readonly accounts: AccountStore;
  readonly billing: BillingManager;
  readonly catalog: ParlayxCatalog;
  close(): Promise<void>;
}

const REALM = 'Basic realm="Orchestrion ParlayX", charset="UTF-8"';

export async function startParlayxService(options: ParlayxServiceOptions = {}): Promise<ParlayxService> {
  const catalog = new ParlayxCatalog();
  // One database for accounts, rules and money: one file to back up, one WAL.
  const db = new Database(options.db ?? 'orchestrion.db');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const accounts = new AccountStore(db);
  for (const a of options.accounts ?? []) accounts.putAccount(a.name, a.password, a.settings);

  const app = Fastify({
    logger: options.logLevel === false ? false : { level: options.logLevel ?? 'info' },
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    trustProxy: options.trustProxy ?? false,
  });
  const notifications = new CallNotificationService(accounts, new ApplicationClient(catalog, options.applicationTimeoutMs ?? 5000), {
    defaultAction: options.defaultAction,
    onDeliveryFailure: (rule, err) => app.log.warn({ rule: rule.id, account: rule.account, endpoint: rule.endpoint }, `call event not delivered: ${err.message}`),
  });
  const engine = createEngine({
    sandbox: options.sandbox, clock: options.clock, adapters: options.adapters, switchTopology: options.switchTopology,
    parlayx: {
      lingerMs: options.lingerMs,
      onCallEvent: (report) => notifications.callEvent(report),
      callEventTimeoutMs: (options.applicationTimeoutMs ?? 5000) * 2,
    },
    logger: { info: (o, m) => app.log.info(o, m), warn: (o, m) => app.log.warn(o, m), error: (o, m) => app.log.error(o, m) },
  });
  await engine.ready(); // the isolated sandbox's WebAssembly is loaded before the first call
  const billing = new BillingManager({ store: new SqliteBillingStore(db), now: () => engine.clock.now() });
  const payment = new PaymentService(billing);
  const loaded = engine.load(options.makeCallChart ?? DEFAULT_MAKE_CALL_CHART);
  if (!loaded.chart) {
    await engine.close();
    db.close();
    throw new Error(`the call chart cannot be loaded:\n${loaded.diagnostics.map(formatDiagnostic).join('\n')}`);
  }
  const tpc = new ThirdPartyCallService(engine, engine.service<ParlayxCallModule>('parlayx')!, loaded.chart, options.gateway ?? '8000');

  const handlers: Record<string, Handler> = {
    'third_party_call.makeCall': (a, i) => tpc.makeCall(a, i),
    'third_party_call.getCallInformation': (a, i) => tpc.getCallInformation(a, i),
    'third_party_call.endCall': (a, i) => tpc.endCall(a, i),
    'third_party_call.cancelCall': (a, i) => tpc.cancelCall(a, i),
    'third_party_call.cancelCallRequest': (a, i) => tpc.cancelCall(a, i),
    'third_party_call_v3.makeCallSession': (a, i) => tpc.makeCallSession(a, i),
    'third_party_call_v3.addCallParticipant': (a, i) => tpc.addCallParticipant(a, i),
    'third_party_call_v3.transferCallParticipant': (a, i) => tpc.transferCallParticipant(a, i),
    'third_party_call_v3.getCallParticipantInformation': (a, i) => tpc.getCallParticipantInformation(a, i),
    'third_party_call_v3.getCallSessionInformation': (a, i) => tpc.getCallSessionInformation(a, i),
    'third_party_call_v3.deleteCallParticipant': (a, i) => tpc.deleteCallParticipant(a, i),
    'third_party_call_v3.endCallSession': (a, i) => tpc.endCallSession(a, i),
    'call_notification_manager.startCallNotification': (a, i, p) => void notifications.start(a, 'notification', i, p),
    'call_notification_manager.stopCallNotification': (a, i) => void notifications.stop(a, 'notification', i),
    'call_direction_manager.startCallDirectionNotification': (a, i, p) => void notifications.start(a, 'direction', i, p),
    'call_direction_manager.stopCallDirectionNotification': (a, i) => void notifications.stop(a, 'direction', i),
    'amount_charging.chargeAmount': payment.chargeAmount,
    'amount_charging.refundAmount': payment.refundAmount,
    'amount_charging.chargeSplitAmount': payment.chargeSplitAmount,
    'reserve_amount_charging.reserveAmount': payment.reserveAmount,
    'reserve_amount_charging.reserveAdditionalAmount': payment.reserveAdditionalAmount,
    'reserve_amount_charging.chargeReservation': payment.chargeReservation,
    'reserve_amount_charging.releaseReservation': payment.releaseReservation,
    'account_management.getBalance': payment.getBalance,
    'account_management.getCreditExpiryDate': payment.getCreditExpiryDate,
    'account_management.getBalanceTypes': payment.getBalanceTypes,
    'account_management.getHistory': payment.getHistory,
    'account_management.balanceUpdate': payment.balanceUpdate,
    'account_management.voucherUpdate': payment.voucherUpdate,
  };
  for (const key of Object.keys(handlers)) {
    const [service, name] = key.split('.') as [string, string];
    if (!catalog.operation(service, name)) throw new Error(`internal: ${key} is not in the WSDLs of ${catalog.dir}`);
  }
  // The services this server offers; the others in the catalogue (call_notification, call_direction) are the applications' side.
  const served = new Set(Object.keys(handlers).map((key) => key.split('.')[0]!));

  /** Runs an operation; the answer wrapper's content (`result` where the operation returns one). */
  const perform = async (op: Operation, account: Account, input: unknown, protocol: 'soap' | 'json'): Promise<Record<string, unknown>> => {
    const result = await handlers[`${op.service}.${op.name}`]!(account, input, protocol);
    const returns = op.output?.type.kind === 'complex' && op.output.type.fields.some((f) => f.name === 'result');
    return returns ? { result } : {};
  };

  const authenticate = async (request: FastifyRequest): Promise<Account | null> => {
    const header = request.headers.authorization;
    const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
    if (!m) return null;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? null : accounts.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1));
  };

  app.decorateRequest('account', null);
  app.addHook('onRequest', async (request, reply) => {
    const account = await authenticate(request);
    if (!account) {
      return reply.code(401).header('www-authenticate', REALM).type('application/json')
        .send({ requestError: { policyException: { messageId: 'POL0001', text: 'A policy error occurred. Error code is %1', variables: ['authentication required: HTTP Basic with a valid account'] } } });
    }
    (request as FastifyRequest & { account: Account }).account = account;
  });
  const accountOf = (request: FastifyRequest) => (request as FastifyRequest & { account: Account }).account;

  /* ---------- SOAP ---------- */

  for (const type of ['text/xml', 'application/soap+xml']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_req, body, done) => done(null, body));
  }

  const soapReply = (reply: FastifyReply, status: number, xml: string) => reply.code(status).type('text/xml; charset=utf-8').send(xml);

  const soapFault = (reply: FastifyReply, op: Operation | null, fault: ParlayxFault) => {
    const element = op?.faults.get(fault.kind) ?? catalog.operation('third_party_call', 'makeCall')!.faults.get(fault.kind)!;
    const detail = encodeXml(element.name, element.ns, element.type, fault.detail, (ns) => ns);
    const code = fault.kind === 'PolicyException' || fault.messageId !== 'SVC0001' ? 'Client' : 'Server';
    return soapReply(reply, 500, writeFault(code, fault.message, detail));
  };

  app.post<{ Params: { service: string } }>('/parlayx/:service', async (request, reply) => {
    const service = served.has(request.params.service) ? catalog.services.get(request.params.service) : undefined;
    if (!service) return soapReply(reply, 404, writeFault('Client', `no ParlayX service '${request.params.service}' here (services: ${[...served].join(', ')})`));
    if (typeof request.body !== 'string') return soapReply(reply, 415, writeFault('Client', 'send the SOAP envelope as text/xml'));
    let op: Operation | null = null;
    try {
      const wrapper = readEnvelope(request.body, `${service.name} request`);
      op = catalog.operationFor(wrapper.uri, wrapper.local) ?? null;
      if (!op || op.service !== service.name) {
        return soapReply(reply, 500, writeFault('Client', `${service.name} has no operation {${wrapper.uri}}${wrapper.local} (operations: ${[...service.operations.keys()].join(', ')})`));
      }
      const input = decodeXml(wrapper, op.input.type, op.name);
      const answer = await perform(op, accountOf(request), input, 'soap');
      const clientNs = wrapper.uri;
      return soapReply(reply, 200, writeEnvelope(op.output!, answer, (ns) => inClientVersion(ns, clientNs)));
    } catch (err) {
      if (err instanceof EnvelopeError) return soapReply(reply, 500, writeFault(err.faultcode, err.message));
      if (err instanceof InputError) return soapFault(reply, op, inputFault(err));
      if (err instanceof ParlayxFault) return soapFault(reply, op, err);
      request.log.error({ err }, 'ParlayX operation failed');
      return soapFault(reply, op, new ParlayxFault('SVC0001', ['internal error (logged by the server)']));
    }
  });

  /** The WSDLs and schemas, with each WSDL's address pointing at this server. */
  app.get<{ Params: { file: string }; Querystring: Record<string, string> }>('/parlayx/:file', async (request, reply) => {
    let file = request.params.file;
    if (catalog.services.has(file) && 'wsdl' in request.query) file = `${file}.wsdl`;
    if (!/^[a-z0-9_]+\.(wsdl|xsd)$/.test(file) || !existsSync(join(PARLAYX_SCHEMA_DIR, file))) return reply.code(404).send({ error: `no such WSDL or schema: ${file}` });
    let text = readFileSync(join(PARLAYX_SCHEMA_DIR, file), 'utf8');
    if (file.endsWith('.wsdl')) text = text.replace(/location="http:\/\/localhost:8080\/parlayx\//g, `location="${request.protocol}://${request.host}/parlayx/`);
    return reply.type('text/xml; charset=utf-8').send(text);
  });

  /* ---------- JSON mirror ---------- */

  const jsonError = (reply: FastifyReply, fault: ParlayxFault, status = fault.httpStatus) =>
    reply.code(status).send({ requestError: { [fault.kind === 'ServiceException' ? 'serviceException' : 'policyException']: fault.detail } });

  app.post<{ Params: { service: string; operation: string } }>('/rest/:service/:operation', async (request, reply) => {
    const op = catalog.operation(request.params.service, request.params.operation);
    if (!op || !handlers[`${op.service}.${op.name}`]) {
      return jsonError(reply, new ParlayxFault('SVC0002', [`${request.params.service}/${request.params.operation}: no such operation here`]), 404);
    }
    try {
      const input = decodeJson(request.body ?? {}, op.input.type, op.name);
      return reply.send(await perform(op, accountOf(request), input, 'json'));
    } catch (err) {
      if (err instanceof InputError) return jsonError(reply, inputFault(err));
      if (err instanceof ParlayxFault) return jsonError(reply, err);
      request.log.error({ err }, 'ParlayX operation failed');
      return jsonError(reply, new ParlayxFault('SVC0001', ['internal error (logged by the server)']));
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    const text = status === 413 ? `the request body is larger than ${options.bodyLimit ?? 1024 * 1024} bytes` : status < 500 ? err.message : 'internal error (logged by the server)';
    if (request.url.startsWith('/parlayx/')) return soapReply(reply, status, writeFault(status < 500 ? 'Client' : 'Server', text));
    return jsonError(reply, new ParlayxFault(status < 500 ? 'SVC0002' : 'SVC0001', [text]), status);
  });

  const close = async () => {
    await app.close();
    await notifications.settle();
    await engine.close({ stopSessions: true });
    db.close();
  };
  let url: string;
  try {
    url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8080 });
  } catch (err) {
    await close(); // a port in use leaves nothing open behind it
    throw err;
  }
  return { url, app, engine, accounts, billing, catalog, close };
}

/** Our namespace in the version the client used, for the namespaces of the service it called. */
function inClientVersion(ns: string, clientNs: string): string {
  const version = /\/(v[0-9]+_[0-9]+)(?=\/|$)/.exec(clientNs)?.[1];
  const family = (n: string) => versionless(n).replace(/\/local$/, '');
  return version && family(ns) === family(clientNs) ? ns.replace(/\/v[0-9]+_[0-9]+(?=\/|$)/, `/${version}`) : ns;
}
