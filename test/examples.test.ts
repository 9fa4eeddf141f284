// Every example in examples/ runs here, the way its README line says to run it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const example = (...p: string[]) => path.join(repo, 'examples', ...p);

/** Every chart under examples/, recursively. */
function exampleCharts(dir = example()): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? exampleCharts(path.join(dir, e.name)) : e.name.endsWith('.scxml') ? [path.join(dir, e.name)] : []);
}

describe('examples', () => {
  test('run-scxml check passes every example chart (ParlayX and billing actions included)', async () => {
    // custom-action/ needs the action its embedding program registers (acme:greet): it is run below instead.
    const charts = exampleCharts().filter((c) => !c.includes(`${path.sep}custom-action${path.sep}`));
    assert.ok(charts.some((c) => c.endsWith(path.join('parlayx', 'parlayMakeCall.scxml'))) && charts.some((c) => c.endsWith('prepaid-call.scxml')));
    for (const chart of charts) {
      const { stdout } = await run(process.execPath, [cli, 'check', chart]);
      assert.match(stdout, /: 0 error\(s\)/, chart);
    }
  });

  test('queue-with-callback offers a callback after three announcements', async () => {
    const { stdout } = await run(process.execPath, [cli, example('queue-with-callback.scxml'), '--clock', 'virtual', '--json']);
    const lines = stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, -1), ['queued: position 3', 'queued: position 2', 'queued: position 1', 'callback: offered after 3 announcements']);
    assert.equal(JSON.parse(lines.at(-1)!).final, 'callbackOffered');
  });

  test('queue-with-callback routes to an agent when agent.ready arrives', async () => {
    const { stdout } = await run(process.execPath, [cli, example('queue-with-callback.scxml'), '--clock', 'virtual', '--json', '--event', 'agent.ready={"dn":"9001"}']);
    assert.match(stdout, /routed: to agent 9001 after 0 announcement\(s\)/);
    assert.equal(JSON.parse(stdout.trim().split('\n').at(-1)!).final, 'routed');
  });

  test('custom-action registers <acme:greet> through the actions option', async () => {
    const { stdout } = await run(process.execPath, [example('custom-action', 'run.mjs')], { cwd: repo });
    assert.equal(stdout, 'greeting: Hello, Ada!\nfinal: done\n');
  });

  test('embed: an HTTP service with a session per request answers from the session state', async () => {
    const { createCallService } = await import(pathToFileURL(example('embed', 'server.mjs')).href) as {
      createCallService(): { server: import('node:http').Server; close(): Promise<void> };
    };
    const service = createCallService();
    await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve));
    const { port } = service.server.address() as import('node:net').AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    try {
      const created = await fetch(`${base}/calls?caller=1001`, { method: 'POST' });
      assert.equal(created.status, 201);
      const { id } = await created.json() as { id: string };
      const state = async () => (await (await fetch(`${base}/calls/${id}`)).json()) as { state: string[]; ended: boolean };
      assert.deepEqual((await state()).state, ['ringing']);
      const deadline = Date.now() + 5000;
      while (!(await state()).state.includes('answered') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual((await state()).state, ['answered']);
      assert.equal((await fetch(`${base}/calls/${id}`, { method: 'DELETE' })).status, 202);
      while (!(await state()).ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal((await state()).ended, true);
      assert.equal((await fetch(`${base}/calls/nope`)).status, 404);
    } finally {
      await service.close();
    }
  });
});
