import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Clock, TimerHandle } from '../runtime/clock.js';
import { parseDuration } from '../exec/duration.js';

/**
 * Where `run-scxml` gets events besides --event: an events file (--events, JSON Lines) and the
 * lines piped to stdin. Both accept the same JSON object per line:
 *
 *   {"name": "dial", "data": {"number": "5000"}, "delay": "2s"}
 *
 * `name` (required), `data` (any JSON, becomes _event.data), `delay` (milliseconds as a number,
 * or a CSS time such as "2s", "500ms", "1.5s"; "1m"/"1h" too). Blank lines and lines starting
 * with `#` are skipped. On stdin a line may also be `name` or `name=json`, as with --event.
 */
export interface EventLine {
  readonly name: string;
  readonly data: unknown;
  /** 0 when the line has no delay. */
  readonly delayMs: number;
}

export interface ScriptedEvent extends EventLine {
  /** 1-based line number in the events file. */
  readonly line: number;
}

/** The events file cannot be read, or one of its lines is not an event (message names file and line). */
export class EventsFileError extends Error {}

const FIELDS = ['name', 'data', 'delay'];
const EXAMPLE = '{"name":"go","data":{"n":1},"delay":"2s"}';

/** A delay: a number of milliseconds (≥ 0), a string of digits (milliseconds) or a CSS time ("2s", "500ms"). */
export function parseDelay(value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new Error(`the delay must be a number of milliseconds ≥ 0 or a time such as "2s", not ${JSON.stringify(value)}`);
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
    const ms = parseDuration(text);
    if (ms !== null) return ms;
  }
  throw new Error(`the delay must be a number of milliseconds ≥ 0 or a time such as "2s" or "500ms", not ${JSON.stringify(value)}`);
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !/^\S+$/.test(name)) {
    throw new Error(`"name" must be a non-empty event name without spaces, not ${JSON.stringify(name) ?? 'missing'}`);
  }
  return name;
}

/** One JSON event object; throws an Error saying what is wrong. */
export function parseEventJson(text: string): EventLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message}); expected an object like ${EXAMPLE}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`expected a JSON object like ${EXAMPLE}, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !FIELDS.includes(k));
  if (unknown.length) throw new Error(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: name, data, delay)`);
  if (!('name' in record)) throw new Error(`the event has no "name"; expected an object like ${EXAMPLE}`);
  return {
    name: checkName(record.name),
    data: record.data,
    delayMs: record.delay === undefined ? 0 : parseDelay(record.delay),
  };
}

/**
 * A line as typed or piped: blank or `#` comment → null; `{…}` → a JSON event object;
 * otherwise `name` or `name=json` as with --event. Throws an Error saying what is wrong.
 */
export function parseEventText(text: string): EventLine | null {
  const line = text.trim();
  if (line === '' || line.startsWith('#')) return null;
  if (line.startsWith('{')) return parseEventJson(line);
  const eq = line.indexOf('=');
  if (eq < 0) return { name: checkName(line), data: undefined, delayMs: 0 };
  const name = checkName(line.slice(0, eq));
  try {
    return { name, data: JSON.parse(line.slice(eq + 1)), delayMs: 0 };
  } catch (e) {
    throw new Error(`${line}: the data is not JSON (${(e as Error).message})`);
  }
}

/** Read and check a whole events file before anything runs. */
export function readEventsFile(file: string): ScriptedEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EventsFileError(`--events ${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const events: ScriptedEvent[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      events.push({ ...parseEventJson(line), line: i + 1 });
    } catch (e) {
      throw new EventsFileError(`${file}:${i + 1}: ${(e as Error).message}`);
    }
  });
  return events;
}

/**
 * Sends events on the engine's clock, each `delay` after the previous one of the same source
 * (the events file, or stdin) — or after now, if that is later (a line piped long after the
 * previous one counts from when it is read). So a file reads as a script ("wait 2s, send"),
 * and `run-scxml chart < file` behaves like `--events file`. Events with nothing to wait for
 * are sent at once; the others are timers of the engine clock, so they interleave with the
 * chart's own delayed sends in due-time order, on virtual time too.
 */
export class EventTimeline {
  private lastDue: number;
  /** Events waiting, in the order they were added (their due times never decrease). */
  private readonly waiting: { readonly due: number; readonly event: EventLine }[] = [];
  /**
   * One timer, for the first waiting event: timers of a real clock with different delays may fire
   * out of order (Node keeps a list per delay), and events must never overtake each other.
   */
  private timer: TimerHandle | null = null;

  constructor(private readonly clock: Clock, private readonly send: (event: EventLine) => void) {
    this.lastDue = clock.now();
  }

  add(event: EventLine): void {
    const now = this.clock.now();
    const due = Math.max(now, this.lastDue) + event.delayMs;
    this.lastDue = due;
    // Sent at once only when no earlier event is still waiting (order is kept).
    if (due <= now && this.waiting.length === 0) return this.send(event);
    this.waiting.push({ due, event });
    if (!this.timer) this.armForFirst();
  }

  private armForFirst(): void {
    const first = this.waiting[0];
    if (!first) return;
    this.timer = this.clock.setTimer(Math.max(0, first.due - this.clock.now()), () => {
      this.timer = null;
      // The first is due; so may be those after it (equal due times): all of them, in order.
      do this.send(this.waiting.shift()!.event);
      while (this.waiting.length && this.waiting[0]!.due <= this.clock.now());
      this.armForFirst();
    });
  }

  /** Drop what has not been sent yet. */
  cancel(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.waiting.length = 0;
  }
}

/**
 * Events from piped lines (stdin). Each line is parsed with parseEventText; a line that is not
 * an event is reported through onError (with its line number) and skipped. Resolves when the
 * input ends; the returned `stop` stops reading.
 */
export function readEventLines(
  input: Readable,
  onEvent: (event: EventLine, line: number) => void,
  onError: (message: string) => void,
): { ended: Promise<void>; stop: () => void } {
  const rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
  let n = 0;
  rl.on('line', (text) => {
    n++;
    let event: EventLine | null;
    try {
      event = parseEventText(text);
    } catch (e) {
      onError(`stdin:${n}: ${(e as Error).message} (line skipped)`);
      return;
    }
    if (event) onEvent(event, n);
  });
  const ended = new Promise<void>((resolve) => {
    rl.once('close', resolve);
    input.once('error', () => rl.close());
  });
  return { ended, stop: () => rl.close() };
}
