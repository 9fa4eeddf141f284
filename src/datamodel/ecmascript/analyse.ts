import * as acorn from 'acorn';
import type { CodeRef } from '../../model/chart.js';

/** Static analysis of ECMAScript chart code with acorn: syntax checks and declared names. */

const OPTIONS: acorn.Options = { ecmaVersion: 'latest', sourceType: 'script' };

/** Authors often end an expression with a semicolon ("new Foo();"): it is not part of it. */
export function expressionText(source: string): string {
  return source.replace(/[\s;]+$/, '');
}

export function parseExpression(text: string): acorn.Expression {
  const source = expressionText(text);
  // preserveParens: a wholly parenthesised expression "(x == 2)" ends at its last parenthesis.
  const node = acorn.parseExpressionAt(source, 0, { ...OPTIONS, preserveParens: true });
  // parseExpressionAt stops at the end of the first expression: anything after it is an error.
  const rest = source.slice(node.end);
  if (rest.trim() !== '' && !/^\s*(\/\/[^\n]*|\/\*[\s\S]*?\*\/|\s)*$/.test(rest)) {
    throw new SyntaxError(`unexpected '${rest.trim().slice(0, 20)}' after the expression`);
  }
  return node;
}

/** The variable a location expression writes under: `a` for `a`, `a.b[c]`. */
export function locationRoot(source: string): string {
  let node: acorn.Node = parseExpression(source);
  while (node.type === 'MemberExpression' || node.type === 'ParenthesizedExpression') {
    node = node.type === 'MemberExpression' ? (node as acorn.MemberExpression).object : (node as acorn.ParenthesizedExpression).expression;
  }
  if (node.type !== 'Identifier') throw new SyntaxError(`'${source.trim()}' is not an assignable location`);
  return (node as acorn.Identifier).name;
}

export interface ScriptDeclarations {
  /** Names declared with var at the top level (they become datamodel variables). */
  readonly vars: string[];
  /** Top-level function declarations (likewise). */
  readonly functions: string[];
}

export function scriptDeclarations(source: string): ScriptDeclarations {
  const program = acorn.parse(source, OPTIONS);
  const vars: string[] = [];
  const functions: string[] = [];
  const addPattern = (p: acorn.Pattern | null | undefined) => {
    if (!p) return;
    switch (p.type) {
      case 'Identifier': vars.push(p.name); break;
      case 'ObjectPattern': for (const prop of p.properties) addPattern(prop.type === 'RestElement' ? prop.argument : prop.value); break;
      case 'ArrayPattern': for (const e of p.elements) addPattern(e); break;
      case 'RestElement': addPattern(p.argument); break;
      case 'AssignmentPattern': addPattern(p.left); break;
      default: break;
    }
  };
  // var declarations anywhere outside nested functions are script-level.
  const visit = (node: acorn.Node | null | undefined): void => {
    if (!node || typeof node !== 'object') return;
    switch (node.type) {
      case 'FunctionDeclaration': case 'FunctionExpression': case 'ArrowFunctionExpression': case 'ClassDeclaration': case 'ClassExpression':
        return;
      case 'VariableDeclaration': {
        const decl = node as acorn.VariableDeclaration;
        if (decl.kind === 'var') for (const d of decl.declarations) addPattern(d.id);
        break;
      }
      default: break;
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach((v) => visit(v as acorn.Node));
      else if (value && typeof value === 'object' && typeof (value as acorn.Node).type === 'string') visit(value as acorn.Node);
    }
  };
  for (const stmt of program.body) {
    if (stmt.type === 'FunctionDeclaration' && stmt.id) functions.push(stmt.id.name);
    else visit(stmt);
  }
  return { vars, functions };
}

/** Load-time check for every kind of code ref; null when it compiles. */
export function checkEcmaScriptSyntax(ref: CodeRef): string | null {
  try {
    if (ref.kind === 'script') acorn.parse(ref.source, OPTIONS);
    else if (ref.kind === 'location') locationRoot(ref.source);
    else parseExpression(ref.source);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
