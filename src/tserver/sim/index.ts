/** The simulated switch: the engine's embedded default T-Server. */
import type { SwitchTimer } from '../timer.js';
import { createIdSource, SimulatedSwitch, type SimulatedSwitchOptions } from './switch.js';
import { loadTopology, switchConfig, type Topology } from './topology.js';

export * from './switch.js';
export * from './topology.js';
export * from './aoc.js';

/**
 * One simulated switch per switch of the topology (validated first: a parsed value, JSON text or
 * a file path; see loadTopology; DEFAULT_TOPOLOGY for the default), in topology order. The switches share one id source, so call
 * ids and private-service reference ids are unique across them.
 */
export function createSimulatedSwitches(
  topology: Topology | unknown,
  timer: SwitchTimer,
  options: Omit<SimulatedSwitchOptions, 'ids'> = {},
): SimulatedSwitch[] {
  const valid = loadTopology(topology);
  const ids = createIdSource();
  return valid.switches.map((sw) => new SimulatedSwitch(switchConfig(sw), timer, { ...options, ids }));
}
