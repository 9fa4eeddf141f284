import diagnostics_channel from 'node:diagnostics_channel';
import { TRACE_CHANNEL, type TraceBody, type TraceListener } from './trace-event.js';

/**
 * Fans trace records out to listeners and to node:diagnostics_channel. `active` is checked before
 * a record is built, so an engine nobody traces pays one boolean test per would-be record.
 */
export class Tracer {
  private readonly listeners = new Set<TraceListener>();
  private readonly channel = diagnostics_channel.channel(TRACE_CHANNEL);

  constructor(private readonly now: () => number) {}

  get active(): boolean {
    return this.listeners.size > 0 || this.channel.hasSubscribers;
  }

  on(listener: TraceListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  emit(session: string, body: TraceBody): void {
    const record = { t: this.now(), session, ...body };
    for (const l of this.listeners) l(record);
    if (this.channel.hasSubscribers) this.channel.publish(record);
  }
}
