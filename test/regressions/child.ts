// Runs one regression case in a process of its own, so a case that hangs the engine (or blows
// its stack or heap) cannot take the test runner with it. Prints one JSON line on stdout.
//
//   child.js run <chart> <fast|isolated> [events-json]
//   child.js load-after-session <chart>
//   child.js retention <chart> <fast|isolated> <charts>

import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEngine, formatDiagnostic, VirtualClock, type Engine } from '../../src/index.js';

const [mode, chartPath, sandboxArg, extra] = process.argv.slice(2);
const sandbox = sandboxArg === 'isolated' ? 'isolated' : 'fast';

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function newEngine(): Promise<Engine> {
  const engine = createEngine({ clock: new VirtualClock(), sandbox });
  if (sandbox === 'isolated') await engine.ready();
  return engine;
}

async function run(): Promise<void> {
  const engine = await newEngine();
  const { chart, diagnostics } = engine.load({ path: chartPath });
  if (!chart) return print({ loaded: false, diagnostics: diagnostics.map(formatDiagnostic) });
  const session = engine.start(chart);
  await engine.whenIdle();
  for (const e of JSON.parse(extra ?? '[]') as { name: string; data?: unknown }[]) {
    session.send(e.name, e.data);
    await engine.whenIdle();
  }
  const result = session.isDone ? await session.done : null;
  print({ loaded: true, status: session.status, configuration: result?.configuration ?? session.configuration, message: result?.message ?? null });
  await engine.close();
}

async function loadAfterSession(): Promise<void> {
  const engine = await newEngine();
  // any session first: the engine is in the state a running server is in
  const warm = engine.load({ xml: '<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript"><state id="a"/></scxml>' });
  engine.start(warm.chart!);
  await engine.whenIdle();
  try {
    const { chart, diagnostics } = engine.load({ path: chartPath });
    print({ threw: null, chart: chart !== null, diagnostics: diagnostics.map(formatDiagnostic) });
  } catch (err) {
    print({ threw: `${(err as Error).name}: ${(err as Error).message}` });
  }
  await engine.close();
}

async function retention(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const engine = await newEngine();
  const text = readFileSync(chartPath, 'utf8');
  const count = Number(extra ?? 300);
  // V8 frees a disposed vm context (a fast-mode realm) only after several full collections: two
  // are not enough, and then every realm of the run looks retained. Collect until the heap stops
  // shrinking.
  const heap = () => {
    let used = Infinity;
    for (let i = 0; i < 20; i++) {
      gc();
      const now = process.memoryUsage().heapUsed;
      if (i >= 4 && now > used - 100_000) return now;
      used = now;
    }
    return used;
  };
  const runOne = async (i: number) => {
    const { chart } = engine.load({ xml: `${text}<!-- variant ${i} -->\n` });
    const session = engine.start(chart!);
    await engine.whenIdle();
    session.send('go');
    await engine.whenIdle();
    await session.done;
  };
  for (let i = 0; i < 20; i++) await runOne(-1 - i); // warm up
  const before = heap();
  for (let i = 0; i < count; i++) await runOne(i);
  const after = heap();
  print({ charts: count, growthMB: Math.round((after - before) / 1e5) / 10, perChartKB: Math.round((after - before) / count / 1024) });
  await engine.close();
}

const modes: Record<string, () => Promise<void>> = { run, 'load-after-session': loadAfterSession, retention };
const fn = modes[mode];
if (!fn) {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
await fn();
