import * as acorn from 'acorn';
import { generate } from 'astring';
import { expressionText } from './analyse.js';

/**
 * Compiles chart code for the fast sandbox: a strict function of the session's variable object
 * `T`, in which every name the code does not bind itself is rewritten into a property access
 * on `T` — so a session's datamodel is a plain object, lookups are ordinary property loads,
 * and undeclared writes land in the session, never in the realm shared by the chart's sessions.
 *
 *  - reads of a free name: `T.x` for a <data> id (declared from the start), otherwise
 *    `("x" in T ? T.x : U("x"))`, where U throws ReferenceError as an undeclared read must;
 *  - writes, `typeof` and `delete` of a free name: `T.x`;
 *  - names of the realm's built-ins (Math, JSON, …) are left alone, unless they are <data> ids;
 *  - `globalThis` becomes the session's own global view G(T);
 *  - top-level var/let/const/class/function declarations of a <script> become datamodel
 *    variables (functions hoisted), as W3C B.2 asks of scripts;
 *  - every loop body and function body first calls TICK(), the runaway budget.
 */
export const HELPERS = { target: '__orx_t', value: '__orx_v', undeclared: '__orx_u', globalView: '__orx_g', tick: '__orx_tick' } as const;

export interface RewriteContext {
  /** Names of the realm's global object (built-ins), resolved to the realm. */
  readonly realmGlobals: ReadonlySet<string>;
  /** Top-level <data> ids: declared in every session from its start. */
  readonly declared: ReadonlySet<string>;
}

type Kind = 'expr' | 'location' | 'script';
// The rewriter builds ESTree nodes by hand; positions are irrelevant to the generated code.
type Node = { type: string; [key: string]: any };

const PARSE: acorn.Options = { ecmaVersion: 'latest', sourceType: 'script' };

const id = (name: string): Node => ({ type: 'Identifier', name } as Node);
const literal = (value: string): Node => ({ type: 'Literal', value, raw: JSON.stringify(value) } as Node);
const member = (name: string): Node =>
  ({ type: 'MemberExpression', object: id(HELPERS.target), property: id(name), computed: false, optional: false } as Node);
const call = (callee: string, args: Node[]): Node => ({ type: 'CallExpression', callee: id(callee), arguments: args, optional: false } as Node);
const tickStatement = (): Node => ({ type: 'ExpressionStatement', expression: call(HELPERS.tick, []) } as Node);
const assign = (left: Node, right: Node): Node => ({ type: 'AssignmentExpression', operator: '=', left, right } as Node);

class Scope {
  readonly names = new Set<string>();
  constructor(readonly isFunction: boolean) {}
}

/** The engine's own names: chart code may neither bind nor reference them (a binding would shadow the budget). */
const RESERVED_PREFIX = '__orx_';

function refuseReservedNames(root: unknown): void {
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) { node.forEach(visit); return; }
    const n = node as Node;
    if (n.type === 'Identifier' && typeof n.name === 'string' && n.name.startsWith(RESERVED_PREFIX)) {
      throw new SyntaxError(`'${n.name}' is reserved for the engine (names starting with ${RESERVED_PREFIX})`);
    }
    for (const key of Object.keys(n)) if (key !== 'type') visit(n[key]);
  };
  visit(root);
}

export function compileForSession(source: string, kind: Kind, ctx: RewriteContext): string {
  const t = HELPERS.target;
  if (kind === 'script') {
    const program = acorn.parse(source, PARSE) as Node;
    refuseReservedNames(program);
    const body = new Rewriter(ctx).program(program);
    return `(function(${t}){'use strict';${body.map((s) => generate(s as never)).join('\n')}\n})`;
  }
  const expr = acorn.parseExpressionAt(expressionText(source), 0, PARSE) as Node;
  refuseReservedNames(expr);
  const rewriter = new Rewriter(ctx);
  if (kind === 'location') {
    const target = rewriter.assignmentTarget(expr);
    return `(function(${t},${HELPERS.value}){'use strict';(${generate(target as never)})=${HELPERS.value};})`;
  }
  return `(function(${t}){'use strict';return (${generate(rewriter.expression(expr) as never)});})`;
}

/** Names a top-level <script> declares (they become datamodel variables before it runs). */
export function topLevelDeclarations(source: string): string[] {
  const program = acorn.parse(source, PARSE) as Node;
  const names: string[] = [];
  for (const stmt of program.body as Node[]) {
    if (stmt.type === 'VariableDeclaration') for (const d of stmt.declarations) names.push(...patternNames(d.id));
    else if ((stmt.type === 'FunctionDeclaration' || stmt.type === 'ClassDeclaration') && stmt.id) names.push(stmt.id.name);
  }
  names.push(...nestedVarNames(program.body as Node[]));
  return [...new Set(names)];
}

function patternNames(p: Node | null): string[] {
  if (!p) return [];
  switch (p.type) {
    case 'Identifier': return [p.name];
    case 'ObjectPattern': return (p.properties as Node[]).flatMap((prop) => patternNames(prop.type === 'RestElement' ? prop.argument : prop.value));
    case 'ArrayPattern': return (p.elements as (Node | null)[]).flatMap(patternNames);
    case 'RestElement': return patternNames(p.argument);
    case 'AssignmentPattern': return patternNames(p.left);
    default: return [];
  }
}

/** `var` names declared anywhere under these statements, not inside nested functions. */
function nestedVarNames(statements: Node[]): string[] {
  const out: string[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) { node.forEach(visit); return; }
    const n = node as Node;
    if (typeof n.type !== 'string') return;
    if (isFunction(n) || n.type === 'ClassDeclaration' || n.type === 'ClassExpression') return;
    if (n.type === 'VariableDeclaration' && n.kind === 'var') for (const d of n.declarations) out.push(...patternNames(d.id));
    for (const key of Object.keys(n)) if (key !== 'type') visit(n[key]);
  };
  statements.forEach(visit);
  return out;
}

const isFunction = (n: Node) => n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression';

class Rewriter {
  private readonly scopes: Scope[] = [];
  constructor(private readonly ctx: RewriteContext) {}

  private bound(name: string): boolean {
    for (let i = this.scopes.length - 1; i >= 0; i--) if (this.scopes[i].names.has(name)) return true;
    return false;
  }
  private inFunction(): boolean {
    return this.scopes.some((s) => s.isFunction);
  }
  /** Free and not a realm built-in (a <data> id always counts as datamodel). */
  private isDatamodelName(name: string): boolean {
    if (this.bound(name)) return false;
    return this.ctx.declared.has(name) || !this.ctx.realmGlobals.has(name);
  }

  private read(name: string): Node {
    if (this.ctx.declared.has(name)) return member(name);
    return { type: 'ConditionalExpression', test: { type: 'BinaryExpression', operator: 'in', left: literal(name), right: id(HELPERS.target) },
      consequent: member(name), alternate: call(HELPERS.undeclared, [literal(name)]) } as Node;
  }

  /* ---------- top level ---------- */

  program(program: Node): Node[] {
    const hoisted: Node[] = [];
    const rest: Node[] = [];
    for (const stmt of program.body as Node[]) {
      if (stmt.type === 'FunctionDeclaration') {
        // Hoisted: `T.f = function f(…) {…}` before everything else, as declarations are.
        const fn = this.expression({ ...stmt, type: 'FunctionExpression' } as Node);
        hoisted.push({ type: 'ExpressionStatement', expression: assign(member(stmt.id.name), fn) } as Node);
      } else if (stmt.type === 'ClassDeclaration') {
        rest.push({ type: 'ExpressionStatement', expression: assign(member(stmt.id.name), this.expression({ ...stmt, type: 'ClassExpression' } as Node)) } as Node);
      } else if (stmt.type === 'VariableDeclaration') {
        rest.push(this.topLevelDeclaration(stmt));
      } else rest.push(this.statement(stmt));
    }
    return [...hoisted, ...rest];
  }

  /** A declaration outside any function: its names are datamodel variables, so it becomes assignments. */
  private topLevelDeclaration(decl: Node): Node {
    const expr = this.declarationAsExpression(decl);
    return expr ? ({ type: 'ExpressionStatement', expression: expr } as Node) : ({ type: 'EmptyStatement' } as Node);
  }

  private declarationAsExpression(decl: Node): Node | null {
    const assignments = (decl.declarations as Node[]).filter((d) => d.init).map((d) => assign(this.assignmentTarget(d.id), this.expression(d.init)));
    if (assignments.length === 0) return null;
    return assignments.length === 1 ? assignments[0] : ({ type: 'SequenceExpression', expressions: assignments } as Node);
  }

  /* ---------- statements ---------- */

  private statement(n: Node): Node {
    switch (n.type) {
      case 'BlockStatement': return this.block(n);
      case 'VariableDeclaration':
        if (n.kind === 'var' && !this.inFunction()) return this.topLevelDeclaration(n);
        return this.localDeclaration(n);
      case 'FunctionDeclaration': return this.function(n);
      case 'ClassDeclaration': return this.class(n);
      case 'WhileStatement': case 'DoWhileStatement':
        return { ...n, test: this.expression(n.test), body: this.guarded(n.body) } as Node;
      case 'ForStatement': return this.withLoopScope(n.init, () => ({
        ...n, init: n.init ? this.forInit(n.init) : null, test: n.test && this.expression(n.test),
        update: n.update && this.expression(n.update), body: this.guarded(n.body),
      } as Node));
      case 'ForInStatement': case 'ForOfStatement': return this.withLoopScope(n.left, () => ({
        ...n, left: this.forLeft(n.left), right: this.expression(n.right), body: this.guarded(n.body),
      } as Node));
      case 'LabeledStatement': return { ...n, body: this.statement(n.body) } as Node;
      case 'BreakStatement': case 'ContinueStatement': case 'EmptyStatement': case 'DebuggerStatement': return n;
      case 'TryStatement': return {
        ...n, block: this.block(n.block),
        handler: n.handler && this.catchClause(n.handler),
        finalizer: n.finalizer && this.block(n.finalizer),
      } as Node;
      case 'SwitchStatement': {
        const discriminant = this.expression(n.discriminant);
        return this.inScope(false, n.cases.flatMap((c: Node) => c.consequent), () => ({
          ...n, discriminant,
          cases: n.cases.map((c: Node) => ({ ...c, test: c.test && this.expression(c.test), consequent: c.consequent.map((s: Node) => this.statement(s)) })),
        } as Node));
      }
      default: return this.generic(n);
    }
  }

  private block(n: Node): Node {
    return this.inScope(false, n.body, () => ({ ...n, body: n.body.map((s: Node) => this.statement(s)) } as Node));
  }

  /** A loop body starts with the budget tick. */
  private guarded(body: Node): Node {
    const rewritten = this.statement(body);
    return rewritten.type === 'BlockStatement'
      ? ({ ...rewritten, body: [tickStatement(), ...rewritten.body] } as Node)
      : ({ type: 'BlockStatement', body: [tickStatement(), rewritten] } as Node);
  }

  private withLoopScope(head: Node | null, build: () => Node): Node {
    const lexical = head && head.type === 'VariableDeclaration' && head.kind !== 'var';
    if (!lexical) return build();
    const scope = new Scope(false);
    for (const d of head!.declarations) for (const name of patternNames(d.id)) scope.names.add(name);
    this.scopes.push(scope);
    try { return build(); } finally { this.scopes.pop(); }
  }

  private forInit(init: Node): Node | null {
    if (init.type === 'VariableDeclaration') {
      if (init.kind === 'var' && !this.inFunction()) return this.declarationAsExpression(init);
      return this.localDeclaration(init);
    }
    return this.expression(init);
  }

  private forLeft(left: Node): Node {
    if (left.type === 'VariableDeclaration') {
      if (left.kind === 'var' && !this.inFunction()) return this.assignmentTarget(left.declarations[0].id);
      return this.localDeclaration(left);
    }
    return this.assignmentTarget(left);
  }

  private localDeclaration(n: Node): Node {
    return { ...n, declarations: n.declarations.map((d: Node) => ({ ...d, id: this.bindingPattern(d.id), init: d.init && this.expression(d.init) })) } as Node;
  }

  private catchClause(n: Node): Node {
    const scope = new Scope(false);
    for (const name of patternNames(n.param)) scope.names.add(name);
    this.scopes.push(scope);
    try {
      return { ...n, param: n.param && this.bindingPattern(n.param), body: this.block(n.body) } as Node;
    } finally { this.scopes.pop(); }
  }

  /** Run `build` in a block scope holding the lexical declarations among `statements`. */
  private inScope(isFunction: boolean, statements: Node[], build: () => Node, extra: string[] = []): Node {
    const scope = new Scope(isFunction);
    extra.forEach((n) => scope.names.add(n));
    for (const s of statements) {
      if (s.type === 'VariableDeclaration' && (s.kind !== 'var' || isFunction)) for (const d of s.declarations) patternNames(d.id).forEach((x) => scope.names.add(x));
      if ((s.type === 'FunctionDeclaration' || s.type === 'ClassDeclaration') && s.id) scope.names.add(s.id.name);
    }
    if (isFunction) nestedVarNames(statements).forEach((x) => scope.names.add(x));
    this.scopes.push(scope);
    try { return build(); } finally { this.scopes.pop(); }
  }

  /* ---------- functions and classes ---------- */

  private function(n: Node): Node {
    const params = (n.params as Node[]).flatMap(patternNames);
    const own = [...params];
    if (n.type !== 'ArrowFunctionExpression') own.push('arguments');
    if (n.type === 'FunctionExpression' && n.id) own.push(n.id.name);
    const bodyStatements: Node[] = n.body.type === 'BlockStatement' ? n.body.body : [];
    return this.inScope(true, bodyStatements, () => {
      const rewrittenParams = (n.params as Node[]).map((p) => this.bindingPattern(p));
      let body: Node;
      if (n.body.type === 'BlockStatement') {
        body = { ...n.body, body: [tickStatement(), ...bodyStatements.map((s) => this.statement(s))] } as Node;
      } else {
        body = { type: 'BlockStatement', body: [tickStatement(), { type: 'ReturnStatement', argument: this.expression(n.body) }] } as Node;
      }
      return { ...n, params: rewrittenParams, body, expression: false } as Node;
    }, own);
  }

  private class(n: Node): Node {
    const scope = new Scope(false);
    if (n.id) scope.names.add(n.id.name);
    this.scopes.push(scope);
    try {
      return {
        ...n, superClass: n.superClass && this.expression(n.superClass),
        body: { ...n.body, body: n.body.body.map((m: Node) => ({
          ...m, key: m.computed ? this.expression(m.key) : m.key,
          value: m.value && (m.type === 'StaticBlock' ? m.value : this.expression(m.value)),
          body: m.type === 'StaticBlock' ? m.body.map((s: Node) => this.statement(s)) : m.body,
        })) },
      } as Node;
    } finally { this.scopes.pop(); }
  }

  /* ---------- patterns ---------- */

  /** A binding pattern (declared names stay local); only its default values are code. */
  private bindingPattern(p: Node): Node {
    switch (p.type) {
      case 'Identifier': return p;
      case 'AssignmentPattern': return { ...p, left: this.bindingPattern(p.left), right: this.expression(p.right) } as Node;
      case 'ArrayPattern': return { ...p, elements: p.elements.map((e: Node | null) => e && this.bindingPattern(e)) } as Node;
      case 'RestElement': return { ...p, argument: this.bindingPattern(p.argument) } as Node;
      case 'ObjectPattern': return { ...p, properties: p.properties.map((prop: Node) => prop.type === 'RestElement'
        ? { ...prop, argument: this.bindingPattern(prop.argument) }
        : { ...prop, key: prop.computed ? this.expression(prop.key) : prop.key, value: this.bindingPattern(prop.value) }) } as Node;
      default: return p;
    }
  }

  /** Where a value is written: free names become properties of the datamodel. */
  assignmentTarget(p: Node): Node {
    switch (p.type) {
      case 'Identifier': return this.isDatamodelName(p.name) ? member(p.name) : p;
      case 'MemberExpression': return this.expression(p);
      case 'AssignmentPattern': return { ...p, left: this.assignmentTarget(p.left), right: this.expression(p.right) } as Node;
      case 'ArrayPattern': return { ...p, elements: p.elements.map((e: Node | null) => e && this.assignmentTarget(e)) } as Node;
      case 'RestElement': return { ...p, argument: this.assignmentTarget(p.argument) } as Node;
      case 'ObjectPattern': return { ...p, properties: p.properties.map((prop: Node) => prop.type === 'RestElement'
        ? { ...prop, argument: this.assignmentTarget(prop.argument) }
        : { ...prop, shorthand: false, key: prop.computed ? this.expression(prop.key) : prop.key, value: this.assignmentTarget(prop.value) }) } as Node;
      default: return this.expression(p);
    }
  }

  /* ---------- expressions ---------- */

  expression(n: Node): Node {
    switch (n.type) {
      case 'ImportExpression':
        throw new SyntaxError('import() is not available to chart code');
      case 'Identifier':
        if (n.name === 'globalThis' && !this.bound(n.name) && !this.ctx.declared.has(n.name)) return call(HELPERS.globalView, [id(HELPERS.target)]);
        return this.isDatamodelName(n.name) ? this.read(n.name) : n;
      case 'FunctionExpression': case 'ArrowFunctionExpression': return this.function(n);
      case 'ClassExpression': return this.class(n);
      case 'MemberExpression': return { ...n, object: this.expression(n.object), property: n.computed ? this.expression(n.property) : n.property } as Node;
      case 'AssignmentExpression': return { ...n, left: this.assignmentTarget(n.left), right: this.expression(n.right) } as Node;
      case 'UpdateExpression': return { ...n, argument: this.assignmentTarget(n.argument) } as Node;
      case 'UnaryExpression':
        if ((n.operator === 'typeof' || n.operator === 'delete') && n.argument.type === 'Identifier') {
          // typeof of an undeclared name is "undefined", and delete removes a datamodel variable.
          return this.isDatamodelName(n.argument.name) ? ({ ...n, argument: member(n.argument.name) } as Node) : n;
        }
        return { ...n, argument: this.expression(n.argument) } as Node;
      case 'CallExpression': {
        const callee = this.expression(n.callee);
        // A free function is called with `this` undefined, not the datamodel object.
        const plain = n.callee.type === 'Identifier' && callee.type === 'MemberExpression'
          ? ({ type: 'SequenceExpression', expressions: [{ type: 'Literal', value: 0, raw: '0' }, callee] } as Node) : callee;
        return { ...n, callee: plain, arguments: n.arguments.map((a: Node) => this.expression(a)) } as Node;
      }
      case 'ObjectExpression': return { ...n, properties: n.properties.map((p: Node) => {
        if (p.type === 'SpreadElement') return { ...p, argument: this.expression(p.argument) };
        const key = p.computed ? this.expression(p.key) : p.key;
        if (p.shorthand) return { ...p, shorthand: false, key, value: this.expression(p.value) };
        return { ...p, key, value: this.expression(p.value) };
      }) } as Node;
      case 'Property': return n;
      case 'MetaProperty':
        if (n.meta?.name === 'import') throw new SyntaxError('import.meta is not available to chart code');
        return n;
      case 'ThisExpression': case 'Super': case 'Literal': return n;
      case 'TemplateLiteral': return { ...n, expressions: n.expressions.map((e: Node) => this.expression(e)) } as Node;
      case 'TaggedTemplateExpression': return { ...n, tag: this.expression(n.tag), quasi: this.expression(n.quasi) } as Node;
      default: return this.generic(n);
    }
  }

  /** Nodes with no special rule: rewrite every child that is code. */
  private generic(n: Node): Node {
    const out: Node = { ...n };
    for (const key of Object.keys(n)) {
      if (key === 'type' || key === 'start' || key === 'end' || key === 'loc' || key === 'range') continue;
      const value = n[key];
      if (Array.isArray(value)) out[key] = value.map((v) => (v && typeof v === 'object' && typeof v.type === 'string' ? this.child(v) : v));
      else if (value && typeof value === 'object' && typeof value.type === 'string') out[key] = this.child(value);
    }
    return out;
  }

  private child(n: Node): Node {
    return /Statement$|Declaration$/.test(n.type) ? this.statement(n) : this.expression(n);
  }
}
