import type {
  ActionDefinition, ActionNode, CodeRef, CompiledChart, ContentDecl, DataDecl, DoneData, ExecBlock,
  InlineValue, InvokeDef, ParamDecl, StateKind, StateNode, Transition,
} from '../model/chart.js';
import { hasErrors, type DiagnosticSink } from '../model/diagnostics.js';
import type { SourceLocation } from '../model/location.js';
import { attr, attrNode, childElements, firstContentLoc, serializeXml, textContent, type XmlElement } from '../parse/xml-tree.js';
import { SCXML_NS } from '../exec/core-actions.js';
import { classifyText } from '../exec/values.js';
import type { CompileContext } from './compile-context.js';
import { lintChart } from './lint.js';
import type { DataModelDefinition } from '../datamodel/datamodel.js';
import { findLCCA, isDescendant } from '../semantics/configuration.js';

/** What building a chart needs from the engine: registries and resource access. */
export interface BuildEnvironment {
  readonly sink: DiagnosticSink;
  readonly actions: ReadonlyMap<string, ActionDefinition<unknown>>;
  readonly datamodels: ReadonlyMap<string, DataModelDefinition>;
  readonly readResource: (url: URL) => string;
  /** Compile an embedded chart (invoke content) with the same environment. */
  readonly compileEmbedded: (el: XmlElement, baseUrl: URL, sink: DiagnosticSink) => CompiledChart | null;
  /** sha256 of the document text. */
  readonly fingerprint: string;
}

export const actionKey = (namespace: string, name: string) => `${namespace} ${name}`;

const STATE_CHILDREN: Record<string, readonly string[]> = {
  scxml: ['state', 'parallel', 'final', 'datamodel', 'script'],
  state: ['onentry', 'onexit', 'transition', 'initial', 'state', 'parallel', 'final', 'history', 'datamodel', 'invoke'],
  parallel: ['onentry', 'onexit', 'transition', 'state', 'parallel', 'history', 'datamodel', 'invoke'],
  final: ['onentry', 'onexit', 'donedata'],
  history: ['transition'],
};
const STATE_ATTRIBUTES: Record<string, readonly string[]> = {
  scxml: ['initial', 'name', 'version', 'datamodel', 'binding', 'exmode'],
  state: ['id', 'initial'],
  parallel: ['id'],
  final: ['id'],
  history: ['id', 'type'],
};
/** Every element the SCXML namespace defines; others in it are ORX0101. */
const SCXML_ELEMENTS = new Set([
  'scxml', 'state', 'parallel', 'transition', 'initial', 'final', 'onentry', 'onexit', 'history',
  'raise', 'if', 'elseif', 'else', 'foreach', 'log', 'datamodel', 'data', 'assign', 'donedata',
  'content', 'param', 'script', 'send', 'cancel', 'invoke', 'finalize',
]);
/** Orchestrion's own attributes on SCXML elements (e.g. orx:sandbox on <scxml>). */
export const ORCHESTRION_NS = 'urn:orchestrion:scxml';
/** xsd:ID (an NCName, letters beyond ASCII included); ':' is tolerated, as many charts use it. */
const ID_PATTERN = /^[\p{L}_][\p{L}\p{M}\p{N}_.\-\u00B7:]*$/u;

/**
 * Builds the immutable chart model from an <scxml> element, reporting every structural problem
 * (W3C section 3 onwards) to the sink. Returns a chart even with errors, so that all
 * diagnostics are found in one pass; the loader refuses to run a chart with errors.
 */
export function buildChart(root: XmlElement, file: string, baseUrl: URL, env: BuildEnvironment): CompiledChart {
  const { sink } = env;
  if (!(root.uri === SCXML_NS && root.local === 'scxml')) {
    // Checked against the wrong vocabulary, every element would be an error: one says it all.
    sink.error('ORX0003', root.loc, `the root element must be <scxml> in namespace ${SCXML_NS}, found <${root.name}>${root.uri ? ` in '${root.uri}'` : ' in no namespace'}`);
    return emptyChart(root, file, baseUrl, sink);
  }
  const code: CodeRef[] = [];
  const states: StateNode[] = [];
  const transitions: Transition[] = [];
  const stateById = new Map<string, StateNode>();
  const pendingTargets: { t: Transition; ids: string[]; loc: SourceLocation; attrName: string }[] = [];
  const pendingInitials: StateNode[] = [];
  const usedIds = new Set<string>();
  const invokes: InvokeDef[] = [];

  const datamodelName = attr(root, 'datamodel') ?? 'ecmascript';
  let datamodel = env.datamodels.get(datamodelName);
  if (!datamodel) {
    sink.error('ORX0113', attrNode(root, 'datamodel')?.loc ?? root.loc,
      `datamodel '${datamodelName}' is not supported (available: ${[...env.datamodels.keys()].join(', ')})`);
    datamodel = env.datamodels.get('ecmascript')!;
  }
  const sandboxAttr = root.attributes.find((a) => a.uri === ORCHESTRION_NS && a.local === 'sandbox');
  if (sandboxAttr && sandboxAttr.value !== 'fast' && sandboxAttr.value !== 'isolated') {
    sink.error('ORX0108', sandboxAttr.loc, `sandbox must be "fast" or "isolated", not '${sandboxAttr.value}'`);
  }
  const binding = attr(root, 'binding') ?? 'early';
  if (binding !== 'early' && binding !== 'late') sink.error('ORX0108', attrNode(root, 'binding')!.loc, `binding must be "early" or "late", not '${binding}'`);

  // Collect ids first so generated ids never clash with authored ones.
  const collectIds = (el: XmlElement) => {
    if (el.uri === SCXML_NS && el.local in STATE_CHILDREN) {
      const id = attr(el, 'id');
      if (id !== undefined) usedIds.add(id);
    }
    for (const c of childElements(el)) collectIds(c);
  };
  collectIds(root);
  let anon = 0;
  const generateId = () => {
    let id: string;
    do id = `__state${anon++}`; while (usedIds.has(id));
    usedIds.add(id);
    return id;
  };

  const ctx: CompileContext = {
    sink, file,
    code(kind, source, loc) {
      const ref: CodeRef = { id: code.length, kind, source, loc };
      code.push(ref);
      const problem = datamodel!.checkSyntax(ref);
      // An ill-formed expression raises error.execution when evaluated (W3C 5.9, tests 312–314):
      // reported here so authors see it before it bites, but the chart still loads.
      if (problem) sink.warning(kind === 'location' ? 'ORX0202' : 'ORX0201', loc, `${kind} '${source.trim()}' does not compile: ${problem}`);
      return ref;
    },
    attr(el, name, required = false) {
      const v = attr(el, name);
      if (v === undefined && required) sink.error('ORX0106', el.loc, `<${el.name}> requires the attribute '${name}'`);
      return v;
    },
    codeAttr(el, name, kind, required = false) {
      const a = attrNode(el, name);
      if (!a) {
        if (required) sink.error('ORX0106', el.loc, `<${el.name}> requires the attribute '${name}'`);
        return null;
      }
      return ctx.code(kind, a.value, a.loc);
    },
    exclusive(el, names, required = false) {
      // In source order, so the report points at the attribute that makes the conflict.
      const present = el.attributes.filter((a) => a.uri === '' && names.includes(a.name)).map((a) => a.name);
      if (present.length > 1) sink.error('ORX0107', attrNode(el, present[1])!.loc, `<${el.name}> may not have both '${present[0]}' and '${present[1]}'`);
      if (required && present.length === 0) sink.error('ORX0106', el.loc, `<${el.name}> requires one of ${names.map((n) => `'${n}'`).join(' or ')}`);
      return present.length;
    },
    allowOnly(el, allowed) {
      for (const a of el.attributes) {
        if (a.uri !== '' || allowed.includes(a.name)) continue;
        const hint = closest(a.name, allowed);
        sink.error('ORX0109', a.loc, `<${el.name}> has no attribute '${a.name}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
      }
    },
    block(children) {
      const out: ActionNode[] = [];
      for (const child of children) {
        const node = compileAction(child);
        if (node) out.push(node);
      }
      return out;
    },
    params(el) {
      return childElements(el).filter((c) => c.uri === SCXML_NS && c.local === 'param').map((p): ParamDecl => {
        ctx.allowOnly(p, ['name', 'expr', 'location']);
        ctx.exclusive(p, ['expr', 'location'], true);
        return {
          name: ctx.attr(p, 'name', true) ?? '',
          expr: ctx.codeAttr(p, 'expr', 'expr'),
          location: ctx.codeAttr(p, 'location', 'expr'),
          loc: p.loc,
        };
      });
    },
    content(el) {
      const contents = childElements(el).filter((c) => c.uri === SCXML_NS && c.local === 'content');
      if (contents.length === 0) return null;
      if (contents.length > 1) sink.error('ORX0112', contents[1].loc, `<${el.name}> may have only one <content>`);
      const c = contents[0];
      ctx.allowOnly(c, ['expr']);
      const expr = ctx.codeAttr(c, 'expr', 'expr');
      const hasBody = c.children.some((n) => n.kind === 'element' || n.text.trim() !== '');
      if (expr && hasBody) sink.error('ORX0107', c.loc, '<content> may have an expr attribute or children, not both');
      return { expr, inline: expr ? null : ctx.inlineValue(c), loc: c.loc } satisfies ContentDecl;
    },
    inlineValue(el) {
      const elements = childElements(el);
      if (elements.length > 1) sink.error('ORX0112', elements[1].loc, `<${el.name}> content must be a single XML element or text`);
      if (elements.length >= 1) return { kind: 'xml', xml: serializeXml(elements[0]) } satisfies InlineValue;
      return classifyText(textContent(el));
    },
    readResource(src, loc) {
      try {
        return env.readResource(new URL(src, baseUrl));
      } catch (err) {
        sink.error('ORX0004', loc, `cannot load '${src}': ${(err as Error).message}`);
        return null;
      }
    },
    compileChild(el) {
      return env.compileEmbedded(el, baseUrl, sink);
    },
  };

  function compileAction(el: XmlElement): ActionNode | null {
    const def = env.actions.get(actionKey(el.uri, el.local));
    if (!def) {
      if (el.uri === SCXML_NS) {
        if (SCXML_ELEMENTS.has(el.local)) sink.error('ORX0103', el.loc, `<${el.local}> is not executable content and is not allowed here`);
        else sink.error('ORX0101', el.loc, `<${el.local}> is not an SCXML element`);
      } else {
        sink.error('ORX0102', el.loc, `no action is registered for <${el.name}> (namespace '${el.uri || '(none)'}')`);
      }
      return null;
    }
    return { action: def, compiled: def.compile(el, ctx), loc: el.loc, element: el.name };
  }

  function checkId(el: XmlElement): string | undefined {
    const a = attrNode(el, 'id');
    if (!a) return undefined;
    if (!ID_PATTERN.test(a.value)) sink.error('ORX0114', a.loc, `'${a.value}' is not a valid id`);
    return a.value;
  }

  function reportText(el: XmlElement) {
    for (const c of el.children) {
      if (c.kind === 'text' && c.text.trim() !== '') sink.error('ORX0115', firstContentLoc(c), `text is not allowed inside <${el.local}>`);
    }
  }

  function buildState(el: XmlElement, parent: StateNode | null): StateNode {
    const kind = (el.local === 'scxml' ? 'scxml' : el.local) as StateKind;
    ctx.allowOnly(el, STATE_ATTRIBUTES[kind]);
    const authoredId = kind === 'scxml' ? undefined : checkId(el);
    const id = authoredId ?? (kind === 'scxml' ? '__scxml' : generateId());
    const historyType = kind === 'history' ? (attr(el, 'type') ?? 'shallow') : null;
    if (historyType !== null && historyType !== 'shallow' && historyType !== 'deep') {
      sink.error('ORX0108', attrNode(el, 'type')!.loc, `history type must be "shallow" or "deep", not '${historyType}'`);
    }
    const state: StateNode = {
      index: states.length, id, generatedId: authoredId === undefined, kind, parent,
      children: [], ancestors: parent ? [parent, ...parent.ancestors] : [], depth: parent ? parent.depth + 1 : 0,
      transitions: [], initial: null, onentry: [], onexit: [], data: [], invokes: [], donedata: null,
      historyType: historyType as StateNode['historyType'], loc: el.loc, isAtomic: false, isCompound: false,
    };
    states.push(state);
    if (authoredId !== undefined) {
      const prior = stateById.get(authoredId);
      if (prior) sink.error('ORX0105', attrNode(el, 'id')!.loc, `duplicate state id '${authoredId}' (first defined at line ${prior.loc.line})`);
      else stateById.set(authoredId, state);
    } else stateById.set(id, state);

    reportText(el);
    const allowed = STATE_CHILDREN[kind];
    let initialElement: XmlElement | null = null;
    let datamodelCount = 0;
    for (const child of childElements(el)) {
      if (child.uri !== SCXML_NS) {
        sink.error('ORX0102', child.loc, `no handler is registered for <${child.name}> (namespace '${child.uri || '(none)'}') inside <${el.local}>`);
        continue;
      }
      if (!SCXML_ELEMENTS.has(child.local)) {
        sink.error('ORX0101', child.loc, `<${child.local}> is not an SCXML element`);
        continue;
      }
      if (!allowed.includes(child.local)) {
        sink.error('ORX0103', child.loc, `<${child.local}> is not allowed inside <${el.local}>`);
        continue;
      }
      switch (child.local) {
        case 'state': case 'parallel': case 'final': case 'history':
          state.children.push(buildState(child, state));
          break;
        case 'transition':
          if (kind === 'history') {
            if (state.initial) sink.error('ORX0111', child.loc, 'a history state has exactly one transition');
            else state.initial = buildTransition(child, state, false);
          } else state.transitions.push(buildTransition(child, state, true));
          break;
        case 'onentry':
          ctx.allowOnly(child, []);
          state.onentry.push(ctx.block(childElements(child)));
          break;
        case 'onexit':
          ctx.allowOnly(child, []);
          state.onexit.push(ctx.block(childElements(child)));
          break;
        case 'initial':
          if (initialElement) sink.error('ORX0112', child.loc, `<${el.local}> may have only one <initial>`);
          initialElement = child;
          break;
        case 'datamodel':
          if (++datamodelCount > 1) sink.error('ORX0112', child.loc, `<${el.local}> may have only one <datamodel>`);
          state.data.push(...buildDatamodel(child));
          break;
        case 'invoke':
          state.invokes.push(buildInvoke(child, state));
          break;
        case 'donedata':
          if (state.donedata) sink.error('ORX0112', child.loc, '<final> may have only one <donedata>');
          state.donedata = buildDonedata(child);
          break;
        case 'script':
          break; // top-level scripts are compiled below, in document order
      }
    }
    const proper = state.children.filter((c) => c.kind !== 'history');
    state.isCompound = kind === 'state' && proper.length > 0;
    state.isAtomic = (kind === 'state' && proper.length === 0) || kind === 'final';

    if (kind === 'history') {
      if (!parent || (parent.kind !== 'state' && parent.kind !== 'parallel')) sink.error('ORX0111', el.loc, 'a <history> must be the child of a <state> or <parallel>');
      if (!state.initial) sink.error('ORX0111', el.loc, `history state '${id}' needs a default <transition>`);
      else if (state.initial.events.length || state.initial.cond) sink.error('ORX0111', state.initial.loc, 'the default transition of a history state may have neither event nor cond');
    }
    if (kind === 'state' || kind === 'scxml') buildInitial(el, state, initialElement, proper);
    return state;
  }

  function buildInitial(el: XmlElement, state: StateNode, initialElement: XmlElement | null, proper: StateNode[]) {
    const initialAttr = attrNode(el, 'initial');
    if (initialAttr && initialElement) sink.error('ORX0110', initialElement.loc, `<${el.local}> may not have both an initial attribute and an <initial> element`);
    if (proper.length === 0) {
      if (initialAttr) sink.error('ORX0110', initialAttr.loc, 'an atomic state may not have an initial attribute');
      if (initialElement) sink.error('ORX0110', initialElement.loc, 'an atomic state may not have an <initial> child');
      if (state.kind === 'scxml') sink.error('ORX0103', el.loc, '<scxml> needs at least one <state>, <parallel> or <final> child');
      return;
    }
    if (initialElement) {
      ctx.allowOnly(initialElement, []);
      reportText(initialElement);
      const ts = childElements(initialElement).filter((c) => c.uri === SCXML_NS && c.local === 'transition');
      for (const other of childElements(initialElement)) {
        if (!(other.uri === SCXML_NS && other.local === 'transition')) sink.error('ORX0103', other.loc, `<${other.local}> is not allowed inside <initial>`);
      }
      if (ts.length !== 1) {
        sink.error('ORX0110', initialElement.loc, '<initial> must contain exactly one <transition>');
        if (ts.length === 0) return;
      }
      const t = buildTransition(ts[0], state, false);
      if (t.events.length || t.cond) sink.error('ORX0110', t.loc, 'the transition of <initial> may have neither event nor cond');
      if (attr(ts[0], 'target') === undefined) sink.error('ORX0110', t.loc, 'the transition of <initial> needs a target');
      state.initial = t;
      pendingInitials.push(state);
      return;
    }
    if (initialAttr) {
      const t = syntheticTransition(state, initialAttr.loc);
      pendingTargets.push({ t, ids: initialAttr.value.split(/\s+/).filter(Boolean), loc: initialAttr.loc, attrName: 'initial' });
      pendingInitials.push(state);
      state.initial = t;
      return;
    }
    const t = syntheticTransition(state, state.loc);
    (t.targets as StateNode[]).push(proper[0]);
    state.initial = t;
  }

  function syntheticTransition(source: StateNode, loc: SourceLocation): Transition {
    return { index: -1, source, events: [], cond: null, targets: [], type: 'external', content: [], domain: null, loc };
  }

  function buildTransition(el: XmlElement, source: StateNode, selectable: boolean): Transition {
    ctx.allowOnly(el, ['event', 'cond', 'target', 'type']);
    const typeValue = attr(el, 'type') ?? 'external';
    if (typeValue !== 'internal' && typeValue !== 'external') sink.error('ORX0108', attrNode(el, 'type')!.loc, `transition type must be "internal" or "external", not '${typeValue}'`);
    const eventAttr = attr(el, 'event');
    const events = eventAttr === undefined ? [] : eventAttr.split(/\s+/).filter(Boolean);
    if (eventAttr !== undefined && events.length === 0) sink.error('ORX0108', attrNode(el, 'event')!.loc, 'the event attribute is empty');
    const t: Transition = {
      index: selectable ? transitions.length : -1, source, events,
      cond: ctx.codeAttr(el, 'cond', 'cond'), targets: [], type: typeValue as Transition['type'],
      content: ctx.block(childElements(el)), domain: null, loc: el.loc,
    };
    if (selectable) transitions.push(t);
    const target = attrNode(el, 'target');
    if (target) pendingTargets.push({ t, ids: target.value.split(/\s+/).filter(Boolean), loc: target.loc, attrName: 'target' });
    else if (!selectable) sink.error('ORX0106', el.loc, 'this <transition> requires a target');
    if (selectable && !target && events.length === 0 && !t.cond) {
      sink.warning('ORX0304', el.loc, 'an eventless, targetless transition without cond is always enabled and loops forever');
    }
    return t;
  }

  function buildDatamodel(el: XmlElement): DataDecl[] {
    ctx.allowOnly(el, []);
    reportText(el);
    const out: DataDecl[] = [];
    for (const d of childElements(el)) {
      if (!(d.uri === SCXML_NS && d.local === 'data')) {
        sink.error(d.uri === SCXML_NS ? 'ORX0103' : 'ORX0102', d.loc, `<${d.name}> is not allowed inside <datamodel>`);
        continue;
      }
      ctx.allowOnly(d, ['id', 'src', 'expr']);
      const id = ctx.attr(d, 'id', true) ?? '';
      const hasBody = d.children.some((n) => n.kind === 'element' || n.text.trim() !== '');
      const n = ctx.exclusive(d, ['src', 'expr']);
      if (n && hasBody) sink.error('ORX0107', d.loc, '<data> may have src, expr or content, only one of them');
      let inline: InlineValue | null = null;
      // With another source beside it (an error already), the src is not read: one report, not two.
      const src = n === 1 && !hasBody ? attr(d, 'src') : undefined;
      if (src !== undefined) {
        const text = ctx.readResource(src, attrNode(d, 'src')!.loc);
        if (text !== null) inline = /^\s*</.test(text) ? { kind: 'xml', xml: text.trim() } : classifyText(text);
      } else if (hasBody) inline = ctx.inlineValue(d);
      out.push({ id, expr: ctx.codeAttr(d, 'expr', 'expr'), inline, loc: d.loc });
    }
    return out;
  }

  function buildDonedata(el: XmlElement): DoneData {
    ctx.allowOnly(el, []);
    const content = ctx.content(el);
    const params = ctx.params(el);
    if (content && params.length) sink.error('ORX0107', el.loc, '<donedata> may have <content> or <param>s, not both');
    return { content, params };
  }

  function buildInvoke(el: XmlElement, state: StateNode): InvokeDef {
    ctx.allowOnly(el, ['type', 'typeexpr', 'src', 'srcexpr', 'id', 'idlocation', 'namelist', 'autoforward']);
    ctx.exclusive(el, ['type', 'typeexpr']);
    ctx.exclusive(el, ['id', 'idlocation']);
    const content = ctx.content(el);
    const nSrc = ctx.exclusive(el, ['src', 'srcexpr']);
    if (nSrc && content) sink.error('ORX0107', el.loc, '<invoke> may have src/srcexpr or <content>, not both');
    const params = ctx.params(el);
    const namelistText = attr(el, 'namelist');
    if (namelistText !== undefined && params.length) sink.error('ORX0107', el.loc, '<invoke> may have namelist or <param>, not both');
    const autoforward = attr(el, 'autoforward') ?? 'false';
    if (autoforward !== 'true' && autoforward !== 'false') sink.error('ORX0108', attrNode(el, 'autoforward')!.loc, 'autoforward must be "true" or "false"');
    const finalizes = childElements(el).filter((c) => c.uri === SCXML_NS && c.local === 'finalize');
    if (finalizes.length > 1) sink.error('ORX0112', finalizes[1].loc, '<invoke> may have only one <finalize>');
    for (const c of childElements(el)) {
      if (!(c.uri === SCXML_NS && ['param', 'finalize', 'content'].includes(c.local))) sink.error(c.uri === SCXML_NS ? 'ORX0103' : 'ORX0102', c.loc, `<${c.name}> is not allowed inside <invoke>`);
    }
    let inlineChart: CompiledChart | null = null;
    const contentEl = childElements(el).find((c) => c.uri === SCXML_NS && c.local === 'content');
    const embedded = contentEl && childElements(contentEl)[0];
    if (embedded && embedded.uri === SCXML_NS && embedded.local === 'scxml') inlineChart = ctx.compileChild(embedded);
    const def: InvokeDef = {
      index: invokes.length, state,
      type: attr(el, 'type') ?? null, typeexpr: ctx.codeAttr(el, 'typeexpr', 'expr'),
      src: attr(el, 'src') ?? null, srcexpr: ctx.codeAttr(el, 'srcexpr', 'expr'),
      id: attr(el, 'id') ?? null, idlocation: ctx.codeAttr(el, 'idlocation', 'location'),
      namelist: (namelistText ?? '').split(/\s+/).filter(Boolean).map((n) => ctx.code('expr', n, el.loc)),
      params, content, inlineChart, autoforward: autoforward === 'true',
      finalize: finalizes.length ? (ctx.allowOnly(finalizes[0], []), ctx.block(childElements(finalizes[0]))) : [],
      loc: el.loc,
    };
    invokes.push(def);
    return def;
  }

  // ---- build ----
  const version = attr(root, 'version');
  if (version !== undefined && version !== '1.0') sink.error('ORX0108', attrNode(root, 'version')!.loc, `version must be "1.0", not '${version}'`);
  const rootState = buildState(root, null);
  const scripts = childElements(root).filter((c) => c.uri === SCXML_NS && c.local === 'script');
  const script: ExecBlock = ctx.block(scripts);

  // Resolve targets now that every id is known.
  for (const p of pendingTargets) {
    for (const id of p.ids) {
      const target = stateById.get(id);
      if (!target || target.generatedId) {
        const hint = closest(id, [...stateById.keys()].filter((k) => !stateById.get(k)!.generatedId));
        sink.error('ORX0104', p.loc, `${p.attrName} '${id}' does not exist${hint ? ` (did you mean '${hint}'?)` : ''}`);
      } else (p.t.targets as StateNode[]).push(target);
    }
  }
  for (const state of pendingInitials) validateInitial(state);
  for (const s of states) if (s.kind === 'history') validateHistory(s);
  for (const t of transitions) validateParallelTargets(t);
  for (const t of transitions) t.domain = staticDomain(t);
  for (const s of states) if (s.initial) s.initial.domain = staticDomain(s.initial);

  function validateInitial(state: StateNode) {
    const t = state.initial!;
    for (const target of t.targets) {
      if (!isDescendant(target, state)) sink.error('ORX0110', t.loc, `initial target '${target.id}' is not a descendant of '${state.kind === 'scxml' ? '<scxml>' : state.id}'`);
    }
    validateParallelTargets(t);
  }
  function validateHistory(h: StateNode) {
    const t = h.initial;
    if (!t) return;
    for (const target of t.targets) {
      const ok = h.historyType === 'deep' ? isDescendant(target, h.parent!) : target.parent === h.parent;
      if (!ok || target === h) {
        sink.error('ORX0111', t.loc, h.historyType === 'deep'
          ? `the default target '${target.id}' of deep history '${h.id}' must be a descendant of its parent`
          : `the default target '${target.id}' of shallow history '${h.id}' must be a sibling (a child of its parent)`);
      }
    }
  }
  /** Several targets must be compatible: none an ancestor of another, or in different regions. */
  function validateParallelTargets(t: Transition) {
    const ts = t.targets;
    for (let i = 0; i < ts.length; i++) {
      for (let j = i + 1; j < ts.length; j++) {
        const a = ts[i], b = ts[j];
        if (a === b || isDescendant(a, b) || isDescendant(b, a) || !nearestCommonAncestorIsParallel(a, b)) {
          sink.error('ORX0108', t.loc, `targets '${a.id}' and '${b.id}' cannot be active together`);
        }
      }
    }
  }

  const chart: CompiledChart = {
    file, name: attr(root, 'name') ?? null, datamodel: datamodelName,
    sandbox: sandboxAttr?.value === 'fast' || sandboxAttr?.value === 'isolated' ? sandboxAttr.value : null, binding: binding === 'late' ? 'late' : 'early',
    root: rootState, states, stateById, transitions, code, script, diagnostics: sink.items, baseUrl,
    fingerprint: env.fingerprint, embeddedIn: null,
  };
  // Charts embedded in <invoke><content> learn where they sit, so their sessions can be restored.
  for (const inv of invokes) {
    if (!inv.inlineChart) continue;
    const invoke = inv.state.invokes.indexOf(inv);
    Object.assign(inv.inlineChart, {
      embeddedIn: { chart, state: inv.state.id, invoke },
      fingerprint: `${env.fingerprint}#${inv.state.id}/${invoke}`,
    });
  }
  // Lint only a sound chart: on a broken one its warnings would mostly echo the errors.
  if (!hasErrors(sink.items)) lintChart(chart, sink);
  return chart;
}

/** The chart of a document that is not SCXML: never run (it comes with ORX0003), only returned. */
function emptyChart(root: XmlElement, file: string, baseUrl: URL, sink: DiagnosticSink): CompiledChart {
  const state: StateNode = {
    index: 0, id: '__scxml', generatedId: true, kind: 'scxml', parent: null, children: [], ancestors: [], depth: 0,
    transitions: [], initial: null, onentry: [], onexit: [], data: [], invokes: [], donedata: null, historyType: null,
    loc: root.loc, isAtomic: false, isCompound: false,
  };
  return {
    file, name: null, datamodel: 'ecmascript', sandbox: null, binding: 'early', root: state, states: [state], stateById: new Map(),
    transitions: [], code: [], script: [], diagnostics: sink.items, baseUrl, fingerprint: '', embeddedIn: null,
  };
}

/** Two unrelated states can be active together only when their nearest common ancestor is parallel. */
function nearestCommonAncestorIsParallel(a: StateNode, b: StateNode): boolean {
  for (const anc of a.ancestors) if (isDescendant(b, anc)) return anc.kind === 'parallel';
  return false;
}

/** The transition domain, when it does not depend on history values. */
function staticDomain(t: Transition): StateNode | null {
  // The document's initial transition enters from <scxml> itself, which is never exited.
  if (t.source.kind === 'scxml' && t.index === -1) return t.source;
  if (t.targets.length === 0 || t.targets.some((x) => x.kind === 'history')) return null;
  if (t.type === 'internal' && t.source.isCompound && t.targets.every((x) => isDescendant(x, t.source))) return t.source;
  return findLCCA([t.source, ...t.targets]);
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) { best = c; bestDistance = d; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
