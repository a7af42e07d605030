import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { socketHolder } from './socket-holder.js';

/**
 * One emperor per vassal directory and per pidfile. A lock is a listening unix socket in the abstract namespace
 * (Linux): the kernel frees its name the moment the process that holds it dies, however it dies, and a second bind
 * fails. A lock on the pidfile itself would not do: it is replaced by rename, and Node 20 has no flock.
 *
 * The abstract namespace has no permissions, so names are derived from a secret only the emperor's user can read
 * (runtime-dir.ts): nobody else can compute a name before it is used. Names in use can be seen by anyone in
 * /proc/net/unix, though, and squatted once the emperor has let go of them (while it restarts): so a name held by a
 * process of another user is skipped for the next of a few slots, and reported. The holder of a name is known
 * from the kernel (which process has the listening socket open), not from what it says.
 *
 * Limits: the secret is per user, so emperors of different users do not see each other's locks (root's and a user's
 * emperor on the same directory both run); and per network namespace (abstract names are), so emperors in different
 * containers do not either.
 */
export type LockKind = 'pidfile' | 'source' | 'control-socket';

/** What one lock guards. */
export interface LockTarget {
  readonly kind: LockKind;
  /** As the operator gave it, for messages. */
  readonly given: string;
  /** The real path it stands for (lockPath). */
  readonly real: string;
  /** For a source: the name ending of the vassal files it guards there ('.ini'). */
  readonly extension?: string;
}

/**
 * The real path of `p`: realpath of its nearest existing ancestor (itself if it exists), plus the part below that
 * does not exist yet (emperor-wait), so that two spellings of one place (a symlink, `..`) give one lock.
 */
export function lockPath(p: string): string {
  const rest: string[] = [];
  for (let dir = path.resolve(p); ; dir = path.dirname(dir)) {
    try {
      return path.join(realpathSync(dir), ...rest.reverse());
    } catch {
      if (dir === path.dirname(dir)) return path.resolve(p);
      rest.push(path.basename(dir));
    }
  }
}

/** The lock of a pidfile: its name in the real path of its directory (the file itself is replaced by rename). */
export function pidfileTarget(pidfile: string): LockTarget {
  return { kind: 'pidfile', given: pidfile, real: path.join(lockPath(path.dirname(path.resolve(pidfile))), path.basename(pidfile)) };
}

/** The lock of a control socket path (the file itself is made anew by each emperor that holds it). */
export function controlSocketTarget(file: string): LockTarget {
  return { ...pidfileTarget(file), kind: 'control-socket' };
}

/**
 * The locks of a vassal source: the real path of its base directory (the directory itself, or the part of a glob
 * before its first wildcard), once per name ending of its vassal files (emperor-extension) and each shorter ending
 * from a dot on ('.conf.ini' also locks '.ini': its files are .ini files too). The pattern is not part of it:
 * `/etc/vassals`, `/etc/vassals/*.ini` and `/etc/vassals/app-*.ini` are one lock, since whether two patterns share a
 * file cannot be told from their text; emperors on one directory for different endings ('.ini', '.conf') do not
 * share a file, and do not conflict.
 */
export function sourceTargets(spec: string, base: string, extensions: readonly string[]): LockTarget[] {
  const real = lockPath(base);
  const endings = new Set(extensions.flatMap((ext) => [ext, ...[...ext.matchAll(/\./g)].map((m) => ext.slice(m.index))]));
  return [...endings].map((extension) => ({ kind: 'source', given: spec, real, extension }));
}

/** The key of a target under `secret`: 64 hex digits. Pure. */
export function lockKey(secret: Buffer, target: Pick<LockTarget, 'kind' | 'real' | 'extension'>): string {
  const hash = createHash('sha256').update(secret).update('\0').update(target.kind).update('\0').update(target.real);
  return hash.update('\0').update(target.extension ?? '').digest('hex');
}

/** How many names each key has: the first that is free is taken (later ones only when earlier ones are squatted). */
export const LOCK_SLOTS = 8;

/** The abstract socket name of slot `slot` of `key` (a leading NUL: Node's notation for the abstract namespace). */
export function lockName(key: string, slot: number): string {
  return `\0supervisor-${key.slice(0, 40)}-${slot}`;
}

/** A live emperor of ours holds the lock: the second one must not start. */
export class LockConflict extends Error {
  constructor(
    readonly target: LockTarget,
    readonly holder: number | undefined,
  ) {
    const who = holder === undefined ? 'another emperor (its pid could not be read)' : `emperor ${holder}`;
    const what = [...(target.real !== target.given ? [target.real] : []), ...(target.extension ? [`its ${target.extension} files`] : [])];
    super(
      target.kind === 'pidfile'
        ? `${who} already holds pidfile ${target.given}`
        : target.kind === 'control-socket'
          ? `${who} already has the control socket ${target.given}`
          : `${who} already runs on ${target.given}${what.length ? ` (${what.join(', ')})` : ''}`,
    );
    this.name = 'LockConflict';
  }
}

/** A process of another user holds a lock name (squatted): reported, and the next slot is used. */
export interface Squat {
  readonly target: LockTarget;
  readonly slot: number;
  readonly pid: number | undefined;
  readonly uid: number | undefined;
}

export interface LockOptions {
  readonly onSquat?: (squat: Squat) => void;
  /** Called for an error of a lock server once it listens (e.g. EMFILE on accept); the lock is still held. */
  readonly onError?: (err: Error) => void;
}

/** The locks this emperor holds. release() lets them go (the kernel does it anyway when the process dies). */
export class EmperorLocks {
  readonly #servers: net.Server[];
  /** The keys held, in target order (recorded in the run record: runs that share a key guarded the same thing). */
  readonly keys: readonly string[];

  private constructor(servers: net.Server[], keys: string[]) {
    this.#servers = servers;
    this.keys = keys;
  }

  /**
   * Takes a lock for every target, or none: rejects with LockConflict naming the live emperor that holds one (the
   * locks already taken are let go), or Error when every slot of a name is squatted.
   */
  static async acquire(targets: readonly LockTarget[], secret: Buffer, options: LockOptions = {}): Promise<EmperorLocks> {
    const servers: net.Server[] = [];
    const keys: string[] = [];
    try {
      for (const target of targets) {
        const key = lockKey(secret, target);
        if (keys.includes(key)) continue;
        servers.push(await lockOne(target, key, options));
        keys.push(key);
      }
    } catch (err) {
      await Promise.all(servers.map(close));
      throw err;
    }
    return new EmperorLocks(servers, keys);
  }

  async release(): Promise<void> {
    await Promise.all(this.#servers.splice(0).map(close));
  }
}

async function lockOne(target: LockTarget, key: string, options: LockOptions): Promise<net.Server> {
  const squatters: string[] = [];
  let retries = 0;
  for (let slot = 0; slot < LOCK_SLOTS; slot++) {
    const server = await listen(lockName(key, slot), options.onError);
    if (server) {
      // An emperor that started while earlier slots were squatted holds a later one.
      const later = Array.from({ length: LOCK_SLOTS - slot - 1 }, (_, i) => socketHolder(lockName(key, slot + 1 + i)));
      const ours = (await Promise.all(later)).find((holder) => holder?.ours);
      if (ours) {
        await close(server);
        throw new LockConflict(target, ours.pid);
      }
      return server;
    }
    const holder = await socketHolder(lockName(key, slot));
    if (!holder) {
      // Let go between our bind and our look: try the same slot again (a few times: it may be contended).
      if (++retries < 5) slot--;
      continue;
    }
    if (holder.ours) throw new LockConflict(target, holder.pid);
    squatters.push(`pid ${holder.pid ?? '?'} (uid ${holder.uid ?? '?'})`);
    options.onSquat?.({ target, slot, pid: holder.pid, uid: holder.uid });
  }
  throw new Error(`cannot lock ${target.given}: all ${LOCK_SLOTS} lock names are held by processes of other users: ${squatters.join(', ')}`);
}

/** Listens on an abstract name; undefined when the name is taken. The server answers each connection with our pid. */
function listen(name: string, onError?: (err: Error) => void): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((conn) => {
      conn.on('error', () => {});
      conn.end(`${process.pid}\n`, () => conn.destroy());
    });
    // A flood of connections must not take the emperor's file descriptors.
    server.maxConnections = 8;
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    });
    server.listen(name, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => onError?.(err));
      resolve(server);
    });
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
