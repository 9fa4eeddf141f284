import { createEngine } from '../create-engine.js';
import { formatDiagnostic, hasErrors } from '../model/diagnostics.js';
import { EXIT_FINAL, EXIT_LOAD_ERROR } from './run-command.js';

/** `run-scxml check`: every diagnostic of a chart; exit 0 without errors, 2 with. */
export function checkCommand(chart: string, out: (line: string) => void, err: (line: string) => void): number {
  const { diagnostics } = createEngine().load(chart);
  for (const d of diagnostics) err(formatDiagnostic(d));
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  out(`${chart}: ${errors} error(s), ${warnings} warning(s)`);
  return hasErrors(diagnostics) ? EXIT_LOAD_ERROR : EXIT_FINAL;
}
