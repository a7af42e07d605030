import pino, { type Logger } from 'pino';

/** A destination that can say "not now": writers that can wait (a worker's pipe) wait for onceDrained. */
export interface Backpressure {
  readonly needsDrain: boolean;
  onceDrained(fn: () => void): void;
}

const NEVER_FULL: Backpressure = { needsDrain: false, onceDrained: (fn) => setImmediate(fn) };

/**
 * The backpressure of the destination a logger writes to (the root logger's stream, shared by every child), or one
 * that never asks to wait when the stream has none (a synchronous sink, a test's).
 */
export function backpressureOf(log: Logger): Backpressure {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as Partial<Backpressure> | undefined;
  return stream && typeof stream.onceDrained === 'function' && 'needsDrain' in stream ? (stream as Backpressure) : NEVER_FULL;
}
