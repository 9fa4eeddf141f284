/** What both sandbox modes share: the system variables, limits and their messages. */
export const SYSTEM_VARIABLES: ReadonlySet<string> = new Set(['_event', '_sessionid', '_name', '_ioprocessors']);

export interface SandboxLimits {
  /** Time chart code may run in one macrostep (ms). */
  readonly timeMs: number;
  /** Heap of one session's datamodel in isolated mode (bytes). */
  readonly memoryBytes: number;
  /** Stack of one session's datamodel in isolated mode (bytes). */
  readonly stackBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { timeMs: 1000, memoryBytes: 16 * 1024 * 1024, stackBytes: 512 * 1024 };

export function runawayMessage(ms: number): string {
  return `runaway code stopped: chart code ran longer than ${ms} ms in one macrostep (limits.timeMs)`;
}

/** A host function's outcome as the JSON a bridge expects; it never throws. */
export function hostAnswer(run: () => unknown): string {
  try {
    const value = run();
    return JSON.stringify({ ok: true, value: value === undefined ? null : value });
  } catch (err) {
    return JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}

