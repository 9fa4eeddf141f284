import path from 'node:path';
import type { TraceEvent, TraceListener } from '../trace/trace-event.js';

/** --log-level: how much of the readable output is printed (the --json line and --trace are not affected). */
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function levelAtLeast(level: LogLevel, wanted: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(wanted);
}

/** Colour only on a terminal, and not when NO_COLOR is set to a non-empty value (no-color.org). */
export function colorWanted(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY === true && !env.NO_COLOR;
}

export interface Palette {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  magenta(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function palette(color: boolean): Palette {
  const sgr = (open: number, close: number) => (s: string) => (color ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), blue: sgr(34, 39), magenta: sgr(35, 39), cyan: sgr(36, 39),
    dim: sgr(2, 22), bold: sgr(1, 22),
  };
}

export interface SummaryOptions {
  /** Where a line goes (the CLI's stdout writer). */
  readonly write: (line: string) => void;
  readonly color: boolean;
  /** error: errors only; warn/info: + states, events, invokes, adapter requests; debug: + transitions, sends, macrosteps. */
  readonly level: LogLevel;
  /** Is this the session the command runs (its lines carry no tag; invoked sessions' lines do)? */
  readonly isRoot: (sessionId: string) => boolean;
}

/**
 * The readable summary `run-scxml` prints on a terminal: one line per thing worth seeing in the
 * trace (docs/reference/trace-format.md), with the clock time, coloured when allowed.
 *
 *      0.000s  start   hello.scxml
 *      0.000s  enter   idle
 *      1.500s  event   go
 *      1.500s  exit    idle
 *      1.500s  enter   done
 *      1.500s  end     final done
 *
 * `<log>` lines are not repeated: the CLI prints them itself.
 */
export class TraceSummary {
  readonly listener: TraceListener = (record) => this.record(record);
  private readonly c: Palette;
  private origin: number | null = null;
  private readonly tags = new Map<string, string>();
  private readonly tagsInUse = new Set<string>();
  /** Sessions that printed an `event` line in the macrostep now running. */
  private readonly eventSeen = new Set<string>();

  constructor(private readonly options: SummaryOptions) {
    this.c = palette(options.color);
  }

  private get info(): boolean {
    return levelAtLeast(this.options.level, 'info');
  }

  private get debug(): boolean {
    return levelAtLeast(this.options.level, 'debug');
  }

  private tag(session: string): string {
    if (this.options.isRoot(session)) return '';
    return this.tags.get(session) ?? `[${session.slice(0, 8)}] `;
  }

  private line(record: TraceEvent, kind: string, text: string, paint: (s: string) => string = (s) => s): void {
    if (this.origin === null) this.origin = record.t;
    const seconds = ((record.t - this.origin) / 1000).toFixed(3).padStart(8);
    const tag = this.tag(record.session);
    this.options.write(`${this.c.dim(`${seconds}s`)}  ${tag ? this.c.magenta(tag) : ''}${paint(kind.padEnd(8))}${text}`);
  }

  private record(r: TraceEvent): void {
    const c = this.c;
    switch (r.type) {
      case 'session.start': {
        if (!this.options.isRoot(r.session)) {
          let name = r.name ?? path.basename(r.chart, path.extname(r.chart));
          for (let i = 2; this.tagsInUse.has(name); i++) name = `${r.name ?? path.basename(r.chart, path.extname(r.chart))}#${i}`;
          this.tagsInUse.add(name);
          this.tags.set(r.session, `[${name}] `);
        }
        if (this.info) this.line(r, 'start', `${r.chart}${r.name ? c.dim(` (${r.name})`) : ''}`, c.bold);
        return;
      }
      case 'session.end': {
        if (r.status === 'final') {
          if (this.info) this.line(r, 'end', c.green(`final ${r.final ?? ''}`.trimEnd()), c.bold);
        } else if (r.status === 'error') {
          this.line(r, 'end', c.red(`error: ${r.message ?? ''}`), c.red);
        } else if (this.info) {
          this.line(r, 'end', r.status, c.bold);
        }
        this.eventSeen.delete(r.session);
        const tag = this.tags.get(r.session);
        if (tag) this.tagsInUse.delete(tag.slice(1, -2));
        this.tags.delete(r.session);
        return;
      }
      case 'enter':
        if (this.info) this.line(r, 'enter', r.state, c.green);
        return;
      case 'exit':
        if (this.info) this.line(r, 'exit', r.state, c.yellow);
        return;
      case 'microstep': {
        if (r.event !== null && this.info) {
          this.eventSeen.add(r.session);
          this.line(r, 'event', c.bold(r.event), c.cyan);
        }
        if (this.debug) {
          for (const t of r.transitions) {
            const targets = t.targets.length ? t.targets.join(' ') : '(targetless)';
            this.line(r, 'trans', `${t.source} → ${targets}${t.event.length ? ` on ${t.event.join(' ')}` : ''} ${c.dim(`at ${t.location}`)}`, c.dim);
          }
        }
        return;
      }
      case 'macrostep': {
        if (r.event !== null && !this.eventSeen.has(r.session) && this.info) this.line(r, 'event', `${c.bold(r.event)} ${c.dim('(no transition)')}`, c.cyan);
        this.eventSeen.delete(r.session);
        if (this.debug) this.line(r, 'config', `[${r.configuration.join(', ')}]`, c.dim);
        return;
      }
      case 'error':
        this.line(r, 'error', `${c.red(`${r.name}: ${r.message}`)}${r.location ? ` ${c.dim(`at ${r.location}`)}` : ''}`, c.red);
        return;
      case 'log':
        return; // printed by the CLI itself
      case 'invoke.start':
        if (this.info) this.line(r, 'invoke', `${r.invokeid} ${c.dim(`(${r.invoketype}${r.src ? ` ${r.src}` : ''})`)}`, c.blue);
        return;
      case 'invoke.done':
        if (this.info) this.line(r, 'invoke', `${r.invokeid} done`, c.blue);
        return;
      case 'invoke.cancel':
        if (this.info) this.line(r, 'invoke', `${r.invokeid} cancelled`, c.blue);
        return;
      case 'adapter.request':
        if (this.info) this.line(r, 'request', `${r.action} ${c.dim(`#${r.requestid}`)}`, c.blue);
        return;
      case 'adapter.response':
        if (this.info) this.line(r, 'reply', `${r.action} ${r.outcome === 'done' ? c.green('done') : c.red('error')} ${c.dim(`#${r.requestid}`)}`, c.blue);
        return;
      case 'send.scheduled':
        if (this.debug) this.line(r, 'send', `${r.event ?? '(no event)'} ${c.dim(`id ${r.sendid}, due at ${((r.due - (this.origin ?? r.t)) / 1000).toFixed(3)}s`)}`, c.dim);
        return;
      case 'send.fired':
        if (this.debug) this.line(r, 'send', `${r.event ?? '(no event)'}${r.target ? ` → ${r.target}` : ''} ${c.dim(`id ${r.sendid}, fired`)}`, c.dim);
        return;
      case 'send.cancelled':
        if (this.debug) this.line(r, 'send', `${c.dim(`id ${r.sendid}, cancelled`)}`, c.dim);
        return;
      default:
        return;
    }
  }
}
