import type { CodeRef } from '../../model/chart.js';
import type { ScxmlEvent } from '../../model/event.js';
import { EvaluationError, type ForeachSnapshot, type DataModelDefinition, type SessionDataModel, type SystemVariables } from '../datamodel.js';

/** W3C B.1: the null datamodel has no data; its only expression is the In() predicate. */
const IN_CALL = /^\s*In\(\s*(['"])([^'"]*)\1\s*\)\s*$/;

export const nullDataModel: DataModelDefinition = {
  name: 'null',
  checkSyntax(ref: CodeRef) {
    if (ref.kind === 'cond' && !IN_CALL.test(ref.source)) return 'the null datamodel supports only In(\'stateId\') conditions';
    return null;
  },
  createChartModel() {
    return { createSession: (system: SystemVariables) => new NullSession(system) };
  },
};

class NullSession implements SessionDataModel {
  constructor(private readonly system: SystemVariables) {}
  evaluate(ref: CodeRef): unknown {
    const m = IN_CALL.exec(ref.source);
    if (m) return this.system.In(m[2]);
    throw new EvaluationError(`the null datamodel cannot evaluate '${ref.source}'`, ref);
  }
  beginMacrostep(): void { /* nothing runs */ }
  test(ref: CodeRef): boolean { return Boolean(this.evaluate(ref)); }
  assign(location: CodeRef): void { throw new EvaluationError('the null datamodel has no locations', location); }
  assignExpression(location: CodeRef): void { this.assign(location); }
  declareExpression(): void { /* nothing to hold */ }
  foreachSnapshot(array: CodeRef): ForeachSnapshot { throw new EvaluationError('the null datamodel cannot iterate', array); }
  runScript(ref: CodeRef): void { throw new EvaluationError('the null datamodel cannot run scripts', ref); }
  declare(): void { /* nothing to hold */ }
  isDeclared(): boolean { return false; }
  setEvent(_event: ScxmlEvent): void { /* no _event */ }
  importValue(value: unknown): unknown { return value; }
  xmlValue(xml: string): unknown { return xml; }
  exportValue(value: unknown): unknown { return value; }
  defineFunction(): void { /* no code to call it */ }
  setPath(): void { /* no data */ }
  aliasRoot(): void { /* no data */ }
  variables(): Record<string, unknown> { return {}; }
  dispose(): void { /* nothing held */ }
}
