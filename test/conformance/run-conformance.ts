// W3C SCXML conformance runner: `node dist/test/conformance/run-conformance.js [--write-docs] [--only 144,147]`.
// Runs every automatic chart (and the automated manual checks) through the CLI, prints one line per
// test and a summary, optionally rewrites docs/conformance.md, and exits 1 if anything failed.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  categories,
  categoryOf,
  isAutomatic,
  loadManifest,
  NOT_APPLICABLE_REASON,
  REAL_CLOCK,
  repoRoot,
  runConformanceTest,
  SANDBOXES,
  sharedDir,
  type Category,
  type ManifestEntry,
  type Outcome,
  VIRTUAL_CLOCK,
} from './manifest.js';
import { manualChecks, runManualCheck, type ManualCheck } from './manual.js';

interface Row {
  entry: ManifestEntry;
  category: Category;
  outcome: Outcome | 'not run';
  reason?: string;
  durationMs: number;
}

const CONCURRENCY = 3;
const OUTCOMES: readonly Row['outcome'][] = ['pass', 'fail', 'error', 'timeout', 'n/a', 'not run'];

function parseArgs(argv: string[]): { writeDocs: boolean; only?: Set<string> } {
  let writeDocs = false;
  let only: Set<string> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--write-docs') writeDocs = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const list = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!list) throw new Error('--only needs a comma-separated list of test ids');
      only = new Set(list.split(',').map((s) => s.trim()).filter(Boolean));
    } else throw new Error(`unknown argument ${arg}; usage: run-conformance.js [--write-docs] [--only 144,147]`);
  }
  // A partial run would leave the published table half "not run".
  if (writeDocs && only) throw new Error('--write-docs needs a full run; drop --only');
  return { writeDocs, only };
}

/** Runs fn over items, at most `limit` at a time, keeping results in input order. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function outcomeOf(entry: ManifestEntry, manual: ManualCheck | undefined): Promise<Omit<Row, 'entry' | 'category'>> {
  if (entry.file === null) return { outcome: 'n/a', reason: NOT_APPLICABLE_REASON, durationMs: 0 };
  if (isAutomatic(entry)) {
    // One row per chart: it passes when it passes in every sandbox mode.
    const runs = await Promise.all(SANDBOXES.map((sandbox) => runConformanceTest(entry, sandbox)));
    const failed = runs.map((r, i) => ({ r, sandbox: SANDBOXES[i] })).filter(({ r }) => r.outcome !== 'pass');
    return failed.length === 0
      ? { outcome: 'pass', durationMs: Math.max(...runs.map((r) => r.durationMs)) }
      : { outcome: failed[0].r.outcome, reason: failed.map(({ r, sandbox }) => `[${sandbox}] ${r.reason}`).join('; '), durationMs: failed[0].r.durationMs };
  }
  if (manual) return runManualCheck(manual);
  return { outcome: 'not run', reason: 'manual test without an automated check', durationMs: 0 };
}

async function runEntry(entry: ManifestEntry, manual: ManualCheck | undefined): Promise<Row> {
  const { outcome, reason, durationMs } = await outcomeOf(entry, manual);
  const row: Row = { entry, category: categoryOf(entry), outcome, reason, durationMs };
  const detail = reason ? `  ${reason}` : '';
  console.log(`${outcome.padEnd(7)} ${entry.id.padEnd(5)} ${row.category.padEnd(9)} ${String(durationMs).padStart(6)} ms${detail}`);
  return row;
}

function countsByCategory(rows: Row[]): Map<Category, Map<Row['outcome'], number>> {
  const counts = new Map<Category, Map<Row['outcome'], number>>();
  for (const c of categories) counts.set(c, new Map());
  for (const r of rows) {
    const m = counts.get(r.category)!;
    m.set(r.outcome, (m.get(r.outcome) ?? 0) + 1);
  }
  return counts;
}

function summaryLines(rows: Row[]): string[] {
  const lines: string[] = [];
  for (const [category, m] of countsByCategory(rows)) {
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    if (total === 0) continue;
    const parts = OUTCOMES.filter((o) => m.has(o)).map((o) => `${m.get(o)} ${o}`);
    lines.push(`${category}: ${total} (${parts.join(', ')})`);
  }
  return lines;
}

/** Docs text from engine output: one line, no table-breaking pipes, no raw tags, no machine-specific paths. */
function cell(text: string): string {
  return text
    .split(sharedDir)
    .join('../shared/w3c-scxml')
    .replace(/\s+/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .trim();
}

/**
 * docs/conformance.md ends with a hand-written part (SCION's departures from the Recommendation,
 * which test/differential.test.ts reads and checks): everything from this marker on is kept as it is.
 */
export const HAND_WRITTEN_MARKER = '<!-- Hand-written from here on: `npm run conformance` regenerates the part above and keeps this part as it is. -->';

function handWrittenPart(file: string): string {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = text.indexOf(HAND_WRITTEN_MARKER);
  return at < 0 ? '' : text.slice(at);
}

function renderDocs(rows: Row[], handWritten: string): string {
  const counts = countsByCategory(rows);
  const out: string[] = [
    '# W3C SCXML 1.0 conformance',
    '',
    '<!-- Generated down to the hand-written part (SCION\'s departures): do not edit above it. Regenerate with `npm run conformance`. -->',
    '',
    'Produced by `npm run conformance`, which builds the project and runs',
    '`node dist/test/conformance/run-conformance.js --write-docs`. The same checks run under `npm test`',
    '(`test/conformance.test.ts`).',
    '',
    'The tests are the W3C SCXML 1.0 Implementation Report Plan tests in their ECMAScript versions, from',
    '`../shared/w3c-scxml` (see its README.md for provenance). Each automatic chart is run with',
    `\`node dist/src/cli/main.js run <chart> --json --clock ${VIRTUAL_CLOCK.clock} --timeout ${VIRTUAL_CLOCK.timeoutMs}\``,
    `(BasicHTTP tests: \`--clock ${REAL_CLOCK.clock} --timeout ${REAL_CLOCK.timeoutMs}\`, they need loopback networking).`,
    'A chart passes when the CLI exits 0 having reached the top-level `<final id="pass">`, in both sandbox modes',
    '(`--sandbox fast` and `--sandbox isolated`); a row that does not pass names the mode that failed.',
    'Outcomes: `fail` = reached `fail` or went idle; `error` = chart rejected or runtime error; `timeout` = neither final in time;',
    '`n/a` = XPath datamodel only. Manual tests are decided by the automated checks described below.',
    '',
    '## Summary',
    '',
  ];
  // Only the outcome columns that occur, so a clean run reads as pass/n/a.
  const columns = OUTCOMES.filter((o) => o === 'pass' || rows.some((r) => r.outcome === o));
  out.push(`| category | tests | ${columns.join(' | ')} |`, `|---|---:|${columns.map(() => '---:').join('|')}|`);
  for (const [category, m] of counts) {
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    out.push(`| ${category} | ${total} | ${columns.map((o) => m.get(o) ?? 0).join(' | ')} |`);
  }
  out.push('', '## Manual tests', '');
  out.push(
    'The W3C marks these `manual="true"`: a person reads the log. Here each one is automated by a check in',
    '`test/conformance/manual.ts`, derived from the test\'s own description.',
    '',
  );
  for (const m of manualChecks) {
    const row = rows.find((r) => r.entry.id === m.id);
    out.push(`### ${m.id} (spec ${row?.entry.spec ?? '?'}, ${row?.entry.conformance ?? '?'})`, '');
    out.push(`- Must: ${m.mustDo}`, `- Checked: ${m.howChecked}`);
    out.push(`- Result: ${row ? row.outcome : 'not run'}${row?.reason ? ` (${cell(row.reason)})` : ''}`, '');
  }
  out.push('## All tests', '', 'In manifest order.', '', '| id | spec | category | outcome | reason |', '|---|---|---|---|---|');
  for (const r of rows) {
    out.push(`| ${r.entry.id} | ${r.entry.spec} | ${r.category} | ${r.outcome} | ${cell(r.reason ?? '')} |`);
  }
  const generated = `${out.join('\n')}\n`;
  return handWritten ? `${generated}\n${handWritten.endsWith('\n') ? handWritten : `${handWritten}\n`}` : generated;
}

async function main(): Promise<number> {
  const { writeDocs, only } = parseArgs(process.argv.slice(2));
  const manifest = loadManifest();
  if (only) {
    const unknown = [...only].filter((id) => !manifest.some((e) => e.id === id));
    if (unknown.length > 0) throw new Error(`not in the manifest: ${unknown.join(', ')}`);
  }
  const selected = manifest.filter((e) => !only || only.has(e.id));
  const rows = await mapLimited(selected, CONCURRENCY, (e) => runEntry(e, manualChecks.find((m) => m.id === e.id)));

  console.log('');
  for (const line of summaryLines(rows)) console.log(line);
  const failed = rows.filter((r) => r.category !== 'not applicable' && r.outcome !== 'pass');
  if (failed.length > 0) console.log(`not passing: ${failed.map((r) => r.entry.id).join(', ')}`);

  if (writeDocs) {
    const file = path.join(repoRoot, 'docs', 'conformance.md');
    mkdirSync(path.dirname(file), { recursive: true });
    const kept = handWrittenPart(file);
    if (!kept) throw new Error(`${file} has lost its hand-written part (the marker ${HAND_WRITTEN_MARKER}); restore it from git before regenerating`);
    writeFileSync(file, renderDocs(rows, kept));
    console.log(`wrote ${path.relative(repoRoot, file)}`);
  }
  return failed.length > 0 ? 1 : 0;
}

// `npm test` runs every .js under dist/test as a test file; this is a script, so do nothing there.
if (!process.env.NODE_TEST_CONTEXT) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 2;
    },
  );
}
