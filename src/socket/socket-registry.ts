import fs from 'node:fs';
import type { SocketSpec } from '../config/vassal-config.js';
import { isDeepStrictEqual } from 'node:util';
import { bindSockets, resolveOwner, type ListeningSocket } from './bind.js';

/** A vassal's hold on its sockets. Releasing is idempotent. */
export interface SocketLease {
  /** In the order the specs were given: socket i becomes the worker's fd 3 + i. */
  readonly sockets: readonly ListeningSocket[];
  /** Drops this hold; the last holder of a socket closes it, and with `vacuum` removes its file if still ours. */
  release(options: { vacuum: boolean }): void;
}

interface Entry {
  readonly socket: ListeningSocket;
  refs: number;
}

/**
 * The emperor's sockets, shared by address. A vassal leases the sockets it needs; an address already held (by its
 * own previous generation, or by another vassal, e.g. across `mv a.ini b.ini`) is handed over without a rebind, so
 * connections never find it closed. A socket is closed when its last lease is released.
 */
export class SocketRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #binding = new Map<string, Promise<unknown>>();

  async lease(specs: readonly SocketSpec[]): Promise<SocketLease> {
    const missing = specs.filter((s) => !this.#entries.has(socketKey(s)) && !this.#binding.has(socketKey(s)));
    if (missing.length > 0) {
      const binding = bindSockets(missing).then((bound) => {
        for (const socket of bound) this.#entries.set(socketKey(socket.spec), { socket, refs: 0 });
      });
      for (const s of missing) this.#binding.set(socketKey(s), binding);
      try {
        await binding;
      } finally {
        for (const s of missing) this.#binding.delete(socketKey(s));
      }
    }
    // Sockets another vassal is binding right now: wait for that bind, and fail with it, closing what this lease
    // bound itself and nobody holds.
    try {
      await Promise.all(specs.map((s) => this.#binding.get(socketKey(s))));
    } catch (err) {
      this.#drop(
        missing.flatMap((s) => {
          const entry = this.#entries.get(socketKey(s));
          return entry && entry.refs === 0 ? [Object.assign(entry, { refs: 1 })] : [];
        }),
        true,
      );
      throw err;
    }

    const taken: Entry[] = [];
    for (const spec of specs) {
      const entry = this.#entries.get(socketKey(spec));
      if (!entry) {
        this.#drop(taken, false);
        throw new Error(`socket ${spec.name} was closed while being leased`);
      }
      entry.refs++;
      taken.push(entry);
    }
    try {
      for (const [i, spec] of specs.entries()) await this.#applyPermissions(taken[i] as Entry, spec);
    } catch (err) {
      this.#drop(taken, false);
      throw err;
    }
    let released = false;
    return {
      sockets: taken.map((e) => e.socket),
      release: ({ vacuum }) => {
        if (released) return;
        released = true;
        this.#drop(taken, vacuum);
      },
    };
  }

  /** Names of the sockets currently held, for status and leak checks. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /** A new generation may ask for other permissions on a socket it keeps; apply them in place. */
  async #applyPermissions(entry: Entry, spec: SocketSpec): Promise<void> {
    const { socket } = entry;
    if (spec.address.kind !== 'unix' || !isStillOurs(socket)) return;
    if (spec.mode !== undefined && spec.mode !== socket.spec.mode) fs.chmodSync(spec.address.path, spec.mode);
    if (spec.owner && !isDeepStrictEqual(spec.owner, socket.spec.owner)) {
      const { uid, gid } = await resolveOwner(spec.owner);
      fs.chownSync(spec.address.path, uid ?? -1, gid ?? -1);
    }
  }

  #drop(entries: readonly Entry[], vacuum: boolean): void {
    for (const entry of entries) {
      entry.refs--;
      if (entry.refs > 0) continue;
      const { socket } = entry;
      this.#entries.delete(socketKey(socket.spec));
      try {
        // Unlink before close, as libuv does, so we never remove a file someone else bound in between.
        if (vacuum && socket.spec.address.kind === 'unix' && isStillOurs(socket)) {
          fs.rmSync(socket.spec.address.path, { force: true });
        }
      } catch {
        // A file we may not remove stays; the socket itself must still be closed.
      } finally {
        socket.handle.close();
      }
    }
  }
}

/**
 * The registry key of a socket: its address, and for one bound under a relative name that name too. A socket bound
 * under another name is not the same socket to uWSGI, so it is not handed over: binding the path again then fails
 * as "in use", and the running generation keeps it.
 */
function socketKey(spec: SocketSpec): string {
  return spec.bindAs ? `${spec.name} (bound as ${spec.bindAs.name})` : spec.name;
}

/** uWSGI's vacuum rule: remove a socket file only while it is the one we created (same device and inode). */
function isStillOurs(socket: ListeningSocket): boolean {
  if (socket.spec.address.kind !== 'unix') return false;
  try {
    const st = fs.statSync(socket.spec.address.path);
    return st.dev === socket.dev && st.ino === socket.ino;
  } catch {
    return false;
  }
}
