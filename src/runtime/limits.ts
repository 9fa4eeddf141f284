import { DEFAULT_SANDBOX_LIMITS } from '../datamodel/ecmascript/sandbox-common.js';

/** Runaway protection: a chart that never stabilises ends with an error naming the limit. */
export interface Limits {
  /** Microsteps in one macrostep. */
  readonly maxMicrosteps: number;
  /** Events waiting in one session's internal or external queue. */
  readonly maxQueueLength: number;
  /** Time chart code may run in one macrostep before it is stopped (ms). */
  readonly timeMs: number;
  /** Heap of one session's datamodel, isolated sandbox only (bytes). */
  readonly memoryBytes: number;
  /** Stack of one session's datamodel, isolated sandbox only (bytes). */
  readonly stackBytes: number;
}

export const DEFAULT_LIMITS: Limits = { maxMicrosteps: 100_000, maxQueueLength: 100_000, ...DEFAULT_SANDBOX_LIMITS };

export class LimitExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimitExceededError';
  }
}
