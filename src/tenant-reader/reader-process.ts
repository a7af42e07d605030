import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROOT_ENV } from '../runtime/exec-chain.js';
import { failureOf } from './reader-protocol.js';

/** The reader's entry point, compiled next to this module. */
const READER = fileURLToPath(new URL('./reader-child.js', import.meta.url));

/** How much of a failed reader's stderr is kept for the error message. */
const STDERR_TAIL = 2048;

/** How one reader process ended: its parsed stdout, or why there is nothing to use. */
export type ReaderOutcome = { readonly pid: number | undefined } & ({ readonly json: unknown } | { readonly failure: string });

export interface ReaderLimits {
  /** From the start; then the reader is SIGKILLed (ms). */
  readonly timeoutMs: number;
  /** Its stdout beyond this many bytes is not kept: the reader is SIGKILLed. */
  readonly maxReplyBytes: number;
  /** Aborting SIGKILLs the reader. */
  readonly signal?: AbortSignal;
}

/**
 * Runs one reader (reader-child.ts) for `owner`: started as root, from process.execPath, with the fixed root
 * environment and no Node options, in `/`; it drops to the owner itself before it reads anything. Sends `request`
 * on its stdin, collects its stdout within the limits, resolves once it has exited. Never rejects.
 */
export function runReader(owner: { readonly uid: number; readonly gid: number }, request: string, limits: ReaderLimits): Promise<ReaderOutcome> {
  return new Promise((resolve) => {
    // Nothing of the emperor's environment (NODE_OPTIONS, ...) nor the tenant's reaches a process that is root
    // while it loads; spawn() passes no execArgv.
    const child = spawn(process.execPath, [READER, String(owner.uid), String(owner.gid)], { cwd: '/', env: { ...ROOT_ENV }, stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = child.pid;
    const out: Buffer[] = [];
    let outBytes = 0;
    let errTail = '';
    let problem: string | undefined;
    let settled = false;
    const kill = (why: string): void => {
      problem ??= why;
      child.kill('SIGKILL');
    };
    const finish = (outcome: ReaderOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const timer = setTimeout(() => kill(`it did not finish within ${limits.timeoutMs / 1000} s and was killed`), limits.timeoutMs);
    const onAbort = (): void => kill('the emperor is stopping');
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    if (limits.signal?.aborted) onAbort();

    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > limits.maxReplyBytes) kill(`its reply is larger than ${limits.maxReplyBytes} bytes`);
      else out.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      errTail = (errTail + chunk).slice(-STDERR_TAIL);
    });
    // A reader that dies before reading its request makes this write fail (EPIPE): its exit says why.
    child.stdin.on('error', () => {});
    child.stdin.end(request);

    child.on('error', (err) => {
      problem ??= `it could not be started: ${err.message}`;
      if (child.pid === undefined || child.exitCode !== null) finish({ pid, failure: problem });
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
      const said = failureOf(json);
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
