import { createEngine, STANDALONE_PARLAYX } from '../create-engine.js';
import { BillingManager } from '../billing/manager.js';
import { SqliteBillingStore } from '../billing/sqlite-billing-store.js';
import { formatDiagnostic, hasErrors } from '../model/diagnostics.js';
import { EXIT_FINAL, EXIT_LOAD_ERROR } from './run-command.js';

/** `run-scxml check`: every diagnostic of a chart; exit 0 without errors, 2 with. */
export async function checkCommand(chart: string, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  // Every module's actions are known, so a chart written for the ParlayX service or for billing checks clean.
  const billing = new BillingManager({ store: new SqliteBillingStore(':memory:') });
  const engine = createEngine({ billing: { manager: billing }, parlayx: STANDALONE_PARLAYX });
  const { diagnostics } = engine.load(chart);
  await engine.close();
  await billing.close();
  for (const d of diagnostics) err(formatDiagnostic(d));
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  out(`${chart}: ${errors} error(s), ${warnings} warning(s)`);
  return hasErrors(diagnostics) ? EXIT_LOAD_ERROR : EXIT_FINAL;
}
