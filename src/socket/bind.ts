import { fork } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { SocketSpec } from '../config/vassal-config.js';
import type { BindReply, BindRequest } from './bind-request.js';
import { lookupGroup, lookupUser } from '../runtime/accounts.js';
import type { OwnerSpec } from '../config/values.js';
import { clearStaleSocket } from './stale-socket.js';

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

async function toRequest(spec: SocketSpec): Promise<BindRequest> {
  const a = spec.address;
  if (a.kind === 'unix') {
    const owner = await resolveOwner(spec.owner);
    await clearStaleSocket(a.path);
    const named = spec.bindAs ? { path: spec.bindAs.name, dir: spec.bindAs.dir } : { path: a.path };
    return { kind: 'unix', ...named, backlog: spec.backlog, mode: spec.mode, uid: owner.uid, gid: owner.gid };
  }
  const family = net.isIP(a.host);
  if (family === 4 || family === 6) return { kind: 'tcp', host: a.host, family, port: a.port, backlog: spec.backlog };
  const resolved = await lookup(a.host);
  return { kind: 'tcp', host: resolved.address, family: resolved.family as 4 | 6, port: a.port, backlog: spec.backlog };
}

/**
 * Binds and listens on every socket in `specs` (all or none), through the bind helper, and returns them in order.
 * Rejects with BindError (address in use, permission denied, ...), SocketInUseError (a live unix socket), or Error
 * for an unknown chown-socket user or group.
 */
export async function bindSockets(specs: readonly SocketSpec[], timeoutMs = 10_000): Promise<ListeningSocket[]> {
  if (specs.length === 0) return [];
  const requests = await Promise.all(specs.map((spec) => toRequest(spec)));
  const received: ListeningSocket[] = [];
  const closeReceived = (): void => received.forEach((s) => s.handle.close());

  return new Promise<ListeningSocket[]>((resolve, reject) => {
    const child = fork(HELPER, [JSON.stringify(requests)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    let stderr = '';
    let failure: BindError | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    child.on('message', (reply: BindReply, handle: unknown) => {
      const spec = specs[reply.index];
      if (!spec) return;
      if (reply.ok && handle) {
        received.push({ spec, handle: handle as RawHandle, dev: reply.dev, ino: reply.ino });
      } else if (!reply.ok) {
        failure = new BindError(spec.name, reply.code, `cannot ${reply.syscall} ${spec.name}: ${reply.message}`);
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      closeReceived();
      reject(err);
    });
    // 'close', not 'exit': it comes after the IPC channel has delivered every message.
    child.on('close', () => {
      clearTimeout(timer);
      if (!failure && received.length === specs.length) {
        resolve(received);
        return;
      }
      closeReceived();
      reject(failure ?? new BindError(specs.map((s) => s.name).join(', '), 'EHELPER', `socket bind helper failed${stderr ? `: ${stderr.trim()}` : ''}`));
    });
  });
}
