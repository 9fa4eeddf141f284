// docs/reference/diagnostics.md documents exactly the codes of DIAGNOSTIC_CODES, and each
// section's example prints exactly what the section shows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { createEngine, DIAGNOSTIC_CODES, formatDiagnostic } from '../src/index.js';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'reference', 'diagnostics.md');
const text = readFileSync(DOC, 'utf8');

/** The doc's "## ORXnnnn — …" sections, by code. */
const sections = new Map<string, string>();
for (const part of text.split(/^(?=## )/m).slice(1)) {
  const code = /^## (ORX\d{4})\b/.exec(part)?.[1];
  if (code) sections.set(code, part);
}
const block = (section: string, lang: string) => new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(section)?.[1];

describe('docs/reference/diagnostics.md', () => {
  test('every code has a section, and no section documents a code that does not exist', () => {
    const codes = Object.keys(DIAGNOSTIC_CODES);
    assert.deepEqual(codes.filter((c) => !sections.has(c)), [], 'codes without a section');
    assert.deepEqual([...sections.keys()].filter((c) => !(c in DIAGNOSTIC_CODES)), [], 'sections for unknown codes');
    const mentioned = new Set(text.match(/ORX\d{4}/g));
    assert.deepEqual([...mentioned].filter((c) => !(c in DIAGNOSTIC_CODES)), [], 'unknown codes mentioned');
  });

  for (const [code, section] of sections) {
    test(`${code}: the example prints what the section shows, with the stated severity`, () => {
      const severity = /\*\*Severity:\*\* (error|warning)/.exec(section)?.[1];
      assert.ok(severity, 'a **Severity:** line');
      assert.match(section, /\*\*Fix:\*\* \S/, 'a **Fix:** paragraph');
      const printed = block(section, 'text');
      assert.ok(printed, 'a ```text block with the printed diagnostics');
      // 04xx come from extension modules, which a plain engine does not install.
      if (code.startsWith('ORX04')) return;
      const xml = block(section, 'xml');
      // ORX0001 has no chart to show: its example is a path that does not exist.
      const result = xml === undefined
        ? createEngine().load(/^(\S+):1:1: /.exec(printed)![1])
        : createEngine().load({ xml, file: 'chart.scxml', baseUrl: new URL('file:///charts/chart.scxml') });
      assert.deepEqual(result.diagnostics.map(formatDiagnostic), printed.split('\n'));
      assert.ok(result.diagnostics.some((d) => d.code === code && d.severity === severity), `the example reports ${code} as ${severity}`);
    });
  }
});
