// ixn:privateservice round trips on the simulated switch, under a virtual clock, on a topology
// where every DN answers at once (bench/topology.json): the time is the engine's, the
// interaction module's and the simulator's, never a simulated delay.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, createSimulatedSwitches, loadTopology, VirtualClock, type Session } from '../src/index.js';
import type { SimRequestEntry } from '../src/tserver/sim/index.js';
import { privateServiceScxml } from './charts.js';
import { check, type Row } from './workloads.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BENCH_TOPOLOGY = path.resolve(here, '..', '..', 'bench', 'topology.json');

/**
 * `concurrency` calls, each controlled by its own session, which routes its call to agent 9000
 * and then sends `requests / concurrency` Advice of Charge requests one after the other.
 * Requests per second over the whole run (routing included: one request in many).
 */
export async function benchPrivateService(mode: 'fast' | 'isolated', requests: number, concurrency: number): Promise<Row> {
  const clock = new VirtualClock();
  const sims = createSimulatedSwitches(loadTopology(BENCH_TOPOLOGY), clock);
  const waiting: Session[] = [];
  const engine = createEngine({ sandbox: mode, clock, adapters: sims, ixn: { onInbound: () => waiting.shift() ?? null } });
  await engine.ready();
  const perSession = Math.ceil(requests / concurrency);
  const { chart, diagnostics } = engine.load({ xml: privateServiceScxml(perSession), file: 'bench-privateservice.scxml' });
  if (!chart) throw new Error(`privateservice chart does not load: ${JSON.stringify(diagnostics)}`);
  const sessions: Session[] = [];
  for (let c = 0; c < concurrency; c++) sessions.push(engine.start(chart));
  waiting.push(...sessions);
  await engine.whenIdle();
  const t0 = process.hrtime.bigint();
  for (let c = 0; c < concurrency; c++) sims[0].inboundCall(String(1000 + c), '5000');
  clock.advanceBy(0); // the switch's events wait on a 0 ms timer; the engine moves virtual time while it drains
  const results = await Promise.all(sessions.map((s) => s.done));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const total = perSession * concurrency;
  for (const r of results) check(r.final === 'done', `privateservice session ended in ${r.final ?? r.status}: ${r.message ?? ''}`);
  const accepted = sims[0].log.filter((e): e is SimRequestEntry => e.type === 'request' && e.kind === 'privateservice' && e.result === 'accepted').length;
  const aoc = sims[0].log.filter((e) => e.type === 'sipinfo').length;
  check(accepted === total && aoc === total, `the switch accepted ${accepted} and sent ${aoc} AoC of ${total} requests`);
  await engine.close();
  sims.forEach((s) => s.dispose());
  return {
    workload: 'privateservice', engine: 'orchestrion', variant: `${mode}, ${concurrency} call${concurrency > 1 ? 's' : ''} at once`,
    figures: { requestsPerSecond: Math.round(total / seconds), requests: total, concurrency, virtualMs: clock.now() },
    notes: [`checked: ${accepted.toLocaleString('en')} requests accepted and ${aoc.toLocaleString('en')} AoC SIP INFOs sent by the switch`],
  };
}
