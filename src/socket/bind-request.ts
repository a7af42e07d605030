/**
 * What the emperor asks the bind helper to do, and what it answers. Plain JSON, so a job can travel on the helper's
 * command line and replies over its IPC channel.
 */

/** Who the helper becomes before it touches any path a vassal named (tyrant mode: the tenant). */
export interface HelperIdentity {
  readonly uid: number;
  readonly gid: number;
  /** Passwd name, for initgroups(3); without one (a bare uid) the helper keeps no supplementary group. */
  readonly user?: string;
  readonly initGroups: boolean;
}

/** chown-socket, resolved to numbers; `text` is the value as written, for messages. */
export interface SocketOwnerRequest {
  readonly uid?: number;
  readonly gid?: number;
  readonly text: string;
}

/** One socket to create, in order (socket i becomes the worker's fd 3 + i). */
export type BindRequest =
  | {
      readonly kind: 'unix';
      /** The socket's address text, for messages. */
      readonly name: string;
      readonly path: string;
      readonly backlog: number;
      /** chmod-socket: the helper binds under umask 0777 & ~mode, so the file is created with exactly this mode. */
      readonly mode?: number;
      readonly owner?: SocketOwnerRequest;
    }
  | {
      readonly kind: 'tcp';
      readonly name: string;
      readonly host: string;
      readonly family: 4 | 6;
      readonly port: number;
      readonly backlog: number;
      /** Bound while the helper is still root, before it drops to the tenant (tyrant-privileged-ports). */
      readonly beforeDrop?: boolean;
    };

/** chmod-socket/chown-socket for a socket file that exists already (a kept socket); applied only to that inode. */
export interface PermissionRequest {
  readonly name: string;
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly mode?: number;
  readonly owner?: SocketOwnerRequest;
}

export type HelperJob =
  | {
      readonly op: 'bind';
      readonly as?: HelperIdentity;
      /**
       * Where the helper works, entered after it has dropped privileges: relative unix paths are bound from here, so
       * that the socket's own name (getsockname) is that relative name (SocketSpec.bindAs).
       */
      readonly cwd?: string;
      readonly sockets: readonly BindRequest[];
    }
  | { readonly op: 'permissions'; readonly as?: HelperIdentity; readonly sockets: readonly PermissionRequest[] }
  /**
   * Hands back, as new descriptors, the `count` listening sockets the helper was given after its IPC channel (fd 4
   * on): descriptors received over IPC are close-on-exec, so the emperor's children never inherit them, which
   * systemd's own (LISTEN_FDS) are not. Nothing is bound, nothing listens anew.
   */
  | { readonly op: 'adopt'; readonly as?: undefined; readonly count: number };

/**
 * What the emperor sends a helper: a `warm` (a helper started ahead of time gets one at once; see bind-helper.ts),
 * then its one job.
 */
export type HelperMessage = HelperJob | { readonly op: 'warm' };

/**
 * The helper's messages, in this order for a bind: one `bound` per socket it could make (its fd travels with it,
 * SCM_RIGHTS) and one `failed` (with its index) per socket it could not, `sent` once the emperor has taken every
 * fd, then `done` once every socket listens (`skipped`: sockets whose listen() failed, each also `failed`). A
 * `failed` with `final` ends the job: nothing more comes.
 */
export type HelperReply =
  | { readonly type: 'bound'; readonly index: number; readonly dev: number; readonly ino: number }
  | { readonly type: 'sent' }
  /** The answer to `warm`, with a TCP socket bound to a free loopback port and never listened on, to be closed. */
  | { readonly type: 'warm' }
  | { readonly type: 'done'; readonly skipped?: readonly number[] }
  | { readonly type: 'failed'; readonly index?: number; readonly code: string; readonly message: string; readonly final?: boolean };
