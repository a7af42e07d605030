import { writeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { LogFileSettings } from '../config/log-settings.js';
import { resolveCredentials } from '../runtime/accounts.js';
import { createLogger, defaultLogFormat, type LogDestination, type LogFormat } from '../runtime/logger.js';
import { FileOpener } from './file-opener.js';
import { LogFile, type LogFileEvent } from './log-file.js';
import { TouchLogWatch } from './touch-log.js';

/** What the emperor's loop does with its own log: reopen on SIGUSR2, and at a reload with log-reopen. */
export interface EmperorLogControl {
  reopen(): Promise<void>;
  /** A reload happened (SIGHUP): reopens when log-reopen says so. */
  reloaded(): Promise<void>;
}

export interface EmperorLogOptions {
  readonly format?: LogFormat;
  /** The emperor's logto and its rotation; undefined: `fd`. */
  readonly file?: LogFileSettings;
  /** logfile-chown on the emperor, resolved (emperorLogOwner): the file's owner, set at every open. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Where records go without a file (default 1, stdout). */
  readonly fd?: number;
  /** Queued bytes above which records are dropped (counted, reported); default 4 MiB. */
  readonly capBytes?: number;
}

/**
 * Who the emperor's log file belongs to under logfile-chown: the emperor's uid/gid (uid only: its primary group; gid
 * only: root keeps the file, with that group), as uWSGI gives its log to the account it drops to. Undefined when
 * logfile-chown is off or no uid/gid is set. Throws Error for an account that does not exist or a lookup that failed:
 * the operator asked for an owner, and a log with the wrong one is worse than no start.
 */
export async function emperorLogOwner(chown: boolean, uid: string | undefined, gid: string | undefined): Promise<{ uid: number; gid: number } | undefined> {
  if (!chown) return undefined;
  const account = await resolveCredentials(uid, gid).catch((err: Error) => {
    throw new Error(`logfile-chown of the emperor's log: ${err.message}`);
  });
  return account && { uid: account.uid, gid: account.gid };
}

/**
 * The emperor's own log: records are queued and written asynchronously (never waiting for a slow reader, a paused
 * terminal or a full disk), in a bounded queue, and written out at exit (`close`), so a clean stop loses nothing.
 * Worker output that goes into this log waits while the queue is above 256 KiB (backpressure.ts); the emperor's own
 * records never wait: past `capBytes` they are dropped and counted, and `log.recovered` says how many once there is
 * room. A failure (ENOSPC, EPIPE) goes to stderr once. With `logto`, the file is the emperor's (mode 0640 or
 * logfile-chmod), rotated at log-maxsize, reopened on SIGUSR2, touch-logreopen and (log-reopen) at a reload.
 */
export class EmperorLog implements EmperorLogControl {
  readonly logger: Logger;
  readonly #file: LogFile;
  readonly #settings: LogFileSettings | undefined;
  readonly #touchReopen = new TouchLogWatch(() => void this.reopen());
  readonly #touchRotate = new TouchLogWatch(() => void this.#file.rotate());
  readonly #reportFd: number | undefined;

  constructor(options: EmperorLogOptions = {}) {
    const settings = options.file;
    this.#settings = settings;
    const fd = options.fd ?? 1;
    this.#reportFd = settings || fd !== 2 ? 2 : undefined;
    const onEvent = (event: LogFileEvent): void => this.#report(event);
    if (settings) {
      const opener = new FileOpener(
        { path: settings.path, mode: settings.mode, owner: options.owner, allowDevices: true, backupName: settings.backupName, backups: settings.backups },
        undefined,
      );
      this.#file = new LogFile(
        { kind: 'path', name: settings.path, open: () => opener.open(), rotate: () => opener.rotate() },
        { maxSize: settings.maxSize, capBytes: options.capBytes, onEvent },
      );
      this.#touchReopen.set(settings.touchReopen);
      this.#touchRotate.set(settings.touchRotate);
    } else {
      this.#file = new LogFile({ kind: 'fd', name: `fd ${fd}`, fd }, { capBytes: options.capBytes, onEvent });
    }
    const file = this.#file;
    const destination: LogDestination = {
      write: (text) => void file.write(text),
      get needsDrain() {
        return file.needsDrain;
      },
      onceDrained: (fn) => file.onceDrained(fn),
    };
    this.logger = createLogger(options.format ?? defaultLogFormat(), destination);
  }

  /** Resolves once the log file is open (or its open failed, which is reported). */
  ready(): Promise<void> {
    return this.#file.ready();
  }

  reopen(): Promise<void> {
    return this.#file.reopen();
  }

  async reloaded(): Promise<void> {
    if (this.#settings?.reopenOnReload) await this.#file.reopen();
  }

  /** Writes out every queued record (waiting up to `timeoutMs`), then closes the file. Later records go out synchronously. */
  async close(timeoutMs = 5000): Promise<void> {
    this.#touchReopen.close();
    this.#touchRotate.close();
    await this.#file.close(timeoutMs);
  }

  #report(event: LogFileEvent): void {
    const name = this.#file?.name ?? this.#settings?.path ?? 'log';
    switch (event.type) {
      case 'failed':
        // EAGAIN is a failure only at exit, when the reader did not take the last records in time.
        if (event.code === 'EAGAIN') this.#say(`log (${name}): ${event.error}`);
        else this.#say(`cannot write the log (${name}): ${event.error}; supervision carries on, log records are dropped until writing works again`);
        return;
      case 'open-failed':
        this.#say(`${event.error}; supervision carries on, log records are dropped until a reopen works (SIGUSR2)`);
        return;
      case 'recovered':
        this.logger.warn(
          { event: 'log.recovered', dropped: event.droppedLines, droppedBytes: event.droppedBytes, error: event.error },
          `the log could be written again: ${event.droppedLines} record(s) were dropped meanwhile (${event.error})`,
        );
        return;
      case 'rotated':
        this.logger.info({ event: 'log.rotated', file: name, renamedTo: event.renamedTo, pruned: event.pruned }, `${name} rotated${event.renamedTo ? ` to ${event.renamedTo}` : ''}`);
        return;
      case 'reopened':
        this.logger.info({ event: 'log.reopened', file: name }, `${name} reopened`);
        return;
    }
  }

  /** Once per outage, on stderr (when the log is not stderr): where an operator still sees it. */
  #say(text: string): void {
    if (this.#reportFd === undefined) return;
    try {
      writeSync(this.#reportFd, `supervisor: ${text}\n`);
    } catch {
      // Nowhere left to say it.
    }
  }
}
