// Runs a chart and an event sequence on Orchestrion (SCION: scion-oracle.ts) and records, after every
// macrostep, the full active configuration (every active state the chart names: SCION's
// getFullConfiguration() and Orchestrion's Session.configuration both report ancestors; ids that
// either engine generates for itself are left out) and the datamodel.
//
// Time is virtual on both sides and driven by the same TimerQueue logic: a step is an external
// event, or an advance of time during which due timers fire one at a time, each followed by every
// macrostep it causes. On SCION, <send> goes through `customSend`: a send without delay enters the
// external queue, which the harness drains after each macrostep (SCION's gen() is synchronous).

import { createEngine, type Engine, type Session, type TraceEvent } from '../../src/index.js';
import { SteppedClock } from './stepped-clock.js';
import type { Step } from './chart-gen.js';


export interface Observation {
  /** Sorted ids of the active states. */
  readonly config: string[];
  /** Canonical JSON of the compared variables. */
  readonly data: string;
}

export interface RunLog {
  /** One per macrostep, the initial one first. */
  readonly macrosteps: Observation[];
  /** How the session ended: 'final' with the datamodel after the exit, or null when still running. */
  end: { readonly status: string; readonly data: string; readonly message?: string } | null;
  /** Anything unexpected (an exception escaping the API, an internal error). */
  failure: string | null;
}

/** Canonical JSON: keys sorted, undefined as null. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (v === undefined) return null;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) out[key] = (v as Record<string, unknown>)[key];
      return out;
    }
    return v;
  });
}

export function pickVariables(all: Record<string, unknown>, names: readonly string[]): string {
  const out: Record<string, unknown> = {};
  for (const n of names) out[n] = all[n] === undefined ? null : JSON.parse(JSON.stringify(all[n]) ?? 'null');
  return canonical(out);
}

/* ---------- Orchestrion ---------- */

/**
 * An engine for many runs, replaced every RECYCLE runs so that a long campaign's memory does not
 * depend on when V8 gets round to freeing the realms of charts no longer used (each run compiles a
 * new chart: ~0.4 MB of realm in fast mode; see test/regressions: chart-retention).
 */
export class OrchestrionRunner {
  private static readonly RECYCLE = 100;
  engine!: Engine;
  clock!: SteppedClock;
  private runs = 0;
  private constructor(readonly sandbox: 'fast' | 'isolated') {}

  static async create(sandbox: 'fast' | 'isolated'): Promise<OrchestrionRunner> {
    const runner = new OrchestrionRunner(sandbox);
    await runner.renew();
    return runner;
  }

  private async renew(): Promise<void> {
    if (this.engine) await this.engine.close();
    this.clock = new SteppedClock();
    this.engine = createEngine({ clock: this.clock, sandbox: this.sandbox, limits: { maxMicrosteps: 10_000 } });
    if (this.sandbox === 'isolated') await this.engine.ready();
  }

  async run(xml: string, steps: readonly Step[], stateIds: readonly string[], variables: readonly string[]): Promise<RunLog> {
    if (++this.runs % OrchestrionRunner.RECYCLE === 0) await this.renew();
    return runOrchestrion(this, xml, steps, stateIds, variables);
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

export async function runOrchestrion(
  runner: { engine: Engine; clock: SteppedClock }, xml: string, steps: readonly Step[], stateIds: readonly string[], variables: readonly string[],
): Promise<RunLog> {
  const { engine, clock } = runner;
  const ids = new Set(stateIds);
  const log: RunLog = { macrosteps: [], end: null, failure: null };
  const { chart, diagnostics } = engine.load({ xml });
  if (!chart) {
    log.failure = `load failed: ${diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('; ')}`;
    return log;
  }
  let session: Session | null = null;
  try {
    session = engine.start(chart);
    const s = session;
    s.on((ev: TraceEvent) => {
      if (ev.type === 'macrostep') {
        log.macrosteps.push({ config: ev.configuration.filter((x) => ids.has(x)).sort(), data: pickVariables(s.dm.variables(), variables) });
      } else if (ev.type === 'session.end') {
        let data = '';
        try { data = pickVariables(s.dm.variables(), variables); } catch (err) { data = `<unreadable: ${(err as Error).message}>`; }
        log.end = { status: ev.status, data, ...(ev.message ? { message: ev.message } : {}) };
        if (ev.status === 'error' && ev.message?.startsWith('internal error')) log.failure = ev.message;
      }
    });
    await engine.whenIdle();
    for (const step of steps) {
      if (s.isDone) break;
      if (step.kind === 'event') {
        s.send(step.name, step.data);
        await engine.whenIdle();
      } else {
        const end = clock.now() + step.ms;
        while (!s.isDone && clock.queue.fireNext(end)) await engine.whenIdle();
        clock.queue.setTime(end);
      }
    }
  } catch (err) {
    log.failure = `exception escaped the API: ${(err as Error).stack ?? String(err)}`;
  } finally {
    if (session && !session.isDone) session.stop();
    // timers of a stopped session are cleared; drop any leftover so the next run starts clean
    while (clock.queue.size) clock.queue.fireNext(Infinity);
    await engine.whenIdle();
  }
  return log;
}

