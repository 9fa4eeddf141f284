// Engines made by a test file, all closed when the file ends: a failed test must not leave a
// timer, listener or session holding the process.
import { after } from 'node:test';
import { createEngine, type Engine } from '../../src/index.js';

const engines: Engine[] = [];

after(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

export function newEngine(options?: Parameters<typeof createEngine>[0]): Engine {
  const engine = createEngine(options);
  engines.push(engine);
  return engine;
}
