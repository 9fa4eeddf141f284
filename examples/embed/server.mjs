// A small Node HTTP service embedding the engine: POST /calls?caller=N starts a session of
// call-status.scxml per request; GET /calls/<id> answers from that session's state;
// DELETE /calls/<id> sends it "hangup". `node examples/embed/server.mjs [port]`
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from 'orchestrion';

export function createCallService() {
  const engine = createEngine();
  const { chart, diagnostics } = engine.load(path.join(path.dirname(fileURLToPath(import.meta.url)), 'call-status.scxml'));
  if (!chart) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  const calls = new Map();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const reply = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const id = url.pathname.match(/^\/calls\/([^/]+)$/)?.[1];
    if (req.method === 'POST' && url.pathname === '/calls') {
      const session = engine.start(chart, { data: { caller: url.searchParams.get('caller') ?? 'unknown' } });
      calls.set(session.id, session);
      session.done.then(() => setTimeout(() => calls.delete(session.id), 30_000).unref());
      return reply(201, { id: session.id });
    }
    const session = id && calls.get(id);
    if (!session) return reply(404, { error: 'no such call' });
    if (req.method === 'GET') return reply(200, { id, state: session.configuration, ended: session.isDone });
    if (req.method === 'DELETE') {
      session.send('hangup');
      return reply(202, { id });
    }
    return reply(405, { error: 'method not allowed' });
  });
  return { server, engine, close: async () => { server.close(); await engine.close(); } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { server } = createCallService();
  const port = Number(process.argv[2] ?? 8080);
  server.listen(port, '127.0.0.1', () => console.log(`call service on http://127.0.0.1:${port}`));
}
