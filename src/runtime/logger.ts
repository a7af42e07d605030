import pino, { type Logger } from 'pino';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostic.js';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

/**
 * The one root logger. JSON lines with a fixed `event` field (machine-readable: `vassal.start`, `worker.exit`, ...),
 * or the same records rendered for a terminal. Writes synchronously: a supervisor's last words before exit must
 * not be lost in a buffer.
 */
export function createLogger(format: LogFormat = process.stdout.isTTY ? 'pretty' : 'json', fd = 1): Logger {
  const options = {
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (format === 'pretty') {
    return pino(options, pretty({ destination: fd, sync: true, ignore: 'event', translateTime: 'SYS:HH:MM:ss.l', singleLine: true }));
  }
  return pino(options, pino.destination({ dest: fd, sync: true }));
}

/** Logs config findings as `config.diagnostic` records, each at the level of its severity, text as file:line. */
export function logDiagnostics(log: Logger, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    const level = d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warn' : 'info';
    log[level]({ event: 'config.diagnostic', severity: d.severity, file: d.file, line: d.line, key: d.key }, formatDiagnostic(d));
  }
}
