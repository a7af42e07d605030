import type { Diagnostic } from './diagnostic.js';
import type { OptionValues } from './option-values.js';
import {
  LOG_BACKUPNAME,
  LOG_BACKUPS,
  LOG_DATE,
  LOG_DIRECT,
  LOG_MAXSIZE,
  LOG_OVERFLOW,
  LOG_REOPEN,
  LOGFILE_CHMOD,
  LOGFILE_CHOWN,
  DAEMONIZE,
  LOGTO,
  LOGTO2,
  TOUCH_LOGREOPEN,
  TOUCH_LOGROTATE,
  WORKER_LOG_FORMAT,
  defaultValue,
  type LogDate,
  type OptionSpec,
} from './options/index.js';

/** A log file and how it is kept: rotation, reopen, mode. The emperor's own file and vassals' files share it. */
export interface LogFileSettings {
  readonly path: string;
  /** Rotate before the file would pass this many bytes; 0: never. */
  readonly maxSize: number;
  /** log-backupname: the one name rotated files get instead of PATH.<unix time>. */
  readonly backupName: string | undefined;
  /** How many PATH.<unix time> files to keep. */
  readonly backups: number;
  /** logfile-chmod: set at every open; undefined: 0640 for a file we create, an existing one keeps its mode. */
  readonly mode: number | undefined;
  /** log-reopen: reopen at every reload. */
  readonly reopenOnReload: boolean;
  readonly touchReopen: readonly string[];
  readonly touchRotate: readonly string[];
}

/** Where a vassal's workers' output goes, and in what form. */
export interface VassalLogSettings {
  /** logto/logto2; undefined: the emperor's log. */
  readonly file: LogFileSettings | undefined;
  /** logto2: the file is opened with the workers' uid/gid (tyrant mode always opens it with the tenant's). */
  readonly openAsWorkers: boolean;
  /** log-direct: the workers get the file as stdout/stderr. */
  readonly direct: boolean;
  /** logfile-chown: the file belongs to the workers' uid/gid. */
  readonly chown: boolean;
  /** log-date as given; undefined when not given (each format has its own default). */
  readonly date: LogDate | undefined;
  readonly format: 'plain' | 'tagged' | 'json';
  readonly overflow: 'block' | 'drop';
}

/** The log-file options of `values` (logto, or logto2 for a vassal); undefined without a file. */
export function logFileSettings(values: OptionValues, file: string | undefined): LogFileSettings | undefined {
  if (file === undefined) return undefined;
  return Object.freeze({
    path: file,
    maxSize: values.get(LOG_MAXSIZE) ?? defaultValue(LOG_MAXSIZE),
    backupName: values.get(LOG_BACKUPNAME),
    backups: values.get(LOG_BACKUPS) ?? defaultValue(LOG_BACKUPS),
    mode: values.get(LOGFILE_CHMOD),
    reopenOnReload: values.get(LOG_REOPEN) ?? false,
    touchReopen: Object.freeze(values.all(TOUCH_LOGREOPEN)),
    touchRotate: Object.freeze(values.all(TOUCH_LOGROTATE)),
  });
}

/**
 * A vassal's log options -> VassalLogSettings. Pushes an error (file:line) onto `diagnostics` and returns undefined
 * for combinations that cannot work: logto and logto2 both, log-direct without a file, log-direct with what only the
 * emperor can do (rotation, dates, formats, dropping).
 */
export function vassalLogSettings(values: OptionValues, file: string, diagnostics: Diagnostic[], uwsgiApp = false): VassalLogSettings | undefined {
  if (uwsgiApp) {
    // uWSGI implements logto, logto2, log-maxsize, log-backupname, log-reopen, logfile-chown/-chmod, log-date and
    // touch-logreopen/-logrotate itself, with these meanings: in a uWSGI app vassal they are uWSGI's, and what the
    // emperor gets on the master's stdout/stderr (before logto takes effect, or without it) goes to its own log.
    return Object.freeze({
      file: undefined,
      openAsWorkers: false,
      direct: false,
      chown: false,
      date: undefined,
      format: values.get(WORKER_LOG_FORMAT) ?? defaultValue(WORKER_LOG_FORMAT),
      overflow: values.get(LOG_OVERFLOW) ?? defaultValue(LOG_OVERFLOW),
    });
  }
  const error = (spec: OptionSpec, message: string): undefined => {
    const source = values.sourceOf(spec);
    // At the file:line that set it (an include's own, for an option an include set).
    diagnostics.push({ severity: 'error', file: source?.file || file, line: source?.line || undefined, key: source?.key ?? spec.name, message });
    return undefined;
  };
  const daemonize = values.get(DAEMONIZE);
  const logto = values.get(LOGTO) ?? daemonize;
  const logto2 = values.get(LOGTO2);
  if (daemonize !== undefined) {
    const source = values.sourceOf(DAEMONIZE);
    const taken = values.get(LOGTO) === undefined && logto2 === undefined;
    diagnostics.push({
      severity: 'warning',
      file: source?.file || file,
      line: source?.line || undefined,
      key: 'daemonize',
      message: taken
        ? `daemonize in a vassal: its workers are not put in the background (the emperor supervises them); read as logto = ${daemonize}`
        : 'daemonize in a vassal: its workers are not put in the background (the emperor supervises them); ignored, since logto or logto2 is set',
    });
  }
  if (logto !== undefined && logto2 !== undefined) {
    return error(LOGTO2, 'logto and logto2 both set: choose one (logto2 opens the file with the workers\' uid and gid)');
  }
  const direct = values.get(LOG_DIRECT) ?? false;
  const settings: VassalLogSettings = Object.freeze({
    file: logFileSettings(values, logto ?? logto2),
    openAsWorkers: logto2 !== undefined,
    direct,
    chown: values.get(LOGFILE_CHOWN) ?? false,
    date: values.get(LOG_DATE),
    format: values.get(WORKER_LOG_FORMAT) ?? defaultValue(WORKER_LOG_FORMAT),
    overflow: values.get(LOG_OVERFLOW) ?? defaultValue(LOG_OVERFLOW),
  });
  if (direct) {
    if (!settings.file) return error(LOG_DIRECT, 'log-direct needs logto (or logto2): the file the workers get as stdout and stderr');
    const emperorOnly: [OptionSpec, boolean][] = [
      [LOG_MAXSIZE, settings.file.maxSize > 0],
      [TOUCH_LOGROTATE, settings.file.touchRotate.length > 0],
      [LOG_DATE, settings.date !== undefined && settings.date !== false],
      [WORKER_LOG_FORMAT, settings.format !== 'plain'],
      [LOG_OVERFLOW, settings.overflow !== 'block'],
    ];
    for (const [spec, set] of emperorOnly) {
      if (set) {
        return error(spec, `${spec.name} needs the emperor to write the file, but log-direct gives the workers the file itself: drop one of the two (rotate a log-direct file with logrotate's copytruncate)`);
      }
    }
  }
  return settings;
}
