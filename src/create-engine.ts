import { Engine, type EngineOptions } from './runtime/engine.js';
import { IxnModule, type IxnOptions } from './ixn/module.js';
import { BillingModule, type BillingOptions } from './billing/module.js';
import { ParlayxCallModule, type ParlayxCallModuleOptions } from './parlayx/call-module.js';
import { AdapterRegistry } from './tserver/registry.js';
import type { TServerAdapter } from './tserver/adapter.js';
import { createSimulatedSwitches, DEFAULT_TOPOLOGY, type Topology } from './tserver/sim/index.js';

export interface CreateEngineOptions extends EngineOptions {
  /**
   * The T-Server adapters of the interaction module, one per switch. Default: the simulated
   * switch built from `switchTopology` (or the default topology: SIP_Switch with routing points
   * 5000–5099, extensions 1000–1999, agents 9000–9099, gateway trunks 8000–8099).
   */
  readonly adapters?: readonly TServerAdapter[] | AdapterRegistry;
  /** Topology of the simulated switch (object, JSON text or file path) when no adapters are given. */
  readonly switchTopology?: Topology | unknown;
  /** Interaction module options (who takes inbound calls, request timeout). */
  readonly ixn?: Omit<IxnOptions, 'registry'>;
  /** The billing actions (`<billing:reserve>`, …) on this manager; without it charts cannot charge. */
  readonly billing?: BillingOptions;
  /**
   * The ParlayX call module (`_parlayx.*`, `<parlayx:callevent>`): the ParlayX service passes its
   * own; without a service, call events have nobody to direct them and go on (Continue).
   */
  readonly parlayx?: ParlayxCallModuleOptions;
}

/** Call events when no ParlayX service runs: no subscriber exists, so every call goes on. */
export const STANDALONE_PARLAYX: ParlayxCallModuleOptions = Object.freeze({
  onCallEvent: async () => ({ actionToPerform: 'Continue' as const, routingAddresses: [], decidedBy: 'no ParlayX service' }),
});

/**
 * An engine with the modules a contact-centre strategy expects: the interaction (voice) module
 * on the given T-Server adapters, or on the embedded simulated switch; the billing module when a
 * billing manager is given; the ParlayX call module when its options are given.
 */
export function createEngine(options: CreateEngineOptions = {}): Engine {
  const engine = new Engine(options);
  let registry: AdapterRegistry;
  if (options.adapters instanceof AdapterRegistry) registry = options.adapters;
  else if (options.adapters) registry = new AdapterRegistry(options.adapters);
  else {
    // The embedded simulated switch is the engine's own: it goes when the engine closes.
    const switches = createSimulatedSwitches(options.switchTopology ?? DEFAULT_TOPOLOGY, engine.clock);
    engine.onClose(() => switches.forEach((s) => s.dispose()));
    registry = new AdapterRegistry(switches);
  }
  engine.use(new IxnModule({ registry, ...options.ixn }));
  if (options.billing) engine.use(new BillingModule(options.billing));
  if (options.parlayx) engine.use(new ParlayxCallModule(options.parlayx));
  return engine;
}
