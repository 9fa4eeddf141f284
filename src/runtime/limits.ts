/** Runaway protection: a chart that never stabilises ends with an error naming the limit. */
export interface Limits {
  /** Microsteps in one macrostep. */
  readonly maxMicrosteps: number;
  /** Events waiting in one session's internal or external queue. */
  readonly maxQueueLength: number;
}

export const DEFAULT_LIMITS: Limits = { maxMicrosteps: 100_000, maxQueueLength: 100_000 };

export class LimitExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimitExceededError';
  }
}
