// The workloads, each written once over the Driver interface (drivers.ts).
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Driver } from './drivers.js';

/** One measured figure set: what run.ts prints, compares and writes to results.json. */
export interface Row {
  readonly workload: 'pingpong' | 'deep' | 'start' | 'fanin' | 'privateservice' | 'charges' | 'sandbox';
  readonly engine: 'orchestrion' | 'scion' | 'xstate';
  readonly variant: string;
  readonly figures: Record<string, number>;
  readonly notes: string[];
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with node --expose-gc (npm run bench does)');
  g();
  g();
}

const now = (): bigint => process.hrtime.bigint();
/** CPU seconds used by this process (all threads: the GC's helpers too). */
const cpuSeconds = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const seconds = (from: bigint): number => Number(now() - from) / 1e9;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`benchmark check failed: ${what}`);
}

/** Send `n` events to one session, settling every `batch` (the engine drains between bursts). */
async function pump<S>(d: Driver<S>, s: S, event: string, n: number, batch: number): Promise<number> {
  const t0 = now();
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    for (let j = 0; j < m; j++) d.send(s, event);
    const p = d.settle();
    if (p) await p;
  }
  return seconds(t0);
}

/** A settled Driver.create() (SCION's per-session model is prepared asynchronously). */
async function createOne<S>(d: Driver<S>): Promise<S> {
  const r = d.create();
  return r instanceof Promise ? await r : r;
}

async function settle<S>(d: Driver<S>): Promise<void> {
  const p = d.settle();
  if (p) await p;
}

export interface ThroughputOptions {
  readonly event: string;
  readonly events: number;
  readonly reps: number;
  /** Verify the chart's semantics on this engine before timing (throws when wrong). */
  readonly verify: (d: Driver<any>, s: any) => Promise<void>;
  /** Whether `count` must equal the events delivered (ping/pong). */
  readonly counts: boolean;
}

/**
 * Events per second on one live session: a warm-up of a quarter of the events, then `reps`
 * timed runs of `events` events; the median run is reported.
 */
export async function throughput<S>(workload: Row['workload'], d: Driver<S>, s: S, o: ThroughputOptions): Promise<Row> {
  await o.verify(d, s);
  // The session may have run events before (the other Orchestrion path, on the same session).
  let sent = o.counts ? Number(d.read(s, 'count')) : 0;
  const batch = 10_000;
  sent += o.events >> 2;
  await pump(d, s, o.event, o.events >> 2, batch);
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let r = 0; r < o.reps; r++) {
    const c0 = cpuSeconds();
    const t = await pump(d, s, o.event, o.events, batch);
    cpuRates.push(o.events / (cpuSeconds() - c0));
    sent += o.events;
    rates.push(o.events / t);
  }
  const notes: string[] = [];
  if (o.counts) {
    const count = Number(d.read(s, 'count'));
    check(count === sent, `${d.engine} (${d.variant}) counted ${count} of ${sent} events`);
    notes.push(`count checked: ${count.toLocaleString('en')} events, ${count.toLocaleString('en')} conds and assigns`);
  }
  return {
    workload, engine: d.engine, variant: d.variant,
    figures: {
      eventsPerSecond: Math.round(median(rates)), eventsPerCpuSecond: Math.round(median(cpuRates)),
      events: o.events, reps: o.reps, bestEventsPerSecond: Math.round(Math.max(...rates)),
    },
    notes,
  };
}

/**
 * Bytes per item since `before`: JS heap in use; external memory (QuickJS's WebAssembly memory
 * in isolated mode, committed as it grows); and resident memory (everything, noisier).
 */
export interface Bytes { readonly heap: number; readonly external: number; readonly rss: number }
function bytesSince(before: NodeJS.MemoryUsage, count: number): Bytes {
  const after = process.memoryUsage();
  return {
    heap: Math.round((after.heapUsed - before.heapUsed) / count),
    external: Math.round((after.external - before.external) / count),
    rss: Math.round((after.rss - before.rss) / count),
  };
}
const byteFigures = (b: Bytes) => ({ heapBytesPerSession: b.heap, externalBytesPerSession: b.external, rssBytesPerSession: b.rss });

/**
 * Sessions per second: create and start `count` sessions of the 10-state chart (all started
 * when the engine settles), kept alive; then heap bytes per live session after a full GC.
 */
export async function startSessions<S>(d: Driver<S>, count: number, warm: number): Promise<{ row: Row; sessions: S[] }> {
  const warmed: S[] = [];
  for (let i = 0; i < warm; i++) warmed.push(await createOne(d));
  await settle(d);
  gc();
  const before = process.memoryUsage();
  const sessions: S[] = new Array(count);
  const t0 = now();
  const c0 = cpuSeconds();
  for (let i = 0; i < count; i++) {
    const r = d.create();
    sessions[i] = r instanceof Promise ? await r : r;
  }
  await settle(d);
  const t = seconds(t0);
  const cpu = cpuSeconds() - c0;
  await nextTurn();
  gc();
  const bytes = bytesSince(before, count);
  const last = sessions[count - 1];
  check(d.configuration(last).join() === 's0', `${d.engine}: a started session is in ${d.configuration(last).join()}, not s0`);
  d.send(last, 'next');
  await settle(d);
  check(Number(d.read(last, 'step')) === 1 && d.configuration(last).join() === 's1', `${d.engine}: a started session does not run`);
  return {
    row: {
      workload: 'start', engine: d.engine, variant: d.variant,
      figures: { sessionsPerSecond: Math.round(count / t), sessionsPerCpuSecond: Math.round(count / cpu), sessions: count, ...byteFigures(bytes) },
      notes: [],
    },
    sessions: [...warmed, ...sessions],
  };
}

export interface FanInOptions {
  readonly sessions: number;
  /** Timed rounds over every session (after one warm-up round). */
  readonly rounds: number;
  /** Events delivered between two settles (the engine drains between bursts). */
  readonly burst: number;
  readonly latencySamples: number;
}

/** Make `count` live sessions, in chunks that each settle; returns them and the setup rate. */
export async function makeSessions<S>(d: Driver<S>, count: number): Promise<{ sessions: S[]; perSecond: number }> {
  const sessions: S[] = new Array(count);
  const t0 = now();
  for (let i = 0; i < count; i += 5000) {
    const end = Math.min(count, i + 5000);
    for (let j = i; j < end; j++) sessions[j] = await createOne(d);
    await settle(d);
  }
  return { sessions, perSecond: Math.round(count / seconds(t0)) };
}

/**
 * Fan-in over live sessions of the ping/pong chart: events delivered round-robin, one per session
 * per round (events/s); then the latency of single events to sessions spread over the set, each
 * timed from delivery to processed (Orchestrion api: until the engine is idle again).
 */
export async function fanIn<S>(d: Driver<S>, sessions: S[], sent: Int32Array, o: FanInOptions, setupPerSecond: number, memory: Bytes): Promise<Row> {
  const n = sessions.length;
  const round = async (): Promise<number> => {
    const t0 = now();
    for (let i = 0; i < n; i++) {
      d.send(sessions[i], 'tick');
      sent[i]++;
      if ((i + 1) % o.burst === 0) await settle(d);
    }
    await settle(d);
    return seconds(t0);
  };
  await round();
  let time = 0;
  const c0 = cpuSeconds();
  for (let r = 0; r < o.rounds; r++) time += await round();
  const cpu = cpuSeconds() - c0;
  const lat = new Float64Array(o.latencySamples);
  for (let j = 0; j < o.latencySamples; j++) {
    const i = (j * 7919) % n;
    const t0 = now();
    d.send(sessions[i], 'tick');
    const p = d.settle();
    if (p) await p;
    lat[j] = Number(now() - t0) / 1e3;
    sent[i]++;
  }
  lat.sort();
  for (const i of [0, n >> 1, n - 1]) {
    const count = Number(d.read(sessions[i], 'count'));
    check(count === sent[i], `${d.engine} (${d.variant}) session ${i} counted ${count} of ${sent[i]} events`);
  }
  const usage = process.memoryUsage();
  return {
    workload: 'fanin', engine: d.engine, variant: d.variant,
    figures: {
      sessions: n,
      eventsPerSecond: Math.round((n * o.rounds) / time),
      eventsPerCpuSecond: Math.round((n * o.rounds) / cpu),
      p50LatencyUs: round2(lat[Math.floor(lat.length * 0.5)]),
      p99LatencyUs: round2(lat[Math.floor(lat.length * 0.99)]),
      maxLatencyUs: round2(lat[lat.length - 1]),
      rssBytes: usage.rss,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      ...byteFigures(memory),
      setupSessionsPerSecond: setupPerSecond,
    },
    notes: [`${o.rounds} timed rounds of ${n.toLocaleString('en')} events (bursts of ${o.burst.toLocaleString('en')}), latency over ${o.latencySamples.toLocaleString('en')} single events`],
  };
}

export async function fanInSetup<S>(d: Driver<S>, count: number): Promise<{ sessions: S[]; perSecond: number; memory: Bytes }> {
  gc();
  const before = process.memoryUsage();
  const { sessions, perSecond } = await makeSessions(d, count);
  await nextTurn();
  gc();
  return { sessions, perSecond, memory: bytesSince(before, count) };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
