import { lstatSync } from 'node:fs';
import net from 'node:net';
import { ownUid } from '../runtime/runtime-place.js';
import { isSameSocket, removeSocketIfSame } from '../socket/socket-file.js';

/**
 * Listening on a unix socket path of the emperor's own (the control socket, the emperor-stats socket): created with
 * its final mode, and replacing only a stale socket of ours.
 */

/**
 * Makes `server` listen on `file`, created with `mode` (bound under the matching umask: bind() happens within
 * listen(), synchronously, so no other file creation of this process can happen meanwhile, and the file never has
 * a wider mode). Resolves once it listens; rejects with the bind error.
 */
export async function listenUnix(server: net.Server, file: string, mode: number): Promise<void> {
  const previous = process.umask(0o777 & ~mode);
  try {
    server.listen(file);
  } finally {
    process.umask(previous);
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Removes a stale socket at `file`: one of ours that no process listens on any more (its emperor was killed).
 * Anything else is refused with an Error saying what is there: a file that is not a socket, a socket of another
 * user, a socket something listens on. The removal is by inode (removeSocketIfSame): a socket another emperor bound
 * there meanwhile is not removed, and its bind then makes ours fail (EADDRINUSE) instead.
 */
export async function removeStaleSocket(file: string): Promise<void> {
  let st;
  try {
    st = lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw new Error('the path exists and is not a socket; refusing to replace it');
  if (st.uid !== ownUid()) throw new Error(`a socket of uid ${st.uid} is there; refusing to replace it`);
  const listening = await new Promise<boolean>((resolve) => {
    const probe = net.connect(file);
    const done = (result: boolean): void => {
      probe.destroy();
      resolve(result);
    };
    probe.once('connect', () => done(true));
    probe.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
    probe.setTimeout(2000, () => done(true));
  });
  if (listening) throw new Error('another process listens on it');
  if (isSameSocket(file, { dev: st.dev, ino: st.ino })) removeSocketIfSame(file, { dev: st.dev, ino: st.ino });
}
