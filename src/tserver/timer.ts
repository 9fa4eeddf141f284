/**
 * The time source the T-Server side uses (simulated switches, request latency). Deliberately
 * minimal and structural: the engine's Clock (src/runtime/clock.ts) satisfies it, and so does a
 * thin wrapper around setTimeout. Nothing in src/tserver reads the wall clock directly, so the
 * simulated switch runs deterministically under a virtual clock.
 */
export interface SwitchTimer {
  /** Current time in ms (only differences matter; it stamps log entries). */
  now(): number;
  /** Call `fire` once after `ms` milliseconds; the handle cancels it. */
  setTimer(ms: number, fire: () => void): object;
  clearTimer(handle: object): void;
}

/** A SwitchTimer on the process's real clock (Date.now and setTimeout). */
export function realTimer(): SwitchTimer {
  return {
    now: () => Date.now(),
    setTimer: (ms, fire) => setTimeout(fire, Math.max(0, ms)),
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}
