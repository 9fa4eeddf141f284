// Compares an Orchestrion run with a SCION run macrostep by macrostep, knowing SCION's deviations.

import type { RunLog } from './harness.js';

export interface Disagreement {
  readonly macrostep: number;
  readonly what: string;
}

/**
 * The first disagreement, or null. In the macrostep that ends the session the datamodel is
 * compared after the final exit (onexit handlers run): SCION reports it only then.
 */
export function compareRuns(orx: RunLog, sc: RunLog): Disagreement | null {
  if (orx.failure) return { macrostep: -1, what: `Orchestrion failed: ${orx.failure}` };
  if (sc.failure) return { macrostep: -1, what: `SCION failed: ${sc.failure}` };
  const n = Math.max(orx.macrosteps.length, sc.macrosteps.length);
  for (let i = 0; i < n; i++) {
    const o = orx.macrosteps[i];
    const s = sc.macrosteps[i];
    const lastScion = i === sc.macrosteps.length - 1 && sc.end !== null;
    if (!o || !s) {
      return { macrostep: i, what: `macrostep count: Orchestrion ${orx.macrosteps.length}, SCION ${sc.macrosteps.length}` };
    }
    const oc = o.config.join(' ');
    const scc = s.config.join(' ');
    if (oc !== scc) return { macrostep: i, what: `configuration: Orchestrion [${oc}], SCION [${scc}]` };
    const lastOrx = i === orx.macrosteps.length - 1 && orx.end?.status === 'final';
    if (lastScion !== lastOrx) return { macrostep: i, what: `session end: Orchestrion ${orx.end?.status ?? 'running'}, SCION ${sc.end ? 'final' : 'running'}` };
    if (lastScion) {
      if (orx.end!.data !== sc.end!.data) return { macrostep: i, what: `datamodel after the final exit: Orchestrion ${orx.end!.data}, SCION ${sc.end!.data}` };
    } else if (o.data !== s.data) {
      return { macrostep: i, what: `datamodel: Orchestrion ${o.data}, SCION ${s.data}` };
    }
  }
  if (orx.end && orx.end.status !== 'final' && orx.end.status !== 'stopped') return { macrostep: n, what: `Orchestrion session ended with ${orx.end.status}: ${orx.end.message ?? ''}` };
  return null;
}
