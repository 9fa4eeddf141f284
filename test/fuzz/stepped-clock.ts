// A virtual clock the test drives one timer at a time.
//
// The engine jumps a VirtualClock to the next due timer whenever nothing else can run. For
// differential testing we need more control: external events must interleave with pending
// delayed sends, and timers due at the same instant must fire one by one with the engine idle in
// between, exactly as the SCION harness fires them. This clock never advances by itself: it
// extends VirtualClock (so the engine treats it as virtual time) but its advanceToNext() never
// moves, and it reports no pending timer to the engine, so `engine.whenIdle()` resolves as soon as
// every queued event has been processed. The harness moves time with fireNext()/advanceTo().

import { VirtualClock, type Clock, type TimerHandle } from '../../src/index.js';

interface Timer extends TimerHandle {
  readonly seq: number;
  readonly fire: () => void;
}

/** Timers kept in (due, seq) order; shared logic for the Orchestrion clock and the SCION harness. */
export class TimerQueue {
  private time = 0;
  private seq = 0;
  private readonly timers: Timer[] = [];

  now(): number {
    return this.time;
  }
  add(delayMs: number, fire: () => void): TimerHandle {
    const timer: Timer = { due: this.time + Math.max(0, delayMs), seq: this.seq++, fire };
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1].due > timer.due || (this.timers[i - 1].due === timer.due && this.timers[i - 1].seq > timer.seq))) i--;
    this.timers.splice(i, 0, timer);
    return timer;
  }
  remove(handle: TimerHandle): void {
    const i = this.timers.indexOf(handle as Timer);
    if (i >= 0) this.timers.splice(i, 1);
  }
  get size(): number {
    return this.timers.length;
  }
  /** Due time of the earliest timer, or null. */
  nextDue(): number | null {
    return this.timers.length ? this.timers[0].due : null;
  }
  /** Fire the earliest timer if it is due at or before `limit` (time moves to its due time). */
  fireNext(limit: number): boolean {
    const first = this.timers[0];
    if (!first || first.due > limit) return false;
    this.timers.shift();
    this.time = Math.max(this.time, first.due);
    first.fire();
    return true;
  }
  /** Time reaches `t` (no timer fires: call fireNext first). */
  setTime(t: number): void {
    this.time = Math.max(this.time, t);
  }
}

export class SteppedClock extends VirtualClock implements Clock {
  readonly queue = new TimerQueue();

  override now(): number {
    return this.queue.now();
  }
  override setTimer(delayMs: number, fire: () => void): TimerHandle {
    return this.queue.add(delayMs, fire);
  }
  override clearTimer(handle: TimerHandle): void {
    this.queue.remove(handle);
  }
  /** The engine must not count our timers: it would wait for them in whenIdle(). */
  override get pendingTimers(): number {
    return 0;
  }
  /** Timers still set (for the harness). */
  get liveTimers(): number {
    return this.queue.size;
  }
  override advanceToNext(): boolean {
    return false;
  }
  override advanceBy(ms: number): void {
    const end = this.queue.now() + ms;
    while (this.queue.fireNext(end)) { /* fire in due order */ }
    this.queue.setTime(end);
  }
}
