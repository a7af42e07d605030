import type { SocketAddress } from '../config/socket-address.js';
import type { SocketSpec } from '../config/vassal-config.js';
import type { OwnerSpec } from '../config/values.js';
import { isDeepStrictEqual } from 'node:util';
import type { Credentials } from '../runtime/accounts.js';
import { BindError, bindSockets, setSocketPermissions, type ListeningSocket } from './bind.js';
import { removeSocketIfSame } from './socket-file.js';
import { EMPEROR_OWNER, leaseRefusal, type SocketOwner } from './tenant-rules.js';

/** A vassal's hold on its sockets. Releasing is idempotent. */
export interface SocketLease {
  /** In the order the specs were given: socket i becomes the worker's fd 3 + i. */
  readonly sockets: readonly ListeningSocket[];
  /** Drops this hold; the last holder of a socket closes it, and with `vacuum` removes its file if still ours. */
  release(options: { vacuum: boolean }): void;
}

interface Entry {
  readonly socket: ListeningSocket;
  readonly owner: SocketOwner;
  refs: number;
  /** chmod-socket/chown-socket the file has now (a later generation may have changed them in place). */
  mode: number | undefined;
  fileOwner: OwnerSpec | undefined;
  /** Inherited from systemd (LISTEN_FDS): systemd's, never closed, vacuumed or given other permissions. */
  readonly inherited?: boolean;
}

export interface RegistryOptions {
  /** emperor-tyrant: each vassal's sockets belong to the tenant it runs as, and are bound with its rights. */
  readonly tyrant?: boolean;
  /** tyrant-privileged-ports: tenants may bind TCP ports below 1024. */
  readonly tyrantPrivilegedPorts?: boolean;
}

/**
 * The emperor's sockets, shared by owner and address. A vassal leases the sockets it needs; an address already
 * held by the same owner (its own previous generation, or another vassal, e.g. across `mv a.ini b.ini`) is handed
 * over without a rebind, so connections never find it closed. The owner is the emperor in the default mode, and the
 * tenant (the vassal file's uid and gid) in tyrant mode: an address another owner holds is refused, and the holder
 * keeps its socket as it is. A socket is closed when its last lease is released.
 */
export class SocketRegistry {
  readonly #entries = new Map<string, Entry>();
  /** The inherited sockets by their FileDescriptorName= (LISTEN_FDNAMES): the keys of their entries. */
  readonly #systemdNames = new Map<string, string[]>();
  readonly #binding = new Map<string, { readonly owner: SocketOwner; readonly done: Promise<unknown> }>();
  readonly #options: RegistryOptions;

  constructor(options: RegistryOptions = {}) {
    this.#options = options;
  }

  /**
   * Leases `specs` for a generation that runs as `runsAs`. In tyrant mode that is the tenant (tyranny made it the
   * file owner's), who owns the sockets and binds them with its own rights; otherwise the emperor owns them all.
   * Rejects with BindError when an address belongs to another owner (nothing is bound or changed then), or when
   * binding fails; with Error in tyrant mode for a generation without credentials.
   */
  async lease(asked: readonly SocketSpec[], runsAs?: Credentials): Promise<SocketLease> {
    if (this.#options.tyrant && !runsAs && asked.length > 0) throw new Error('emperor-tyrant: a vassal without a uid and gid of its own cannot have sockets');
    const tenant = this.#options.tyrant ? runsAs : undefined;
    // systemd passed its sockets to the emperor: a tenant is refused before it learns what they are.
    const named = tenant ? asked.find((spec) => spec.address.kind === 'systemd') : undefined;
    if (named) throw new BindError(named.name, 'EACCES', `socket ${named.name}: in tyrant mode the sockets systemd passes belong to the emperor, and no tenant's vassal gets one`);
    const specs = asked.map((spec) => this.#resolve(spec));
    const owner: SocketOwner = tenant ? { kind: 'tenant', uid: tenant.uid, gid: tenant.gid } : EMPEROR_OWNER;
    this.#refuseOthers(specs, owner);
    const missing = specs.filter((s) => !this.#entries.has(socketKey(s)) && !this.#binding.has(socketKey(s)));
    if (missing.length > 0) {
      const done = bindSockets(missing, { tenant, privilegedPorts: this.#options.tyrantPrivilegedPorts }).then((outcomes) => {
        // What was bound is registered (and dropped below if this lease fails); the first failure fails the lease.
        for (const o of outcomes) {
          if (o.ok) this.#entries.set(socketKey(o.socket.spec), { socket: o.socket, owner, refs: 0, mode: o.socket.spec.mode, fileOwner: o.socket.spec.owner });
        }
        const failed = outcomes.find((o) => !o.ok);
        if (failed && !failed.ok) throw failed.error;
      });
      for (const s of missing) this.#binding.set(socketKey(s), { owner, done });
      try {
        await done;
      } catch (err) {
        this.#dropUnheld(missing);
        throw err;
      } finally {
        for (const s of missing) this.#binding.delete(socketKey(s));
      }
    }
    // Sockets another vassal of the same owner is binding right now: wait for that bind, and fail with it, closing
    // what this lease bound itself and nobody holds.
    try {
      await Promise.all(specs.map((s) => this.#binding.get(socketKey(s))?.done));
    } catch (err) {
      this.#dropUnheld(missing);
      throw err;
    }

    const taken: Entry[] = [];
    for (const spec of specs) {
      const entry = this.#entries.get(socketKey(spec));
      if (!entry || leaseRefusal(spec.name, entry.owner, owner)) {
        this.#drop(taken, false);
        throw entry ? new BindError(spec.name, 'EACCES', leaseRefusal(spec.name, entry.owner, owner) as string) : new Error(`socket ${spec.name} was closed while being leased`);
      }
      entry.refs++;
      taken.push(entry);
    }
    try {
      await this.#applyPermissions(taken, specs, tenant);
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

  /**
   * Takes the listening sockets the emperor was started with (systemd socket activation): a vassal that asks for one
   * of these addresses gets it without a bind. They belong to the emperor (in tyrant mode, no tenant gets them) and
   * stay open while the emperor runs, whoever holds them: systemd owns them, and keeps them across our restarts.
   */
  adopt(sockets: readonly { readonly address: SocketAddress; readonly name: string; readonly fdName: string; readonly handle: ListeningSocket['handle'] }[]): void {
    for (const s of sockets) {
      const spec: SocketSpec = Object.freeze({ address: s.address, name: s.name, backlog: 0, mode: undefined, owner: undefined });
      this.#entries.set(s.name, { socket: { spec, handle: s.handle, dev: 0, ino: 0 }, owner: EMPEROR_OWNER, refs: 0, mode: undefined, fileOwner: undefined, inherited: true });
      this.#systemdNames.set(s.fdName, [...(this.#systemdNames.get(s.fdName) ?? []), s.name]);
    }
  }

  /** Whether `spec`'s socket is one systemd passed (LISTEN_FDS): its unit's SocketMode=/SocketUser= apply, not ours. */
  isInherited(spec: SocketSpec): boolean {
    return spec.address.kind === 'systemd' || this.#entries.get(socketKey(spec))?.inherited === true;
  }

  /**
   * `spec` as the registry holds it: `systemd:NAME` becomes the inherited socket systemd named so (its address and
   * key; what the vassal asked, backlog, mode and owner, is kept for the reports). Throws BindError when systemd
   * passed no socket of that name, or several (systemd names every socket of a unit after the unit by default).
   */
  #resolve(spec: SocketSpec): SocketSpec {
    if (spec.address.kind !== 'systemd') return spec;
    const wanted = spec.address.name;
    const keys = this.#systemdNames.get(wanted) ?? [];
    if (keys.length === 1) {
      const held = (this.#entries.get(keys[0] as string) as Entry).socket.spec;
      return Object.freeze({ ...spec, address: held.address, name: held.name });
    }
    if (keys.length > 1) {
      throw new BindError(spec.name, 'EINVAL', `socket ${spec.name}: systemd passed ${keys.length} sockets named ${wanted} (${keys.join(', ')}): give each its own FileDescriptorName= in the .socket unit, or name the socket by its address`);
    }
    const names = [...this.#systemdNames].map(([name, held]) => `${name} (${held.join(', ')})`);
    const has = names.length > 0 ? `it has ${names.join(', ')}` : 'it was started without sockets from systemd (no LISTEN_FDS for it)';
    throw new BindError(spec.name, 'ENOENT', `socket ${spec.name}: systemd passed the emperor no socket named ${wanted}; ${has}`);
  }

  /** Names of the sockets currently held (not counting inherited ones nobody leases), for status and leak checks. */
  names(): string[] {
    return [...this.#entries].filter(([, e]) => !e.inherited || e.refs > 0).map(([name]) => name);
  }

  /** Closes the inherited sockets (at the emperor's exit: systemd still holds its own descriptors). */
  closeInherited(): void {
    for (const [name, entry] of this.#entries) {
      if (!entry.inherited) continue;
      this.#entries.delete(name);
      entry.socket.handle.close();
    }
  }

  /** Throws BindError for the first address held, or being bound, by another owner. */
  #refuseOthers(specs: readonly SocketSpec[], owner: SocketOwner): void {
    for (const spec of specs) {
      const holder = this.#entries.get(socketKey(spec))?.owner ?? this.#binding.get(socketKey(spec))?.owner;
      const refusal = holder && leaseRefusal(spec.name, holder, owner);
      if (refusal) throw new BindError(spec.name, 'EACCES', refusal);
    }
  }

  /**
   * A new generation may ask for other permissions on a socket it keeps: applied in place, to the inode we bound,
   * never by following the path (see setSocketPermissions), with the tenant's rights in tyrant mode.
   */
  async #applyPermissions(entries: readonly Entry[], specs: readonly SocketSpec[], tenant: Credentials | undefined): Promise<void> {
    const changes = specs.flatMap((spec, i) => {
      const entry = entries[i] as Entry;
      const mode = spec.mode !== undefined && spec.mode !== entry.mode;
      const owner = spec.owner !== undefined && !isDeepStrictEqual(spec.owner, entry.fileOwner);
      // systemd's socket keeps the SocketMode=/SocketUser= its unit gave it.
      if (entry.inherited || spec.address.kind !== 'unix' || (!mode && !owner)) return [];
      // Only what changed: an unchanged chown-socket is not looked up and applied again.
      return [{ entry, spec: { ...spec, mode: mode ? spec.mode : undefined, owner: owner ? spec.owner : undefined } }];
    });
    if (changes.length === 0) return;
    await setSocketPermissions(
      changes.map(({ entry, spec }) => ({ spec, id: { dev: entry.socket.dev, ino: entry.socket.ino } })),
      { tenant },
    );
    for (const { entry, spec } of changes) {
      if (spec.mode !== undefined) entry.mode = spec.mode;
      if (spec.owner !== undefined) entry.fileOwner = spec.owner;
    }
  }

  /** Closes (and removes the files of) sockets this lease bound that nobody holds: its bind failed as a whole. */
  #dropUnheld(bound: readonly SocketSpec[]): void {
    this.#drop(
      bound.flatMap((s) => {
        const entry = this.#entries.get(socketKey(s));
        return entry && entry.refs === 0 && !entry.inherited ? [Object.assign(entry, { refs: 1 })] : [];
      }),
      true,
    );
  }

  #drop(entries: readonly Entry[], vacuum: boolean): void {
    for (const entry of entries) {
      entry.refs--;
      if (entry.refs > 0 || entry.inherited) continue;
      const { socket } = entry;
      this.#entries.delete(socketKey(socket.spec));
      try {
        // Unlink before close, as libuv does, so we never remove a file someone else bound in between. uWSGI's
        // vacuum rule: only while the path is still the file we created (same device and inode, no link followed).
        if (vacuum && socket.spec.address.kind === 'unix') removeSocketIfSame(socket.spec.address.path, socket);
      } catch {
        // A file we may not remove stays; the socket itself must still be closed.
      } finally {
        socket.handle.close();
      }
    }
  }
}

/**
 * The registry key of a socket: its address, and for one bound under a relative name (a uWSGI app's) that name too.
 * A socket bound under another name is not the same socket to uWSGI, so it is not handed over: binding the path again
 * then fails as "in use", and the running generation keeps it.
 */
function socketKey(spec: SocketSpec): string {
  return spec.bindAs ? `${spec.name} (bound as ${spec.bindAs.name})` : spec.name;
}
