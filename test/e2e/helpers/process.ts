import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LOG_DIR } from './paths.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Short name used in messages and for the log file. */
  name: string;
  command: string;
  args: string[];
  /** The COMPLETE environment of the child (nothing is inherited implicitly). */
  env: Record<string, string>;
  cwd?: string;
}

/** Children still running; killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * A child process whose stdout and stderr are collected line by line (and copied to
 * .e2e-cache/logs/<name>-<pid>.log), with helpers to wait for a line and to stop it.
 */
export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly logFile: string;
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private waiters: Array<() => void> = [];
  private logStream: fs.WriteStream;

  constructor(opts: StartOptions) {
    this.name = opts.name;
    fs.mkdirSync(LOG_DIR, { recursive: true });
    this.child = spawn(opts.command, opts.args, {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this.child);
    this.logFile = path.join(LOG_DIR, `${opts.name}-${this.child.pid ?? 'nopid'}.log`);
    this.logStream = fs.createWriteStream(this.logFile);
    this.logStream.write(`$ ${opts.command} ${opts.args.join(' ')}\n`);
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          this.pushLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      stream?.on('end', () => {
        if (buf.length > 0) this.pushLine(buf);
        buf = '';
      });
    }
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.on('exit', (code, signal) => {
        live.delete(this.child);
        this.exitInfo = { code, signal };
        this.logStream.write(`[exit code=${code} signal=${signal}]\n`);
        this.notify();
        resolve(this.exitInfo);
      });
      this.child.on('error', (err) => {
        live.delete(this.child);
        this.pushLine(`[spawn error] ${err.message}`);
        this.exitInfo = { code: -1, signal: null };
        this.notify();
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  private pushLine(line: string): void {
    this.lines.push(line);
    this.logStream.write(line + '\n');
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  /** The last `n` output lines, for error messages. */
  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /** Resolves with the first line (past or future) matching `pred`; rejects on exit or timeout. */
  waitForLine(pred: (line: string) => boolean, timeoutMs: number, what = 'expected output'): Promise<string> {
    return new Promise((resolve, reject) => {
      let scanned = 0;
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}\n--- last output ---\n${this.tail()}`));
      }, timeoutMs);
      const check = (): void => {
        for (; scanned < this.lines.length; scanned++) {
          const line = this.lines[scanned]!;
          if (pred(line)) {
            clearTimeout(timer);
            resolve(line);
            return;
          }
        }
        if (this.exitInfo !== undefined) {
          clearTimeout(timer);
          reject(
            new Error(
              `${this.name}: exited (code=${this.exitInfo.code}, signal=${this.exitInfo.signal}) before ${what}\n--- last output ---\n${this.tail()}`,
            ),
          );
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`. Resolves with how it exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<ExitInfo> {
    if (this.exitInfo === undefined && this.child.pid !== undefined) {
      this.child.kill(signal);
      const timer = setTimeout(() => {
        if (this.exitInfo === undefined) this.child.kill('SIGKILL');
      }, graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.logStream.end(() => resolve()));
    return this.exitInfo ?? { code: null, signal: null };
  }
}

/**
 * A minimal environment for child processes: PATH, HOME, locale and temp dir from ours, and
 * nothing else (in particular no OTEL_* or LANGFUSE_* variables leak from the test runner).
 */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'SYSTEMROOT']) {
    const v = process.env[key];
    if (v !== undefined) env[key] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v !== undefined) env[k] = v;
  }
  for (const key of Object.keys(env)) {
    if (key.startsWith('OTEL_') && !(key in extra)) delete env[key];
  }
  return env;
}

/** Run a command to completion, collecting its output. */
export async function runToCompletion(
  opts: StartOptions & { timeoutMs: number },
): Promise<ExitInfo & { output: string; lines: string[] }> {
  const p = new ManagedProcess(opts);
  const timer = setTimeout(() => {
    void p.stop('SIGKILL');
  }, opts.timeoutMs);
  const exit = await p.exited;
  clearTimeout(timer);
  await p.stop();
  return { ...exit, output: p.lines.join('\n'), lines: p.lines };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
