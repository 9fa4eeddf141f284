/**
 * ParlayX faults: ServiceException (the request cannot be served) and PolicyException (a policy
 * forbids it), each with a message id, a text with %1-style placeholders and its variables.
 * Every fault the service raises is listed here (docs/reference/parlayx.md prints this table).
 */
import type { InputError } from './xsd.js';

export type FaultKind = 'ServiceException' | 'PolicyException';

export const FAULT_CATALOGUE = {
  SVC0001: { kind: 'ServiceException', text: 'A service error occurred. Error code is %1' },
  SVC0002: { kind: 'ServiceException', text: 'Invalid input value for message part %1' },
  SVC0003: { kind: 'ServiceException', text: 'Invalid input value for message part %1, valid values are %2' },
  SVC0004: { kind: 'ServiceException', text: 'No valid addresses provided in message part %1' },
  SVC0005: { kind: 'ServiceException', text: 'Correlator %1 specified in message part %2 is a duplicate' },
  SVC0007: { kind: 'ServiceException', text: 'Invalid charging information' },
  SVC0008: { kind: 'ServiceException', text: 'Overlapped criteria %1' },
  SVC0270: { kind: 'ServiceException', text: 'Charge failed: %1' },
  POL0001: { kind: 'PolicyException', text: 'A policy error occurred. Error code is %1' },
  // Orchestrion's own codes (vendors add theirs above the standard's range).
  POL1001: { kind: 'PolicyException', text: 'Insufficient funds: %1' },
  POL1002: { kind: 'PolicyException', text: 'The credit has expired: %1' },
} as const satisfies Record<string, { kind: FaultKind; text: string }>;

export type FaultId = keyof typeof FAULT_CATALOGUE;

export class ParlayxFault extends Error {
  readonly kind: FaultKind;
  readonly text: string;
  constructor(readonly messageId: FaultId, readonly variables: readonly string[] = []) {
    const entry = FAULT_CATALOGUE[messageId];
    super(`${messageId}: ${entry.text.replace(/%([0-9]+)/g, (_, n: string) => variables[Number(n) - 1] ?? `%${n}`)}`);
    this.name = 'ParlayxFault';
    this.kind = entry.kind;
    this.text = entry.text;
  }

  /** The HTTP status of the JSON mirror: policy → 403, input → 400, the service's own failure → 500. */
  get httpStatus(): number {
    if (this.kind === 'PolicyException') return 403;
    return this.messageId === 'SVC0001' ? 500 : 400;
  }

  /** The ServiceException/PolicyException element's content. */
  get detail(): { messageId: string; text: string; variables: readonly string[] } {
    return { messageId: this.messageId, text: this.text, variables: this.variables };
  }
}

/** A request that does not match the schema: SVC0003 when the valid values are known, else SVC0002. */
export function inputFault(e: InputError): ParlayxFault {
  const where = e.loc ? ` (line ${e.loc.line}, column ${e.loc.column})` : '';
  const part = `${e.part}${where}: ${e.problem}`;
  return e.validValues ? new ParlayxFault('SVC0003', [part, e.validValues.join(', ')]) : new ParlayxFault('SVC0002', [part]);
}

/** An identifier the caller may not see (unknown, gone, or someone else's): indistinguishable on purpose. */
export function unknownIdentifier(part: string, value: string): ParlayxFault {
  return new ParlayxFault('SVC0002', [`${part}: no such identifier '${value}'`]);
}
