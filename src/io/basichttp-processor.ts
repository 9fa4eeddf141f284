import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SendRequest } from '../exec/context.js';
import { EvaluationError } from '../datamodel/datamodel.js';
import { externalEvent } from '../model/event.js';
import type { EventIOProcessor } from '../runtime/io-processor.js';
import type { Session } from '../runtime/session.js';
import type { Engine } from '../runtime/engine.js';
import { formEncode } from './form-encoding.js';

export const BASICHTTP_EVENT_PROCESSOR = 'http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor';
const MAX_BODY_BYTES = 1 << 20;

/**
 * The BasicHTTP Event I/O Processor (W3C C.2). Outgoing sends are HTTP POSTs, form-encoded
 * (_scxmleventname plus namelist/params) or carrying <content> as the body. Incoming POSTs to
 * /scxml/<sessionid> on the engine's loopback listener become external events named by
 * _scxmleventname, or HTTP.<METHOD> without it.
 */
export class BasicHttpProcessor implements EventIOProcessor {
  readonly type = BASICHTTP_EVENT_PROCESSOR;
  readonly aliases = ['basichttp'] as const;
  private server: http.Server | null = null;
  private baseUrl: string | null = null;

  constructor(private readonly engine: Engine) {}

  location(session: Session): string | undefined {
    return this.baseUrl ? `${this.baseUrl}/scxml/${encodeURIComponent(session.id)}` : undefined;
  }

  async listen({ host = '127.0.0.1', port = 0 }: { host?: string; port?: number }): Promise<string> {
    if (this.baseUrl) return this.baseUrl;
    const server = http.createServer((req, res) => this.receive(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    this.server = server;
    this.baseUrl = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.baseUrl = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  send(from: Session, request: SendRequest): void {
    const target = request.target;
    if (!target) {
      from.raisePlatformError('error.communication', 'a BasicHTTP <send> needs a target URL', request.sendid);
      return;
    }
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new EvaluationError(`BasicHTTP target '${target}' is not a URL`);
    }
    if (url.protocol !== 'http:') throw new EvaluationError(`BasicHTTP target '${target}' is not an http: URL`);
    let body: string;
    let contentType: string;
    if (request.data !== undefined && request.pairs.length === 0) {
      // <content>: the body itself, URL-encoded; the event name travels in the query.
      const text = typeof request.data === 'string' ? request.data : JSON.stringify(request.data);
      body = encodeURIComponent(text ?? '');
      contentType = 'text/plain; charset=utf-8';
      if (request.event !== undefined) url.searchParams.set('_scxmleventname', request.event);
    } else {
      body = formEncode(request.event, request.pairs);
      contentType = 'application/x-www-form-urlencoded';
    }
    const arrived = from.beginOutgoing();
    const post = fetch(url, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-scxml-origin': this.location(from) ?? '' },
      body,
    }).then(async (res) => {
      await res.arrayBuffer();
      if (!res.ok) from.raisePlatformError('error.communication', `POST ${url.href} answered ${res.status}`, request.sendid);
    }, (err: Error) => {
      from.raisePlatformError('error.communication', `POST ${url.href} failed: ${err.message}`, request.sendid);
    }).finally(arrived);
    void this.engine.track(post);
  }

  private receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      const url = new URL(req.url ?? '/', 'http://localhost');
      const m = /^\/scxml\/([^/]+)$/.exec(url.pathname);
      const session = m ? this.engine.session(decodeURIComponent(m[1])) : undefined;
      if (!session) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such session\n');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const fields = new URLSearchParams(isForm ? body : '');
      const name = fields.get('_scxmleventname') ?? url.searchParams.get('_scxmleventname')
        ?? (typeof req.headers['_scxmleventname'] === 'string' ? req.headers['_scxmleventname'] : null)
        ?? `HTTP.${(req.method ?? 'POST').toUpperCase()}`;
      let data: unknown;
      if (isForm) {
        const obj: Record<string, string> = {};
        for (const [k, v] of fields) if (k !== '_scxmleventname') obj[k] = v;
        data = obj;
      } else data = body === '' ? undefined : body;
      const headerLines = Object.entries(req.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`).join('\r\n');
      const raw = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n${headerLines}\r\n\r\n${body}`;
      const origin = req.headers['x-scxml-origin'];
      session.enqueue(externalEvent(name, data, {
        origin: typeof origin === 'string' && origin ? origin : undefined,
        origintype: BASICHTTP_EVENT_PROCESSOR,
        raw,
      }));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    });
  }
}
