import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { inReadingOrder, type Diagnostic } from '../config/diagnostic.js';
import { buildFromRead, NO_DEFAULTS, type VassalDefaults } from '../config/load-vassal.js';
import type { VassalConfigResult } from '../config/vassal-config.js';
import { systemFacts } from '../config/config-host.js';
import { ROOT_ENV } from '../runtime/exec-chain.js';
import { decodeReply, MAX_REPLY_BYTES, ReplayedReferences, type ReaderRequest } from './reader-protocol.js';

/** The reader's entry point, compiled next to this module. */
const READER = fileURLToPath(new URL('./reader-child.js', import.meta.url));

/** How long a reader may take, from its start (ms); then it is SIGKILLed and the read counts as failed. */
export const READ_TIMEOUT_MS = 10_000;

/** How much of a failed reader's stderr is kept for the error message. */
const STDERR_TAIL = 2048;

/**
 * Readers running at once. Each is a Node process (tens of MB, tens of ms of CPU to start): 100 vassal files
 * appearing together must not start 100 of them at the same moment.
 */
const readers = pLimit(Math.max(2, os.availableParallelism()));

export interface ReadAsOwnerOptions {
  /** vassals-include / vassal-set of the emperor. Its templates are read as the owner too. */
  readonly defaults?: VassalDefaults;
  /** The emperor's variables passed to tenants (tyrant-pass-env); the rest of the tenant's environment is fixed. */
  readonly passed?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** Aborting kills the reader (the emperor is stopping). */
  readonly signal?: AbortSignal;
}

/** How one reader run went, for the log and for measurements. */
export interface ReaderRun {
  readonly pid: number | undefined;
  /** From the reader's start to its exit. */
  readonly wallMs: number;
  /** Time spent waiting for a free reader slot. */
  readonly queuedMs: number;
}

/**
 * Reads a vassal file's config with the rights of `owner`, in a short-lived reader process (reader-child.ts) that
 * drops to that uid/gid before it reads anything: includes, `@(file)`, `for-readline`, `for-glob`, `if-exists`,
 * the emperor's `vassals-include` templates. `$(VAR)` resolves against the tenant's environment
 * (runtime/tenant-env.ts) plus `passed`, never the emperor's. `file.text` is the content the emperor read (the
 * file is opened once, by its scanner); the reader does not open the vassal file again.
 *
 * The reply comes from a process running as the tenant, so it is treated as the tenant's input: size-bounded,
 * type-checked, and the VassalConfig is built here from the reader's findings by the same code as in default mode.
 * The caller applies the tyrant rules (uid/gid = the owner's) afterwards. Never throws: a reader that crashes, is
 * killed, times out (READ_TIMEOUT_MS) or answers nonsense gives an error diagnostic marked `external` (retried).
 */
export async function readAsOwner(
  file: { readonly path: string; readonly text: string },
  owner: { readonly uid: number; readonly gid: number },
  options: ReadAsOwnerOptions = {},
): Promise<{ result: VassalConfigResult; run: ReaderRun }> {
  const queuedAt = performance.now();
  return readers(async () => {
    const queuedMs = performance.now() - queuedAt;
    const request: ReaderRequest = {
      file: file.path,
      text: file.text,
      defaults: options.defaults ?? NO_DEFAULTS,
      passed: options.passed ?? {},
      cwd: process.cwd(),
      startedAtMicros: systemFacts().startedAtMicros,
    };
    const startedAt = performance.now();
    const outcome = await runReader(owner, JSON.stringify(request), options.timeoutMs ?? READ_TIMEOUT_MS, options.signal);
    const run = { pid: outcome.pid, wallMs: performance.now() - startedAt, queuedMs };
    const failed = (reason: string): { result: VassalConfigResult; run: ReaderRun } => ({
      result: { ok: false, diagnostics: [readerError(file.path, owner, reason)] },
      run,
    });
    if ('failure' in outcome) return failed(outcome.failure);
    const reply = decodeReply(outcome.json);
    if (!reply.ok) return failed(`its reply is not usable (${reply.reason})`);
    const { read, expansions, checks } = reply.value;
    const built = buildFromRead(read, file.path, new ReplayedReferences(read.entries, expansions));
    if (!built.ok || checks.length === 0) return { result: built, run };
    const diagnostics = inReadingOrder([...built.diagnostics, ...checks]);
    const result: VassalConfigResult = checks.some((d) => d.severity === 'error')
      ? { ok: false, diagnostics }
      : { ok: true, config: built.config, diagnostics };
    return { result, run };
  });
}

function readerError(file: string, owner: { uid: number; gid: number }, reason: string): Diagnostic {
  return {
    severity: 'error',
    file,
    message: `emperor-tyrant: reading the config as its owner (uid ${owner.uid} gid ${owner.gid}) failed: ${reason}`,
    external: true,
  };
}

type Outcome = { pid: number | undefined } & ({ json: unknown } | { failure: string });

/** Starts one reader as root (it drops privileges itself), sends the request, collects a bounded reply. */
function runReader(owner: { uid: number; gid: number }, request: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    // Root starts it from absolute paths with the fixed root environment and no Node options: nothing of the
    // emperor's environment (NODE_OPTIONS, ...) nor the tenant's reaches a process that is root while it loads.
    const child = spawn(process.execPath, [READER, String(owner.uid), String(owner.gid)], {
      cwd: '/',
      env: { ...ROOT_ENV },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    const out: Buffer[] = [];
    let outBytes = 0;
    let errTail = '';
    let problem: string | undefined;
    const kill = (why: string): void => {
      problem ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(`it did not finish within ${timeoutMs / 1000} s and was killed`), timeoutMs);
    const onAbort = (): void => kill('the emperor is stopping');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();

    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > MAX_REPLY_BYTES) kill(`its reply is larger than ${MAX_REPLY_BYTES} bytes`);
      else out.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      errTail = (errTail + chunk).slice(-STDERR_TAIL);
    });
    // A reader that dies before reading its request makes this write fail (EPIPE): its exit says why.
    child.stdin.on('error', () => {});
    child.stdin.end(request);

    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    child.on('error', (err) => {
      problem ??= `it could not be started: ${err.message}`;
      if (child.exitCode !== null || child.pid === undefined) finish({ pid, failure: problem });
      else child.kill('SIGKILL');
    });
    child.on('close', (code, sig) => {
      if (problem) return finish({ pid, failure: problem });
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(out).toString('utf8'));
      } catch {
        json = undefined;
      }
      // What a failing reader says about itself is the tenant's text like any other: kept short.
      const said = typeof json === 'object' && json !== null && typeof (json as { failure?: unknown }).failure === 'string' ? (json as { failure: string }).failure.slice(0, 1000) : undefined;
      if (sig) return finish({ pid, failure: `it was killed by ${sig}` });
      if (code !== 0) return finish({ pid, failure: said ?? `it exited with code ${code}${errTail.trim() ? `: ${lastLines(errTail)}` : ''}` });
      if (json === undefined || said !== undefined) return finish({ pid, failure: said ?? 'its reply is not JSON' });
      finish({ pid, json });
    });
  });
}

/** The end of a reader's stderr, on one line, for an error message. */
function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
}
