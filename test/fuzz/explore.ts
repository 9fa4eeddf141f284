// A long differential campaign from the command line (test/differential.test.ts runs a short one):
//
//   npx tsc -p . && N=10000 SEED=1 node dist/test/fuzz/explore.js
//
// Environment: N charts (default 1000), SEED (default 1), SANDBOX fast|isolated|both (default
// both), DEPTH of the state tree (default 3), STEPS per event sequence (default 10), STOCK=1 to
// compare with stock SCION (its departures then show up at once), FCPATH to replay a
// counterexample path printed by an earlier run, CURRENT=<file> to write each chart before it
// runs (when a run hangs, that file holds the culprit). On a disagreement the shrunk chart and
// steps are printed, and written to OUT (default differential-counterexample.txt) in the format
// replay.ts reads.

import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { chartArbitrary, stepsArbitraryOf, type GChart, type Step } from './chart-gen.js';
import { OrchestrionRunner } from './harness.js';
import { runScion, scionModel } from './scion-oracle.js';
import { compareRuns, type Disagreement } from './compare.js';

const N = Number(process.env.N ?? 1000);
const SEED = Number(process.env.SEED ?? 1);
const sandbox = process.env.SANDBOX;
const modes: ('fast' | 'isolated')[] = sandbox === 'fast' || sandbox === 'isolated' ? [sandbox] : ['fast', 'isolated'];
const runners = await Promise.all(modes.map((m) => OrchestrionRunner.create(m)));

async function check(chart: GChart, steps: Step[]): Promise<{ d: Disagreement | null; report: string }> {
  if (process.env.CURRENT) writeFileSync(process.env.CURRENT, `${chart.xml}\n${JSON.stringify(steps)}\n`);
  const sc = await runScion(await scionModel(chart.xml), steps, chart.stateIds, chart.variables, { stock: !!process.env.STOCK });
  for (const runner of runners) {
    const orx = await runner.run(chart.xml, steps, chart.stateIds, chart.variables);
    const d = compareRuns(orx, sc);
    if (d) {
      const lines = (log: typeof orx) => log.macrosteps.map((m) => `  [${m.config.join(' ')}] ${m.data}`).join('\n');
      return { d, report: `${runner.sandbox}: macrostep ${d.macrostep}: ${d.what}\nOrchestrion:\n${lines(orx)}\nSCION:\n${lines(sc)}` };
    }
  }
  return { d: null, report: '' };
}

const started = Date.now();
const result = await fc.check(
  fc.asyncProperty(chartArbitrary({ depth: Number(process.env.DEPTH ?? 3) }), stepsArbitraryOf(Number(process.env.STEPS ?? 10)), async (c, s) => (await check(c, s)).d === null),
  { numRuns: N, seed: SEED, path: process.env.FCPATH },
);
if (result.failed && result.counterexample) {
  const [chart, steps] = result.counterexample;
  const { report } = await check(chart, steps);
  const out = process.env.OUT ?? 'differential-counterexample.txt';
  writeFileSync(out, `${chart.xml}\n${JSON.stringify(steps)}\n`);
  console.log(`${chart.xml}\n${JSON.stringify(steps)}\n${report}`);
  console.log(`seed ${result.seed}, path ${result.counterexamplePath}, after ${result.numRuns} charts; chart and steps written to ${out}`);
} else {
  console.log(`${result.numRuns} charts (seed ${SEED}, ${modes.join(' and ')}): no disagreement`);
}
console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const r of runners) await r.close();
process.exit(result.failed ? 1 : 0);
