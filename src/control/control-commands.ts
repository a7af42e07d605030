import path from 'node:path';
import type { Logger } from 'pino';
import type { RestartOutcome } from '../vassal/vassal.js';
import type { OutputEntry } from '../logs/output-ring.js';
import type { VassalOutputView } from '../logs/vassal-output.js';
import { findVassalFile, type ControlRequest } from './control-protocol.js';
import { renderMetrics } from './prometheus.js';
import { reloadResults } from './reload-outcome.js';
import { takeSnapshot, type SnapshotSource } from './take-snapshot.js';

/** What the commands act on: the emperor, and the hooks run-emperor gives. */
export interface ControlDeps {
  readonly emperor: SnapshotSource & {
    reload(file?: string, options?: { readonly wait?: boolean }): Promise<void>;
    vassalAt(file: string): ControlledVassal | undefined;
  };
  readonly log: Logger;
  /** Stops the emperor (through its command loop); resolves once it has stopped. */
  readonly stop: () => Promise<void>;
  /** Reopens the log files: the emperor's own and every vassal's logto (as SIGUSR2 does). */
  readonly reopenLogs: () => void | Promise<void>;
  /**
   * Reloads every vassal as SIGHUP does (systemd's RELOADING=1 and READY=1, the emperor's log-reopen, the rolls);
   * resolves once the rolls have ended (`wait`), or started. Rejects when the emperor stops first.
   */
  readonly reloadAll: (options: { readonly wait: boolean }) => Promise<void>;
}

/** What the commands need of a running vassal. */
export interface ControlledVassal {
  readonly output: Pick<VassalOutputView, 'recentLines' | 'subscribe'>;
  restartWorker(id: number, options: { force?: boolean }): Promise<RestartOutcome>;
}

/** One client connection, as a command sees it. */
export interface Session {
  /**
   * Sends one message (a JSON line). Returns false, having sent nothing, when the client does not keep up (too much
   * is queued for it already) or has gone.
   */
  send(message: object): boolean;
  /** Aborted when the client has gone or the emperor stops: a streaming command ends then. */
  readonly signal: AbortSignal;
}

/** Commands that change something are logged (who may send them is decided by the socket file's permissions). */
const READ_ONLY = new Set<ControlRequest['command']>(['status', 'metrics', 'logs']);

/** Runs one request and sends its answer. Never throws: a failure is the answer `{ok: false, error}`. */
export async function runCommand(request: ControlRequest, session: Session, deps: ControlDeps): Promise<void> {
  if (!READ_ONLY.has(request.command)) {
    deps.log.info({ event: 'control.command', ...request }, `control socket: ${request.command}${'vassal' in request && request.vassal ? ` ${request.vassal}` : ''}`);
  }
  try {
    await COMMANDS[request.command](request as never, session, deps);
  } catch (err) {
    session.send({ ok: false, error: (err as Error).message });
  }
}

type Handler<C extends ControlRequest['command']> = (request: Extract<ControlRequest, { command: C }>, session: Session, deps: ControlDeps) => Promise<void>;

const COMMANDS: { readonly [C in ControlRequest['command']]: Handler<C> } = {
  status: async (_, session, deps) => {
    session.send({ ok: true, snapshot: await takeSnapshot(deps.emperor) });
  },
  metrics: async (_, session, deps) => {
    session.send({ ok: true, metrics: renderMetrics(await takeSnapshot(deps.emperor)) });
  },
  reload: async (request, session, deps) => {
    // A stopping emperor reloads nothing: answering "done" for no vassal at all would read as success.
    if (deps.emperor.snapshot().stopping) throw new Error('the emperor is stopping: nothing was reloaded');
    const file = request.vassal === undefined ? undefined : vassalFile(request.vassal, deps);
    const requestedAt = Date.now();
    if (file === undefined) await deps.reloadAll({ wait: request.wait });
    else await deps.emperor.reload(file, { wait: request.wait });
    // The emperor stopped meanwhile: the rolls ended because their vassals did, which is no reload done.
    if (deps.emperor.snapshot().stopping) throw new Error('the emperor stopped before the reload had ended');
    const results = reloadResults(deps.emperor.snapshot(), requestedAt, { files: file === undefined ? undefined : [file], wait: request.wait });
    const failed = results.filter((r) => r.result === 'failed');
    session.send({ ok: failed.length === 0, ...(failed.length ? { error: failed.map((r) => `${r.vassal}: ${r.error}`).join('; ') } : {}), results });
  },
  'restart-worker': async (request, session, deps) => {
    const vassal = runningVassal(request.vassal, deps);
    const outcome = await vassal.restartWorker(request.worker, { force: request.force });
    session.send(outcome.ok ? { ok: true, vassal: request.vassal, worker: request.worker, replaced: outcome.replaced, pid: outcome.pid } : outcome);
  },
  'reopen-logs': async (_, session, deps) => {
    await deps.reopenLogs();
    session.send({ ok: true, reopened: true });
  },
  stop: async (_, session, deps) => {
    await deps.stop();
    session.send({ ok: true, stopped: true });
  },
  logs: async (request, session, deps) => {
    const file = vassalFile(request.vassal, deps);
    const vassal = runningVassal(file, deps);
    session.send({ ok: true, vassal: path.basename(file), file, follow: request.follow });
    let dropped = 0;
    const send = (line: OutputEntry): void => {
      if (dropped > 0 && session.send({ dropped })) dropped = 0;
      if (dropped > 0 || !session.send({ line })) dropped++;
    };
    for (const line of request.lines > 0 ? vassal.output.recentLines(request.lines) : []) send(line);
    if (!request.follow || session.signal.aborted) return;
    const unsubscribe = vassal.output.subscribe(send);
    try {
      await new Promise<void>((resolve) => session.signal.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      unsubscribe();
    }
  },
};

function vassalFile(name: string, deps: ControlDeps): string {
  const found = findVassalFile(name, deps.emperor.snapshot().files.filter((f) => !f.retiring));
  if ('error' in found) throw new Error(found.error);
  return found.file;
}

function runningVassal(name: string, deps: ControlDeps): ControlledVassal {
  const file = vassalFile(name, deps);
  const vassal = deps.emperor.vassalAt(file);
  if (!vassal) throw new Error(`vassal ${name} is not running (supervisor --status says why)`);
  return vassal;
}
