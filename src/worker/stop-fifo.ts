import { chmodSync, closeSync, constants, fstatSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { runtimeDir } from '../runtime/runtime-dir.js';

/**
 * Whether a stop request was delivered; if not, why (the caller then falls back to the stop signal), and whether it
 * may succeed later (`retry`: the FIFO is not there yet, or nobody has opened it yet).
 */
export type StopRequestResult = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly retry?: boolean };

/** Who the worker runs as: the FIFO's directory belongs to them, and so must the FIFO. */
export interface FifoOwner {
  readonly uid: number;
  readonly gid: number;
}

// Everything a tenant put in its directory is removed, up to this many entries; a larger tree is left, locked.
const MAX_ENTRIES = 10_000;

let made = 0;

/**
 * A graceful stop by writing to a FIFO the worker itself creates, for programs whose stop signals do not let the
 * requests in flight finish: uWSGI's master reads `q` on its master FIFO and stops gracefully, where SIGINT (and
 * SIGTERM with die-on-term) kill those requests.
 *
 * Each worker gets its own directory in the emperor's runtime directory (mode 0711, root's): the directory belongs
 * to the worker's user (mode 0700), because the program creates the FIFO itself (uWSGI unlinks and re-creates
 * it), and nobody else may enter it. Old and new workers of a rolling reload never share a FIFO. The path is given
 * to the worker in its environment. The emperor, usually root, opens it without following a link and without
 * blocking, and writes only to a FIFO owned by the worker's user.
 */
export class StopFifo {
  /** Path of the FIFO the worker is expected to create. */
  readonly path: string;
  readonly #dir: string;
  readonly #uid: number;
  #removed = false;

  private constructor(dir: string, uid: number) {
    this.#dir = dir;
    this.path = path.join(dir, 'fifo');
    this.#uid = uid;
  }

  /** Makes the worker's private directory. `owner`: the worker's uid/gid, or the emperor's own when undefined. Throws on failure. */
  static create(owner: FifoOwner | undefined): StopFifo {
    const dir = path.join(runtimeDir(), `stop-${process.pid}-${++made}`);
    mkdirSync(dir, { mode: 0o700 });
    try {
      if (owner) lchownSync(dir, owner.uid, owner.gid);
    } catch (err) {
      rmdirSync(dir);
      throw err;
    }
    return new StopFifo(dir, owner?.uid ?? process.getuid?.() ?? 0);
  }

  /** Writes `text` to the FIFO: O_WRONLY|O_NONBLOCK|O_NOFOLLOW, then checks it is a FIFO owned by the worker's user. */
  write(text: string): StopRequestResult {
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { ok: false, reason: `${this.path} does not exist (not created yet)`, retry: true };
      if (code === 'ENXIO') return { ok: false, reason: `nothing reads ${this.path}`, retry: true };
      if (code === 'ELOOP') return { ok: false, reason: `${this.path} is a symbolic link` };
      return { ok: false, reason: `cannot open ${this.path}: ${(err as Error).message}` };
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFIFO()) return { ok: false, reason: `${this.path} is not a FIFO` };
      if (st.uid !== this.#uid) return { ok: false, reason: `${this.path} belongs to uid ${st.uid}, not to the worker's uid ${this.#uid}` };
      const bytes = Buffer.from(text);
      const written = writeSync(fd, bytes);
      return written === bytes.length ? { ok: true } : { ok: false, reason: `${this.path}: wrote ${written} of ${bytes.length} bytes` };
    } catch (err) {
      return { ok: false, reason: `cannot write ${this.path}: ${(err as Error).message}` };
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Removes the directory and whatever the worker left in it, once the worker is gone. Each directory is taken back
   * (owner root, mode 0700) before it is read, so nothing in it can be swapped for a link while it is emptied.
   * Idempotent; never throws (returns the error, for the log).
   */
  remove(): Error | undefined {
    if (this.#removed) return undefined;
    this.#removed = true;
    try {
      removeTree(this.#dir);
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }
}

function lock(dir: string): void {
  // Owner first, then mode: once root owns it, the tenant can no longer chmod it back.
  if (process.getuid?.() === 0) lchownSync(dir, 0, 0);
  chmodSync(dir, 0o700);
}

/** Depth-first removal of a directory whose content a tenant controlled; directories are locked before they are read. */
function removeTree(top: string): void {
  lock(top);
  const dirs = [top];
  const order: string[] = [];
  let seen = 0;
  while (dirs.length > 0) {
    const dir = dirs.pop() as string;
    order.push(dir);
    for (const name of readdirSync(dir)) {
      if (++seen > MAX_ENTRIES) throw new Error(`${top} holds more than ${MAX_ENTRIES} entries; left in place, locked`);
      const entry = path.join(dir, name);
      // The parent is locked: lstat's answer holds until we act on it.
      if (lstatSync(entry).isDirectory()) {
        lock(entry);
        dirs.push(entry);
      } else {
        unlinkSync(entry);
      }
    }
  }
  for (const dir of order.reverse()) rmdirSync(dir);
}
