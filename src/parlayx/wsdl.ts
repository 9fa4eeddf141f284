/**
 * Our ParlayX WSDLs (schemas/parlayx/*.wsdl) read into operation descriptions: for each operation
 * the request and answer wrapper elements with their types. The server decodes requests and writes
 * answers from these, so the WSDL a client reads and the service it calls cannot disagree.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attr, childElements, type XmlElement } from '../parse/xml-tree.js';
import { readXmlFile, resolveQName, SchemaError, SchemaSet, versionless, type XsdElement } from './xsd.js';

export const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
const SOAP_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';

/** The folder holding our WSDLs and schemas (in the package, next to dist/). */
export const PARLAYX_SCHEMA_DIR = fileURLToPath(new URL('../../../schemas/parlayx/', import.meta.url));

export interface Operation {
  /** The WSDL's file name without `.wsdl`, e.g. `third_party_call`: also the URL path segment. */
  readonly service: string;
  readonly name: string;
  readonly input: XsdElement;
  /** null for one-way operations. */
  readonly output: XsdElement | null;
  /** The fault elements (ServiceException, PolicyException) by name. */
  readonly faults: ReadonlyMap<string, XsdElement>;
}

export interface ServiceDescription {
  readonly name: string;
  readonly file: string;
  readonly operations: ReadonlyMap<string, Operation>;
}

/** Every WSDL of a folder, with a lookup of operations by their request wrapper element. */
export class ParlayxCatalog {
  readonly services = new Map<string, ServiceDescription>();
  private readonly byWrapper = new Map<string, Operation>();

  constructor(readonly dir: string = PARLAYX_SCHEMA_DIR) {
    const schemas = new SchemaSet();
    const pending: { name: string; file: string; root: XmlElement }[] = [];
    for (const entry of readdirSync(dir).filter((f) => f.endsWith('.wsdl')).sort()) {
      const file = join(dir, entry);
      const root = readXmlFile(file);
      if (root.uri !== WSDL_NS || root.local !== 'definitions') throw new SchemaError(`${file}: not a WSDL 1.1 document`);
      for (const types of childElements(root).filter((c) => c.uri === WSDL_NS && c.local === 'types')) {
        for (const schema of childElements(types)) schemas.addSchema(schema, file);
      }
      pending.push({ name: basename(entry, '.wsdl'), file, root });
    }
    schemas.resolveAll();
    for (const p of pending) {
      const service = readOperations(p.name, p.file, p.root, schemas);
      this.services.set(p.name, service);
      for (const op of service.operations.values()) {
        // Operations are found by their wrapper's namespace (any version) and name, whatever URL they were posted to.
        this.byWrapper.set(`${versionless(op.input.ns)} ${op.input.name}`, op);
      }
    }
  }

  /** The operation whose request wrapper is `{ns}local`, accepting any version of the namespace. */
  operationFor(ns: string, local: string): Operation | undefined {
    return this.byWrapper.get(`${versionless(ns)} ${local}`);
  }

  operation(service: string, name: string): Operation | undefined {
    return this.services.get(service)?.operations.get(name);
  }
}

function readOperations(name: string, file: string, root: XmlElement, schemas: SchemaSet): ServiceDescription {
  const targetNs = attr(root, 'targetNamespace') ?? '';
  const messages = new Map<string, XsdElement>();
  const children = childElements(root).filter((c) => c.uri === WSDL_NS);
  for (const message of children.filter((c) => c.local === 'message')) {
    const parts = childElements(message).filter((c) => c.local === 'part');
    if (parts.length !== 1) throw new SchemaError(`message ${attr(message, 'name')}: document/literal wrapped needs exactly one part`, message.loc);
    const elementRef = attr(parts[0]!, 'element');
    if (!elementRef) throw new SchemaError(`message ${attr(message, 'name')}: the part must name an element`, parts[0]!.loc);
    const { ns, local } = resolveQName(parts[0]!, elementRef);
    const element = schemas.element(ns, local);
    if (!element) throw new SchemaError(`message ${attr(message, 'name')}: element {${ns}}${local} is not declared`, parts[0]!.loc);
    messages.set(`{${targetNs}}${attr(message, 'name')}`, element);
  }
  const messageOf = (el: XmlElement | undefined): XsdElement | null => {
    if (!el) return null;
    const { ns, local } = resolveQName(el, attr(el, 'message') ?? '');
    const m = messages.get(`{${ns}}${local}`);
    if (!m) throw new SchemaError(`operation refers to an undeclared message ${local}`, el.loc);
    return m;
  };
  const operations = new Map<string, Operation>();
  for (const portType of children.filter((c) => c.local === 'portType')) {
    for (const op of childElements(portType).filter((c) => c.local === 'operation')) {
      const opName = attr(op, 'name') ?? '';
      const input = messageOf(childElements(op).find((c) => c.local === 'input'));
      if (!input) throw new SchemaError(`operation ${opName} has no input`, op.loc);
      const faults = new Map<string, XsdElement>();
      for (const f of childElements(op).filter((c) => c.local === 'fault')) {
        const element = messageOf(f)!;
        faults.set(element.name, element);
      }
      operations.set(opName, { service: name, name: opName, input, output: messageOf(childElements(op).find((c) => c.local === 'output')), faults });
    }
  }
  checkBinding(children, file);
  return { name, file, operations };
}

/** We serve document/literal SOAP 1.1 only: a WSDL that says otherwise would mislead its clients. */
function checkBinding(children: XmlElement[], file: string): void {
  for (const binding of children.filter((c) => c.local === 'binding')) {
    const soap = childElements(binding).find((c) => c.uri === SOAP_BINDING_NS && c.local === 'binding');
    if (!soap) throw new SchemaError(`${file}: binding ${attr(binding, 'name')} is not a SOAP 1.1 binding`, binding.loc);
    if ((attr(soap, 'style') ?? 'document') !== 'document') throw new SchemaError(`${file}: binding ${attr(binding, 'name')} must be document style`, soap.loc);
  }
}
