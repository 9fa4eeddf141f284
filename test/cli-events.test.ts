// run-scxml's event sources and readable output: --events files, piped stdin, the interactive
// prompt (driven through a real pseudo-terminal with util-linux `script`), --log-level, and the
// coloured summary that only a terminal gets.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { cliRun, type CliRun } from './support/cli.js';
import { EventTimeline } from '../src/cli/event-sources.js';
import type { Clock, TimerHandle } from '../src/index.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'orx-cli-events-'));
after(() => rmSync(tmpDir, { recursive: true, force: true }));

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const SGR = /\x1b\[[0-9;]*m/;
const strip = (s: string) => s.replace(ANSI, '').replace(/\r/g, '');
/** An environment without NO_COLOR, whatever the test runner has. */
const ENV: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
delete ENV.NO_COLOR;


/**
 * Runs the CLI with a stdin pipe. `feed` gets the child (write to its stdin, end it); without
 * it, stdin is /dev/null as in the other CLI tests.
 */
function runCli(args: string[], feed?: (child: ChildProcessWithoutNullStreams) => void | Promise<void>, command: string[] = [process.execPath, CLI]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], [...command.slice(1), ...args], { cwd: tmpDir, stdio: [feed ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: ENV }) as ChildProcessWithoutNullStreams;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve(cliRun(code, stdout, stderr)); });
    if (feed) Promise.resolve(feed(child)).catch(reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let chartCounter = 0;
function chart(body: string): string {
  const file = path.join(tmpDir, `chart${++chartCounter}.scxml`);
  writeFileSync(file, `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript">\n${body}\n</scxml>\n`);
  return file;
}

function file(name: string, text: string): string {
  const p = path.join(tmpDir, name);
  writeFileSync(p, text);
  return p;
}

/**
 * idle: counts `inc`, logs the chart's own delayed `tick` (due 1.5 s after start), greets on
 * `hello` (→ talking), fails an <assign> on `boom`; talking: `bye` → final done.
 */
const CHART = chart(`
<datamodel><data id="count" expr="41"/><data id="who" expr="'nobody'"/></datamodel>
<state id="idle">
  <onentry><send event="tick" delay="1500ms"/></onentry>
  <transition event="tick"><log label="tick" expr="count"/></transition>
  <transition event="inc"><assign location="count" expr="count + 1"/><log label="count" expr="count"/></transition>
  <transition event="hello" target="talking"><assign location="who" expr="_event.data.who"/><log label="hello" expr="who"/></transition>
  <transition event="boom"><assign location="undeclared.x" expr="1"/></transition>
</state>
<state id="talking">
  <transition event="bye" target="done"><log label="bye" expr="who"/></transition>
</state>
<final id="done"/>`);

describe('--events <file.jsonl>', () => {
  test('events with delays interleave with the chart\'s own timers on virtual time (trace shows when)', async () => {
    const events = file('script.jsonl', [
      '{"name":"inc"}',
      '',
      '# a comment line',
      '{"name":"inc","delay":"1s"}',
      '{"name":"hello","data":{"who":"ann"},"delay":1000}',
      '{"name":"bye","delay":"500ms"}',
    ].join('\n'));
    const traceFile = path.join(tmpDir, 'script-trace.jsonl');
    const r = await runCli([CHART, '--clock', 'virtual', '--events', events, '--json', `--trace=${traceFile}`]);
    assert.equal(r.code, 0, r.stderr);
    // Delays count from the previous line: inc at 0, inc at 1 s, tick (chart) at 1.5 s, hello at 2 s, bye at 2.5 s.
    assert.deepEqual(r.lines, ['count: 42', 'count: 43', 'tick: 43', 'hello: ann', 'bye: ann', JSON.stringify({ status: 'final', final: 'done', configuration: ['done'] })]);
    const { readFileSync } = await import('node:fs');
    const steps = readFileSync(traceFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: number; type: string; event?: string | null })
      .filter((rec) => rec.type === 'macrostep' && rec.event).map((rec) => `${rec.event}@${rec.t}`);
    assert.deepEqual(steps, ['inc@0', 'inc@1000', 'tick@1500', 'hello@2000', 'bye@2500']);
  });

  test('--events come after --event, and a file alone keeps the run from going idle until it is done (real clock)', async () => {
    const events = file('late.jsonl', '{"name":"hello","data":{"who":"late"},"delay":300}\n{"name":"bye"}\n');
    const started = Date.now();
    const r = await runCli([CHART, '--clock', 'real', '--event', 'inc', '--events', events, '--json', '--timeout', '10000']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started >= 300);
    assert.deepEqual(r.lines.slice(0, 3), ['count: 42', 'hello: late', 'bye: late']);
  });

  test('a malformed line: exit 2, the file and line number, nothing run', async () => {
    const cases: [string, RegExp][] = [
      ['{"name":"inc"}\n{"name":"inc",\n', /bad1\.jsonl:2: not JSON/],
      ['{"name":"inc"}\n\n{"nmae":"inc"}\n', /bad2\.jsonl:3: unknown field "nmae"/],
      ['["inc"]\n', /bad3\.jsonl:1: expected a JSON object/],
      ['{"data":1}\n', /bad4\.jsonl:1: the event has no "name"/],
      ['{"name":"inc","delay":"soon"}\n', /bad5\.jsonl:1: the delay must be/],
      ['{"name":"two words"}\n', /bad6\.jsonl:1: "name" must be a non-empty event name without spaces/],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const events = file(`bad${i + 1}.jsonl`, text);
      const r = await runCli([CHART, '--clock', 'virtual', '--events', events, '--json']);
      assert.equal(r.code, 2, `${text}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '', 'nothing ran, no JSON line');
    }
    const missing = await runCli([CHART, '--events', path.join(tmpDir, 'no-such.jsonl')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--events .*no-such\.jsonl: cannot read the file \(ENOENT\)/);
  });
});

describe('events on stdin', () => {
  test('a stdin pipe (--stdin events): JSON and name[=json] lines; stdin open keeps the run alive; a bad line is skipped', async () => {
    const r = await runCli([CHART, '--clock', 'real', '--stdin', 'events', '--json', '--timeout', '20000'], async (child) => {
      let seen = '';
      child.stdout.on('data', (c: string) => { seen += c; });
      child.stdin.write('inc\n');
      child.stdin.write('{"name":"inc"}\n');
      // The chart's tick fires at 1.5 s; then nothing is queued or pending: without stdin the
      // run would be idle now.
      while (!seen.includes('tick: 43')) await sleep(20);
      await sleep(500);
      assert.equal(child.exitCode, null, 'the run is still going while stdin is open');
      child.stdin.write('bogus={not json\n');
      child.stdin.write('hello={"who":"pipe"}\n');
      child.stdin.end();
    });
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.lines, ['count: 42', 'count: 43', 'tick: 43', 'hello: pipe', JSON.stringify({ status: 'idle', final: null, configuration: ['talking'] })]);
    assert.match(r.stderr, /run-scxml: stdin:3: bogus=\{not json: the data is not JSON .*\(line skipped\)/);
  });

  test('a shell pipe is read by default; EOF does not end the run, virtual time stands still until it', async () => {
    // `cat |` turns the test's socket into a real pipe (FIFO), as in `producer | run-scxml chart`.
    const sh = ['/bin/sh', '-c', `cat | "${process.execPath}" "${CLI}" "$@"`, 'sh'];
    const r = await runCli([CHART, '--clock', 'virtual', '--json'], (child) => {
      child.stdin.write('inc\n{"name":"inc","delay":"10s"}\n');
      child.stdin.end();
    }, sh);
    assert.equal(r.code, 1, r.stderr);
    // Lines arrive at virtual time 0; after EOF time runs on: tick at 1.5 s, the delayed inc at 10 s.
    assert.deepEqual(r.lines, ['count: 42', 'tick: 42', 'count: 43', JSON.stringify({ status: 'idle', final: null, configuration: ['idle'] })]);

    // A redirected file reads like --events (delays count from the previous line).
    const script = file('stdin.jsonl', '{"name":"hello","data":{"who":"file"},"delay":"2s"}\n{"name":"bye","delay":"1s"}\n');
    const viaFile = await runCli([CHART, '--clock', 'virtual', '--json'], undefined, ['/bin/sh', '-c', `"${process.execPath}" "${CLI}" "$@" < "${script}"`, 'sh']);
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.deepEqual(viaFile.lines, ['tick: 41', 'hello: file', 'bye: file', JSON.stringify({ status: 'final', final: 'done', configuration: ['done'] })]);
  });

  test('a socket left open by a parent process is not read (auto), nor anything with --stdin off', async () => {
    for (const args of [[], ['--stdin', 'off']]) {
      const r = await runCli([CHART, '--clock', 'virtual', '--json', ...args], (child) => { child.stdin.write('inc\n'); });
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(r.lines, ['tick: 41', JSON.stringify({ status: 'idle', final: null, configuration: ['idle'] })]);
    }
  });
});

describe('readable output in pipes and --log-level', () => {
  test('in a pipe: only <log> lines and errors, no ANSI escapes, at every level but debug', async () => {
    const r = await runCli([CHART, '--clock', 'virtual', '--event', 'inc', '--event', 'boom']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'count: 42\ntick: 42\n');
    assert.equal(r.stderr, 'session ended: idle in [idle]\n');
    assert.doesNotMatch(r.stdout + r.stderr, /\x1b/);
  });

  test('--log-level silent|error|warn|info|debug', async () => {
    const run = (level: string, ...more: string[]) => runCli([CHART, '--clock', 'virtual', '--event', 'inc', '--log-level', level, ...more]);
    const silent = await run('silent');
    assert.equal(silent.stdout + silent.stderr, '');
    const silentJson = await run('silent', '--json');
    assert.deepEqual(silentJson.lines, [JSON.stringify({ status: 'idle', final: null, configuration: ['idle'] })], 'the JSON line is not readable output');
    const error = await run('error');
    assert.equal(error.stdout + error.stderr, '');
    const warn = await run('warn');
    assert.equal(warn.stdout, '');
    assert.match(warn.stderr, /session ended: idle/);
    const info = await run('info');
    assert.equal(info.stdout, 'count: 42\ntick: 42\n');
    // debug: the summary in a pipe too, uncoloured, with transitions and sends.
    const debug = await run('debug');
    const text = debug.stdout;
    assert.doesNotMatch(text, /\x1b/);
    for (const re of [/0\.000s {2}start {3}/, /enter {3}idle/, /send {4}tick .*due at 1\.500s/, /event {3}inc/, /trans {3}idle → \(targetless\) on inc at .*:\d+:\d+/, /^count: 42$/m, /1\.500s {2}event {3}tick/]) {
      assert.match(text, re);
    }
    const bad = await run('loud');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--log-level must be one of silent, error, warn, info, debug, not 'loud'/);
  });
});

/* ---------- a real terminal: util-linux script(1) gives the CLI a pseudo-terminal ---------- */

const HAVE_SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The CLI on a pseudo-terminal (stdin, stdout and stderr all the terminal). */
class Terminal {
  private readonly child: ChildProcessWithoutNullStreams;
  raw = '';
  private mark = 0;
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = ENV) {
    const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
    this.child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: tmpDir, env, stdio: ['pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
    this.child.stdout.setEncoding('utf8').on('data', (c: string) => { this.raw += c; });
    this.child.stderr.setEncoding('utf8').on('data', (c: string) => { this.raw += c; });
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    this.exited = new Promise((resolve) => this.child.on('close', (code) => { clearTimeout(killer); resolve(code); }));
  }

  get text(): string {
    return strip(this.raw);
  }

  /** Wait until the output since the last command matches. */
  async expect(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const since = strip(this.raw.slice(this.mark));
      if (re.test(since)) return since;
      if (Date.now() > deadline || this.child.exitCode !== null) assert.fail(`expected ${re} in:\n${since}\n--- whole output:\n${this.text}`);
      await sleep(20);
    }
  }

  /** Type a line (the prompt must be showing), then wait for `re`. */
  async type(line: string, re?: RegExp): Promise<string> {
    await this.expect(/scxml> $/);
    this.mark = this.raw.length;
    this.child.stdin.write(`${line}\r`);
    return re ? this.expect(re) : '';
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

describe('the interactive prompt (stdin is a terminal)', { skip: HAVE_SCRIPT ? false : 'util-linux script(1) is not installed' }, () => {
  test('config, eval, vars, send, advance (virtual time), trace, help, quit', async () => {
    const t = new Terminal([CHART, '--clock', 'virtual']);
    try {
      await t.expect(/Type 'help' for commands/);
      await t.expect(/enter {3}idle/);
      await t.type('config', /\[idle\]/);
      await t.type('eval count + 1', /^42$/m);
      await t.type('eval who', /^"nobody"$/m);
      // Errors are printed, the prompt goes on.
      await t.type('eval count +', /error: .*SyntaxError/);
      await t.type('eval nothing.here', /error: .*nothing/);
      const vars = await t.type('vars', /who = "nobody"/);
      assert.match(vars, /^count = 41$/m);
      assert.doesNotMatch(vars, /_sessionid|_event/);
      // A bare event name sends it; the summary says so, the chart logs.
      await t.type('inc', /count: 42/);
      // Virtual time stands still until `advance`: the chart's 1.5 s tick has not fired.
      assert.doesNotMatch(t.text, /tick: /);
      await t.type('advance 1s', /time is now 1\.000s/);
      assert.doesNotMatch(t.text, /tick: /);
      const advanced = await t.type('advance 600', /time is now 1\.600s/);
      assert.match(advanced, /1\.500s {2}event {3}tick[\s\S]*tick: 42/);
      await t.type('advance later', /error: the duration must be/);
      await t.type('send hello {"who":"zed"}', /hello: zed/);
      await t.type('config', /\[talking\]/);
      await t.type('hello {"who": nope}', /error: the data of hello is not JSON/);
      // trace off: no summary lines, a short acknowledgement instead.
      await t.type('trace off', /^trace off$/m);
      const quiet = await t.type('boom', /sent boom/);
      assert.doesNotMatch(quiet, /event {3}boom/);
      await t.type('trace on', /^trace on$/m);
      await t.type('boom', /event {3}boom \(no transition\)/);
      const help = await t.type('help', /^\s+quit\s/m);
      for (const word of ['send', 'config', 'eval', 'vars', 'advance', 'trace', 'help', 'quit']) assert.match(help, new RegExp(`^\\s+${word}`, 'm'));
      await t.type('quit', /session ended: quit in \[talking\]/);
      assert.equal(await t.exited, 1);
    } finally {
      t.kill();
    }
  });

  test('the run ends when the session reaches a top-level final (printed), not on idle; --json still last', async () => {
    const t = new Terminal([CHART, '--clock', 'virtual', '--json']);
    try {
      await t.expect(/Type 'help' for commands/);
      // Idle (nothing queued, virtual time held), yet the prompt stays.
      await sleep(300);
      await t.type('config', /\[idle\]/);
      await t.type('hello={"who":"fin"}', /sent hello/);
      await t.type('bye', /the session reached the top-level final state 'done'/);
      assert.equal(await t.exited, 0);
      const lines = t.text.trim().split('\n');
      assert.equal(lines[lines.length - 1], JSON.stringify({ status: 'final', final: 'done', configuration: ['done'] }));
    } finally {
      t.kill();
    }
  });

  test('on real time `advance` explains itself; errors in executable content are shown with their location', async () => {
    const t = new Terminal([CHART]);
    try {
      await t.expect(/Type 'help' for commands/);
      await t.type('advance 1s', /error: advance works with --clock virtual only/);
      await t.type('boom', /error {3}error\.execution: .*undeclared.* at .*chart\d+\.scxml:\d+:\d+/);
      // Ctrl-D quits as well.
      await t.expect(/scxml> $/);
      (t as unknown as { child: ChildProcessWithoutNullStreams }).child.stdin.write('\x04');
      assert.equal(await t.exited, 1);
      assert.match(t.text, /session ended: quit in \[idle\]/);
    } finally {
      t.kill();
    }
  });

  test('the coloured summary on a terminal; NO_COLOR turns colour off; never with --json', async () => {
    const coloured = new Terminal([CHART, '--clock', 'virtual', '--stdin', 'off', '--event', 'inc']);
    assert.equal(await coloured.exited, 1, 'ends on idle: no prompt with --stdin off');
    assert.match(coloured.raw, /\x1b\[32menter {3}\x1b\[39midle/, 'state entries in green');
    assert.match(coloured.raw, /\x1b\[36mevent {3}/, 'events in cyan');
    assert.match(coloured.text, /start {3}.*chart\d+\.scxml/);
    assert.match(coloured.text, /0\.000s {2}event {3}inc\ncount: 42\n/);
    assert.match(coloured.text, /1\.500s {2}event {3}tick\ntick: 42\n/);
    assert.match(coloured.text, /exit {4}idle/);

    const env = { ...ENV, NO_COLOR: '1' };
    const plain = new Terminal([CHART, '--clock', 'virtual', '--stdin', 'off', '--event', 'inc'], env);
    assert.equal(await plain.exited, 1);
    assert.match(plain.text, /enter {3}idle/);
    assert.doesNotMatch(plain.raw, SGR);

    const json = new Terminal([CHART, '--clock', 'virtual', '--stdin', 'off', '--event', 'inc', '--json']);
    assert.equal(await json.exited, 1);
    assert.doesNotMatch(json.text, /enter {3}idle/);
    assert.match(json.text, /count: 42/);
  });
});

describe('EventTimeline', () => {
  /**
   * A clock whose timers fire shortest delay first, as Node's do when their delays differ (one
   * list per delay): two events due at the same moment but armed a millisecond apart must still
   * arrive in the order they were added.
   */
  class ShortestFirstClock implements Clock {
    readonly kind = 'real' as const;
    time = 0;
    private timers: { due: number; delay: number; fire: () => void }[] = [];
    now() { return this.time; }
    setTimer(delayMs: number, fire: () => void): TimerHandle {
      const t = { due: this.time + delayMs, delay: delayMs, fire };
      this.timers.push(t);
      return t;
    }
    clearTimer(handle: TimerHandle) { this.timers = this.timers.filter((t) => t !== handle); }
    get pendingTimers() { return this.timers.length; }
    /** Move to `time` and fire what is due, shortest delay first. */
    runTo(time: number) {
      this.time = time;
      for (;;) {
        const due = this.timers.filter((t) => t.due <= time).sort((a, b) => a.delay - b.delay)[0];
        if (!due) return;
        this.timers = this.timers.filter((t) => t !== due);
        due.fire();
      }
    }
  }

  test('events due at the same moment keep their order, whatever order the clock fires timers in', () => {
    const clock = new ShortestFirstClock();
    const sent: string[] = [];
    const timeline = new EventTimeline(clock, (e) => sent.push(e.name));
    timeline.add({ name: 'hello', data: undefined, delayMs: 300 });
    clock.time = 1; // the next line is read a millisecond later
    timeline.add({ name: 'bye', data: undefined, delayMs: 0 });
    timeline.add({ name: 'later', data: undefined, delayMs: 100 });
    clock.runTo(300);
    assert.deepEqual(sent, ['hello', 'bye']);
    clock.runTo(400);
    assert.deepEqual(sent, ['hello', 'bye', 'later']);
    assert.equal(clock.pendingTimers, 0);
  });
});
