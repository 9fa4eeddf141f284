import type { CodeRef, ContentDecl, ExecBlock, InlineValue, ParamDecl, CompiledChart } from '../model/chart.js';
import type { DiagnosticSink } from '../model/diagnostics.js';
import type { SourceLocation } from '../model/location.js';
import type { XmlElement } from '../parse/xml-tree.js';

/** What an action's compile step may use: attribute helpers, code registration, diagnostics. */
export interface CompileContext {
  readonly sink: DiagnosticSink;
  readonly file: string;
  /** Register an expression/cond/location/script of the chart; syntax is checked (warning). */
  code(kind: CodeRef['kind'], source: string, loc: SourceLocation): CodeRef;
  /** Attribute value, or undefined; reports ORX0106 when required and absent. */
  attr(el: XmlElement, name: string, required?: boolean): string | undefined;
  /** Attribute compiled as code of the given kind, or null. */
  codeAttr(el: XmlElement, name: string, kind: CodeRef['kind'], required?: boolean): CodeRef | null;
  /** Reports ORX0107 when more than one of `names` is present; returns how many are. */
  exclusive(el: XmlElement, names: readonly string[], required?: boolean): number;
  /** Reports ORX0109 for attributes (in no namespace) outside `allowed`. */
  allowOnly(el: XmlElement, allowed: readonly string[]): void;
  /** Compile child elements as executable content. */
  block(children: readonly XmlElement[]): ExecBlock;
  params(el: XmlElement): ParamDecl[];
  content(el: XmlElement): ContentDecl | null;
  inlineValue(el: XmlElement): InlineValue | null;
  /** Read a resource relative to the chart (script src, data src); null and ORX0004 on failure. */
  readResource(src: string, loc: SourceLocation): string | null;
  /** Compile an embedded <scxml> (invoke content). */
  compileChild(el: XmlElement): CompiledChart | null;
}
