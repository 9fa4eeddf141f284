import { readFileSync } from 'node:fs';
import { VARIABLES } from './chart-gen.js';
import { OrchestrionRunner } from './harness.js';
import { runScion, scionModel } from './scion-oracle.js';
const [xml, stepsJson] = readFileSync(process.argv[2], 'utf8').split('\n\n');
const steps = JSON.parse(stepsJson);
const ids = [...xml.matchAll(/id="(s\d+)"/g)].map((m) => m[1]);
const vars = Object.keys(VARIABLES);
if (process.argv[3] !== 'scion') {
  const runner = await OrchestrionRunner.create((process.env.SANDBOX as 'fast') ?? 'fast');
  console.time('orx');
  const orx = await runner.run(xml, steps, ids, vars);
  console.timeEnd('orx');
  for (const m of orx.macrosteps) console.log('ORX', m.config.join(' '), m.data);
  console.log('ORX end', orx.end, orx.failure);
  await runner.close();
}
if (process.argv[3] !== 'orx') {
  console.time('scion');
  const sc = await runScion(await scionModel(xml), steps, ids, vars, { stock: !!process.env.STOCK });
  console.timeEnd('scion');
  for (const m of sc.macrosteps) console.log('SC ', m.config.join(' '), m.data);
  console.log('SC end', sc.end, sc.failure);
}
