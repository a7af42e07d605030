import path from 'node:path';
import type { Logger } from 'pino';
import type { SocketAddress } from '../config/socket-address.js';
import { lookupGroup } from '../runtime/accounts.js';
import { controlSocketTarget, EmperorLocks, LockConflict } from '../runtime/emperor-lock.js';
import { runtimeDir } from '../runtime/runtime-dir.js';
import { runtimeSecret } from '../runtime/runtime-root.js';
import type { ControlDeps } from './control-commands.js';
import { CONTROL_SOCKET_NAME, defaultControlPath } from './control-path.js';
import { ControlServer } from './control-server.js';
import { openEmperorStats, openMetricsHttp, type Closer } from './status-servers.js';

/** The emperor's control and status settings (control-options.ts). */
export interface ControlSettings {
  /** control-socket as configured; undefined: the default path (or the run directory's, when another emperor has it). */
  readonly controlSocket?: string;
  /** control-socket-group: a group name or id. */
  readonly controlSocketGroup?: string;
  readonly emperorStats?: SocketAddress;
  readonly metricsHttp?: SocketAddress;
}

/** What startControl opened. */
export interface Control {
  /** The control socket's path; undefined when the default one could not be opened (logged). */
  readonly socketPath: string | undefined;
  /** Closes everything it opened (the control socket last: a stop command's answer goes out through it). */
  close(): Promise<void>;
}

/**
 * Opens the control socket, and metrics-http and emperor-stats when configured. A control-socket that was asked for,
 * a group that does not exist, or a status server that cannot listen is an error (the emperor does not start: the
 * operator asked for it). The default control socket is a convenience: when it cannot be opened (an unsafe runtime
 * directory, a stale file of another user) the error is logged and the emperor runs without one. The explicit
 * control-socket's lock is taken by the caller with the emperor's other locks; the default path's is taken here,
 * and when another live emperor of this user holds it, this emperor's socket goes to its run directory instead.
 */
export async function startControl(settings: ControlSettings, deps: ControlDeps, log: Logger): Promise<Control> {
  const opened: Closer[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of opened.reverse()) await c.close();
  };
  try {
    const gid = settings.controlSocketGroup === undefined ? undefined : (await lookupGroup(settings.controlSocketGroup)).gid;
    const socket = settings.controlSocket !== undefined ? await openExplicit(settings.controlSocket, gid, deps, log) : await openDefault(gid, deps, log);
    if (socket) opened.push(socket);
    if (settings.metricsHttp) {
      if (settings.metricsHttp.kind !== 'tcp') throw new Error('metrics-http takes host:port');
      opened.push(await openMetricsHttp(settings.metricsHttp, deps.emperor, log));
    }
    if (settings.emperorStats) opened.push(await openEmperorStats(settings.emperorStats, deps.emperor, log));
    return { socketPath: socket?.address, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function openExplicit(file: string, gid: number | undefined, deps: ControlDeps, log: Logger): Promise<Closer> {
  const server = await ControlServer.open({ path: file, gid, deps, log });
  announce(server.path, gid, log);
  return { address: server.path, close: () => server.close() };
}

async function openDefault(gid: number | undefined, deps: ControlDeps, log: Logger): Promise<Closer | undefined> {
  let file: string;
  let lock: EmperorLocks | undefined;
  try {
    file = defaultControlPath();
    lock = await EmperorLocks.acquire([controlSocketTarget(file)], runtimeSecret());
  } catch (err) {
    if (!(err instanceof LockConflict)) {
      log.error({ event: 'control.unavailable', err: (err as Error).message }, `no control socket: ${(err as Error).message}; supervision goes on without one`);
      return undefined;
    }
    // Another emperor of this user has the default: this one's goes where only it writes.
    const own = path.join(runtimeDir(), CONTROL_SOCKET_NAME);
    log.info(
      { event: 'control.default-taken', holder: err.holder, path: own },
      `the default control socket belongs to emperor ${err.holder ?? '?'}; this emperor's is ${own} (supervisor --status ${own})`,
    );
    file = own;
  }
  try {
    const server = await ControlServer.open({ path: file, gid, deps, log });
    announce(server.path, gid, log);
    return {
      address: server.path,
      close: async () => {
        await server.close();
        await lock?.release();
      },
    };
  } catch (err) {
    await lock?.release();
    log.error({ event: 'control.unavailable', err: (err as Error).message }, `no control socket: ${(err as Error).message}; supervision goes on without one`);
    return undefined;
  }
}

function announce(file: string, gid: number | undefined, log: Logger): void {
  const mode = gid === undefined ? '0600' : '0660';
  log.info({ event: 'control.listening', path: file, mode, gid }, `control socket ${file} (mode ${mode}${gid === undefined ? '' : `, group ${gid}`}): supervisor --status`);
}
