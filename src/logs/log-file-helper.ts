/**
 * A short-lived child that opens (or rotates) a log file with a tenant's or a vassal uid's rights, so that root never
 * opens, creates, renames or deletes a path a tenant named: `logto = /etc/cron.d/x` is refused by the kernel, as it
 * would be to the tenant. Started as root from our own files (like the socket bind helper), it drops privileges first,
 * does its job, says which of its descriptors holds the file, and waits until the emperor has taken it (the emperor
 * opens /proc/<helper>/fd/<n>: the very file the helper opened, never the path). Then it exits.
 */
import { fstatSync } from 'node:fs';
import { dropPrivileges, type DropTo } from '../runtime/drop-privileges.js';
import { LogFileError, openLogFile, rotateLogFile, type LogFileJob } from './file-ops.js';

export interface HelperJob {
  readonly op: 'open' | 'rotate';
  readonly as: DropTo;
  readonly file: LogFileJob;
  readonly nowMs: number;
}

export type HelperReply =
  | { readonly type: 'opened'; readonly fd: number; readonly dev: number; readonly ino: number; readonly renamedTo?: string; readonly pruned: readonly string[] }
  | { readonly type: 'failed'; readonly code: string; readonly message: string };

function reply(message: HelperReply): void {
  process.send?.(message);
}

const job = JSON.parse(process.argv[2] ?? '{}') as HelperJob;
if (!process.send) {
  process.stderr.write('log-file-helper: must be started by the emperor with an IPC channel\n');
  process.exit(2);
}
try {
  dropPrivileges(job.as);
  const done = job.op === 'rotate' ? rotateLogFile(job.file, job.nowMs) : { fd: openLogFile(job.file), pruned: [] };
  const st = fstatSync(done.fd);
  reply({ type: 'opened', fd: done.fd, dev: st.dev, ino: st.ino, renamedTo: 'renamedTo' in done ? done.renamedTo : undefined, pruned: done.pruned });
  // The emperor says when it holds the file; until then the descriptor must stay open. A vanished emperor ends it too.
  process.on('message', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  reply({ type: 'failed', code: err instanceof LogFileError ? err.code : (e.code ?? 'EHELPER'), message: `${e.message}${err instanceof LogFileError ? '' : ` (as uid ${job.as.uid})`}` });
  process.disconnect?.();
}
