import { fork } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import type { Credentials } from '../runtime/accounts.js';
import { ROOT_ENV } from '../runtime/exec-chain.js';
import { LogFileError, openLogFile, rotateLogFile, type LogFileJob } from './file-ops.js';
import type { HelperJob, HelperReply } from './log-file-helper.js';

const HELPER = fileURLToPath(new URL('./log-file-helper.js', import.meta.url));

/** How long the helper may take (ms): it does a few system calls; a hung one must not hold a vassal's log. */
const HELPER_TIMEOUT_MS = 10_000;

// Each helper is a Node process (about 0.1 s of CPU, 40 MB while it lives): 1,000 tenants' vassals starting at once
// open their files a few at a time, and one at a time per user, like the tenant config readers. A tenant may stop
// its own helper (it runs as the tenant) until the timeout: that holds up only its own files.
const helpers = pLimit(Math.max(4, 2 * availableParallelism()));
const perUser = new Map<number, ReturnType<typeof pLimit>>();

function forUser(uid: number): ReturnType<typeof pLimit> {
  let limit = perUser.get(uid);
  if (!limit) {
    limit = pLimit(1);
    perUser.set(uid, limit);
  }
  return limit;
}

/** An open log file: its descriptor, and what a rotation did. */
export interface Opened {
  readonly fd: number;
  readonly renamedTo?: string;
  readonly pruned: readonly string[];
}

/**
 * Opens and rotates one log file, with the right rights: as this process (the emperor's own file, an administrator's
 * file in default mode), or, for `as` credentials (a tenant in tyrant mode, logto2's uid), in a helper process that
 * has dropped to them. Rejects with LogFileError.
 */
export class FileOpener {
  constructor(
    readonly job: LogFileJob,
    private readonly as: Credentials | undefined,
  ) {}

  open(): Promise<Opened> {
    return this.#run('open');
  }

  rotate(): Promise<Opened> {
    return this.#run('rotate');
  }

  async #run(op: 'open' | 'rotate'): Promise<Opened> {
    // A uid we already are needs no helper (an emperor that is not root runs everything with its own rights).
    const as = this.as;
    if (!as || (as.uid === process.geteuid?.() && as.gid === process.getegid?.())) {
      return op === 'rotate' ? rotateLogFile(this.job) : { fd: openLogFile(this.job), pruned: [] };
    }
    const job = (): Promise<Opened> =>
      runHelper({ op, as: { uid: as.uid, gid: as.gid, user: as.user?.name ?? as.uid, initGroups: as.initGroups }, file: this.job, nowMs: Date.now() });
    const limit = forUser(as.uid);
    try {
      return await limit(() => helpers(job));
    } finally {
      if (limit.activeCount === 0 && limit.pendingCount === 0) perUser.delete(as.uid);
    }
  }
}

function runHelper(job: HelperJob): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const child = fork(HELPER, [JSON.stringify(job)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
      execPath: process.execPath,
      execArgv: [],
      env: { ...ROOT_ENV },
      cwd: '/',
    });
    let settled = false;
    let stderr = '';
    const finish = (result: Opened | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new LogFileError('ETIMEDOUT', `log file helper for ${job.file.path} did not finish within ${HELPER_TIMEOUT_MS / 1000} s`));
    }, HELPER_TIMEOUT_MS);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    child.on('message', (message: HelperReply) => {
      if (message.type === 'failed') {
        finish(new LogFileError(message.code, message.message));
        return;
      }
      try {
        finish({ fd: takeDescriptor(child.pid, message), renamedTo: message.renamedTo, pruned: message.pruned });
      } catch (err) {
        finish(err as Error);
      }
      // Taken (or not): the helper may go.
      if (child.connected) child.send({ type: 'taken' }, () => {});
      child.disconnect?.();
    });
    child.on('error', (err) => finish(new LogFileError('EHELPER', `log file helper for ${job.file.path}: ${err.message}`)));
    child.on('close', () => finish(new LogFileError('EHELPER', `log file helper for ${job.file.path} ended without an answer${stderr ? `: ${stderr.trim()}` : ''}`)));
  });
}

/**
 * The helper's descriptor, opened again through /proc: the same file, whatever its path is meanwhile. Checked to be
 * the inode the helper reported, and a regular file or a device as the job allowed.
 */
function takeDescriptor(pid: number | undefined, opened: Extract<HelperReply, { type: 'opened' }>): number {
  if (pid === undefined || !Number.isInteger(opened.fd)) throw new LogFileError('EHELPER', 'log file helper: no descriptor');
  const fd = openSync(`/proc/${pid}/fd/${opened.fd}`, constants.O_RDWR | constants.O_APPEND);
  const st = fstatSync(fd);
  if (st.dev !== opened.dev || st.ino !== opened.ino || !(st.isFile() || st.isCharacterDevice())) {
    closeSync(fd);
    throw new LogFileError('EHELPER', 'log file helper: the descriptor is not the file it opened');
  }
  return fd;
}
