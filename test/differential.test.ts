// Differential testing against SCION: random well-formed charts (chart-gen.ts) and random event
// sequences run on Orchestrion, in both sandbox modes, under a virtual clock, and on SCION (one
// prepared model per session) corrected for its known departures from the W3C Recommendation
// (scion-oracle.ts, docs/conformance.md, SCION's departures). After every macrostep the full active
// configuration (every active state of the chart, ancestors included) and the datamodel must agree.
//
// FUZZ_RUNS (default 150) sets the number of charts, FUZZ_SEED the seed (printed on failure with
// the fast-check path, for replay). A disagreement is shrunk to a small chart; put it, with its
// events, under test/regressions/ (see test/regressions.test.ts).
//
// The second part reads the SCION section of docs/conformance.md and checks each departure it lists: Orchestrion
// gives the Recommendation's outcome, stock SCION still departs, and the corrected oracle agrees
// with the Recommendation.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { chartArbitrary, stepsArbitrary, type Step } from './fuzz/chart-gen.js';
import { OrchestrionRunner, type RunLog } from './fuzz/harness.js';
import { runScion, scionModel } from './fuzz/scion-oracle.js';
import { compareRuns } from './fuzz/compare.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DOC = path.resolve(here, '..', '..', 'docs', 'conformance.md');
/** The hand-written part of DOC that lists SCION's departures. */
const DEPARTURES_HEADING = "## SCION's departures from the W3C Recommendation";
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? 20250901);

let fast: OrchestrionRunner;
let isolated: OrchestrionRunner;
before(async () => {
  fast = await OrchestrionRunner.create('fast');
  isolated = await OrchestrionRunner.create('isolated');
});
after(async () => {
  await fast.close();
  await isolated.close();
});

describe('differential: random charts, Orchestrion against SCION', () => {
  test(`${RUNS} random charts with event sequences (seed ${SEED}), fast and isolated sandboxes`, { timeout: Math.max(120_000, RUNS * 2_000) }, async (t) => {
    const stats = { charts: 0, macrosteps: 0, ended: 0, configurations: new Set<string>() };
    await fc.assert(
      fc.asyncProperty(chartArbitrary(), stepsArbitrary, async (chart, steps) => {
        const reference = await runScion(await scionModel(chart.xml), steps, chart.stateIds, chart.variables);
        for (const runner of [fast, isolated]) {
          const orx = await runner.run(chart.xml, steps, chart.stateIds, chart.variables);
          const d = compareRuns(orx, reference);
          if (d) {
            throw new Error(
              `${runner.sandbox} sandbox, macrostep ${d.macrostep}: ${d.what}\n` +
              `--- chart (binding ${chart.binding}) ---\n${chart.xml}--- steps ---\n${JSON.stringify(steps)}\n` +
              `--- Orchestrion ---\n${orx.macrosteps.map((m) => `[${m.config.join(' ')}] ${m.data}`).join('\n')}\n` +
              `--- SCION (corrected) ---\n${reference.macrosteps.map((m) => `[${m.config.join(' ')}] ${m.data}`).join('\n')}`,
            );
          }
        }
        stats.charts++;
        stats.macrosteps += reference.macrosteps.length;
        if (reference.end) stats.ended++;
        for (const m of reference.macrosteps) stats.configurations.add(m.config.join(' '));
      }),
      { numRuns: RUNS, seed: SEED, includeErrorInReport: true },
    );
    t.diagnostic(`${stats.charts} charts, ${stats.macrosteps} macrosteps compared (x2 sandboxes), ${stats.ended} sessions reached a top-level final, ${stats.configurations.size} distinct configurations`);
  });
});

/* ---------- the departures documented in docs/conformance.md (SCION's departures) ---------- */

interface Outcome {
  readonly config: readonly string[];
  readonly ended: boolean;
  readonly data: Record<string, unknown>;
}
interface Check {
  readonly steps: Step[];
  readonly variables: string[];
  readonly spec: Outcome;
  readonly scion: Outcome;
  readonly oracle: 'corrected' | 'filtered';
}
interface Departure {
  readonly id: string;
  readonly title: string;
  readonly xml: string;
  readonly check: Check;
}

function departures(): Departure[] {
  const whole = readFileSync(DOC, 'utf8');
  const at = whole.indexOf(DEPARTURES_HEADING);
  assert.ok(at >= 0, `${DOC} has no section '${DEPARTURES_HEADING}'`);
  const text = whole.slice(at);
  const out: Departure[] = [];
  for (const section of text.split(/^### /m).slice(1)) {
    const heading = /^(D\d+) — (.*)$/m.exec(section);
    const xml = /```xml\n([\s\S]*?)```/.exec(section);
    const check = /<!-- check: (\{[\s\S]*?\}) -->/.exec(section);
    if (!heading || !xml || !check) continue;
    out.push({ id: heading[1], title: heading[2], xml: xml[1], check: JSON.parse(check[1]) as Check });
  }
  return out;
}

function outcome(log: RunLog, variables: readonly string[]): Outcome {
  assert.equal(log.failure, null, log.failure ?? '');
  const last = log.macrosteps[log.macrosteps.length - 1];
  const ended = log.end?.status === 'final';
  const data = JSON.parse(ended ? log.end!.data : last.data) as Record<string, unknown>;
  return { config: last.config, ended, data: Object.fromEntries(variables.map((v) => [v, data[v]])) };
}

const stateIdsOf = (xml: string) => [...xml.matchAll(/<(?:state|parallel|final|history)\s[^>]*\bid="([^"]+)"/g)].map((m) => m[1]);

describe('SCION departures (docs/conformance.md)', () => {
  const list = departures();
  test('the page lists its departures with charts and checks', () => {
    assert.ok(list.length >= 10, `only ${list.length} departures with a check found in ${DOC}`);
  });

  for (const { id, title, xml, check } of list) {
    test(`${id}: ${title}`, async () => {
      const ids = stateIdsOf(xml);
      for (const runner of [fast, isolated]) {
        const orx = outcome(await runner.run(xml, check.steps, ids, check.variables), check.variables);
        assert.deepEqual(orx, check.spec, `Orchestrion (${runner.sandbox}) does not give the Recommendation's outcome`);
      }
      const model = await scionModel(xml);
      const stock = outcome(await runScion(model, check.steps, ids, check.variables, { stock: true }), check.variables);
      assert.deepEqual(stock, check.scion, 'stock SCION no longer behaves as documented: update the SCION section of docs/conformance.md');
      assert.notDeepEqual(check.scion, check.spec);
      if (check.oracle === 'corrected') {
        const corrected = outcome(await runScion(model, check.steps, ids, check.variables), check.variables);
        assert.deepEqual(corrected, check.spec, 'the corrected oracle does not give the Recommendation\'s outcome');
      }
    });
  }
});
