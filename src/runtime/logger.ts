import pino, { type Logger } from 'pino';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostic.js';
import { createRequire } from 'node:module';
import type { prettyFactory as PrettyFactory } from 'pino-pretty';
import { LogSink } from './log-sink.js';

export type LogFormat = 'json' | 'pretty';

let prettyFactory: typeof PrettyFactory | undefined;
function prettyFactoryOnce(): typeof PrettyFactory {
  prettyFactory ??= (createRequire(import.meta.url)('pino-pretty') as { prettyFactory: typeof PrettyFactory }).prettyFactory;
  return prettyFactory;
}

/**
 * Where records go: anything with a `write` of one whole line that never throws. One that can fill up says so with
 * `needsDrain`/`onceDrained` (src/logs/backpressure.ts): workers' output waits for it, the emperor's records do not.
 */
export interface LogDestination {
  write(text: string): void;
  readonly needsDrain?: boolean;
  onceDrained?(fn: () => void): void;
}

/** The format a terminal gets (pretty), or anything else (JSON lines). */
export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY ? 'pretty' : 'json';
}

/**
 * The one root logger. JSON lines with a fixed `event` field (machine-readable: `vassal.start`, `worker.exit`, ...),
 * or the same records rendered for a terminal. Written to `destination`: the emperor's asynchronous, bounded one
 * (src/logs/emperor-log.ts), or by default a LogSink on `fd`, which writes synchronously: a log that cannot be
 * written (a full disk, a closed pipe) never stops the supervisor: the failure goes to stderr once (when the log is
 * not stderr), records are dropped meanwhile, and `log.recovered` says how many once writing works again.
 */
export function createLogger(format: LogFormat = defaultLogFormat(), destination: number | LogDestination = 1): Logger {
  const options = {
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  let log: Logger | undefined;
  const fd = typeof destination === 'number' ? destination : undefined;
  const sink: LogDestination =
    fd === undefined
      ? (destination as LogDestination)
      : new LogSink(fd, {
          reportFd: fd === 2 ? undefined : 2,
          onRecovered: (dropped, error) =>
            log?.warn({ event: 'log.recovered', dropped, error }, `the log could be written again: ${dropped} record(s) were dropped meanwhile (${error})`),
        });
  // pino-pretty (about 8 MiB of memory) is loaded only for a terminal; a daemon's JSON log never needs it.
  const prettify = format === 'pretty' ? prettyFactoryOnce()({ ignore: 'event', translateTime: 'SYS:HH:MM:ss.l', singleLine: true }) : undefined;
  // The stream pino holds: it also carries the destination's backpressure, which children share (backpressure.ts).
  const stream = {
    write: prettify ? (line: string) => sink.write(prettify(line)) : (line: string) => sink.write(line),
    get needsDrain(): boolean {
      return sink.needsDrain ?? false;
    },
    onceDrained: (fn: () => void): void => (sink.onceDrained ? sink.onceDrained(fn) : void setImmediate(fn)),
  };
  log = pino(options, stream);
  return log;
}

/** Logs config findings as `config.diagnostic` records, each at the level of its severity, text as file:line. */
export function logDiagnostics(log: Logger, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    const level = d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warn' : 'info';
    log[level]({ event: 'config.diagnostic', severity: d.severity, file: d.file, line: d.line, key: d.key }, formatDiagnostic(d));
  }
}
