import type { SourceLocation } from './location.js';
import { formatLocation } from './location.js';

export type Severity = 'error' | 'warning';

/** Diagnostics are data: code, severity, message and where. */
export interface Diagnostic extends SourceLocation {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly message: string;
}

/**
 * Every code the loader and linter can report. Codes are stable: automation keys on them.
 * Keep docs/reference/diagnostics.md in step (a test checks that every code is documented).
 */
export const DIAGNOSTIC_CODES = {
  // 00xx: reading the document
  ORX0001: 'the chart file cannot be read',
  ORX0002: 'the document is not well-formed XML',
  ORX0003: 'the root element is not <scxml> in the SCXML namespace',
  ORX0004: 'an external resource (src) cannot be loaded',
  // 01xx: structure
  ORX0101: 'unknown element in the SCXML namespace',
  ORX0102: 'element of a foreign namespace with no registered handler',
  ORX0103: 'element not allowed in this place',
  ORX0104: 'transition target does not exist',
  ORX0105: 'duplicate state id',
  ORX0106: 'required attribute missing',
  ORX0107: 'mutually exclusive attributes both present',
  ORX0108: 'invalid attribute value',
  ORX0109: 'unknown attribute on an SCXML element',
  ORX0110: 'illegal initial: target is not a descendant, or more than one way to name it',
  ORX0111: 'illegal history state',
  ORX0112: 'element occurs more often than allowed',
  ORX0113: 'unsupported datamodel',
  ORX0114: 'invalid id',
  ORX0115: 'text content not allowed here',
  // 02xx: expressions and executable content
  ORX0201: 'expression does not parse',
  ORX0202: 'invalid location expression',
  // 03xx: lint (warnings from `run-scxml check`)
  ORX0301: 'state can never be entered',
  ORX0302: 'transition can never be taken',
  ORX0303: 'data declared but never used',
  ORX0304: 'transition always enabled: the state machine never settles',
  // 04xx: extension modules (ixn, billing)
  ORX0401: "vendor spelling of an attribute accepted (e.g. ixn 'extentions')",
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export function formatDiagnostic(d: Diagnostic): string {
  return `${formatLocation(d)}: ${d.severity} ${d.code}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Collects diagnostics during one load; never throws, so every problem is reported at once. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  error(code: DiagnosticCode, loc: SourceLocation, message: string): void {
    this.items.push({ code, severity: 'error', message, file: loc.file, line: loc.line, column: loc.column });
  }
  warning(code: DiagnosticCode, loc: SourceLocation, message: string): void {
    this.items.push({ code, severity: 'warning', message, file: loc.file, line: loc.line, column: loc.column });
  }
  sorted(): Diagnostic[] {
    return [...this.items].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  }
}
