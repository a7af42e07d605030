/**
 * What the emperor asks the bind helper to create: one entry per socket, in order. Plain JSON, so it can travel
 * on the helper's command line.
 */
export type BindRequest =
  | {
      readonly kind: 'unix';
      /** Absolute, or relative to `dir`: getsockname(2) then reports it exactly as given (see SocketSpec.bindAs). */
      readonly path: string;
      readonly dir?: string;
      readonly backlog: number;
      readonly mode?: number;
      readonly uid?: number;
      readonly gid?: number;
    }
  | { readonly kind: 'tcp'; readonly host: string; readonly family: 4 | 6; readonly port: number; readonly backlog: number };

/** The helper's answer for one socket; the listening handle travels with it (SCM_RIGHTS over the IPC channel). */
export type BindReply =
  | { readonly index: number; readonly ok: true; readonly dev: number; readonly ino: number }
  | { readonly index: number; readonly ok: false; readonly syscall: string; readonly code: string; readonly message: string };
