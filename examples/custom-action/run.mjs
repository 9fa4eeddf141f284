// node examples/custom-action/run.mjs — registers <acme:greet> and runs greeting.scxml.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, formatDiagnostic } from 'orchestrion';
import { greetAction } from './greet-action.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const engine = createEngine({ actions: [greetAction], onLog: (e) => console.log(`${e.label}: ${e.value}`) });
const { chart, diagnostics } = engine.load(path.join(here, 'greeting.scxml'));
if (!chart) {
  for (const d of diagnostics) console.error(formatDiagnostic(d));
  process.exit(2);
}
const result = await engine.start(chart).done;
console.log(`final: ${result.final}`);
await engine.close();
process.exitCode = result.final === 'done' ? 0 : 1;
