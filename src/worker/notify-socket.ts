import { chownSync, chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DgramSocket as DgramSocketType } from 'node-unix-socket';
import { parseNotifyMessage } from './notify-message.js';

let dgram: typeof DgramSocketType | undefined;

/**
 * node-unix-socket is loaded on first use: its prebuilt binary exists for Linux x64 (glibc and musl); elsewhere only
 * vassals that ask for notify-socket fail, with this message, and the rest of the emperor runs.
 */
function DgramSocket(): typeof DgramSocketType {
  if (!dgram) {
    try {
      dgram = (createRequire(import.meta.url)('node-unix-socket') as { DgramSocket: typeof DgramSocketType }).DgramSocket;
    } catch (err) {
      throw new Error(`notify-socket needs node-unix-socket's prebuilt binary, which is not available for ${process.platform}-${process.arch}: ${(err as Error).message.split('\n')[0]}; use notification-fd instead`);
    }
  }
  return dgram;
}

/**
 * A worker's own NOTIFY_SOCKET: a unix datagram socket, as systemd's Type=notify uses, one per worker so that
 * every message is known to come from that worker's process tree. Node cannot open SOCK_DGRAM unix sockets, hence
 * node-unix-socket (prebuilt N-API, no compiler needed).
 */
export class NotifySocket {
  readonly path: string;
  readonly #socket: DgramSocketType;
  #closed = false;

  /**
   * Binds at `path` (which must not exist). With `owner`, the socket is given to that uid/gid with mode 0600, so a
   * worker running as another user can send and nobody else can. Throws on bind failure.
   */
  constructor(path: string, onMessage: (fields: Map<string, string>) => void, owner?: { uid: number; gid: number }) {
    this.path = path;
    this.#socket = new (DgramSocket())();
    this.#socket.on('data', (buf: Buffer) => onMessage(parseNotifyMessage(buf.toString('utf8'))));
    // A failed read must not take the emperor down; readiness then falls to the ready timeout.
    this.#socket.on('error', () => {});
    this.#socket.bind(path);
    try {
      if (owner) {
        chownSync(path, owner.uid, owner.gid);
        chmodSync(path, 0o600);
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    rmSync(this.path, { force: true });
  }
}
