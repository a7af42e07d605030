import { lstatSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { ownUid } from '../runtime/runtime-place.js';
import { setInodePermissions, withSocketFile } from '../socket/socket-file.js';
import { runCommand, type ControlDeps, type Session } from './control-commands.js';
import { MAX_REQUEST_BYTES, parseRequest } from './control-protocol.js';
import { unsafeControlDir } from './control-path.js';
import { listenUnix, removeStaleSocket } from './unix-listen.js';

/** Connections served at once; more wait in the backlog. Each costs a file descriptor. */
const MAX_CONNECTIONS = 32;
/** A client has this long to send its request line. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Bytes queued for a client that does not read (a follower of a chatty vassal): beyond, messages are dropped. */
const MAX_QUEUED_BYTES = 1 << 20;
/** How long stopping waits for commands in flight (a stop's own answer, a reload's results) before closing them. */
const CLOSE_GRACE_MS = 10_000;

export class ControlSocketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlSocketError';
  }
}

export interface ControlServerOptions {
  /** Absolute path of the socket. */
  readonly path: string;
  /** A group that may use the socket too: mode 0660 and this group; otherwise 0600. */
  readonly gid?: number;
  readonly deps: ControlDeps;
  readonly log: Logger;
}

/**
 * The control socket: a unix stream socket owned by the emperor's user, mode 0600 (0660 with a group), created with
 * that mode (bound under a umask: no moment with a wider one) in a directory only the emperor's user or root may
 * write. Its permissions are the access control: connect(2) needs write permission on the file. Each connection
 * carries one request (control-protocol.ts). The caller must hold the path's lock (emperor-lock.ts) before open():
 * a stale socket there is then provably nobody's and is replaced.
 */
export class ControlServer {
  readonly path: string;
  readonly #server: net.Server;
  readonly #deps: ControlDeps;
  readonly #log: Logger;
  /** Connections, with the command each runs (undefined while it has not sent its request). */
  readonly #connections = new Map<net.Socket, { abort: AbortController; running?: Promise<void> }>();
  #closing: Promise<void> | undefined;

  private constructor(server: net.Server, options: ControlServerOptions) {
    this.path = options.path;
    this.#server = server;
    this.#deps = options.deps;
    this.#log = options.log;
  }

  /**
   * Binds and listens. Throws ControlSocketError when the directory is not safe, when something other than a stale
   * socket of ours is at the path, or when binding fails.
   */
  static async open(options: ControlServerOptions): Promise<ControlServer> {
    const file = options.path;
    const unsafe = unsafeControlDir(path.dirname(file));
    if (unsafe) throw new ControlSocketError(`control socket ${file}: unsafe directory: ${unsafe}`);
    try {
      await removeStaleSocket(file);
    } catch (err) {
      throw new ControlSocketError(`control socket ${file}: ${(err as Error).message}`);
    }
    const server = net.createServer();
    const control = new ControlServer(server, options);
    server.on('connection', (conn) => control.#accept(conn));
    server.maxConnections = MAX_CONNECTIONS;
    try {
      await listenUnix(server, file, options.gid === undefined ? 0o600 : 0o660);
    } catch (err) {
      throw new ControlSocketError(`control socket ${file}: ${(err as Error).message}`);
    }
    server.on('error', (err) => options.log.error({ event: 'control.error', err: err.message }, `control socket: ${err.message}`));
    try {
      if (options.gid !== undefined) {
        // Through a descriptor of the very inode bind() made, never by path.
        withSocketFile(file, undefined, (fd) => setInodePermissions(fd, { gid: options.gid }));
      }
      const st = lstatSync(file);
      if (!st.isSocket() || st.uid !== ownUid()) throw new Error('the file is not the socket just bound');
    } catch (err) {
      await control.close();
      throw new ControlSocketError(`control socket ${file}: ${(err as Error).message}`);
    }
    return control;
  }

  #accept(conn: net.Socket): void {
    const entry: { abort: AbortController; running?: Promise<void> } = { abort: new AbortController() };
    this.#connections.set(conn, entry);
    conn.on('error', () => {});
    conn.on('close', () => {
      entry.abort.abort();
      this.#connections.delete(conn);
    });
    if (this.#closing) {
      conn.end(`${JSON.stringify({ ok: false, error: 'the emperor is stopping' })}\n`);
      return;
    }
    conn.setEncoding('utf8');
    const timer = setTimeout(() => this.#refuse(conn, `no request within ${REQUEST_TIMEOUT_MS / 1000} s`), REQUEST_TIMEOUT_MS);
    let received = '';
    const onData = (chunk: string): void => {
      received += chunk;
      const end = received.indexOf('\n');
      if (end < 0) {
        if (Buffer.byteLength(received) > MAX_REQUEST_BYTES) {
          clearTimeout(timer);
          conn.off('data', onData);
          this.#refuse(conn, `request longer than ${MAX_REQUEST_BYTES} bytes`);
        }
        return;
      }
      clearTimeout(timer);
      conn.off('data', onData);
      // Later input is read and dropped, so that a client that goes away is noticed (its 'close').
      conn.on('data', () => {});
      const request = parseRequest(received.slice(0, end));
      if ('error' in request) {
        this.#refuse(conn, request.error);
        return;
      }
      const session: Session = {
        send: (message) => {
          if (conn.destroyed || conn.writableEnded || conn.writableLength > MAX_QUEUED_BYTES) return false;
          conn.write(`${JSON.stringify(message)}\n`);
          return true;
        },
        signal: entry.abort.signal,
      };
      entry.running = runCommand(request, session, this.#deps).finally(() => finish(conn));
    };
    conn.on('data', onData);
    conn.on('close', () => clearTimeout(timer));
  }

  #refuse(conn: net.Socket, error: string): void {
    finish(conn, `${JSON.stringify({ ok: false, error })}\n`);
  }

  /**
   * Stops listening (the socket file goes with it), ends streaming commands, lets the others answer (up to a
   * grace time), then closes every connection. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const entry of this.#connections.values()) entry.abort.abort();
      const running = [...this.#connections.values()].flatMap((e) => (e.running ? [e.running] : []));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(running), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
      clearTimeout(timer);
      for (const conn of this.#connections.keys()) conn.destroy();
      await closed;
      // Debug: it closes after the emperor has stopped (a stop command's answer goes out through it), and
      // emperor.stopped stays the last record an operator sees.
      this.#log.debug({ event: 'control.closed', path: this.path }, `control socket ${this.path} closed`);
    })();
    return this.#closing;
  }
}

/**
 * Ends a connection once what is queued for it (and `last`) is written, then closes it: a client that neither reads
 * nor closes its side does not keep a connection, and its file descriptor, after its answer.
 */
function finish(conn: net.Socket, last?: string): void {
  if (conn.destroyed) return;
  conn.end(last ?? '', () => conn.destroy());
}
