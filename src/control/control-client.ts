import net from 'node:net';
import type { ControlRequest } from './control-protocol.js';

/** A client's view of the control socket: one request, the answer's JSON lines as they come. */

/** An answer line longer than this is refused (a status of thousands of vassals is a few MiB). */
const MAX_ANSWER_LINE = 64 << 20;

export class ControlClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlClientError';
  }
}

/**
 * Sends `request` to the control socket at `socketPath` and calls `onMessage` with every JSON line of the answer;
 * resolves when the emperor closes the connection. `signal` ends it early (a follower's Ctrl-C). Rejects with
 * ControlClientError saying why the socket could not be used (not there, not allowed, nobody listening).
 */
export function sendRequest(socketPath: string, request: ControlRequest, onMessage: (message: Record<string, unknown>) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socketPath);
    let buffer = '';
    let failed = false;
    const fail = (err: Error): void => {
      failed = true;
      conn.destroy();
      reject(err);
    };
    signal?.addEventListener('abort', () => conn.destroy(), { once: true });
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify(request)}\n`));
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        try {
          onMessage(JSON.parse(line) as Record<string, unknown>);
        } catch (err) {
          fail(new ControlClientError(`${socketPath}: not an answer of the emperor's control socket (${(err as Error).message})`));
          return;
        }
      }
      if (buffer.length > MAX_ANSWER_LINE) fail(new ControlClientError(`${socketPath}: answer line longer than ${MAX_ANSWER_LINE} bytes`));
    });
    conn.on('error', (err: NodeJS.ErrnoException) => fail(new ControlClientError(explainConnectError(socketPath, err))));
    conn.on('close', () => {
      if (!failed) resolve();
    });
  });
}

/** Why a connection to a control socket failed, in words an operator can act on. */
export function explainConnectError(socketPath: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return `no control socket at ${socketPath}: is the emperor running? (it logs its control socket's path at start)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${socketPath}: only the emperor's user (and the members of its control-socket-group, if it has one) may use its control socket`;
    case 'ECONNREFUSED':
      return `nothing listens on ${socketPath}: the emperor that made it is gone`;
    case 'ENOTSOCK':
      return `${socketPath} is not a socket`;
    default:
      return `${socketPath}: ${err.message}`;
  }
}
