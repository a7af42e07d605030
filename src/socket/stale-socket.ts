import fs from 'node:fs';
import net from 'node:net';
import { removeSocketIfSame } from './socket-file.js';

/** The path of a unix socket to bind is taken: by a live socket, or by something that is not a socket. */
export class SocketInUseError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`socket ${path}: ${reason}`);
    this.name = 'SocketInUseError';
  }
}

/** A system error while clearing a stale socket: looking at the path ('inspect') or removing the file ('remove-stale'). */
export class StaleSocketError extends Error {
  constructor(
    readonly step: 'inspect' | 'remove-stale',
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'StaleSocketError';
  }
}

type ProbeResult = 'listening' | 'refused' | 'gone' | 'forbidden';

/** Resolves with how a connect() to a unix socket path ends. */
function probe(path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const conn = net.connect(path);
    const done = (result: ProbeResult): void => {
      clearTimeout(timer);
      conn.destroy();
      resolve(result);
    };
    // A full backlog makes connect hang or fail with EAGAIN: either way, something is listening.
    const timer = setTimeout(() => done('listening'), timeoutMs);
    conn.once('connect', () => done('listening'));
    conn.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') done('refused');
      else if (err.code === 'ENOENT') done('gone');
      else if (err.code === 'EACCES' || err.code === 'EPERM') done('forbidden');
      else done('listening');
    });
  });
}

function systemError(step: 'inspect' | 'remove-stale', err: unknown): StaleSocketError {
  const e = err as NodeJS.ErrnoException;
  return new StaleSocketError(step, e.code ?? 'EUNKNOWN', e.message);
}

/**
 * Makes a unix socket path free to bind: a stale socket file (nothing listening, e.g. left by a crash) is removed;
 * a socket something listens on, or anything that is not a socket (a symlink, even to a socket, included), is an
 * error, never silently replaced. Only the socket file that was looked at is removed (same device and inode, name
 * looked up in its directory without following links). Runs with the rights of whoever calls it: in tyrant mode the
 * bind helper calls it as the tenant, so the kernel decides whether the tenant may remove it.
 * Throws SocketInUseError, or StaleSocketError for a system error (EACCES) with the step it happened at.
 */
export async function clearStaleSocket(path: string, timeoutMs = 1000): Promise<void> {
  let st;
  try {
    st = fs.lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw systemError('inspect', err);
  }
  if (!st.isSocket()) throw new SocketInUseError(path, 'exists and is not a socket; refusing to replace it');
  const state = await probe(path, timeoutMs);
  if (state === 'listening') throw new SocketInUseError(path, 'another process is listening on this socket');
  if (state === 'forbidden') {
    throw new SocketInUseError(path, `a socket file is there, and uid ${process.getuid?.()} may not connect to it to see whether it is stale; refusing to replace it`);
  }
  if (state === 'gone') return;
  try {
    removeSocketIfSame(path, { dev: st.dev, ino: st.ino });
  } catch (err) {
    throw systemError('remove-stale', err);
  }
}
