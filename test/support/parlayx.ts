/**
 * Shared set-up of the ParlayX end-to-end tests: the service on loopback over a simulated switch
 * whose DNs answer fast (or are busy, never answer, cannot be reached), accounts, real SOAP
 * clients (npm `soap`, reading our WSDLs), and applications that receive call events.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import soap from 'soap';
import { createSimulatedSwitches, RealClock, type SimLogEntry } from '../../src/index.js';
import { startParlayxService, type ParlayxService, type ParlayxServiceOptions } from '../../src/parlayx/server.js';
import { PARLAYX_SCHEMA_DIR } from '../../src/parlayx/wsdl.js';

export const TEST_TOPOLOGY = {
  switches: [{
    name: 'SIP_Switch',
    dns: [
      { range: '1000-1099', type: 'extension', answerAfterMs: 30 },
      { dn: '1100', type: 'extension', behaviour: 'busy' },
      { dn: '1101', type: 'extension', behaviour: 'noanswer', noAnswerTimeoutMs: 80 },
      { dn: '1102', type: 'extension', behaviour: 'unreachable' },
      { dn: '1103', type: 'extension', behaviour: 'noanswer' },
      { range: '2000-2009', type: 'extension', answerAfterMs: 30 },
      { range: '8000-8009', type: 'trunk' },
    ],
  }],
};

export const PASSWORDS = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw' } as const;
export type User = keyof typeof PASSWORDS;

export interface TestService {
  readonly service: ParlayxService;
  readonly url: string;
  /** Every request the simulated switch received. */
  readonly switchLog: SimLogEntry[];
  close(): Promise<void>;
}

export async function startTestService(options: Partial<ParlayxServiceOptions> = {}): Promise<TestService> {
  const switches = createSimulatedSwitches(TEST_TOPOLOGY, new RealClock());
  const switchLog: SimLogEntry[] = [];
  switches[0]!.onLog((e) => switchLog.push(e));
  const service = await startParlayxService({
    port: 0, db: ':memory:', logLevel: false, lingerMs: 400, applicationTimeoutMs: 1000, adapters: switches,
    accounts: [
      { name: 'alice', password: PASSWORDS.alice, settings: { mayChangeSignalRules: true, addresses: ['tel:1100', 'tel:1101', 'tel:1102', 'tel:1103', 'tel:1003', 'sip:1004@example.com'] } },
      { name: 'bob', password: PASSWORDS.bob },
      { name: 'carol', password: PASSWORDS.carol, settings: { mayControlCalls: false } },
    ],
    ...options,
  });
  return {
    service, url: service.url, switchLog,
    async close() {
      await service.close();
      switches.forEach((s) => s.dispose());
    },
  };
}

/** A SOAP client generated from our WSDL, as an application would make it. */
export async function soapClient(url: string, wsdl: string, user: string | null, password?: string): Promise<any> {
  const client = await soap.createClientAsync(join(PARLAYX_SCHEMA_DIR, `${wsdl}.wsdl`), { endpoint: `${url}/parlayx/${wsdl}` });
  if (user) client.setSecurity(new soap.BasicAuthSecurity(user, password ?? PASSWORDS[user as User]));
  return client;
}

/** The ParlayX fault a SOAP call failed with: {messageId, text, variables}. */
export async function soapFault(call: Promise<unknown>): Promise<{ messageId: string; text: string; variables?: string | string[]; kind: string }> {
  try {
    await call;
  } catch (err) {
    const detail = (err as any)?.root?.Envelope?.Body?.Fault?.detail;
    if (!detail) throw err;
    const kind = Object.keys(detail).find((k) => k === 'ServiceException' || k === 'PolicyException');
    if (!kind) throw err;
    return { ...detail[kind], kind };
  }
  throw new Error('expected a SOAP fault, the call succeeded');
}

/** A plain-HTTP JSON request to the mirror. */
export async function rest(url: string, path: string, body: unknown, user: User | null = 'alice'): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (user) headers.authorization = `Basic ${Buffer.from(`${user}:${PASSWORDS[user]}`).toString('base64')}`;
  const res = await fetch(`${url}/rest/${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 3000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

export interface ReceivedEvent { readonly operation: string; readonly args: Record<string, unknown> }

/**
 * An application on loopback serving our call_notification and call_direction WSDLs with node-soap:
 * records every notify…/handle… and answers handle… with `decide`.
 */
export async function startSoapApplication(decide: (operation: string, args: any) => { actionToPerform: string; routingAddress?: string }): Promise<{ url: string; received: ReceivedEvent[]; close(): Promise<void> }> {
  const received: ReceivedEvent[] = [];
  const server: Server = createServer((_req, res) => { res.statusCode = 404; res.end(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const notify = (operation: string) => (args: Record<string, unknown>) => { received.push({ operation, args }); return {}; };
  const handle = (operation: string) => (args: Record<string, unknown>) => { received.push({ operation, args }); return { result: decide(operation, args) }; };
  const fs = await import('node:fs');
  // node-soap finds the port by the request path, so each interface is served at its WSDL's address path;
  // `uri` lets it resolve the schemas the WSDL imports.
  const serve = (name: string, services: soap.IServices) => new Promise<void>((resolve) => {
    const uri = join(PARLAYX_SCHEMA_DIR, `${name}.wsdl`);
    soap.listen(server, { path: `/parlayx/${name}`, services, xml: fs.readFileSync(uri, 'utf8'), uri, callback: () => resolve() });
  });
  await serve('call_notification', { CallNotificationService: { CallNotification: Object.fromEntries(['Busy', 'NotReachable', 'NoAnswer', 'CalledNumber'].map((c) => [`notify${c}`, notify(`notify${c}`)])) } });
  await serve('call_direction', { CallDirectionService: { CallDirection: Object.fromEntries(['Busy', 'NotReachable', 'NoAnswer', 'CalledNumber'].map((c) => [`handle${c}`, handle(`handle${c}`)])) } });
  return {
    url: `http://127.0.0.1:${port}`, received,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** An application speaking JSON (rules made through the mirror): records bodies, answers `{action}`. */
export async function startJsonApplication(decide: (body: any) => unknown): Promise<{ url: string; received: any[]; close(): Promise<void> }> {
  const received: any[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => { text += c; });
    req.on('end', () => {
      const body = JSON.parse(text);
      received.push(body);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(decide(body) ?? {}));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/events`, received,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
