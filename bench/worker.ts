// One benchmark case in a fresh process (run.ts starts one per case, so that JIT state, heap
// and RSS figures never carry over between engines):
//   node --expose-gc dist/bench/worker.js <case> [--quick]
// Prints progress, then one line `RESULT <json rows>`.
import { deepMachine, DEEP_SCXML, pingPongMachine, PINGPONG_SCXML, startMachine, START_SCXML } from './charts.js';
import { orchestrionDrivers, scionDriver, xstateDriver, type Driver } from './drivers.js';
import { benchPrivateService } from './privateservice.js';
import { benchCharges } from './charges.js';
import { benchSandbox } from './sandbox.js';
import { check, fanIn, fanInSetup, gc, startSessions, throughput, type Row } from './workloads.js';

export interface Sizes {
  /** Events per timed run (ping/pong, deep), fast engines and isolated mode. */
  readonly events: number;
  readonly isolatedEvents: number;
  readonly reps: number;
  /** Sessions started (start workload). */
  readonly start: number;
  readonly startIsolated: number;
  readonly startScion: number;
  /** Live sessions (fan-in). */
  readonly fanin: number;
  readonly faninIsolated: number;
  readonly faninScion: number;
  readonly faninRounds: number;
  readonly latencySamples: number;
  readonly privateService: number;
  readonly privateServiceIsolated: number;
}

export const SIZES: { full: Sizes; quick: Sizes } = {
  full: {
    events: 200_000, isolatedEvents: 30_000, reps: 3,
    start: 10_000, startIsolated: 2_000, startScion: 2_000,
    fanin: 100_000, faninIsolated: 2_000, faninScion: 5_000, faninRounds: 3, latencySamples: 20_000,
    privateService: 20_000, privateServiceIsolated: 4_000,
  },
  quick: {
    events: 40_000, isolatedEvents: 5_000, reps: 3,
    start: 2_000, startIsolated: 200, startScion: 300,
    fanin: 10_000, faninIsolated: 300, faninScion: 500, faninRounds: 2, latencySamples: 2_000,
    privateService: 2_000, privateServiceIsolated: 500,
  },
};

const DEEP_ENTERED = 'a1,a2,a3,b1,b2,b3';

async function verifyDeep(d: Driver<any>, s: unknown): Promise<void> {
  const entered = (await d.enteredBy(s, 'go')).sort().join();
  check(entered === DEEP_ENTERED, `${d.engine}: one 'go' entered ${entered || 'nothing'}, not ${DEEP_ENTERED}`);
  const config = d.configuration(s).filter((x) => /^[ab]3$/.test(x)).sort().join();
  check(config === 'a3,b3', `${d.engine}: the deep chart rests in ${config}`);
}

async function verifyPingPong(d: Driver<any>, s: unknown): Promise<void> {
  check(d.configuration(s).join() === 'ping', `${d.engine}: ping/pong starts in ${d.configuration(s).join()}`);
}

type Workload = 'pingpong' | 'deep';
const CHARTS = {
  pingpong: { scxml: PINGPONG_SCXML, machine: pingPongMachine, event: 'tick', verify: verifyPingPong, counts: true },
  deep: { scxml: DEEP_SCXML, machine: deepMachine, event: 'go', verify: verifyDeep, counts: false },
} as const;

async function eventThroughput(workload: Workload, engine: string, mode: 'fast' | 'isolated', z: Sizes): Promise<Row[]> {
  const c = CHARTS[workload];
  const o = { event: c.event, events: mode === 'isolated' ? z.isolatedEvents : z.events, reps: z.reps, verify: c.verify, counts: c.counts };
  if (engine === 'orchestrion') {
    const { api, sync } = await orchestrionDrivers(c.scxml, { mode });
    const s = api.create();
    await api.settle();
    const rows = [await throughput(workload, api, s, o), await throughput(workload, sync, s, o)];
    await api.close();
    return rows;
  }
  const d: Driver<any> = engine === 'scion' ? await scionDriver(c.scxml) : xstateDriver(c.machine);
  const s = await d.create();
  return [await throughput(workload, d, s, o)];
}

async function start(engine: string, variant: string, z: Sizes): Promise<Row[]> {
  let d: Driver<any>;
  let count = z.start;
  const notes: string[] = [];
  if (engine === 'orchestrion') {
    const mode = variant.startsWith('isolated') ? 'isolated' : 'fast';
    d = (await orchestrionDrivers(START_SCXML, { mode, modules: !variant.endsWith('bare') })).api;
    if (mode === 'isolated') count = z.startIsolated;
  } else if (engine === 'scion') {
    d = await scionDriver(START_SCXML, variant === 'shared');
    if (variant !== 'shared') {
      count = z.startScion;
      notes.push(`${count.toLocaleString('en')} sessions: each prepares its own model (a vm context) so that datamodels are not shared`);
    } else notes.push('reference only: these sessions share one datamodel, which is not a correct SCXML session');
  } else d = xstateDriver(startMachine);
  // A first batch of the same size warms the process up (JIT, and the young generation growing to
  // its working size, a one-time cost of some megabytes): the second batch is measured.
  const { row } = await startSessions(d, count, count);
  return [{ ...row, notes: [...row.notes, ...notes] }];
}

async function fanin(engine: string, mode: 'fast' | 'isolated', z: Sizes): Promise<Row[]> {
  const o = { rounds: z.faninRounds, burst: 1_000, latencySamples: z.latencySamples };
  const rows: Row[] = [];
  if (engine === 'orchestrion') {
    const { api, sync } = await orchestrionDrivers(PINGPONG_SCXML, { mode });
    const count = mode === 'isolated' ? z.faninIsolated : z.fanin;
    const setup = await fanInSetup(api, count);
    const sent = new Int32Array(count);
    rows.push(await fanIn(api, setup.sessions, sent, { ...o, sessions: count }, setup.perSecond, setup.memory));
    rows.push(await fanIn(sync, setup.sessions, sent, { ...o, sessions: count }, setup.perSecond, setup.memory));
    await api.close();
  } else {
    const d: Driver<any> = engine === 'scion' ? await scionDriver(PINGPONG_SCXML) : xstateDriver(pingPongMachine);
    const count = engine === 'scion' ? z.faninScion : z.fanin;
    const setup = await fanInSetup(d, count);
    const row = await fanIn(d, setup.sessions, new Int32Array(count), { ...o, sessions: count }, setup.perSecond, setup.memory);
    if (engine === 'scion') row.notes.push(`${count.toLocaleString('en')} sessions, each with its own prepared model (vm context): ${z.fanin.toLocaleString('en')} would need about ${Math.round(z.fanin * setup.memory.heap / 2 ** 30)} GiB of heap`);
    rows.push(row);
  }
  return rows;
}

export async function runCase(name: string, quick: boolean): Promise<Row[]> {
  const z = quick ? SIZES.quick : SIZES.full;
  const [workload, engine, ...rest] = name.split(':');
  const variant = rest.join(':') || 'fast';
  switch (workload) {
    case 'pingpong': case 'deep': return eventThroughput(workload, engine, variant as 'fast' | 'isolated', z);
    case 'start': return start(engine, variant, z);
    case 'fanin': return fanin(engine, variant as 'fast' | 'isolated', z);
    case 'privateservice': {
      const mode = variant as 'fast' | 'isolated';
      const n = mode === 'isolated' ? z.privateServiceIsolated : z.privateService;
      return [await benchPrivateService(mode, n, 1), await benchPrivateService(mode, n, 100)];
    }
    case 'charges': {
      const n = quick ? 500 : 5000;
      return [await benchCharges(variant as 'json' | 'soap', n, 16)];
    }
    case 'sandbox': {
      const f = await benchSandbox(variant as 'fast' | 'isolated');
      return [{ workload: 'sandbox', engine: 'orchestrion', variant, figures: { ...f } as unknown as Record<string, number>, notes: [] }];
    }
    default: throw new Error(`unknown case ${name}`);
  }
}

if (process.argv[1]?.endsWith('worker.js')) {
  const name = process.argv[2];
  const quick = process.argv.includes('--quick');
  gc();
  const rows = await runCase(name, quick);
  process.stdout.write(`RESULT ${JSON.stringify(rows)}\n`);
  // Live sessions, vm contexts and QuickJS runtimes need not be torn down one by one.
  process.exit(0);
}
