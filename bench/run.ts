// `npm run bench`: every benchmark, printed and written to bench/results.json.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchSandbox } from './sandbox.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsFile = path.resolve(here, '..', '..', 'bench', 'results.json');

const machine = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) };
const sandbox = [];
for (const mode of ['fast', 'isolated'] as const) {
  const f = await benchSandbox(mode);
  sandbox.push(f);
  const b = (n: number) => `${n.toLocaleString('en')} B`;
  console.log(`sandbox ${mode.padEnd(8)} ${f.condsPerSecond.toLocaleString('en')} conds/s; per session (${f.sessions.toLocaleString('en')} live): `
    + `sandbox state ${b(f.sandboxHeapBytesPerSession)} heap + ${b(f.sandboxNativeBytesPerSession)} native; `
    + `whole idle session ${b(f.heapBytesPerSession)} heap + ${b(f.nativeBytesPerSession)} native`);
}
writeFileSync(resultsFile, `${JSON.stringify({ date: new Date().toISOString(), machine, sandbox }, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), resultsFile)}`);
