// Regression charts found by the differential and fuzz tests (test/regressions/*.scxml). Each
// case runs in a child process (test/regressions/child.ts), so one that hangs or overflows the
// engine fails its test instead of stopping the runner. A case marked `todo` would be an engine
// bug not fixed yet: it runs, and its failure is reported without failing the suite.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { createEngine, VirtualClock } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHARTS = path.resolve(here, '..', '..', 'test', 'regressions');
const CHILD = path.join(here, 'regressions', 'child.js');
const CLI = path.resolve(here, '..', 'src', 'cli', 'main.js');
const chart = (name: string) => path.join(CHARTS, name);

interface ChildResult {
  /** Resident memory of the child just before it was killed (when asked for). */
  peakRssMB: number | null;
  code: number | null;
  killed: boolean;
  ms: number;
  stdout: string;
  stderr: string;
  json: any;
}

function rssMB(pid: number | undefined): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

function spawnNode(args: string[], killMs: number, measure = false): Promise<ChildResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    let peakRssMB: number | null = null;
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => {
      if (measure) peakRssMB = rssMB(child.pid);
      killed = true;
      child.kill('SIGKILL');
    }, killMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      let json: unknown = null;
      try { json = JSON.parse(last); } catch { json = null; }
      resolve({ peakRssMB, code, killed, ms: Date.now() - started, stdout, stderr, json });
    });
  });
}

describe('regressions', () => {
  for (const sandbox of ['fast', 'isolated'] as const) {
    test(`eventless-error-cond.scxml (${sandbox}): a failing eventless condition ends the session with an error, not a hang`, async () => {
      const r = await spawnNode([CHILD, 'run', chart('eventless-error-cond.scxml'), sandbox], 30_000);
      assert.equal(r.killed, false, `the engine did not come back within 30 s (${r.ms} ms): the macrostep never ends`);
      assert.equal(r.json?.status, 'error', `status ${JSON.stringify(r.json)}`);
      // (isolated mode today: the QuickJS deadline stops it after limits.timeMs, but the session
      // ends as an "internal error: EvaluationError: runaway code stopped…")
      assert.doesNotMatch(r.json.message ?? '', /^internal error/, 'a limit is not an internal error');
      assert.match(r.json.message ?? '', /limit/i, 'the message names the limit');
    });
  }

  test('eventless-error-cond.scxml: `run-scxml run --timeout` stops the run', async () => {
    const r = await spawnNode([CLI, 'run', chart('eventless-error-cond.scxml'), '--json', '--clock', 'virtual', '--timeout', '2000', '--no-http', '--stdin', 'off'], 30_000);
    assert.equal(r.killed, false, 'the CLI ignored --timeout 2000 and was killed after 10 s');
    assert.equal(r.code, 1);
  });

  for (const sandbox of ['fast', 'isolated'] as const) {
    // isolated mode passes today (its syntax check costs less stack)
    test(`deep-if-nesting.scxml (${sandbox}): Engine.load never throws, even on 950 nested <if> after a session ran`, async () => {
      const r = await spawnNode([CHILD, 'load-after-session', chart('deep-if-nesting.scxml'), sandbox], 30_000);
      assert.equal(r.killed, false);
      assert.ok(r.json, `no result: ${r.stderr.slice(0, 500)}`);
      assert.equal(r.json.threw, null, `Engine.load threw ${r.json.threw}`);
      if (!r.json.chart) {
        assert.ok(r.json.diagnostics.length > 0);
        for (const d of r.json.diagnostics as string[]) assert.match(d, /deep-if-nesting\.scxml:\d+:\d+: (error|warning) ORX\d{4}/);
      }
    });
  }

  for (const sandbox of ['fast', 'isolated'] as const) {
    test(`non-ascii-ids.scxml (${sandbox}): ids are NCNames, letters beyond ASCII included`, async () => {
      const r = await spawnNode([CHILD, 'run', chart('non-ascii-ids.scxml'), sandbox, '[{"name":"go"}]'], 30_000);
      assert.equal(r.json?.loaded, true, `not loaded: ${JSON.stringify(r.json?.diagnostics)}`);
      assert.equal(r.json.status, 'final');
      assert.deepEqual(r.json.configuration, ['δ']);
    });
  }

  test('data-src-fifo.scxml: a <data src> that names a FIFO gives a diagnostic, not a hang', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orx-regression-'));
    try {
      copyFileSync(chart('data-src-fifo.scxml'), path.join(dir, 'data-src-fifo.scxml'));
      const mk = spawnSync('mkfifo', [path.join(dir, 'data-src-fifo.pipe')]);
      if (mk.status !== 0) return; // no mkfifo on this system
      const r = await spawnNode([CLI, 'check', path.join(dir, 'data-src-fifo.scxml')], 15_000);
      assert.equal(r.killed, false, 'run-scxml check blocked reading the FIFO and was killed after 5 s');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /data-src-fifo\.scxml:\d+:\d+: error ORX0004/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('data-src-dev-zero.scxml: a <data src> that never ends gives a diagnostic in bounded time and memory', async () => {
    const r = await spawnNode([CLI, 'check', chart('data-src-dev-zero.scxml')], 10_000, true);
    assert.equal(r.killed, false, `run-scxml check was still reading /dev/zero after 10 s (resident memory then: ${r.peakRssMB} MB)`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /data-src-dev-zero\.scxml:\d+:\d+: error ORX0004/);
  });

  for (const sandbox of ['fast', 'isolated'] as const) {
    const engineFor = async () => {
      const engine = createEngine({ clock: new VirtualClock(), sandbox });
      if (sandbox === 'isolated') await engine.ready();
      return engine;
    };

    test(`event-data.scxml (${sandbox}): a BigInt in event data does not kill the session`, async () => {
      const engine = await engineFor();
      try {
        const session = engine.start(engine.load({ path: chart('event-data.scxml') }).chart!);
        await engine.whenIdle();
        session.send('e', 10n);
        await engine.whenIdle();
        const result = session.isDone ? await session.done : null;
        assert.equal(session.status, 'running', `the session ended: ${result?.message}`);
        assert.equal(session.evaluateExpression('count'), 1);
        assert.equal(session.evaluateExpression('kind'), 'bigint');
        assert.equal(session.evaluateExpression('String(_event.data * 2n)'), '20');
      } finally {
        await engine.close();
      }
    });

    test(`event-data.scxml (${sandbox}): data nested 100,000 deep does not make Session.send throw`, async () => {
      const engine = await engineFor();
      try {
        const session = engine.start(engine.load({ path: chart('event-data.scxml') }).chart!);
        await engine.whenIdle();
        const deep = JSON.parse(`${'{"x":'.repeat(100_000)}1${'}'.repeat(100_000)}`) as unknown;
        assert.doesNotThrow(() => session.send('e', deep));
        await engine.whenIdle();
        assert.equal(session.status, 'running');
        // Data up to MAX_DATA_DEPTH levels is delivered; the session goes on taking events.
        const deepest = JSON.parse(`${'{"x":'.repeat(1000)}1${'}'.repeat(1000)}`) as unknown;
        session.send('e', deepest);
        await engine.whenIdle();
        assert.equal(session.status, 'running');
        assert.equal(session.evaluateExpression('count'), 1);
        assert.equal(session.evaluateExpression('kind'), 'object');
      } finally {
        await engine.close();
      }
    });
  }

  // (V8 needs several full collections to free a disposed vm context: child.ts collects until the
  // heap stops shrinking; with two collections this looked like 126 MB retained over 300 charts)
  test('chart-retention.scxml: charts compiled from strings are released once no session uses them', async () => {
    const r = await spawnNode([CHILD, 'retention', chart('chart-retention.scxml'), 'fast', '300'], 120_000);
    assert.ok(r.json, `no result: ${r.stderr.slice(0, 500)}`);
    assert.ok(r.json.growthMB < 20, `heap grew by ${r.json.growthMB} MB over ${r.json.charts} charts (${r.json.perChartKB} KB per chart)`);
  });
});
