import type { CallEvent, CallInfo, TServerAdapter } from './adapter.js';

/** A listener on every registered adapter: the event and the adapter (switch) it came from. */
export type RegistryListener = (event: CallEvent, adapter: TServerAdapter) => void;

/**
 * The T-Servers the engine knows: one adapter per switch, addressed by switch name. Lookups
 * follow registration order, so when two switches claim a DN the first registered wins.
 */
export class AdapterRegistry {
  private readonly adapters = new Map<string, TServerAdapter>();
  private readonly unsubscribers = new Map<string, () => void>();
  private readonly listeners = new Set<RegistryListener>();

  constructor(adapters: Iterable<TServerAdapter> = []) {
    for (const adapter of adapters) this.register(adapter);
  }

  /** Add a switch's adapter. Throws when an adapter for that switch is already registered. */
  register(adapter: TServerAdapter): void {
    const name = adapter.switchName;
    if (this.adapters.has(name)) throw new Error(`an adapter for switch '${name}' is already registered`);
    this.adapters.set(name, adapter);
    this.unsubscribers.set(name, adapter.onEvent((event) => this.deliver(event, adapter)));
  }

  /** Remove a switch's adapter (and stop relaying its events). False when there was none. */
  unregister(switchName: string): boolean {
    const had = this.adapters.delete(switchName);
    this.unsubscribers.get(switchName)?.();
    this.unsubscribers.delete(switchName);
    return had;
  }

  get(switchName: string): TServerAdapter | undefined {
    return this.adapters.get(switchName);
  }

  has(switchName: string): boolean {
    return this.adapters.has(switchName);
  }

  /** Every adapter, in registration order. */
  all(): readonly TServerAdapter[] {
    return [...this.adapters.values()];
  }

  /** The adapter of the (first registered) switch that has the DN. */
  switchOfDn(dn: string): TServerAdapter | undefined {
    for (const adapter of this.adapters.values()) if (adapter.hasDn(dn)) return adapter;
    return undefined;
  }

  /** A call known to any switch (the first that knows the id). */
  call(callId: string): CallInfo | undefined {
    return this.adapterOfCall(callId)?.call(callId);
  }

  /** The adapter of the (first registered) switch that knows the call. */
  adapterOfCall(callId: string): TServerAdapter | undefined {
    for (const adapter of this.adapters.values()) if (adapter.call(callId)) return adapter;
    return undefined;
  }

  /**
   * Listen to the events of every adapter, including adapters registered later. Returns the
   * unsubscribe function. Events arrive exactly as each adapter emits them.
   */
  onEvent(listener: RegistryListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private deliver(event: CallEvent, adapter: TServerAdapter): void {
    for (const listener of [...this.listeners]) listener(event, adapter);
  }
}
