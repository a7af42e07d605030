import { fork } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { SocketSpec } from '../config/vassal-config.js';
import type { BindRequest, HelperIdentity, HelperJob, HelperReply, PermissionRequest, SocketOwnerRequest } from './bind-request.js';
import { lookupGroup, lookupUser, type Credentials } from '../runtime/accounts.js';
import { ROOT_ENV } from '../runtime/exec-chain.js';
import type { OwnerSpec } from '../config/values.js';
import { setInodePermissions, SocketFileError, withSocketFile, type FileIdentity } from './socket-file.js';
import { addressRefusal, FIRST_UNPRIVILEGED_PORT } from './tenant-rules.js';

const HELPER = fileURLToPath(new URL('./bind-helper.js', import.meta.url));

/** A raw libuv handle opened from a received fd. Closing it closes the fd and nothing else. */
export interface RawHandle {
  readonly fd: number;
  close(callback?: () => void): void;
}

/** A socket bound and listening, held by the emperor; workers inherit `fd`. */
export interface ListeningSocket {
  readonly spec: SocketSpec;
  readonly handle: RawHandle;
  /** Identity of the unix socket file we created (0 for TCP): vacuum removes the path only while it is still ours. */
  readonly dev: number;
  readonly ino: number;
}

export interface Ownership {
  readonly uid?: number;
  readonly gid?: number;
}

/** chown-socket's user[:group] as numbers; a user alone leaves the group as it is, like chown(1). */
export async function resolveOwner(owner: OwnerSpec | undefined): Promise<Ownership> {
  if (!owner) return {};
  // A numeric uid needs no passwd entry (lookupGroup already takes a bare gid the same way).
  const uid = owner.user === undefined ? undefined : /^\d+$/.test(owner.user) ? Number(owner.user) : (await lookupUser(owner.user)).uid;
  const gid = owner.group === undefined ? undefined : (await lookupGroup(owner.group)).gid;
  return { uid, gid };
}

export class BindError extends Error {
  constructor(
    readonly socket: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BindError';
  }
}

/** Who the sockets are for, and what the emperor lets tenants have. */
export interface BindOptions {
  /** Tyrant mode: the tenant (the vassal file's owner). The helper becomes this user before it touches a path. */
  readonly tenant?: Credentials;
  /** tyrant-privileged-ports: a tenant may have TCP ports below 1024 (bound as root, before the helper drops). */
  readonly privilegedPorts?: boolean;
  /** How long the helper may take before it is killed (ms). */
  readonly timeoutMs?: number;
}

function identity(tenant: Credentials | undefined): HelperIdentity | undefined {
  if (!tenant) return undefined;
  return { uid: tenant.uid, gid: tenant.gid, user: tenant.user?.name, initGroups: tenant.initGroups };
}

/** chown-socket resolved to numbers (account lookups with the accounts module's timeout), before anything is bound. */
async function ownerRequest(owner: OwnerSpec | undefined): Promise<SocketOwnerRequest | undefined> {
  if (!owner) return undefined;
  const { uid, gid } = await resolveOwner(owner);
  return { uid, gid, text: `${owner.user ?? ''}${owner.group !== undefined ? `:${owner.group}` : ''}` };
}

async function toRequest(spec: SocketSpec, options: BindOptions): Promise<BindRequest> {
  const a = spec.address;
  const { name, backlog } = spec;
  // A relative name is bound as written, from the job's directory (bindSockets), for uWSGI to recognise it.
  if (a.kind === 'unix') return { kind: 'unix', name, path: spec.bindAs?.name ?? a.path, backlog, mode: spec.mode, owner: await ownerRequest(spec.owner) };
  // A tenant's low port, when the emperor allows them, is bound while the helper is still root.
  const beforeDrop = options.tenant !== undefined && options.privilegedPorts === true && a.port < FIRST_UNPRIVILEGED_PORT;
  const family = net.isIP(a.host);
  if (family === 4 || family === 6) return { kind: 'tcp', name, host: a.host, family, port: a.port, backlog, beforeDrop };
  const resolved = await lookup(a.host);
  return { kind: 'tcp', name, host: resolved.address, family: resolved.family as 4 | 6, port: a.port, backlog, beforeDrop };
}

/**
 * Runs one helper job: the helper starts as root from our own files (absolute Node, the fixed root environment, no
 * Node options) and drops to `job.as` itself. `onBound` receives each fd. Resolves with the final reply ('done'),
 * rejects with BindError for a 'failed' reply, a helper that died without one, or the timeout.
 */
function runHelper(
  job: HelperJob,
  names: string,
  timeoutMs: number,
  onBound?: (reply: Extract<HelperReply, { type: 'bound' }>, handle: RawHandle) => void,
  passFds: readonly number[] = [],
): Promise<Extract<HelperReply, { type: 'done' }>> {
  return new Promise((resolve, reject) => {
    const child = fork(HELPER, [JSON.stringify(job)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc', ...passFds],
      serialization: 'json',
      execPath: process.execPath,
      execArgv: [],
      env: { ...ROOT_ENV },
      cwd: '/',
    });
    let stderr = '';
    let final: HelperReply | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    child.on('message', (reply: HelperReply, handle: unknown) => {
      if (reply.type === 'bound' && handle) onBound?.(reply, handle as RawHandle);
      else if (reply.type === 'done' || reply.type === 'failed') final ??= reply;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close', not 'exit': it comes after the IPC channel has delivered every message.
    child.on('close', () => {
      clearTimeout(timer);
      if (final?.type === 'done') resolve(final);
      else if (final?.type === 'failed') reject(new BindError(names, final.code, final.message));
      else if (timedOut) reject(new BindError(names, 'ETIMEDOUT', `socket bind helper for ${names} did not finish within ${timeoutMs / 1000} s`));
      else reject(new BindError(names, 'EHELPER', `socket bind helper for ${names} failed${stderr ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

/**
 * Binds and listens on every socket in `specs` (all or none), through the bind helper, and returns them in order.
 * With a tenant, everything happens with the tenant's rights, and what tyrant mode forbids (another user in
 * chown-socket, a low port without tyrant-privileged-ports) is refused before anything is bound.
 * Rejects with BindError (its message names the socket and the reason: address in use, a live unix socket, a
 * directory the tenant may not write, ...), or Error for an unknown chown-socket user or group.
 */
export async function bindSockets(specs: readonly SocketSpec[], options: BindOptions = {}): Promise<ListeningSocket[]> {
  if (specs.length === 0) return [];
  if (options.tenant) {
    for (const spec of specs) {
      const refusal = addressRefusal(spec.name, spec.address, options.privilegedPorts ?? false);
      if (refusal) throw new BindError(spec.name, 'EACCES', refusal);
    }
  }
  const requests = await Promise.all(specs.map((spec) => toRequest(spec, options)));
  const received: ListeningSocket[] = [];
  const names = specs.map((s) => s.name).join(', ');
  const dirs = [...new Set(specs.flatMap((s) => (s.bindAs ? [s.bindAs.dir] : [])))];
  if (dirs.length > 1) throw new BindError(names, 'EINVAL', `sockets ${names} are bound under relative names from different directories (${dirs.join(', ')}); bind them apart`);
  try {
    await runHelper({ op: 'bind', as: identity(options.tenant), cwd: dirs[0], sockets: requests }, names, options.timeoutMs ?? 10_000, (reply, handle) => {
      const spec = specs[reply.index];
      if (spec) received.push({ spec, handle, dev: reply.dev, ino: reply.ino });
      else handle.close();
    });
  } catch (err) {
    received.forEach((s) => s.handle.close());
    throw err;
  }
  if (received.length !== specs.length) {
    received.forEach((s) => s.handle.close());
    throw new BindError(names, 'EHELPER', `socket bind helper for ${names} handed over ${received.length} of ${specs.length} sockets`);
  }
  return specs.map((spec) => received.find((s) => s.spec === spec) as ListeningSocket);
}

/** A new chmod-socket/chown-socket for a unix socket file the emperor already holds. */
export interface PermissionChange {
  readonly spec: SocketSpec;
  /** The file the socket was bound to. */
  readonly id: FileIdentity;
}

/**
 * Applies chmod-socket/chown-socket to socket files that already exist (a kept socket whose new generation asks
 * for other permissions), on the very inode the socket was bound to: the path is opened without following a link
 * and the change goes through that descriptor, so a path swapped for a symlink changes nothing. A file that is no
 * longer ours is left alone. For a tenant this runs in the bind helper with the tenant's rights (and chown-socket
 * within its own groups); otherwise here. Rejects with BindError.
 */
export async function setSocketPermissions(changes: readonly PermissionChange[], options: BindOptions = {}): Promise<void> {
  const unix = changes.flatMap((c) => (c.spec.address.kind === 'unix' ? [{ ...c, path: c.spec.address.path }] : []));
  if (unix.length === 0) return;
  const requests: PermissionRequest[] = await Promise.all(
    unix.map(async ({ spec, id, path }) => ({ name: spec.name, path, dev: id.dev, ino: id.ino, mode: spec.mode, owner: await ownerRequest(spec.owner) })),
  );
  if (options.tenant) {
    await runHelper({ op: 'permissions', as: identity(options.tenant), sockets: requests }, unix.map((c) => c.spec.name).join(', '), options.timeoutMs ?? 10_000);
    return;
  }
  for (const req of requests) {
    try {
      withSocketFile(req.path, { dev: req.dev, ino: req.ino }, (fd) => setInodePermissions(fd, { mode: req.mode, uid: req.owner?.uid, gid: req.owner?.gid }));
    } catch (err) {
      if (err instanceof SocketFileError || (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      const e = err as NodeJS.ErrnoException;
      throw new BindError(req.name, e.code ?? 'EUNKNOWN', `socket ${req.name}: cannot apply chmod-socket/chown-socket: ${e.message}`);
    }
  }
}

/**
 * The inherited listening sockets `fds` (systemd's LISTEN_FDS), as handles on new close-on-exec descriptors the
 * emperor holds (through the helper's `adopt` job: a descriptor received over IPC is close-on-exec); the caller
 * closes the originals. In order. Rejects with BindError when the helper fails.
 */
export async function adoptSockets(fds: readonly number[], timeoutMs = 10_000): Promise<RawHandle[]> {
  if (fds.length === 0) return [];
  const handles: RawHandle[] = [];
  const names = fds.map((fd) => `fd ${fd}`).join(', ');
  try {
    await runHelper({ op: 'adopt', count: fds.length }, names, timeoutMs, (reply, handle) => (handles[reply.index] = handle), fds);
  } catch (err) {
    handles.forEach((h) => h?.close());
    throw err;
  }
  if (handles.filter(Boolean).length !== fds.length) {
    handles.forEach((h) => h?.close());
    throw new BindError(names, 'EHELPER', `adopting inherited sockets ${names}: ${handles.filter(Boolean).length} of ${fds.length} handed back`);
  }
  return handles;
}
