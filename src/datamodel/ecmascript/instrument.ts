import * as acorn from 'acorn';
import { parseExpression } from './analyse.js';

/**
 * Compile-time rewriting of chart code, shared by both sandbox modes:
 *  - every loop body and function body first calls `tick()`, so runaway code (infinite loops,
 *    unbounded recursion that never overflows) is stopped by a budget without any watchdog;
 *  - every function with a simple parameter list is strict (no sloppy `this` = global);
 *  - `typeof x`, for an x bound nowhere in the code itself, becomes `typeofName(scope, "x")`, so
 *    it answers "undefined" for an undeclared name although session scopes claim every name.
 * Code that does not parse is returned unchanged: compiling it then fails with the engine's own
 * syntax error, which becomes error.execution where it is evaluated.
 */
export interface InstrumentNames {
  readonly tick: string;
  readonly typeofName: string;
  readonly scope: string;
}

type Edit = { start: number; end: number; text: string };

export function instrument(source: string, kind: 'expr' | 'script', names: InstrumentNames): string {
  let root: acorn.Node;
  try {
    root = kind === 'script' ? acorn.parse(source, { ecmaVersion: 'latest', sourceType: 'script' }) : parseExpression(source);
  } catch {
    return source;
  }
  const edits: Edit[] = [];
  const bound = new Set<string>();
  const typeofs: acorn.Identifier[] = [];
  const tick = `${names.tick}();`;

  const guardStatement = (body: acorn.Statement) => {
    if (body.type === 'BlockStatement') edits.push({ start: body.start + 1, end: body.start + 1, text: tick });
    else {
      edits.push({ start: body.start, end: body.start, text: `{${tick}` });
      edits.push({ start: body.end, end: body.end, text: '}' });
    }
  };

  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) { node.forEach(visit); return; }
    const n = node as acorn.Node & Record<string, unknown>;
    if (typeof n.type !== 'string') return;
    switch (n.type) {
      case 'WhileStatement': case 'DoWhileStatement': case 'ForStatement': case 'ForInStatement': case 'ForOfStatement':
        guardStatement(n.body as acorn.Statement);
        break;
      case 'FunctionDeclaration': case 'FunctionExpression': case 'ArrowFunctionExpression': {
        const fn = n as unknown as acorn.Function;
        if (fn.id) bound.add(fn.id.name);
        fn.params.forEach((p) => collectBindings(p, bound));
        const body = fn.body as acorn.Node;
        // Chart functions are strict, so a plain call never hands them the realm's global as
        // `this` (strictness needs a simple parameter list; others stay sloppy).
        const simple = fn.params.every((p) => p.type === 'Identifier');
        if (body.type === 'BlockStatement') edits.push({ start: body.start + 1, end: body.start + 1, text: simple && n.type !== 'ArrowFunctionExpression' ? `'use strict';${tick}` : tick });
        else {
          edits.push({ start: body.start, end: body.start, text: `(${names.tick}(),` });
          edits.push({ start: body.end, end: body.end, text: ')' });
        }
        break;
      }
      case 'VariableDeclarator': collectBindings(n.id as acorn.Pattern, bound); break;
      case 'CatchClause': if (n.param) collectBindings(n.param as acorn.Pattern, bound); break;
      case 'ClassDeclaration': if (n.id) bound.add((n.id as acorn.Identifier).name); break;
      case 'UnaryExpression':
        if (n.operator === 'typeof' && (n.argument as acorn.Node).type === 'Identifier') typeofs.push(n.argument as acorn.Identifier);
        break;
      default: break;
    }
    for (const key of Object.keys(n)) if (key !== 'type') visit(n[key]);
  };
  visit(root);

  for (const id of typeofs) {
    if (bound.has(id.name)) continue;
    const opStart = source.lastIndexOf('typeof', id.start);
    edits.push({ start: opStart, end: id.end, text: `${names.typeofName}(${names.scope},${JSON.stringify(id.name)})` });
  }
  // Apply from the end so earlier offsets stay valid; insertions at one offset keep their order.
  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  let out = source;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

function collectBindings(p: acorn.Pattern | null | undefined, into: Set<string>): void {
  if (!p) return;
  switch (p.type) {
    case 'Identifier': into.add(p.name); break;
    case 'ObjectPattern': for (const prop of p.properties) collectBindings(prop.type === 'RestElement' ? prop.argument : prop.value, into); break;
    case 'ArrayPattern': for (const e of p.elements) collectBindings(e, into); break;
    case 'RestElement': collectBindings(p.argument, into); break;
    case 'AssignmentPattern': collectBindings(p.left, into); break;
    default: break;
  }
}
