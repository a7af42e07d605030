import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { vi } from 'vitest';
import { isAlive, processesWithEnv } from './processes.js';

export const CLI = fileURLToPath(new URL('../../bin/supervisor.js', import.meta.url));
/** The installed command (package.json "bin"): a sh launcher that runs CLI with `node` from PATH. */
export const LAUNCHER = fileURLToPath(new URL('../../bin/supervisor', import.meta.url));
/** The test fixtures, from the world-readable copy the global setup makes (so a worker running as a test user can read them). */
export const FIXTURES = process.env.SV_FIXTURES_DIR ?? fileURLToPath(new URL('../fixtures/', import.meta.url));
export const NODE = process.execPath;

/** `node <fixture worker>` as a vassal `command` value. */
export function fixtureCommand(worker: string): string {
  return `${NODE} ${FIXTURES}workers/${worker}.mjs`;
}

/**
 * Adds the complete lines of `text` to `records`, each parsed as a JSON log record (a line that is not one becomes
 * `{level: 'raw', msg}`); returns the incomplete last line, to be prefixed to the next chunk.
 */
export function addLogLines(records: LogRecord[], text: string): string {
  const lines = text.split('\n');
  const partial = lines.pop() ?? '';
  for (const line of lines) {
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      records.push({ level: 'raw', msg: line });
    }
  }
  return partial;
}

export interface LogRecord {
  readonly level: string;
  readonly event?: string;
  readonly msg: string;
  readonly vassal?: string;
  readonly pid?: number;
  readonly worker?: number;
  readonly generation?: number;
  readonly [key: string]: unknown;
}

/**
 * The supervisor CLI running as a child process, with its JSON log parsed as it arrives. Every process it starts
 * carries SV_TEST_TAG in its environment, so a test can find any worker (or grandchild) that outlives it.
 */
/** Every EmperorProcess not yet killed: the sandbox's teardown kills them all (see sandbox.ts). */
const running = new Set<EmperorProcess>();

/** Kills every emperor a test started (and whatever each left behind). */
export async function killAllEmperors(): Promise<void> {
  await Promise.all([...running].map((e) => e.kill()));
}

export class EmperorProcess {
  readonly tag = randomUUID();
  readonly records: LogRecord[] = [];
  readonly stderr: string[] = [];
  readonly child: ResultPromise;
  #partial = '';

  /**
   * `wrap`: a command the CLI runs under, e.g. `['unshare', '-Ur', ...]` (it must exec its last arguments).
   * `stdout`, `stderr`: an open file descriptor for the CLI's stdout or stderr instead of a pipe (e.g. /dev/full; no
   * records, or no stderr text, are read then).
   * `launcher`: true to start the installed command (LAUNCHER) instead of `node CLI`. `nodeArgs`: Node options
   * before CLI (a unit's ExecStart= has some).
   */
  constructor(
    args: readonly string[],
    options: { cwd?: string; env?: Record<string, string>; wrap?: readonly string[]; stdout?: number; stderr?: number; launcher?: boolean; nodeArgs?: readonly string[] } = {},
  ) {
    const argv = [...(options.wrap ?? []), ...(options.launcher ? [LAUNCHER] : [NODE, ...(options.nodeArgs ?? []), CLI]), ...args];
    this.child = execa(argv[0] as string, argv.slice(1), {
      cwd: options.cwd,
      env: { ...options.env, SV_TEST_TAG: this.tag },
      stdin: 'ignore',
      // A number is a file descriptor the child gets as is (execa's types do not take the union).
      stdout: (options.stdout ?? 'pipe') as 'pipe',
      stderr: (options.stderr ?? 'pipe') as 'pipe',
      buffer: false,
      reject: false,
      // A graceful stop may take a worker's whole mercy time: execa must not SIGKILL the emperor after 5 s.
      forceKillAfterDelay: false,
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      this.#partial = addLogLines(this.records, this.#partial + chunk);
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => this.stderr.push(chunk));
    running.add(this);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the first log record matching, waiting up to timeoutMs. */
  async waitForLog(match: (r: LogRecord) => boolean, timeoutMs = 20_000): Promise<LogRecord> {
    return vi.waitFor(
      () => {
        const found = this.records.find(match);
        if (!found) throw new Error(`no matching log record yet; last: ${this.records.slice(-3).map((r) => r.msg).join(' | ')}`);
        return found;
      },
      { timeout: timeoutMs, interval: 20 },
    );
  }

  /** Log records of an event, optionally of one vassal. */
  events(event: string, vassal?: string): LogRecord[] {
    return this.records.filter((r) => r.event === event && (vassal === undefined || r.vassal === vassal));
  }

  /** Pids of every worker spawned so far (from worker.spawn events). */
  spawnedPids(vassal?: string): number[] {
    return this.events('worker.spawn', vassal).map((r) => r.pid as number);
  }

  /** Live processes started under this emperor (workers and their descendants). */
  liveDescendants(): number[] {
    // Tenants' workers (tyrant mode) do not get the emperor's environment, so not the tag either; every worker
    // carries the run id the emperor logged at start.
    const run = this.records.find((r) => r.event === 'emperor.start')?.run;
    const marked = typeof run === 'string' ? processesWithEnv('SUPERVISOR_EMPEROR', run) : [];
    return [...new Set([...processesWithEnv('SV_TEST_TAG', this.tag), ...marked])].filter((pid) => pid !== this.pid);
  }

  /** Waits for the CLI to exit; resolves with its exit code and signal. */
  async exit(timeoutMs = 30_000): Promise<{ code: number | undefined; signal: string | undefined }> {
    const result = await Promise.race([
      this.child,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`supervisor did not exit within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    return { code: result.exitCode, signal: result.signal };
  }

  /** Test teardown: SIGKILL the CLI if still running, then anything it left behind. Never throws. */
  async kill(): Promise<void> {
    running.delete(this);
    if (isAlive(this.pid)) {
      this.child.kill('SIGKILL');
      await this.child.catch(() => undefined);
    }
    for (const pid of this.liveDescendants()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** Writes a vassal ini from key/value pairs (arrays repeat the key). */
export function vassalIni(options: Record<string, string | number | boolean | readonly (string | number)[]>): string {
  const lines = ['[uwsgi]'];
  for (const [key, value] of Object.entries(options)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key} = ${v}`);
  }
  return lines.join('\n') + '\n';
}
