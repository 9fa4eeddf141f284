import { createInterface, clearLine, cursorTo, type Interface } from 'node:readline';
import { VirtualClock, type TimerHandle } from '../runtime/clock.js';
import type { Engine } from '../runtime/engine.js';
import type { Session } from '../runtime/session.js';
import { formatValue } from './format-value.js';
import { parseDelay } from './event-sources.js';
import { palette, type Palette } from './summary.js';

/**
 * Virtual time for the interactive prompt: it stands still until `advance` moves it. The engine
 * jumps a virtual clock to the next timer whenever nothing else can run, except while an
 * operation is in flight (Engine.track); so the clock holds a tracked operation open. `step(ms)`
 * lets go of it: the engine then runs timers and the events they cause in due-time order,
 * exactly as it does on its own, but only up to now + ms; when nothing more falls due in that
 * window, time is set to its end and the hold is taken again.
 */
export class SteppedVirtualClock extends VirtualClock {
  private readonly live = new Set<TimerHandle>();
  private engine: Engine | null = null;
  private release: (() => void) | null = null;
  private limit = -Infinity;
  private stepDone: (() => void) | null = null;

  override setTimer(delayMs: number, fire: () => void): TimerHandle {
    const handle: TimerHandle = super.setTimer(delayMs, () => {
      this.live.delete(handle);
      fire();
    });
    this.live.add(handle);
    return handle;
  }

  override clearTimer(handle: TimerHandle): void {
    this.live.delete(handle);
    super.clearTimer(handle);
  }

  /** Start holding time for this engine (call once, before it first drains). */
  holdFor(engine: Engine): void {
    this.engine = engine;
    this.hold();
  }

  private hold(): void {
    if (!this.engine || this.release) return;
    void this.engine.track(new Promise<void>((resolve) => { this.release = resolve; }));
  }

  private nextDue(): number | null {
    let due: number | null = null;
    for (const h of this.live) if (due === null || h.due < due) due = h.due;
    return due;
  }

  override advanceToNext(): boolean {
    const due = this.nextDue();
    if (this.stepDone && due !== null && due <= this.limit) return super.advanceToNext();
    if (this.stepDone) {
      // Nothing more falls due in this step: time reaches its end and stands still again.
      super.advanceBy(Math.max(0, this.limit - this.now()));
      this.limit = -Infinity;
      this.hold();
      const done = this.stepDone;
      this.stepDone = null;
      done();
    }
    return false;
  }

  /** Move virtual time forward by `ms`, running what falls due (and what that causes) on the way. */
  step(ms: number): Promise<void> {
    if (this.stepDone || !this.release) return Promise.resolve();
    this.limit = this.now() + ms;
    return new Promise<void>((resolve) => {
      this.stepDone = resolve;
      const release = this.release!;
      this.release = null;
      release();
    });
  }
}

export interface PromptOptions {
  readonly input: NodeJS.ReadStream;
  readonly output: NodeJS.WriteStream;
  readonly color: boolean;
  readonly engine: Engine;
  readonly session: Session;
  /** Set when the run uses virtual time (the only case where `advance` works). */
  readonly clock: SteppedVirtualClock | null;
  /** The readable trace summary: is it on, and turn it on or off (`trace on|off`). */
  readonly summary: { readonly on: boolean; set(on: boolean): void };
}

const COMMANDS = ['send', 'config', 'eval', 'vars', 'advance', 'trace', 'help', 'quit', 'exit'];
/** System variables (W3C 5.10): not shown by `vars`. */
const SYSTEM_VARIABLES = new Set(['_event', '_sessionid', '_name', '_ioprocessors', '_x', 'In']);

/** A value as the prompt shows it: strings quoted (so "42" and 42 differ), the rest as <log> prints it. */
function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : formatValue(value);
}

const HELP = `Commands:
  send <name> [json]     send an external event (data: JSON, e.g. send dial {"number":"5000"})
  <name> [json]          the same, when the name is not a command
  config                 the active configuration
  eval <expr>            the value of a datamodel expression
  vars                   the top-level datamodel variables
  advance <ms|time>      move virtual time forward (--clock virtual), e.g. advance 2s
  trace on|off           show or hide the readable trace of what the session does
  help                   this list
  quit                   stop the session and end the run (also Ctrl-D, Ctrl-C)`;

/**
 * The interactive prompt of `run-scxml` when stdin is a terminal (node:readline). The run ends
 * on `quit` (the `quit` promise resolves) or when the CLI sees the session end and calls close().
 */
export class InteractivePrompt {
  readonly quit: Promise<void>;
  private resolveQuit!: () => void;
  private readonly rl: Interface;
  private readonly c: Palette;
  private closed = false;
  /** The prompt is on screen (and must be cleared before anything else is printed). */
  private shown = false;
  private redrawScheduled = false;
  /** Commands typed and not finished: the prompt comes back when they are done. */
  private busy = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: PromptOptions) {
    this.c = palette(options.color);
    this.quit = new Promise((resolve) => { this.resolveQuit = resolve; });
    const eventNames = [...new Set(options.session.chart.transitions.flatMap((t) => t.events))]
      .filter((e) => e !== '*' && !e.endsWith('.*') && !e.startsWith('done.') && !e.startsWith('error.')).sort();
    this.rl = createInterface({
      input: options.input,
      output: options.output,
      terminal: true,
      prompt: this.c.bold('scxml> '),
      historySize: 200,
      completer: (line: string): [string[], string] => {
        const words = line.split(/\s+/);
        if (words.length > 2 || (words.length === 2 && words[0] !== 'send' && words[0] !== 'trace')) return [[], line];
        const word = words[words.length - 1];
        const pool = words.length === 1 ? [...COMMANDS, ...eventNames] : words[0] === 'trace' ? ['on', 'off'] : eventNames;
        return [pool.filter((w) => w.startsWith(word)), word];
      },
    });
    this.rl.on('line', (line) => {
      this.shown = false;
      this.busy++;
      this.queue = this.queue.then(() => this.handle(line)).finally(() => {
        this.busy--;
        if (this.busy === 0) this.showPrompt();
      });
    });
    this.rl.on('SIGINT', () => this.requestQuit());
    this.rl.on('close', () => this.requestQuit());
  }

  /** Print the greeting and the first prompt. */
  start(): void {
    const time = this.options.clock ? 'virtual time stands still until you `advance` it' : 'real time';
    this.print(this.c.dim(`Interactive session on ${this.options.session.chart.file} (${time}). Type 'help' for commands.`));
    this.showPrompt();
  }

  /** A writer that prints above the prompt and shows the prompt again afterwards. */
  wrap(write: (line: string) => void): (line: string) => void {
    return (line) => {
      if (this.closed) return write(line);
      this.clearPrompt();
      write(line);
      this.scheduleRedraw();
    };
  }

  /** Print a reply on the prompt's terminal. */
  print(line: string): void {
    this.wrap((l) => this.options.output.write(`${l}\n`))(line);
  }

  /** The run is over: say why, and give the terminal back. */
  close(message?: string): void {
    if (this.closed) return;
    this.clearPrompt();
    if (message) this.options.output.write(`${message}\n`);
    this.closed = true;
    this.rl.close();
  }

  private requestQuit(): void {
    if (this.closed) return;
    this.resolveQuit();
  }

  private clearPrompt(): void {
    if (!this.shown) return;
    clearLine(this.options.output, 0);
    cursorTo(this.options.output, 0);
    this.shown = false;
  }

  private showPrompt(): void {
    if (this.closed || this.shown) return;
    this.rl.prompt(true);
    this.shown = true;
  }

  private scheduleRedraw(): void {
    if (this.redrawScheduled) return;
    this.redrawScheduled = true;
    setImmediate(() => {
      this.redrawScheduled = false;
      if (this.busy === 0) this.showPrompt();
    });
  }

  private error(message: string): void {
    this.print(this.c.red(`error: ${message}`));
  }

  private async handle(input: string): Promise<void> {
    const line = input.trim();
    if (line === '' || this.closed) return;
    const space = line.search(/\s/);
    const command = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1).trim();
    const { session } = this.options;
    switch (command) {
      case 'help':
        for (const l of HELP.split('\n')) this.print(l);
        return;
      case 'quit':
      case 'exit':
        this.requestQuit();
        return;
      case 'config':
        this.print(session.isDone ? `[] ${this.c.dim(`(the session has ended: ${session.status})`)}` : `[${session.configuration.join(', ')}]`);
        return;
      case 'vars': {
        if (session.isDone) return this.error(`the session has ended (${session.status})`);
        const vars = Object.entries(session.dm.variables()).filter(([name]) => !SYSTEM_VARIABLES.has(name));
        if (vars.length === 0) this.print(this.c.dim('(no variables)'));
        for (const [name, value] of vars) this.print(`${this.c.cyan(name)} = ${show(value)}`);
        return;
      }
      case 'eval': {
        if (!rest) return this.error('eval needs an expression, e.g. eval count + 1');
        try {
          const value = session.evaluateExpression(rest);
          this.print(show(value));
        } catch (e) {
          this.error((e as Error).message);
        }
        return;
      }
      case 'advance': {
        const { clock } = this.options;
        if (!clock) {
          return this.error('advance works with --clock virtual only: on real time (this run), delays take their time by themselves');
        }
        if (!rest) return this.error('advance needs a duration: milliseconds (advance 1500) or a time (advance 2s, advance 500ms)');
        let ms: number;
        try {
          ms = parseDelay(rest);
        } catch (e) {
          return this.error((e as Error).message.replace(/^the delay/, 'the duration'));
        }
        await clock.step(ms);
        this.print(this.c.dim(`time is now ${(clock.now() / 1000).toFixed(3)}s`));
        return;
      }
      case 'trace': {
        const { summary } = this.options;
        if (rest === 'on' || rest === 'off') {
          summary.set(rest === 'on');
          this.print(this.c.dim(`trace ${rest}`));
        } else if (rest === '') {
          this.print(this.c.dim(`trace is ${summary.on ? 'on' : 'off'} (trace on|off)`));
        } else {
          this.error(`trace takes on or off, not '${rest}'`);
        }
        return;
      }
      case 'send':
        if (!rest) return this.error('send needs an event name, e.g. send go or send dial {"number":"5000"}');
        return this.send(rest);
      default:
        return this.send(line);
    }
  }

  /** `name`, `name json` or `name=json`. */
  private async send(text: string): Promise<void> {
    const m = /^([^\s=]+)(?:\s*=\s*|\s+)?(.*)$/s.exec(text);
    if (!m) return this.error(`not an event: ${text}`);
    const [, name, json] = m;
    let data: unknown;
    if (json.trim() !== '') {
      try {
        data = JSON.parse(json);
      } catch (e) {
        return this.error(`the data of ${name} is not JSON (${(e as Error).message}); strings need quotes: ${name} "text"`);
      }
    }
    const { session } = this.options;
    if (session.isDone) return this.error(`the session has ended (${session.status})`);
    session.send(name, data);
    // With the trace summary on, its `event` line says it; otherwise a short acknowledgement.
    if (!this.options.summary.on) this.print(this.c.dim(`sent ${name}${data === undefined ? '' : ` ${JSON.stringify(data)}`}`));
    // Let the engine take the event before the prompt comes back (its output comes first).
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
}
