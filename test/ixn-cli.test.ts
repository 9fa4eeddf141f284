// The interaction module through the command line (issue 4): the examples with --call (and
// --switch), privateservice target rules and error paths as run-scxml shows them (the switch's
// request log and SIP INFO on stdout), --trace, and `run-scxml check` for ixn elements.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import { AOC_NAMESPACE } from '../src/tserver/sim/index.js';
import { DEFAULT_ATTRS, ixnChart, psChart, ROOT, runCli, tempDir, TEST_TOPOLOGY, type CliRun, type PsChart } from './ixn-harness.js';

const tmp = tempDir('orx-ixn-cli-');
after(() => tmp.remove());

const AOC_EXAMPLE = path.join(ROOT, 'examples', 'advice-of-charge.scxml');
const ROUTING_EXAMPLE = path.join(ROOT, 'examples', 'inbound-routing.scxml');
const CALL = ['--clock', 'virtual', '--no-http', '--call', '1001:5000', '--json'];

/** Two switches: "Other" (first) also has agent DNs 9000-9009; --call 1001:5000 lands on SIP_Switch. */
const TWO_SWITCHES = tmp.write('two-switches.json', JSON.stringify({
  switches: [{ name: 'Other', dns: [{ range: '9000-9009', type: 'agent' }] }, TEST_TOPOLOGY.switches[0]],
}));

/** The lines of the SIP INFO body that follows the "SIP INFO to" line. */
function sipInfoBody(run: CliRun): string {
  const i = run.lines.findIndex((l) => l.includes(': SIP INFO to '));
  assert.ok(i >= 0, run.stdout);
  const end = run.lines.findIndex((l, j) => j > i && l.startsWith('</aoc>'));
  assert.ok(end > i, run.stdout);
  return run.lines.slice(i + 1, end + 1).join('\n');
}

const logged = (run: CliRun, label: string): any[] =>
  run.lines.filter((l) => l.startsWith(`${label}: `)).map((l) => JSON.parse(l.slice(label.length + 2)));

let counter = 0;
async function runPs(o: PsChart, extra: readonly string[] = []): Promise<CliRun> {
  const file = tmp.write(`ps${++counter}.scxml`, psChart(o));
  return runCli([file, ...CALL, ...extra]);
}

describe('examples through run-scxml --call', () => {
  for (const sandbox of ['fast', 'isolated']) {
    test(`advice-of-charge (${sandbox}): the privateservice request reaches the switch and the SIP INFO carries the AoC XML; final statex`, async () => {
      const run = await runCli([AOC_EXAMPLE, ...CALL, '--sandbox', sandbox]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.json, { status: 'final', final: 'statex', configuration: ['statex'] });
      const callId = '0000000000000001';
      const request = run.lines.indexOf(`switch SIP_Switch: privateservice on 9000 (call ${callId}) accepted`);
      const info = run.lines.indexOf(`switch SIP_Switch: SIP INFO to 9000 (application/vnd.etsi.aoc+xml, AoC-D, reference 1, call ${callId})`);
      const redirect = run.lines.indexOf(`switch SIP_Switch: redirect on 5000 (call ${callId}) accepted`);
      assert.ok(redirect >= 0 && request > redirect && info > request, run.stdout);
      assert.ok(run.lines.includes(`routing: ${callId} to agent 9000`), run.stdout);
      assert.match(run.stdout, /^privateservice: accepted, request \S+ on SIP_Switch\/9000$/m);
      const doc = new DOMParser().parseFromString(sipInfoBody(run), 'text/xml');
      const root = doc.documentElement!;
      assert.equal(root.localName, 'aoc');
      assert.equal(root.namespaceURI, AOC_NAMESPACE);
      assert.equal(root.namespaceURI, 'http://uri.etsi.org/ngn/params/xml/simservs/aoc');
      const body = root.getElementsByTagNameNS(AOC_NAMESPACE, 'aoc-d')[0];
      assert.ok(body, 'an AoC-D');
      assert.equal(body.getElementsByTagNameNS(AOC_NAMESPACE, 'charging-info')[0]?.textContent, 'subtotal');
      assert.equal(body.getElementsByTagNameNS(AOC_NAMESPACE, 'currency-id')[0]?.textContent, 'EUR');
      assert.equal(body.getElementsByTagNameNS(AOC_NAMESPACE, 'currency-amount')[0]?.textContent, '1.5');
    });
  }

  test('inbound-routing: tags the call, routes it to agent 9001, holds and retrieves, detaches; final done', async () => {
    const run = await runCli([ROUTING_EXAMPLE, ...CALL]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.json, { status: 'final', final: 'done', configuration: ['done'] });
    const call = '(call 0000000000000001)';
    const expected = [
      `switch SIP_Switch: updateuserdata ${call} accepted`,
      'offering: to 9001',
      `switch SIP_Switch: redirect on 5000 ${call} accepted`,
      `switch SIP_Switch: hold on 9001 ${call} accepted`,
      `switch SIP_Switch: retrieve on 9001 ${call} accepted`,
      'connected: to agent 9001',
    ];
    assert.deepEqual(run.lines.slice(0, -1), expected);
  });

  test('inbound-routing, agent 9001 does not answer (--switch topology): after 5 s the call is offered to 9002, who answers', async () => {
    const topology = tmp.write('noanswer.json', JSON.stringify({
      switches: [{ name: 'SIP_Switch', dns: [...TEST_TOPOLOGY.switches[0].dns, { dn: '9001', type: 'agent', behaviour: 'noanswer' }] }],
    }));
    const run = await runCli([ROUTING_EXAMPLE, ...CALL, '--switch', topology]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.json?.final, 'done');
    const offers = run.lines.filter((l) => l.startsWith('offering: '));
    assert.deepEqual(offers, ['offering: to 9001', 'offering: to 9002']);
    assert.ok(run.lines.includes('switch SIP_Switch: redirect (call 0000000000000001) accepted'), 'the second offer redirects the ringing call: ' + run.stdout);
    assert.ok(run.lines.includes('switch SIP_Switch: hold on 9002 (call 0000000000000001) accepted'), run.stdout);
    assert.ok(run.lines.includes('connected: to agent 9002'), run.stdout);
  });

  test('inbound-routing, agent 9001 stops ringing after 3 s (the call returns to the routing point): offered to 9002 from there', async () => {
    const topology = tmp.write('noanswer-timeout.json', JSON.stringify({
      switches: [{ name: 'SIP_Switch', dns: [...TEST_TOPOLOGY.switches[0].dns, { dn: '9001', type: 'agent', behaviour: 'noanswer', noAnswerTimeoutMs: 3000 }] }],
    }));
    const run = await runCli([ROUTING_EXAMPLE, ...CALL, '--switch', topology]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json?.final, 'done');
    assert.deepEqual(run.lines.filter((l) => l.includes('redirect')), [
      'switch SIP_Switch: redirect on 5000 (call 0000000000000001) accepted',
      'switch SIP_Switch: redirect on 5000 (call 0000000000000001) accepted',
    ]);
    assert.ok(run.lines.includes('connected: to agent 9002'), run.stdout);
  });
});

describe('ixn:privateservice through run-scxml: target rules on the switch log', () => {
  test('"9000@SIP_Switch": on DN 9000 of SIP_Switch', async () => {
    const run = await runPs({ route: '9000', attrs: `${DEFAULT_ATTRS} resource="'9000@SIP_Switch'"` });
    assert.equal(run.json?.final, 'ok', run.stdout + run.stderr);
    assert.ok(run.lines.includes('switch SIP_Switch: privateservice on 9000 (call 0000000000000001) accepted'), run.stdout);
    assert.deepEqual([logged(run, 'done')[0].switch, logged(run, 'done')[0].thisdn], ['SIP_Switch', '9000']);
  });

  test('{switch}: that switch, no thisDN', async () => {
    const run = await runPs({ route: '9000', attrs: `${DEFAULT_ATTRS} resource="({switch: 'SIP_Switch'})"` });
    assert.equal(run.json?.final, 'ok', run.stdout + run.stderr);
    assert.ok(run.lines.includes('switch SIP_Switch: privateservice (call 0000000000000001) accepted'), run.stdout);
  });

  test('{dn, switch}: that switch and DN', async () => {
    const run = await runPs({ route: '9000', attrs: `${DEFAULT_ATTRS} resource="({dn: '9000', switch: 'SIP_Switch'})"` }, ['--switch', TWO_SWITCHES]);
    assert.equal(run.json?.final, 'ok', run.stdout + run.stderr);
    assert.ok(run.lines.includes('switch SIP_Switch: privateservice on 9000 (call 0000000000000001) accepted'), run.stdout);
    assert.ok(!run.stdout.includes('switch Other: privateservice'), run.stdout);
  });

  test('only a DN ("9000"): the switch of the party, not the first switch with the DN (--switch with two switches)', async () => {
    const run = await runPs({ route: '9000', attrs: `${DEFAULT_ATTRS} resource="'9000'"` }, ['--switch', TWO_SWITCHES]);
    assert.equal(run.json?.final, 'ok', run.stdout + run.stderr);
    assert.ok(run.lines.includes('switch SIP_Switch: privateservice on 9000 (call 0000000000000001) accepted'), run.stdout);
    assert.ok(!run.stdout.includes('switch Other:'), run.stdout);
  });

  test('no resource: the switch of the last party, no thisDN (--switch with two switches)', async () => {
    const run = await runPs({ route: '9000' }, ['--switch', TWO_SWITCHES]);
    assert.equal(run.json?.final, 'ok', run.stdout + run.stderr);
    assert.ok(run.lines.includes('switch SIP_Switch: privateservice (call 0000000000000001) accepted'), run.stdout);
    assert.ok(!run.stdout.includes('switch Other:'), run.stdout);
  });

  test('no resource, diverted from the routing point to an external number and answered: the SIP Server of the call, no thisDN', async () => {
    const run = await runPs({ route: '+4420794600' });
    assert.equal(run.json?.final, 'ok', run.stdout + run.stderr);
    assert.deepEqual(run.lines.filter((l) => l.startsWith('switch ')), [
      'switch SIP_Switch: redirect on 5000 (call 0000000000000001) accepted',
      'switch SIP_Switch: privateservice (call 0000000000000001) accepted',
    ]);
    assert.deepEqual([logged(run, 'done')[0].switch, logged(run, 'done')[0].thisdn], ['SIP_Switch', null]);
  });
});

describe('ixn:privateservice through run-scxml: error paths (error.voice.privateservice reaches the strategy)', () => {
  const cases: [string, PsChart, string, RegExp | null][] = [
    ['no interaction id', { attrs: 'serviceid="1" interactionid="null"' }, 'nointeraction', null],
    ['an unknown interaction id', { attrs: `serviceid="1" interactionid="'00000000000000ff'"` }, 'nointeraction', null],
    ['a DN that is no party (target not determinable)', { attrs: `${DEFAULT_ATTRS} resource="'9005'"` }, 'invaliddestination', null],
    ['a switch nobody configured', { attrs: `${DEFAULT_ATTRS} resource="'9000@Nowhere'"` }, 'invaliddestination', null],
    ['an adapter error (DN not on the switch)', { attrs: `${DEFAULT_ATTRS} resource="'7777@SIP_Switch'"` }, 'invaliddn',
      /^switch SIP_Switch: privateservice on 7777 \(call 0000000000000001\) rejected invaliddn: /m],
    ['a serviceid that is not an integer', { attrs: `serviceid="'twelve'" interactionid="ixnid"` }, 'invalidargument', null],
    ['an attribute that fails to evaluate', { attrs: `${DEFAULT_ATTRS} hints="missing.variable"` }, 'invalidargument', null],
    ['AoC to a party that is not established yet', {
      route: '9000', waitAnswer: false, script: 'var ex = {"AOC-Destination-DN": "9000"};', attrs: `${DEFAULT_ATTRS} extensions="ex"`,
    }, 'invaliddestination', /^switch SIP_Switch: privateservice \(call 0000000000000001\) rejected invaliddestination: AOC-Destination-DN 9000 is ringing/m],
    ['AoC to a DN that is no party', {
      route: '9000', script: 'var ex = {"AOC-Destination-DN": "9003"};', attrs: `${DEFAULT_ATTRS} extensions="ex"`,
    }, 'invaliddestination', /rejected invaliddestination: AOC-Destination-DN 9003 is not a party/m],
  ];
  for (const [label, chart, code, stdout] of cases) {
    test(`${label}: "${code}"`, async () => {
      const run = await runPs(chart);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.json?.final, 'failed', run.stdout);
      const [error] = logged(run, 'error');
      assert.equal(error.error, code, run.stdout);
      assert.equal(typeof error.description, 'string');
      assert.equal(error.requestid, run.lines.find((l) => l.startsWith('reqid.now: '))?.slice('reqid.now: '.length));
      if (stdout) assert.match(run.stdout, stdout);
      assert.ok(!run.stdout.includes('SIP INFO'), run.stdout);
    });
  }
});

describe('--call', () => {
  const twoCalls = () => tmp.write('two-calls.scxml', ixnChart(`
  <state id="s">
    <transition event="interaction.added" cond="_genesys.ixn.interactions.length === 2" target="end">
      <log label="both" expr="_genesys.ixn.interactions.map(function (i) { return i.parties[1].dn; })"/>
    </transition>
  </state>
  <final id="end"/>`));

  test('repeats: every call is given to the session, in order', async () => {
    const run = await runCli([twoCalls(), '--clock', 'virtual', '--no-http', '--call', '1001:5000', '--call', '+4420794600:5001', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(logged(run, 'both'), [['5000', '5001']]);
  });

  test('a TO no simulated switch has: usage error, exit 2', async () => {
    const run = await runCli([twoCalls(), '--clock', 'virtual', '--no-http', '--call', '1001:4444']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--call 1001:4444: no simulated switch has DN 4444/);
  });

  test('a FROM the switch refuses (a routing point): usage error, exit 2', async () => {
    const run = await runCli([twoCalls(), '--clock', 'virtual', '--no-http', '--call', '5001:5000']);
    assert.equal(run.code, 2, run.stderr);
    assert.doesNotMatch(run.stderr, /internal error/);
  });

  test('a TO that is not a routing point (the call would reach no session): usage error, exit 2', async () => {
    const run = await runCli([twoCalls(), '--clock', 'virtual', '--no-http', '--call', '1001:9000']);
    assert.equal(run.code, 2, run.stderr);
  });
});

describe('--trace shows the asynchronous action', () => {
  test('adapter.request and adapter.response records for voice.privateservice', async () => {
    const traceFile = path.join(tmp.dir, 'trace.jsonl');
    const run = await runCli([AOC_EXAMPLE, ...CALL, `--trace=${traceFile}`]);
    assert.equal(run.code, 0, run.stderr);
    const records = readFileSync(traceFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const request = records.find((r) => r.type === 'adapter.request' && r.action === 'voice.privateservice');
    const response = records.find((r) => r.type === 'adapter.response' && r.action === 'voice.privateservice');
    assert.ok(request && response, JSON.stringify(records.filter((r) => r.type.startsWith('adapter'))));
    assert.equal(request.requestid, response.requestid);
    assert.equal(request.data.serviceid, 1234);
    assert.equal(request.data.extensions['AOC-Destination-DN'], '9000');
    assert.equal(response.outcome, 'done');
    assert.equal(response.data.thisdn, '9000');
  });
});

describe('run-scxml check: ixn elements', () => {
  const write = (name: string, element: string) => tmp.write(name, ixnChart(`<state id="s">\n  <onentry>\n    ${element}\n  </onentry>\n</state>`));

  test('the vendor spelling extentions: warning ORX0401 with line and column, exit 0', async () => {
    const file = write('extentions.scxml', `<ixn:privateservice serviceid="1" interactionid="'x'" extentions="ext"/>`);
    const run = await runCli(['check', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: warning ORX0401: 'extentions' is accepted as the vendor's spelling of 'extensions'`, 'm'));
    assert.match(run.stdout, /0 error\(s\), 1 warning\(s\)/);
  });

  test('extensions and extentions together: error ORX0107, exit 2; running it exits 2 too', async () => {
    const file = write('both.scxml', `<ixn:privateservice serviceid="1" interactionid="'x'" extensions="ext" extentions="ext"/>`);
    const run = await runCli(['check', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /:4:\d+: error ORX0107: <ixn:privateservice> may not have both 'extensions' and 'extentions'/);
    const ran = await runCli([file, ...CALL]);
    assert.equal(ran.code, 2);
  });

  test('an unknown attribute: error ORX0109 with a suggestion', async () => {
    const file = write('unknown.scxml', `<ixn:privateservice serviceid="1" interactionid="'x'" resorce="'9000'"/>`);
    const run = await runCli(['check', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /:4:\d+: error ORX0109: <ixn:privateservice> has no attribute 'resorce' \(did you mean 'resource'\?\)/);
  });

  test('serviceid and interactionid missing: ORX0106 for each, with the element\'s line and column', async () => {
    const file = write('missing.scxml', '<ixn:privateservice resource="\'9000\'"/>');
    const run = await runCli(['check', file]);
    assert.equal(run.code, 2);
    const lines = run.stderr.split('\n').filter((l) => l.includes('ORX0106'));
    assert.equal(lines.length, 2, run.stderr);
    assert.match(lines.join('\n'), /:4:5: error ORX0106: <ixn:privateservice> requires the attribute 'serviceid'/);
    assert.match(lines.join('\n'), /:4:5: error ORX0106: <ixn:privateservice> requires the attribute 'interactionid'/);
  });

  test('an expression that does not parse: warning ORX0201 at its line and column', async () => {
    const file = tmp.write('parse.scxml', ixnChart(`<state id="s">\n  <onentry>\n    <ixn:privateservice serviceid="1" interactionid="'x'"\n        udata="{name: }"/>\n  </onentry>\n</state>`));
    const run = await runCli(['check', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /:5:9: warning ORX0201: expr '\{name: \}' does not compile/);
  });

  test('an object literal in parentheses is not reported as an expression that does not parse', async () => {
    const file = write('parens.scxml', `<ixn:privateservice serviceid="1" interactionid="'x'" resource="({switch: 'SIP_Switch'})"/>`);
    const run = await runCli(['check', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /ORX0201/);
  });

  test('call-control elements are checked the same way', async () => {
    const file = write('control.scxml', `<ixn:createcall to="'9000'" typ="'regular'"/><ixn:redirect interactionid="'x'"/>`);
    const run = await runCli(['check', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /error ORX0106: <ixn:createcall> requires the attribute 'from'/);
    assert.match(run.stderr, /error ORX0109: <ixn:createcall> has no attribute 'typ' \(did you mean 'type'\?\)/);
    assert.match(run.stderr, /error ORX0106: <ixn:redirect> requires the attribute 'to'/);
  });
});
