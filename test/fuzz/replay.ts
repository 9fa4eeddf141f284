// Replays one chart and event sequence on Orchestrion and SCION and prints both, macrostep by
// macrostep:
//
//   node dist/test/fuzz/replay.js <file> [orx|scion]
//
// <file> holds the chart, then the steps as one JSON line (what explore.ts writes). SANDBOX
// (fast|isolated, default fast) picks Orchestrion's sandbox, STOCK=1 runs stock SCION.

import { readFileSync } from 'node:fs';
import type { Step } from './chart-gen.js';
import { OrchestrionRunner } from './harness.js';
import { runScion, scionModel } from './scion-oracle.js';

const text = readFileSync(process.argv[2], 'utf8').trimEnd();
const cut = text.lastIndexOf('\n');
const xml = text.slice(0, cut);
const steps = JSON.parse(text.slice(cut + 1)) as Step[];
const ids = [...xml.matchAll(/<(?:state|parallel|final|history)\s[^>]*\bid="([^"]+)"/g)].map((m) => m[1]);
const variables = [...xml.matchAll(/<data\s[^>]*\bid="([^"]+)"/g)].map((m) => m[1]);
const only = process.argv[3];

if (only !== 'scion') {
  const runner = await OrchestrionRunner.create(process.env.SANDBOX === 'isolated' ? 'isolated' : 'fast');
  const log = await runner.run(xml, steps, ids, variables);
  for (const m of log.macrosteps) console.log('Orchestrion', `[${m.config.join(' ')}]`, m.data);
  console.log('Orchestrion end', log.end, log.failure ?? '');
  await runner.close();
}
if (only !== 'orx') {
  const log = await runScion(await scionModel(xml), steps, ids, variables, { stock: !!process.env.STOCK });
  for (const m of log.macrosteps) console.log('SCION', `[${m.config.join(' ')}]`, m.data);
  console.log('SCION end', log.end, log.failure ?? '');
}
