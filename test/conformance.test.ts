// W3C SCXML 1.0 conformance as node:test tests: one test per automatic chart (so the runner's summary
// counts them) plus the automated manual checks. Each test fails on its own with the reason.
// The same runs, as a report, are `npm run conformance` (test/conformance/run-conformance.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAutomatic, loadManifest, runConformanceTest, SANDBOXES } from './conformance/manifest.js';
import { manualChecks } from './conformance/manual.js';

const CONCURRENCY = 3; // each test spawns a node process; a few at a time keeps the real-clock (BasicHTTP) tests inside their timeouts

const manifest = loadManifest();

for (const sandbox of SANDBOXES) {
  for (const status of ['mandatory', 'optional'] as const) {
    describe(`W3C ${status}, ${sandbox} sandbox`, { concurrency: CONCURRENCY }, () => {
      for (const entry of manifest.filter((e) => isAutomatic(e) && e.status === status)) {
        test(`test${entry.id} (spec ${entry.spec})`, async () => {
          const r = await runConformanceTest(entry, sandbox);
          const logs = r.logs.length > 0 ? `\nlogs: ${JSON.stringify(r.logs.slice(-10))}` : '';
          assert.equal(r.outcome, 'pass', `test${entry.id} (${sandbox}): ${r.outcome}: ${r.reason}${logs}`);
        });
      }
    });
  }
}

describe('W3C manual (automated checks)', { concurrency: CONCURRENCY }, () => {
  for (const m of manualChecks) {
    const spec = manifest.find((e) => e.id === m.id)?.spec;
    test(`test${m.id} (manual, spec ${spec})`, () => m.check());
  }
});
