// Automated checks for the W3C tests the manifest marks manual="true". Each expectation comes from the
// test's own comment in ../shared/w3c-scxml/{txml,ecma}/test<N>.* ; shared by conformance.test.ts and
// run-conformance.ts so the docs report the same verdicts the tests assert.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chartPath, loadManifest, oneLine, runChart, runCli, type CliRun } from './manifest.js';

export interface ManualCheck {
  id: string;
  /** What the test requires, paraphrasing its own description. */
  mustDo: string;
  /** What the automated check asserts. */
  howChecked: string;
  /** Throws (an AssertionError with a readable message) when the engine does not do what the test asks. */
  check: () => Promise<void>;
}

function chartOf(id: string): string {
  const entry = loadManifest().find((e) => e.id === id);
  if (!entry) throw new Error(`test ${id} is not in the manifest`);
  return chartPath(entry);
}

/** Everything one needs to see why a check failed, appended to assertion messages. */
function explain(run: CliRun): string {
  const parts = [`exit ${run.exitCode}`, `result ${JSON.stringify(run.result)}`];
  if (run.killedBecause) parts.push(run.killedBecause);
  parts.push(`logs: ${JSON.stringify(run.logs)}`);
  if (run.stderr.trim()) parts.push(`stderr: ${oneLine(run.stderr, 400)}`);
  return parts.join('; ');
}

function assertFinal(run: CliRun, finalId: string): void {
  assert.ok(
    run.exitCode === 0 && run.result?.status === 'final' && run.result.final === finalId,
    `expected to halt in top-level final "${finalId}" with exit 0; ${explain(run)}`,
  );
}

/** Values of the log lines printed for `<log label="L">`, i.e. lines "L: value". */
function valuesOf(logs: string[], label: string): string[] {
  return logs.filter((l) => l.startsWith(`${label}: `)).map((l) => l.slice(label.length + 2));
}

/** A CLI diagnostic line: `file:line:col: error CODE: message`. */
const ERROR_DIAGNOSTIC = /^.+:\d+:\d+: error \S+: /;

function errorDiagnostics(stderr: string): string[] {
  return stderr.split(/\r?\n/).filter((l) => ERROR_DIAGNOSTIC.test(l));
}

const XML_ENTITIES: Record<string, string> = { '&quot;': '"', '&apos;': "'", '&lt;': '<', '&gt;': '>', '&amp;': '&' };

/**
 * expr/cond attributes that are not ECMAScript expressions, with their 1-based line. Compiling (never
 * running) each one finds the test's deliberately illegal expression without hard-coding it.
 * Note: an empty expr="" would count as ill-formed here; 313/314 have none.
 */
function illFormedExpressions(chartText: string): { expr: string; line: number }[] {
  const found: { expr: string; line: number }[] = [];
  chartText.split('\n').forEach((text, i) => {
    for (const m of text.matchAll(/\b(?:expr|cond)="([^"]*)"/g)) {
      const expr = m[1].replace(/&(?:quot|apos|lt|gt|amp);/g, (ent) => XML_ENTITIES[ent]);
      try {
        new Function(`return (${expr}\n);`);
      } catch (err) {
        if (err instanceof SyntaxError) found.push({ expr, line: i + 1 });
      }
    }
  });
  return found;
}

/** 313 and 314 differ only in where the illegal expression sits; both may be rejected or must raise error.execution. */
async function checkIllFormedExpression(id: string): Promise<void> {
  const chart = chartOf(id);
  const bad = illFormedExpressions(readFileSync(chart, 'utf8'));
  assert.equal(bad.length, 1, `expected exactly one ill-formed expression in ${chart}, found ${JSON.stringify(bad)}`);
  const { expr, line } = bad[0];

  // Orchestrion runs such charts (the expression raises error.execution when evaluated, W3C 5.9)
  // and flags the expression at load: `check` reports a warning at its line, and exits 0.
  const checked = await runCli(['check', chart], { wallMs: 10_000 });
  const flagged = checked.stderr.split('\n').filter((l) => /: warning ORX0201: /.test(l));
  assert.equal(checked.exitCode, 0, `\`check\` reports ill-formed expressions as warnings and exits 0; ${explain(checked)}`);
  assert.ok(
    flagged.some((d) => d.includes(`:${line}:`)),
    `\`check\` must flag the illegal expr="${expr}" at line ${line} (":${line}:"); warnings: ${JSON.stringify(flagged)}`,
  );

  // The test allows either behaviour at run time: reject the document, or run it and raise error.execution (→ pass).
  const run = await runChart(chart);
  assert.ok(
    run.exitCode === 0 && run.result?.final === 'pass',
    `\`run\` must reach "pass" via error.execution; ${explain(run)}`,
  );
}

const BASICHTTP = 'http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor';

/** The W3C ships no chart for 513; this one publishes its BasicHTTP location and waits for the event. */
const CHART_513 = `<?xml version="1.0" encoding="UTF-8"?>
<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript" initial="wait">
  <state id="wait">
    <onentry>
      <log label="location" expr="_ioprocessors['${BASICHTTP}'].location"/>
      <send event="timeout" delay="8s"/>
    </onentry>
    <transition event="test" target="pass"/>
    <transition event="timeout" target="fail"/>
  </state>
  <final id="pass"/>
  <final id="fail"/>
</scxml>
`;

async function check513(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'orchestrion-513-'));
  try {
    const chart = path.join(dir, 'test513.scxml');
    await writeFile(chart, CHART_513);
    let response: Promise<number | string> | undefined;
    const run = await runCli(['run', chart, '--json', '--clock', 'real', '--timeout', '10000'], {
      wallMs: 15_000,
      onStdoutLine: (line) => {
        if (!line.startsWith('location: ') || response) return;
        // Like the wget in test513.txt: form data plus the event name (as a parameter, per D.2, and as the header the .txt uses).
        response = fetch(line.slice('location: '.length), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', _scxmleventname: 'test' },
          body: '_scxmleventname=test&key1=value1&key2=value2',
          signal: AbortSignal.timeout(5_000),
        }).then(
          (res) => res.status,
          (err: unknown) => `request failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      },
    });
    assert.ok(response, `the chart never logged its BasicHTTP location; ${explain(run)}`);
    const status = await response;
    assert.ok(typeof status === 'number' && status >= 200 && status < 300, `POST to the location must get a 2XX response, got ${status}`);
    assertFinal(run, 'pass');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Manifest order. */
export const manualChecks: ManualCheck[] = [
  {
    id: '415',
    mustDo:
      'The initial state is a top-level `<final>` whose `<onentry>` raises event1; the machine must halt on entering it, without processing event1.',
    howChecked: '`run` exits 0 with status "final" in final "final" and logs nothing (event1 has no observable effect).',
    check: async () => {
      const run = await runChart(chartOf('415'));
      assertFinal(run, 'final');
      assert.deepEqual(run.logs, [], `nothing should be logged; ${explain(run)}`);
    },
  },
  {
    id: '301',
    mustDo:
      'The chart has `<script src="D:\\foo"/>`, which cannot be downloaded: the processor must reject the document (it fails if it runs at all).',
    howChecked:
      '`run` exits 2, logs nothing, and stderr has an error diagnostic (`file:line:col: error CODE: message`) naming the src, read from the chart.',
    check: async () => {
      const chart = chartOf('301');
      const src = /<script\b[^>]*\bsrc="([^"]*)"/.exec(readFileSync(chart, 'utf8'))?.[1];
      assert.ok(src, `no <script src> in ${chart}`);
      const run = await runChart(chart);
      assert.equal(run.exitCode, 2, `the document must be rejected (exit 2); ${explain(run)}`);
      assert.deepEqual(run.logs, [], `a rejected document must not run; ${explain(run)}`);
      const escaped = JSON.stringify(src).slice(1, -1); // the diagnostic may quote the src JSON-style (D:\\foo)
      assert.ok(
        errorDiagnostics(run.stderr).some((d) => d.includes(src) || d.includes(escaped)),
        `stderr must have an error diagnostic naming the script src ${src}; stderr: ${JSON.stringify(run.stderr)}`,
      );
    },
  },
  {
    id: '307',
    mustDo:
      'With binding="late", s0 logs Var1 before the `<data>` in s1 is bound and s1 logs Var1.bar (a non-existent substructure); each then logs whether an error event came. The output must be the same in both cases.',
    howChecked:
      'The log is exactly: `entering s0 value of Var 1 is: : undefined`, a `no error in s0…` line, `entering s1, value of non-existent substructure of Var 1 is: : undefined`, a `No error in s1…` line (ECMAScript: a late-bound variable exists as undefined, and so does a missing property); run ends in final "final".',
    check: async () => {
      const run = await runChart(chartOf('307'));
      assertFinal(run, 'final');
      const [s0Value, s0Outcome, s1Value, s1Outcome, ...rest] = run.logs;
      const expected = 'expected [s0 value, s0 error?, s1 value, s1 error?]';
      assert.equal(s0Value, 'entering s0 value of Var 1 is: : undefined', `${expected}; ${explain(run)}`);
      assert.ok(s0Outcome?.startsWith('no error in s0'), `s0 must not raise an error; ${expected}; ${explain(run)}`);
      assert.equal(s1Value, 'entering s1, value of non-existent substructure of Var 1 is: : undefined', `${expected}; ${explain(run)}`);
      assert.ok(s1Outcome?.startsWith('No error in s1'), `s1 must not raise an error; ${expected}; ${explain(run)}`);
      assert.deepEqual(rest, [], `nothing else should be logged; ${explain(run)}`);
    },
  },
  {
    id: '313',
    mustDo:
      '`<assign location="Var1" expr="return"/>` is an illegal expression: the processor may reject the document, but if it runs it, it must raise error.execution (which leads to pass).',
    howChecked:
      '`check` flags the one expr/cond in the chart that does not compile with warning ORX0201 at its line; `run` loads the chart and reaches "pass" through error.execution.',
    check: () => checkIllFormedExpression('313'),
  },
  {
    id: '314',
    mustDo:
      'Same illegal `expr="return"`, but in s03, reached through s01 and s02: the processor may reject the document; if it runs it, no error may be raised before s03 evaluates the expression, and then error.execution must be raised (pass).',
    howChecked: 'As for 313: `check` flags the expression with warning ORX0201 at its line; `run` reaches "pass".',
    check: () => checkIllFormedExpression('314'),
  },
  {
    id: '178',
    mustDo:
      '`<send event="event1">` carries two `<param name="Var1">` (expr 2 and 3); on event1 it logs `_event.raw`, where both key/value pairs must be present even though the keys are the same.',
    howChecked:
      'The run ends in final "final" (not fail) and the logged `_event : …` value contains Var1 with 2, then Var1 again with 3.',
    check: async () => {
      const chart = chartOf('178');
      const params = [...readFileSync(chart, 'utf8').matchAll(/<param name="([^"]+)" expr="([^"]+)"\/>/g)].map((m) => [m[1], m[2]]);
      assert.equal(params.length, 2, `expected two <param>s in ${chart}`);
      const run = await runChart(chart);
      assertFinal(run, 'final');
      // The raw form is unspecified and may span lines, so take everything logged after the label.
      const output = run.logs.join('\n');
      const at = output.indexOf('_event : ');
      assert.ok(at >= 0, `_event.raw was not logged; ${explain(run)}`);
      const raw = output.slice(at + '_event : '.length);
      let pos = 0;
      for (const [name, value] of params) {
        const key = raw.indexOf(name, pos);
        const val = key < 0 ? -1 : raw.indexOf(value, key + name.length);
        assert.ok(val >= 0, `_event.raw must contain ${params.map(([n, v]) => `${n}=${v}`).join(' and ')} (both keys), got: ${raw}`);
        pos = val + value.length;
      }
    },
  },
  {
    id: '230',
    mustDo:
      'The invoked child sends childToParent to the parent, which has autoforward="true" and so forwards it back; both log the event\'s name, type, sendid, origin, origintype, invokeid and data, and the two printouts must be the same.',
    howChecked:
      'Each `<label>: value` line the chart logs appears exactly twice (parent and child) with identical values, name is childToParent, and the run ends in final "final" without logging `Outcome: fail`.',
    check: async () => {
      const chart = chartOf('230');
      const text = readFileSync(chart, 'utf8');
      const labels = [...new Set([...text.matchAll(/<log label="([^"]*)" expr="_event\.\w+"\/>/g)].map((m) => m[1]))];
      const sent = /<send target="#_parent" event="([^"]+)"/.exec(text)?.[1];
      assert.ok(labels.length === 7 && sent, `unexpected chart ${chart}`);
      const run = await runChart(chart);
      assertFinal(run, 'final'); // the parent's 3s timeout also ends in "final", so the log lines below are the evidence
      assert.ok(!run.logs.includes('Outcome: fail'), `the parent went to fail; ${explain(run)}`);
      for (const label of labels) {
        const values = valuesOf(run.logs, label);
        assert.equal(values.length, 2, `"${label}" must be logged by parent and child; ${explain(run)}`);
        assert.equal(values[0], values[1], `"${label}" differs between the two printouts: ${JSON.stringify(values)}; ${explain(run)}`);
      }
      assert.deepEqual(valuesOf(run.logs, 'name is '), [sent, sent], `both events must be named ${sent}`);
    },
  },
  {
    id: '250',
    mustDo:
      'The parent leaves the invoking state on its first event (foo), which cancels the child; the child\'s `<onexit>` handlers must still run, and it must not reach its final state.',
    howChecked:
      'The log is exactly `Exiting sub01`, `Exiting sub0` (exit order: innermost first), so never `entering final state, invocation was not cancelled`; run ends in final "final".',
    check: async () => {
      const run = await runChart(chartOf('250'));
      assertFinal(run, 'final');
      assert.deepEqual(run.logs, ['Exiting sub01', 'Exiting sub0'], `the cancelled child must run its onexit handlers, innermost first; ${explain(run)}`);
    },
  },
  {
    id: '513',
    mustDo:
      'Only a text description (test513.txt): POST a well-formed event (form data, `_scxmleventname` naming it) to the interpreter\'s BasicHTTP location; after queuing the event the processor must answer with a 2XX code.',
    howChecked:
      'A chart written by the test (the W3C ships none) logs `_ioprocessors[\'' +
      BASICHTTP +
      '\'].location`; the test POSTs `_scxmleventname=test&key1=value1&key2=value2` there (plus the `_scxmleventname: test` header of the .txt) and asserts a 2XX response and that the chart receives `test` and reaches "pass". Runs with `--clock real`. The automatic BasicHTTP tests (201, 509, 510, 518–534, 567, 577) cover the rest of D.2.',
    check: check513,
  },
];

/** Runs one manual check for the report, turning an assertion failure into a one-line reason. */
export async function runManualCheck(m: ManualCheck): Promise<{ outcome: 'pass' | 'fail'; reason?: string; durationMs: number }> {
  const started = Date.now();
  try {
    await m.check();
    return { outcome: 'pass', durationMs: Date.now() - started };
  } catch (err) {
    return { outcome: 'fail', reason: oneLine(err instanceof Error ? err.message : String(err), 300), durationMs: Date.now() - started };
  }
}
