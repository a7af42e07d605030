/**
 * A short-lived child process that binds, chmods/chowns and listen()s the sockets it is asked for, passes each
 * listening fd to the emperor, and kills itself without ever returning to its event loop.
 *
 * Why a separate process: in Node, a listening server handle also accept()s, and the supervisor must never accept a
 * connection meant for a worker. Here listen() and the fd hand-off are synchronous and the process dies right
 * after, so no accept can happen. And the emperor receives a handle opened from a bare fd: libuv unlinks a unix
 * socket's path when the handle that bound it is closed, which would defeat `vacuum = false` and the inode check;
 * a received handle has no path, so closing it leaves the file alone.
 */
import fs from 'node:fs';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { BindReply, BindRequest } from './bind-request.js';

interface ServerHandle {
  fd: number;
  listen(backlog: number): number;
}
type CreateServerHandle = (address: string, port: number, addressType: number, fd?: number, flags?: number) => ServerHandle | number;
const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

function bindOne(req: BindRequest, index: number): { reply: BindReply; handle?: ServerHandle } {
  const failed = (syscall: string, errno: number | NodeJS.ErrnoException): { reply: BindReply } => {
    const code = typeof errno === 'number' ? getSystemErrorName(errno) : (errno.code ?? 'EUNKNOWN');
    const message = typeof errno === 'number' ? code : errno.message;
    return { reply: { index, ok: false, syscall, code, message } };
  };
  // A relative name is bound from its directory, so that the socket's own name (getsockname) is that relative name.
  if (req.kind === 'unix' && req.dir !== undefined) {
    try {
      process.chdir(req.dir);
    } catch (err) {
      return failed('chdir', err as NodeJS.ErrnoException);
    }
  }
  const handle =
    req.kind === 'unix' ? createServerHandle(req.path, -1, -1, undefined, 0) : createServerHandle(req.host, req.port, req.family, undefined, 0);
  if (typeof handle === 'number') return failed('bind', handle);
  let dev = 0;
  let ino = 0;
  try {
    if (req.kind === 'unix') {
      // Permissions go on before listen(): until then nobody can connect, so there is no window with the umask's mode.
      if (req.mode !== undefined) fs.chmodSync(req.path, req.mode);
      if (req.uid !== undefined || req.gid !== undefined) fs.chownSync(req.path, req.uid ?? -1, req.gid ?? -1);
      const st = fs.statSync(req.path);
      dev = st.dev;
      ino = st.ino;
    }
  } catch (err) {
    // The path is ours (bind just created it) and will never listen: leave nothing behind.
    if (req.kind === 'unix') fs.rmSync(req.path, { force: true });
    return failed(req.kind === 'unix' && req.mode !== undefined ? 'chmod' : 'chown', err as NodeJS.ErrnoException);
  }
  const err = handle.listen(req.backlog);
  if (err) return failed('listen', err);
  return { reply: { index, ok: true, dev, ino }, handle };
}

const requests = JSON.parse(process.argv[2] ?? '[]') as BindRequest[];
const send = process.send?.bind(process);
if (!send) {
  process.stderr.write('bind-helper: must be started by the emperor with an IPC channel\n');
  process.exit(2);
}
for (const [index, req] of requests.entries()) {
  const { reply, handle } = bindOne(req, index);
  // With an empty write queue, libuv writes the message (and the fd) synchronously.
  send(reply, handle as unknown as net.Server | undefined);
  if (!reply.ok) break;
}
// SIGKILL, not exit: no cleanup hook may close (and so unlink) the bound paths, and no event-loop turn may accept.
process.kill(process.pid, 'SIGKILL');
