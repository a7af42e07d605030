/**
 * A short-lived child process that creates the sockets it is asked for (or changes the permissions of existing
 * ones), passes each fd to the emperor, makes them listen, and kills itself without accepting a connection.
 *
 * Why a separate process:
 * - In Node, a listening server handle also accept()s, and the supervisor must never accept a connection meant for
 *   a worker. Here the sockets are bound, their fds sent, and only once the emperor holds every one of them does
 *   listen() run, synchronously, followed by SIGKILL: no event-loop turn sees a listening socket.
 * - The emperor receives handles opened from bare fds: libuv unlinks a unix socket's path when the handle that bound
 *   it is closed, which would defeat `vacuum = false` and the inode check; a received handle has no path.
 * - umask is per process: chmod-socket is applied as the umask of this process right before each bind(), so the
 *   file is created with its final mode, and nothing is chmodded by path afterwards.
 * - In tyrant mode it becomes the tenant (it starts as root, from our own files, and drops before touching any
 *   path the tenant named), so the kernel decides what the tenant may bind, chown and remove. Only TCP ports below
 *   1024, when the emperor allows them to tenants, are bound before the drop.
 *
 * It is started ahead of time (a Node start takes ~100 ms of CPU) and waits for its one job on its IPC channel; a
 * job carries every socket the emperor needs at that moment (the sockets of many vassals), and one socket that
 * cannot be bound does not keep the others from being bound.
 */
import net from 'node:net';
import path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { dropPrivileges } from '../runtime/drop-privileges.js';
import type { BindRequest, HelperJob, HelperMessage, HelperReply, PermissionRequest, SocketOwnerRequest } from './bind-request.js';
import { explainStepFailure, type HelperStep, type StepTarget } from './bind-errors.js';
import { isSameSocket, removeSocketIfSame, setInodePermissions, SocketFileError, withSocketFile, type FileIdentity } from './socket-file.js';
import { clearStaleSocket, SocketInUseError, StaleSocketError } from './stale-socket.js';
import { chownRefusal } from './tenant-rules.js';

interface ServerHandle {
  fd: number;
  listen(backlog: number): number;
  close(): void;
}
type CreateServerHandle = (address: string, port: number, addressType: number, fd?: number, flags?: number) => ServerHandle | number;
const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

/** Ends the job: its message is the reply's. */
class JobFailure extends Error {
  constructor(
    readonly index: number | undefined,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The one job, from the emperor's first message (set before anything below runs). */
let job: HelperJob = { op: 'adopt', count: 0 };
let tyrant = false;

function target(req: BindRequest | PermissionRequest): StepTarget {
  // A relative name (bound from the job's directory) is reported by its full path.
  return 'kind' in req && req.kind === 'tcp' ? { kind: 'tcp', host: req.host, port: req.port } : { kind: 'unix', path: path.resolve(req.path) };
}

function stepFailure(index: number, req: BindRequest | PermissionRequest, step: HelperStep, err: number | NodeJS.ErrnoException, owner?: SocketOwnerRequest): JobFailure {
  const code = typeof err === 'number' ? getSystemErrorName(err) : (err.code ?? 'EUNKNOWN');
  const detail = typeof err === 'number' ? code : err.message;
  const message = explainStepFailure({ step, code, detail, target: target(req), socket: req.name, uid: process.getuid?.() ?? -1, tyrant, owner: owner?.text });
  return new JobFailure(index, code, message);
}

function become(): void {
  if (!job.as) return;
  try {
    dropPrivileges(job.as);
  } catch (err) {
    throw new JobFailure(undefined, 'EPERM', `socket bind helper: ${(err as Error).message}`);
  }
}

/** Enters the directory relative socket names are bound from, with the rights the helper now has. */
function enter(cwd: string | undefined): void {
  if (cwd === undefined) return;
  try {
    process.chdir(cwd);
  } catch (err) {
    throw new JobFailure(undefined, (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN', `socket bind helper: cannot enter ${cwd} to bind its relative socket names: ${(err as Error).message}`);
  }
}

/** chown-socket within what the tenant's own account may do (the kernel would refuse the rest, less clearly). */
function checkOwners(sockets: readonly (BindRequest | PermissionRequest)[]): void {
  if (!tyrant) return;
  const me = { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, groups: process.getgroups?.() ?? [] };
  for (const [index, req] of sockets.entries()) {
    const owner = 'owner' in req ? req.owner : undefined;
    const refusal = owner && chownRefusal(req.name, owner, me);
    if (refusal) throw new JobFailure(index, 'EPERM', refusal);
  }
}

function bindHandle(index: number, req: BindRequest): ServerHandle {
  const handle = req.kind === 'unix' ? createServerHandle(req.path, -1, -1, undefined, 0) : createServerHandle(req.host, req.port, req.family, undefined, 0);
  if (typeof handle === 'number') throw stepFailure(index, req, 'bind', handle);
  return handle;
}

/**
 * Binds a unix socket with its final mode (umask), gives it its owner through an O_PATH descriptor of the file
 * bind created (never by path), and checks the path still names that file. Returns its identity.
 */
function bindUnix(index: number, req: Extract<BindRequest, { kind: 'unix' }>, umask: number, created: { path: string; id: FileIdentity }[]): ServerHandle {
  process.umask(req.mode !== undefined ? 0o777 & ~req.mode : umask);
  let handle: ServerHandle;
  try {
    handle = bindHandle(index, req);
  } finally {
    process.umask(umask);
  }
  let id: FileIdentity;
  try {
    id = withSocketFile(req.path, undefined, (fd, found) => {
      created.push({ path: req.path, id: found });
      if (req.owner) {
        try {
          setInodePermissions(fd, { uid: req.owner.uid, gid: req.owner.gid });
        } catch (err) {
          throw stepFailure(index, req, 'chown', err as NodeJS.ErrnoException, req.owner);
        }
      }
      return found;
    });
  } catch (err) {
    if (err instanceof JobFailure) throw err;
    throw new JobFailure(index, 'ECHANGED', `socket ${req.name}: the file changed while the socket was being bound (${(err as Error).message}); refusing it`);
  }
  if (!isSameSocket(req.path, id)) throw new JobFailure(index, 'ECHANGED', `socket ${req.name}: the file was replaced while the socket was being bound; refusing it`);
  return Object.assign(handle, { identity: id });
}

async function clearStale(index: number, req: Extract<BindRequest, { kind: 'unix' }>): Promise<void> {
  try {
    await clearStaleSocket(req.path);
  } catch (err) {
    if (err instanceof SocketInUseError) throw new JobFailure(index, 'EADDRINUSE', err.message);
    if (err instanceof StaleSocketError) throw stepFailure(index, req, err.step, Object.assign(new Error(err.message), { code: err.code }));
    throw err;
  }
}

function removeCreated(created: readonly { path: string; id: FileIdentity }[]): void {
  for (const { path, id } of created) {
    try {
      removeSocketIfSame(path, id);
    } catch {
      // Left for the next bind's stale-socket check.
    }
  }
}

const reply = (message: HelperReply, handle?: ServerHandle): Promise<void> =>
  new Promise((resolve, reject) => {
    const send = process.send?.bind(process) as (m: unknown, h: unknown, o: unknown, cb: (err: Error | null) => void) => boolean;
    send(message, handle, undefined, (err) => (err ? reject(err) : resolve()));
  });

// SIGKILL, not exit: no cleanup hook may close (and so unlink) the bound paths, and no event-loop turn may accept.
const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

/** Says why one socket could not be made; the job goes on with the others. */
function failOne(failure: JobFailure): Promise<void> {
  return reply({ type: 'failed', index: failure.index, code: failure.code, message: failure.message });
}

async function bind(sockets: readonly BindRequest[]): Promise<void> {
  const handles: (ServerHandle & { identity?: FileIdentity })[] = [];
  const created: { path: string; id: FileIdentity }[] = [];
  const failed = new Set<number>();
  const umask = process.umask(0o077);
  process.umask(umask);
  const attempt = async (index: number, make: () => unknown): Promise<void> => {
    try {
      await make();
    } catch (err) {
      if (!(err instanceof JobFailure) || err.index === undefined) throw err;
      failed.add(index);
      await failOne(err);
    }
  };
  try {
    for (const [index, req] of sockets.entries()) {
      if (req.kind === 'tcp' && req.beforeDrop) await attempt(index, () => (handles[index] = bindHandle(index, req)));
    }
    become();
    enter(job.op === 'bind' ? job.cwd : undefined);
    const owners = sockets.map((req, index) => {
      try {
        checkOwners([req]);
        return undefined;
      } catch (err) {
        return err instanceof JobFailure ? new JobFailure(index, err.code, err.message) : err;
      }
    });
    for (const [index, problem] of owners.entries()) if (problem) await attempt(index, () => Promise.reject(problem));
    await Promise.all(sockets.map((req, index) => (req.kind === 'unix' && !failed.has(index) ? attempt(index, () => clearStale(index, req)) : undefined)));
    for (const [index, req] of sockets.entries()) {
      if (handles[index] || failed.has(index)) continue;
      await attempt(index, () => (handles[index] = req.kind === 'unix' ? bindUnix(index, req, umask, created) : bindHandle(index, req)));
    }
  } catch (err) {
    removeCreated(created);
    throw err;
  }
  // Every fd to the emperor first; Node sends one handle per message and waits for the emperor's acknowledgement
  // before the next, so `sent` goes out (and its callback runs) only once the emperor holds them all.
  const bound = [...sockets.keys()].filter((index) => handles[index] && !failed.has(index));
  const sent = bound.map((index) => {
    const handle = handles[index] as ServerHandle & { identity?: FileIdentity };
    return reply({ type: 'bound', index, dev: handle.identity?.dev ?? 0, ino: handle.identity?.ino ?? 0 }, handle);
  });
  await Promise.all([...sent, reply({ type: 'sent' })]);
  const unlistened: number[] = [];
  for (const index of bound) {
    const req = sockets[index] as BindRequest;
    const err = (handles[index] as ServerHandle).listen(req.backlog);
    if (err) {
      unlistened.push(index);
      const mine = created.filter((c) => 'path' in req && c.path === req.path);
      removeCreated(mine);
      void failOne(stepFailure(index, req, 'listen', err));
    }
  }
  // Written synchronously (nothing queued any more), so it is on its way before the SIGKILL.
  void reply({ type: 'done', skipped: unlistened });
}

/** The helper's descriptors after stdin, stdout, stderr and the IPC channel: the sockets to hand back. */
const FIRST_PASSED_FD = 4;

async function adopt(count: number): Promise<void> {
  const sent: Promise<void>[] = [];
  for (let index = 0; index < count; index++) {
    // A handle opened from an existing descriptor: it binds nothing, so closing it unlinks nothing either.
    const handle = createServerHandle(undefined as unknown as string, undefined as unknown as number, undefined as unknown as number, FIRST_PASSED_FD + index);
    if (typeof handle === 'number') throw new JobFailure(index, getSystemErrorName(handle), `inherited socket ${index + 1}: ${getSystemErrorName(handle)}`);
    sent.push(reply({ type: 'bound', index, dev: 0, ino: 0 }, handle));
  }
  await Promise.all([...sent, reply({ type: 'sent' })]);
  await reply({ type: 'done' });
}

async function permissions(sockets: readonly PermissionRequest[]): Promise<void> {
  become();
  checkOwners(sockets);
  const skipped: number[] = [];
  for (const [index, req] of sockets.entries()) {
    try {
      withSocketFile(req.path, { dev: req.dev, ino: req.ino }, (fd) => {
        try {
          setInodePermissions(fd, { mode: req.mode, uid: req.owner?.uid, gid: req.owner?.gid });
        } catch (err) {
          throw stepFailure(index, req, 'chown', err as NodeJS.ErrnoException, req.owner);
        }
      });
    } catch (err) {
      // Not our socket any more (removed, replaced): nothing of ours to change.
      if (err instanceof SocketFileError || (!(err instanceof JobFailure) && (err as NodeJS.ErrnoException).code === 'ENOENT')) skipped.push(index);
      else throw err;
    }
  }
  await reply({ type: 'done', skipped });
}

if (!process.send) {
  process.stderr.write('bind-helper: must be started by the emperor with an IPC channel\n');
  process.exit(2);
}
// Keeps the event loop alive while it waits for its job, and while Node waits for the emperor to acknowledge each
// handle (an unreferenced channel would let the process end with replies still queued).
process.channel?.ref();
// An emperor that goes away before giving a job (it stopped, or was killed) leaves nothing to do: nothing is bound.
process.once('disconnect', () => process.exit(0));
let started = false;
process.on('message', (message: HelperMessage) => {
  if (message.op === 'warm') return warm();
  // One job per helper: whatever comes after it is not looked at.
  if (started) return;
  started = true;
  job = message;
  tyrant = job.as !== undefined;
  void run().finally(die);
});

/**
 * Takes the steps of a job once while the helper waits for it: a fresh Node compiles each function at its first
 * call, and the first message each way, and the first descriptor sent, cost milliseconds that a vassal's start
 * would otherwise wait for. The socket (loopback, a free port, never listening) goes to the emperor, which closes
 * it; this process closes its own.
 */
function warm(): void {
  const handle = createServerHandle('127.0.0.1', 0, 4, undefined, 0);
  const held = typeof handle === 'number' ? undefined : handle;
  void reply({ type: 'warm' }, held)
    .catch(() => undefined)
    .finally(() => held?.close());
}

async function run(): Promise<void> {
  try {
    if (job.op === 'bind') await bind(job.sockets);
    else if (job.op === 'permissions') await permissions(job.sockets);
    else if (job.op === 'adopt') await adopt(job.count);
    else throw new JobFailure(undefined, 'EINVAL', 'socket bind helper: unknown job');
  } catch (err) {
    const failure = err instanceof JobFailure ? err : new JobFailure(undefined, 'EHELPER', `socket bind helper: ${(err as Error).message}`);
    await reply({ type: 'failed', index: failure.index, code: failure.code, message: failure.message, final: true }).catch(() => undefined);
  }
}
