import pino, { type Logger } from 'pino';
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
