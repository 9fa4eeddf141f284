/**
 * Time, injectable. The algorithm never reads it; the runtime uses it for delayed sends and
 * timeouts. The virtual clock jumps to the next due timer when nothing else can run, which
 * makes delayed-event charts run instantly and deterministically.
 */
export interface Clock {
  readonly kind: 'real' | 'virtual';
  now(): number;
  setTimer(delayMs: number, fire: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Timers set and neither fired nor cleared. */
  readonly pendingTimers: number;
}

export interface TimerHandle {
  readonly due: number;
}

export class RealClock implements Clock {
  readonly kind = 'real';
  private readonly live = new Map<TimerHandle, NodeJS.Timeout>();
  now(): number {
    return Date.now();
  }
  setTimer(delayMs: number, fire: () => void): TimerHandle {
    const handle: TimerHandle = { due: Date.now() + delayMs };
    this.live.set(handle, setTimeout(() => {
      this.live.delete(handle);
      fire();
    }, Math.max(0, delayMs)));
    return handle;
  }
  clearTimer(handle: TimerHandle): void {
    const t = this.live.get(handle);
    if (t) clearTimeout(t);
    this.live.delete(handle);
  }
  get pendingTimers(): number {
    return this.live.size;
  }
}

interface VirtualTimer extends TimerHandle {
  readonly seq: number;
  readonly fire: () => void;
}

export class VirtualClock implements Clock {
  readonly kind = 'virtual';
  private time: number;
  private seq = 0;
  /** Kept sorted by (due, seq): few timers are live at once, inserts are binary-searched. */
  private readonly timers: VirtualTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }
  now(): number {
    return this.time;
  }
  setTimer(delayMs: number, fire: () => void): TimerHandle {
    const timer: VirtualTimer = { due: this.time + Math.max(0, delayMs), seq: this.seq++, fire };
    let lo = 0, hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const t = this.timers[mid];
      if (t.due < timer.due || (t.due === timer.due && t.seq < timer.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, timer);
    return timer;
  }
  clearTimer(handle: TimerHandle): void {
    const i = this.timers.indexOf(handle as VirtualTimer);
    if (i >= 0) this.timers.splice(i, 1);
  }
  get pendingTimers(): number {
    return this.timers.length;
  }
  /** Jump to the earliest due time and fire every timer due then. False when none is pending. */
  advanceToNext(): boolean {
    const first = this.timers[0];
    if (!first) return false;
    this.time = Math.max(this.time, first.due);
    while (this.timers.length && this.timers[0].due <= this.time) this.timers.shift()!.fire();
    return true;
  }
  /** Move time forward by `ms`, firing what falls due on the way. */
  advanceBy(ms: number): void {
    const end = this.time + ms;
    while (this.timers.length && this.timers[0].due <= end) {
      this.time = Math.max(this.time, this.timers[0].due);
      this.timers.shift()!.fire();
    }
    this.time = end;
  }
}
