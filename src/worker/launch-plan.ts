import type { Credentials } from '../runtime/accounts.js';

/**
 * How a worker process is started: the exec chain, its environment and its file descriptors. Pure, so the
 * systemd socket-passing conventions can be tested without starting anything.
 */

/** One inherited listening socket: the emperor's fd, and the name given in LISTEN_FDNAMES. */
export interface InheritedSocket {
  readonly fd: number;
  readonly name: string;
}

export interface LaunchRequest {
  readonly argv: readonly string[];
  readonly cwd: string;
  /** The environment the worker starts from (the emperor's own). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** Variables the vassal sets, applied over baseEnv. */
  readonly env: Readonly<Record<string, string>>;
  readonly sockets: readonly InheritedSocket[];
  /** s6-style readiness: the fd number (in the worker) it writes a newline to when ready. */
  readonly notificationFd?: number;
  /** systemd-style readiness: path of the worker's datagram socket, exported as NOTIFY_SOCKET. */
  readonly notifySocket?: string;
  /** Run as this user and group instead of the emperor's. */
  readonly credentials?: Credentials;
  /** Identity exported to the worker, so an app can tell its workers apart. */
  readonly vassal: string;
  readonly workerId: number;
  readonly generation: number;
}

export type StdioEntry = 'ignore' | 'pipe' | number;

export interface LaunchPlan {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly stdio: readonly StdioEntry[];
}


/** Variables that describe the emperor's own activation; a worker must not mistake them for its own. */
const ACTIVATION_VARS = ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES', 'NOTIFY_SOCKET', 'NOTIFICATION_FD', 'WATCHDOG_PID', 'WATCHDOG_USEC'];

// LISTEN_PID must be the worker's own pid, known only after fork: a shell sets it and execs the program, so the
// pid stays the worker's. "$@" passes the program's words untouched; nothing of the user's command is parsed here.
const SET_LISTEN_PID = 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"';

/** systemd forbids ':' in fd names (it is the separator) and limits them to 255 characters. */
export function fdName(address: string): string {
  return address.replace(/:/g, '_').slice(0, 255);
}

/**
 * Builds the exec chain `setpriv [--reuid U --regid G --init-groups] --pdeathsig KILL -- [sh -c 'LISTEN_PID=$$ ...']
 * argv...`: setpriv (util-linux) drops privileges and makes the kernel SIGKILL the worker if the emperor dies, even
 * by SIGKILL; the shell step is there only when sockets are passed. Sockets land on fd 3, 4, ... in order, the notification fd (if any) after.
 */
export function planLaunch(req: LaunchRequest): LaunchPlan {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.baseEnv)) if (v !== undefined && !ACTIVATION_VARS.includes(k)) env[k] = v;
  Object.assign(env, req.env);
  env.SUPERVISOR_VASSAL = req.vassal;
  env.SUPERVISOR_WORKER_ID = String(req.workerId);
  env.SUPERVISOR_GENERATION = String(req.generation);

  const stdio: StdioEntry[] = ['ignore', 'pipe', 'pipe', ...req.sockets.map((s) => s.fd)];
  if (req.notificationFd !== undefined) {
    if (req.notificationFd < stdio.length) {
      throw new Error(`notification fd ${req.notificationFd} collides with fd ${req.notificationFd} already given to the worker`);
    }
    while (stdio.length < req.notificationFd) stdio.push('ignore');
    stdio.push('pipe');
    env.NOTIFICATION_FD = String(req.notificationFd);
  }

  if (req.notifySocket !== undefined) env.NOTIFY_SOCKET = req.notifySocket;

  const args: string[] = [];
  const creds = req.credentials;
  if (creds) {
    args.push('--reuid', String(creds.uid), '--regid', String(creds.gid), creds.initGroups ? '--init-groups' : '--clear-groups');
    if (creds.user) {
      env.USER = creds.user.name;
      env.LOGNAME = creds.user.name;
      env.HOME = creds.user.home;
    }
  }
  // setpriv sets the parent-death signal after changing credentials (a uid change would clear it).
  args.push('--pdeathsig', 'KILL', '--');
  if (req.sockets.length > 0) {
    env.LISTEN_FDS = String(req.sockets.length);
    env.LISTEN_FDNAMES = req.sockets.map((s) => fdName(s.name)).join(':');
    args.push('/bin/sh', '-c', SET_LISTEN_PID, 'supervisor-worker');
  }
  args.push(...req.argv);
  return { file: 'setpriv', args, env, stdio };
}
