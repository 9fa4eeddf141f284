import fc from 'fast-check';
import { chartArbitrary, stepsArbitrary, type GChart, type Step } from './chart-gen.js';
import { OrchestrionRunner } from './harness.js';
import { runScion, scionModel } from './scion-oracle.js';
import { compareRuns } from './compare.js';

const N = Number(process.env.N ?? 50);
const seed = Number(process.env.SEED ?? 1);
const runner = await OrchestrionRunner.create((process.env.SANDBOX as 'fast') ?? 'fast');
import { writeFileSync } from 'node:fs';
async function check(chart: GChart, steps: Step[]) {
  writeFileSync('/tmp/scratch/current.txt', chart.xml + '\n' + JSON.stringify(steps));
  const orx = await runner.run(chart.xml, steps, chart.stateIds, chart.variables);
  const sc = await runScion(await scionModel(chart.xml), steps, chart.stateIds, chart.variables, { stock: !!process.env.STOCK });
  return { d: compareRuns(orx, sc), orx, sc };
}
const t0 = Date.now();
const res = await fc.check(fc.asyncProperty(chartArbitrary(), stepsArbitrary, async (c, s) => (await check(c, s)).d === null), { numRuns: N, seed, path: process.env.FCPATH });
if (res.failed) {
  const [c, s] = res.counterexample!;
  const r = await check(c, s);
  console.log(c.xml, JSON.stringify(s));
  console.log(r.d);
  console.log('ORX', JSON.stringify(r.orx.macrosteps), JSON.stringify(r.orx.end));
  console.log('SC ', JSON.stringify(r.sc.macrosteps), JSON.stringify(r.sc.end));
  console.log('seed', res.seed, 'path', res.counterexamplePath, 'runs', res.numRuns);
}
console.log('ms', Date.now() - t0);
await runner.close();
