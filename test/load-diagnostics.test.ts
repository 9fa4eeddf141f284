// Loading charts: every diagnostic code the loader can produce, with its exact severity, line and
// column (1-based: the '<' of the element, or the first character of the attribute name), the
// lint rules of `run-scxml check`, and the CLI's diagnostic output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { createEngine, DIAGNOSTIC_CODES, type Diagnostic, type DiagnosticCode, type Severity } from '../src/index.js';

const NS = 'http://www.w3.org/2005/07/scxml';
const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '..', 'src', 'cli', 'main.js');
const W3C_ECMA = path.resolve(here, '..', '..', '..', 'shared', 'w3c-scxml', 'ecma');
const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'orx-diag-'));
after(() => rmSync(tmpDir, { recursive: true, force: true }));

const load = (xml: string) => createEngine().load({ xml, file: 'x.scxml' });

/** A chart whose body starts on line 2. */
const chart = (body: string, attrs = '') => `<scxml xmlns="${NS}" version="1.0"${attrs}>\n${body}\n</scxml>`;

/** "line:column" of the only occurrence of `needle` in `xml` (the test's own independent reckoning). */
function posOf(xml: string, needle: string): string {
  const i = xml.indexOf(needle);
  assert.ok(i >= 0, `'${needle}' is not in the chart`);
  assert.equal(xml.indexOf(needle, i + 1), -1, `'${needle}' occurs more than once in the chart`);
  const before = xml.slice(0, i).split(/\r\n|\r|\n/);
  return `${before.length}:${[...before[before.length - 1]].length + 1}`;
}

const show = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message}`);
const brief = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.line}:${d.column} ${d.severity} ${d.code}`);

interface Case {
  readonly code: DiagnosticCode;
  readonly what: string;
  readonly xml: string;
  /** The text the diagnostic must point at (its first character). */
  readonly at: string;
  readonly severity?: Severity;
  readonly message?: RegExp;
}

/** Each chart has exactly one problem: the load must report it alone, at the right place. */
const CASES: Case[] = [
  // ---- 0002: not well-formed
  {
    code: 'ORX0002', what: 'an unclosed tag (at its start tag)',
    xml: `<scxml xmlns="${NS}" version="1.0">\n  <state id="a">\n    <transition target="a"/>\n`,
    at: '<state', message: /^malformed XML: <state> is never closed$/,
  },
  {
    code: 'ORX0002', what: 'a mismatched end tag (at the end tag)',
    xml: chart('  <state id="a">\n    <onentry/>\n  </final>'),
    at: '</final>', message: /^malformed XML: end tag <\/final> does not match the start tag <state> at line 2$/,
  },
  {
    code: 'ORX0002', what: 'an unquoted attribute value (at the value)',
    xml: chart('  <state id=abc/>'),
    at: 'abc', message: /unquoted attribute value/,
  },
  {
    code: 'ORX0002', what: 'a missing closing quote (at the first character that cannot be in a value)',
    xml: chart('  <state id="a/>\n  <state id="b"/>'),
    at: '<state id="b"', message: /'<' is not allowed in an attribute value \(is a closing quote missing\?\)/,
  },
  {
    code: 'ORX0002', what: 'text after the root element (at the text)',
    xml: `${chart('  <state id="a"/>')}\n  trailing words`,
    at: 'trailing', message: /text data outside of root node/,
  },
  {
    code: 'ORX0002', what: 'a second root element',
    xml: `${chart('  <state id="a"/>')}\n<scxml xmlns="${NS}"/>`,
    at: `<scxml xmlns="${NS}"/>`, message: /only one root/,
  },
  {
    code: 'ORX0002', what: 'a duplicate attribute (at the second one)',
    xml: chart('  <state id="a"\n         id="b"/>'),
    at: 'id="b"', message: /duplicate attribute: id/,
  },
  {
    code: 'ORX0002', what: 'an undefined entity (at the &)',
    xml: chart('  <state id="a"><onentry><log expr="\'&nbsp;\'"/></onentry></state>'),
    at: '&nbsp;', message: /undefined entity &nbsp;/,
  },
  {
    code: 'ORX0002', what: 'an unbound namespace prefix',
    xml: chart('  <state id="a"><onentry><p:log expr="1"/></onentry></state>'),
    at: '<p:log', message: /unbound namespace prefix: "p"/,
  },
  {
    code: 'ORX0002', what: 'an empty document',
    xml: '', at: '', message: /root element/,
  },
  {
    code: 'ORX0002', what: 'a DOCTYPE, even a harmless one',
    xml: `<?xml version="1.0"?>\n<!DOCTYPE scxml>\n${chart('  <state id="a"/>')}`,
    at: '<!DOCTYPE', message: /DOCTYPE declarations are not allowed/,
  },
  {
    code: 'ORX0002', what: 'an external entity (XXE)',
    xml: `<!DOCTYPE scxml [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n${chart('  <state id="a"><onentry><log expr="\'&xxe;\'"/></onentry></state>')}`,
    at: '<!DOCTYPE', message: /DOCTYPE declarations are not allowed/,
  },
  // ---- 0003: not SCXML
  {
    code: 'ORX0003', what: 'a root that is not <scxml>',
    xml: `<?xml version="1.0"?>\n<state xmlns="${NS}" id="a"><bogus/></state>`,
    at: '<state', message: /root element must be <scxml> .* found <state>/,
  },
  {
    code: 'ORX0003', what: '<scxml> in no namespace (and nothing else is reported)',
    xml: '<scxml version="1.0">\n  <state id="a"/>\n</scxml>',
    at: '<scxml', message: /found <scxml> in no namespace/,
  },
  // ---- 0004: src that cannot be read
  {
    code: 'ORX0004', what: 'a <script src> that does not exist (at the attribute)',
    xml: chart('  <script src="no-such-script-7f3a.js"/>\n  <state id="a"/>'),
    at: 'src=', message: /cannot load 'no-such-script-7f3a\.js'/,
  },
  {
    code: 'ORX0004', what: 'a <data src> that does not exist (at the attribute)',
    xml: chart('  <datamodel><data id="d" src="no-such-data-7f3a.json"/></datamodel>\n  <state id="a"><transition cond="d" target="a"/></state>'),
    at: 'src=', message: /cannot load 'no-such-data-7f3a\.json'/,
  },
  // ---- 01xx: structure
  {
    code: 'ORX0101', what: 'an unknown element in the SCXML namespace',
    xml: chart('  <state id="a">\n    <onentry><bogus/></onentry>\n  </state>'),
    at: '<bogus', message: /<bogus> is not an SCXML element/,
  },
  {
    code: 'ORX0101', what: 'an unknown element among states',
    xml: chart('  <state id="a"/>\n  <sate id="b"/>'),
    at: '<sate', message: /<sate> is not an SCXML element/,
  },
  {
    code: 'ORX0102', what: 'an element of an unregistered namespace (by prefix)',
    xml: chart('  <state id="a"><onentry><x:beep xmlns:x="urn:example:unregistered"/></onentry></state>'),
    at: '<x:beep', message: /no action is registered for <x:beep> \(namespace 'urn:example:unregistered'\)/,
  },
  {
    code: 'ORX0102', what: 'an SCXML name in another namespace URI is not the SCXML element',
    xml: chart('  <state id="a"><onentry><log xmlns="urn:example:other" expr="1"/></onentry></state>'),
    at: '<log', message: /namespace 'urn:example:other'/,
  },
  {
    code: 'ORX0103', what: '<donedata> outside <final>',
    xml: chart('  <state id="a">\n    <donedata><content expr="1"/></donedata>\n  </state>'),
    at: '<donedata', message: /<donedata> is not allowed inside <state>/,
  },
  {
    code: 'ORX0103', what: 'a state element in executable content',
    xml: chart('  <state id="a">\n    <onentry><state id="b"/></onentry>\n  </state>'),
    at: '<state id="b"', message: /<state> is not executable content/,
  },
  {
    code: 'ORX0104', what: 'an unknown target, with a hint when one is close',
    xml: chart('  <state id="start">\n    <transition event="go"\n                target="strat"/>\n  </state>'),
    at: 'target=', message: /^target 'strat' does not exist \(did you mean 'start'\?\)$/,
  },
  {
    code: 'ORX0104', what: 'an unknown target, no hint when none is close',
    xml: chart('  <state id="start"><transition event="go" target="elsewhere"/></state>'),
    at: 'target=', message: /^target 'elsewhere' does not exist$/,
  },
  {
    code: 'ORX0104', what: 'an unknown initial state',
    xml: chart('  <state id="a"/>', ' initial="b"'),
    at: 'initial=', message: /^initial 'b' does not exist \(did you mean 'a'\?\)$/,
  },
  {
    code: 'ORX0105', what: 'a duplicate id (on the second, naming the first line)',
    xml: chart('  <state id="a" />\n  <final\n     id="a"/>'),
    at: 'id="a"/>', message: /^duplicate state id 'a' \(first defined at line 2\)$/,
  },
  {
    code: 'ORX0106', what: 'a missing required attribute',
    xml: chart('  <state id="a"><onentry><raise/></onentry></state>'),
    at: '<raise', message: /<raise> requires the attribute 'event'/,
  },
  {
    code: 'ORX0106', what: 'a <cancel> with neither sendid nor sendidexpr',
    xml: chart('  <state id="a"><onentry><cancel/></onentry></state>'),
    at: '<cancel', message: /<cancel> requires one of 'sendid' or 'sendidexpr'/,
  },
  {
    code: 'ORX0107', what: 'event and eventexpr on <send> (at the later one)',
    xml: chart('  <state id="a"><onentry><send eventexpr="\'e\'" event="e"/></onentry></state>'),
    at: 'event="e"', message: /<send> may not have both 'eventexpr' and 'event'/,
  },
  {
    code: 'ORX0107', what: 'src and expr on <data>: reported once, the src not read (no ORX0004 besides)',
    xml: chart('  <datamodel><data id="d" src="no-such-file.json" expr="1"/></datamodel>\n  <state id="a"/>'),
    at: 'expr="1"', message: /<data> may not have both 'src' and 'expr'/,
  },
  {
    code: 'ORX0107', what: 'expr and content on <assign>',
    xml: chart('  <datamodel><data id="v"/></datamodel>\n  <state id="a"><onentry><assign location="v" expr="1">2</assign></onentry></state>'),
    at: '<assign', message: /<assign> may have an expr attribute or content, not both/,
  },
  {
    code: 'ORX0107', what: 'sendid and sendidexpr on <cancel>',
    xml: chart('  <state id="a"><onentry><cancel sendid="s"\n    sendidexpr="\'s\'"/></onentry></state>'),
    at: 'sendidexpr', message: /<cancel> may not have both 'sendid' and 'sendidexpr'/,
  },
  {
    code: 'ORX0107', what: 'expr and location on <param>',
    xml: chart('  <state id="a"><onentry><send event="e"><param name="p" location="x" expr="1"/></send></onentry></state>'),
    at: 'expr="1"', message: /<param> may not have both 'location' and 'expr'/,
  },
  {
    code: 'ORX0107', what: 'delay and delayexpr on <send>',
    xml: chart('  <state id="a"><onentry><send event="e" delay="1s" delayexpr="\'2s\'"/></onentry></state>'),
    at: 'delayexpr', message: /may not have both 'delay' and 'delayexpr'/,
  },
  {
    code: 'ORX0108', what: 'an invalid delay (at the attribute)',
    xml: chart('  <state id="a"><onentry><send event="e" delay="soon"/></onentry></state>'),
    at: 'delay=', message: /delay 'soon' is not a CSS2 time value/,
  },
  {
    code: 'ORX0108', what: 'an invalid transition type',
    xml: chart('  <state id="a"><transition event="e" type="sideways" target="a"/></state>'),
    at: 'type=', message: /transition type must be "internal" or "external", not 'sideways'/,
  },
  {
    code: 'ORX0109', what: 'an unknown attribute, with a hint',
    xml: chart('  <state id="a">\n    <transition evnt="e" target="a"/>\n  </state>'),
    at: 'evnt', message: /<transition> has no attribute 'evnt' \(did you mean 'event'\?\)/,
  },
  {
    code: 'ORX0110', what: 'an initial attribute naming a state that is not a descendant',
    xml: chart('  <state id="p" initial="q">\n    <state id="c"/>\n  </state>\n  <state id="q"/>'),
    at: 'initial="q"', message: /initial target 'q' is not a descendant of 'p'/,
  },
  {
    code: 'ORX0110', what: 'an <initial> transition to a state that is not a descendant',
    xml: chart('  <state id="p">\n    <initial><transition target="q"/></initial>\n    <state id="c"/>\n  </state>\n  <state id="q"/>'),
    at: '<transition target="q"', message: /initial target 'q' is not a descendant of 'p'/,
  },
  {
    code: 'ORX0111', what: 'a deep history default that is not a descendant of the parent',
    xml: chart('  <state id="p">\n    <history id="h" type="deep"><transition target="q"/></history>\n    <state id="c"/>\n  </state>\n  <state id="q"/>'),
    at: '<transition target="q"', message: /default target 'q' of deep history 'h' must be a descendant of its parent/,
  },
  {
    code: 'ORX0111', what: 'a shallow history default that is not a child of the parent',
    xml: chart('  <state id="p">\n    <history id="h"><transition target="c1"/></history>\n    <state id="c"><state id="c1"/></state>\n  </state>'),
    at: '<transition target="c1"', message: /default target 'c1' of shallow history 'h' must be a sibling/,
  },
  {
    code: 'ORX0112', what: 'two <datamodel> in one state (at the second)',
    xml: chart('  <state id="a">\n    <datamodel/>\n    <datamodel/>\n  </state>'),
    at: '<datamodel/>\n  </state>', message: /<state> may have only one <datamodel>/,
  },
  {
    code: 'ORX0113', what: 'an unsupported datamodel',
    xml: chart('  <state id="a"/>', ' datamodel="xpath"'),
    at: 'datamodel=', message: /datamodel 'xpath' is not supported \(available: ecmascript, null\)/,
  },
  {
    code: 'ORX0114', what: 'an invalid id',
    xml: chart('  <state id="1st"/>'),
    at: 'id=', message: /'1st' is not a valid id/,
  },
  {
    code: 'ORX0115', what: 'text where only elements are allowed (at its first character)',
    xml: chart('  <state id="a">\n    stray words\n  </state>'),
    at: 'stray', message: /text is not allowed inside <state>/,
  },
  // ---- 02xx: expressions (warnings: the chart loads and raises error.execution when run)
  {
    code: 'ORX0201', what: 'an expression that does not parse', severity: 'warning',
    xml: chart('  <state id="a"><onentry><log expr="return"/></onentry></state>'),
    at: 'expr=', message: /expr 'return' does not compile/,
  },
  {
    code: 'ORX0202', what: 'a location that cannot be assigned', severity: 'warning',
    xml: chart('  <state id="a"><onentry><assign location="\'x\'" expr="1"/></onentry></state>'),
    at: 'location=', message: /is not an assignable location/,
  },
  // ---- 03xx: lint (warnings)
  {
    code: 'ORX0301', what: 'a state nothing enters', severity: 'warning',
    xml: chart('  <state id="a"/>\n  <state id="b"/>'),
    at: '<state id="b"', message: /^state 'b' can never be entered/,
  },
  {
    code: 'ORX0302', what: 'a transition shadowed by an earlier one', severity: 'warning',
    xml: chart('  <state id="a">\n    <transition event="e" target="b"/>\n    <transition event="e" target="a"/>\n  </state>\n  <final id="b"/>'),
    at: '<transition event="e" target="a"', message: /can never be taken: the transition at line 3 \(event 'e', no cond\)/,
  },
  {
    code: 'ORX0303', what: 'data nothing uses', severity: 'warning',
    xml: chart('  <datamodel><data id="unused" expr="1"/></datamodel>\n  <state id="a"/>'),
    at: '<data id', message: /^data 'unused' is declared but never used/,
  },
  {
    code: 'ORX0304', what: 'an eventless, targetless transition without cond', severity: 'warning',
    xml: chart('  <state id="a"><transition/></state>'),
    at: '<transition', message: /always enabled and loops forever/,
  },
];

describe('every loader diagnostic, located exactly', () => {
  test('every code the plain loader can produce has a case here (ORX0001 needs a path: tested below)', () => {
    const covered = new Set<string>([...CASES.map((c) => c.code), 'ORX0001']);
    // 04xx belong to extension modules (a plain engine never reports them); their tests cover them.
    const core = Object.keys(DIAGNOSTIC_CODES).filter((c) => !c.startsWith('ORX04'));
    assert.deepEqual(core.filter((c) => !covered.has(c)), []);
  });

  for (const c of CASES) {
    test(`${c.code}: ${c.what}`, () => {
      const { chart: compiled, diagnostics } = load(c.xml);
      const severity = c.severity ?? 'error';
      const where = c.at === '' ? '1:1' : posOf(c.xml, c.at);
      assert.deepEqual(brief(diagnostics), [`${where} ${severity} ${c.code}`], show(diagnostics).join('\n'));
      const d = diagnostics[0];
      assert.equal(d.file, 'x.scxml');
      if (c.message) assert.match(d.message, c.message);
      assert.equal(compiled === null, severity === 'error', 'a chart with errors is null; warnings alone leave a chart');
    });
  }

  test('ORX0001: a chart path that cannot be read', () => {
    const file = path.join(tmpDir, 'no-such-chart.scxml');
    const { chart: compiled, diagnostics } = createEngine().load(file);
    assert.equal(compiled, null);
    assert.deepEqual(diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.severity} ${d.code}`), [`${file}:1:1 error ORX0001`]);
    assert.match(diagnostics[0].message, /cannot read the chart: ENOENT/);
  });

  test('a src that exists is read relative to the chart', () => {
    writeFileSync(path.join(tmpDir, 'init.js'), 'var fromScript = 1;');
    writeFileSync(path.join(tmpDir, 'value.json'), '{"n": 2}');
    const file = path.join(tmpDir, 'with-src.scxml');
    writeFileSync(file, chart('  <datamodel><data id="d" src="value.json"/></datamodel>\n  <script src="init.js"/>\n  <state id="a"><transition cond="d.n + fromScript === 3" target="a"/></state>'));
    assert.deepEqual(show(createEngine().load(file).diagnostics), []);
  });
});

describe('namespaces are matched by URI, never by prefix', () => {
  test('SCXML under another prefix loads without a diagnostic', () => {
    const { chart: compiled, diagnostics } = load(`<s:scxml xmlns:s="${NS}" version="1.0" initial="a">
  <s:state id="a">
    <s:onentry><s:log label="hi" expr="1"/></s:onentry>
    <s:transition event="e" target="b"/>
  </s:state>
  <s:final id="b"/>
</s:scxml>`);
    assert.deepEqual(show(diagnostics), []);
    assert.ok(compiled);
    assert.equal(compiled.stateById.get('a')?.transitions[0].targets[0].id, 'b');
  });

  test('a default namespace that is not SCXML does not make elements SCXML', () => {
    const xml = `<s:scxml xmlns:s="${NS}" xmlns="urn:example:other" version="1.0">\n  <s:state id="a"><s:onentry><log expr="1"/></s:onentry></s:state>\n</s:scxml>`;
    assert.deepEqual(brief(load(xml).diagnostics), [`${posOf(xml, '<log')} error ORX0102`]);
  });
});

describe('locations', () => {
  test('multi-line start tags, attributes on later lines, entities, tabs and astral characters', () => {
    const xml = [
      `<scxml xmlns="${NS}"`,
      '       version="1.0">',
      '  <datamodel><data id="n" expr="0"/></datamodel>',
      '  <state',
      '      id="a">',
      '    <transition event="e" cond="n &lt; 1 &amp;&amp; \'𝄞\' !== \'é\'"',
      '                target="nowhere"/>',
      '\t<transition event="f"',
      '\t\ttarget="a" bogus="1"/>',
      '    <transition event="g" cond="n &gt;',
      '        1" wrong="x"',
      '        target="a"/>',
      '  </state>',
      '</scxml>',
    ].join('\n');
    const { diagnostics } = load(xml);
    assert.deepEqual(brief(diagnostics), [
      `${posOf(xml, 'target="nowhere"')} error ORX0104`,
      `${posOf(xml, 'bogus')} error ORX0109`,
      `${posOf(xml, 'wrong')} error ORX0109`,
    ], show(diagnostics).join('\n'));
    assert.deepEqual(brief(diagnostics), ['7:17 error ORX0104', '9:14 error ORX0109', '11:12 error ORX0109']);
  });

  test('CR LF and lone CR line ends count as one line end; a byte order mark is no column', () => {
    for (const eol of ['\r\n', '\r']) {
      const xml = `\uFEFF<scxml xmlns="${NS}" version="1.0">${eol}  <state id="a"${eol}     bogus="1"/><state id="b" x="2"/>${eol}</scxml>`;
      assert.deepEqual(brief(load(xml).diagnostics), ['3:6 error ORX0109', '3:31 error ORX0109'], JSON.stringify(eol));
    }
  });

  test('a problem inside an invoked inline chart is located in the parent document', () => {
    const xml = chart([
      '  <state id="a">',
      '    <invoke type="scxml">',
      '      <content>',
      `        <scxml xmlns="${NS}" version="1.0">`,
      '          <state id="c"><transition event="e" target="gone"/></state>',
      '        </scxml>',
      '      </content>',
      '    </invoke>',
      '  </state>',
    ].join('\n'));
    assert.deepEqual(brief(load(xml).diagnostics), [`${posOf(xml, 'target="gone"')} error ORX0104`]);
  });
});

describe('one load reports every problem', () => {
  test('several errors in one chart: all reported, sorted by position, chart null', () => {
    const xml = chart([
      '  <state id="a" initial="a1">',                     // 2: initial target missing (ORX0104)
      '    <state id="a2">',
      '      <onentry><raise/></onentry>',                // 4: ORX0106
      '      <transition event="e" target="b"/>',
      '    </state>',
      '  </state>',
      '  <state id="b" colour="red"/>',                     // 8: ORX0109
      '  <final id="b"/>',                                 // 9: ORX0105
      '  <state id="c"><onentry><send event="x" eventexpr="\'y\'"/></onentry></state>', // 10: ORX0107
    ].join('\n'));
    const { chart: compiled, diagnostics } = load(xml);
    assert.equal(compiled, null);
    assert.deepEqual(brief(diagnostics), [
      `${posOf(xml, 'initial="a1"')} error ORX0104`,
      `${posOf(xml, '<raise')} error ORX0106`,
      `${posOf(xml, 'colour')} error ORX0109`,
      `${posOf(xml, 'id="b"/>')} error ORX0105`,
      `${posOf(xml, 'eventexpr')} error ORX0107`,
    ], show(diagnostics).join('\n'));
  });

  test('errors and warnings together: chart null, both reported', () => {
    const xml = chart('  <state id="a"><onentry><log expr="return"/><raise/></onentry></state>');
    const { chart: compiled, diagnostics } = load(xml);
    assert.equal(compiled, null);
    assert.deepEqual(brief(diagnostics), [`${posOf(xml, 'expr=')} warning ORX0201`, `${posOf(xml, '<raise')} error ORX0106`]);
  });

  test('warnings alone leave a chart', () => {
    const { chart: compiled, diagnostics } = load(chart('  <state id="a"><onentry><log expr="return"/></onentry></state>'));
    assert.deepEqual(diagnostics.map((d) => d.code), ['ORX0201']);
    assert.ok(compiled);
  });

  test('malformed XML is one diagnostic: the parser stops at the first fatal error', () => {
    const xml = chart('  <state id="a">\n  </final>\n  <state id=b>\n  </parallel>');
    assert.deepEqual(brief(load(xml).diagnostics), [`${posOf(xml, '</final>')} error ORX0002`]);
  });

  test('billion laughs is refused at the DOCTYPE, fast, and nothing is expanded', () => {
    const entities = Array.from({ length: 9 }, (_, i) => `  <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`);
    const xml = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n  <!ENTITY lol "lol">\n${entities.join('\n')}\n]>\n${chart('  <state id="a"><onentry><log expr="\'&lol9;\'"/></onentry></state>')}`;
    const started = process.hrtime.bigint();
    const { chart: compiled, diagnostics } = load(xml);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(compiled, null);
    assert.deepEqual(brief(diagnostics), ['2:1 error ORX0002']);
    assert.doesNotMatch(diagnostics[0].message, /lollol/);
    assert.ok(ms < 500, `took ${ms} ms`);
  });
});

describe('lint (warnings for run-scxml check)', () => {
  const warnings = (xml: string, code?: DiagnosticCode) => {
    const { chart: compiled, diagnostics } = load(xml);
    assert.ok(compiled, `lint warnings never stop a chart: ${show(diagnostics).join('\n')}`);
    assert.ok(diagnostics.every((d) => d.severity === 'warning'));
    return brief(diagnostics.filter((d) => code === undefined || d.code === code));
  };

  test('ORX0301: entry follows ancestors, parallel regions, initials and history', () => {
    const xml = chart([
      '  <state id="start">',
      '    <transition event="deep" target="leaf"/>',
      '    <transition event="hist" target="h"/>',
      '  </state>',
      '  <state id="outer">',                        // entered as the ancestor of leaf
      '    <state id="skipped"/>',                   // outer's initial: never default-entered
      '    <parallel id="p">',
      '      <state id="r1"><state id="leaf"/></state>',
      '      <state id="r2"><state id="r2a"/><state id="r2b"/></state>', // r2 default-entered: r2a; r2b never
      '    </parallel>',
      '  </state>',
      '  <state id="withHistory">',
      '    <history id="h"><transition target="w2"/></history>',
      '    <state id="w1"/>',                        // initial of withHistory, which is never default-entered
      '    <state id="w2"/>',
      '  </state>',
      '  <state id="island">',                       // nothing leads here: reported, its children not
      '    <state id="islandChild"/>',
      '  </state>',
    ].join('\n'));
    assert.deepEqual(warnings(xml), [
      `${posOf(xml, '<state id="skipped"')} warning ORX0301`,
      `${posOf(xml, '<state id="r2b"')} warning ORX0301`,
      `${posOf(xml, '<state id="w1"')} warning ORX0301`,
      `${posOf(xml, '<state id="island"')} warning ORX0301`,
    ]);
  });

  test('ORX0301: a shallow history restores its parent\'s children with their initials (W3C test 388)', () => {
    const xml = chart([
      '  <state id="s0" initial="s012">',
      '    <transition event="again" target="s02"/>',
      '    <transition event="back" target="s1"/>',
      '    <history id="hs"><transition target="s02"/></history>',
      '    <state id="s01"><state id="s011"/><state id="s012"/></state>',
      '    <state id="s02"/>',
      '  </state>',
      '  <state id="s1"><transition event="restore" target="hs"/></state>',
    ].join('\n'), ' initial="s012"');
    assert.deepEqual(warnings(xml), []);
  });

  test('ORX0301: no false positive on a chart where everything is entered', () => {
    const xml = chart([
      '  <datamodel><data id="count" expr="0"/></datamodel>',
      '  <state id="idle">',
      '    <transition event="call.*" cond="count &lt; 3" target="talking"/>',
      '    <transition event="call" target="busy"/>',
      '  </state>',
      '  <parallel id="talking">',
      '    <onentry><assign location="count" expr="count + 1"/></onentry>',
      '    <state id="audio"><state id="muted"/><state id="open"/>',
      '      <transition event="unmute" target="open"/></state>',
      '    <state id="video">',
      '      <initial><transition target="off"/></initial>',
      '      <history id="vh" type="deep"><transition target="on"/></history>',
      '      <state id="off"><transition event="cam" target="on"/></state>',
      '      <state id="on"><transition event="cam" target="off"/></state>',
      '    </state>',
      '    <transition event="hold" target="held"/>',
      '    <transition event="hangup" target="done"/>',
      '  </parallel>',
      '  <state id="held"><transition event="resume" target="vh"/></state>',
      '  <state id="busy"><transition target="done"/></state>',
      '  <final id="done"/>',
    ].join('\n'));
    assert.deepEqual(warnings(xml), []);
  });

  test('ORX0302: same or covering descriptors without cond, and anything after an unconditional eventless transition', () => {
    const xml = chart([
      '  <parallel id="p">',
      '    <state id="a">',
      '      <transition event="error" target="z"/>',
      '      <transition event="error.execution" target="z"/>', // covered by the prefix "error"
      '      <transition event="error.*" target="z"/>',         // "error.*" is "error"
      '      <transition event="x y" cond="true" target="z"/>', // has a cond: shadows nothing
      '      <transition event="y" target="z"/>',
      '      <transition event="*" target="z"/>',
      '      <transition event="anything" target="z"/>',        // covered by "*"
      '    </state>',
      '    <state id="b">',
      '      <transition event="go" target="z"/>',
      '      <transition cond="true" target="z"/>',
      '      <transition target="z"/>',
      '      <transition target="a"/>',                          // eventless after an unconditional eventless
      '      <transition event="later" target="z"/>',            // this state never waits for events
      '    </state>',
      '  </parallel>',
      '  <final id="z"/>',
    ].join('\n'));
    assert.deepEqual(warnings(xml), [
      `${posOf(xml, '<transition event="error.execution"')} warning ORX0302`,
      `${posOf(xml, '<transition event="error.*"')} warning ORX0302`,
      `${posOf(xml, '<transition event="anything"')} warning ORX0302`,
      `${posOf(xml, '<transition target="a"')} warning ORX0302`,
      `${posOf(xml, '<transition event="later"')} warning ORX0302`,
    ]);
  });

  test('ORX0302: no false positive when the earlier transition is narrower or conditional', () => {
    const xml = chart([
      '  <state id="a">',
      '    <transition event="error.execution" target="z"/>',
      '    <transition event="error" target="z"/>',        // broader than the earlier one
      '    <transition event="errors" target="z"/>',       // not a token prefix of "error"
      '    <transition event="e" cond="false" target="z"/>',
      '    <transition event="e" target="z"/>',
      '    <transition event="f g" target="z"/>',
      '    <transition event="g h" target="z"/>',          // "h" is not covered
      '  </state>',
      '  <final id="z"/>',
    ].join('\n'));
    assert.deepEqual(warnings(xml), []);
  });

  test('ORX0303: a whole-word mention anywhere in the chart\'s code is a use', () => {
    const xml = chart([
      '  <datamodel>',
      '    <data id="inCond" expr="1"/>',
      '    <data id="inNamelist"/>',
      '    <data id="inScript"/>',
      '    <data id="inLocation"/>',
      '    <data id="selfOnly" expr="selfOnly"/>',
      '    <data id="prefix"/>',
      '    <data id="$dollar"/>',
      '  </datamodel>',
      '  <script>inScript = 2;</script>',
      '  <state id="a">',
      '    <onentry><send event="e" namelist="inNamelist"/><assign location="inLocation.x" expr="prefixed + $dollar"/></onentry>',
      '    <transition cond="inCond" target="z"/>',
      '  </state>',
      '  <final id="z"/>',
    ].join('\n'));
    assert.deepEqual(warnings(xml, 'ORX0303'), [
      `${posOf(xml, '<data id="selfOnly"')} warning ORX0303`,
      `${posOf(xml, '<data id="prefix"')} warning ORX0303`,
    ]);
  });

  test('lint stays quiet while a chart has errors', () => {
    const { diagnostics } = load(chart('  <state id="a"><transition event="e" target="nope"/></state>\n  <state id="b"/>'));
    assert.deepEqual(diagnostics.map((d) => d.code), ['ORX0104']);
  });

  test('W3C charts: ORX0301/ORX0302 only where they are true (each one was read)', { skip: !existsSync(W3C_ECMA) && 'no ../shared/w3c-scxml' }, () => {
    // Every entry below was checked against the chart: the state is truly never entered, or the
    // transition truly duplicates an earlier one (e.g. test343 repeats done.state.s0).
    const expected = [
      'test278.scxml:8 ORX0301 s1', 'test279.scxml:9 ORX0301 s1',
      'test343.scxml:8 ORX0302', 'test355.scxml:7 ORX0301 s1', 'test355.scxml:15 ORX0301 fail',
      'test364.scxml:12 ORX0301 s111', 'test364.scxml:15 ORX0301 s11p111', 'test364.scxml:23 ORX0301 s11p121',
      'test364.scxml:37 ORX0301 s211', 'test364.scxml:40 ORX0301 s21p111', 'test364.scxml:48 ORX0301 s21p121',
      'test364.scxml:63 ORX0301 s3112', 'test364.scxml:64 ORX0301 s312', 'test364.scxml:65 ORX0301 s32',
      'test387.scxml:12 ORX0301 s0HistDeep', 'test387.scxml:21 ORX0301 s012', 'test387.scxml:27 ORX0301 s02',
      'test387.scxml:43 ORX0301 s1HistShallow', 'test387.scxml:49 ORX0301 s11', 'test387.scxml:62 ORX0301 s121',
      'test413.scxml:6 ORX0301 s1', 'test413.scxml:15 ORX0301 s2p111', 'test413.scxml:24 ORX0301 s2p121',
      'test488.scxml:8 ORX0302', 'test550.scxml:8 ORX0301 s1', 'test551.scxml:8 ORX0301 s1',
      'test576.scxml:5 ORX0301 s0', 'test576.scxml:14 ORX0301 s111', 'test576.scxml:17 ORX0301 s11p111',
      'test576.scxml:25 ORX0301 s11p121',
    ];
    const engine = createEngine();
    const found: string[] = [];
    for (const f of readdirSync(W3C_ECMA).filter((n) => n.endsWith('.scxml')).sort()) {
      for (const d of engine.load(path.join(W3C_ECMA, f)).diagnostics) {
        if (d.code !== 'ORX0301' && d.code !== 'ORX0302') continue;
        found.push(`${f}:${d.line} ${d.code}${d.code === 'ORX0301' ? ` ${/'([^']+)'/.exec(d.message)?.[1]}` : ''}`);
      }
    }
    assert.deepEqual(found, expected);
  });
});

describe('CLI diagnostics', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: tmpDir, encoding: 'utf8', timeout: 30_000 });
  const write = (name: string, text: string) => {
    const file = path.join(tmpDir, name);
    writeFileSync(file, text);
    return file;
  };

  test('check: one `file:line:col: severity CODE: message` line per diagnostic, exit 2 with errors', () => {
    const file = write('bad.scxml', chart([
      '  <datamodel><data id="unused"/></datamodel>',
      '  <state id="start">',
      '    <transition event="go" target="strat"/>',
      '    <onentry><log expr="return"/></onentry>',
      '  </state>',
    ].join('\n')));
    const r = run(['check', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [
      `${file}:4:28: error ORX0104: target 'strat' does not exist (did you mean 'start'?)`,
      `${file}:5:19: warning ORX0201: expr 'return' does not compile: Unexpected token (1:0)`,
    ]);
  });

  test('check: warnings alone exit 0', () => {
    const file = write('warn.scxml', chart('  <datamodel><data id="unused"/></datamodel>\n  <state id="a"/>'));
    const r = run(['check', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [
      `${file}:2:14: warning ORX0303: data 'unused' is declared but never used in any expression, location, script or namelist`,
    ]);
  });

  test('check: a clean chart prints no diagnostic and exits 0', () => {
    const r = run(['check', write('clean.scxml', chart('  <state id="a"><transition event="e" target="b"/></state>\n  <final id="b"/>'))]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  test('check: a malformed chart and a missing chart exit 2', () => {
    const file = write('malformed.scxml', chart('  <state id="a">'));
    const r = run(['check', file]);
    assert.equal(r.status, 2);
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [`${file}:3:1: error ORX0002: malformed XML: end tag </scxml> does not match the start tag <state> at line 2`]);
    const missing = path.join(tmpDir, 'missing.scxml');
    const m = run(['check', missing]);
    assert.equal(m.status, 2);
    assert.match(m.stderr, new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:1: error ORX0001: cannot read the chart: ENOENT\\n$`));
  });

  test('run: a chart with errors exits 2 with its diagnostics on stderr', () => {
    const file = write('run-bad.scxml', chart('  <state id="a">\n    <transition event="e" target="nowhere"/>\n  </state>'));
    const r = run(['run', file, '--no-http']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [`${file}:3:27: error ORX0104: target 'nowhere' does not exist`]);
  });
});
