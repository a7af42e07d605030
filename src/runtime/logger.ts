import pino, { type Logger } from 'pino';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostic.js';
import { prettyFactory } from 'pino-pretty';
import { LogSink } from './log-sink.js';

export type LogFormat = 'json' | 'pretty';

/**
 * The one root logger. JSON lines with a fixed `event` field (machine-readable: `vassal.start`, `worker.exit`, ...),
 * or the same records rendered for a terminal. Writes synchronously through a LogSink: a supervisor's last words
 * before exit must not be lost in a buffer, and a log that cannot be written (a full disk, a closed pipe) never
 * stops the supervisor: the failure goes to stderr once (when the log is not stderr), records are dropped meanwhile,
 * and `log.recovered` says how many once writing works again.
 */
export function createLogger(format: LogFormat = process.stdout.isTTY ? 'pretty' : 'json', fd = 1): Logger {
  const options = {
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  let log: Logger | undefined;
  const sink = new LogSink(fd, {
    reportFd: fd === 2 ? undefined : 2,
    onRecovered: (dropped, error) =>
      log?.warn({ event: 'log.recovered', dropped, error }, `the log could be written again: ${dropped} record(s) were dropped meanwhile (${error})`),
  });
  if (format === 'pretty') {
    const prettify = prettyFactory({ ignore: 'event', translateTime: 'SYS:HH:MM:ss.l', singleLine: true });
    log = pino(options, { write: (line: string) => sink.write(prettify(line)) });
  } else {
    log = pino(options, { write: (line: string) => sink.write(line) });
  }
  return log;
}

/** Logs config findings as `config.diagnostic` records, each at the level of its severity, text as file:line. */
export function logDiagnostics(log: Logger, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    const level = d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warn' : 'info';
    log[level]({ event: 'config.diagnostic', severity: d.severity, file: d.file, line: d.line, key: d.key }, formatDiagnostic(d));
  }
}
