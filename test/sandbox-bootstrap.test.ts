// The isolated sandbox's bootstrap is compacted before each session's runtime compiles it
// (QuickJS keeps every function's source text): the compacted code must be the same program.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as acorn from 'acorn';
import { BOOTSTRAP, BOOTSTRAP_SOURCE, compactSource } from '../src/datamodel/ecmascript/isolated.js';

/** The program's syntax tree without positions. */
function shape(code: string): unknown {
  return JSON.parse(JSON.stringify(acorn.parse(code, { ecmaVersion: 'latest' }), (key, value) => (key === 'start' || key === 'end' || key === 'raw' ? undefined : value)));
}

test('the compacted bootstrap is the same program, and shorter', () => {
  assert.deepEqual(shape(BOOTSTRAP_SOURCE), shape(BOOTSTRAP));
  assert.ok(BOOTSTRAP_SOURCE.length < BOOTSTRAP.length * 0.7, `${BOOTSTRAP_SOURCE.length} of ${BOOTSTRAP.length}`);
});

test('compactSource keeps the spaces that separate tokens', () => {
  const cases = [
    'var a = b + +c, d = e - -f, g = h / /re/.source;',
    'function f(x) { return typeof x === "string" ? x : void 0; }',
    'var s = `a ${ b } c` + \'d  e\'; // comment\n/* block */ var t = 1;',
    'if (a) b(); else c();',
    'x = y++ + ++z;',
  ];
  for (const code of cases) assert.deepEqual(shape(compactSource(code)), shape(code), `${code} -> ${compactSource(code)}`);
  assert.equal(compactSource('var s = `a ${ b } c`;'), 'var s=`a ${b} c`;');
});
