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

/**
 * stackBytes stays well below what the host thread can give the WebAssembly code running
 * QuickJS: a QuickJS stack larger than that overflows the host first, which breaks the runtime.
 */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { timeMs: 1000, memoryBytes: 16 * 1024 * 1024, stackBytes: 256 * 1024 };
export const MAX_STACK_BYTES = 256 * 1024;

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

