import fs from 'node:fs/promises';
import net from 'node:net';

export class SocketInUseError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'SocketInUseError';
  }
}

/** Resolves with how a connect() to a unix socket path ends: 'listening', 'refused' or 'gone'. */
function probe(path: string, timeoutMs: number): Promise<'listening' | 'refused' | 'gone'> {
  return new Promise((resolve) => {
    const conn = net.connect(path);
    const done = (result: 'listening' | 'refused' | 'gone'): void => {
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
      else done('listening');
    });
  });
}

/**
 * Makes a unix socket path free to bind: a stale socket file (nothing listening, e.g. left by a crash) is removed;
 * a socket something listens on, or a file that is not a socket, is an error, never silently replaced.
 */
export async function clearStaleSocket(path: string, timeoutMs = 1000): Promise<void> {
  let st;
  try {
    st = await fs.lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw new SocketInUseError(path, 'exists and is not a socket; refusing to replace it');
  const state = await probe(path, timeoutMs);
  if (state === 'listening') throw new SocketInUseError(path, 'another process is listening on this socket');
  if (state === 'refused') await fs.rm(path, { force: true });
}
