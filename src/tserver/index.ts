/** The T-Server side of the engine: the adapter interface, the registry and the simulated switch. It knows nothing of SCXML. */
export * from './adapter.js';
export * from './registry.js';
export * from './timer.js';
export * from './sim/index.js';
