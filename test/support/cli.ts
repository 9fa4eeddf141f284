// Running the built run-scxml in tests: one way, shared by every CLI test.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is compiled to dist/test/support/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI_PATH = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout lines without the trailing empty ones. */
  lines: string[];
  /** The last stdout line parsed as the --json result, or null. */
  json: { status: string; final: string | null; configuration: string[]; message?: string } | null;
  wallMs: number;
}

export interface RunCliOptions {
  readonly cwd?: string;
  /** The child is killed after this long, whatever happens (default 30 s). */
  readonly killMs?: number;
  /** Write to the child's stdin (then end it); without it, stdin is /dev/null. */
  readonly feed?: (child: ChildProcess) => void;
}

/** The outcome of a finished run, from its exit code and output. */
export function cliRun(code: number | null, stdout: string, stderr: string, wallMs = 0): CliRun {
  const lines = stdout.split('\n');
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  let json: CliRun['json'] = null;
  try {
    json = lines.length ? JSON.parse(lines[lines.length - 1]) : null;
  } catch {
    json = null;
  }
  return { code, stdout, stderr, lines, json, wallMs };
}

export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: options.cwd ?? REPO_ROOT, stdio: [options.feed ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.killMs ?? 30_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(cliRun(code, stdout, stderr, Date.now() - started));
    });
    options.feed?.(child);
  });
}
