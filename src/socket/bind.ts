import { fork, type ChildProcess } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SocketSpec } from '../config/vassal-config.js';
import type { BindRequest, HelperIdentity, HelperJob, HelperMessage, HelperReply, PermissionRequest, SocketOwnerRequest } from './bind-request.js';
import { lookupGroup, lookupUser, type Credentials } from '../runtime/accounts.js';
import { autogroupRateLimited, readAutogroupNice, writeAutogroupNice } from '../runtime/autogroup.js';
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
  if (a.kind === 'systemd') throw new BindError(name, 'EINVAL', `socket ${name} is systemd's to bind, not the emperor's`);
  // A tenant's low port, when the emperor allows them, is bound while the helper is still root.
  const beforeDrop = options.tenant !== undefined && options.privilegedPorts === true && a.port < FIRST_UNPRIVILEGED_PORT;
  const family = net.isIP(a.host);
  if (family === 4 || family === 6) return { kind: 'tcp', name, host: a.host, family, port: a.port, backlog, beforeDrop };
  const resolved = await lookup(a.host);
  return { kind: 'tcp', name, host: resolved.address, family: resolved.family as 4 | 6, port: a.port, backlog, beforeDrop };
}

/**
 * A bind helper started as root from our own files: absolute Node, the fixed root environment, no Node options.
 * `ownSession`: the helper is a session of its own (setsid), so that its CPU share can be set apart from the
 * emperor's (see HelperStandby).
 */
function forkHelper(passFds: readonly number[] = [], ownSession = false): ChildProcess {
  return fork(HELPER, [], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc', ...passFds],
    serialization: 'json',
    execPath: process.execPath,
    execArgv: [],
    env: { ...ROOT_ENV },
    cwd: '/',
    detached: ownSession,
  });
}

/**
 * One bind helper kept started ahead of time, waiting for its job: a Node start (about 100 ms of CPU) is then off
 * the path of a vassal's start. Taken, it is replaced by another. Unreferenced while it waits, so it never keeps
 * the emperor alive; it exits by itself when the emperor goes (its IPC channel closes).
 */
class HelperStandby {
  #ready: ChildProcess | undefined;
  #closed = false;

  take(): ChildProcess {
    const child = this.#ready && this.#ready.exitCode === null && this.#ready.connected ? this.#ready : forkHelper();
    // Back to the emperor's own priority (a unit's Nice= included) for its job.
    if (child === this.#ready) setNice(child, os.getPriority(), autogroupLowerable() ? readAutogroupNice('self') : undefined);
    this.#ready = undefined;
    child.ref();
    child.channel?.ref();
    (child.stderr as { ref?: () => void } | null)?.ref?.();
    return child;
  }

  /**
   * Starts the next helper once a job has ended, after what the job's result sets off in this turn (a vassal's
   * workers are spawned): forking the emperor blocks it for milliseconds (a worker's spawn blocked it 6–14 ms in
   * bench/PROFILE.md's hot-add trace), which during the job would delay its replies.
   */
  replenish(): void {
    if (!this.#closed) setImmediate(() => this.#prepare());
  }

  #prepare(): void {
    if (this.#ready || this.#closed) return;
    // Its Node start (~100 ms of CPU) must not compete with the workers of the vassal whose job it replaces, which
    // start right then. In the emperor's session it would share the emperor's autogroup, whose weight (nice 0, the
    // emperor idle meanwhile) it would have to itself whatever its own nice value: in a session of its own, its
    // group is lowered too. Measured in bench/PROFILE.md ("The standby bind helper in a session of its own").
    const child = forkHelper([], true);
    setNice(child, STANDBY_NICE, autogroupLowerable() ? STANDBY_NICE : undefined);
    child.on('error', () => {});
    child.on('message', (reply: HelperReply, handle: unknown) => {
      if (reply.type === 'warm') (handle as RawHandle | undefined)?.close();
    });
    child.send({ op: 'warm' } satisfies HelperMessage, () => {});
    child.stderr?.resume();
    // Nothing of a waiting helper keeps the emperor (or a script that bound sockets) alive: its stderr pipe too.
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    child.unref();
    child.channel?.unref();
    this.#ready = child;
  }

  /** Kills the waiting helper (at the emperor's stop); later takes start helpers on demand. */
  close(): void {
    this.#closed = true;
    this.#ready?.kill('SIGKILL');
    this.#ready = undefined;
  }
}

const standby = new HelperStandby();

/** Nice of a helper started ahead of time, until it is taken. Only root may raise the priority back, so only root lowers it. */
const STANDBY_NICE = 19;

/**
 * Sets a helper's nice value, and its session's autogroup nice when `autogroup` is given (the standby helper's session
 * is its own). Root only: only root may raise a priority back.
 */
function setNice(child: ChildProcess, nice: number, autogroup?: number): void {
  if (child.pid === undefined || process.getuid?.() !== 0) return;
  try {
    os.setPriority(child.pid, nice);
  } catch {
    // Gone already: its job fails as it would have.
  }
  // A refusal (EAGAIN where changes are rate-limited, or the helper gone) leaves the group as it was.
  if (autogroup !== undefined) writeAutogroupNice(child.pid, autogroup);
}

let lowerable: boolean | undefined;

/**
 * Whether the standby helper's autogroup is lowered: only where autogroups exist and changes are not rate-limited
 * (without CAP_SYS_ADMIN the kernel takes one per 100 ms system-wide, and the change back when the helper is taken
 * could be refused, leaving its job at nice 19).
 */
function autogroupLowerable(): boolean {
  lowerable ??= readAutogroupNice('self') !== undefined && !autogroupRateLimited();
  return lowerable;
}

/** Kills the bind helper kept waiting (the emperor is stopping). */
export function closeBindHelpers(): void {
  standby.close();
}

/** What one helper job ended with: its final reply, and the sockets it could not make, by index. */
interface JobResult {
  readonly done: Extract<HelperReply, { type: 'done' }>;
  readonly failures: ReadonlyMap<number, BindError>;
}

/**
 * Runs one helper job, given on its IPC channel to a helper started ahead of time (or, to hand it descriptors, a
 * new one with `passFds` as its fd 4, 5, ...). The helper drops to `job.as` itself. `onBound` receives each fd.
 * Resolves with the final reply ('done') and the sockets that failed; rejects with BindError for a final
 * 'failed' reply, a helper that died without one, or the timeout.
 */
function runHelper(
  job: HelperJob,
  names: string,
  timeoutMs: number,
  onBound?: (reply: Extract<HelperReply, { type: 'bound' }>, handle: RawHandle) => void,
  passFds: readonly number[] = [],
  nameOf: (index: number) => string = () => names,
): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const child = passFds.length > 0 ? forkHelper(passFds) : standby.take();
    let stderr = '';
    let final: HelperReply | undefined;
    const failures = new Map<number, BindError>();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr?.removeAllListeners('data');
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    const settle = (): void => {
      clearTimeout(timer);
      if (passFds.length === 0) standby.replenish();
      if (final?.type === 'done') resolve({ done: final, failures });
      else if (final?.type === 'failed') reject(new BindError(final.index !== undefined ? nameOf(final.index) : names, final.code, final.message));
      else if (timedOut) reject(new BindError(names, 'ETIMEDOUT', `socket bind helper for ${names} did not finish within ${timeoutMs / 1000} s`));
      else reject(new BindError(names, 'EHELPER', `socket bind helper for ${names} failed${stderr ? `: ${stderr.trim()}` : ''}`));
    };
    child.on('message', (reply: HelperReply, handle: unknown) => {
      if (reply.type === 'bound' && handle) onBound?.(reply, handle as RawHandle);
      else if (reply.type === 'failed' && !reply.final && reply.index !== undefined) failures.set(reply.index, new BindError(nameOf(reply.index), reply.code, reply.message));
      else if ((reply.type === 'done' || reply.type === 'failed') && !final) {
        // The last message of the job (the channel keeps their order): every socket listens, and the helper kills
        // itself without another turn of its event loop. Its exit (about 6 ms of a 15 ms job here) is not waited for.
        final = reply;
        settle();
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // A helper that ends without its final message: 'close', not 'exit', comes after the IPC channel has delivered
    // every message.
    child.on('close', () => {
      if (!final) settle();
    });
    child.send(job, (err) => {
      if (err) child.kill('SIGKILL');
    });
  });
}

/** What became of one socket asked for: listening, or why not. */
export type BindOutcome = { readonly ok: true; readonly socket: ListeningSocket } | { readonly ok: false; readonly error: BindError };

/** Sockets asked for within one turn of the event loop, bound together: one helper job per owner and directory. */
interface Batch {
  readonly specs: SocketSpec[];
  readonly options: BindOptions;
  readonly cwd: string | undefined;
  readonly waiting: ((outcomes: Map<SocketSpec, BindOutcome>) => void)[];
}

const batches = new Map<string, Batch>();

/**
 * Binds and listens on every socket in `specs`, through the bind helper, and says for each whether it worked (in
 * order). Sockets asked for in the same turn of the event loop (the vassals a sync starts) are bound by one helper:
 * one Node start for a hundred vassals, not a hundred. With a tenant, everything happens with the tenant's rights,
 * and what tyrant mode forbids (another user in chown-socket, a low port without tyrant-privileged-ports) is refused
 * before anything is bound. A socket's BindError names it and the reason (address in use, a live unix socket, a
 * directory the tenant may not write, ...). Rejects with Error for an unknown chown-socket user or group.
 */
export async function bindSockets(specs: readonly SocketSpec[], options: BindOptions = {}): Promise<BindOutcome[]> {
  if (specs.length === 0) return [];
  const refused = new Map<SocketSpec, BindOutcome>();
  // systemd:NAME is resolved to the inherited socket by the registry; one that reaches here was never passed.
  for (const spec of specs) {
    if (spec.address.kind === 'systemd') refused.set(spec, { ok: false, error: new BindError(spec.name, 'ENOENT', `socket ${spec.name} is systemd's to bind, not the emperor's, and systemd did not pass it`) });
  }
  if (options.tenant) {
    for (const spec of specs) {
      const refusal = addressRefusal(spec.name, spec.address, options.privilegedPorts ?? false);
      if (refusal) refused.set(spec, { ok: false, error: new BindError(spec.name, 'EACCES', refusal) });
    }
  }
  const names = specs.map((s) => s.name).join(', ');
  const dirs = [...new Set(specs.flatMap((s) => (s.bindAs ? [s.bindAs.dir] : [])))];
  if (dirs.length > 1) throw new BindError(names, 'EINVAL', `sockets ${names} are bound under relative names from different directories (${dirs.join(', ')}); bind them apart`);
  const toBind = specs.filter((s) => !refused.has(s));
  const bound = toBind.length === 0 ? new Map<SocketSpec, BindOutcome>() : await inBatch(toBind, options, dirs[0]);
  return specs.map((spec) => refused.get(spec) ?? bound.get(spec) ?? { ok: false, error: new BindError(spec.name, 'EHELPER', `socket ${spec.name} was not bound`) });
}

function inBatch(specs: readonly SocketSpec[], options: BindOptions, cwd: string | undefined): Promise<Map<SocketSpec, BindOutcome>> {
  const t = options.tenant;
  const key = JSON.stringify([t?.uid, t?.gid, t?.initGroups, options.privilegedPorts ?? false, cwd]);
  let batch = batches.get(key);
  if (!batch) {
    const created: Batch = { specs: [], options, cwd, waiting: [] };
    batches.set(key, created);
    batch = created;
    setImmediate(() => {
      batches.delete(key);
      void runBatch(created).then((outcomes) => created.waiting.forEach((resolve) => resolve(outcomes)));
    });
  }
  batch.specs.push(...specs);
  return new Promise((resolve) => batch.waiting.push(resolve));
}

/** One helper job for a batch; every socket gets its outcome, whatever happens to the job. */
async function runBatch(batch: Batch): Promise<Map<SocketSpec, BindOutcome>> {
  const { specs, options } = batch;
  const outcomes = new Map<SocketSpec, BindOutcome>();
  const failAll = (err: unknown): void => {
    for (const spec of specs) if (!outcomes.has(spec)) outcomes.set(spec, { ok: false, error: asBindError(spec.name, err) });
  };
  let requests: BindRequest[];
  try {
    requests = await Promise.all(specs.map((spec) => toRequest(spec, options)));
  } catch (err) {
    failAll(err);
    return outcomes;
  }
  const names = specs.map((s) => s.name).join(', ');
  const received: ListeningSocket[] = [];
  // Generous for a big batch: every fd is one message the emperor acknowledges.
  const timeoutMs = (options.timeoutMs ?? 10_000) + 20 * specs.length;
  try {
    const { failures } = await runHelper(
      { op: 'bind', as: identity(options.tenant), cwd: batch.cwd, sockets: requests },
      names,
      timeoutMs,
      (reply, handle) => {
        const spec = specs[reply.index];
        if (spec) received.push({ spec, handle, dev: reply.dev, ino: reply.ino });
        else handle.close();
      },
      [],
      (index) => specs[index]?.name ?? names,
    );
    for (const [index, error] of failures) {
      const spec = specs[index];
      if (!spec) continue;
      outcomes.set(spec, { ok: false, error });
      // A socket whose listen() failed was handed over already: close our copy.
      received.find((s) => s.spec === spec)?.handle.close();
    }
    for (const socket of received) if (!outcomes.has(socket.spec)) outcomes.set(socket.spec, { ok: true, socket });
    failAll(new BindError(names, 'EHELPER', `socket bind helper for ${names} handed over ${received.length} of ${specs.length} sockets`));
  } catch (err) {
    received.forEach((s) => s.handle.close());
    outcomes.clear();
    failAll(err);
  }
  return outcomes;
}

function asBindError(name: string, err: unknown): BindError {
  if (err instanceof BindError) return err;
  return new BindError(name, (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN', (err as Error).message);
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
