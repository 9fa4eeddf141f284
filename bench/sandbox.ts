// Sandbox benchmark: condition evaluations per second and memory per idle session, in each mode.
// Run with `npm run bench` (needs --expose-gc, which the script passes).
import { createEngine, type CompiledChart, type Engine } from '../src/index.js';

const CHART = `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript" initial="idle">
  <datamodel><data id="count" expr="0"/><data id="limit" expr="1000000"/><data id="caller" expr="'1001'"/></datamodel>
  <state id="idle">
    <transition event="ping" cond="count &lt; limit" target="busy"><assign location="count" expr="count + 1"/></transition>
  </state>
  <state id="busy"><transition event="pong" target="idle"/></state>
</scxml>`;

export interface SandboxFigures {
  readonly mode: 'fast' | 'isolated';
  readonly condsPerSecond: number;
  readonly sessions: number;
  /**
   * JS heap bytes of the datamodel's own state per session, and of a whole idle session
   * (datamodel, configuration, queues). Resident memory, QuickJS's included, is measured by the
   * start workload, over more sessions: differences of resident memory over these counts are
   * noise (the heap's own growth and release dominate them).
   */
  readonly sandboxHeapBytesPerSession: number;
  readonly heapBytesPerSession: number;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with node --expose-gc (npm run bench does)');
  g();
  g();
}

function condsPerSecond(engine: Engine, chart: CompiledChart): number {
  const cond = chart.code.find((c) => c.kind === 'cond')!;
  const session = engine.start(chart);
  session.startNow();
  const dm = session.dm;
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < 1_000_000_000n) {
    dm.beginMacrostep(); // each batch is one macrostep's worth of budget
    for (let i = 0; i < 10_000; i++) dm.test(cond);
    n += 10_000;
    elapsed = process.hrtime.bigint() - start;
  }
  session.stop();
  return Math.round(n / (Number(elapsed) / 1e9));
}

/** Bytes per live item made by `make` (JS heap, and resident memory for the WebAssembly heap of QuickJS). */
async function heapBytesPerItem<T>(count: number, make: () => T, settle: () => Promise<void>, release: (item: T) => void): Promise<number> {
  gc();
  const before = process.memoryUsage();
  const items: T[] = [];
  for (let i = 0; i < count; i++) items.push(make());
  await settle();
  gc();
  const after = process.memoryUsage();
  items.forEach(release);
  return Math.round((after.heapUsed - before.heapUsed) / count);
}

export async function benchSandbox(mode: 'fast' | 'isolated'): Promise<SandboxFigures> {
  const engine = createEngine({ sandbox: mode, clock: 'virtual' });
  await engine.ready();
  const { chart } = engine.load({ xml: CHART, file: 'bench-sandbox.scxml' });
  if (!chart) throw new Error('bench chart does not load');
  const rate = condsPerSecond(engine, chart);
  const sessions = mode === 'fast' ? 10_000 : 1_000;
  // The sandbox's own state per session (scope, realm objects or QuickJS runtime)...
  const model = engine.chartDataModel(chart);
  const system = { sessionid: 'bench', name: null, ioprocessors: () => ({}), In: () => false, defineModuleVariable() { /* none */ } };
  const sandboxHeap = await heapBytesPerItem(sessions, () => model.createSession(system), async () => {}, (dm) => dm.dispose());
  // ...and a whole idle session started by the engine.
  const heap = await heapBytesPerItem(sessions, () => engine.start(chart), () => engine.whenIdle(), (s) => s.stop());
  await engine.close();
  return {
    mode, condsPerSecond: rate, sessions,
    sandboxHeapBytesPerSession: sandboxHeap, heapBytesPerSession: heap,
  };
}
