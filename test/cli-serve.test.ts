// `run-scxml serve` through the built command: help, configuration errors with their exit codes,
// paths relative to the configuration file, the WSDL's address, and a clean stop on SIGTERM.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from './support/billing-fixture.js';
import { runCli } from './support/cli.js';
import { startServe } from './support/serve.js';

describe('run-scxml serve', () => {
  test('--help prints the options and exits 0', async () => {
    const r = await runCli(['serve', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /run-scxml serve \[--config serve\.json\]/);
    assert.match(r.stdout, /--make-call-chart <file>/);
  });

  test('configuration errors: unknown keys and wrong types are usage errors (exit 2)', async () => {
    const dir = tempDir();
    const write = (name: string, value: unknown) => {
      const file = path.join(dir, name);
      writeFileSync(file, JSON.stringify(value));
      return file;
    };
    const unknown = await runCli(['serve', '--config', write('unknown.json', { colour: 'red' })]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown key 'colour'/);
    const wrongType = await runCli(['serve', '--config', write('type.json', { port: '8080' })]);
    assert.equal(wrongType.code, 2);
    assert.match(wrongType.stderr, /'port' must be number, not string/);
    const badPort = await runCli(['serve', '--port', 'eighty']);
    assert.equal(badPort.code, 2);
  });

  test('paths in the configuration are relative to it: a broken call chart there stops the start (exit 1)', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'conf'));
    writeFileSync(path.join(dir, 'conf', 'broken.scxml'), '<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0"><state id="a"><transition target="nowhere"/></state></scxml>');
    writeFileSync(path.join(dir, 'conf', 'serve.json'), JSON.stringify({ port: 0, db: 'service.db', makeCallChart: 'broken.scxml', logLevel: 'silent' }));
    const r = await runCli(['serve', '--config', path.join(dir, 'conf', 'serve.json')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`the call chart cannot be loaded:\\n${path.join(dir, 'conf', 'broken.scxml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:`));
  });

  test('serves the WSDLs with its own address, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const served = await startServe(['--port', '0', '--db', path.join(dir, 'service.db'), '--account', 'app:app-secret', '--log-level', 'silent']);
    try {
      const auth = `Basic ${Buffer.from('app:app-secret').toString('base64')}`;
      const wsdl = await fetch(`${served.url}/parlayx/third_party_call?wsdl`, { headers: { authorization: auth } });
      assert.equal(wsdl.status, 200);
      assert.match(await wsdl.text(), new RegExp(`<soap:address location="${served.url}/parlayx/third_party_call"/>`));
      const xsd = await fetch(`${served.url}/parlayx/common_types.xsd`, { headers: { authorization: auth } });
      assert.equal(xsd.status, 200);
      assert.equal((await fetch(`${served.url}/parlayx/..%2Fpackage.json`, { headers: { authorization: auth } })).status, 404);
    } finally {
      served.child.kill('SIGTERM');
    }
    const exit = await served.exited;
    assert.equal(exit.code, 0, exit.stderr);
  });
});
