// `run-scxml serve` as a child process, for the tests that need the real command (signals, crashes).
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_PATH } from './cli.js';

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (with what it wrote on stderr). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts `run-scxml serve <args>`; resolves once it listens (its first stdout line names the URL). */
export function startServe(args: readonly string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI_PATH, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      const m = /ParlayX service on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve({ url: m[1]!, child, exited });
    });
    void exited.then(({ code }) => reject(new Error(`run-scxml serve exited (${code}) before listening: ${stderr}`)));
  });
}
