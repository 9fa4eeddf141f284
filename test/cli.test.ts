// The run-scxml command-line contract: exit codes, the --json last line, log lines, options.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI_PATH as CLI, runCli as runCliIn, type CliRun } from './support/cli.js';

const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'orx-cli-'));
after(() => rmSync(tmpDir, { recursive: true, force: true }));

/** Runs the CLI in this file's temporary directory; killed after `killMs` whatever happens. */
const runCli = (args: string[], killMs = 30_000): Promise<CliRun> => runCliIn(args, { cwd: tmpDir, killMs });

let chartCounter = 0;
function chart(body: string, attrs = ''): string {
  const file = path.join(tmpDir, `chart${++chartCounter}.scxml`);
  writeFileSync(file, `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript" ${attrs}>\n${body}\n</scxml>\n`);
  return file;
}

const FINAL = chart(`
<parallel id="p">
  <state id="left"><transition event="go" target="done"/></state>
  <state id="right"/>
</parallel>
<final id="done"/>`);

const IDLE = chart(`
<parallel id="p">
  <state id="left"/>
  <state id="right"/>
</parallel>`);

describe('run-scxml run', () => {
  test('a top-level final: exit 0 and the JSON last line', async () => {
    const r = await runCli(['run', FINAL, '--json', '--event', 'go']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, { status: 'final', final: 'done', configuration: ['done'] });
  });

  test('nothing more can happen: exit 1, status idle with the configuration', async () => {
    const r = await runCli(['run', IDLE, '--json']);
    assert.equal(r.code, 1);
    assert.deepEqual(r.json, { status: 'idle', final: null, configuration: ['p', 'left', 'right'] });
  });

  test('--timeout: exit 1, status timeout (waiting on a 1 h delay on real time)', async () => {
    const file = chart(`
<state id="waiting">
  <onentry><send event="wake" delay="1h"/></onentry>
  <transition event="wake" target="f"/>
</state>
<final id="f"/>`);
    const r = await runCli([file, '--json', '--clock', 'real', '--timeout', '300']);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.json, { status: 'timeout', final: null, configuration: ['waiting'] });
    assert.ok(r.wallMs >= 300, `ended after ${r.wallMs} ms`);
    assert.ok(r.wallMs < 20_000, `ended after ${r.wallMs} ms`);

    // The same chart on virtual time reaches its final at once.
    const v = await runCli([file, '--json', '--clock', 'virtual', '--timeout', '20000']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.json?.status, 'final');
  });

  test('a runaway chart: exit 1, status error with a message naming the limit', async () => {
    const file = chart(`
<state id="a"><transition target="b"/></state>
<state id="b"><transition target="a"/></state>`);
    const r = await runCli([file, '--json']);
    assert.equal(r.code, 1);
    assert.equal(r.json?.status, 'error');
    assert.equal(r.json?.final, null);
    assert.match(r.json?.message ?? '', /maxMicrosteps/);
    assert.match(r.stderr, /error: .*maxMicrosteps/);
  });

  test('an unloadable chart: exit 2, diagnostics on stderr', async () => {
    const missing = await runCli([path.join(tmpDir, 'no-such-chart.scxml'), '--json']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ORX0001/);
    assert.equal(missing.json?.status, 'error');

    const broken = path.join(tmpDir, 'broken.scxml');
    writeFileSync(broken, '<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0">\n<state id="a">\n</scxml>\n');
    const r = await runCli([broken]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /broken\.scxml:\d+:\d+: error ORX0002/);
    assert.equal(r.stdout, '');

    const invalid = chart('<state id="a"><transition event="e" target="nowhere"/></state>');
    const i = await runCli([invalid]);
    assert.equal(i.code, 2);
    assert.match(i.stderr, /error ORX0104/);
  });

  test('`run` is optional', async () => {
    const withRun = await runCli(['run', FINAL, '--json', '--event', 'go']);
    const without = await runCli([FINAL, '--json', '--event', 'go']);
    assert.equal(without.code, withRun.code);
    assert.equal(without.stdout, withRun.stdout);
    // Options may come before the chart too.
    const optionsFirst = await runCli(['--json', '--event', 'go', FINAL]);
    assert.equal(optionsFirst.stdout, withRun.stdout);
  });

  test('--event name=json: events delivered in order, with their data', async () => {
    const file = chart(`
<state id="s1"><transition event="first" target="s2"><log label="first" expr="_event.data"/></transition></state>
<state id="s2"><transition event="second" target="s3"><log label="second" expr="typeof _event.data"/></transition></state>
<state id="s3"><transition event="third" target="f"><log label="third" expr="_event.data"/></transition></state>
<final id="f"/>`);
    const r = await runCli([file, '--json', '--clock', 'virtual', '--event', 'first={"n":1,"list":["a"]}', '--event', 'second', '--event', 'third="text"']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.lines, ['first: {"n":1,"list":["a"]}', 'second: undefined', 'third: text', JSON.stringify({ status: 'final', final: 'f', configuration: ['f'] })]);

    // Out of order, the chart cannot finish.
    const wrong = await runCli([file, '--json', '--clock', 'virtual', '--event', 'second', '--event', 'first=1', '--event', 'third=1']);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.json?.status, 'idle');
    assert.deepEqual(wrong.json?.configuration, ['s2']);
  });

  test('<log> lines go to stdout before the JSON line', async () => {
    const file = chart(`
<state id="a">
  <onentry>
    <log label="text" expr="'hello world'"/>
    <log label="number" expr="42"/>
    <log label="object" expr="({ a: [1, 2], b: null })"/>
    <log expr="'no label'"/>
    <log label="label only"/>
  </onentry>
  <transition target="f"/>
</state>
<final id="f"><onentry><log label="in final" expr="true"/></onentry></final>`);
    const r = await runCli([file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines, [
      'text: hello world',
      'number: 42',
      'object: {"a":[1,2],"b":null}',
      'no label',
      'label only: undefined',
      'in final: true',
      '{"status":"final","final":"f","configuration":["f"]}',
    ]);
  });

  test('without --json: logs only on stdout; a non-final end is reported on stderr', async () => {
    const done = await runCli([FINAL, '--event', 'go']);
    assert.equal(done.code, 0);
    assert.equal(done.stdout, '');
    const idle = await runCli([IDLE]);
    assert.equal(idle.code, 1);
    assert.equal(idle.stdout, '');
    assert.match(idle.stderr, /session ended: idle in \[p, left, right\]/);
  });

  test('the BasicHTTP listener: open by default, not with --no-http', async () => {
    const file = chart(`
<state id="a">
  <onentry><log label="basichttp" expr="_ioprocessors.basichttp ? 'yes' : 'no'"/></onentry>
  <transition target="f"/>
</state>
<final id="f"/>`);
    const open = await runCli([file]);
    assert.deepEqual(open.lines, ['basichttp: yes']);
    const closed = await runCli([file, '--no-http']);
    assert.deepEqual(closed.lines, ['basichttp: no']);
  });
});

describe('usage errors and help', () => {
  test('bad --event JSON: exit 2 with a clear message, nothing run', async () => {
    const r = await runCli([FINAL, '--json', '--event', 'go={not json']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--event go=\{not json: the data is not JSON/);
    assert.match(r.stderr, /--help/);
    assert.equal(r.stdout, '');
  });

  test('bad --clock, --sandbox or --timeout value: exit 2 naming the option', async () => {
    const clock = await runCli([FINAL, '--clock', 'sundial']);
    assert.equal(clock.code, 2);
    assert.match(clock.stderr, /--clock must be one of real, virtual, not 'sundial'/);
    assert.equal(clock.stdout, '');
    const sandbox = await runCli([FINAL, '--sandbox', 'none']);
    assert.equal(sandbox.code, 2);
    assert.match(sandbox.stderr, /--sandbox must be one of fast, isolated/);
    const timeout = await runCli([FINAL, '--timeout', 'soon']);
    assert.equal(timeout.code, 2);
    assert.match(timeout.stderr, /--timeout must be a number of milliseconds/);
  });

  test('unknown options, missing or extra charts: exit 2', async () => {
    const unknown = await runCli([FINAL, '--frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /frobnicate/);
    const none = await runCli([]);
    assert.equal(none.code, 2);
    const two = await runCli(['run', FINAL, IDLE]);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /exactly one chart, got 2/);
  });

  test('--help exits 0 and mentions every command, option and exit code', async () => {
    // Every option the parser accepts (the keys of parseArgs' options in main.js) must be in the help.
    const source = readFileSync(CLI, 'utf8');
    const block = /options:\s*\{([\s\S]*?)\n\s*\},\n\s*\}\);/.exec(source)?.[1] ?? '';
    const options = [...block.matchAll(/^\s*'?([a-z][\w-]*)'?:\s*\{\s*type:/gm)].map((m) => `--${m[1]}`);
    assert.ok(options.length >= 7 && options.includes('--json') && options.includes('--help'), `options not found in ${CLI}: ${options.join(' ')}`);
    for (const flag of ['--help', '-h']) {
      const r = await runCli([flag]);
      assert.equal(r.code, 0);
      for (const word of ['run', 'check', ...options, 'real', 'virtual', 'fast', 'isolated']) {
        assert.ok(r.stdout.includes(word), `--help does not mention ${word}`);
      }
      assert.match(r.stdout, /Exit codes: 0 .*1 .*2 /);
    }
  });
});

describe('run-scxml check', () => {
  test('exit 0 and a summary without errors; warnings on stderr', async () => {
    const file = chart('<datamodel><data id="unused" expr="1"/></datamodel><state id="a"/>');
    const r = await runCli(['check', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /0 error\(s\), \d+ warning\(s\)/);
  });

  test('exit 2 with every error on stderr', async () => {
    const file = chart('<state id="a"><transition event="e" target="nowhere"/><transition event="f" target="elsewhere"/></state>');
    const r = await runCli(['check', file]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.match(/error ORX0104/g)?.length, 2);
    assert.match(r.stdout, /2 error\(s\)/);
  });
});
