// run-scxml viz: DOT, Mermaid and SVG diagrams of charts, trace highlighting, the CLI contract.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import { createEngine } from '../src/create-engine.js';
import type { CompiledChart } from '../src/model/chart.js';
import { chartToDot, dotString } from '../src/viz/dot.js';
import { chartToMermaid, mermaidIds, mermaidText } from '../src/viz/mermaid.js';
import { dotToSvg, graphviz } from '../src/viz/svg.js';
import { computeHighlight, parseTraceJsonl, TraceParseError, type Highlight } from '../src/viz/trace-highlight.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const EXAMPLE = path.join(ROOT, 'examples', 'queue-with-callback.scxml');
const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'orx-viz-'));
after(() => rmSync(tmpDir, { recursive: true, force: true }));

/**
 * Compound (work), parallel (both) with a compound region (media) and an atomic one (rec),
 * deep history, a top-level final, internal and targetless transitions, ids with '.', '-'
 * and ':', a cond with characters DOT, Mermaid and XML care about, and states no run enters
 * (resume, never, an anonymous one), a transition with two targets.
 */
const RICH = `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript" name="rich" initial="idle">
  <datamodel><data id="n" expr="0"/></datamodel>
  <state id="idle">
    <transition event="start" target="work"/>
    <transition event="ping" type="internal"><assign location="n" expr="n + 1"/></transition>
  </state>
  <state id="work" initial="call.setup">
    <history id="work-hist" type="deep"><transition target="call.setup"/></history>
    <transition event="pause" target="idle"/>
    <transition event="tick" type="internal" target="call:talk"/>
    <state id="call.setup">
      <transition event="answered" cond="n &lt; 3 &amp;&amp; &quot;x&quot; !== 'y'" target="both"/>
    </state>
    <state id="call:talk">
      <transition event="hangup" target="end-ok"/>
    </state>
    <parallel id="both">
      <state id="media">
        <state id="m.off"><transition event="media.on" target="m.on"/></state>
        <state id="m.on"><transition event="done" target="work"/></state>
      </state>
      <state id="rec"/>
      <transition event="media.*" target="call:talk"/>
    </parallel>
  </state>
  <final id="end-ok"/>
  <state id="resume"><transition event="back" target="work-hist"/></state>
  <state id="never"><transition event="jump" target="m.on rec"/></state>
  <state><transition event="anon" target="idle"/></state>
</scxml>
`;

function writeChart(name: string, text: string): string {
  const file = path.join(tmpDir, name);
  writeFileSync(file, text);
  return file;
}

function load(file: string): CompiledChart {
  const { chart, diagnostics } = createEngine().load(file);
  assert.ok(chart, diagnostics.map((d) => d.message).join('\n'));
  return chart;
}

interface CliRun { code: number | null; stdout: string; stderr: string }

function runCli(args: string[], input?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: tmpDir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(input ?? '');
  });
}

/** Graphviz's own reading of a DOT text (layout included), with its warnings. */
interface GvObject { name: string; class?: string; label?: string; style?: string; shape?: string; nodes?: number[]; subgraphs?: number[]; [k: string]: unknown }
interface GvEdge { tail: number; head: number; class?: string; label?: string; style?: string; lhead?: string; ltail?: string; id?: string; [k: string]: unknown }
async function graphOf(dot: string): Promise<{ objects: GvObject[]; edges: GvEdge[]; byName: Map<string, GvObject>; warnings: string[] }> {
  const viz = await graphviz();
  const r = viz.render(dot, { format: 'json' });
  assert.equal(r.status, 'success', JSON.stringify(r.errors));
  const json = JSON.parse(r.output!) as { objects: GvObject[]; edges?: GvEdge[] };
  const byName = new Map(json.objects.map((o) => [o.name, o]));
  return { objects: json.objects, edges: json.edges ?? [], byName, warnings: r.errors.map((e) => e.message) };
}

function edgesBetween(g: Awaited<ReturnType<typeof graphOf>>, tail: string, head: string): GvEdge[] {
  const t = g.objects.indexOf(g.byName.get(tail)!);
  const h = g.objects.indexOf(g.byName.get(head)!);
  return g.edges.filter((e) => e.tail === t && e.head === h && e.style !== 'invis');
}

/** Names of the nodes directly or indirectly in a cluster. */
function nodesIn(g: Awaited<ReturnType<typeof graphOf>>, cluster: string): Set<string> {
  return new Set((g.byName.get(cluster)!.nodes ?? []).map((i) => g.objects[i].name));
}

function parseXml(text: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level: string, msg: string) => { if (level !== 'warning') errors.push(msg); } })
    .parseFromString(text, 'image/svg+xml') as unknown as Document;
  assert.deepEqual(errors, [], 'the SVG is well-formed XML');
  return doc;
}

/** The `<title>` of every SVG group with the given class (Graphviz writes node/cluster names there). */
function titlesWithClass(doc: Document, cls: string): Set<string> {
  const out = new Set<string>();
  const groups = doc.getElementsByTagName('g');
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (!(g.getAttribute('class') ?? '').split(/\s+/).includes(cls)) continue;
    const title = g.getElementsByTagName('title')[0];
    if (title) out.add(title.textContent ?? '');
  }
  return out;
}

const stripCluster = (n: string) => n.replace(/^cluster_/, '');

describe('DOT', () => {
  let chart: CompiledChart;
  let dot: string;
  before(() => {
    chart = load(writeChart('rich.scxml', RICH));
    dot = chartToDot(chart);
  });

  test('Graphviz reads it without a single warning (lhead/ltail only where they can apply)', async () => {
    const g = await graphOf(dot);
    assert.deepEqual(g.warnings, []);
    assert.equal((await dotToSvg(dot)).warnings.length, 0);
  });

  test('compound and parallel states are clusters with an anchor; regions dashed; parallels bold', async () => {
    const g = await graphOf(dot);
    for (const id of ['work', 'both', 'media']) {
      assert.ok(g.byName.has(`cluster_${id}`), `cluster_${id}`);
      assert.equal(g.byName.get(id)!.style, 'invis', `${id}'s anchor is invisible`);
      assert.ok(nodesIn(g, `cluster_${id}`).has(id), `${id}'s anchor is inside its cluster`);
    }
    assert.match(g.byName.get('cluster_both')!.style!, /bold/);
    assert.match(g.byName.get('cluster_both')!.label!, /both \(parallel\)/);
    assert.match(g.byName.get('cluster_media')!.style!, /dashed/, 'a compound region is dashed');
    assert.match(g.byName.get('rec')!.style!, /dashed/, 'an atomic region is dashed');
    assert.doesNotMatch(g.byName.get('cluster_work')!.style!, /dashed/);
    for (const atomic of ['idle', 'call.setup', 'call:talk', 'm.off', 'm.on', 'rec', 'resume', 'never']) {
      assert.ok(!g.byName.has(`cluster_${atomic}`), `${atomic} is no cluster`);
      assert.equal(g.byName.get(atomic)!.shape, 'box');
      assert.match(g.byName.get(atomic)!.style!, /rounded/);
    }
    assert.deepEqual([...nodesIn(g, 'cluster_media')].filter((n) => !n.startsWith('[')).sort(), ['m.off', 'm.on', 'media']);
    assert.ok(nodesIn(g, 'cluster_work').has('m.on'), 'nested clusters nest');
    assert.ok(!nodesIn(g, 'cluster_work').has('end-ok'));
  });

  test('finals, history, initial points', async () => {
    const g = await graphOf(dot);
    assert.equal(g.byName.get('end-ok')!.shape, 'doublecircle');
    assert.equal(g.byName.get('work-hist')!.shape, 'circle');
    assert.equal(g.byName.get('work-hist')!.label, 'H*');
    // An initial point for the document and each compound, none for the parallel.
    for (const [owner, target] of [['(document)', 'idle'], ['work', 'call.setup'], ['media', 'm.off']]) {
      const point = `[initial] ${owner}`;
      assert.equal(g.byName.get(point)!.shape, 'point');
      assert.equal(edgesBetween(g, point, target).length, 1, `${point} -> ${target}`);
    }
    assert.ok(!g.byName.has('[initial] both'));
    assert.ok(nodesIn(g, 'cluster_work').has('[initial] work'));
    // The history's default transition, dashed.
    assert.equal(edgesBetween(g, 'work-hist', 'call.setup')[0].style, 'dashed');
  });

  test('transitions: labels, [cond], (internal), targetless dotted self-loops, cluster clipping', async () => {
    const g = await graphOf(dot);
    const start = edgesBetween(g, 'idle', 'work');
    assert.equal(start.length, 1);
    assert.equal(start[0].label, 'start');
    assert.equal(start[0].lhead, 'cluster_work');
    assert.equal(start[0].ltail, undefined);
    const pause = edgesBetween(g, 'work', 'idle')[0];
    assert.equal(pause.ltail, 'cluster_work');
    assert.equal(pause.lhead, undefined);
    const ping = edgesBetween(g, 'idle', 'idle')[0];
    assert.equal(ping.style, 'dotted');
    assert.equal(ping.label, 'ping\\n(internal)');
    const tick = edgesBetween(g, 'work', 'call:talk')[0];
    assert.equal(tick.label, 'tick\\n(internal)');
    assert.equal(tick.ltail, undefined, 'the target is inside work: no clip');
    const done = edgesBetween(g, 'm.on', 'work')[0];
    assert.equal(done.lhead, undefined, 'the source is inside work: no clip');
    const media = edgesBetween(g, 'both', 'call:talk')[0];
    assert.equal(media.ltail, 'cluster_both');
    assert.equal(media.label, 'media.*');
    const answered = edgesBetween(g, 'call.setup', 'both')[0];
    assert.equal(answered.lhead, 'cluster_both');
    assert.equal(answered.label, 'answered\\n[n < 3 && "x" !== \'y\']');
    assert.equal(edgesBetween(g, 'resume', 'work-hist')[0].label, 'back');
    // Two targets: two edges with the same label; ids t<n> and t<n>-1.
    const jump = [...edgesBetween(g, 'never', 'm.on'), ...edgesBetween(g, 'never', 'rec')];
    assert.deepEqual(jump.map((e) => [e.label, e.id]), [['jump', 't10'], ['jump', 't10-1']]);
    // An anonymous state is drawn under its generated id.
    const anon = chart.states.find((s) => s.generatedId && s.kind === 'state')!;
    assert.equal(edgesBetween(g, anon.id, 'idle')[0].label, 'anon');
  });

  test('ids and text are escaped; output is stable and in document order', () => {
    assert.equal(dotString('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
    assert.match(dot, /^ {2}"call:talk" -> "end-ok" \[/m);
    assert.match(dot, /label="answered\\n\[n < 3 && \\"x\\" !== 'y'\]"/);
    assert.equal(chartToDot(load(writeChart('rich-again.scxml', RICH))), dot);
    const order = ['"idle" [', 'subgraph "cluster_work"', '"work-hist" [', '"call.setup" [', '"call:talk" [', 'subgraph "cluster_both"', '"m.off" [', '"rec" [', '"end-ok" [', '"resume" ['];
    const positions = order.map((s) => dot.indexOf(s));
    assert.ok(positions.every((p) => p >= 0), JSON.stringify(positions));
    assert.deepEqual([...positions].sort((a, b) => a - b), positions);
  });
});

describe('Mermaid', () => {
  let chart: CompiledChart;
  let text: string;
  before(() => {
    chart = load(writeChart('rich-m.scxml', RICH));
    text = chartToMermaid(chart);
  });

  test('stateDiagram-v2 with nested composites, -- between regions, [*] for initials and finals', () => {
    const lines = text.split('\n').map((l) => l.trim());
    assert.equal(lines[0], 'stateDiagram-v2');
    const at = (l: string) => { const i = lines.indexOf(l); assert.ok(i >= 0, `missing: ${l}\n${text}`); return i; };
    const work = at('state work {');
    const both = at('state both {');
    const media = at('state media {');
    const sep = at('--');
    const rec = at('rec');
    assert.ok(work < both && both < media && media < sep && sep < rec);
    assert.ok(lines.indexOf('[*] --> idle') < work, 'document initial at the top');
    assert.ok(at('[*] --> call_setup') > work);
    assert.ok(at('[*] --> m_off') > media);
    assert.equal(lines.filter((l) => l === '--').length, 1, 'one separator for two regions');
    at('end_ok --> [*]');
    // Balanced braces.
    assert.equal(lines.filter((l) => l.endsWith('{')).length, lines.filter((l) => l === '}').length);
  });

  test('transitions with labels; targetless and internal marked; odd ids mapped and shown', () => {
    const lines = text.split('\n').map((l) => l.trim());
    for (const l of [
      'idle --> work : start',
      'idle --> idle : ping (internal) (targetless)',
      'work --> call_talk : tick (internal)',
      'call_setup --> both : answered [n < 3 && "x" !== \'y\']',
      'both --> call_talk : media.*',
      'resume --> work_hist : back',
      'never --> m_on : jump',
      'never --> rec : jump',
      'work_hist --> call_setup',
      'state "call.setup" as call_setup',
      'state "call:talk" as call_talk',
      'state "end-ok" as end_ok',
      'state "H* work-hist" as work_hist',
      '%% call:talk -> call_talk',
    ]) assert.ok(lines.includes(l), `missing: ${l}\n${text}`);
    // No Mermaid id has a character outside [A-Za-z0-9_].
    for (const m of text.matchAll(/(\S+) --> (\S+)/g)) {
      for (const id of [m[1], m[2]]) assert.match(id, /^(\[\*\]|[A-Za-z0-9_]+)$/);
    }
  });

  test('the id mapping is injective and avoids keywords', () => {
    const c = load(writeChart('ids.scxml', `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0">
      <state id="a.b"/><state id="a_b"/><state id="a-b"/><state id="state"/><state id="end"/><final id="x:y"/></scxml>`));
    const ids = mermaidIds(c);
    assert.deepEqual(c.states.filter((s) => s.kind !== 'scxml').map((s) => ids.get(s)), ['a_b', 'a_b_2', 'a_b_3', 's_state', 's_end', 'x_y']);
    assert.equal(mermaidText('a;b #c {d} <e> a<=b a < b &amp && "f"\n  next'), 'a\u037eb #c {d} < e> a<=b a < b & amp && "f" next');
  });
});

describe('SVG', () => {
  test('is well-formed XML with every state id, through the WebAssembly Graphviz', async () => {
    const chart = load(writeChart('rich-svg.scxml', RICH));
    const { svg, warnings } = await dotToSvg(chartToDot(chart));
    assert.deepEqual(warnings, []);
    const doc = parseXml(svg);
    assert.equal(doc.documentElement!.nodeName, 'svg');
    const titles = new Set<string>();
    const list = doc.getElementsByTagName('title');
    for (let i = 0; i < list.length; i++) titles.add(list[i].textContent ?? '');
    for (const s of chart.states) {
      if (s.kind === 'scxml') continue;
      // Nodes have the id as <title>, clusters cluster_<id>; both have the SVG id state-<id>.
      assert.ok(titles.has(s.id) || titles.has(`cluster_${s.id}`), `state ${s.id} in the SVG`);
      const g = doc.getElementById(`state-${s.id}`);
      assert.ok(g, `an element with id state-${s.id}`);
      assert.equal(g.getElementsByTagName('title')[0].textContent, ['work', 'both', 'media'].includes(s.id) ? `cluster_${s.id}` : s.id);
    }
    assert.ok(titlesWithClass(doc, 'final').has('end-ok'));
  });
});

describe('trace files', () => {
  test('JSONL: blank lines ignored, errors name the line', () => {
    assert.deepEqual(parseTraceJsonl('\n{"type":"enter","state":"a"}\n\n   \n{"type":"exit","state":"a"}\n').map((r) => r.type), ['enter', 'exit']);
    assert.throws(() => parseTraceJsonl('{"type":"enter"}\n\n{"type":\n', 'run.jsonl'),
      (e: unknown) => e instanceof TraceParseError && e.line === 3 && /^run\.jsonl:3: not valid JSON/.test(e.message));
    assert.throws(() => parseTraceJsonl('[1,2]\n', 'x'), (e: unknown) => e instanceof TraceParseError && e.line === 1 && /not a trace record/.test(e.message));
  });
});

describe('trace highlighting (a real run)', () => {
  let chartFile: string;
  let traceFile: string;
  let chart: CompiledChart;
  let hl: Highlight;
  let enteredInTrace: Set<string>;
  // idle -start-> work/call.setup -answered-> both(media/m.off, rec) -media.on-> m.on
  //   -done-> work/call.setup -answered-> both -media.on-> m.on ... -tick-> call:talk -hangup-> end-ok
  const EVENTS = ['start', 'answered', 'media.on', 'done', 'answered', 'tick', 'hangup'];

  before(async () => {
    chartFile = writeChart('rich-run.scxml', RICH);
    traceFile = path.join(tmpDir, 'run.jsonl');
    const run = await runCli(['run', chartFile, '--clock', 'virtual', '--no-http', `--trace=${traceFile}`, ...EVENTS.flatMap((e) => ['--event', e])]);
    assert.equal(run.code, 0, run.stderr);
    chart = load(chartFile);
    const records = parseTraceJsonl(readFileSync(traceFile, 'utf8'));
    enteredInTrace = new Set(records.filter((r) => r.type === 'enter').map((r) => String(r.state)));
    hl = computeHighlight(chart, records);
  });

  test('the highlight is what the trace says', () => {
    const expected = ['idle', 'work', 'call.setup', 'both', 'media', 'm.off', 'm.on', 'rec', 'call:talk', 'end-ok'];
    assert.deepEqual([...enteredInTrace].sort(), [...expected].sort());
    assert.deepEqual([...hl.entered].map((s) => s.id).sort(), [...expected].sort());
    assert.deepEqual([...hl.active].map((s) => s.id), ['end-ok']);
    const taken = new Map([...hl.taken].map(([t, n]) => [`${t.source.id}:${t.events.join(' ')}`, n]));
    assert.deepEqual(Object.fromEntries(taken), {
      'idle:start': 1, 'call.setup:answered': 2, 'm.off:media.on': 1, 'm.on:done': 1, 'work:tick': 1, 'call:talk:hangup': 1,
    });
    assert.deepEqual(hl.warnings, []);
  });

  test('DOT marks exactly the entered states, the active one, and counts transitions', async () => {
    const g = await graphOf(chartToDot(chart, { highlight: hl }));
    assert.deepEqual(g.warnings, []);
    const withClass = (cls: string) => new Set(g.objects.filter((o) => (o.class ?? '').split(' ').includes(cls)).map((o) => stripCluster(o.name)));
    assert.deepEqual([...withClass('visited')].sort(), [...enteredInTrace].sort());
    assert.deepEqual([...withClass('active')], ['end-ok']);
    for (const name of ['m.on', 'cluster_both']) assert.match(g.byName.get(name)!.style!, /filled/);
    assert.doesNotMatch(g.byName.get('resume')!.style!, /filled/);
    const answered = edgesBetween(g, 'call.setup', 'both')[0];
    assert.match(answered.class!, /taken/);
    assert.match(answered.label!, /\(2x\)$/);
    assert.equal(answered.penwidth, '2.5');
    assert.doesNotMatch(edgesBetween(g, 'idle', 'idle')[0].class!, /taken/);
    assert.equal(g.edges.filter((e) => /taken/.test(e.class ?? '')).length, 6);
  });

  test('SVG and Mermaid mark the same states', async () => {
    const doc = parseXml((await dotToSvg(chartToDot(chart, { highlight: hl }))).svg);
    assert.deepEqual([...titlesWithClass(doc, 'visited')].map(stripCluster).sort(), [...enteredInTrace].sort());
    const text = chartToMermaid(chart, { highlight: hl });
    const ids = mermaidIds(chart);
    const back = new Map([...ids].map(([s, m]) => [m, s.id]));
    const classLine = (cls: string) => {
      const m = new RegExp(`^\\s*class (\\S+) ${cls}$`, 'm').exec(text);
      assert.ok(m, `class … ${cls} in\n${text}`);
      return m[1].split(',').map((id) => back.get(id)!);
    };
    assert.match(text, /^\s*classDef visited /m);
    assert.deepEqual(classLine('visited').sort(), [...enteredInTrace].sort());
    assert.deepEqual(classLine('active'), ['end-ok']);
    assert.match(text, /call_setup --> both : answered .* \(2x\)$/m);
  });

  test('the CLI highlights from --trace in every format', async () => {
    const dot = await runCli(['viz', chartFile, '--trace', traceFile]);
    assert.equal(dot.code, 0, dot.stderr);
    assert.match(dot.stdout, /"end-ok" \[id="state-end-ok", class="state final visited active"/);
    const svg = await runCli(['viz', chartFile, '--trace', traceFile, '--format', 'svg']);
    assert.equal(svg.code, 0, svg.stderr);
    assert.deepEqual([...titlesWithClass(parseXml(svg.stdout), 'active')], ['end-ok']);
    const mmd = await runCli(['viz', chartFile, '--trace=-', '--format=mermaid'], readFileSync(traceFile, 'utf8'));
    assert.equal(mmd.code, 0, mmd.stderr);
    assert.match(mmd.stdout, /^\s*class end_ok active$/m);
  });

  test('a trace of another chart is drawn with a warning', async () => {
    const other = writeChart('other.scxml', '<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0"><state id="elsewhere"/></scxml>');
    const r = await runCli(['viz', other, '--trace', traceFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: the trace names states that are not in this chart: idle/);
  });
});

describe('run-scxml viz (CLI)', () => {
  test('examples/queue-with-callback.scxml in all three formats', async () => {
    const dot = await runCli(['viz', EXAMPLE]);
    assert.equal(dot.code, 0, dot.stderr);
    assert.match(dot.stdout, /^digraph "queue-with-callback" \{/);
    assert.match(dot.stdout, /"queued" -> "queued" \[.*label="announce\\n\[rounds \+ 1 < maxRounds\]"/);
    assert.equal(dot.stderr, '');
    const mmd = await runCli(['viz', EXAMPLE, '--format', 'mermaid']);
    assert.equal(mmd.code, 0, mmd.stderr);
    assert.match(mmd.stdout, /^stateDiagram-v2\n/);
    assert.match(mmd.stdout, /^\s*queued --> routed : agent\.ready$/m);
    assert.match(mmd.stdout, /^\s*callbackOffered --> \[\*\]$/m);
    const svg = await runCli(['viz', EXAMPLE, '--format', 'svg']);
    assert.equal(svg.code, 0, svg.stderr);
    assert.equal(svg.stderr, '');
    const doc = parseXml(svg.stdout);
    assert.equal(doc.documentElement!.nodeName, 'svg');
    assert.deepEqual([...titlesWithClass(doc, 'state')].sort(), ['callbackOffered', 'queued', 'routed']);
  });

  test('--output writes the file and nothing to stdout', async () => {
    const out = path.join(tmpDir, 'q.svg');
    const r = await runCli(['viz', EXAMPLE, '--format', 'svg', '--output', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    parseXml(readFileSync(out, 'utf8'));
  });

  test('exit 2: chart missing or broken (diagnostics on stderr), trace unreadable or not JSONL, usage', async () => {
    const missing = await runCli(['viz', path.join(tmpDir, 'nope.scxml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ORX0001/);
    assert.equal(missing.stdout, '');
    const broken = await runCli(['viz', writeChart('broken.scxml', '<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" initial="nowhere"><state id="a"/></scxml>')]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /broken\.scxml:1:\d+: error ORX\d{4}/);
    const noTrace = await runCli(['viz', EXAMPLE, '--trace', path.join(tmpDir, 'none.jsonl')]);
    assert.equal(noTrace.code, 2);
    assert.match(noTrace.stderr, /cannot read the trace .*none\.jsonl: ENOENT/);
    const bad = writeChart('bad.jsonl', '{"t":0,"session":"s","type":"enter","state":"queued"}\n\n{"t":0,\n');
    const badTrace = await runCli(['viz', EXAMPLE, '--trace', bad]);
    assert.equal(badTrace.code, 2);
    assert.match(badTrace.stderr, /bad\.jsonl:3: not valid JSON/);
    const format = await runCli(['viz', EXAMPLE, '--format', 'png']);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format must be one of dot, mermaid, svg/);
    assert.equal((await runCli(['viz'])).code, 2);
    assert.equal((await runCli(['viz', EXAMPLE, '--bogus'])).code, 2);
    const unwritable = await runCli(['viz', EXAMPLE, '--output', path.join(tmpDir, 'no-dir', 'x.dot')]);
    assert.equal(unwritable.code, 2);
    assert.match(unwritable.stderr, /cannot write/);
  });

  test('--help: viz has its own, with examples; the main help lists viz', async () => {
    const viz = await runCli(['viz', '--help']);
    assert.equal(viz.code, 0);
    assert.match(viz.stdout, /--format dot\|mermaid\|svg/);
    assert.match(viz.stdout, /Examples:\n(\s+run-scxml .*\n)+/);
    const main = await runCli(['--help']);
    assert.equal(main.code, 0);
    assert.match(main.stdout, /run-scxml viz <chart\.scxml>/);
  });
});
