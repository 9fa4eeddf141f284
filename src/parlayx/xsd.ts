/**
 * The part of XML Schema our ParlayX schemas use (schemas/parlayx/README.md lists it): sequences
 * of elements with occurrence bounds, string enumerations and a few built-in types. The WSDLs
 * are the single source of truth: requests are decoded and validated against them, answers are
 * written from them, and the JSON mirror uses the same types.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { attr, childElements, parseXmlTree, textContent, type XmlElement } from '../parse/xml-tree.js';
import { DiagnosticSink, formatDiagnostic } from '../model/diagnostics.js';
import { formatLocation, type SourceLocation } from '../model/location.js';

export const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

export type BuiltInType = 'string' | 'anyURI' | 'int' | 'long' | 'decimal' | 'boolean' | 'dateTime' | 'float' | 'double';
const BUILT_INS: readonly BuiltInType[] = ['string', 'anyURI', 'int', 'long', 'decimal', 'boolean', 'dateTime', 'float', 'double'];

export type XsdType =
  | { readonly kind: 'builtin'; readonly name: BuiltInType }
  | { readonly kind: 'enum'; readonly name: string; readonly values: readonly string[] }
  | { readonly kind: 'complex'; readonly name: string; readonly fields: readonly XsdField[] };

export interface XsdField {
  readonly name: string;
  /** The schema's target namespace when its local elements are qualified, '' when not. */
  readonly ns: string;
  readonly type: XsdType;
  readonly min: number;
  /** Infinity for "unbounded". */
  readonly max: number;
}

export interface XsdElement {
  readonly name: string;
  readonly ns: string;
  readonly type: XsdType;
}

/** A schema file that uses something outside the supported subset, or refers to what does not exist. */
export class SchemaError extends Error {
  constructor(message: string, loc?: SourceLocation) {
    super(loc ? `${formatLocation(loc)}: ${message}` : message);
    this.name = 'SchemaError';
  }
}

const qname = (ns: string, local: string) => `{${ns}}${local}`;

/** Loads XML files of the subset (strict: an unsupported construct is an error, never ignored). */
export function readXmlFile(file: string): XmlElement {
  const sink = new DiagnosticSink();
  const root = parseXmlTree(readFileSync(file, 'utf8'), file, sink);
  if (!root) throw new SchemaError(sink.items.map(formatDiagnostic).join('\n'));
  return root;
}

/** Resolves `prefix:local` with the namespaces in scope at an element. */
export function resolveQName(el: XmlElement, value: string): { ns: string; local: string } {
  const i = value.indexOf(':');
  const prefix = i < 0 ? '' : value.slice(0, i);
  const local = i < 0 ? value : value.slice(i + 1);
  const ns = el.nsInScope[prefix];
  if (ns === undefined) throw new SchemaError(`namespace prefix '${prefix}' of '${value}' is not declared`, el.loc);
  return { ns, local };
}

interface PendingField { name: string; ns: string; typeRef: string | XsdType; min: number; max: number; loc: SourceLocation }

/**
 * Every type and global element of a set of schemas. Types are resolved after all files are read,
 * so files may refer to each other in any order.
 */
export class SchemaSet {
  private readonly types = new Map<string, XsdType>();
  private readonly elements = new Map<string, XsdElement>();
  private readonly pendingComplex: { type: { fields: XsdField[] }; fields: PendingField[] }[] = [];
  private readonly pendingElements: { name: string; ns: string; typeRef: string | XsdType; loc: SourceLocation }[] = [];
  private readonly loadedFiles = new Set<string>();
  /** The namespace of local elements in the schema being read ('' when unqualified). */
  private formNs = '';

  constructor() {
    for (const name of BUILT_INS) this.types.set(qname(XSD_NS, name), { kind: 'builtin', name });
  }

  /** Reads an `xsd:schema` element (inline in a WSDL or a file's root); `base` resolves schemaLocation. */
  addSchema(schema: XmlElement, base: string): void {
    if (schema.uri !== XSD_NS || schema.local !== 'schema') throw new SchemaError(`expected xsd:schema, found <${schema.name}>`, schema.loc);
    const target = attr(schema, 'targetNamespace') ?? '';
    // The standard's type schemas leave local elements unqualified; its WSDLs' wrapper schemas qualify them.
    const outer = this.formNs;
    this.formNs = attr(schema, 'elementFormDefault') === 'qualified' ? target : '';
    for (const item of childElements(schema)) {
      if (item.uri !== XSD_NS) throw new SchemaError(`unexpected <${item.name}> in a schema`, item.loc);
      switch (item.local) {
        case 'annotation': break;
        case 'import': {
          const location = attr(item, 'schemaLocation');
          if (location) {
            const mine = this.formNs;
            this.addSchemaFile(resolve(dirname(base), location));
            this.formNs = mine;
          }
          break;
        }
        case 'element': this.pendingElements.push(this.elementDecl(item, target, target)); break;
        case 'complexType': this.defineType(target, item, this.complexType(item, target)); break;
        case 'simpleType': this.defineType(target, item, this.simpleType(item)); break;
        default: throw new SchemaError(`xsd:${item.local} is outside the supported subset`, item.loc);
      }
    }
    this.formNs = outer;
  }

  addSchemaFile(file: string): void {
    if (this.loadedFiles.has(file)) return;
    this.loadedFiles.add(file);
    this.addSchema(readXmlFile(file), file);
  }

  /** Resolves every reference; call once all schemas are added. */
  resolveAll(): void {
    for (const { type, fields } of this.pendingComplex.splice(0)) {
      for (const f of fields) type.fields.push({ name: f.name, ns: f.ns, type: this.typeOf(f.typeRef, f.loc), min: f.min, max: f.max });
    }
    for (const e of this.pendingElements.splice(0)) {
      this.elements.set(qname(e.ns, e.name), { name: e.name, ns: e.ns, type: this.typeOf(e.typeRef, e.loc) });
    }
  }

  element(ns: string, local: string): XsdElement | undefined {
    return this.elements.get(qname(ns, local));
  }

  private typeOf(ref: string | XsdType, loc: SourceLocation): XsdType {
    if (typeof ref !== 'string') return ref;
    const type = this.types.get(ref);
    if (!type) throw new SchemaError(`type ${ref} is not defined (or is a built-in outside the subset: ${BUILT_INS.join(', ')})`, loc);
    return type;
  }

  private defineType(target: string, el: XmlElement, type: XsdType): void {
    const name = attr(el, 'name');
    if (!name) throw new SchemaError(`a global xsd:${el.local} needs a name`, el.loc);
    this.types.set(qname(target, name), type);
  }

  private elementDecl(el: XmlElement, target: string, ns: string): { name: string; ns: string; typeRef: string | XsdType; loc: SourceLocation } {
    const name = attr(el, 'name');
    if (!name) throw new SchemaError('xsd:element needs a name (ref is outside the supported subset)', el.loc);
    for (const a of el.attributes) {
      if (!['name', 'type', 'minOccurs', 'maxOccurs'].includes(a.name) && !a.name.startsWith('xmlns')) throw new SchemaError(`attribute ${a.name} of xsd:element is outside the supported subset`, a.loc);
    }
    const typeName = attr(el, 'type');
    const inline = childElements(el).filter((c) => c.local !== 'annotation');
    if (typeName && inline.length) throw new SchemaError(`element ${name} has both a type attribute and an inline type`, el.loc);
    if (typeName) {
      const { ns: typeNs, local } = resolveQName(el, typeName);
      return { name, ns, typeRef: qname(typeNs, local), loc: el.loc };
    }
    if (inline.length !== 1) throw new SchemaError(`element ${name} needs a type`, el.loc);
    const t = inline[0]!;
    const type = t.local === 'complexType' ? this.complexType(t, target) : t.local === 'simpleType' ? this.simpleType(t) : null;
    if (!type) throw new SchemaError(`xsd:${t.local} is outside the supported subset`, t.loc);
    return { name, ns, typeRef: type, loc: el.loc };
  }

  private complexType(el: XmlElement, target: string): XsdType {
    const type = { kind: 'complex' as const, name: attr(el, 'name') ?? '(anonymous)', fields: [] as XsdField[] };
    const parts = childElements(el).filter((c) => c.local !== 'annotation');
    if (parts.length > 1 || (parts.length === 1 && parts[0]!.local !== 'sequence')) {
      throw new SchemaError(`complexType ${type.name}: only one xsd:sequence is supported`, el.loc);
    }
    const fields: PendingField[] = [];
    for (const item of parts.length ? childElements(parts[0]!) : []) {
      if (item.local === 'annotation') continue;
      if (item.local !== 'element') throw new SchemaError(`xsd:${item.local} inside a sequence is outside the supported subset`, item.loc);
      const decl = this.elementDecl(item, target, this.formNs);
      const min = occurs(item, 'minOccurs', 1);
      const max = occurs(item, 'maxOccurs', 1);
      if (max < min) throw new SchemaError(`element ${decl.name}: maxOccurs is below minOccurs`, item.loc);
      fields.push({ ...decl, min, max });
    }
    this.pendingComplex.push({ type, fields });
    return type;
  }

  private simpleType(el: XmlElement): XsdType {
    const name = attr(el, 'name') ?? '(anonymous)';
    const restriction = childElements(el).find((c) => c.local === 'restriction');
    if (!restriction) throw new SchemaError(`simpleType ${name}: only xsd:restriction is supported`, el.loc);
    const base = resolveQName(restriction, attr(restriction, 'base') ?? '');
    if (base.ns !== XSD_NS || !BUILT_INS.includes(base.local as BuiltInType)) throw new SchemaError(`simpleType ${name}: the base must be a supported built-in`, restriction.loc);
    const values: string[] = [];
    for (const facet of childElements(restriction)) {
      if (facet.local === 'annotation') continue;
      if (facet.local !== 'enumeration') throw new SchemaError(`simpleType ${name}: facet xsd:${facet.local} is outside the supported subset`, facet.loc);
      values.push(attr(facet, 'value') ?? '');
    }
    if (values.length === 0) return { kind: 'builtin', name: base.local as BuiltInType };
    if (base.local !== 'string') throw new SchemaError(`simpleType ${name}: enumerations must restrict xsd:string`, restriction.loc);
    return { kind: 'enum', name, values };
  }
}

function occurs(el: XmlElement, name: string, fallback: number): number {
  const v = attr(el, name);
  if (v === undefined) return fallback;
  if (v === 'unbounded') return Infinity;
  if (!/^[0-9]+$/.test(v)) throw new SchemaError(`${name}="${v}" is not a number`, el.loc);
  return Number(v);
}

/* ---------- decoding (XML → plain values), with every problem located ---------- */

/** One input problem: which part of the message, where in the request, and what is wrong. */
export class InputError extends Error {
  constructor(
    /** The message part, e.g. `makeCall/calledParty` or `chargeAmount.charge.amount`. */
    readonly part: string,
    readonly problem: string,
    readonly loc: SourceLocation | null,
    /** Set for enumerations: the valid values (ParlayX SVC0003). */
    readonly validValues: readonly string[] | null = null,
  ) {
    super(`${part}${loc ? ` (line ${loc.line}, column ${loc.column})` : ''}: ${problem}`);
    this.name = 'InputError';
  }
}

/** Namespaces that are the same but for the version segment (`…/v2_1/…` and `…/v3_0/…`) match. */
export const versionless = (ns: string): string => ns.replace(/\/v[0-9]+_[0-9]+(?=\/|$)/, '/v*');

const PARLAYX_NS_ROOT = 'http://www.csapi.org/schema/parlayx/';

/**
 * Fields are matched by name. Clients disagree on their namespace (the standard's types are
 * unqualified, generated stubs qualify them, node-soap puts them in the wrapper's namespace):
 * no namespace, the declared one in any version, or another ParlayX namespace are all accepted;
 * a foreign namespace is not.
 */
function acceptableNamespace(actual: string, declared: string): boolean {
  return actual === '' || versionless(actual) === versionless(declared) || actual.startsWith(PARLAYX_NS_ROOT);
}

const INT32 = [-(2 ** 31), 2 ** 31 - 1];
const INT64_MAX = 2n ** 63n - 1n;
const DATE_TIME = /^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$/;

/** A built-in or enumerated value from its lexical form; throws a message for people. */
export function parseSimple(type: XsdType, raw: string): unknown {
  if (type.kind === 'enum') {
    const v = raw.trim();
    if (!type.values.includes(v)) throw new Error(`'${v}' is not one of ${type.values.join(', ')}`);
    return v;
  }
  if (type.kind !== 'builtin') throw new Error('expected a simple value');
  const v = type.name === 'string' ? raw : raw.trim();
  switch (type.name) {
    case 'string': return v;
    case 'anyURI':
      if (v === '' || /\s/.test(v)) throw new Error(`'${v}' is not a URI`);
      return v;
    case 'int': case 'long': {
      if (!/^[+-]?[0-9]+$/.test(v)) throw new Error(`'${v}' is not an integer`);
      const n = BigInt(v);
      if (type.name === 'int' ? n < INT32[0]! || n > INT32[1]! : n > INT64_MAX || n < -INT64_MAX - 1n) throw new Error(`${v} is out of range for xsd:${type.name}`);
      return Number.isSafeInteger(Number(n)) ? Number(n) : v;
    }
    case 'decimal':
      // Kept as text: amounts are converted exactly to minor units by whoever knows the currency.
      if (!/^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(v)) throw new Error(`'${v}' is not a decimal number`);
      return v;
    case 'boolean':
      if (v === 'true' || v === '1') return true;
      if (v === 'false' || v === '0') return false;
      throw new Error(`'${v}' is not a boolean (true, false, 1 or 0)`);
    case 'dateTime':
      if (!DATE_TIME.test(v) || Number.isNaN(Date.parse(v))) throw new Error(`'${v}' is not an xsd:dateTime (e.g. 2026-12-05T12:00:00Z)`);
      return v;
    case 'float': case 'double': {
      const n = v === 'INF' ? Infinity : v === '-INF' ? -Infinity : Number(v);
      if (v === '' || (Number.isNaN(n) && v !== 'NaN')) throw new Error(`'${v}' is not a number`);
      return n;
    }
  }
}

/**
 * Decodes an element's content as `type`. Children may come in any order (lenient towards
 * hand-written clients); names, namespaces (any version), counts and values are checked.
 * Repeated fields become arrays (empty when absent), absent optional fields are left out.
 */
export function decodeXml(el: XmlElement, type: XsdType, part: string): unknown {
  if (type.kind !== 'complex') {
    if (childElements(el).length) throw new InputError(part, 'expected a simple value, found child elements', el.loc);
    try {
      return parseSimple(type, textContent(el));
    } catch (e) {
      throw new InputError(part, (e as Error).message, el.loc, type.kind === 'enum' ? type.values : null);
    }
  }
  for (const c of el.children) {
    if (c.kind === 'text' && c.text.trim() !== '') throw new InputError(part, `text is not allowed here ('${c.text.trim().slice(0, 40)}')`, c.loc);
  }
  const byName = new Map<string, XmlElement[]>();
  for (const child of childElements(el)) {
    const field = type.fields.find((f) => f.name === child.local);
    if (!field) throw new InputError(`${part}/${child.local}`, `unknown element (expected ${type.fields.map((f) => f.name).join(', ') || 'no content'})`, child.loc);
    if (!acceptableNamespace(child.uri, field.ns)) throw new InputError(`${part}/${child.local}`, `wrong namespace '${child.uri}' (expected '${field.ns}')`, child.loc);
    const list = byName.get(field.name) ?? [];
    list.push(child);
    byName.set(field.name, list);
  }
  const out: Record<string, unknown> = {};
  for (const field of type.fields) {
    const found = byName.get(field.name) ?? [];
    if (found.length < field.min) throw new InputError(`${part}/${field.name}`, field.min === 1 ? 'missing' : `at least ${field.min} expected, found ${found.length}`, el.loc);
    if (found.length > field.max) throw new InputError(`${part}/${field.name}`, `at most ${field.max} allowed, found ${found.length}`, found[field.max]!.loc);
    const values = found.map((c, i) => decodeXml(c, field.type, field.max > 1 ? `${part}/${field.name}[${i}]` : `${part}/${field.name}`));
    if (field.max > 1) out[field.name] = values;
    else if (values.length) out[field.name] = values[0];
  }
  return out;
}

/** Decodes a JSON value as `type`, with the same checks as XML (the REST mirror). */
export function decodeJson(value: unknown, type: XsdType, part: string): unknown {
  if (type.kind !== 'complex') {
    if (value === null || typeof value === 'object') throw new InputError(part, `expected a ${type.kind === 'enum' ? 'string' : type.name} value, found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object'}`, null, type.kind === 'enum' ? type.values : null);
    try {
      return parseSimple(type, String(value));
    } catch (e) {
      throw new InputError(part, (e as Error).message, null, type.kind === 'enum' ? type.values : null);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(part, 'expected an object', null);
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!type.fields.some((f) => f.name === key)) throw new InputError(`${part}.${key}`, `unknown property (expected ${type.fields.map((f) => f.name).join(', ') || 'none'})`, null);
  }
  const out: Record<string, unknown> = {};
  for (const field of type.fields) {
    const v = obj[field.name];
    const list = v === undefined || v === null ? [] : field.max > 1 ? (Array.isArray(v) ? v : [v]) : [v];
    if (field.max <= 1 && Array.isArray(v)) throw new InputError(`${part}.${field.name}`, 'expected one value, found an array', null);
    if (list.length < field.min) throw new InputError(`${part}.${field.name}`, field.min === 1 ? 'missing' : `at least ${field.min} expected, found ${list.length}`, null);
    if (list.length > field.max) throw new InputError(`${part}.${field.name}`, `at most ${field.max} allowed, found ${list.length}`, null);
    const values = list.map((x, i) => decodeJson(x, field.type, field.max > 1 ? `${part}.${field.name}[${i}]` : `${part}.${field.name}`));
    if (field.max > 1) out[field.name] = values;
    else if (values.length) out[field.name] = values[0];
  }
  return out;
}

/* ---------- encoding (plain values → XML) ---------- */

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function formatSimple(type: XsdType, value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (type.kind === 'builtin' && type.name === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

/**
 * Writes `<name>` with `value` as `type`; `nsFor` maps a schema namespace to the one the client
 * used (same service, its version). Default namespace declarations only where the namespace
 * changes, so the output needs no prefixes.
 */
export function encodeXml(name: string, ns: string, type: XsdType, value: unknown, nsFor: (ns: string) => string, parentNs = ''): string {
  const actual = nsFor(ns);
  const open = actual === parentNs ? `<${name}` : `<${name} xmlns="${escapeXml(actual)}"`;
  if (type.kind !== 'complex') return `${open}>${escapeXml(formatSimple(type, value))}</${name}>`;
  const obj = (value ?? {}) as Record<string, unknown>;
  let inner = '';
  for (const field of type.fields) {
    const v = obj[field.name];
    const list = v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
    if (list.length < field.min) throw new Error(`internal: ${type.name}.${field.name} is required in an answer`);
    for (const item of list) inner += encodeXml(field.name, field.ns, field.type, item, nsFor, actual);
  }
  return inner === '' ? `${open}/>` : `${open}>${inner}</${name}>`;
}

/** A JSON-ready copy of a value per `type` (bigints and dates become strings, absent fields dropped). */
export function encodeJson(type: XsdType, value: unknown): unknown {
  if (type.kind !== 'complex') {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'bigint') return value.toString();
    return value;
  }
  const obj = (value ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of type.fields) {
    const v = obj[field.name];
    if (v === undefined || v === null) continue;
    out[field.name] = field.max > 1 ? (Array.isArray(v) ? v : [v]).map((x) => encodeJson(field.type, x)) : encodeJson(field.type, v);
  }
  return out;
}
