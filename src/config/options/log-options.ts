import { boolean, filePath, integer, octalMode, oneOf, type ValueType } from '../values.js';
import { option } from './option-spec.js';

/**
 * A log file path. uWSGI reads a value with a `:` as a UDP address (`logto = 192.168.0.1:1717`); that is not
 * supported here, and is refused rather than taken as a file named `192.168.0.1:1717`.
 */
const logFile: ValueType<string> = {
  name: 'path',
  typed: true,
  parse(raw, ctx) {
    if (raw.includes(':')) {
      return { ok: false, reason: `${JSON.stringify(raw)} has a ':', which uWSGI reads as a UDP address (host:port); UDP logging is not supported here: give a file path` };
    }
    return filePath.parse(raw, ctx);
  },
};

/**
 * `log-date` as uWSGI reads it: bare, true/1/on/yes for its default date (ctime's), or a strftime format. Here false,
 * off, no and 0 turn it off (uWSGI would print them as a format).
 */
export type LogDate = { readonly format: string } | false;

/** ctime(3)'s format, which uWSGI's log-date uses by default: `Tue Jan  2 15:04:05 2024`. */
export const CTIME_FORMAT = '%a %b %e %H:%M:%S %Y';

const logDate: ValueType<LogDate> = {
  name: 'boolean or strftime format',
  typed: false,
  parse(raw) {
    const v = raw.toLowerCase();
    if (['true', 'on', 'yes', '1', ''].includes(v)) return { ok: true, value: { format: CTIME_FORMAT } };
    if (['false', 'off', 'no', '0'].includes(v)) return { ok: true, value: false };
    return { ok: true, value: { format: raw } };
  },
};

export const LOGTO = option({
  name: 'logto',
  type: logFile,
  scope: 'both',
  doc: 'Write to this file instead of the emperor\'s log. In a vassal file: every worker\'s stdout and stderr (magic variables work: logto = /var/log/apps/%n.log), opened by the emperor (in tyrant mode, always with the tenant\'s rights). On the emperor: its own log. Created with logfile-chmod (0640) if missing, appended to otherwise.',
  uwsgi: 'logto (a file; uWSGI\'s host:port UDP form is not supported)',
});

export const LOGTO2 = option({
  name: 'logto2',
  type: logFile,
  scope: 'vassal',
  doc: 'As logto, but the file is opened with the workers\' rights (uid/gid), as uWSGI opens it after dropping privileges: it must be a file that user may create or write.',
  uwsgi: 'logto2',
});

export const LOG_DIRECT = option({
  name: 'log-direct',
  type: boolean,
  scope: 'vassal',
  default: 'false',
  bare: 'true',
  doc: 'The workers get the logto file itself as stdout and stderr: nothing passes through the emperor. No rotation, timestamps or JSON then, and a reopen (SIGUSR2) reaches only workers started after it: rotate with logrotate\'s copytruncate, or reload the vassal after the rename.',
});

export const LOG_MAXSIZE = option({
  name: 'log-maxsize',
  type: integer(0, Number.MAX_SAFE_INTEGER, 'bytes'),
  scope: 'both',
  default: '0',
  doc: 'Rotate the log file before it would grow past this many bytes (0: never): it is renamed to FILE.<unix time> (or log-backupname) and a new FILE is started. A single line longer than this still goes into one file.',
  uwsgi: 'log-maxsize (uWSGI checks the size after the fact, so its files may grow past it)',
});

export const LOG_BACKUPNAME = option({
  name: 'log-backupname',
  type: logFile,
  scope: 'both',
  doc: 'Name a rotated log file gets instead of FILE.<unix time>; each rotation replaces the previous backup.',
  uwsgi: 'log-backupname',
});

export const LOG_BACKUPS = option({
  name: 'log-backups',
  type: integer(0, 100_000, 'files'),
  scope: 'both',
  default: '10',
  doc: 'How many rotated files FILE.<unix time> to keep; older ones are deleted at each rotation (0: none is kept). With log-maxsize, at most (log-backups + 1) x log-maxsize bytes of disk.',
  uwsgi: 'none (uWSGI keeps every rotated file; supervisord: logfile_backups, default 10)',
});

export const LOG_REOPEN = option({
  name: 'log-reopen',
  type: boolean,
  scope: 'both',
  default: 'false',
  bare: 'true',
  doc: 'Reopen the log file at every reload (a vassal\'s rolling reload; the emperor\'s SIGHUP), as well as on SIGUSR2.',
  uwsgi: 'log-reopen',
});

export const TOUCH_LOGREOPEN = option({
  name: 'touch-logreopen',
  type: filePath,
  list: true,
  scope: 'both',
  doc: 'Reopen the log file when this file is touched or changed (repeatable).',
  uwsgi: 'touch-logreopen',
});

export const TOUCH_LOGROTATE = option({
  name: 'touch-logrotate',
  type: filePath,
  list: true,
  scope: 'both',
  doc: 'Rotate the log file when this file is touched or changed (repeatable).',
  uwsgi: 'touch-logrotate',
});

export const LOGFILE_CHMOD = option({
  name: 'logfile-chmod',
  type: octalMode,
  scope: 'both',
  defaultText: '640 for a file it creates; an existing file keeps its mode',
  doc: 'Permission bits (octal) of the log file, set through its descriptor every time it is opened. An existing file must then be the file itself: a symbolic link or a file with other hard links in its place is refused (log.open-failed), so that whoever may write the directory cannot have root change another file.',
  uwsgi: 'logfile-chmod',
});

export const LOGFILE_CHOWN = option({
  name: 'logfile-chown',
  type: boolean,
  scope: 'both',
  default: 'false',
  bare: 'true',
  doc: 'Give the log file to the uid and gid (set through its descriptor every time it is opened). In a vassal file: the vassal\'s logto file to the vassal\'s uid/gid; in tyrant mode a tenant\'s log file is always the tenant\'s, created with the tenant\'s rights. On the emperor: its logto (or daemonize) file to the emperor\'s uid/gid, as uWSGI gives its log to the account it drops to (the emperor itself keeps root here); the account is looked up at start, and a name with no entry or a lookup that fails stops the start. An existing file must be the file itself, as for logfile-chmod.',
  uwsgi: 'logfile-chown',
});

export const LOG_DATE = option({
  name: 'log-date',
  aliases: ['logdate'],
  type: logDate,
  scope: 'vassal',
  bare: 'true',
  defaultText: 'off for plain lines; for tagged lines, ISO 8601 (except for a vassal run as a uWSGI app, which dates its own lines)',
  doc: 'Start each line written to a logto file with the time, then " - ": true for ctime\'s format (Tue Jan  2 15:04:05 2024), or a strftime format such as %Y-%m-%d %H:%M:%S; false for none.',
  elsewhere: 'the emperor\'s own records always carry their time',
  uwsgi: 'log-date / logdate',
});

export const WORKER_LOG_FORMAT = option({
  name: 'worker-log-format',
  type: oneOf('plain', 'tagged', 'json'),
  scope: 'vassal',
  default: 'plain',
  doc: 'How workers\' lines are written to a logto file: plain (as printed), tagged (TIME - VASSAL[WORKER] STREAM: line), or json (one object per line: time, vassal, worker, pid, generation, stream, line).',
});

export const LOG_OVERFLOW = option({
  name: 'log-overflow',
  type: oneOf('block', 'drop'),
  scope: 'vassal',
  default: 'block',
  doc: 'When the log cannot keep up with a worker: block stops reading that worker\'s output until it can (the worker waits on its write, as on a terminal or journald); drop keeps reading and drops lines, counted in a log.dropped notice.',
});

export const DAEMONIZE = option({
  name: 'daemonize',
  type: logFile,
  scope: 'both',
  doc: 'On the emperor: run in the background, logging to this file (as logto), for a systemd Type=forking unit; the starting command returns once the pidfile is written, the sockets of the vassals present listen and the directories are watched, and fails (with the reason, leaving nothing running) if the emperor cannot start. In a vassal file, where there is nothing to put in the background: read as logto, with a warning (a uWSGI app vassal keeps uWSGI\'s meaning).',
  uwsgi: 'daemonize (there the parent returns before the daemon is up)',
});

export const LOG_OPTIONS = [
  DAEMONIZE,
  LOGTO,
  LOGTO2,
  LOG_DIRECT,
  LOG_MAXSIZE,
  LOG_BACKUPNAME,
  LOG_BACKUPS,
  LOG_REOPEN,
  TOUCH_LOGREOPEN,
  TOUCH_LOGROTATE,
  LOGFILE_CHMOD,
  LOGFILE_CHOWN,
  LOG_DATE,
  WORKER_LOG_FORMAT,
  LOG_OVERFLOW,
] as const;
